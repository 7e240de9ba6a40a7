//! Properties of `apply`, the one rule book of the audit chain (issue 3, DESIGN 8): replaying
//! any valid entry sequence gives exactly the state trees the chain writer committed, and the
//! state never depends on the wall clock, only on the entries' own times.
//!
//! Sequences are drawn from a small vocabulary of candidate events over a few run ids, receipt
//! ids and operation keys; a candidate is kept only if `apply` accepts it against the state so
//! far, so every kept sequence is valid and both the accepting and the refusing paths run.
//! Entry times start in 2001 and receipt and lock expiries lie within a year of them: all of
//! it is long past for the real clock, so an `apply` that consulted the clock would refuse
//! every consumption and let every lock be broken, which the tallies and the time-shift
//! property catch. Two more tests show that each property fails when its behaviour is absent
//! (a forged state; a rule book that reads the clock).

use std::cell::RefCell;
use std::collections::BTreeMap;

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use shipgate::audit::entry::{
    ENTRY_VERSION, Entry, Event, GENESIS_PREV, RunOperation, format_entry_time,
};
use shipgate::audit::reason::Reason;
use shipgate::audit::state::{
    ApplyError, Change, HaltRecord, OpStatus, ReceiptStatus, State, apply,
};
use shipgate::audit::store::{ChainWriter, StoreError, Tip, read_entry, read_state};
use shipgate::audit::verify::{VerifyOptions, verify_chain};
use shipgate::model::{CommentId, OpKey, ReceiptId, RunId};
use time::OffsetDateTime;

use crate::audit_support::{actor, audit_key, genesis};

/// Cases per property: each case of the chain property writes and verifies a real repository.
const CASES: u32 = 32;
/// 2001-01-01T00:00:00Z: the time of every genesis entry (before any shift).
const BASE: i64 = 978_307_200;
const DAY: i64 = 86_400;

const RUNS: [&str; 3] = ["run_0", "run_1", "run_2"];
const RECEIPTS: [&str; 12] = [
    "rcp_0", "rcp_1", "rcp_2", "rcp_3", "rcp_4", "rcp_5", "rcp_6", "rcp_7", "rcp_8", "rcp_9",
    "rcp_a", "rcp_b",
];
const OPS: [&str; 3] = ["tag:v0", "tag:v1", "release:v1"];
/// Seconds between one candidate and the next.
const ADVANCES: [i64; 4] = [0, 60, 600, 3_600];
/// Receipt lifetimes from the minting entry: already expired, short, medium, a year (2002).
const RECEIPT_LIFETIMES: [i64; 4] = [-60, 1_800, 12 * 3_600, 400 * DAY];
/// Lock lifetimes from the acquiring entry.
const LOCK_LIFETIMES: [i64; 4] = [-60, 600, 3 * 3_600, 400 * DAY];

