//! The governance state and [`apply`], the one rule book for writing and verifying the chain.
//!
//! The state after an entry is what the entry's commit tree holds (DESIGN 8): `state/halt.json`
//! iff halted, `state/lock.json` iff locked, one file per run, receipt and executed operation
//! in fan-out directories. [`apply`] is pure: it looks only at the state and the entry (time is
//! the entry's own `at`, never the clock), and it returns the changed files so that writers and
//! verifiers rebuild only the touched tree paths. It reads the state through [`StateAccess`],
//! one record by key at a time, so an append can hand it a view that loads only those records
//! from the head's tree (`view`) while the verifier hands it the whole [`State`]. This file
//! holds the records, their paths and files; the rules, one function per event kind, are in
//! `rules`.
//!
//! Runs fan out like receipts (`state/runs/<2 hex>/<2 hex>/<run_id>.json`, DESIGN 13.8) once the
//! state holds the layout record `state/layout.json`: a genesis written since then starts with
//! it, and an older chain, whose runs lie flat (`state/runs/<run_id>.json`), gets it from the
//! `state_migrated` entry that moves every run (the appender writes one before anything else).
//! Which layout a state has is thus part of the state, replayed like the rest, and a tree
//! holding runs in the other layout is not a state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::entry::RunOperation;
use super::reason::Reason;
use crate::canonical::{sha256_hex, to_canonical_json};
use crate::model::{CommentId, OpKey, PrNumber, ReceiptId, RunId};

mod rules;

pub use rules::apply;

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
/// Path of the layout record, present once runs fan out.
pub const LAYOUT_PATH: &str = "state/layout.json";
/// The layout version in which runs fan out: the only one the layout record may name (a state
/// without the record has the flat runs of the first layout).
pub const RUNS_FAN_OUT: u32 = 2;

/// The state's layout, once runs fan out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutRecord {
    /// Always [`RUNS_FAN_OUT`].
    pub version: u32,
    /// The entry that set it: the genesis, or the `state_migrated` entry.
    pub seq: u64,
}

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
    pub run_id: RunId,
    /// The executor holding it for the run (absent for locks taken by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
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
    pub run_id: RunId,
    /// Its plan.
    pub plan_id: String,
    /// The policy hash at opening.
    pub policy_hash: String,
    /// Its operations.
    pub operations: Vec<RunOperation>,
    /// The pull request whose approvals opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrNumber>,
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
    pub receipt_id: ReceiptId,
    /// Its run.
    pub run_id: RunId,
    /// Its operation.
    pub op_key: OpKey,
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
    pub op_key: OpKey,
    /// The run executing it.
    pub run_id: RunId,
    /// The consumed receipt.
    pub receipt_id: ReceiptId,
    /// Its status.
    pub status: OpStatus,
    /// The last entry that changed it.
    pub seq: u64,
    /// For a release created as a draft to publish after its assets: the `release_published`
    /// entry that published it. Absent otherwise, so older state trees read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_seq: Option<u64>,
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
    pub comment_id: CommentId,
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
    pub runs: BTreeMap<RunId, RunRecord>,
    /// Receipts by id.
    pub receipts: BTreeMap<ReceiptId, ReceiptRecord>,
    /// Recorded revokes by plan id.
    pub revokes: BTreeMap<String, RevokesRecord>,
    /// The policy hash, once a `policy_changed` recorded one.
    pub policy: Option<PolicyRecord>,
    /// Executed operations by key.
    pub ops: BTreeMap<OpKey, OpRecord>,
    /// The layout record: `None` while runs lie flat.
    pub layout: Option<LayoutRecord>,
}

/// One changed state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Halt set or lifted.
    Halt(Option<HaltRecord>),
    /// Lock taken or dropped.
    Lock(Option<LockRecord>),
    /// A run written at its fan-out path.
    Run(RunRecord),
    /// A run written at its flat path (a state without the layout record).
    FlatRun(RunRecord),
    /// A run's flat file removed (the migration moves it to its fan-out path).
    FlatRunRemoved(crate::model::RunId),
    /// The layout record written.
    Layout(LayoutRecord),
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
    fn run(&self, run_id: &RunId) -> Option<RunRecord>;
    /// One receipt.
    fn receipt(&self, receipt_id: &ReceiptId) -> Option<ReceiptRecord>;
    /// One executed operation.
    fn op(&self, op_key: &OpKey) -> Option<OpRecord>;
    /// Every run, by id (a scan: a view loads them all).
    fn runs(&self) -> Vec<RunRecord>;
    /// The recorded revokes of one plan.
    fn revokes(&self, plan_id: &str) -> Option<RevokesRecord>;
    /// The policy hash the last `policy_changed` recorded.
    fn policy(&self) -> Option<PolicyRecord>;
    /// The layout record (`None`: runs lie flat).
    fn layout(&self) -> Option<LayoutRecord>;
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

    fn run(&self, run_id: &RunId) -> Option<RunRecord> {
        self.runs.get(run_id).cloned()
    }

    fn receipt(&self, receipt_id: &ReceiptId) -> Option<ReceiptRecord> {
        self.receipts.get(receipt_id).cloned()
    }

    fn op(&self, op_key: &OpKey) -> Option<OpRecord> {
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

    fn layout(&self) -> Option<LayoutRecord> {
        self.layout.clone()
    }

    fn commit(&mut self, changes: Vec<Change>) {
        State::commit(self, changes);
    }
}

