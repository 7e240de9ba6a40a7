//! `shipgate ship --pr N`: what a `/shipgate ship` comment does, from a terminal (issue 17).
//!
//! The same checks as the comment (`commands::ship`): the person asking must be named by a
//! rule of the pull request's plans, as for approving; the repository must not be halted; a
//! run of those plans must be open. Then the same ship workflow starts for each run not
//! shipped yet, on the default branch, so execution happens only there, in its environment.
//!
//! Who asks is the token's account (`GET /user`); only an installation token, which cannot
//! say, falls back to `GITHUB_ACTOR`. The variable is never preferred: anyone can set it in a
//! terminal, while a user token proves its account. Nothing is appended to the chain (no key
//! is needed): the request has no comment to record, and the execution records itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::github;
use super::inputs::{self, PolicyRequest};
use super::mint::{PlanUnderReview, by_an_approver, pull_request_plans};
use crate::audit::AuditError;
use crate::audit::append::GitCli;
use crate::audit::state::{RunRecord, State};
use crate::audit::trust::{ChainTrust, TrustError};
use crate::cli::{RepoArgs, ShipArgs};
use crate::error::{Error, Outcome};
use crate::github::{GitHubClient, GitHubError, GitHubRead};
use crate::model::{Login, PrNumber, TeamSlug};
use crate::policy::Policy;

/// Where the login of a token that cannot say who it is comes from.
const ACTOR_ENV: &str = "GITHUB_ACTOR";

/// Runs `shipgate ship`.
pub fn ship(args: &ShipArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    if args.policy.policies_from_worktree {
        return Err(Error::Usage(
            "ship judges who may ask with the default branch's policy, never the work tree's"
                .into(),
        ));
    }
    let token = github::token()
        .ok_or_else(|| Error::Usage("ship starts a workflow on GitHub: set GITHUB_TOKEN".into()))?;
    let repo_args = RepoArgs {
        repo: args.target.repo.clone(),
        repo_slug: args.repo_slug.clone(),
    };
    let repo = inputs::open_repo(repo_args.repo.as_deref())?;
    let (slug, _) = inputs::repo_slug(&repo_args, &repo)?;
    let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(&args.policy))?;
    let branch = repo.default_branch_ref(args.policy.default_branch.as_deref())?;
    let (runtime, client) = github::connect(&slug, token)?;
    let actor = runtime.block_on(actor(&client))?;
    let pr = PrNumber::new(args.pr);
    let pull = runtime
        .block_on(client.pull(pr))?
        .ok_or_else(|| Error::Usage(format!("pull request #{pr} does not exist in {slug}")))?;
    let head = super::pull_head::pull_head(&repo, &args.target.remote, pr, &pull.head_sha)?;
    let now = super::now_whole_seconds();
    let (plans, _) = pull_request_plans(&repo, &slug, &policy, (&branch.commit, &head), now)?;
    let state = verified_state(&args.target, &policy)?;
    let memberships = runtime.block_on(memberships(&client, &actor, &plans))?;

    let refusal = if plans.is_empty() {
        Some(format!(
            "#{pr} adds or changes no plan under {}: nothing to ship",
            inputs::PLANS_DIR
        ))
    } else if !by_an_approver(&actor, &plans, &memberships) {
        Some(format!(
            "{actor} may not approve #{pr}'s plans, so may not ship them"
        ))
    } else if state.as_ref().is_some_and(|s| s.halt.is_some()) {
        Some("the repository is halted".to_owned())
    } else {
        None
    };
    if let Some(why) = refusal {
        writeln!(out, "refused: {why}")?;
        return Ok(Outcome::Blocked);
    }
    let runs = runs_of(state.as_ref(), &plans);
    if runs.is_empty() {
        writeln!(
            out,
            "refused: no run is open for #{pr}'s plans yet; approve them first"
        )?;
        return Ok(Outcome::Blocked);
    }
    for (run, shipped) in &runs {
        if *shipped {
            writeln!(out, "{} already shipped: nothing to start", run.run_id)?;
            continue;
        }
        runtime.block_on(client.dispatch_ship(
            &args.ship_workflow,
            &branch.name,
            run.run_id.as_str(),
        ))?;
        writeln!(
            out,
            "{} started on {} for {} (asked by {actor})",
            args.ship_workflow, branch.name, run.run_id
        )?;
    }
    Ok(Outcome::Clean)
}

/// Who asks: the token's account, else `GITHUB_ACTOR` for a token that cannot say.
async fn actor(client: &GitHubClient) -> Result<Login, Error> {
    if let Some(login) = client.identity().await? {
        return Ok(login);
    }
    let named = std::env::var(ACTOR_ENV)
        .ok()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            Error::Usage(format!(
                "the token does not say whose it is (an installation token): use a personal token, or set {ACTOR_ENV} to the login asking"
            ))
        })?;
    Login::parse(&named).map_err(|e| Error::Usage(format!("{ACTOR_ENV} `{named}`: {e}")))
}

/// The teams of the plans' rules that `actor` belongs to (as mint reads them for approvers).
async fn memberships(
    client: &GitHubClient,
    actor: &Login,
    plans: &[PlanUnderReview],
) -> Result<BTreeMap<Login, BTreeSet<TeamSlug>>, Error> {
    let teams: BTreeSet<&TeamSlug> = plans
        .iter()
        .flat_map(|(_, _, decisions)| decisions)
        .flat_map(|d| &d.requirements)
        .filter(|r| !r.users.contains(actor))
        .flat_map(|r| &r.teams)
        .collect();
    let mut mine = BTreeSet::new();
    for team in teams {
        if !client.team_readable(team).await? {
            return Err(GitHubError::TeamMembershipUnreadable {
                team: team.to_string(),
            }
            .into());
        }
        if client.team_member(team, actor).await? {
            mine.insert(team.clone());
        }
    }
    Ok(BTreeMap::from([(actor.clone(), mine)]))
}

/// The governance branch fetched and verified with the default branch's policy (read only:
/// no key); `None` when there is none (nothing was minted).
fn verified_state(
    target: &crate::cli::AuditTargetArgs,
    policy: &Policy,
) -> Result<Option<State>, Error> {
    let repo = super::audit::open_repository(target)?;
    let pinned = super::audit::pinned_genesis(Some(policy))?;
    let trust = ChainTrust::new(policy.signers.clone(), pinned);
    let cli = GitCli::new(&repo, Vec::new());
    match trust.verify_fetched(&repo, &mut || {
        cli.fetch(&repo, &target.remote, &target.branch)
    }) {
        Ok(_) => Ok(trust.verified_state().map(|v| v.state().clone())),
        Err(TrustError::Fetch(e)) => Err(AuditError::Fetch(e).into()),
        Err(TrustError::Verify(e)) => Err(AuditError::Verify(e).into()),
    }
}

/// The newest run of each plan (as mint finds a plan's open run), and whether it shipped.
fn runs_of(state: Option<&State>, plans: &[PlanUnderReview]) -> Vec<(RunRecord, bool)> {
    let Some(state) = state else {
        return Vec::new();
    };
    plans
        .iter()
        .filter_map(|(_, plan, _)| {
            state
                .runs
                .values()
                .filter(|r| r.plan_id == plan.id.as_str())
                .max_by_key(|r| r.seq)
        })
        .map(|run| (run.clone(), crate::execute::shipped(state, run)))
        .collect()
}
