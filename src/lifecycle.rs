//! Where each run is in its life (issue 17), judged from the verified state, the clock and the
//! plans in the checkout; pure, so `execute --pending`, `shipgate runs` and the dry-run agree.
//!
//! A run's plan is found in the checkout by its id. When no plan has that id but a plan file
//! in the checkout plans one of the run's operation keys (an operation key names one request
//! for all time, DESIGN 2), that file is the run's plan, changed since approval: the run is
//! stale. A run none of whose operation keys any plan in the checkout holds waits: its plan
//! has not reached the checkout yet (its pull request is still open). A run whose operations
//! all belong to a newer run is superseded (approved again), and says nothing.

use std::collections::BTreeSet;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::state::{OpStatus, ReceiptStatus, RunRecord, State};
use crate::gate::{GateCode, is_expired};
use crate::model::{OpKey, RunId};
use crate::plan::ResolvedPlan;

/// The state of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunState {
    /// Receipts minted, unused and unexpired, and its plan in the checkout as approved (or an
    /// operation in doubt, to recover): the next `execute` ships it.
    Authorized,
    /// Authorized, but its plan is not in the checkout yet: its pull request is not merged.
    Waiting,
    /// Every operation done by this run.
    Shipped,
    /// Some operations done by this run, the rest not.
    PartiallyShipped {
        /// How many are done.
        done: usize,
        /// Of how many.
        of: usize,
    },
    /// Its plan file is in the checkout but resolves to another plan id now.
    Stale {
        /// The plan file.
        file: String,
        /// The id it resolves to now.
        resolves_to: String,
    },
    /// Its receipts expired unused.
    Expired,
    /// Nothing may ship: governance is halted, or its receipts are spent without the
    /// operations being done.
    Blocked {
        /// Why, in a line.
        why: String,
    },
    /// A newer run holds every one of its operations (it was approved again), or another run
    /// did them all.
    Superseded {
        /// That run.
        by: RunId,
    },
}

impl RunState {
    /// The one word `shipgate runs` shows (the JSON `state`).
    pub fn word(&self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::Waiting => "waiting",
            Self::Shipped => "shipped",
            Self::PartiallyShipped { .. } => "partially_shipped",
            Self::Stale { .. } => "stale",
            Self::Expired => "expired",
            Self::Blocked { .. } => "blocked",
            Self::Superseded { .. } => "superseded",
        }
    }

    /// The reason code of a run that can no longer ship as approved (stale or expired).
    pub fn code(&self) -> Option<GateCode> {
        match self {
            Self::Stale { .. } => Some(GateCode::ReceiptStale),
            Self::Expired => Some(GateCode::ReceiptExpired),
            _ => None,
        }
    }

    /// One line saying what the state means and what to do.
    pub fn explain(&self, run: &RunRecord) -> String {
        let pr = run.pr.map_or_else(String::new, |pr| format!(" on #{pr}"));
        match self {
            Self::Authorized => "authorized: receipts minted, unused and unexpired".to_owned(),
            Self::Waiting => match run.pr {
                Some(pr) => format!("waiting for #{pr} to merge"),
                None => "waiting: its plan is not in this checkout".to_owned(),
            },
            Self::Shipped => "shipped".to_owned(),
            Self::PartiallyShipped { done, of } => format!("partially shipped: {done} of {of}"),
            Self::Stale { file, resolves_to } => format!(
                "{file} resolves now to {resolves_to}, not to the approved {}; approve the new plan{pr}",
                run.plan_id
            ),
            Self::Expired => format!(
                "its receipts expired unused; approve again{pr}, or remove its plan file if it will not ship"
            ),
            Self::Blocked { why } => format!("blocked: {why}"),
            Self::Superseded { by } => format!("superseded by {by}"),
        }
    }
}

