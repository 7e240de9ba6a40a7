//! [`apply`]: the rules each event must follow, one function per event kind, and the
//! changes it makes to the state. Pure: the only time it knows is the entry's `at`, and it
//! reads the state one record at a time through [`StateAccess`].
//!
//! The file passes 600 lines only by its unit tests; the code is about 540 lines.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{
    ApplyError, Change, HaltRecord, LayoutRecord, LockRecord, OpRecord, OpStatus, PolicyRecord,
    RUNS_FAN_OUT, ReceiptRecord, ReceiptStatus, RevokeMark, RevokesRecord, RunRecord, StateAccess,
    run_change,
};
use crate::audit::entry::{Entry, Event};
use crate::audit::reason::Reason;
use crate::model::{OpKey, ReceiptId, RunId};

fn refuse(reason: Reason, detail: impl Into<String>) -> ApplyError {
    ApplyError {
        reason,
        detail: detail.into(),
    }
}

fn check_id(what: &str, id: &str) -> Result<(), ApplyError> {
    let ok = (1..=128).contains(&id.len())
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(refuse(
            Reason::EntryInvalid,
            format!("{what} `{id}` must be 1-128 letters, digits, '_', '-' or '.'"),
        ))
    }
}

fn parse_time(what: &str, text: &str) -> Result<OffsetDateTime, ApplyError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        refuse(
            Reason::EntryInvalid,
            format!("{what} `{text}` is not RFC 3339"),
        )
    })
}

/// The changes `entry` makes to `state`, or why it may not follow it. Pure: the only time it
/// knows is the entry's `at`. One function per event kind; events that only record (notes,
/// approvals, denials, refusals) change nothing.
pub fn apply<S: StateAccess + ?Sized>(state: &S, entry: &Entry) -> Result<Vec<Change>, ApplyError> {
    let at = parse_time("at", &entry.at)?;
    let seq = entry.seq;
    match &entry.event {
        Event::Genesis { state_layout, .. } => start_layout(*state_layout),
        Event::StateMigrated { layout } => migrate(state, *layout, seq),
        Event::Note { .. }
        | Event::ApprovalRecorded { .. }
        | Event::OperationDenied { .. }
        | Event::MintRefused { .. } => Ok(Vec::new()),
        Event::RunOpened {
            run_id,
            plan_id,
            policy_hash,
            operations,
            pr,
        } => open_run(
            state,
            RunRecord {
                run_id: run_id.clone(),
                plan_id: plan_id.clone(),
                policy_hash: policy_hash.clone(),
                operations: operations.clone(),
                pr: *pr,
                seq,
            },
        ),
        Event::ReceiptMinted {
            receipt_id,
            run_id,
            op_key,
            enforceable,
            expires_at,
            receipt,
        } => mint_receipt(
            state,
            ReceiptRecord {
                receipt_id: receipt_id.clone(),
                run_id: run_id.clone(),
                op_key: op_key.clone(),
                enforceable: *enforceable,
                expires_at: expires_at.clone(),
                status: ReceiptStatus::Minted,
                minted_seq: seq,
                consumed_seq: None,
                document: receipt.clone(),
            },
        ),
        Event::ReceiptConsumed {
            receipt_id,
            run_id,
            op_key,
        } => consume_receipt(state, receipt_id, run_id, op_key, at, seq),
        Event::OperationSucceeded {
            run_id,
            op_key,
            receipt_id,
        } => settle(state, run_id, op_key, receipt_id, OpStatus::Succeeded, seq),
        Event::OperationFailed {
            run_id,
            op_key,
            receipt_id,
            ..
        } => settle(state, run_id, op_key, receipt_id, OpStatus::Failed, seq),
        Event::OperationRecovered {
            run_id,
            op_key,
            receipt_id,
        } => settle(state, run_id, op_key, receipt_id, OpStatus::Recovered, seq),
        Event::ApprovalRevoked {
            plan_id,
            login,
            comment_id,
            written_at,
        } => record_revoke(
            state,
            plan_id,
            RevokeMark {
                login: login.clone(),
                comment_id: *comment_id,
                written_at: written_at.clone(),
            },
        ),
        Event::PolicyChanged { from, to } => change_policy(state, from.as_deref(), to, seq),
        Event::Halted { by, reason, .. } => halt(
            state,
            HaltRecord {
                by: by.clone(),
                reason: reason.clone(),
                since: entry.at.clone(),
                seq,
            },
        ),
        Event::Resumed { .. } => resume(state),
        Event::ShipRequested { run_id, .. } => request_ship(state, run_id),
        Event::ReleasePublished { run_id, op_key, .. } => {
            publish_release(state, run_id, op_key, seq)
        }
        Event::LockAcquired {
            run_id,
            holder,
            expires_at,
        } => acquire_lock(
            state,
            LockRecord {
                run_id: run_id.clone(),
                holder: holder.clone(),
                acquired_at: entry.at.clone(),
                expires_at: expires_at.clone(),
                seq,
            },
        ),
        Event::LockReleased { run_id, holder } => release_lock(state, run_id, holder.as_deref()),
        Event::LockBroken { run_id, .. } => break_lock(state, run_id, at),
    }
}

