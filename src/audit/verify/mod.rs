//! `audit verify`: is this branch exactly a chain that trusted audit keys wrote by the rules?
//!
//! Checklist (DESIGN 8 and 10), one [`Problem`] variant per failed step; the first bad commit
//! in chain order is named:
//! 1. Shape: a single line of commits, first parent to first parent, each laid out as git
//!    writes commits; a merge commit (a side branch joined in) is refused. `--since` must lie
//!    on that line.
//! 2. Signature: every commit carries an SSHSIG (namespace `git`) over exactly the commit
//!    without its signature header, made by a key listed as an `audit` signer.
//! 3. Key in force: that signer was in force (`not_before`, `not_after`) at the entry's time,
//!    so a leaked old key cannot extend the chain: it could only date its entry before its
//!    retirement, which step 5 refuses once the chain has moved on (DESIGN 13.2).
//! 4. Entry: the message is summary, canonical JSON and a `Shipgate-Entry` trailer that is the
//!    hash of that JSON; unknown event types or fields are refused (fail closed).
//! 5. Chain: `seq` contiguous from 0, `prev` the previous entry's hash, genesis only at 0;
//!    `at` never earlier than the previous entry's, and, when the verifier gives its clock,
//!    never more than [`FUTURE_TOLERANCE`] ahead of it (DESIGN 13.2).
//! 6. Rules: [`apply`](super::state::apply) accepts the entry, which also proves every executed operation had an
//!    enforceable, unexpired receipt consumed exactly once before its outcome.
//! 7. State: the commit's tree is exactly the replayed state.
//! 8. Rollback: the branch still descends from the last verified head (the checkpoint).
//!
//! Step 1's walk reads every commit once, newest first, and hands the bytes to worker
//! threads as it goes; steps 2 to 4 are independent per commit and run on those threads; 5 to
//! 7 run in order: 5 and 6 on the calling thread, 7 (the state trees) on a thread of its own,
//! fed the entries that passed 6 in batches, so the rules of one entry overlap the trees of
//! the ones before. Hashing large state directories for step 7 is handed to the worker threads
//! (checked against the ids the commit's tree gives them; if one fails, the chain is verified
//! again without handing off, to name the first bad commit exactly). With one thread, all of it
//! runs on the calling thread.
//! Verification writes nothing to the repository: the replayed state trees are only hashed, in
//! memory (see `replay`).
//!
//! Files: this one holds the entry points and what they take and return; `problems` the
//! report of a bad commit; `walk` step 1 and the worker threads; `signature` steps 2 to 4;
//! `chain` steps 1 and 5 to 7 (the replay); `checkpoint` step 8.

mod chain;
mod checkpoint;
mod problems;
mod signature;
mod walk;

use std::sync::Arc;

use git2::{Oid, Repository};
use time::OffsetDateTime;

pub use self::checkpoint::{
    check_checkpoint, checkpoint_path, is_commit, read_verified_start, verified_start_path,
    verify_from_checkpoint, write_checkpoint, write_verified_start,
};
pub use self::problems::{Failure, Problem, VerifyError};
pub use self::signature::check_raw_commit;
pub use self::walk::HOLD_BYTES;
use super::entry::Entry;
use super::state::State;
use super::store::{StoreError, read_entry, read_state, read_tip};
use crate::policy::Signer;
use chain::verify_line;

/// How far ahead of the verifier's clock an entry may be dated (clocks of CI runners differ).
pub const FUTURE_TOLERANCE: time::Duration = time::Duration::minutes(5);

/// What passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The verified head (`None` for an absent branch).
    pub head: Option<Oid>,
    /// Entries checked in this run.
    pub entries_checked: u64,
    /// The head's seq.
    pub head_seq: Option<u64>,
    /// The genesis commit, when the whole chain was verified.
    pub root: Option<Oid>,
}

/// Options of a verification.
pub struct VerifyOptions<'a> {
    /// Trusted signers; only `audit` ones count.
    pub signers: &'a [Signer],
    /// A commit trusted without checking (a checkpoint); verification starts after it.
    pub since: Option<Oid>,
    /// Threads for the per-commit checks.
    pub threads: usize,
    /// Called with (done, total) as batches finish.
    pub progress: Option<&'a dyn Fn(u64, u64)>,
    /// Bytes of commits the walk may keep for the checks, so as not to read them twice
    /// ([`HOLD_BYTES`] by default); the commits beyond are read again when the replay nears
    /// them.
    pub hold_bytes: usize,
    /// The verifier's clock: entries dated more than [`FUTURE_TOLERANCE`] after it are
    /// refused. `None` skips that check (for chains built on purpose in the future).
    pub now: Option<OffsetDateTime>,
}