/// One candidate event, in terms of indexes into the vocabulary. A `coherent` candidate uses
/// `pick` to choose among what the state already holds (an opened run and one of its
/// operations, a receipt not yet consumed, an operation in doubt, the lock holder), so that the
/// later steps of a receipt's life are reached often; the others name arbitrary ids.
#[derive(Debug, Clone)]
enum Step {
    Open {
        run: usize,
    },
    Mint {
        receipt: usize,
        coherent: bool,
        pick: usize,
        run: usize,
        op: usize,
        enforceable: bool,
        lifetime: usize,
    },
    Consume {
        coherent: bool,
        pick: usize,
        receipt: usize,
        run: usize,
        op: usize,
    },
    Settle {
        outcome: usize,
        coherent: bool,
        pick: usize,
        receipt: usize,
        run: usize,
        op: usize,
    },
    Deny {
        run: Option<usize>,
        op: usize,
    },
    Halt,
    Resume,
    Acquire {
        coherent: bool,
        pick: usize,
        run: usize,
        lifetime: usize,
    },
    Release {
        coherent: bool,
        run: usize,
    },
    Break {
        coherent: bool,
        run: usize,
    },
    Note,
    Approve {
        comment: u64,
    },
    MintRefused,
    /// An entry that breaks the entry rules (bad id or unreadable time).
    Malformed {
        which: usize,
    },
    /// The `pick`-th of the next steps that move the state along: resume a halt, settle an
    /// operation in doubt, consume a usable receipt, mint a receipt for an operation of an open
    /// run, open a run, take or give back the lock. Without it, random interleavings seldom
    /// reach the end of a receipt's life.
    Progress {
        pick: usize,
        outcome: usize,
        enforceable: bool,
        lifetime: usize,
    },
    /// The event of a recent kept entry (the last but `back`), proposed again: a
    /// receipt consumed twice, an outcome recorded twice, a run opened twice.
    Again {
        back: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let run = || 0..RUNS.len();
    let receipt = || 0..RECEIPTS.len();
    let op = || 0..OPS.len();
    let coherent = || prop::bool::weighted(0.8);
    let pick = || 0..1_000usize;
    prop_oneof![
        3 => run().prop_map(|run| Step::Open { run }),
        6 => (
            (receipt(), coherent(), pick()),
            (run(), op(), prop::bool::weighted(0.85), 0..RECEIPT_LIFETIMES.len()),
        )
            .prop_map(|((receipt, coherent, pick), (run, op, enforceable, lifetime))| {
                Step::Mint { receipt, coherent, pick, run, op, enforceable, lifetime }
            }),
        8 => (coherent(), pick(), receipt(), run(), op()).prop_map(
            |(coherent, pick, receipt, run, op)| Step::Consume {
                coherent,
                pick,
                receipt,
                run,
                op,
            }
        ),
        6 => (0..3usize, coherent(), pick(), receipt(), run(), op()).prop_map(
            |(outcome, coherent, pick, receipt, run, op)| Step::Settle {
                outcome,
                coherent,
                pick,
                receipt,
                run,
                op,
            }
        ),
        1 => (prop::option::of(run()), op()).prop_map(|(run, op)| Step::Deny { run, op }),
        1 => Just(Step::Halt),
        4 => Just(Step::Resume),
        3 => (coherent(), pick(), run(), 0..LOCK_LIFETIMES.len()).prop_map(
            |(coherent, pick, run, lifetime)| Step::Acquire {
                coherent,
                pick,
                run,
                lifetime,
            }
        ),
        2 => (coherent(), run()).prop_map(|(coherent, run)| Step::Release { coherent, run }),
        4 => (coherent(), run()).prop_map(|(coherent, run)| Step::Break { coherent, run }),
        1 => Just(Step::Note),
        1 => (0..1_000u64).prop_map(|comment| Step::Approve { comment }),
        1 => Just(Step::MintRefused),
        1 => (0..3usize).prop_map(|which| Step::Malformed { which }),
        3 => (0..4usize).prop_map(|back| Step::Again { back }),
        40 => (pick(), 0..3usize, prop::bool::weighted(0.9), 0..RECEIPT_LIFETIMES.len()).prop_map(
            |(pick, outcome, enforceable, lifetime)| Step::Progress {
                pick,
                outcome,
                enforceable,
                lifetime,
            }
        ),
    ]
}

/// A candidate sequence: each step with the seconds that pass before it.
fn steps() -> impl Strategy<Value = Vec<(Step, i64)>> {
    prop::collection::vec(
        (step(), (0..ADVANCES.len()).prop_map(|i| ADVANCES[i])),
        8..64,
    )
}

fn time_at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("a representable instant")
}

fn plan_id() -> String {
    format!("sha256:{}", "a".repeat(64))
}

/// Run `i` has two of the three operations, so some mints name an operation it lacks.
fn run_operations(run: usize) -> Vec<RunOperation> {
    [run, (run + 1) % OPS.len()]
        .iter()
        .zip(0u32..)
        .map(|(&op, op_index)| RunOperation {
            op_index,
            op_key: OpKey::parse(OPS[op]).expect("op key"),
        })
        .collect()
}

/// The `pick`-th of `items` (cyclically), if there are any.
fn nth<T>(items: Vec<T>, pick: usize) -> Option<T> {
    let len = items.len();
    items.into_iter().nth(pick.checked_rem(len)?)
}

fn settle_event(outcome: usize, receipt_id: ReceiptId, run_id: RunId, op_key: OpKey) -> Event {
    match outcome {
        0 => Event::OperationSucceeded {
            run_id,
            op_key,
            receipt_id,
        },
        1 => Event::OperationFailed {
            run_id,
            op_key,
            receipt_id,
            reason: "PUSH_FAILED".into(),
        },
        _ => Event::OperationRecovered {
            run_id,
            op_key,
            receipt_id,
        },
    }
}

