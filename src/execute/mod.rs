//! The execution protocol (DESIGN 7) as a library, free of the command line.
//!
//! 1. The caller verifies the governance branch and picks the runs ([`select_runs`]).
//! 2. Per run ([`execute_run`]): refuse if halted; take the lock (breaking an expired one, on
//!    the record).
//! 3. For each operation, in plan order: the gate's preconditions on a freshly verified state,
//!    then its per-operation checks; `receipt_consumed` (before the effect, so a receipt can
//!    never act twice); the effect, which spends the gate's [`crate::gate::Authorized`]; the
//!    read-back; `operation_succeeded` or `operation_failed`.
//! 4. Release the lock.
//!
//! An operation whose receipt was consumed but whose outcome was never recorded (a crash) is
//! in doubt: a re-run reads GitHub and records `operation_recovered` when the effect exists as
//! approved, performs it when it is absent, and fails it on a conflict. Every blocked operation
//! is recorded as `operation_denied` with its reason code, unless the chain cannot be written.
//!
//! Generic over its ports: GitHub's read and effect halves, the chain ([`ChainPort`]) and the
//! clock ([`Clock`]), so tests drive it in-process with failing wrappers and a chosen time.

mod ports;
mod run;

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use ports::{ChainPort, Clock, GitChain, Propose, WallClock};
pub use run::{execute_run, shipped};

use crate::audit::state::{OpStatus, ReceiptStatus, RunRecord, State};
use crate::error::Error;
use crate::gate::is_expired;
use crate::lifecycle::{RunState, in_checkout, run_state};
use crate::model::{PrNumber, RepoSlug, RunId};
use crate::plan::ResolvedPlan;
use crate::policy::Policy;

/// Which runs to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSelector {
    /// The run with this id.
    Run(RunId),
    /// The latest run minted for this pull request.
    Pr(PrNumber),
    /// Every run that still has work (an unused, unexpired receipt, or an operation in doubt)
    /// and whose plan is found, oldest first.
    Pending,
}

/// The ports one execution acts through.
pub struct Ports<'a, R, E, C, K> {
    /// The read half of GitHub (read-backs, recovery, the pull request head check).
    pub github: &'a R,
    /// The effect half of GitHub.
    pub effects: &'a E,
    /// The audit chain.
    pub chain: &'a C,
    /// The clock.
    pub clock: &'a K,
}

/// One run to execute.
pub struct RunRequest<'a> {
    /// The run, as the verified chain records it.
    pub run: &'a RunRecord,
    /// Its plan, re-resolved now (none: no plan resolves to its id any more: stale).
    pub plan: Option<&'a ResolvedPlan>,
    /// The repository the run ships to.
    pub repo: &'a RepoSlug,
    /// The policy on the default branch now.
    pub policy: &'a Policy,
    /// How long the lock is held before another executor may break it.
    pub lock_ttl: Duration,
}

/// The runs `selector` names on `state`, each with its plan as `find_plan` finds it. With
/// [`RunSelector::Pending`], a run whose plan is not found is left out: its plan has not
/// reached the checkout yet (or moved on), and it waits rather than being denied on every push.
pub fn select_runs(
    state: &State,
    selector: &RunSelector,
    now: OffsetDateTime,
    mut find_plan: impl FnMut(&RunRecord) -> Result<Option<ResolvedPlan>, Error>,
) -> Result<Vec<(RunRecord, Option<ResolvedPlan>)>, Error> {
    let runs: Vec<RunRecord> =
        match selector {
            RunSelector::Run(run) => {
                vec![state.runs.get(run).cloned().ok_or_else(|| {
                    Error::Usage(format!("no run `{run}` on the governance branch"))
                })?]
            }
            RunSelector::Pr(pr) => vec![
                state
                    .runs
                    .values()
                    .filter(|r| r.pr == Some(*pr))
                    .max_by_key(|r| r.seq)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "no run was minted for pull request #{pr}: approve and mint it first"
                        ))
                    })?,
            ],
            RunSelector::Pending => {
                let with_work = runs_with_work(state, now);
                let mut pending: Vec<RunRecord> = state
                    .runs
                    .values()
                    .filter(|r| with_work.contains(r.run_id.as_str()))
                    .cloned()
                    .collect();
                pending.sort_by_key(|r| r.seq);
                pending
            }
        };
    let mut with_plans = Vec::new();
    for run in runs {
        let plan = find_plan(&run)?;
        if plan.is_some() || *selector != RunSelector::Pending {
            with_plans.push((run, plan));
        }
    }
    Ok(with_plans)
}

/// The runs that still have something to do: an operation in doubt (to recover), or an
/// enforceable receipt that is unused and that the gate would not call expired at `now`.
fn runs_with_work(state: &State, now: OffsetDateTime) -> HashSet<&str> {
    let in_doubt = state
        .ops
        .values()
        .filter(|op| op.status == OpStatus::InDoubt)
        .map(|op| op.run_id.as_str());
    let usable = state
        .receipts
        .values()
        .filter(|receipt| {
            receipt.enforceable
                && receipt.status == ReceiptStatus::Minted
                && OffsetDateTime::parse(&receipt.expires_at, &Rfc3339)
                    .is_ok_and(|at| !is_expired(now, at))
        })
        .map(|receipt| receipt.run_id.as_str());
    in_doubt.chain(usable).collect()
}

/// The runs `--pending` does not execute but does not leave unsaid (issue 17).
#[derive(Debug, Default)]
pub struct Unready {
    /// Runs whose plan file is in the checkout but that can no longer ship as approved (stale,
    /// expired), oldest first, each with its state: reported, exit 1.
    pub loud: Vec<(RunRecord, RunState)>,
    /// Authorized runs whose plan has not reached the checkout: their pull request is open.
    pub waiting: Vec<RunRecord>,
}

/// The runs on `state` that `--pending` cannot execute, judged against the plans that resolve in
/// the checkout (`checkout`): which ones are stale or expired with their plan file in the
/// checkout (loud), and which wait for their plan to arrive.
pub fn unready_runs(state: &State, now: OffsetDateTime, checkout: &[ResolvedPlan]) -> Unready {
    let mut runs: Vec<&RunRecord> = state.runs.values().collect();
    runs.sort_by_key(|r| r.seq);
    let mut unready = Unready::default();
    for run in runs {
        match run_state(state, run, now, checkout) {
            RunState::Waiting => unready.waiting.push(run.clone()),
            judged @ (RunState::Stale { .. } | RunState::Expired) if in_checkout(run, checkout) => {
                unready.loud.push((run.clone(), judged));
            }
            _ => {}
        }
    }
    unready
}
