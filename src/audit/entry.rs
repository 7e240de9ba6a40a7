//! Audit entries (DESIGN 8): the typed event, the entry around it, its hash, and the exact
//! commit message that carries it.
//!
//! This module is pure: it neither reads the clock nor touches git. An entry is accepted only
//! in its one canonical spelling, so the bytes that were hashed and signed are the bytes that
//! are read back; anything else (unknown event type, unknown field, non-canonical JSON, a
//! summary or trailer that does not match) is rejected rather than repaired.
//!
//! The file passes 600 lines only by its unit tests, which sit beside the code they check.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::canonical::{self, CanonicalError};
use crate::model::{CommentId, Kid, OpKey, PrNumber, ReceiptId, RunId};

/// The only entry format version.
pub const ENTRY_VERSION: u32 = 1;
/// `prev` of the genesis entry: `sha256:` and 64 zeros.
pub const GENESIS_PREV: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
/// The trailer that closes every audit commit message.
pub const ENTRY_TRAILER: &str = "Shipgate-Entry: ";

/// Who caused an entry: a person or a workflow run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The GitHub login that acted: `GITHUB_ACTOR`, the token's login, or `git config user.name`.
    pub login: String,
    /// The GitHub Actions run id, when written by a workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_run: Option<String>,
    /// The commit the workflow ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
}

/// One operation of a run, as opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOperation {
    /// Position in the plan.
    pub op_index: u32,
    /// The operation key (`tag:v1.4.0`).
    pub op_key: OpKey,
}