/// The events that would move `state` along at time `at` (see [`Step::Progress`]), latest
/// stage of a receipt's life first: settle, consume, mint (and take or give back the lock), open.
fn progress(
    state: &State,
    at: i64,
    outcome: usize,
    enforceable: bool,
    lifetime: usize,
) -> Vec<Vec<Event>> {
    if state.halt.is_some() {
        return vec![vec![Event::Resumed {
            by: "admin".into(),
            comment_id: None,
        }]];
    }
    let settle = state
        .ops
        .values()
        .filter(|o| o.status == OpStatus::InDoubt)
        .map(|op| {
            settle_event(
                outcome,
                op.receipt_id.clone(),
                op.run_id.clone(),
                op.op_key.clone(),
            )
        })
        .collect();
    let now = format_entry_time(time_at(at));
    let executable = |op_key: &str| {
        state
            .ops
            .get(op_key)
            .is_none_or(|o| o.status == OpStatus::Failed)
    };
    let consume = state
        .receipts
        .values()
        .filter(|receipt| {
            // Entry times and expiries share one spelling, so they compare as text.
            receipt.status == ReceiptStatus::Minted
                && receipt.enforceable
                && now <= receipt.expires_at
                && executable(receipt.op_key.as_str())
        })
        .map(|receipt| Event::ReceiptConsumed {
            receipt_id: receipt.receipt_id.clone(),
            run_id: receipt.run_id.clone(),
            op_key: receipt.op_key.clone(),
        })
        .collect();
    let fresh = RECEIPTS
        .iter()
        .find(|id| !state.receipts.contains_key(**id));
    let mut mint = Vec::new();
    for run in state.runs.values() {
        for op in &run.operations {
            if let (Some(receipt_id), true) = (fresh, executable(op.op_key.as_str())) {
                mint.push(Event::ReceiptMinted {
                    receipt_id: ReceiptId::parse(receipt_id).expect("receipt id"),
                    run_id: run.run_id.clone(),
                    op_key: op.op_key.clone(),
                    enforceable,
                    expires_at: format_entry_time(time_at(at + RECEIPT_LIFETIMES[lifetime])),
                    receipt: None,
                });
            }
        }
        match &state.lock {
            Some(lock) if lock.run_id == run.run_id => {
                mint.push(Event::LockReleased {
                    holder: None,
                    run_id: run.run_id.clone(),
                });
                // Accepted only once the lock expired.
                mint.push(Event::LockBroken {
                    run_id: run.run_id.clone(),
                    reason: "expired".into(),
                });
            }
            Some(_) => {}
            None => mint.push(Event::LockAcquired {
                holder: None,
                run_id: run.run_id.clone(),
                expires_at: format_entry_time(time_at(at + LOCK_LIFETIMES[lifetime])),
            }),
        }
    }
    let open = RUNS
        .iter()
        .enumerate()
        .filter(|(_, run_id)| !state.runs.contains_key(**run_id))
        .map(|(run, run_id)| Event::RunOpened {
            pr: None,
            run_id: RunId::parse(run_id).expect("run id"),
            plan_id: plan_id(),
            policy_hash: "sha256:policy".into(),
            operations: run_operations(run),
        })
        .collect();
    vec![settle, consume, mint, open]
}

