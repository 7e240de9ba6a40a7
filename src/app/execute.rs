//! `shipgate execute`: the command-line shell of the execution protocol ([`crate::execute`]).
//!
//! It turns the arguments into a request (which runs, the lock's lifetime), builds the real
//! ports (the GitHub client and its effect half, the governance branch, the wall clock),
//! verifies the chain before anything else (an invalid chain blocks everything with
//! `AUDIT_CHAIN_INVALID`), runs the protocol on each selected run, and renders the reports:
//! stdout, the PR's status comment, the step summary and the action's outputs.

use crate::model::PrNumber;
use std::io::Write;
use std::time::Duration;

use super::audit::{AppendSetup, prepare_append};
use super::github;
use super::inputs::{self, PolicyRequest};
use crate::audit::AuditError;
use crate::audit::state::OpStatus;
use crate::cli::{AuditAppendArgs, ExecuteArgs, Format};
use crate::error::{Error, Outcome};
use crate::execute::{
    ChainPort, Clock, GitChain, Ports, RunRequest, RunSelector, Unready, WallClock, execute_run,
    select_runs, unready_runs,
};
use crate::gate::GateCode;
use crate::github::{GitHubShipper, read_world};
use crate::lifecycle::{RunState, shipped_by};
use crate::model::OpKey;
use crate::plan::{ResolvedOperation, ResolvedPlan};
use crate::policy::parse_duration;
use crate::report::Banner;
use crate::report::execute::{
    ExecuteReport, OpOutcome, render_execute_markdown, render_execute_text,
};
use crate::report::lifecycle::{StaleRunReport, render_stale_markdown, render_stale_text};
use crate::report::shipped::{ShippedOp, shipped_ops};

/// Runs `shipgate execute`. Whatever its exit code, the step outputs say what shipped (issue
/// 18): everything done on GitHub before a failure or a block, `[]` when nothing was.
pub fn execute(args: &ExecuteArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    super::actions::with_shipped_outputs(|shipped| execute_args(args, shipped, out))
}

/// [`execute`], collecting what shipped into `shipped` as it goes.
fn execute_args(
    args: &ExecuteArgs,
    shipped: &mut Vec<ShippedOp>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let selector = match (&args.run, args.pr) {
        (Some(run), _) => RunSelector::Run(run.clone()),
        (None, Some(pr)) => RunSelector::Pr(PrNumber::new(pr)),
        (None, None) if args.pending => RunSelector::Pending,
        (None, None) => {
            return Err(Error::Usage(
                "pass --run RUN_ID, --pr N or --pending".into(),
            ));
        }
    };
    let lock_ttl = parse_duration(&args.lock_ttl).map_err(|why| {
        Error::Usage(format!(
            "--lock-ttl `{}`: {why}; write e.g. 15m",
            args.lock_ttl
        ))
    })?;
    let request = ExecuteRequest {
        selector,
        lock_ttl: Duration::from_secs(lock_ttl),
        format: args.format,
    };
    execute_request(&request, &args.append, shipped, out)
}

/// What to execute and how to report it, clap-free.
struct ExecuteRequest {
    /// Which runs.
    pub selector: RunSelector,
    /// How long the lock is held before another executor may break it.
    pub lock_ttl: Duration,
    /// The report's format on stdout.
    pub format: Format,
}