/// `run_opened`: a new run, never while halted, never twice.
fn open_run<S: StateAccess + ?Sized>(state: &S, run: RunRecord) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_some() {
        return Err(refuse(
            Reason::Halted,
            format!("cannot open run {}", run.run_id),
        ));
    }
    if state.run(&run.run_id).is_some() {
        return Err(refuse(Reason::RunExists, run.run_id.to_string()));
    }
    Ok(vec![run_change(state.layout().as_ref(), run)])
}

/// The layout a genesis names: only [`RUNS_FAN_OUT`], or none (the flat runs of older chains).
fn start_layout(state_layout: Option<u32>) -> Result<Vec<Change>, ApplyError> {
    match state_layout {
        None => Ok(Vec::new()),
        Some(RUNS_FAN_OUT) => Ok(vec![Change::Layout(LayoutRecord {
            version: RUNS_FAN_OUT,
            seq: 0,
        })]),
        Some(other) => Err(unknown_layout(other)),
    }
}

fn unknown_layout(layout: u32) -> ApplyError {
    refuse(
        Reason::EntryInvalid,
        format!("state layout {layout} is unknown (only {RUNS_FAN_OUT}, runs fanned out)"),
    )
}

/// `state_migrated`: once, from the flat runs to their fan-out paths. Every run moves in this
/// one entry, so its tree is the whole state in the new layout, checked like any other.
fn migrate<S: StateAccess + ?Sized>(
    state: &S,
    layout: u32,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    if layout != RUNS_FAN_OUT {
        return Err(unknown_layout(layout));
    }
    if let Some(current) = state.layout() {
        return Err(refuse(
            Reason::EntryInvalid,
            format!(
                "the state is already in layout {} (since entry {})",
                current.version, current.seq
            ),
        ));
    }
    let mut changes = Vec::new();
    for run in state.runs() {
        changes.push(Change::FlatRunRemoved(run.run_id.clone()));
        changes.push(Change::Run(run));
    }
    changes.push(Change::Layout(LayoutRecord {
        version: RUNS_FAN_OUT,
        seq,
    }));
    Ok(changes)
}

/// `receipt_minted`: a receipt of an open run's operation, carrying a document that agrees
/// with the entry, never while halted, never twice.
fn mint_receipt<S: StateAccess + ?Sized>(
    state: &S,
    receipt: ReceiptRecord,
) -> Result<Vec<Change>, ApplyError> {
    let ReceiptRecord {
        receipt_id,
        run_id,
        op_key,
        ..
    } = &receipt;
    parse_time("expires_at", &receipt.expires_at)?;
    if let Some(document) = &receipt.document {
        check_receipt_document(
            document,
            receipt_id,
            run_id,
            op_key,
            receipt.enforceable,
            &receipt.expires_at,
        )?;
    }
    if state.halt().is_some() {
        return Err(refuse(Reason::Halted, format!("cannot mint {receipt_id}")));
    }
    if state.receipt(receipt_id).is_some() {
        return Err(refuse(Reason::ReceiptExists, receipt_id.to_string()));
    }
    let run = state
        .run(run_id)
        .ok_or_else(|| refuse(Reason::RunMissing, run_id.to_string()))?;
    if !run.operations.iter().any(|op| &op.op_key == op_key) {
        return Err(refuse(
            Reason::ReceiptWrongOperation,
            format!("run {run_id} has no operation {op_key}"),
        ));
    }
    Ok(vec![Change::Receipt(receipt)])
}