/// Every event the design names, tagged by `type` in the entry JSON. An unknown `type` does not
/// parse, so verification fails closed on events it does not understand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The first entry of a chain (seq 0).
    Genesis {
        /// `owner/name` of the governed repository.
        repository: String,
        /// The policy hash in force when the chain was started, if one was known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy_hash: Option<String>,
        /// Key ids of the audit signers trusted at the start.
        signer_kids: Vec<Kid>,
        /// The state layout the chain starts in: `2` (runs fan out) for chains started since
        /// runs fan out; absent in older chains, whose runs lie flat until a `state_migrated`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state_layout: Option<u32>,
    },
    /// The state moved to a new layout: for layout `2`, every run from its flat path
    /// (`state/runs/<run_id>.json`) to its fan-out path (DESIGN 13.8). Written once, by the
    /// first append to a chain started before runs fanned out.
    StateMigrated {
        /// The new layout version.
        layout: u32,
    },
    /// A free-text operator note.
    Note {
        /// The note.
        message: String,
    },
    /// An approval comment counted towards a plan's quorum (DESIGN 4).
    ApprovalRecorded {
        /// The approved plan id.
        plan_id: String,
        /// The approver.
        login: String,
        /// The approving comment.
        comment_id: CommentId,
    },
    /// A revoke of a plan seen by mint, recorded so that it holds even once its comment is
    /// edited or deleted (DESIGN 13.5).
    ApprovalRevoked {
        /// The plan whose approvals it withdraws.
        plan_id: String,
        /// Who revoked (their approvals written up to the comment no longer count).
        login: String,
        /// The revoking comment.
        comment_id: CommentId,
        /// When that comment was written (RFC 3339).
        written_at: String,
    },
    /// The first decision under a policy hash other than the chain's last known one (the
    /// genesis's, or the last `policy_changed`'s): the record of every policy change.
    PolicyChanged {
        /// The hash known before (none when the genesis recorded no policy).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The hash decisions are taken under from now on.
        to: String,
    },
    /// A run opened for a plan once quorum was met (DESIGN 5).
    RunOpened {
        /// The new run.
        run_id: RunId,
        /// The plan it executes.
        plan_id: String,
        /// The policy hash at opening.
        policy_hash: String,
        /// The plan's operations.
        operations: Vec<RunOperation>,
        /// The pull request whose approvals opened it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pr: Option<PrNumber>,
    },
    /// A receipt minted for one operation of a run.
    ReceiptMinted {
        /// The receipt.
        receipt_id: ReceiptId,
        /// Its run.
        run_id: RunId,
        /// Its operation.
        op_key: OpKey,
        /// False for advisory receipts, which can never be consumed.
        enforceable: bool,
        /// Expiry (RFC 3339).
        expires_at: String,
        /// The signed receipt document (its JSON), which execution reads back and verifies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<String>,
    },
    /// A receipt used up, before its effect (DESIGN 7, step 4).
    ReceiptConsumed {
        /// The receipt.
        receipt_id: ReceiptId,
        /// The run executing it.
        run_id: RunId,
        /// The operation it authorizes.
        op_key: OpKey,
    },
    /// The effect exists exactly as approved.
    OperationSucceeded {
        /// The run.
        run_id: RunId,
        /// The operation.
        op_key: OpKey,
        /// The consumed receipt.
        receipt_id: ReceiptId,
    },
    /// The effect failed after its receipt was consumed.
    OperationFailed {
        /// The run.
        run_id: RunId,
        /// The operation.
        op_key: OpKey,
        /// The consumed receipt.
        receipt_id: ReceiptId,
        /// A stable reason code.
        reason: String,
    },
    /// An in-doubt operation found done exactly as approved (DESIGN 7, recovery).
    OperationRecovered {
        /// The run.
        run_id: RunId,
        /// The operation.
        op_key: OpKey,
        /// The consumed receipt.
        receipt_id: ReceiptId,
    },
    /// A release its run created as a draft (`publish: after_assets`) was published, once the
    /// release workflow had attached its assets (issue 15). The approval of the operation
    /// covered publishing it; no receipt is consumed.
    ReleasePublished {
        /// The run that shipped the draft.
        run_id: RunId,
        /// The release operation (`release:<tag>`).
        op_key: OpKey,
        /// GitHub's id of the release.
        release_id: u64,
    },
    /// The gate blocked an operation.
    OperationDenied {
        /// The run, when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_id: Option<RunId>,
        /// The operation.
        op_key: OpKey,
        /// The gate's reason code.
        reason: String,
    },
    /// Emergency stop: nothing is minted or consumed until resumed.
    Halted {
        /// The halt admin.
        by: String,
        /// Why.
        reason: String,
        /// The `/shipgate halt` comment it carries out (absent for a halt from the command
        /// line, and in entries written before comments were recorded): mint acts on each
        /// comment once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment_id: Option<CommentId>,
    },
    /// The halt was lifted.
    Resumed {
        /// The halt admin.
        by: String,
        /// The `/shipgate resume` comment by which the halt admin asked for it (absent in
        /// entries written before resumes required one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment_id: Option<CommentId>,
    },
    /// A `/shipgate ship` comment asked for a run to be executed, and mint started the ship
    /// workflow for it (`workflow_dispatch`), where it executes in the ship environment.
    ShipRequested {
        /// The run to execute.
        run_id: RunId,
        /// Who asked.
        by: String,
        /// The asking comment: mint acts on each comment once.
        comment_id: CommentId,
    },
    /// A run took the repository's execution lock.
    LockAcquired {
        /// The run holding it.
        run_id: RunId,
        /// The executor holding it for the run (`exe_...`, fresh per execution): two executors
        /// of one run started in the same second would otherwise write byte-identical entries
        /// and each take the other's lock for its own. Absent in entries of older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<String>,
        /// Until when (RFC 3339).
        expires_at: String,
    },
    /// The holder gave the lock back.
    LockReleased {
        /// The run that held it.
        run_id: RunId,
        /// The executor that held it, as its `lock_acquired` named it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holder: Option<String>,
    },
    /// An expired lock was broken by someone else.
    LockBroken {
        /// The run that held it.
        run_id: RunId,
        /// Why it was broken.
        reason: String,
    },
    /// Mint declined to open a run.
    MintRefused {
        /// The plan.
        plan_id: String,
        /// A stable reason code.
        reason: String,
    },
}