/// [`execute`] for a request: each run's plan is the checkout's, or, for a run named by
/// `--run` (the ship workflow that `/shipgate ship` starts), its pull request's, read from the
/// pull request's head as git objects.
fn execute_request(
    request: &ExecuteRequest,
    append: &AuditAppendArgs,
    shipped: &mut Vec<ShippedOp>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let token = github::token()
        .ok_or_else(|| Error::Usage("execute acts on GitHub: set GITHUB_TOKEN".into()))?;
    let (repo, slug) = inputs::governed_repo(append)?;
    if append.policy.policies_from_worktree {
        return Err(Error::Usage(
            "execute always reads the policy from the default branch".into(),
        ));
    }
    let (policy, policy_source) = inputs::load_policy(&repo, &PolicyRequest::from(&append.policy))?;
    let setup = prepare_append(append)?;
    let chain = git_chain(&setup);

    // 1. Fetch and verify; every later decision and append verifies again from this head.
    let verified = first_verified_state(&chain, &append.target.branch, out)?;
    let now = WallClock.now();
    // The checkout's plans, each resolved once (a landed `target: merge` also as each run of
    // its operations approved it): a run's plan is the one with its id.
    let checkout = checkout_plans(&repo, &slug, verified.state());
    let runs = select_runs(verified.state(), &request.selector, now, |run| {
        Ok(checkout
            .iter()
            .find(|plan| plan.id.as_str() == run.plan_id)
            .or_else(|| merged_otherwise(&checkout, verified.state(), run))
            .cloned()
            .or_else(|| pull_plan(&repo, &slug, append, &request.selector, run)))
    })?;
    let mut unready = match request.selector {
        RunSelector::Pending => unready_runs(verified.state(), now, &checkout),
        _ => Unready::default(),
    };
    // A run selected is executed, and the gate says why it cannot ship if it cannot.
    unready
        .loud
        .retain(|(stale, _)| runs.iter().all(|(run, _)| run.run_id != stale.run_id));
    if runs.is_empty() && unready.loud.is_empty() {
        return nothing_pending(verified.state(), &checkout, &unready.waiting, out);
    }
    // Issue 17: a replay of a shipped run says so and leaves its SHIPPED status comment (with
    // its timeline link) as it was, instead of a BLOCKED report over it. Judged on the first
    // verified state, which is then let go: a state still held when the trust verifies the
    // next head is copied whole (every run and receipt) on each of the execution's appends.
    let replays: Vec<bool> = runs
        .iter()
        .map(|(run, _)| crate::execute::shipped(verified.state(), run))
        .collect();
    drop(verified);

    let (runtime, client) = github::connect(&slug, token)?;
    let shipper = GitHubShipper::new(&client);
    let ports = Ports {
        github: &client,
        effects: &shipper,
        chain: &chain,
        clock: &WallClock,
    };
    let mut reports = Vec::new();
    let mut code = Outcome::Clean;
    for ((run, plan), replay) in runs.iter().zip(replays) {
        let executed = if replay {
            writeln!(out, "{}", already_shipped(run))?;
            None
        } else {
            Some(runtime.block_on(execute_run(
                &ports,
                &RunRequest {
                    run,
                    plan: plan.as_ref(),
                    repo: &slug,
                    policy: &policy,
                    lock_ttl: request.lock_ttl,
                },
            )))
        };
        // Read before a failure is passed on: what shipped before it is still an output.
        shipped.extend(shipped_by_run(
            &runtime,
            &client,
            &chain,
            run,
            plan.as_ref(),
        ));
        let Some(executed) = executed else { continue };
        let outcomes = executed?;
        code = code.max(outcome_code(&outcomes));
        let report = ExecuteReport::new(
            (run.run_id.clone(), run.plan_id.clone()),
            policy_source.clone(),
            outcomes,
            chain.timeline(run)?,
        );
        let markdown = render_execute_markdown(&report);
        for pr in status_prs(run, &request.selector) {
            runtime.block_on(github::post_status(&client, pr, &markdown))?;
        }
        super::actions::write_step_summary(&markdown)?;
        let rendered = match request.format {
            Format::Text => render_execute_text(&report),
            Format::Markdown => markdown,
            Format::Json => super::json_report(&report)?,
        };
        out.write_all(rendered.as_bytes())?;
        reports.push(report);
    }
    let stale = report_unready(&runtime, &client, &unready, request.format, out)?;
    if !stale.is_empty() {
        code = code.max(Outcome::Blocked);
    }
    write_execute_outputs(&reports, &stale)?;
    Ok(code)
}