/// `receipt_consumed`: an enforceable, unexpired, unused receipt of this run and operation,
/// whose operation has no outcome but a failure; the operation is in doubt until settled.
fn consume_receipt<S: StateAccess + ?Sized>(
    state: &S,
    receipt_id: &ReceiptId,
    run_id: &RunId,
    op_key: &OpKey,
    at: OffsetDateTime,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_some() {
        return Err(refuse(
            Reason::Halted,
            format!("cannot consume {receipt_id}"),
        ));
    }
    let receipt = matching_receipt(state, receipt_id, run_id, op_key)?;
    if receipt.status == ReceiptStatus::Consumed {
        return Err(refuse(Reason::ReceiptConsumed, receipt_id.to_string()));
    }
    if !receipt.enforceable {
        return Err(refuse(
            Reason::ReceiptNotEnforceable,
            receipt_id.to_string(),
        ));
    }
    if at > parse_time("expires_at", &receipt.expires_at)? {
        return Err(refuse(
            Reason::ReceiptExpired,
            format!("{receipt_id} expired at {}", receipt.expires_at),
        ));
    }
    if let Some(op) = state.op(op_key)
        && op.status != OpStatus::Failed
    {
        return Err(refuse(
            Reason::OperationExists,
            format!("{op_key} was executed by run {}", op.run_id),
        ));
    }
    let mut consumed = receipt;
    consumed.status = ReceiptStatus::Consumed;
    consumed.consumed_seq = Some(seq);
    Ok(vec![
        Change::Receipt(consumed),
        Change::Op(OpRecord {
            op_key: op_key.clone(),
            run_id: run_id.clone(),
            receipt_id: receipt_id.clone(),
            status: OpStatus::InDoubt,
            seq,
            published_seq: None,
        }),
    ])
}

/// `approval_revoked`: the revoke joins the plan's record (once per comment).
fn record_revoke<S: StateAccess + ?Sized>(
    state: &S,
    plan_id: &str,
    mark: RevokeMark,
) -> Result<Vec<Change>, ApplyError> {
    parse_time("written_at", &mark.written_at)?;
    let mut record = state.revokes(plan_id).unwrap_or(RevokesRecord {
        plan_id: plan_id.to_owned(),
        revokes: Vec::new(),
    });
    // Recording a revoke twice changes nothing (two mints may race to record it).
    if !record
        .revokes
        .iter()
        .any(|r| r.comment_id == mark.comment_id)
    {
        record.revokes.push(mark);
    }
    Ok(vec![Change::Revokes(record)])
}

/// `policy_changed`: from the policy the chain knows (if it knows one) to the new one.
fn change_policy<S: StateAccess + ?Sized>(
    state: &S,
    from: Option<&str>,
    to: &str,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    if let Some(known) = state.policy()
        && from != Some(known.hash.as_str())
    {
        return Err(refuse(
            Reason::EntryInvalid,
            format!(
                "policy_changed from {} but the chain's policy is {}",
                from.unwrap_or("none"),
                known.hash
            ),
        ));
    }
    Ok(vec![Change::Policy(PolicyRecord {
        hash: to.to_owned(),
        seq,
    })])
}

/// `halted`: only when not halted already.
fn halt<S: StateAccess + ?Sized>(state: &S, halt: HaltRecord) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_some() {
        return Err(refuse(Reason::Halted, "already halted"));
    }
    Ok(vec![Change::Halt(Some(halt))])
}

/// `resumed`: only a standing halt.
fn resume<S: StateAccess + ?Sized>(state: &S) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_none() {
        return Err(refuse(Reason::NotHalted, "resume without a halt"));
    }
    Ok(vec![Change::Halt(None)])
}

