//! The governance state and [`apply`], the one rule book for writing and verifying the chain.
//!
//! The state after an entry is what the entry's commit tree holds (DESIGN 8): `state/halt.json`
//! iff halted, `state/lock.json` iff locked, one file per run, receipt and executed operation
//! in fan-out directories. [`apply`] is pure: it looks only at the state and the entry (time is
//! the entry's own `at`, never the clock), and it returns the changed files so that writers and
//! verifiers rebuild only the touched tree paths. It reads the state through [`StateAccess`],
//! one record by key at a time, so an append can hand it a view that loads only those records
//! from the head's tree (`view`) while the verifier hands it the whole [`State`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::entry::{Entry, Event, RunOperation};
use super::reason::Reason;
use crate::canonical::{sha256_hex, to_canonical_json};

/// Path of the halt record.
pub const HALT_PATH: &str = "state/halt.json";
/// Path of the lock record.
pub const LOCK_PATH: &str = "state/lock.json";
/// The directory of the run files.
pub const RUNS_DIR: &str = "state/runs";
/// Path of the policy record: the hash decisions are taken under, once it changed.
pub const POLICY_PATH: &str = "state/policy.json";
/// The directory of the recorded revokes, one file per plan (DESIGN 13.5).
pub const REVOKES_DIR: &str = "state/revokes";

/// The standing halt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaltRecord {
    /// Who halted.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The entry time of the halt.
    pub since: String,
    /// The halt entry.
    pub seq: u64,
}

/// The held execution lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockRecord {
    /// The holding run.
    pub run_id: String,
    /// When it was taken.
    pub acquired_at: String,
    /// When it may be broken.
    pub expires_at: String,
    /// The acquiring entry.
    pub seq: u64,
}

/// An opened run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The run.
    pub run_id: String,
    /// Its plan.
    pub plan_id: String,
    /// The policy hash at opening.
    pub policy_hash: String,
    /// Its operations.
    pub operations: Vec<RunOperation>,
    /// The pull request whose approvals opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<u64>,
    /// The opening entry.
    pub seq: u64,
}

/// Where a receipt is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Minted, not used.
    Minted,
    /// Used up; never un-consumed.
    Consumed,
}

/// A minted receipt and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRecord {
    /// The receipt.
    pub receipt_id: String,
    /// Its run.
    pub run_id: String,
    /// Its operation.
    pub op_key: String,
    /// False for advisory receipts.
    pub enforceable: bool,
    /// Expiry.
    pub expires_at: String,
    /// Minted or consumed.
    pub status: ReceiptStatus,
    /// The minting entry.
    pub minted_seq: u64,
    /// The consuming entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_seq: Option<u64>,
    /// The signed receipt document, when the minting entry carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// Where an operation key is in its (single) execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Receipt consumed, outcome not yet recorded: in doubt.
    InDoubt,
    /// Done as approved.
    Succeeded,
    /// Failed; a later run may try again.
    Failed,
    /// Found done as approved after a crash.
    Recovered,
}

/// An operation key that has been executed (or is being executed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpRecord {
    /// The operation key.
    pub op_key: String,
    /// The run executing it.
    pub run_id: String,
    /// The consumed receipt.
    pub receipt_id: String,
    /// Its status.
    pub status: OpStatus,
    /// The last entry that changed it.
    pub seq: u64,
}

/// The policy hash decisions are taken under, as the last `policy_changed` recorded it.
/// Absent until the policy first changes: the genesis entry names the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// The policy hash.
    pub hash: String,
    /// The entry that recorded it.
    pub seq: u64,
}

/// The revokes of one plan that mint saw: they hold even once their comments are edited or
/// deleted (DESIGN 13.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokesRecord {
    /// The plan.
    pub plan_id: String,
    /// Its revokes, in recording order.
    pub revokes: Vec<RevokeMark>,
}

/// One recorded revoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeMark {
    /// Who revoked.
    pub login: String,
    /// The revoking comment.
    pub comment_id: u64,
    /// When that comment was written (RFC 3339).
    pub written_at: String,
}

/// The governance state after some entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The standing halt.
    pub halt: Option<HaltRecord>,
    /// The held lock.
    pub lock: Option<LockRecord>,
    /// Runs by id.
    pub runs: BTreeMap<String, RunRecord>,
    /// Receipts by id.
    pub receipts: BTreeMap<String, ReceiptRecord>,
    /// Recorded revokes by plan id.
    pub revokes: BTreeMap<String, RevokesRecord>,
    /// The policy hash, once a `policy_changed` recorded one.
    pub policy: Option<PolicyRecord>,
    /// Executed operations by key.
    pub ops: BTreeMap<String, OpRecord>,
}