impl Event {
    /// The `type` tag, as written in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Genesis { .. } => "genesis",
            Self::Note { .. } => "note",
            Self::StateMigrated { .. } => "state_migrated",
            Self::ApprovalRecorded { .. } => "approval_recorded",
            Self::ApprovalRevoked { .. } => "approval_revoked",
            Self::PolicyChanged { .. } => "policy_changed",
            Self::RunOpened { .. } => "run_opened",
            Self::ReceiptMinted { .. } => "receipt_minted",
            Self::ReceiptConsumed { .. } => "receipt_consumed",
            Self::OperationSucceeded { .. } => "operation_succeeded",
            Self::OperationFailed { .. } => "operation_failed",
            Self::OperationRecovered { .. } => "operation_recovered",
            Self::ReleasePublished { .. } => "release_published",
            Self::OperationDenied { .. } => "operation_denied",
            Self::Halted { .. } => "halted",
            Self::Resumed { .. } => "resumed",
            Self::ShipRequested { .. } => "ship_requested",
            Self::LockAcquired { .. } => "lock_acquired",
            Self::LockReleased { .. } => "lock_released",
            Self::LockBroken { .. } => "lock_broken",
            Self::MintRefused { .. } => "mint_refused",
        }
    }

    /// The run the event names, if it names one (for a broken lock: the run that held it).
    pub fn run_id(&self) -> Option<&RunId> {
        match self {
            Self::RunOpened { run_id, .. }
            | Self::ReceiptMinted { run_id, .. }
            | Self::ReceiptConsumed { run_id, .. }
            | Self::OperationSucceeded { run_id, .. }
            | Self::OperationFailed { run_id, .. }
            | Self::OperationRecovered { run_id, .. }
            | Self::ReleasePublished { run_id, .. }
            | Self::LockAcquired { run_id, .. }
            | Self::LockReleased { run_id, .. }
            | Self::LockBroken { run_id, .. }
            | Self::ShipRequested { run_id, .. } => Some(run_id),
            Self::OperationDenied { run_id, .. } => run_id.as_ref(),
            Self::Genesis { .. }
            | Self::Note { .. }
            | Self::StateMigrated { .. }
            | Self::ApprovalRecorded { .. }
            | Self::ApprovalRevoked { .. }
            | Self::PolicyChanged { .. }
            | Self::Halted { .. }
            | Self::Resumed { .. }
            | Self::MintRefused { .. } => None,
        }
    }

    /// A few words naming the subject of the event, for the commit summary line.
    fn subject(&self) -> String {
        match self {
            Self::Genesis { repository, .. } => repository.clone(),
            Self::StateMigrated { layout } => format!("layout {layout}"),
            Self::Note { message } => message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect(),
            Self::ApprovalRecorded { login, .. } | Self::ApprovalRevoked { login, .. } => {
                login.clone()
            }
            Self::RunOpened { run_id, .. }
            | Self::LockAcquired { run_id, .. }
            | Self::LockReleased { run_id, .. }
            | Self::LockBroken { run_id, .. }
            | Self::ShipRequested { run_id, .. } => run_id.to_string(),
            Self::ReceiptMinted { receipt_id, .. } | Self::ReceiptConsumed { receipt_id, .. } => {
                receipt_id.to_string()
            }
            Self::OperationSucceeded { op_key, .. }
            | Self::OperationFailed { op_key, .. }
            | Self::OperationRecovered { op_key, .. }
            | Self::ReleasePublished { op_key, .. }
            | Self::OperationDenied { op_key, .. } => op_key.to_string(),
            Self::Halted { reason, .. } => reason.chars().take(60).collect(),
            Self::Resumed { by, .. } => by.clone(),
            Self::PolicyChanged { to, .. } => to.clone(),
            Self::MintRefused { reason, .. } => reason.clone(),
        }
    }
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Always [`ENTRY_VERSION`].
    pub version: u32,
    /// Position in the chain, from 0 (genesis), contiguous.
    pub seq: u64,
    /// Hash of the previous entry, or [`GENESIS_PREV`].
    pub prev: String,
    /// When it was written (RFC 3339, UTC, whole seconds, `Z`).
    pub at: String,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    pub event: Event,
}

