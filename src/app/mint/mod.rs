//! `shipgate mint`: count a pull request's approvals and, once every quorum of a plan is met,
//! open its run and mint its receipts on the audit chain (DESIGN 4, 5).
//!
//! Inputs: the PR (from `--pr` or the `issue_comment` event), the plans its head commit adds
//! or changes against the default branch (read as git objects, DESIGN 13.9), the policy of the
//! default branch, every comment of the PR, who wrote each plan and the team memberships (see
//! `approvals`), and the audit state.
//! Approvals are judged and the decision ([`decide_mint`]) taken again on every
//! compare-and-swap attempt against the state at the remote head, so two racing mints open one
//! run and revokes recorded meanwhile count. Before deciding, the halts and resumes of every
//! comment not carried out yet; after it, the `/shipgate ship` requests, which start the ship
//! workflow (`commands`, issue 15). Afterwards ([`report`]): reactions on the approval
//! comments that inform, and the status comment.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use ssh_key::rand_core::{OsRng, RngCore};
use time::OffsetDateTime;
use zeroize::Zeroizing;

mod replies;
mod report;

use self::report::{answer_on_github, plan_mints, publish_report, reactions_of, status_to_post};
use super::approvals::{Judged, judge, plan_authorships, team_memberships};
use super::audit::{AppendSetup, prepare_append};
use super::commands;
use super::inputs::{self, PLANS_DIR, PolicyRequest};
use super::{check, github};
use crate::approval::evaluate::{ApprovalOutcome, Authorship, Comment};
use crate::audit::AuditError;
use crate::audit::append::append_all;
use crate::audit::entry::Event;

use crate::audit::state::StateAccess;
use crate::audit::trust::policy_change;
use crate::audit::view::StateView;
use crate::cli::MintArgs;
use crate::error::{Error, Outcome};
use crate::event::{CommentEvent, CommentOnPullRequest, read_comment_event};
use crate::github::{GitHubClient, GitHubConversation, GitHubRead, PullRequest, Reaction};
use crate::keys::{MINT_KEY_ENV, SigningKey, load_signing_key};
use crate::mint::{FreshIds, MintInputs, decide_mint, decision_events};
use crate::model::{CommentId, Login, PlanId, PrNumber, ReceiptId, RunId, TeamSlug};
use crate::plan::ResolvedPlan;
use crate::policy::{self, OperationDecision, Policy, SignerRole};
use crate::report::mint::{MintOutcome, MintReport};
use crate::report::replies::Replies;

/// Where the PR number comes from.
enum Trigger {
    /// `--pr N`, or an actionable comment event (whose commands are read too).
    Pr(PrNumber, Option<CommentOnPullRequest>),
    /// An event shipgate has nothing to do for.
    Ignored(String),
}

fn trigger(args: &MintArgs) -> Result<Trigger, Error> {
    if let Some(pr) = args.pr {
        return Ok(Trigger::Pr(PrNumber::new(pr), None));
    }
    let bytes = inputs::event_file()?.ok_or_else(|| {
        Error::Usage(
            "which pull request? pass --pr N, or run from an issue_comment workflow (GITHUB_EVENT_PATH)".into(),
        )
    })?;
    match read_comment_event(&bytes) {
        Ok(CommentEvent::Act(comment)) => Ok(Trigger::Pr(comment.pr, Some(comment))),
        Ok(CommentEvent::Ignore(why)) => Ok(Trigger::Ignored(why.explain())),
        Err(e) => Err(Error::Usage(format!("GITHUB_EVENT_PATH: {e}"))),
    }
}

/// The token and the mint key; mint never reads the policy from the work tree.
fn credentials(args: &MintArgs) -> Result<(octocrab::secrecy::SecretString, SigningKey), Error> {
    if args.append.policy.policies_from_worktree {
        return Err(Error::Usage(
            "mint always reads the policy from the default branch: a pull request must not judge itself with its own policy".into(),
        ));
    }
    let token = github::token().ok_or_else(|| {
        Error::Usage("mint reads the pull request's comments: set GITHUB_TOKEN".into())
    })?;
    let env_key = std::env::var(MINT_KEY_ENV).ok().map(Zeroizing::new);
    let mint_key = load_signing_key(SignerRole::Mint, args.mint_key.as_deref(), env_key)?;
    Ok((token, mint_key))
}

