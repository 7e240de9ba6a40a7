//! `shipgate dry-run --merge-group`: the `shipgate` check of a merge queue's group (issue 18).
//!
//! GitHub builds a group commit (the base with the queued pull requests merged) and starts the
//! plan workflow on `merge_group`; a queue that requires `shipgate` merges only once this sets
//! it. This module owns that judgement: the plans the group's head adds or changes against its
//! base, resolved at the head (so a `target: merge` plan binds the group's tree, DESIGN 13.7),
//! each authorized only when a run on the verified governance branch has its plan id, as the
//! pull request's check judges ([`check::of_dry_run`]'s rules). The status is `success` or
//! `failure`, never `pending`: a queue waits on pending, and nothing approves in a queue. A
//! group whose plans cannot be read fails its check before the error is reported.

use std::io::Write;

use time::OffsetDateTime;
use tokio::runtime::Runtime;

use super::inputs::{self, PolicyRequest};
use super::mint::{PlanUnderReview, pull_request_plans};
use super::{check, github, pull_head};
use crate::audit::state::{State, StateAccess};
use crate::cli::DryRunArgs;
use crate::error::{Error, Outcome};
use crate::event::{MergeGroup, MergeGroupEvent, read_merge_group_event};
use crate::github::{GitHubClient, StatusState};
use crate::model::{PlanId, RepoSlug};
use crate::reason::Code;
use crate::repo::LocalRepo;
use crate::report::{RepoSource, escape_markdown};

/// One plan of the group and where it stands.
struct Judged {
    file: String,
    plan_id: PlanId,
    standing: check::Standing,
}

/// Runs the merge group's check: reads the event, judges the group, sets the status on its
/// head, and reports. Exit 1 when the check failed, so the job shows it too.
pub fn merge_group(
    args: &DryRunArgs,
    at: OffsetDateTime,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    if args.policy.policies_from_worktree {
        return Err(Error::Usage(
            "--merge-group reads the policy from the default branch: a merge group must not judge itself with its own policy".into(),
        ));
    }
    let group = match read_event()? {
        MergeGroupEvent::Check(group) => group,
        MergeGroupEvent::Ignore(action) => {
            writeln!(
                out,
                "ignored: merge_group `{action}`, only checks_requested is checked"
            )?;
            return Ok(Outcome::Clean);
        }
    };
    let token = github::token().ok_or_else(|| {
        Error::Usage("--merge-group sets the `shipgate` status: set GITHUB_TOKEN".into())
    })?;
    let repo = inputs::open_repo(args.repo.repo.as_deref())?;
    let (slug, source) = inputs::repo_slug(&args.repo, &repo)?;
    if source == RepoSource::LocalPlaceholder {
        return Err(Error::Usage(
            "--merge-group needs the GitHub repository: pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY".into(),
        ));
    }
    let (runtime, client) = github::connect(&slug, token)?;
    let judged = match judge_group(args, &repo, &slug, &group, at) {
        Ok(judged) => judged,
        Err(e) => {
            let check = check::failure("the merge group's plans could not be judged: see the run");
            let _unset_holds_back =
                runtime.block_on(check::post(&client, group.head_sha.as_str(), &check, None));
            return Err(e);
        }
    };
    report(out, (&client, &runtime), &group, &judged)
}

/// The event GitHub Actions names in `GITHUB_EVENT_PATH`, read as a merge group.
fn read_event() -> Result<MergeGroupEvent, Error> {
    let bytes = inputs::event_file()?.ok_or_else(|| {
        Error::Usage(
            "--merge-group reads the merge_group event: run it from a workflow on `merge_group` (GITHUB_EVENT_PATH)".into(),
        )
    })?;
    read_merge_group_event(&bytes).map_err(|e| Error::Usage(format!("GITHUB_EVENT_PATH: {e}")))
}

/// Where each plan the group adds or changes stands.
fn judge_group(
    args: &DryRunArgs,
    repo: &LocalRepo,
    slug: &RepoSlug,
    group: &MergeGroup,
    at: OffsetDateTime,
) -> Result<Vec<Judged>, Error> {
    for (name, sha) in [("head", &group.head_sha), ("base", &group.base_sha)] {
        if repo.resolve_commit(sha)?.is_none() {
            return Err(Error::Usage(format!(
                "the merge group's {name} {sha} is not in this clone: check it out with actions/checkout and `fetch-depth: 0`"
            )));
        }
    }
    let (policy, _) = inputs::load_policy(repo, &PolicyRequest::from(&args.policy))?;
    let (plans, _) =
        pull_request_plans(repo, slug, &policy, (&group.base_sha, &group.head_sha), at)?;
    let target = crate::cli::AuditTargetArgs {
        repo: args.repo.repo.clone(),
        remote: "origin".to_owned(),
        branch: crate::audit::append::DEFAULT_BRANCH.to_owned(),
    };
    let verified = super::runs::verified_chain(&target, None, &args.policy)?;
    let no_chain = State::default();
    let state = verified.as_ref().map_or(&no_chain, |(_, v)| v.state());
    let on_pull = std::cell::OnceCell::new();
    let approved_on_pull = |file: &str| {
        let approved = on_pull.get_or_init(|| approved_on_pull(repo, slug, group, state));
        approved.iter().any(|f| f == file)
    };
    Ok(plans
        .iter()
        .map(|plan| Judged {
            file: plan.0.clone(),
            plan_id: plan.1.id.clone(),
            standing: standing(plan, state, &approved_on_pull),
        })
        .collect())
}