/// `execute --pending` with nothing to do: says so, naming the checkout's plans that shipped
/// and the runs that wait for their pull request to merge, and outputs `status=idle`.
fn nothing_pending(
    state: &crate::audit::state::State,
    checkout: &[ResolvedPlan],
    waiting: &[crate::audit::state::RunRecord],
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    writeln!(
        out,
        "no run is pending: none has an unused, unexpired receipt and its plan in this checkout"
    )?;
    for plan in checkout {
        if let Some(run) = shipped_by(state, plan) {
            writeln!(out, "  {}: shipped in {run}", plan.file)?;
        }
    }
    for run in waiting {
        writeln!(out, "  {}: {}", run.run_id, RunState::Waiting.explain(run))?;
    }
    super::actions::write_outputs(&[("status", "idle".to_owned())])?;
    Ok(Outcome::Clean)
}

/// The operations of `run` that the chain records as done by it (succeeded or recovered), in
/// plan order, with what GitHub holds of each (read back with the run's plan; without the plan
/// or when GitHub cannot be read, only what their keys say). The chain is read again, not the
/// outcomes, so that a run stopped by a failure still reports what it shipped before.
fn shipped_by_run(
    runtime: &tokio::runtime::Runtime,
    client: &crate::github::GitHubClient,
    chain: &GitChain<'_>,
    run: &crate::audit::state::RunRecord,
    plan: Option<&ResolvedPlan>,
) -> Vec<ShippedOp> {
    let Ok(Some(verified)) = chain.verified_state() else {
        return Vec::new();
    };
    let state = verified.state();
    let done: Vec<OpKey> = run
        .operations
        .iter()
        .map(|op| op.op_key.clone())
        .filter(|key| {
            state.ops.get(key.as_str()).is_some_and(|record| {
                record.run_id == run.run_id
                    && matches!(record.status, OpStatus::Succeeded | OpStatus::Recovered)
            })
        })
        .collect();
    if done.is_empty() {
        return Vec::new();
    }
    let world = plan.and_then(|plan| runtime.block_on(read_world(client, &[plan])).ok());
    shipped_ops(&run.run_id, &done, world.as_ref())
}

/// What a replay of a shipped run says instead of executing it.
fn already_shipped(run: &crate::audit::state::RunRecord) -> String {
    let status = run.pr.map_or(String::new(), |pr| {
        format!("; the status comment of #{pr} is left as it was")
    });
    format!(
        "run {} (plan {}) already shipped: nothing to do{status}",
        run.run_id, run.plan_id
    )
}

/// The pull requests whose status comment shows a run's report: the one the run came from
/// and, when `--pr` names another, that one too (issue 17).
fn status_prs(run: &crate::audit::state::RunRecord, selector: &RunSelector) -> Vec<PrNumber> {
    let mut prs: Vec<PrNumber> = run.pr.into_iter().collect();
    if let RunSelector::Pr(pr) = selector
        && !prs.contains(pr)
    {
        prs.push(*pr);
    }
    prs
}

/// Reports each run that can no longer ship as approved (stale, expired) on stdout, in the job
/// summary and in its pull request's status comment, which then says what to do.
fn report_unready(
    runtime: &tokio::runtime::Runtime,
    client: &crate::github::GitHubClient,
    unready: &Unready,
    format: Format,
    out: &mut dyn Write,
) -> Result<Vec<StaleRunReport>, Error> {
    let mut stale = Vec::new();
    for (run, state) in &unready.loud {
        let Some(report) = StaleRunReport::new(run, state) else {
            continue;
        };
        let markdown = render_stale_markdown(&report);
        if let Some(pr) = run.pr {
            runtime.block_on(github::post_status(client, pr, &markdown))?;
        }
        super::actions::write_step_summary(&markdown)?;
        let rendered = match format {
            Format::Text => render_stale_text(&report),
            Format::Markdown => markdown,
            Format::Json => super::json_report(&report)?,
        };
        out.write_all(rendered.as_bytes())?;
        stale.push(report);
    }
    Ok(stale)
}