/// The state of `run` at `now`, with `checkout` the plans that resolve in the checkout.
pub fn run_state(
    state: &State,
    run: &RunRecord,
    now: OffsetDateTime,
    checkout: &[ResolvedPlan],
) -> RunState {
    let of = run.operations.len();
    let mine = |status: OpStatus| {
        run.operations
            .iter()
            .filter(|op| {
                state.ops.get(&op.op_key).is_some_and(|rec| {
                    rec.run_id.as_str() == run.run_id.as_str() && rec.status == status
                })
            })
            .count()
    };
    let done = mine(OpStatus::Succeeded) + mine(OpStatus::Recovered);
    if done == of {
        return RunState::Shipped;
    }
    if let Some(by) = superseded_by(state, run).or_else(|| done_elsewhere(state, run)) {
        return RunState::Superseded { by };
    }
    if done > 0 {
        return RunState::PartiallyShipped { done, of };
    }
    if let Some(halt) = &state.halt {
        return RunState::Blocked {
            why: format!("halted by {} since {}", halt.by, halt.since),
        };
    }
    if mine(OpStatus::InDoubt) > 0 {
        return RunState::Authorized;
    }
    let receipts: Vec<_> = state
        .receipts
        .values()
        .filter(|r| r.run_id.as_str() == run.run_id.as_str() && r.enforceable)
        .collect();
    let unused: Vec<_> = receipts
        .iter()
        .filter(|r| r.status == ReceiptStatus::Minted)
        .collect();
    if unused.is_empty() {
        return RunState::Blocked {
            why: "its receipts are spent and its operations not done".to_owned(),
        };
    }
    let usable = unused.iter().any(|r| {
        OffsetDateTime::parse(&r.expires_at, &Rfc3339).is_ok_and(|at| !is_expired(now, at))
    });
    let file = plan_file(run, checkout);
    match (usable, file) {
        (false, _) => RunState::Expired,
        (true, Some(plan)) if plan.id.as_str() == run.plan_id => RunState::Authorized,
        (true, Some(plan)) => RunState::Stale {
            file: plan.file.clone(),
            resolves_to: plan.id.to_string(),
        },
        (true, None) => RunState::Waiting,
    }
}

/// Whether the run's plan file is in the checkout (its id, or one of its operation keys).
pub fn in_checkout(run: &RunRecord, checkout: &[ResolvedPlan]) -> bool {
    plan_file(run, checkout).is_some()
}

/// The plan in the checkout that is the run's: the one with its id, else the first that
/// plans one of its operation keys.
fn plan_file<'p>(run: &RunRecord, checkout: &'p [ResolvedPlan]) -> Option<&'p ResolvedPlan> {
    checkout
        .iter()
        .find(|plan| plan.id.as_str() == run.plan_id)
        .or_else(|| {
            checkout.iter().find(|plan| {
                plan.operations.iter().any(|op| {
                    run.operations
                        .iter()
                        .any(|mine| mine.op_key.as_str() == op.key().as_str())
                })
            })
        })
}

/// The newest later run that holds every operation key of `run`, if any.
fn superseded_by(state: &State, run: &RunRecord) -> Option<RunId> {
    state
        .runs
        .values()
        .filter(|other| other.seq > run.seq)
        .filter(|other| {
            run.operations.iter().all(|op| {
                other
                    .operations
                    .iter()
                    .any(|theirs| theirs.op_key == op.op_key)
            })
        })
        .max_by_key(|other| other.seq)
        .map(|other| other.run_id.clone())
}

/// The run that did every operation of `run` in its stead, if another did.
fn done_elsewhere(state: &State, run: &RunRecord) -> Option<RunId> {
    let runs: Option<Vec<RunId>> = run
        .operations
        .iter()
        .map(|op| done_by(state, &op.op_key))
        .collect();
    runs?.pop()
}

/// The run that did the operation `key`, once it is done.
fn done_by(state: &State, key: &OpKey) -> Option<RunId> {
    state
        .ops
        .get(key)
        .filter(|rec| matches!(rec.status, OpStatus::Succeeded | OpStatus::Recovered))
        .map(|rec| rec.run_id.clone())
}

/// The run that shipped `plan`: every one of its operations is done, by one run that holds
/// exactly the plan's operation keys (the plan as approved may have resolved to another id,
/// e.g. a `target: main` before its merge). A plan that shipped is `shipped in run_...`, not
/// a conflict with what it created.
pub fn shipped_by(state: &State, plan: &ResolvedPlan) -> Option<RunId> {
    let keys: BTreeSet<OpKey> = plan.operations.iter().map(|op| op.key()).collect();
    let runs: BTreeSet<RunId> = keys
        .iter()
        .map(|key| done_by(state, key))
        .collect::<Option<_>>()?;
    let [run] = runs.into_iter().collect::<Vec<_>>().try_into().ok()?;
    let record = state.runs.get(&run)?;
    let held: BTreeSet<OpKey> = record
        .operations
        .iter()
        .map(|op| op.op_key.clone())
        .collect();
    (held == keys).then_some(run)
}