/// `ship_requested`: for an open run, never while halted; it changes no state (the ship
/// workflow it starts executes through the gate like any other).
fn request_ship<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_some() {
        return Err(refuse(Reason::Halted, format!("cannot ship {run_id}")));
    }
    if state.run(run_id).is_none() {
        return Err(refuse(Reason::RunMissing, run_id.to_string()));
    }
    Ok(Vec::new())
}

/// `release_published`: a release operation that this run shipped (succeeded or recovered),
/// published once, never while halted. Whether the plan asked for `publish: after_assets` is
/// checked by `shipgate release publish` against the plan the run's id binds; the chain
/// records that the run's approved release, and only it, was published.
fn publish_release<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
    op_key: &OpKey,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    if state.halt().is_some() {
        return Err(refuse(Reason::Halted, format!("cannot publish {op_key}")));
    }
    if op_key.kind() != "release" {
        return Err(refuse(
            Reason::ReleaseNotPublishable,
            format!("{op_key} is not a release"),
        ));
    }
    let op = state
        .op(op_key)
        .filter(|op| &op.run_id == run_id)
        .filter(|op| matches!(op.status, OpStatus::Succeeded | OpStatus::Recovered))
        .ok_or_else(|| {
            refuse(
                Reason::ReleaseNotPublishable,
                format!("run {run_id} did not ship {op_key}"),
            )
        })?;
    if let Some(published) = op.published_seq {
        return Err(refuse(
            Reason::ReleaseNotPublishable,
            format!("{op_key} was published by entry {published}"),
        ));
    }
    let mut published = op;
    published.published_seq = Some(seq);
    Ok(vec![Change::Op(published)])
}

/// `lock_acquired`: by an open run, when nobody holds the lock.
fn acquire_lock<S: StateAccess + ?Sized>(
    state: &S,
    lock: LockRecord,
) -> Result<Vec<Change>, ApplyError> {
    parse_time("expires_at", &lock.expires_at)?;
    if let Some(holder) = &lock.holder {
        check_id("lock holder", holder)?;
    }
    if state.run(&lock.run_id).is_none() {
        return Err(refuse(Reason::RunMissing, lock.run_id.to_string()));
    }
    if let Some(held) = state.lock() {
        return Err(refuse(
            Reason::Locked,
            format!("held by run {}", held.run_id),
        ));
    }
    Ok(vec![Change::Lock(Some(lock))])
}

/// `lock_released`: by the run, and the executor of it, that holds it.
fn release_lock<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
    holder: Option<&str>,
) -> Result<Vec<Change>, ApplyError> {
    match state.lock() {
        Some(lock) if &lock.run_id == run_id && lock.holder.as_deref() == holder => {
            Ok(vec![Change::Lock(None)])
        }
        _ => Err(refuse(Reason::LockNotHeld, run_id.to_string())),
    }
}

/// `lock_broken`: the lock of that run, once it has expired by the entry's time.
fn break_lock<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
    at: OffsetDateTime,
) -> Result<Vec<Change>, ApplyError> {
    match state.lock() {
        Some(lock) if &lock.run_id == run_id => {
            if at <= parse_time("expires_at", &lock.expires_at)? {
                return Err(refuse(
                    Reason::LockNotExpired,
                    format!("the lock of {run_id} expires at {}", lock.expires_at),
                ));
            }
            Ok(vec![Change::Lock(None)])
        }
        _ => Err(refuse(Reason::LockNotHeld, run_id.to_string())),
    }
}

