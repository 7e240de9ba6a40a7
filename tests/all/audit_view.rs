//! The state view that appends check against (`audit::view`): it answers every lookup exactly as
//! the whole state read from the same commit does, a chain written through views is the chain
//! written from whole states (the `audit_apply` properties call [`check_views`] on every
//! generated chain), and a state file that fails to load stops the append instead of passing
//! for an absent record.

use git2::{Oid, Repository};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shipgate::audit::append::AppendError;
use shipgate::audit::entry::{Entry, Event, RunOperation};
use shipgate::audit::state::{State, StateAccess, apply, run_path};
use shipgate::audit::store::{ChainWriter, StoreError, Tip, read_state, write_commit};
use shipgate::audit::verify::VerifyError;
use shipgate::audit::view::StateView;
use shipgate::keys::SigningKey;
use shipgate::model::{OpKey, ReceiptId, RunId};

use crate::audit_support::{LocalChain, RemoteFixture, TestClock, append_event, git, note};

fn run_id(text: &str) -> RunId {
    RunId::parse(text).expect("run id")
}

/// Every lookup of `view` agrees with `state`, for the records it holds and for absent ones,
/// whichever order the lookups come in.
fn same_answers(view: &StateView<'_>, state: &State) -> Result<(), TestCaseError> {
    prop_assert_eq!(view.halt(), state.halt.clone());
    prop_assert_eq!(view.lock(), state.lock.clone());
    for id in state.runs.keys().take(2) {
        prop_assert_eq!(view.run(id), state.runs.get(id).cloned());
    }
    prop_assert_eq!(view.run(&run_id("run_absent")), None);
    prop_assert_eq!(
        view.runs(),
        state.runs.values().cloned().collect::<Vec<_>>()
    );
    for id in state.runs.keys().cloned().chain([run_id("run_absent_too")]) {
        prop_assert_eq!(view.run(&id), state.runs.get(&id).cloned());
    }
    for id in state
        .receipts
        .keys()
        .cloned()
        .chain([ReceiptId::parse("rcp_absent").unwrap()])
    {
        prop_assert_eq!(view.receipt(&id), state.receipts.get(&id).cloned());
    }
    for key in state.ops.keys().cloned().chain([OpKey::tag("absent")]) {
        prop_assert_eq!(view.op(&key), state.ops.get(&key).cloned());
    }
    view.check()
        .map_err(|e| TestCaseError::fail(format!("a lookup failed: {e}")))?;
    Ok(())
}

/// At every commit of a chain, the view answers as the state read back whole; and a view
/// carried from one commit over the next entry's changes answers as the next state.
pub fn check_views(
    repo: &Repository,
    commits: &[Oid],
    entries: &[Entry],
) -> Result<(), TestCaseError> {
    for (index, commit) in commits.iter().enumerate() {
        let state = read_state(repo, *commit).expect("state reads back");
        let view = StateView::new(repo, Some(*commit)).expect("view");
        same_answers(&view, &state)?;
        if let (Some(next_commit), Some(next)) = (commits.get(index + 1), entries.get(index + 1)) {
            let mut carried = StateView::new(repo, Some(*commit)).expect("view");
            let changes = apply(&carried, next)
                .map_err(|e| TestCaseError::fail(format!("seq {}: {e}", next.seq)))?;
            carried.commit(changes);
            let next_state = read_state(repo, *next_commit).expect("state reads back");
            same_answers(&carried, &next_state)?;
        }
    }
    Ok(())
}

/// Writes `entries` again with a chain writer that checks them against views (carried from
/// entry to entry, and now and then opened afresh at the tip, as a new append attempt does):
/// the commits are exactly `commits` (signatures are deterministic).
pub fn check_written_through_views(
    key: &SigningKey,
    entries: &[Entry],
    commits: &[Oid],
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repository::init_bare(dir.path().join("chain.git")).expect("init");
    let odb = repo.odb().expect("odb");
    let mut writer = ChainWriter::new(&repo, &odb, key).expect("writer");
    let mut view = StateView::new(&repo, None).expect("view");
    let mut tip: Option<Tip> = None;
    for (index, (entry, commit)) in entries.iter().zip(commits).enumerate() {
        if index % 3 == 2 {
            view = StateView::new(&repo, tip.as_ref().map(|t| t.commit)).expect("view");
        }
        let at = entry.at_time().expect("entry time");
        let next = writer
            .append(
                tip.as_ref(),
                &mut view,
                &entry.actor,
                at,
                entry.event.clone(),
            )
            .map_err(|e| TestCaseError::fail(format!("seq {}: {e}", entry.seq)))?;
        view.check()
            .map_err(|e| TestCaseError::fail(format!("a lookup failed: {e}")))?;
        prop_assert_eq!(next.commit, *commit, "seq {}", entry.seq);
        tip = Some(next);
    }
    Ok(())
}