/// The concrete event a step stands for, given the state so far and the entry's time.
fn event(step: &Step, state: &State, kept: &[Entry], at: i64) -> Event {
    // (run, operation) of an opened run.
    let opened = |coherent: bool, pick: usize| {
        let runs = state.runs.values().filter(|_| coherent).collect();
        nth(runs, pick).map(|run| {
            let ops = run.operations.iter().map(|op| op.op_key.clone()).collect();
            let op = nth(ops, pick / 7).expect("runs have operations");
            (run.run_id.clone(), op)
        })
    };
    let lock_holder = |coherent: bool, run: usize| match &state.lock {
        Some(lock) if coherent => lock.run_id.clone(),
        _ => RunId::parse(RUNS[run]).expect("run id"),
    };
    let arbitrary = |receipt: usize, run: usize, op: usize| {
        (
            ReceiptId::parse(RECEIPTS[receipt]).expect("receipt id"),
            RunId::parse(RUNS[run]).expect("run id"),
            OpKey::parse(OPS[op]).expect("op key"),
        )
    };
    match *step {
        Step::Open { run } => Event::RunOpened {
            pr: None,
            run_id: RunId::parse(RUNS[run]).expect("run id"),
            plan_id: plan_id(),
            policy_hash: "sha256:policy".into(),
            operations: run_operations(run),
        },
        Step::Mint {
            receipt,
            coherent,
            pick,
            run,
            op,
            enforceable,
            lifetime,
        } => {
            let (run_id, op_key) = opened(coherent, pick).unwrap_or_else(|| {
                (
                    RunId::parse(RUNS[run]).expect("run id"),
                    OpKey::parse(OPS[op]).expect("op key"),
                )
            });
            Event::ReceiptMinted {
                receipt_id: ReceiptId::parse(RECEIPTS[receipt]).expect("receipt id"),
                run_id,
                op_key,
                enforceable,
                expires_at: format_entry_time(time_at(at + RECEIPT_LIFETIMES[lifetime])),
                receipt: None,
            }
        }
        Step::Consume {
            coherent,
            pick,
            receipt,
            run,
            op,
        } => {
            let unused = state
                .receipts
                .values()
                // Mostly receipts not yet used; now and then any, to try using one twice.
                .filter(|r| coherent && (r.status == ReceiptStatus::Minted || pick % 5 == 0))
                .map(|r| (r.receipt_id.clone(), r.run_id.clone(), r.op_key.clone()))
                .collect();
            let (receipt_id, run_id, op_key) =
                nth(unused, pick).unwrap_or_else(|| arbitrary(receipt, run, op));
            Event::ReceiptConsumed {
                receipt_id,
                run_id,
                op_key,
            }
        }
        Step::Settle {
            outcome,
            coherent,
            pick,
            receipt,
            run,
            op,
        } => {
            // Mostly operations in doubt; now and then a receipt not yet consumed.
            let in_doubt = state
                .ops
                .values()
                .filter(|o| coherent && pick % 4 != 0 && o.status == OpStatus::InDoubt)
                .map(|o| (o.receipt_id.clone(), o.run_id.clone(), o.op_key.clone()));
            let unused = state
                .receipts
                .values()
                .filter(|r| coherent && pick % 4 == 0 && r.status == ReceiptStatus::Minted)
                .map(|r| (r.receipt_id.clone(), r.run_id.clone(), r.op_key.clone()));
            let (receipt_id, run_id, op_key) = nth(in_doubt.chain(unused).collect(), pick)
                .unwrap_or_else(|| arbitrary(receipt, run, op));
            settle_event(outcome, receipt_id, run_id, op_key)
        }
        Step::Progress {
            pick,
            outcome,
            enforceable,
            lifetime,
        } => {
            // Half the time the latest stage that has something to do, else anything.
            let stages = progress(state, at, outcome, enforceable, lifetime);
            let choices = if pick % 2 == 0 {
                stages.into_iter().find(|stage| !stage.is_empty())
            } else {
                Some(stages.concat())
            };
            choices
                .and_then(|events| nth(events, pick / 2))
                .unwrap_or(Event::Note {
                    message: "nothing to do".into(),
                })
        }
        Step::Again { back } => kept.iter().skip(1).rev().nth(back).map_or(
            Event::Note {
                message: "nothing to repeat".into(),
            },
            |entry| entry.event.clone(),
        ),
        Step::Deny { run, op } => Event::OperationDenied {
            run_id: run.map(|run| RunId::parse(RUNS[run]).expect("run id")),
            op_key: OpKey::parse(OPS[op]).expect("op key"),
            reason: "POLICY_DENIED".into(),
        },
        Step::Halt => Event::Halted {
            by: "admin".into(),
            reason: "incident".into(),
            comment_id: None,
        },
        Step::Resume => Event::Resumed {
            by: "admin".into(),
            comment_id: None,
        },
        Step::Acquire {
            coherent,
            pick,
            run,
            lifetime,
        } => Event::LockAcquired {
            holder: None,
            run_id: opened(coherent, pick)
                .map_or_else(|| RunId::parse(RUNS[run]).expect("run id"), |(run, _)| run),
            expires_at: format_entry_time(time_at(at + LOCK_LIFETIMES[lifetime])),
        },
        Step::Release { coherent, run } => Event::LockReleased {
            holder: None,
            run_id: lock_holder(coherent, run),
        },
        Step::Break { coherent, run } => Event::LockBroken {
            run_id: lock_holder(coherent, run),
            reason: "expired".into(),
        },
        Step::Note => Event::Note {
            message: "a note".into(),
        },
        Step::Approve { comment } => Event::ApprovalRecorded {
            plan_id: plan_id(),
            login: "bob".into(),
            comment_id: CommentId::new(comment),
        },
        Step::MintRefused => Event::MintRefused {
            plan_id: plan_id(),
            reason: "QUORUM_NOT_MET".into(),
        },
        Step::Malformed { which } => match which {
            // A run id such as `../run` can no longer be built (RunId checks it); a lock
            // holder is still checked by the rules.
            0 => Event::LockAcquired {
                holder: Some("../exe".into()),
                run_id: RunId::parse(RUNS[0]).expect("run id"),
                expires_at: "2030-01-01T00:00:00Z".into(),
            },
            1 => Event::ReceiptMinted {
                receipt_id: ReceiptId::parse(RECEIPTS[0]).expect("receipt id"),
                run_id: RunId::parse(RUNS[0]).expect("run id"),
                op_key: OpKey::parse(OPS[0]).expect("op key"),
                enforceable: true,
                expires_at: "next tuesday".into(),
                receipt: None,
            },
            _ => Event::LockAcquired {
                holder: None,
                run_id: RunId::parse(RUNS[0]).expect("run id"),
                expires_at: "soon".into(),
            },
        },
    }
}