/// One changed state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Halt set or lifted.
    Halt(Option<HaltRecord>),
    /// Lock taken or dropped.
    Lock(Option<LockRecord>),
    /// A run written.
    Run(RunRecord),
    /// A receipt written.
    Receipt(ReceiptRecord),
    /// An operation written.
    Op(OpRecord),
    /// A plan's recorded revokes written.
    Revokes(RevokesRecord),
    /// The policy hash written.
    Policy(PolicyRecord),
}

/// Why an entry is not a legal next step from a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct ApplyError {
    /// The stable reason.
    pub reason: Reason,
    /// What exactly.
    pub detail: String,
}

/// Why a tree's files are not a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state file {path}: {why}")]
pub struct StateFileError {
    /// The offending path.
    pub path: String,
    /// What is wrong with it.
    pub why: String,
}

/// Access to a state one record by key at a time: everything [`apply`] and the appenders'
/// checks look at, and the writing of [`apply`]'s changes. A lookup answers from the whole
/// state ([`State`]) or loads the record on demand (`view::StateView`), so no reader can see
/// "absent" for a record that was merely not loaded.
pub trait StateAccess {
    /// The standing halt.
    fn halt(&self) -> Option<HaltRecord>;
    /// The held lock.
    fn lock(&self) -> Option<LockRecord>;
    /// One run.
    fn run(&self, run_id: &str) -> Option<RunRecord>;
    /// One receipt.
    fn receipt(&self, receipt_id: &str) -> Option<ReceiptRecord>;
    /// One executed operation.
    fn op(&self, op_key: &str) -> Option<OpRecord>;
    /// Every run, by id (a scan: a view loads them all).
    fn runs(&self) -> Vec<RunRecord>;
    /// The recorded revokes of one plan.
    fn revokes(&self, plan_id: &str) -> Option<RevokesRecord>;
    /// The policy hash the last `policy_changed` recorded.
    fn policy(&self) -> Option<PolicyRecord>;
    /// Writes changes computed by [`apply`] into the state.
    fn commit(&mut self, changes: Vec<Change>);
}

impl StateAccess for State {
    fn halt(&self) -> Option<HaltRecord> {
        self.halt.clone()
    }

    fn lock(&self) -> Option<LockRecord> {
        self.lock.clone()
    }

    fn run(&self, run_id: &str) -> Option<RunRecord> {
        self.runs.get(run_id).cloned()
    }

    fn receipt(&self, receipt_id: &str) -> Option<ReceiptRecord> {
        self.receipts.get(receipt_id).cloned()
    }

    fn op(&self, op_key: &str) -> Option<OpRecord> {
        self.ops.get(op_key).cloned()
    }

    fn runs(&self) -> Vec<RunRecord> {
        self.runs.values().cloned().collect()
    }

    fn revokes(&self, plan_id: &str) -> Option<RevokesRecord> {
        self.revokes.get(plan_id).cloned()
    }

    fn policy(&self) -> Option<PolicyRecord> {
        self.policy.clone()
    }

    fn commit(&mut self, changes: Vec<Change>) {
        State::commit(self, changes);
    }
}

fn refuse(reason: Reason, detail: impl Into<String>) -> ApplyError {
    ApplyError {
        reason,
        detail: detail.into(),
    }
}

/// The path of a run's file: `state/runs/<run_id>.json`, flat, as DESIGN 8 lays it out. Each
/// new run rewrites the tree listing every run (450 KB at 10 000 runs); fanning runs out like
/// receipts would keep that flat, but changes the layout the design fixes.
pub fn run_path(run_id: &str) -> String {
    format!("{RUNS_DIR}/{run_id}.json")
}

/// The fan-out path of a receipt's file.
pub fn receipt_path(receipt_id: &str) -> String {
    let digest = sha256_hex(receipt_id.as_bytes());
    format!(
        "state/receipts/{}/{}/{receipt_id}.json",
        &digest[..2],
        &digest[2..4]
    )
}

/// The fan-out path of a plan's recorded revokes.
pub fn revokes_path(plan_id: &str) -> String {
    let digest = sha256_hex(plan_id.as_bytes());
    format!("{REVOKES_DIR}/{}/{digest}.json", &digest[..2])
}

/// The fan-out path of an operation key's file.
pub fn op_path(op_key: &str) -> String {
    let digest = sha256_hex(op_key.as_bytes());
    format!("state/ops/{}/{digest}.json", &digest[..2])
}