/// As the pull request's check judges ([`check::of_dry_run`]): shipped or with a run is
/// authorized, a policy finding or a halt blocks; a plan with no run is blocked too, as
/// changed in the group when its file on the pull request has a run, else as not approved.
fn standing(
    (file, plan, decisions): &PlanUnderReview,
    state: &State,
    approved_on_pull: &dyn Fn(&str) -> bool,
) -> check::Standing {
    let finding = decisions
        .iter()
        .find_map(|d| d.findings.first().map(|f| Code::from(f.code)));
    let minted = state.runs().iter().any(|r| r.plan_id == plan.id.as_str());
    match finding {
        _ if crate::lifecycle::shipped_by(state, plan).is_some() => check::Standing::Authorized,
        Some(code) => check::Standing::Blocked(code),
        None if state.halt().is_some() => check::Standing::Blocked(Code::Halted),
        None if minted => check::Standing::Authorized,
        None if approved_on_pull(file) => check::Standing::Blocked(Code::PlanChangedInMergeGroup),
        None => check::Standing::Blocked(Code::PlanNotApproved),
    }
}

/// The plan files that have a run as the pull request the group's ref names has them (its
/// head fetched once, as mint fetches it, and only when a plan of the group has no run): a
/// group plan of such a file with no run got another id in the group.
fn approved_on_pull(
    repo: &LocalRepo,
    slug: &RepoSlug,
    group: &MergeGroup,
    state: &State,
) -> Vec<String> {
    let Some(pr) = group.pull_request() else {
        return Vec::new();
    };
    let runs = state.runs();
    pull_head::pull_plans(repo, "origin", slug, pr, &group.base_sha)
        .into_iter()
        .filter(|plan| runs.iter().any(|r| r.plan_id == plan.id.as_str()))
        .map(|plan| plan.file)
        .collect()
}

/// Sets the status on the group's head, writes the outputs, the job summary and the text.
fn report(
    out: &mut dyn Write,
    (client, runtime): (&GitHubClient, &Runtime),
    group: &MergeGroup,
    judged: &[Judged],
) -> Result<Outcome, Error> {
    let standings: Vec<(&PlanId, check::Standing)> = judged
        .iter()
        .map(|j| (&j.plan_id, j.standing.clone()))
        .collect();
    let check = check::judge(&standings);
    let warning = runtime.block_on(check::post(client, group.head_sha.as_str(), &check, None))?;
    let failed = check.state != StatusState::Success;
    let mut reasons: Vec<&str> = judged
        .iter()
        .filter_map(|j| match &j.standing {
            check::Standing::Blocked(code) => Some(code.as_str()),
            _ => None,
        })
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    super::actions::write_outputs(&[
        (
            "plan-id",
            super::actions::space_separated(judged.iter().map(|j| &j.plan_id)),
        ),
        (
            "status",
            if failed { "blocked" } else { "clean" }.to_owned(),
        ),
        ("blocked-reasons", reasons.join(",")),
    ])?;
    let head = group.head_sha.short(12);
    let mut text = format!(
        "merge group {head}: `{}` {}: {}\n",
        check::CONTEXT,
        check.state.as_str(),
        check.description
    );
    let mut markdown = format!(
        "### shipgate: merge group {head}\n\nThe `{}` check is **{}**: {}\n\n",
        check::CONTEXT,
        check.state.as_str(),
        escape_markdown(&check.description)
    );
    for j in judged {
        let stands = match &j.standing {
            check::Standing::Authorized => "authorized".to_owned(),
            check::Standing::Awaiting => "awaiting approval".to_owned(),
            check::Standing::Blocked(code) => format!("blocked: {code}: {}", code.sentence()),
        };
        let file = crate::invisible::show(&j.file);
        text.push_str(&format!("  plan {} ({file}): {stands}\n", j.plan_id));
        markdown.push_str(&format!(
            "- plan `{}` ({}): {}\n",
            j.plan_id,
            escape_markdown(&j.file),
            escape_markdown(&stands)
        ));
    }
    if let Some(warning) = warning {
        text.push_str(&format!("warning: {warning}\n"));
        markdown.push_str(&format!("\n> {}\n", escape_markdown(&warning)));
    }
    super::actions::write_step_summary(&markdown)?;
    out.write_all(text.as_bytes())?;
    Ok(if failed {
        Outcome::Blocked
    } else {
        Outcome::Clean
    })
}