/// Why a commit message does not carry a well-formed entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The message is not `summary`, blank line, JSON, blank line, trailer.
    #[error("the commit message is not laid out as summary, JSON and Shipgate-Entry trailer")]
    Layout,
    /// The JSON is not an entry (unknown event type, unknown or missing field, wrong type).
    #[error("the entry does not parse: {0}")]
    Json(String),
    /// The JSON parses but is not in its canonical (RFC 8785) spelling.
    #[error("the entry JSON is not canonical")]
    NotCanonical,
    /// A version other than 1.
    #[error("unsupported entry version {0}")]
    Version(u32),
    /// `at` is not an RFC 3339 UTC instant in whole seconds.
    #[error("`at` is not an RFC 3339 UTC instant with a Z: {0}")]
    Time(String),
    /// The summary line does not match the entry.
    #[error("the summary line does not match the entry")]
    Summary,
    /// The trailer's hash is not the entry's hash.
    #[error("the Shipgate-Entry trailer says {trailer} but the entry hashes to {actual}")]
    Trailer {
        /// What the trailer claims.
        trailer: String,
        /// The hash of the JSON.
        actual: String,
    },
    /// The entry has no canonical form.
    #[error("the entry has no canonical form: {0}")]
    Canonical(String),
}

impl From<CanonicalError> for EntryError {
    fn from(err: CanonicalError) -> Self {
        Self::Canonical(err.to_string())
    }
}

/// An entry with its canonical JSON and hash, as carried by one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEntry {
    /// The entry.
    pub entry: Entry,
    /// Its canonical JSON.
    pub json: String,
    /// `sha256:` of the JSON: what the next entry's `prev` names.
    pub hash: String,
}

impl Entry {
    /// The instant `at` names.
    pub fn at_time(&self) -> Result<OffsetDateTime, EntryError> {
        parse_entry_time(&self.at)
    }

    /// Canonicalizes and hashes the entry.
    pub fn seal(self) -> Result<SealedEntry, EntryError> {
        let json = canonical::to_canonical_json(&self)?;
        let hash = canonical::sha256_prefixed(json.as_bytes());
        Ok(SealedEntry {
            entry: self,
            json,
            hash,
        })
    }

    /// The first line of the commit message.
    pub fn summary(&self) -> String {
        let subject = self.event.subject().replace(['\n', '\r'], " ");
        format!("audit #{}: {} {}", self.seq, self.event.kind(), subject)
            .trim_end()
            .to_owned()
    }
}

/// Formats an instant the one way entries spell time: RFC 3339, UTC, whole seconds, `Z`.
pub fn format_entry_time(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

fn parse_entry_time(text: &str) -> Result<OffsetDateTime, EntryError> {
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| EntryError::Time(text.into()))?;
    if format_entry_time(at) != text {
        return Err(EntryError::Time(text.into()));
    }
    Ok(at)
}

impl SealedEntry {
    /// The commit message: summary, blank line, canonical JSON, blank line, trailer.
    pub fn commit_message(&self) -> String {
        format!(
            "{}\n\n{}\n\n{}{}\n",
            self.entry.summary(),
            self.json,
            ENTRY_TRAILER,
            self.hash
        )
    }