fn file_bytes<T: Serialize>(record: &T) -> Vec<u8> {
    let mut json = to_canonical_json(record)
        .expect("state records hold only strings, booleans and small integers");
    json.push('\n');
    json.into_bytes()
}

impl Change {
    /// The file it changes.
    pub fn path(&self) -> String {
        match self {
            Self::Halt(_) => HALT_PATH.to_owned(),
            Self::Lock(_) => LOCK_PATH.to_owned(),
            Self::Run(run) => run_path(&run.run_id),
            Self::Receipt(receipt) => receipt_path(&receipt.receipt_id),
            Self::Op(op) => op_path(&op.op_key),
            Self::Revokes(revokes) => revokes_path(&revokes.plan_id),
            Self::Policy(_) => POLICY_PATH.to_owned(),
        }
    }

    /// The file's new content, or `None` when the file is removed.
    pub fn content(&self) -> Option<Vec<u8>> {
        match self {
            Self::Halt(halt) => halt.as_ref().map(file_bytes),
            Self::Lock(lock) => lock.as_ref().map(file_bytes),
            Self::Run(run) => Some(file_bytes(run)),
            Self::Receipt(receipt) => Some(file_bytes(receipt)),
            Self::Op(op) => Some(file_bytes(op)),
            Self::Revokes(revokes) => Some(file_bytes(revokes)),
            Self::Policy(policy) => Some(file_bytes(policy)),
        }
    }
}

impl State {
    /// Writes changes computed by [`apply`] into the state.
    pub fn commit(&mut self, changes: Vec<Change>) {
        for change in changes {
            match change {
                Change::Halt(halt) => self.halt = halt,
                Change::Lock(lock) => self.lock = lock,
                Change::Run(run) => {
                    self.runs.insert(run.run_id.clone(), run);
                }
                Change::Receipt(receipt) => {
                    self.receipts.insert(receipt.receipt_id.clone(), receipt);
                }
                Change::Op(op) => {
                    self.ops.insert(op.op_key.clone(), op);
                }
                Change::Revokes(revokes) => {
                    self.revokes.insert(revokes.plan_id.clone(), revokes);
                }
                Change::Policy(policy) => self.policy = Some(policy),
            }
        }
    }

    /// Every state file, by path: exactly what the commit tree must hold.
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut add = |change: Change| {
            if let Some(content) = change.content() {
                files.insert(change.path(), content);
            }
        };
        add(Change::Halt(self.halt.clone()));
        add(Change::Lock(self.lock.clone()));
        self.runs.values().for_each(|r| add(Change::Run(r.clone())));
        self.receipts
            .values()
            .for_each(|r| add(Change::Receipt(r.clone())));
        self.ops.values().for_each(|o| add(Change::Op(o.clone())));
        self.revokes
            .values()
            .for_each(|r| add(Change::Revokes(r.clone())));
        if let Some(policy) = &self.policy {
            add(Change::Policy(policy.clone()));
        }
        files
    }

    /// Rebuilds a state from a tree's files, refusing any file that is not exactly where and
    /// how [`State::files`] would write it.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (String, &'a [u8])>,
    ) -> Result<Self, StateFileError> {
        let mut state = State::default();
        for (path, bytes) in files {
            let bad = |why: String| StateFileError {
                path: path.clone(),
                why,
            };
            let change = if path == HALT_PATH {
                Change::Halt(Some(parse_record(bytes).map_err(bad)?))
            } else if path == LOCK_PATH {
                Change::Lock(Some(parse_record(bytes).map_err(bad)?))
            } else if path.starts_with("state/runs/") {
                Change::Run(parse_record(bytes).map_err(bad)?)
            } else if path.starts_with("state/receipts/") {
                Change::Receipt(parse_record(bytes).map_err(bad)?)
            } else if path.starts_with("state/ops/") {
                Change::Op(parse_record(bytes).map_err(bad)?)
            } else if path.starts_with("state/revokes/") {
                Change::Revokes(parse_record(bytes).map_err(bad)?)
            } else if path == POLICY_PATH {
                Change::Policy(parse_record(bytes).map_err(bad)?)
            } else {
                return Err(bad("not a state file".into()));
            };
            if change.path() != path || change.content().as_deref() != Some(bytes) {
                return Err(bad("content does not belong at this path".into()));
            }
            state.commit(vec![change]);
        }
        Ok(state)
    }
}