fn opened(run_id: &str) -> Event {
    Event::RunOpened {
        pr: None,
        run_id: RunId::parse(run_id).expect("run id"),
        plan_id: format!("sha256:{}", "a".repeat(64)),
        policy_hash: "sha256:p".into(),
        operations: vec![RunOperation {
            op_index: 0,
            op_key: OpKey::parse("tag:v1").expect("op key"),
        }],
    }
}

/// A note on the chain's head, signed by its key, whose tree has one run file replaced by
/// other bytes.
fn with_forged_run_file(chain: &LocalChain, run_id: &str, bytes: &[u8]) -> Oid {
    let repo = &chain.repo;
    let head = *chain.commits.last().expect("head");
    let blob = repo.blob(bytes).expect("blob");
    let mut builder = git2::build::TreeUpdateBuilder::new();
    builder.upsert(run_path(&self::run_id(run_id)), blob, git2::FileMode::Blob);
    let base = repo
        .find_commit(head)
        .expect("commit")
        .tree()
        .expect("tree");
    let tree = builder.create_updated(repo, &base).expect("tree");
    let previous = chain.entry(chain.commits.len() - 1);
    let entry = Entry {
        seq: previous.entry.seq + 1,
        prev: previous.hash.clone(),
        event: note("a forged run file"),
        ..previous.entry.clone()
    };
    let sealed = entry.seal().expect("seal");
    write_commit(repo, &[head], tree, &sealed, Some(&chain.key)).expect("commit")
}

#[test]
fn a_state_file_that_does_not_load_is_an_error_not_an_absent_record() {
    let chain = LocalChain::build(vec![opened("run_1")]);
    let forged = with_forged_run_file(&chain, "run_1", b"{\"not\": \"a run\"}\n");
    let view = StateView::new(&chain.repo, Some(forged)).expect("view");
    assert_eq!(view.run(&run_id("run_1")), None);
    let failure = view.check().expect_err("the bad file is reported");
    assert!(matches!(failure, StoreError::State { .. }), "{failure}");
    // A scan over every run stops the same way.
    let view = StateView::new(&chain.repo, Some(forged)).expect("view");
    assert!(view.runs().is_empty());
    assert!(matches!(view.check(), Err(StoreError::State { .. })));
    // Records the check never touches are not read: the halt lookup is fine.
    let view = StateView::new(&chain.repo, Some(forged)).expect("view");
    assert_eq!(view.halt(), None);
    view.check().expect("nothing failed");
}

#[test]
fn lookups_of_ids_that_cannot_name_a_state_file_find_nothing() {
    let chain = LocalChain::build(vec![opened("run_1")]);
    let head = *chain.commits.last().expect("head");
    let view = StateView::new(&chain.repo, Some(head)).expect("view");
    // Text that would name another path is no id at all; an id that merely looks like a
    // file name finds nothing.
    for text in ["", "../run_1", "run_1/..", "a//b", "/run_1", "."] {
        assert!(RunId::parse(text).is_err(), "{text:?}");
        assert!(ReceiptId::parse(text).is_err(), "{text:?}");
        assert!(OpKey::parse(text).is_none(), "{text:?}");
    }
    assert_eq!(view.run(&run_id("run_1.json")), None);
    assert_eq!(view.receipt(&ReceiptId::parse("rcp_1.json").unwrap()), None);
    assert_eq!(view.op(&OpKey::tag("run_1.json")), None);
    view.check().expect("absent, not failed");
    assert_eq!(
        view.run(&run_id("run_1")).map(|r| r.run_id.to_string()),
        Some("run_1".into())
    );
}

#[test]
fn an_append_refuses_to_build_on_a_state_file_that_does_not_load() {
    let chain = LocalChain::build(vec![opened("run_1")]);
    let forged = with_forged_run_file(&chain, "run_1", b"garbage");
    let fixture = RemoteFixture::new();
    let remote = fixture.remote();
    let pushed = git(
        chain.repo.path(),
        &[
            "push",
            "--quiet",
            remote.to_str().expect("utf-8"),
            &format!("{forged}:refs/heads/shipgate/audit"),
        ],
    );
    assert!(pushed.status.success(), "{pushed:?}");
    let work = fixture.work("work");
    let mint = |_: &StateView<'_>| {
        Ok(Event::ReceiptMinted {
            receipt_id: ReceiptId::parse("rcp_1").expect("receipt id"),
            run_id: RunId::parse("run_1").expect("run id"),
            op_key: OpKey::parse("tag:v1").expect("op key"),
            enforceable: true,
            expires_at: "2099-01-01T00:00:00Z".into(),
            receipt: None,
        })
    };
    let refused = append_event(&work, &chain.key, &TestClock::new(), mint)
        .expect_err("the run file does not load");
    // The head's tree is not the replayed state: verification refuses it before any record
    // of it is read.
    assert!(
        matches!(&refused, AppendError::Untrusted(e) if matches!(e.as_ref(), VerifyError::Invalid(_))),
        "{refused}"
    );
    assert_eq!(fixture.head(), forged, "nothing was appended");
}