impl<'a> VerifyOptions<'a> {
    /// The whole chain, trusted by `signers`, on every core, holding [`HOLD_BYTES`], without
    /// progress reports, judged by the wall clock: what every command that verifies asks, so
    /// none can forget the clock.
    pub fn whole_chain(signers: &'a [Signer]) -> Self {
        Self {
            signers,
            since: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: None,
            hold_bytes: HOLD_BYTES,
            now: Some(OffsetDateTime::now_utc()),
        }
    }
}

/// An entry whose commit passed the per-commit checks (steps 2 to 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEntry {
    /// The entry.
    pub entry: Entry,
    /// `sha256:` of its canonical JSON: what the next entry's `prev` names.
    pub hash: String,
}

/// One commit after the per-commit checks (steps 2 to 4): what the replay needs of it (not
/// the entry's JSON, so the checked commits waiting for the replay take less memory).
struct Decoded {
    tree: Oid,
    parents: usize,
    /// The entry's `at`.
    at: OffsetDateTime,
    checked: CheckedEntry,
}

/// Verifies the chain ending at `head` (checklist at the top of this file, steps 1 to 7).
///
/// One walk reads the first-parent line, newest first, and hands the commits it read, in
/// chunks, to `options.threads` worker threads for the per-commit checks (steps 2 to 4), so
/// that no commit is read twice and the walk overlaps the checks; the replay (steps 5 to 7)
/// then goes in chain order, the rules on the calling thread and the state trees on a thread
/// of their own. With one thread everything runs on the calling thread. Either way the first
/// bad commit in chain order is named.
pub fn verify_chain(
    repo: &Repository,
    head: Oid,
    options: &VerifyOptions<'_>,
) -> Result<Verified, VerifyError> {
    let start = options
        .since
        .map(|since| trusted_head_at(repo, since, None))
        .transpose()?;
    let (trusted, entries_checked) = verify_line(repo, head, start, options)?;
    Ok(Verified {
        head: Some(head),
        entries_checked,
        head_seq: Some(trusted.seq),
        root: trusted.root,
    })
}

/// A commit taken as verified, with the state its tree holds and the chain's genesis `root`
/// when known: where a verification that trusts what came before starts.
pub fn trusted_head_at(
    repo: &Repository,
    commit: Oid,
    root: Option<Oid>,
) -> Result<TrustedHead, VerifyError> {
    let tip = read_tip(repo, commit)?;
    let at = read_entry(repo, commit)?
        .entry
        .at_time()
        .map_err(|source| StoreError::Entry { commit, source })?;
    Ok(TrustedHead {
        commit,
        seq: tip.seq,
        hash: tip.hash,
        tree: tip.tree,
        at,
        root,
        state: Arc::new(read_state(repo, commit)?),
    })
}

/// A head that passed verification, with everything extending the verification needs: the
/// replayed state at it, and the chain's first commit when the whole chain was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedHead {
    /// The verified commit.
    pub commit: Oid,
    /// Its entry's seq.
    pub seq: u64,
    /// Its entry's hash.
    pub hash: String,
    /// Its tree, which is exactly the replayed state.
    pub tree: Oid,
    /// Its entry's time (the next entry may not be earlier).
    pub at: OffsetDateTime,
    /// The genesis commit, when verification started from it.
    pub root: Option<Oid>,
    /// The state after its entry, shared: every reader of the trusted head (each decision's
    /// [`crate::audit::trust::VerifiedState`]) takes it without copying a large state.
    pub state: Arc<State>,
}

/// Verifies the chain from `trusted` (or, without one, from its genesis) up to `head`, which
/// must descend from it: what every decision does before it builds on a head (DESIGN 13.1).
/// The extension is checked on this thread: it is a few entries long. Returns the new trusted
/// head and the number of entries checked.
pub fn verify_extension(
    repo: &Repository,
    trusted: Option<TrustedHead>,
    head: Oid,
    signers: &[Signer],
) -> Result<(TrustedHead, u64), VerifyError> {
    if let Some(trusted) = &trusted
        && trusted.commit == head
    {
        return Ok((trusted.clone(), 0));
    }
    let options = VerifyOptions {
        since: trusted.as_ref().map(|t| t.commit),
        threads: if trusted.is_some() {
            1
        } else {
            VerifyOptions::whole_chain(signers).threads
        },
        ..VerifyOptions::whole_chain(signers)
    };
    verify_line(repo, head, trusted, &options)
}