/// Reacts to the comments whose commands were carried out or refused.
async fn react_to(
    client: &GitHubClient,
    reactions: BTreeMap<CommentId, Reaction>,
) -> Result<(), Error> {
    for (comment_id, reaction) in reactions {
        client.react(comment_id, reaction).await?;
    }
    Ok(())
}

/// Writes each note on `out` and keeps it for the report's warnings.
fn say(
    out: &mut dyn Write,
    warnings: &mut Vec<String>,
    notes: impl IntoIterator<Item = String>,
) -> Result<(), Error> {
    for note in notes {
        writeln!(out, "{note}")?;
        warnings.push(note);
    }
    Ok(())
}

/// Runs `shipgate mint`.
pub fn mint(args: &MintArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let (pr, comment) = match trigger(args)? {
        Trigger::Pr(pr, comment) => (pr, comment),
        Trigger::Ignored(why) => {
            writeln!(out, "{why}")?;
            return Ok(Outcome::Clean);
        }
    };
    let (token, mint_key) = credentials(args)?;

    let (repo, slug) = inputs::governed_repo(&args.append)?;
    let (runtime, client) = github::connect(&slug, token)?;
    // Issue 18: seen, before anything slow (the chain is fetched below).
    runtime.block_on(replies::acknowledge(&client, comment.as_ref(), out))?;
    let (policy, policy_source) =
        inputs::load_policy(&repo, &PolicyRequest::from(&args.append.policy))?;
    check_mint_key_in_force(&policy, &mint_key)?;
    let setup = prepare_append(&args.append)?;
    let (default_branch, default_commit) =
        repo.default_branch(args.append.policy.default_branch.as_deref())?;

    let pull = runtime
        .block_on(client.pull(pr))?
        .ok_or_else(|| Error::Usage(format!("pull request #{pr} does not exist in {slug}")))?;
    // DESIGN 13.9: the pull request is read as git objects, never checked out.
    let head = super::pull_head::pull_head(&repo, &args.append.target.remote, pr, &pull.head_sha)?;

    let now = super::now_whole_seconds();
    let mut warnings = Vec::new();
    // Issue 15: every command not carried out yet, not only the triggering comment's (the
    // run of an earlier comment may have been cancelled before it started).
    let comments = runtime.block_on(client.comments(pr))?;
    let pending = commands::pending(&setup, &policy, &comments, now)?;
    let mut answers = commands::halt_and_resume(&setup, &policy, &pending, now)?;
    say(out, &mut warnings, answers.iter().map(|a| a.note.clone()))?;
    let (plans, notes) = pull_request_plans(&repo, &slug, &policy, (&default_commit, &head), now)?;
    say(out, &mut warnings, notes)?;
    if plans.is_empty() {
        let replies = replies::replies(&comments, &policy, &plans, &pull.html_url);
        return answer_without_plans((&runtime, &client), &pull, &answers, replies, out);
    }

    let authorships = runtime.block_on(plan_authorships(&client, &repo, &pull, &plans))?;
    let memberships = runtime.block_on(team_memberships(&client, &comments, &plans))?;

    let ids: Vec<FreshIds> = plans
        .iter()
        .map(|(_, plan, _)| fresh_ids(plan.operations.len()))
        .collect();
    let (outcomes, approvals) = record(&Minting {
        pr,
        setup: &setup,
        mint_key: &mint_key,
        policy: &policy,
        plans: &plans,
        judged: Judged {
            comments: &comments,
            authorships: &authorships,
            memberships: &memberships,
            trigger: comment.as_ref(),
            approval_ttl_secs: policy.approval_ttl_secs,
        },
        ids: &ids,
        now,
    })?;

    let runs = runs_of(&outcomes);
    let halted = outcomes
        .iter()
        .any(|o| matches!(o, MintOutcome::Halted { .. }));
    let ship = ShipRequests {
        setup: &setup,
        client: &client,
        runtime: &runtime,
        workflow: (&args.ship_workflow, &default_branch),
        plans: &plans,
        memberships: &memberships,
    };
    let shipped = ship.carry_out(&runs, halted, &pending, now)?;
    say(out, &mut warnings, shipped.iter().map(|a| a.note.clone()))?;
    answers.extend(shipped);
    let reactions = reactions_of(&answers);

    let outcomes: Vec<MintOutcome> = outcomes
        .into_iter()
        .zip(&authorships)
        .map(name_unknown_author)
        .collect();
    let report = MintReport::new(
        slug.clone(),
        pr,
        (policy.hash.clone(), policy_source),
        warnings,
        plan_mints(&plans, &approvals, outcomes),
    )
    .with_replies(replies::replies(&comments, &policy, &plans, &pull.html_url));
    let status = status_to_post(&setup, &pull, &runs, &report, out)?;
    let comment = runtime.block_on(answer_on_github(
        &client, pr, reactions, &comments, &approvals, status,
    ))?;
    // The `shipgate` check goes where the status comment goes (not back once shipped or
    // closed), on the head GitHub names: this event's GITHUB_SHA is the default branch's.
    if status.is_some() {
        let link = comment.map(|id| check::comment_url(&pull.html_url, id));
        let judged = check::judge(&check::of_mint(&report));
        let posted = runtime.block_on(check::post(&client, &pull.head_sha, &judged, link))?;
        say(out, &mut Vec::new(), posted)?;
    }
    publish_report(&report, &runs, args.format, out)
}