fn parse_record<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
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
/// knows is the entry's `at`.
pub fn apply<S: StateAccess + ?Sized>(state: &S, entry: &Entry) -> Result<Vec<Change>, ApplyError> {
    let at = parse_time("at", &entry.at)?;
    let seq = entry.seq;
    match &entry.event {
        Event::Genesis { .. }
        | Event::Note { .. }
        | Event::ApprovalRecorded { .. }
        | Event::OperationDenied { .. }
        | Event::MintRefused { .. } => Ok(Vec::new()),
        Event::RunOpened {
            run_id,
            plan_id,
            policy_hash,
            operations,
            pr,
        } => {
            check_id("run id", run_id)?;
            if state.halt().is_some() {
                return Err(refuse(Reason::Halted, format!("cannot open run {run_id}")));
            }
            if state.run(run_id).is_some() {
                return Err(refuse(Reason::RunExists, run_id.clone()));
            }
            Ok(vec![Change::Run(RunRecord {
                run_id: run_id.clone(),
                plan_id: plan_id.clone(),
                policy_hash: policy_hash.clone(),
                operations: operations.clone(),
                pr: *pr,
                seq,
            })])
        }
        Event::ReceiptMinted {
            receipt_id,
            run_id,
            op_key,
            enforceable,
            expires_at,
            receipt,
        } => {
            check_id("receipt id", receipt_id)?;
            parse_time("expires_at", expires_at)?;
            if let Some(document) = receipt {
                check_receipt_document(
                    document,
                    receipt_id,
                    run_id,
                    op_key,
                    *enforceable,
                    expires_at,
                )?;
            }
            if state.halt().is_some() {
                return Err(refuse(Reason::Halted, format!("cannot mint {receipt_id}")));
            }
            if state.receipt(receipt_id).is_some() {
                return Err(refuse(Reason::ReceiptExists, receipt_id.clone()));
            }
            let run = state
                .run(run_id)
                .ok_or_else(|| refuse(Reason::RunMissing, run_id.clone()))?;
            if !run.operations.iter().any(|op| &op.op_key == op_key) {
                return Err(refuse(
                    Reason::ReceiptWrongOperation,
                    format!("run {run_id} has no operation {op_key}"),
                ));
            }
            Ok(vec![Change::Receipt(ReceiptRecord {
                receipt_id: receipt_id.clone(),
                run_id: run_id.clone(),
                op_key: op_key.clone(),
                enforceable: *enforceable,
                expires_at: expires_at.clone(),
                status: ReceiptStatus::Minted,
                minted_seq: seq,
                consumed_seq: None,
                document: receipt.clone(),
            })])
        }
        Event::ReceiptConsumed {
            receipt_id,
            run_id,
            op_key,
        } => {
            if state.halt().is_some() {
                return Err(refuse(
                    Reason::Halted,
                    format!("cannot consume {receipt_id}"),
                ));
            }
            let receipt = matching_receipt(state, receipt_id, run_id, op_key)?;
            if receipt.status == ReceiptStatus::Consumed {
                return Err(refuse(Reason::ReceiptConsumed, receipt_id.clone()));
            }
            if !receipt.enforceable {
                return Err(refuse(Reason::ReceiptNotEnforceable, receipt_id.clone()));
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
                }),
            ])
        }
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
        } => {
            parse_time("written_at", written_at)?;
            let mut record = state.revokes(plan_id).unwrap_or(RevokesRecord {
                plan_id: plan_id.clone(),
                revokes: Vec::new(),
            });
            // Recording a revoke twice changes nothing (two mints may race to record it).
            if !record.revokes.iter().any(|r| r.comment_id == *comment_id) {
                record.revokes.push(RevokeMark {
                    login: login.clone(),
                    comment_id: *comment_id,
                    written_at: written_at.clone(),
                });
            }
            Ok(vec![Change::Revokes(record)])
        }
        Event::PolicyChanged { from, to } => {
            if let Some(known) = state.policy()
                && from.as_deref() != Some(known.hash.as_str())
            {
                return Err(refuse(
                    Reason::EntryInvalid,
                    format!(
                        "policy_changed from {} but the chain's policy is {}",
                        from.as_deref().unwrap_or("none"),
                        known.hash
                    ),
                ));
            }
            Ok(vec![Change::Policy(PolicyRecord {
                hash: to.clone(),
                seq,
            })])
        }
        Event::Halted { by, reason, .. } => {
            if state.halt().is_some() {
                return Err(refuse(Reason::Halted, "already halted"));
            }
            Ok(vec![Change::Halt(Some(HaltRecord {
                by: by.clone(),
                reason: reason.clone(),
                since: entry.at.clone(),
                seq,
            }))])
        }
        Event::Resumed { .. } => {
            if state.halt().is_none() {
                return Err(refuse(Reason::NotHalted, "resume without a halt"));
            }
            Ok(vec![Change::Halt(None)])
        }
        Event::ShipRequested { run_id, .. } => {
            if state.halt().is_some() {
                return Err(refuse(Reason::Halted, format!("cannot ship {run_id}")));
            }
            if state.run(run_id).is_none() {
                return Err(refuse(Reason::RunMissing, run_id.clone()));
            }
            Ok(Vec::new())
        }
        Event::LockAcquired { run_id, expires_at } => {
            parse_time("expires_at", expires_at)?;
            if state.run(run_id).is_none() {
                return Err(refuse(Reason::RunMissing, run_id.clone()));
            }
            if let Some(lock) = state.lock() {
                return Err(refuse(
                    Reason::Locked,
                    format!("held by run {}", lock.run_id),
                ));
            }
            Ok(vec![Change::Lock(Some(LockRecord {
                run_id: run_id.clone(),
                acquired_at: entry.at.clone(),
                expires_at: expires_at.clone(),
                seq,
            }))])
        }
        Event::LockReleased { run_id } => match state.lock() {
            Some(lock) if &lock.run_id == run_id => Ok(vec![Change::Lock(None)]),
            _ => Err(refuse(Reason::LockNotHeld, run_id.clone())),
        },
        Event::LockBroken { run_id, .. } => match state.lock() {
            Some(lock) if &lock.run_id == run_id => {
                if at <= parse_time("expires_at", &lock.expires_at)? {
                    return Err(refuse(
                        Reason::LockNotExpired,
                        format!("the lock of {run_id} expires at {}", lock.expires_at),
                    ));
                }
                Ok(vec![Change::Lock(None)])
            }
            _ => Err(refuse(Reason::LockNotHeld, run_id.clone())),
        },
    }
}