/// A minting entry must carry the receipt it describes: the document parses, and its claims
/// agree with the entry. (Its signature is checked by the gate, against the policy's keys.)
fn check_receipt_document(
    document: &str,
    receipt_id: &ReceiptId,
    run_id: &RunId,
    op_key: &OpKey,
    enforceable: bool,
    expires_at: &str,
) -> Result<(), ApplyError> {
    let parsed = crate::receipt::parse_receipt(document.as_bytes()).map_err(|e| {
        refuse(
            Reason::EntryInvalid,
            format!("the receipt document of {receipt_id} is unreadable: {e}"),
        )
    })?;
    let claims = &parsed.claims;
    let agrees = &claims.receipt_id == receipt_id
        && &claims.run_id == run_id
        && &claims.op_key == op_key
        && claims.enforceable == enforceable
        && claims.expires_at == expires_at;
    if agrees {
        Ok(())
    } else {
        Err(refuse(
            Reason::EntryInvalid,
            format!("the receipt document does not match the minting entry of {receipt_id}"),
        ))
    }
}

fn matching_receipt<S: StateAccess + ?Sized>(
    state: &S,
    receipt_id: &ReceiptId,
    run_id: &RunId,
    op_key: &OpKey,
) -> Result<ReceiptRecord, ApplyError> {
    let receipt = state
        .receipt(receipt_id)
        .ok_or_else(|| refuse(Reason::ReceiptMissing, receipt_id.to_string()))?;
    if &receipt.run_id != run_id {
        return Err(refuse(
            Reason::ReceiptWrongRun,
            format!("{receipt_id} belongs to run {}", receipt.run_id),
        ));
    }
    if &receipt.op_key != op_key {
        return Err(refuse(
            Reason::ReceiptWrongOperation,
            format!("{receipt_id} authorizes {}", receipt.op_key),
        ));
    }
    Ok(receipt)
}