/// The step outputs of one `execute`: its plans, runs, one status word for the whole command
/// (however many runs it executed) and the codes of what was denied or failed.
fn write_execute_outputs(reports: &[ExecuteReport], stale: &[StaleRunReport]) -> Result<(), Error> {
    let reasons: Vec<&str> = reports
        .iter()
        .flat_map(|r| &r.operations)
        .filter_map(|(_, o)| match o {
            OpOutcome::Denied { code, .. } | OpOutcome::Failed { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .chain(stale.iter().map(|r| r.code.as_str()))
        .collect();
    // One word for the whole command, however many runs it executed; `idle` when it executed
    // none and reported none (every run it was asked for had shipped already).
    let status = if reports.is_empty() && stale.is_empty() {
        "idle".to_owned()
    } else if stale.is_empty() && reports.iter().all(|r| r.banner == Banner::Shipped) {
        Banner::Shipped.status()
    } else {
        Banner::Blocked.status()
    };
    super::actions::write_outputs(&[
        (
            "plan-id",
            super::actions::space_separated(
                reports
                    .iter()
                    .map(|r| &r.plan_id)
                    .chain(stale.iter().map(|r| &r.plan_id)),
            ),
        ),
        (
            "run-id",
            super::actions::space_separated(
                reports
                    .iter()
                    .map(|r| &r.run_id)
                    .chain(stale.iter().map(|r| &r.run_id)),
            ),
        ),
        ("status", status),
        ("blocked-reasons", reasons.join(",")),
    ])?;
    Ok(())
}

/// The chain fetched and verified before anything is selected; a chain that does not verify
/// is reported as the gate's `AUDIT_CHAIN_INVALID` before the error.
fn first_verified_state(
    chain: &GitChain<'_>,
    branch: &str,
    out: &mut dyn Write,
) -> Result<crate::audit::trust::VerifiedState, Error> {
    match chain.verified_state() {
        Ok(Some(verified)) => Ok(verified),
        Ok(None) => Err(Error::Usage(format!(
            "there is no governance branch {branch}: nothing was minted"
        ))),
        Err(Error::Audit(AuditError::Verify(failure))) => {
            writeln!(
                out,
                "blocked: {} - {} ({failure})",
                GateCode::AuditChainInvalid.as_str(),
                GateCode::AuditChainInvalid.why()
            )?;
            Err(AuditError::Verify(failure).into())
        }
        Err(e) => Err(e),
    }
}

/// The governance branch the append arguments name, as the protocol's chain port.
pub(super) fn git_chain(setup: &AppendSetup) -> GitChain<'_> {
    GitChain {
        repo: &setup.repo,
        key: &setup.key,
        target: &setup.target,
        cli: &setup.cli,
    }
}

/// The plan in the checkout whose id is the run's, if any (none: the plan moved: stale). A
/// merged `target: merge` resolves to the commit carrying the approved content (DESIGN 13.7).
pub(super) fn find_plan(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    run: &crate::audit::state::RunRecord,
) -> Result<Option<ResolvedPlan>, Error> {
    let approved = crate::model::PlanId::from_digest(run.plan_id.clone()).ok();
    for path in inputs::plan_paths(&[], repo).unwrap_or_default() {
        if let Ok(plan) = inputs::load_plan_for(&path, repo, slug, approved.as_ref())
            && plan.id.as_str() == run.plan_id
        {
            return Ok(Some(plan));
        }
    }
    Ok(None)
}

/// Every plan in the checkout that resolves (one that does not cannot be any run's plan), as
/// the lifecycle judges runs against them. A plan whose `target: merge` landed is also listed
/// as resolved for each run of the same operations that it resolves to with that run's
/// approved content (DESIGN 13.7: a rebase merge carries it on a later commit than the one the
/// plan first appears on), so such a run reads as authorized, not stale.
pub(super) fn checkout_plans(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    state: &crate::audit::state::State,
) -> Vec<ResolvedPlan> {
    let mut plans = Vec::new();
    for path in inputs::plan_paths(&[], repo).unwrap_or_default() {
        let Ok(plan) = inputs::load_plan(&path, repo, slug) else {
            continue;
        };
        if has_landed_merge(&plan) {
            for run in state.runs.values() {
                let same_operations = plan
                    .operations
                    .iter()
                    .map(ResolvedOperation::key)
                    .eq(run.operations.iter().map(|o| o.op_key.clone()));
                if !same_operations || run.plan_id == plan.id.as_str() {
                    continue;
                }
                let approved = crate::model::PlanId::from_digest(run.plan_id.clone()).ok();
                if let Ok(for_run) = inputs::load_plan_for(&path, repo, slug, approved.as_ref())
                    && for_run.id.as_str() == run.plan_id
                {
                    plans.push(for_run);
                }
            }
        }
        plans.push(plan);
    }
    plans
}

/// Whether a tag of the plan says `target: merge` and its pull request has merged.
fn has_landed_merge(plan: &ResolvedPlan) -> bool {
    plan.operations.iter().any(|op| match op {
        ResolvedOperation::Tag { target, .. } => target.is_landed_merge(),
        _ => false,
    })
}

/// The run's plan merged with other content than approved (a pull request merged behind its
/// base, DESIGN 13.7): a plan of the checkout with the run's operations whose `target: merge`
/// landed, but on no commit with the approved tree. Returned so that the gate refuses the run
/// `RECEIPT_STALE`, saying why, instead of the run waiting silently. Only for the latest run of
/// its pull request: an earlier one was superseded by a later approval, not merged.
fn merged_otherwise<'p>(
    checkout: &'p [ResolvedPlan],
    state: &crate::audit::state::State,
    run: &crate::audit::state::RunRecord,
) -> Option<&'p ResolvedPlan> {
    let latest = state
        .runs
        .values()
        .filter(|other| other.pr.is_some() && other.pr == run.pr)
        .all(|other| other.seq <= run.seq);
    if !latest || run.pr.is_none() {
        return None;
    }
    checkout.iter().find(|plan| {
        has_landed_merge(plan)
            && plan
                .operations
                .iter()
                .map(ResolvedOperation::key)
                .eq(run.operations.iter().map(|o| o.op_key.clone()))
    })
}