/// A pull request that adds or changes no plan: the reactions to its commands, its replies in
/// a NO PLAN status comment, and the `shipgate` check at success, as the dry-run says (a
/// closed pull request is left alone).
fn answer_without_plans(
    (runtime, client): (&tokio::runtime::Runtime, &GitHubClient),
    pull: &PullRequest,
    answers: &[commands::Answer],
    replies: Replies,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let pr = pull.number;
    writeln!(
        out,
        "#{pr} adds or changes no plan under {PLANS_DIR}/: nothing to mint"
    )?;
    runtime.block_on(react_to(client, reactions_of(answers)))?;
    if !pull.is_open() {
        return Ok(Outcome::Clean);
    }
    if !replies.is_empty() {
        let markdown = format!(
            "## NO PLAN\n\nThis pull request adds or changes no plan under {PLANS_DIR}/: nothing to approve.\n{}",
            crate::report::replies::render_replies_markdown(&replies)
        );
        runtime.block_on(github::post_status(client, pr, &markdown))?;
    }
    let posted = runtime.block_on(check::post(
        client,
        &pull.head_sha,
        &check::judge(&[]),
        None,
    ))?;
    say(out, &mut Vec::new(), posted)?;
    Ok(Outcome::Clean)
}

/// What carrying out the `/shipgate ship` requests needs: the chain, GitHub, the ship
/// workflow (its file and the branch it runs on) and who may ship (an approver of the plans).
struct ShipRequests<'a> {
    setup: &'a AppendSetup,
    client: &'a GitHubClient,
    runtime: &'a tokio::runtime::Runtime,
    workflow: (&'a str, &'a str),
    plans: &'a [PlanUnderReview],
    memberships: &'a BTreeMap<Login, BTreeSet<TeamSlug>>,
}

impl ShipRequests<'_> {
    /// Starts the ship workflow for each request not carried out yet (issue 15), for `runs`,
    /// unless `halted`; each answer says what was done.
    fn carry_out(
        &self,
        runs: &[RunId],
        halted: bool,
        pending: &[crate::approval::pending::PendingCommand<'_>],
        now: OffsetDateTime,
    ) -> Result<Vec<commands::Answer>, Error> {
        let may_ship = |c: &Comment| by_an_approver(&c.author, self.plans, self.memberships);
        commands::ship(
            self.setup,
            &commands::ShipWorkflow {
                client: self.client,
                runtime: self.runtime,
                file: self.workflow.0,
                branch: self.workflow.1,
            },
            &commands::ShipContext {
                runs,
                halted,
                may_ship: &may_ship,
            },
            pending,
            now,
        )
    }
}