/// The fan-out path of a run's file (DESIGN 13.8): a new run rewrites two small directories,
/// not a tree listing every run (450 KB at 10 000 runs, as the flat layout did).
pub fn run_path(run_id: &RunId) -> String {
    let digest = sha256_hex(run_id.as_str().as_bytes());
    format!(
        "{RUNS_DIR}/{}/{}/{run_id}.json",
        &digest[..2],
        &digest[2..4]
    )
}

/// The flat path of a run's file, where chains started before the fan-out keep their runs until
/// their `state_migrated` entry: `state/runs/<run_id>.json`.
pub fn flat_run_path(run_id: &RunId) -> String {
    format!("{RUNS_DIR}/{run_id}.json")
}

/// Where a state with `layout` keeps a run, as the change that writes it there.
pub fn run_change(layout: Option<&LayoutRecord>, run: RunRecord) -> Change {
    match layout {
        Some(_) => Change::Run(run),
        None => Change::FlatRun(run),
    }
}

/// The fan-out path of a receipt's file.
pub fn receipt_path(receipt_id: &ReceiptId) -> String {
    let digest = sha256_hex(receipt_id.as_str().as_bytes());
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
pub fn op_path(op_key: &OpKey) -> String {
    let digest = sha256_hex(op_key.as_str().as_bytes());
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
            Self::FlatRun(run) => flat_run_path(&run.run_id),
            Self::FlatRunRemoved(run_id) => flat_run_path(run_id),
            Self::Layout(_) => LAYOUT_PATH.to_owned(),
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
            Self::Run(run) | Self::FlatRun(run) => Some(file_bytes(run)),
            Self::FlatRunRemoved(_) => None,
            Self::Layout(layout) => Some(file_bytes(layout)),
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
                Change::Run(run) | Change::FlatRun(run) => {
                    self.runs.insert(run.run_id.clone(), run);
                }
                // The run stays: the migration writes it again at its fan-out path.
                Change::FlatRunRemoved(_) => {}
                Change::Layout(layout) => self.layout = Some(layout),
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
        self.runs
            .values()
            .for_each(|r| add(run_change(self.layout.as_ref(), r.clone())));
        if let Some(layout) = &self.layout {
            add(Change::Layout(layout.clone()));
        }
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
    /// how [`State::files`] would write it (runs included: flat without the layout record, fanned
    /// out with it).
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (String, &'a [u8])>,
    ) -> Result<Self, StateFileError> {
        let mut state = State::default();
        let mut runs = Vec::new();
        for (path, bytes) in files {
            let change = Self::file_change(&path, bytes)?;
            if matches!(change, Change::Run(_) | Change::FlatRun(_)) {
                runs.push((path, matches!(change, Change::Run(_))));
            }
            state.commit(vec![change]);
        }
        let fanned_out = state.layout.is_some();
        if let Some((path, _)) = runs.into_iter().find(|(_, fan)| *fan != fanned_out) {
            let why = if fanned_out {
                "a run file at its flat path, but the layout record says runs fan out"
            } else {
                "a run file at its fan-out path, but there is no layout record (state/layout.json)"
            };
            return Err(StateFileError {
                path,
                why: why.into(),
            });
        }
        Ok(state)
    }

    /// The change that writes the one file at `path`, if `bytes` are exactly what that change
    /// writes there (a run is read in either layout; [`State::from_files`] checks the layout).
    pub fn file_change(path: &str, bytes: &[u8]) -> Result<Change, StateFileError> {
        let bad = |why: String| StateFileError {
            path: path.to_owned(),
            why,
        };
        let change = if path == HALT_PATH {
            Change::Halt(Some(parse_record(bytes).map_err(bad)?))
        } else if path == LOCK_PATH {
            Change::Lock(Some(parse_record(bytes).map_err(bad)?))
        } else if path == LAYOUT_PATH {
            let layout: LayoutRecord = parse_record(bytes).map_err(bad)?;
            if layout.version != RUNS_FAN_OUT {
                return Err(bad(format!(
                    "layout version {} is unknown (only {RUNS_FAN_OUT})",
                    layout.version
                )));
            }
            Change::Layout(layout)
        } else if let Some(name) = path.strip_prefix("state/runs/") {
            let run = parse_record(bytes).map_err(bad)?;
            if name.contains('/') {
                Change::Run(run)
            } else {
                Change::FlatRun(run)
            }
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
        Ok(change)
    }
}

fn parse_record<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}