/// A rule book: [`apply`], or a broken one that the properties must catch.
type Rules = fn(&State, &Entry) -> Result<Vec<Change>, ApplyError>;

/// What happened to one candidate: its event kind, and `None` if accepted or the refusal.
type Outcome = (&'static str, Option<Reason>);

/// A candidate sequence filtered through a rule book.
struct Replay {
    /// The kept entries, genesis first, chained by hash exactly as a chain writer would.
    entries: Vec<Entry>,
    /// `states[i]`: the fold of the rule book over `entries[..=i]`.
    states: Vec<State>,
    /// One per candidate (genesis excluded).
    outcomes: Vec<Outcome>,
}

fn entry(seq: u64, prev: String, at: i64, event: Event) -> Entry {
    Entry {
        version: ENTRY_VERSION,
        seq,
        prev,
        at: format_entry_time(time_at(at)),
        actor: actor(),
        event,
    }
}

/// Keeps the candidates `rules` accepts, with every time (entry times and the expiries they
/// carry) moved by `shift` seconds.
fn replay(steps: &[(Step, i64)], shift: i64, rules: Rules) -> Replay {
    let mut at = BASE + shift;
    let first = entry(0, GENESIS_PREV.to_owned(), at, genesis("audit-1"));
    let mut state = State::default();
    state.commit(rules(&state, &first).expect("genesis is accepted"));
    let mut prev = first.clone().seal().expect("seal").hash;
    let mut entries = vec![first];
    let mut states = vec![state.clone()];
    let mut outcomes = Vec::new();
    for (step, advance) in steps {
        at += advance;
        let candidate = entry(
            entries.len() as u64,
            prev.clone(),
            at,
            event(step, &state, &entries, at),
        );
        let kind = candidate.event.kind();
        match rules(&state, &candidate) {
            Ok(changes) => {
                state.commit(changes);
                prev = candidate.clone().seal().expect("seal").hash;
                entries.push(candidate);
                states.push(state.clone());
                outcomes.push((kind, None));
            }
            Err(refusal) => outcomes.push((kind, Some(refusal.reason))),
        }
    }
    Replay {
        entries,
        states,
        outcomes,
    }
}

/// Folds `rules` over entries that must all be accepted.
fn fold(entries: &[Entry], rules: Rules) -> Result<Vec<State>, String> {
    let mut state = State::default();
    let mut states = Vec::new();
    for entry in entries {
        let changes = rules(&state, entry).map_err(|e| format!("seq {}: {e}", entry.seq))?;
        state.commit(changes);
        states.push(state.clone());
    }
    Ok(states)
}

/// Every blob of a commit's tree, by path: the bytes actually committed.
fn tree_files(repo: &Repository, commit: Oid) -> BTreeMap<String, Vec<u8>> {
    let tree = repo
        .find_commit(commit)
        .expect("commit")
        .tree()
        .expect("tree");
    let mut files = BTreeMap::new();
    tree.walk(TreeWalkMode::PreOrder, |dir, item| {
        if item.kind() == Some(ObjectType::Blob) {
            let blob = repo.find_blob(item.id()).expect("blob");
            let name = String::from_utf8_lossy(item.name_bytes());
            files.insert(format!("{dir}{name}"), blob.content().to_vec());
        }
        TreeWalkResult::Ok
    })
    .expect("walk");
    files
}

/// Writes the replay's entries with a chain writer into a fresh bare repository and checks
/// every commit against the fold, then verifies the whole chain.
fn check_against_chain(replay: &Replay) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repository::init_bare(dir.path().join("chain.git")).expect("init");
    let (key, signer) = audit_key("audit-1");
    let mut commits = Vec::new();
    {
        let writer_repo = Repository::open(repo.path()).expect("open");
        let odb = writer_repo.odb().expect("odb");
        let mut writer = ChainWriter::new(&writer_repo, &odb, &key).expect("writer");
        let mut writer_state = State::default();
        let mut tip: Option<Tip> = None;
        for entry in &replay.entries {
            let at = entry.at_time().expect("entry time");
            let next = writer
                .append(
                    tip.as_ref(),
                    &mut writer_state,
                    &entry.actor,
                    at,
                    entry.event.clone(),
                )
                .map_err(|e| TestCaseError::fail(format!("seq {}: {e}", entry.seq)))?;
            commits.push(next.commit);
            tip = Some(next);
        }
        writer.flush().expect("flush");
    }
    prop_assert_eq!(commits.len(), replay.entries.len());
    for ((commit, entry), folded) in commits.iter().zip(&replay.entries).zip(&replay.states) {
        let written = read_entry(&repo, *commit).expect("entry reads back");
        prop_assert_eq!(
            &written.entry,
            entry,
            "the commit carries the replayed entry"
        );
        let committed = read_state(&repo, *commit).expect("state reads back");
        prop_assert_eq!(
            &committed,
            folded,
            "seq {}: tree state differs from the fold",
            entry.seq
        );
        prop_assert_eq!(
            tree_files(&repo, *commit),
            folded.files(),
            "seq {}: tree files differ from the fold's files",
            entry.seq
        );
    }
    crate::audit_view::check_views(&repo, &commits, &replay.entries)?;
    crate::audit_view::check_written_through_views(&key, &replay.entries, &commits)?;
    let head = *commits.last().expect("genesis at least");
    let verified = verify_chain(
        &repo,
        head,
        &VerifyOptions {
            threads: 2,
            ..VerifyOptions::whole_chain(&[signer])
        },
    )
    .map_err(|e| TestCaseError::fail(format!("the chain does not verify: {e}")))?;
    prop_assert_eq!(verified.entries_checked, commits.len() as u64);
    prop_assert_eq!(verified.head_seq, Some(commits.len() as u64 - 1));
    Ok(())
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Counts of candidate outcomes over a whole property run, so that the properties are shown to
/// hold over sequences that really exercise the rules rather than vacuously.
#[derive(Default)]
struct Tally {
    cases: u64,
    candidates: u64,
    accepted: u64,
    by_outcome: BTreeMap<(&'static str, &'static str), u64>,
}

impl Tally {
    fn record(&mut self, replay: &Replay) {
        self.cases += 1;
        for (kind, refusal) in &replay.outcomes {
            self.candidates += 1;
            self.accepted += u64::from(refusal.is_none());
            let outcome = refusal.map_or("accepted", Reason::code);
            *self.by_outcome.entry((*kind, outcome)).or_default() += 1;
        }
    }

    fn count(&self, kind: &str, outcome: &str) -> u64 {
        self.by_outcome.get(&(kind, outcome)).copied().unwrap_or(0)
    }

    fn assert_healthy(&self) {
        let summary = format!(
            "{} cases, {} candidates, {} accepted: {:?}",
            self.cases, self.candidates, self.accepted, self.by_outcome
        );
        eprintln!("{summary}");
        assert_eq!(self.cases, u64::from(CASES), "{summary}");
        assert!(
            self.accepted * 10 >= self.candidates * 3,
            "fewer than 30% accepted: {summary}"
        );
        assert!(
            self.accepted * 10 <= self.candidates * 8,
            "fewer than 20% refused: {summary}"
        );
        for kind in [
            "run_opened",
            "receipt_minted",
            "receipt_consumed",
            "operation_succeeded",
            "operation_failed",
            "operation_recovered",
            "operation_denied",
            "halted",
            "resumed",
            "lock_acquired",
            "lock_released",
            "lock_broken",
            "note",
            "approval_recorded",
            "mint_refused",
        ] {
            assert!(
                self.count(kind, "accepted") > 0,
                "no {kind} accepted: {summary}"
            );
        }
        // The time-dependent decisions went both ways, though every expiry is years in the past
        // of the real clock: receipts consumed before they expired (above) and refused after;
        // locks broken after they expired (above) and refused before.
        for (kind, outcome) in [
            ("receipt_consumed", Reason::ReceiptExpired.code()),
            ("lock_broken", Reason::LockNotExpired.code()),
        ] {
            assert!(
                self.count(kind, outcome) > 0,
                "no {kind} refused with {outcome}: {summary}"
            );
        }
        let reasons: std::collections::BTreeSet<_> = self
            .by_outcome
            .keys()
            .map(|(_, outcome)| *outcome)
            .filter(|outcome| *outcome != "accepted")
            .collect();
        assert!(
            reasons.len() >= 12,
            "only {} refusal reasons: {summary}",
            reasons.len()
        );
    }
}

/// Property A: for every commit of a chain written from any valid sequence, the state its tree
/// holds is the fold of `apply` over the entries up to it, and the chain verifies.
#[test]
fn replaying_any_valid_sequence_gives_the_incremental_trees() {
    let tally = RefCell::new(Tally::default());
    let result = runner().run(&steps(), |steps| {
        let replay = replay(&steps, 0, apply);
        tally.borrow_mut().record(&replay);
        check_against_chain(&replay)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    tally.into_inner().assert_healthy();
}

/// Moves every time field of a state by `shift` seconds.
fn shifted(state: &State, shift: i64) -> State {
    let move_time = |text: &str| format_entry_time(at(text) + time::Duration::seconds(shift));
    let mut state = state.clone();
    if let Some(halt) = &mut state.halt {
        halt.since = move_time(&halt.since);
    }
    if let Some(lock) = &mut state.lock {
        lock.acquired_at = move_time(&lock.acquired_at);
        lock.expires_at = move_time(&lock.expires_at);
    }
    for receipt in state.receipts.values_mut() {
        receipt.expires_at = move_time(&receipt.expires_at);
    }
    state
}

/// Property B, for a rule book: see [`the_state_depends_on_time_only_through_the_entries`].
fn time_property(rules: Rules, tally: &RefCell<Tally>) -> Result<(), String> {
    let shift = prop_oneof![Just(0i64), -900_000_000i64..8_000_000_000i64];
    runner()
        .run(&(steps(), shift), |(steps, shift)| {
            let original = replay(&steps, 0, rules);
            let moved = replay(&steps, shift, rules);
            tally.borrow_mut().record(&original);
            prop_assert_eq!(&original.outcomes, &moved.outcomes, "shift {}", shift);
            prop_assert_eq!(original.states.len(), moved.states.len());
            for (index, (before, after)) in original.states.iter().zip(&moved.states).enumerate() {
                prop_assert_eq!(
                    &shifted(before, shift),
                    after,
                    "seq {}, shift {}",
                    index,
                    shift
                );
            }
            let entries = original.entries.clone();
            let again = std::thread::spawn(move || fold(&entries, rules))
                .join()
                .expect("the fold thread finishes")
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(&again, &original.states);
            Ok(())
        })
        .map_err(|failure| failure.to_string())
}

/// Property B: the state depends on time only through the entries. Moving every time of a
/// candidate sequence (entry times and the expiries they carry) by the same amount, anywhere
/// from 1972 to 2254 (so, usually, across today), makes exactly the same decisions with the
/// same reasons, and states that differ only in their time fields (halt since, lock times,
/// receipt expiries), by that amount; and folding the kept entries again later, on another
/// thread, gives the same states.
#[test]
fn the_state_depends_on_time_only_through_the_entries() {
    let tally = RefCell::new(Tally::default());
    if let Err(failure) = time_property(apply, &tally) {
        panic!("{failure}");
    }
    tally.into_inner().assert_healthy();
}

/// `apply` as it would be if it judged by the clock instead of the entry's `at`.
fn apply_by_the_clock(state: &State, entry: &Entry) -> Result<Vec<Change>, ApplyError> {
    let now = Entry {
        at: format_entry_time(OffsetDateTime::now_utc()),
        ..entry.clone()
    };
    apply(state, &now)
}

/// Property B is not vacuous: a rule book that reads the clock fails it.
#[test]
fn the_time_property_catches_a_rule_book_that_reads_the_clock() {
    let failure = time_property(apply_by_the_clock, &RefCell::new(Tally::default()))
        .expect_err("a clock-reading apply must fail the time property");
    assert!(failure.contains("Test failed"), "{failure}");
}

/// Property A is not vacuous: a fold that disagrees with the written trees in one state fails
/// it, whichever commit it is.
#[test]
fn the_chain_property_catches_a_state_that_disagrees_with_the_tree() {
    let progress = |pick| Step::Progress {
        pick,
        outcome: 0,
        enforceable: true,
        lifetime: 3,
    };
    // Open, mint, consume, settle: pick 0 always takes the latest stage.
    let steps: Vec<(Step, i64)> = (0..8).map(|_| (progress(0), 60)).collect();
    let honest = replay(&steps, 0, apply);
    assert!(honest.outcomes.iter().all(|(_, refusal)| refusal.is_none()));
    assert!(honest.states.last().is_some_and(|s| !s.ops.is_empty()));
    if let Err(failure) = check_against_chain(&honest) {
        panic!("the honest replay fails: {failure}");
    }
    for index in [1, honest.states.len() / 2, honest.states.len() - 1] {
        let mut forged = Replay {
            entries: honest.entries.clone(),
            states: honest.states.clone(),
            outcomes: honest.outcomes.clone(),
        };
        let state = &mut forged.states[index];
        if state.runs.pop_last().is_none() {
            state.halt = Some(HaltRecord {
                by: "nobody".into(),
                reason: "forged".into(),
                since: forged.entries[index].at.clone(),
                seq: index as u64,
            });
        }
        assert!(
            check_against_chain(&forged).is_err(),
            "a forged state at seq {index} went unnoticed"
        );
    }
}

fn at(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).expect("time")
}

fn refusal(result: Result<(), StoreError>) -> Reason {
    match result {
        Err(StoreError::Refused(refusal)) => refusal.reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The hinted case, spelled out: entries in 2001, expiries in 2002 (long past for the real
/// clock) and 2200 (long ahead of it). Each decision goes the way the entry times say and the
/// opposite way from what the clock would say, and the resulting chain verifies.
#[test]
fn expiries_are_judged_by_entry_time_never_by_the_clock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repository::init_bare(dir.path().join("chain.git")).expect("init");
    let (key, signer) = audit_key("audit-1");
    let writer_repo = Repository::open(repo.path()).expect("open");
    let odb = writer_repo.odb().expect("odb");
    let mut writer = ChainWriter::new(&writer_repo, &odb, &key).expect("writer");
    let mut state = State::default();
    let mut tip: Option<Tip> = None;
    let mut append = |when: &str, event: Event| -> Result<(), StoreError> {
        tip = Some(writer.append(tip.as_ref(), &mut state, &actor(), at(when), event)?);
        Ok(())
    };
    let mint = |receipt_id: &str, op_key: &str, expires_at: &str| Event::ReceiptMinted {
        receipt_id: ReceiptId::parse(receipt_id).expect("receipt id"),
        run_id: RunId::parse("run_0").expect("run id"),
        op_key: OpKey::parse(op_key).expect("op key"),
        enforceable: true,
        expires_at: expires_at.into(),
        receipt: None,
    };
    let consume = |receipt_id: &str, op_key: &str| Event::ReceiptConsumed {
        receipt_id: ReceiptId::parse(receipt_id).expect("receipt id"),
        run_id: RunId::parse("run_0").expect("run id"),
        op_key: OpKey::parse(op_key).expect("op key"),
    };
    let broken = || Event::LockBroken {
        run_id: RunId::parse("run_0").expect("run id"),
        reason: "expired".into(),
    };
    let open = Event::RunOpened {
        pr: None,
        run_id: RunId::parse("run_0").expect("run id"),
        plan_id: plan_id(),
        policy_hash: "sha256:policy".into(),
        operations: run_operations(0),
    };
    let lock = Event::LockAcquired {
        holder: None,
        run_id: RunId::parse("run_0").expect("run id"),
        expires_at: "2002-01-01T00:00:00Z".into(),
    };
    for (when, event) in [
        ("2001-03-01T00:00:00Z", genesis("audit-1")),
        ("2001-03-01T00:01:00Z", open),
        (
            "2001-03-01T00:02:00Z",
            mint("rcp_0", OPS[0], "2002-01-01T00:00:00Z"),
        ),
        ("2001-03-01T00:03:00Z", lock),
        (
            "2001-03-01T00:04:00Z",
            mint("rcp_1", OPS[1], "2200-01-01T00:00:00Z"),
        ),
        // Expired for the clock, not for the entry: consumed.
        ("2001-03-02T00:00:00Z", consume("rcp_0", OPS[0])),
    ] {
        append(when, event).expect("accepted");
    }
    // Expired for the clock, not for the entry: the lock stands.
    let early = append("2001-03-02T00:01:00Z", broken());
    assert_eq!(refusal(early), Reason::LockNotExpired);
    // Valid for the clock, expired for the entry: refused.
    let late = append("2200-01-01T00:00:01Z", consume("rcp_1", OPS[1]));
    assert_eq!(refusal(late), Reason::ReceiptExpired);
    // Expired for the entry: broken.
    append("2002-01-01T00:00:01Z", broken()).expect("broken");
    writer.flush().expect("flush");
    let head = tip.expect("a tip").commit;

    let committed = read_state(&repo, head).expect("state");
    assert_eq!(committed, state);
    assert_eq!(committed.lock, None);
    assert_eq!(committed.receipts["rcp_0"].consumed_seq, Some(5));
    assert_eq!(committed.receipts["rcp_1"].consumed_seq, None);
    assert!(committed.ops.contains_key(OPS[0]));
    assert!(!committed.ops.contains_key(OPS[1]));
    let verified = verify_chain(
        &repo,
        head,
        &VerifyOptions {
            threads: 2,
            ..VerifyOptions::whole_chain(&[signer])
        },
    )
    .expect("the chain verifies");
    assert_eq!(verified.head_seq, Some(6));
}