/// The mint key must be a `mint` signer of the default branch's policy in force now: receipts
/// it signed would not verify otherwise.
fn check_mint_key_in_force(policy: &Policy, mint_key: &SigningKey) -> Result<(), Error> {
    let public = mint_key.key.public_key();
    let trusted = policy.signers.iter().any(|s| {
        s.role == SignerRole::Mint
            && s.kid == mint_key.kid
            && s.key.key_data() == public.key_data()
            && s.in_force_at(OffsetDateTime::now_utc())
    });
    if trusted {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "the mint key `{}` is not a `mint` signer in force in the policy on the default branch; receipts it signed would not verify",
            mint_key.kid
        )))
    }
}

/// A plan file of the pull request, its resolved plan and the policy's decision on each
/// operation.
pub(super) type PlanUnderReview = (String, ResolvedPlan, Vec<OperationDecision>);

/// The plans the pull request adds or changes (between `commits.0`, the default branch, and
/// `commits.1`, its head, read as git objects), each judged by `policy`, and notes on plan
/// files that resolve to a plan already listed (one plan: one run, one set of receipts).
pub(super) fn pull_request_plans(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    policy: &Policy,
    commits: (&crate::model::CommitSha, &crate::model::CommitSha),
    now: OffsetDateTime,
) -> Result<(Vec<PlanUnderReview>, Vec<String>), Error> {
    let (default_commit, head) = commits;
    let mut plans: Vec<PlanUnderReview> = Vec::new();
    let mut notes = Vec::new();
    for file in repo.changed_yaml_files(default_commit, head, PLANS_DIR)? {
        let plan = inputs::load_plan_at(&file, head, repo, slug)?;
        if let Some((first, _, _)) = plans.iter().find(|(_, known, _)| known.id == plan.id) {
            notes.push(format!(
                "{} is the same plan as {first} ({}): it is minted once",
                file.path, plan.id
            ));
            continue;
        }
        let decisions = policy::evaluate(policy, &plan.checked, now);
        plans.push((file.path, plan, decisions));
    }
    Ok((plans, notes))
}

/// The runs the plans have, minted now or before.
fn runs_of(outcomes: &[MintOutcome]) -> Vec<RunId> {
    outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            MintOutcome::Minted { run_id, .. } | MintOutcome::AlreadyMinted { run_id } => {
                Some(run_id.clone())
            }
            _ => None,
        })
        .collect()
}

/// Whether `author` is in a group a rule of the plans names (as for approving): who may ask
/// for a `/shipgate ship`.
pub(super) fn by_an_approver(
    author: &Login,
    plans: &[(String, ResolvedPlan, Vec<OperationDecision>)],
    memberships: &BTreeMap<Login, BTreeSet<TeamSlug>>,
) -> bool {
    let teams = memberships.get(author);
    plans
        .iter()
        .flat_map(|(_, _, decisions)| decisions)
        .flat_map(|d| &d.requirements)
        .any(|r| {
            r.users.contains(author)
                || r.teams
                    .iter()
                    .any(|t| teams.is_some_and(|mine| mine.contains(t)))
        })
}

fn fresh_ids(operations: usize) -> FreshIds {
    FreshIds {
        run_id: RunId::random(),
        receipt_ids: (0..operations).map(|_| ReceiptId::random()).collect(),
        nonces: (0..operations)
            .map(|_| {
                let mut nonce = [0u8; 16];
                OsRng.fill_bytes(&mut nonce);
                crate::canonical::hex(&nonce)
            })
            .collect(),
    }
}

/// Everything one mint records.
struct Minting<'a> {
    pr: PrNumber,
    setup: &'a AppendSetup,
    mint_key: &'a SigningKey,
    policy: &'a Policy,
    plans: &'a [(String, ResolvedPlan, Vec<OperationDecision>)],
    judged: Judged<'a>,
    ids: &'a [FreshIds],
    now: OffsetDateTime,
}