/// A run named by `--run` whose plan is its pull request's, not yet merged: the ship workflow
/// started by `/shipgate ship` reads it from the pull request's head as git objects (issue 15).
pub(super) fn pull_plan(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    append: &AuditAppendArgs,
    selector: &RunSelector,
    run: &crate::audit::state::RunRecord,
) -> Option<ResolvedPlan> {
    let pr = run.pr.filter(|_| matches!(selector, RunSelector::Run(_)))?;
    let (_, base) = repo
        .default_branch(append.policy.default_branch.as_deref())
        .ok()?;
    super::pull_head::pull_plans(repo, &append.target.remote, slug, pr, &base)
        .into_iter()
        .find(|plan| plan.id.as_str() == run.plan_id)
}

fn outcome_code(outcomes: &[(String, OpOutcome)]) -> Outcome {
    let mut code = Outcome::Clean;
    for (_, outcome) in outcomes {
        match outcome {
            OpOutcome::Denied { code: reason, .. }
                if reason == GateCode::ReceiptForged.as_str() =>
            {
                return Outcome::Integrity;
            }
            OpOutcome::Denied { .. } => code = Outcome::Blocked,
            OpOutcome::Failed { .. } => code = Outcome::Infrastructure,
            _ => {}
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::state::RunRecord;
    use crate::model::RunId;

    fn run_of(pr: Option<PrNumber>) -> RunRecord {
        RunRecord {
            run_id: RunId::random(),
            plan_id: "sha256:p".into(),
            policy_hash: "sha256:h".into(),
            operations: Vec::new(),
            pr,
            seq: 1,
        }
    }

    /// Issue 17: the report lands on the run's pull request and on the one `--pr` names.
    #[test]
    fn the_status_goes_to_the_runs_pull_request_and_the_one_looked_at() {
        let pr = PrNumber::new;
        assert_eq!(
            status_prs(&run_of(Some(pr(3))), &RunSelector::Pr(pr(3))),
            [pr(3)]
        );
        assert_eq!(
            status_prs(&run_of(Some(pr(3))), &RunSelector::Pr(pr(7))),
            [pr(3), pr(7)]
        );
        assert_eq!(status_prs(&run_of(None), &RunSelector::Pr(pr(7))), [pr(7)]);
        assert_eq!(
            status_prs(&run_of(Some(pr(3))), &RunSelector::Pending),
            [pr(3)]
        );
        assert!(status_prs(&run_of(None), &RunSelector::Pending).is_empty());
    }
}
