//! What verification reports: the [`Problem`] of a bad commit, one variant per step of the
//! checklist, the [`Failure`] naming the first bad commit, and [`VerifyError`].

use std::path::PathBuf;

use git2::Oid;
use time::OffsetDateTime;

use crate::audit::entry::{EntryError, format_entry_time};
use crate::audit::reason::Reason;
use crate::audit::state::ApplyError;
use crate::audit::store::StoreError;
use crate::model::Kid;

/// What is wrong with a commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Step 1: more than one parent.
    #[error("merge commit with {0} parents: the chain must be a single line")]
    MergeCommit(usize),
    /// Step 1: the commit object does not parse.
    #[error("not a well-formed commit object: {0}")]
    MalformedCommit(String),
    /// Step 2: no signature header.
    #[error("the commit is not signed")]
    Unsigned,
    /// Step 2: the signature is not a valid SSHSIG over this commit.
    #[error("the signature does not verify: {0}")]
    BadSignature(String),
    /// Step 2: signed by a key that is no audit signer.
    #[error("signed by a key that is not a trusted audit signer ({0})")]
    UntrustedKey(String),
    /// Step 3: signed by a retired key.
    #[error("signed by audit key `{kid}`, retired at {not_after}, at {at}")]
    KeyRetired {
        /// The key id.
        kid: Kid,
        /// Its retirement.
        not_after: String,
        /// The entry time.
        at: String,
    },
    /// Step 3: signed by a key before its `not_before`.
    #[error(
        "signed by audit key `{kid}` at {}, when it was not in force yet (from {})",
        format_entry_time(*at),
        format_entry_time(*not_before)
    )]
    KeyNotYetInForce {
        /// The key id.
        kid: Kid,
        /// When it comes into force.
        not_before: OffsetDateTime,
        /// The entry time.
        at: OffsetDateTime,
    },
    /// Step 4.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// Step 5: `seq` is not the next number.
    #[error("seq {found} follows seq {previous}; expected {}", previous + 1)]
    SeqGap {
        /// The previous entry's seq.
        previous: u64,
        /// This entry's seq.
        found: u64,
    },
    /// Step 5: the first entry is not a genesis at seq 0, or a genesis appears later.
    #[error("a chain starts with exactly one genesis entry at seq 0 (found {kind} at seq {seq})")]
    Genesis {
        /// The event type found.
        kind: &'static str,
        /// Its seq.
        seq: u64,
    },
    /// Step 5: the entry is dated before the previous one.
    #[error(
        "dated {}, before the previous entry ({}): entry times never go backwards",
        format_entry_time(*at),
        format_entry_time(*previous)
    )]
    TimeWentBackwards {
        /// The previous entry's time.
        previous: OffsetDateTime,
        /// This entry's time.
        at: OffsetDateTime,
    },
    /// Step 5: the entry is dated more than [`FUTURE_TOLERANCE`] ahead of the verifier.
    #[error(
        "dated {}, more than 5 minutes ahead of this verifier's clock ({})",
        format_entry_time(*at),
        format_entry_time(*now)
    )]
    InTheFuture {
        /// This entry's time.
        at: OffsetDateTime,
        /// The verifier's clock.
        now: OffsetDateTime,
    },
    /// Step 5: `prev` does not name the previous entry.
    #[error("prev is {found} but the previous entry hashes to {expected}")]
    PrevMismatch {
        /// The previous entry's hash.
        expected: String,
        /// What `prev` says.
        found: String,
    },
    /// Step 6.
    #[error("the entry breaks the state rules: {0}")]
    Rules(ApplyError),
    /// Step 7.
    #[error("the tree {found} is not the replayed state {expected}")]
    TreeMismatch {
        /// The replayed state's tree.
        expected: Oid,
        /// The commit's tree.
        found: Oid,
    },
    /// Step 8: the verified head of an earlier run is no longer in the branch.
    #[error(
        "the branch no longer contains checkpoint {checkpoint}, verified earlier: history was rolled back or rewritten"
    )]
    Rollback {
        /// The checkpointed head.
        checkpoint: Oid,
    },
    /// The branch is gone, though a checkpoint, a pin or an earlier verification proves it
    /// existed: deleting it would start the record over.
    #[error("the governance branch is missing, but {known} proves a chain existed: it was deleted")]
    BranchMissing {
        /// The commit known to have been on the chain.
        known: Oid,
    },
    /// The chain does not start at the genesis commit the policy pins (`audit.genesis`): the
    /// branch was deleted and started over, or replaced.
    #[error("the chain starts here, but the policy pins its genesis at {pinned}")]
    GenesisNotPinned {
        /// The pinned genesis commit.
        pinned: Oid,
    },
}

/// The first bad commit and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: commit {commit}{}: {problem}", self.reason().code(), seq.map(|s| format!(" (seq {s})")).unwrap_or_default())]
pub struct Failure {
    /// The bad commit.
    pub commit: Oid,
    /// Its seq, when its entry parsed.
    pub seq: Option<u64>,
    /// What is wrong.
    pub problem: Problem,
}

impl Failure {
    /// `AUDIT_ROLLBACK` for a rollback, `AUDIT_CHAIN_INVALID` for everything else.
    pub fn reason(&self) -> Reason {
        match self.problem {
            Problem::Rollback { .. } | Problem::BranchMissing { .. } => Reason::Rollback,
            _ => Reason::ChainInvalid,
        }
    }
}

/// Why verification could not finish or did not pass.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The chain is not valid (exit 4).
    #[error(transparent)]
    Invalid(Failure),
    /// `--since` is not a commit of the chain.
    #[error("--since {0} is not on the chain's first-parent line")]
    SinceNotOnChain(Oid),
    /// The repository could not be read (exit 3).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint file could not be read or written.
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}