/// Judges and records each plan in one compare-and-swap append: approvals are judged and the
/// decision taken again against the state at the remote head on every attempt, since the
/// recorded revokes and the runs' plan ids (for ambiguous prefixes) live there.
fn record(minting: &Minting<'_>) -> Result<(Vec<MintOutcome>, Vec<ApprovalOutcome>), Error> {
    let Minting {
        setup,
        policy,
        plans,
        ids,
        now,
        ..
    } = *minting;
    let mut outcomes: Vec<MintOutcome> = Vec::new();
    let mut approvals: Vec<ApprovalOutcome> = Vec::new();
    let mut signing_error: Option<String> = None;
    setup.verified_head()?;
    let genesis_policy = setup
        .target
        .trust
        .genesis_policy(&setup.repo)
        .map_err(AuditError::from)?;
    append_all(
        &setup.repo,
        &setup.cli,
        &setup.key,
        &setup.target,
        &|| now,
        |state: &StateView<'_>| {
            outcomes.clear();
            approvals.clear();
            let mut events = Vec::new();
            let runs = state.runs();
            let known_ids: Vec<PlanId> = plans
                .iter()
                .map(|(_, plan, _)| plan.id.clone())
                .chain(
                    runs.iter()
                        .filter_map(|r| PlanId::from_digest(r.plan_id.clone()).ok()),
                )
                .collect();
            for (index, fresh) in ids.iter().enumerate().take(plans.len()) {
                let (outcome, approval, mut plan_events) =
                    match minting.decide(index, fresh, state, &runs, &known_ids) {
                        Ok(decided) => decided,
                        Err((approval, e)) => {
                            signing_error = Some(e);
                            (MintOutcome::AwaitingApproval, approval, Vec::new())
                        }
                    };
                outcomes.push(outcome);
                approvals.push(approval);
                events.append(&mut plan_events);
            }
            if signing_error.is_some() {
                return Ok(Vec::new());
            }
            // The first decision under a new policy says so on the chain (issue 13, class 12).
            if !events.is_empty()
                && let Some(change) = policy_change(state, genesis_policy.as_ref(), &policy.hash)
            {
                events.insert(0, change);
            }
            Ok(events)
        },
    )
    .map_err(AuditError::from)?;
    match signing_error {
        Some(e) => Err(Error::Usage(format!("cannot sign a receipt: {e}"))),
        None => Ok((outcomes, approvals)),
    }
}

impl Minting<'_> {
    /// Plan `index` judged at `state`: its outcome, its approvals and the entries it appends
    /// (its recorded revokes first). A receipt that cannot be signed is an `Err`, with the
    /// approvals judged.
    fn decide(
        &self,
        index: usize,
        fresh: &FreshIds,
        state: &StateView<'_>,
        runs: &[crate::audit::state::RunRecord],
        known_ids: &[PlanId],
    ) -> Result<(MintOutcome, ApprovalOutcome, Vec<Event>), (ApprovalOutcome, String)> {
        let (_, plan, decisions) = &self.plans[index];
        let (approval, mut events) = judge(
            &self.judged,
            index,
            plan,
            decisions,
            known_ids,
            state,
            self.now,
        );
        let open_run = runs
            .iter()
            .find(|r| r.plan_id == plan.id.as_str())
            .map(|r| &r.run_id);
        let decision = decide_mint(
            &MintInputs {
                plan,
                decisions,
                approvals: &approval,
                policy_hash: &self.policy.hash,
                halted: state.halt().is_some(),
                open_run,
                now: self.now,
            },
            fresh.clone(),
        );
        match decision_events(
            self.pr,
            plan,
            &approval,
            decision,
            state,
            self.mint_key,
            &self.policy.hash,
        ) {
            Ok((outcome, mut plan_events)) => {
                events.append(&mut plan_events);
                Ok((outcome, approval, events))
            }
            Err(e) => Err((approval, e)),
        }
    }
}

/// An unapprovable plan's outcome names the commit linked to no account.
fn name_unknown_author((outcome, authorship): (MintOutcome, &Authorship)) -> MintOutcome {
    match (outcome, authorship) {
        (MintOutcome::Unapprovable { reason, .. }, Authorship::Unknown { commit }) => {
            MintOutcome::Unapprovable {
                reason,
                why: format!(
                    "commit {} writes the plan, and GitHub links its author or committer email to no account, so nobody may approve it; rewrite it with an email of its author's account and push again",
                    commit.get(..12).unwrap_or(commit)
                ),
            }
        }
        (outcome, _) => outcome,
    }
}