    /// Reads an entry back from a commit message, accepting only the exact spelling that
    /// [`SealedEntry::commit_message`] writes.
    pub fn from_commit_message(message: &str) -> Result<Self, EntryError> {
        let mut parts = message.splitn(3, "\n\n");
        let (Some(summary), Some(json), Some(trailer)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(EntryError::Layout);
        };
        let trailer_hash = trailer
            .strip_prefix(ENTRY_TRAILER)
            .and_then(|rest| rest.strip_suffix('\n'))
            .filter(|hash| !hash.contains('\n'))
            .ok_or(EntryError::Layout)?;
        let entry: Entry =
            serde_json::from_str(json).map_err(|e| EntryError::Json(e.to_string()))?;
        if entry.version != ENTRY_VERSION {
            return Err(EntryError::Version(entry.version));
        }
        entry.at_time()?;
        let sealed = entry.seal()?;
        if sealed.json != json {
            return Err(EntryError::NotCanonical);
        }
        if sealed.entry.summary() != summary {
            return Err(EntryError::Summary);
        }
        if sealed.hash != trailer_hash {
            return Err(EntryError::Trailer {
                trailer: trailer_hash.to_owned(),
                actual: sealed.hash,
            });
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(seq: u64) -> Entry {
        Entry {
            version: 1,
            seq,
            prev: GENESIS_PREV.into(),
            at: "2026-11-22T10:00:00Z".into(),
            actor: Actor {
                login: "alice".into(),
                workflow_run: None,
                sha: None,
            },
            event: Event::Note {
                message: "hello\nworld".into(),
            },
        }
    }

    #[test]
    fn entry_json_is_canonical_and_hash_is_known() {
        let sealed = note(3).seal().unwrap();
        assert_eq!(
            sealed.json,
            r#"{"actor":{"login":"alice"},"at":"2026-11-22T10:00:00Z","event":{"message":"hello\nworld","type":"note"},"prev":"sha256:0000000000000000000000000000000000000000000000000000000000000000","seq":3,"version":1}"#
        );
        assert_eq!(
            sealed.hash,
            canonical::sha256_prefixed(sealed.json.as_bytes())
        );
    }

    #[test]
    fn commit_message_round_trips() {
        let sealed = note(7).seal().unwrap();
        let message = sealed.commit_message();
        assert!(message.starts_with("audit #7: note hello\n\n{"));
        assert_eq!(SealedEntry::from_commit_message(&message).unwrap(), sealed);
    }

    #[test]
    fn unknown_event_types_and_fields_are_rejected() {
        let sealed = note(1).seal().unwrap();
        let message = sealed.commit_message();
        let unknown_type = message.replace(r#""type":"note""#, r#""type":"nope""#);
        assert!(matches!(
            SealedEntry::from_commit_message(&unknown_type),
            Err(EntryError::Json(_))
        ));
        let extra_field = message.replace(r#""seq":1"#, r#""seq":1,"x":1"#);
        assert!(matches!(
            SealedEntry::from_commit_message(&extra_field),
            Err(EntryError::Json(_))
        ));
    }

    #[test]
    fn entries_naming_ids_that_are_not_ids_are_rejected() {
        for (id, forged) in [
            ("run_1", "../run"),
            ("run_1", "rcp_1"),
            ("rcp_1", "run_1/.."),
            ("tag:v1", "v1"),
        ] {
            let json = r#"{"actor":{"login":"alice"},"at":"2026-11-22T10:00:00Z","event":{"op_key":"tag:v1","receipt_id":"rcp_1","run_id":"run_1","type":"receipt_consumed"},"prev":"sha256:0000000000000000000000000000000000000000000000000000000000000000","seq":3,"version":1}"#;
            assert!(serde_json::from_str::<Entry>(json).is_ok());
            let tampered = json.replace(&format!("\"{id}\""), &format!("\"{forged}\""));
            assert!(
                serde_json::from_str::<Entry>(&tampered).is_err(),
                "{forged}"
            );
        }
    }

    #[test]
    fn non_canonical_json_and_wrong_trailer_are_rejected() {
        let sealed = note(1).seal().unwrap();
        let message = sealed.commit_message();
        let spaced = message.replace(r#""seq":1"#, r#""seq": 1"#);
        assert_eq!(
            SealedEntry::from_commit_message(&spaced),
            Err(EntryError::NotCanonical)
        );
        let other = note(2).seal().unwrap();
        let wrong_trailer = message.replace(&sealed.hash, &other.hash);
        assert!(matches!(
            SealedEntry::from_commit_message(&wrong_trailer),
            Err(EntryError::Trailer { .. })
        ));
    }

    #[test]
    fn entry_times_must_be_utc_whole_seconds() {
        let mut entry = note(1);
        entry.at = "2026-11-22T10:00:00+01:00".into();
        assert!(entry.at_time().is_err());
        entry.at = "2026-11-22T10:00:00.5Z".into();
        assert!(entry.at_time().is_err());
    }
}