/// A minting entry must carry the receipt it describes: the document parses, and its claims
/// agree with the entry. (Its signature is checked by the gate, against the policy's keys.)
fn check_receipt_document(
    document: &str,
    receipt_id: &str,
    run_id: &str,
    op_key: &str,
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
    let agrees = claims.receipt_id == receipt_id
        && claims.run_id == run_id
        && claims.op_key == op_key
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
    receipt_id: &str,
    run_id: &str,
    op_key: &str,
) -> Result<ReceiptRecord, ApplyError> {
    let receipt = state
        .receipt(receipt_id)
        .ok_or_else(|| refuse(Reason::ReceiptMissing, receipt_id.to_owned()))?;
    if receipt.run_id != run_id {
        return Err(refuse(
            Reason::ReceiptWrongRun,
            format!("{receipt_id} belongs to run {}", receipt.run_id),
        ));
    }
    if receipt.op_key != op_key {
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
    run_id: &str,
    op_key: &str,
    receipt_id: &str,
    outcome: OpStatus,
    seq: u64,
) -> Result<Vec<Change>, ApplyError> {
    let receipt = matching_receipt(state, receipt_id, run_id, op_key)?;
    let consumed_op = state
        .op(op_key)
        .filter(|op| op.receipt_id == receipt_id && op.run_id == run_id);
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
    use crate::receipt::{HmacKey, ReceiptClaims};

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
            receipt_id: receipt_id.into(),
            repo: "acme/widget".into(),
            plan_id: format!("sha256:{}", "a".repeat(64)),
            run_id: "run_1".into(),
            op_index: 0,
            op_kind: "tag".into(),
            op_key: op_key.into(),
            policy_hash: "sha256:p".into(),
            approvals: Vec::new(),
            enforceable: true,
            findings: Vec::new(),
            issued_at: "2026-11-23T12:00:00Z".into(),
            expires_at: "2026-11-24T12:00:00Z".into(),
            nonce: "n".into(),
        }
        .sign_hmac(&HmacKey::new("k", b"s"))
        .expect("sign")
        .to_canonical_json()
        .expect("json")
    }

    fn minted(receipt: Option<String>) -> Event {
        Event::ReceiptMinted {
            receipt_id: "rcp_1".into(),
            run_id: "run_1".into(),
            op_key: "tag:v1".into(),
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
                run_id: "run_1".into(),
                plan_id: format!("sha256:{}", "a".repeat(64)),
                policy_hash: "sha256:p".into(),
                operations: vec![RunOperation {
                    op_index: 0,
                    op_key: "tag:v1".into(),
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
            state.receipts["rcp_1"].document.as_deref(),
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
}