/// The plans of `plans` that await approval: no run on the chain holds any of their
/// operations (a plan some run approved, shipped or superseded is that run's, listed with it).
pub fn awaiting_approval<'p>(state: &State, plans: &'p [ResolvedPlan]) -> Vec<&'p ResolvedPlan> {
    let held: BTreeSet<&str> = state
        .runs
        .values()
        .flat_map(|run| run.operations.iter().map(|op| op.op_key.as_str()))
        .collect();
    plans
        .iter()
        .filter(|plan| {
            plan.operations
                .iter()
                .all(|op| !held.contains(op.key().as_str()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry::RunOperation;
    use crate::audit::state::{HaltRecord, OpRecord, ReceiptRecord};
    use crate::model::{OpKey, PrNumber, ReceiptId, RunId};

    const NOW: &str = "2026-12-03T12:00:00Z";

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse(NOW, &Rfc3339).expect("time")
    }

    /// A state holding run `id` (opened at `seq`) of tag v1, with one receipt expiring at
    /// `expires_at`.
    fn with_run(state: &mut State, id: &str, seq: u64, expires_at: &str) -> RunRecord {
        let run = RunRecord {
            run_id: RunId::parse(id).expect("run id"),
            plan_id: format!("sha256:{}", "a".repeat(64)),
            policy_hash: format!("sha256:{}", "b".repeat(64)),
            operations: vec![RunOperation {
                op_index: 0,
                op_key: OpKey::tag("v1"),
            }],
            pr: Some(PrNumber::new(7)),
            seq,
        };
        let receipt = ReceiptId::parse(&format!("rcp_{id}")).expect("receipt id");
        state.receipts.insert(
            receipt.clone(),
            ReceiptRecord {
                receipt_id: receipt,
                run_id: run.run_id.clone(),
                op_key: OpKey::tag("v1"),
                enforceable: true,
                expires_at: expires_at.to_owned(),
                status: ReceiptStatus::Minted,
                minted_seq: seq + 1,
                consumed_seq: None,
                document: None,
            },
        );
        state.runs.insert(run.run_id.clone(), run.clone());
        run
    }

    #[test]
    fn a_run_is_judged_by_its_receipts_its_operations_and_newer_runs() {
        let mut state = State::default();
        let old = with_run(&mut state, "run_old", 1, "2026-12-03T11:00:00Z");
        assert_eq!(run_state(&state, &old, now(), &[]), RunState::Expired);
        let new = with_run(&mut state, "run_new", 5, "2026-12-03T14:00:00Z");
        assert_eq!(
            run_state(&state, &old, now(), &[]),
            RunState::Superseded {
                by: new.run_id.clone()
            }
        );
        assert_eq!(run_state(&state, &new, now(), &[]), RunState::Waiting);
        state.halt = Some(HaltRecord {
            by: "alice".into(),
            reason: "incident".into(),
            since: NOW.into(),
            seq: 9,
        });
        assert!(matches!(
            run_state(&state, &new, now(), &[]),
            RunState::Blocked { .. }
        ));
        state.halt = None;
        state.ops.insert(
            OpKey::tag("v1"),
            OpRecord {
                op_key: OpKey::tag("v1"),
                run_id: new.run_id.clone(),
                receipt_id: ReceiptId::parse("rcp_run_new").expect("receipt id"),
                status: OpStatus::Succeeded,
                seq: 10,
                published_seq: None,
            },
        );
        assert_eq!(run_state(&state, &new, now(), &[]), RunState::Shipped);
    }

    #[test]
    fn a_plan_awaits_approval_until_a_run_holds_one_of_its_operations() {
        use crate::model::CommitSha;
        use crate::plan::ResolvedOperation;
        let tag = |name: &str| ResolvedOperation::Tag {
            name: name.into(),
            target: crate::plan::TagTarget::Commit(CommitSha::parse(&"c".repeat(40)).expect("sha")),
            message: None,
            target_as_written: "main".into(),
        };
        let plans = vec![
            ResolvedPlan::for_tests(vec![tag("v1")]),
            ResolvedPlan::for_tests(vec![tag("v2")]),
        ];
        let mut state = State::default();
        assert_eq!(awaiting_approval(&state, &plans).len(), 2);
        with_run(&mut state, "run_v1", 1, "2026-12-03T14:00:00Z");
        let awaiting = awaiting_approval(&state, &plans);
        assert_eq!(awaiting.len(), 1);
        assert_eq!(awaiting[0].operations[0].key(), OpKey::tag("v2"));
    }
}