/// Records an operation's outcome: allowed only once its receipt was consumed for it, and only
/// while it is in doubt (DESIGN 8: every executed operation had a receipt consumed once).
fn settle<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
    op_key: &OpKey,
    receipt_id: &ReceiptId,
    outcome: OpStatus,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    let receipt = matching_receipt(state, receipt_id, run_id, op_key)?;
    let consumed_op = state
        .op(op_key)
        .filter(|op| &op.receipt_id == receipt_id && &op.run_id == run_id);
    let (ReceiptStatus::Consumed, Some(op)) = (receipt.status, consumed_op) else {
        return Err(refuse(
            Reason::ReceiptNotConsumed,
            format!("{op_key}: receipt {receipt_id} was not consumed for it"),
        ));
    };
    let mut op = op;
    if op.status != OpStatus::InDoubt {
        return Err(refuse(
            Reason::OperationExists,
            format!("{op_key} already has its outcome"),
        ));
    }
    op.status = outcome;
    op.seq = seq;
    Ok(vec![Change::Op(op)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry::{Actor, ENTRY_VERSION, RunOperation};
    use crate::audit::state::State;
    use crate::receipt::ReceiptClaims;

    fn entry(seq: u64, event: Event) -> Entry {
        Entry {
            version: ENTRY_VERSION,
            seq,
            prev: "sha256:x".into(),
            at: "2026-11-23T12:00:00Z".into(),
            actor: Actor {
                login: "bot".into(),
                workflow_run: None,
                sha: None,
            },
            event,
        }
    }

    fn document(receipt_id: &str, op_key: &str) -> String {
        ReceiptClaims {
            version: 1,
            receipt_id: ReceiptId::parse(receipt_id).expect("receipt id"),
            repo: "acme/widget".into(),
            plan_id: format!("sha256:{}", "a".repeat(64)),
            run_id: RunId::parse("run_1").expect("run id"),
            op_index: 0,
            op_kind: "tag".into(),
            op_key: OpKey::parse(op_key).expect("op key"),
            policy_hash: "sha256:p".into(),
            approvals: Vec::new(),
            enforceable: true,
            findings: Vec::new(),
            issued_at: "2026-11-23T12:00:00Z".into(),
            expires_at: "2026-11-24T12:00:00Z".into(),
            nonce: "n".into(),
        }
        .sign_sshsig(
            &crate::model::Kid::parse("k").unwrap(),
            &ssh_key::PrivateKey::random(
                &mut ssh_key::rand_core::OsRng,
                ssh_key::Algorithm::Ed25519,
            )
            .expect("key"),
        )
        .expect("sign")
        .to_canonical_json()
        .expect("json")
    }

    fn minted(receipt: Option<String>) -> Event {
        Event::ReceiptMinted {
            receipt_id: ReceiptId::parse("rcp_1").expect("receipt id"),
            run_id: RunId::parse("run_1").expect("run id"),
            op_key: OpKey::parse("tag:v1").expect("op key"),
            enforceable: true,
            expires_at: "2026-11-24T12:00:00Z".into(),
            receipt,
        }
    }

    fn with_run() -> State {
        let mut state = State::default();
        let opened = entry(
            1,
            Event::RunOpened {
                pr: None,
                run_id: RunId::parse("run_1").expect("run id"),
                plan_id: format!("sha256:{}", "a".repeat(64)),
                policy_hash: "sha256:p".into(),
                operations: vec![RunOperation {
                    op_index: 0,
                    op_key: OpKey::parse("tag:v1").expect("op key"),
                }],
            },
        );
        state.commit(apply(&state, &opened).expect("open"));
        state
    }

    #[test]
    fn a_minted_receipt_document_is_kept_in_the_state() {
        let mut state = with_run();
        let doc = document("rcp_1", "tag:v1");
        let changes = apply(&state, &entry(2, minted(Some(doc.clone())))).expect("mint");
        state.commit(changes);
        assert_eq!(
            state.receipts[&ReceiptId::parse("rcp_1").unwrap()]
                .document
                .as_deref(),
            Some(doc.as_str())
        );
    }

    #[test]
    fn a_receipt_document_that_disagrees_with_its_entry_is_refused() {
        let state = with_run();
        for doc in [
            document("rcp_2", "tag:v1"),
            document("rcp_1", "tag:v2"),
            "{not json".to_owned(),
        ] {
            let err = apply(&state, &entry(2, minted(Some(doc)))).expect_err("refused");
            assert_eq!(err.reason, Reason::EntryInvalid);
        }
    }

    fn shipped_release(status: OpStatus) -> State {
        let mut state = State::default();
        state.ops.insert(
            crate::model::OpKey::parse("release:v1").expect("op key"),
            OpRecord {
                op_key: crate::model::OpKey::parse("release:v1").expect("op key"),
                run_id: crate::model::RunId::parse("run_1").expect("run id"),
                receipt_id: crate::model::ReceiptId::parse("rcp_1").expect("receipt id"),
                status,
                seq: 4,
                published_seq: None,
            },
        );
        state
    }

    fn published(run_id: &str, op_key: &str) -> Event {
        Event::ReleasePublished {
            run_id: crate::model::RunId::parse(run_id).expect("run id"),
            op_key: crate::model::OpKey::parse(op_key).expect("op key"),
            release_id: 9,
        }
    }

    #[test]
    fn a_release_is_published_once_and_only_by_the_run_that_shipped_it() {
        let mut state = shipped_release(OpStatus::Succeeded);
        let changes = apply(&state, &entry(5, published("run_1", "release:v1"))).expect("ok");
        state.commit(changes);
        assert_eq!(
            state.ops[&OpKey::parse("release:v1").unwrap()].published_seq,
            Some(5)
        );
        assert_eq!(
            state.ops[&OpKey::parse("release:v1").unwrap()].status,
            OpStatus::Succeeded
        );
        let twice = apply(&state, &entry(6, published("run_1", "release:v1")));
        assert_eq!(
            twice.expect_err("twice").reason,
            Reason::ReleaseNotPublishable
        );
        for (state, run, key) in [
            (shipped_release(OpStatus::Succeeded), "run_2", "release:v1"),
            (shipped_release(OpStatus::InDoubt), "run_1", "release:v1"),
            (shipped_release(OpStatus::Failed), "run_1", "release:v1"),
            (shipped_release(OpStatus::Succeeded), "run_1", "release:v2"),
            (shipped_release(OpStatus::Succeeded), "run_1", "tag:v1"),
        ] {
            let refused = apply(&state, &entry(5, published(run, key))).expect_err("refused");
            assert_eq!(refused.reason, Reason::ReleaseNotPublishable, "{run} {key}");
        }
    }
}
