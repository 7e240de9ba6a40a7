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
//! 6. Rules: [`apply`] accepts the entry, which also proves every executed operation had an
//!    enforceable, unexpired receipt consumed exactly once before its outcome.
//! 7. State: the commit's tree is exactly the replayed state.
//! 8. Rollback: the branch still descends from the last verified head (the checkpoint).
//!
//! Step 1's walk reads every commit once, newest first, and hands the bytes to worker
//! threads as it goes; steps 2 to 4 are independent per commit and run on those threads; 5 to
//! 7 run in order, except the hashing of large state directories for step 7, which the replay
//! hands to the same worker threads (checked against the ids the commit's tree gives them; if one fails, the
//! chain is verified again without handing off, to name the first bad commit exactly).
//! Verification writes nothing to the repository: the replayed state trees are only hashed, in
//! memory (see `replay`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use git2::{ObjectType, Oid, Repository};
use ssh_key::Algorithm;
use ssh_key::SshSig;
use ssh_key::public::KeyData;
use time::OffsetDateTime;

use super::batch::{BatchKey, Signed, verify_batch};
use super::entry::{Entry, EntryError, Event, GENESIS_PREV, SealedEntry, format_entry_time};
use super::reason::Reason;
use super::replay::{StateTrees, TreeChecks};
use super::state::{ApplyError, State, apply};
use super::store::{GIT_NAMESPACE, StoreError, empty_tree, git, read_entry, read_state, read_tip};
use crate::policy::{Signer, SignerRole};

/// Entries between two progress reports.
const BATCH: usize = 4096;
/// How far ahead of the verifier's clock an entry may be dated (clocks of CI runners differ).
pub const FUTURE_TOLERANCE: time::Duration = time::Duration::minutes(5);

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
        kid: String,
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
        kid: String,
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
/// then stays sequential, in chain order, on the calling thread. With one thread everything
/// runs on the calling thread. Either way the first bad commit in chain order is named.
pub fn verify_chain(
    repo: &Repository,
    head: Oid,
    options: &VerifyOptions<'_>,
) -> Result<Verified, VerifyError> {
    let start =
        match options.since {
            Some(since) => {
                let tip = read_tip(repo, since)?;
                let at = read_entry(repo, since)?.entry.at_time().map_err(|source| {
                    StoreError::Entry {
                        commit: since,
                        source,
                    }
                })?;
                Some(TrustedHead {
                    commit: since,
                    seq: tip.seq,
                    hash: tip.hash,
                    tree: tip.tree,
                    at,
                    root: None,
                    state: read_state(repo, since)?,
                })
            }
            None => None,
        };
    let (trusted, entries_checked) = verify_line(repo, head, start, options)?;
    Ok(Verified {
        head: Some(head),
        entries_checked,
        head_seq: Some(trusted.seq),
        root: trusted.root,
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
    /// The state after its entry.
    pub state: State,
}

/// Verifies the chain from `trusted` (or, without one, from its genesis) up to `head`, which
/// must descend from it: what every decision does before it builds on a head (DESIGN 13.1).
/// The extension is checked on this thread: it is a few entries long.
pub fn verify_extension(
    repo: &Repository,
    trusted: Option<TrustedHead>,
    head: Oid,
    signers: &[Signer],
) -> Result<TrustedHead, VerifyError> {
    if let Some(trusted) = &trusted
        && trusted.commit == head
    {
        return Ok(trusted.clone());
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
    verify_line(repo, head, trusted, &options).map(|(trusted, _)| trusted)
}

/// Steps 1 to 7 from `start` (excluded; `options.since` names it) to `head`; returns the
/// verified head and how many entries were checked.
fn verify_line(
    repo: &Repository,
    head: Oid,
    start: Option<TrustedHead>,
    options: &VerifyOptions<'_>,
) -> Result<(TrustedHead, u64), VerifyError> {
    let keys = AuditKeys::new(options.signers);
    let deferring = options.threads > 1;
    // A failed deferred tree check verifies again from the same start, single-threaded.
    let retry_start = if deferring { start.clone() } else { None };
    let mut root = start.as_ref().and_then(|s| s.root);
    let (mut state, mut previous) = match start {
        Some(start) => (
            start.state,
            Some((start.seq, start.hash, start.tree, start.at)),
        ),
        None => (State::default(), None),
    };
    let mut trees = StateTrees::new(
        repo,
        previous
            .as_ref()
            .map_or_else(empty_tree, |(_, _, tree, _)| *tree),
    );
    // With worker threads, they also hash the large state directories (see `replay`).
    let checks = TreeChecks::new();
    let mut replay = |oid: Oid, decoded: Result<Decoded, Problem>| -> Result<(), VerifyError> {
        let fail = |seq: Option<u64>, problem: Problem| {
            VerifyError::Invalid(Failure {
                commit: oid,
                seq,
                problem,
            })
        };
        let commit = decoded.map_err(|problem| fail(None, problem))?;
        let entry = &commit.checked.entry;
        let seq = Some(entry.seq);
        // 1. No merges.
        if commit.parents > 1 {
            return Err(fail(seq, Problem::MergeCommit(commit.parents)));
        }
        // 5. Chain.
        let is_genesis = matches!(entry.event, Event::Genesis { .. });
        let previous_tree = match &previous {
            None => {
                if entry.seq != 0 || !is_genesis || entry.prev != GENESIS_PREV {
                    return Err(fail(
                        seq,
                        Problem::Genesis {
                            kind: entry.event.kind(),
                            seq: entry.seq,
                        },
                    ));
                }
                root = Some(oid);
                empty_tree()
            }
            Some((previous_seq, previous_hash, previous_tree, _)) => {
                if entry.seq != previous_seq + 1 {
                    return Err(fail(
                        seq,
                        Problem::SeqGap {
                            previous: *previous_seq,
                            found: entry.seq,
                        },
                    ));
                }
                if &entry.prev != previous_hash {
                    return Err(fail(
                        seq,
                        Problem::PrevMismatch {
                            expected: previous_hash.clone(),
                            found: entry.prev.clone(),
                        },
                    ));
                }
                if is_genesis {
                    return Err(fail(
                        seq,
                        Problem::Genesis {
                            kind: entry.event.kind(),
                            seq: entry.seq,
                        },
                    ));
                }
                *previous_tree
            }
        };
        let previous_at = previous.as_ref().map(|(_, _, _, at)| *at);
        check_time(commit.at, previous_at, options.now).map_err(|problem| fail(seq, problem))?;
        // 6. Rules.
        let changes = apply(&state, entry).map_err(|e| fail(seq, Problem::Rules(e)))?;
        // 7. State.
        let expected = if changes.is_empty() {
            previous_tree
        } else if deferring {
            trees.apply_deferring(&changes, &mut |path, bytes| {
                let claimed = claimed_dir(repo, commit.tree, path)?;
                checks.offer(bytes, claimed).then_some(claimed)
            })?
        } else {
            trees.apply(&changes)?
        };
        if expected != commit.tree {
            return Err(fail(
                seq,
                Problem::TreeMismatch {
                    expected,
                    found: commit.tree,
                },
            ));
        }
        state.commit(changes);
        previous = Some((entry.seq, commit.checked.hash, commit.tree, commit.at));
        Ok(())
    };
    let line = Line {
        head,
        since: options.since,
        keys: &keys,
        progress: options.progress,
        hold_bytes: options.hold_bytes,
    };
    let replayed = if options.threads <= 1 {
        line.check_here(repo, &mut replay)
    } else {
        line.check_with_workers(repo, options.threads, &checks, &mut replay)
    };
    if checks.finish() {
        // A large directory does not hash to the id its commit gives it. Verify again without
        // deferring: that names the first bad commit, and the tree it should have, exactly.
        return verify_line(
            repo,
            head,
            retry_start,
            &VerifyOptions {
                signers: options.signers,
                since: options.since,
                threads: 1,
                progress: None,
                hold_bytes: options.hold_bytes,
                now: options.now,
            },
        );
    }
    let total = replayed?;
    let (seq, hash, tree, at) = previous.ok_or_else(|| {
        VerifyError::Store(StoreError::Git {
            context: format!("verify {head}"),
            source: git2::Error::from_str("the line holds no entry"),
        })
    })?;
    Ok((
        TrustedHead {
            commit: head,
            seq,
            hash,
            tree,
            at,
            root,
            state,
        },
        total,
    ))
}

/// Step 5's times: an entry dated `at` is not earlier than the previous entry's time, nor more
/// than [`FUTURE_TOLERANCE`] ahead of the verifier's clock.
fn check_time(
    at: OffsetDateTime,
    previous: Option<OffsetDateTime>,
    now: Option<OffsetDateTime>,
) -> Result<(), Problem> {
    if let Some(previous) = previous
        && at < previous
    {
        return Err(Problem::TimeWentBackwards { previous, at });
    }
    if let Some(now) = now
        && at > now + FUTURE_TOLERANCE
    {
        return Err(Problem::InTheFuture { at, now });
    }
    Ok(())
}

/// The id the tree `root` gives the directory at `path`, if it has one.
fn claimed_dir(repo: &Repository, root: Oid, path: &str) -> Option<Oid> {
    let entry = repo.find_tree(root).ok()?.get_path(Path::new(path)).ok()?;
    (entry.kind() == Some(ObjectType::Tree)).then(|| entry.id())
}

/// Commits in one unit of the per-commit checks.
const CHUNK: usize = 256;
/// The default of [`VerifyOptions::hold_bytes`]: 256 MiB, a chain of about 200 000 entries.
pub const HOLD_BYTES: usize = 256 << 20;
/// How many chunks the workers may read again ahead of the replay (bounds the memory held
/// beyond [`VerifyOptions::hold_bytes`]).
const AHEAD: usize = 32;

/// A run of consecutive commits of the line, newest first, as the walk found them.
struct Chunk {
    oids: Vec<Oid>,
    /// The commits' bytes, when the walk kept them; otherwise they are read again.
    raw: Option<RawCommits>,
}

/// Commits one after another in one buffer: one allocation for a chunk, not one per commit
/// (the walk allocates them and a worker frees them).
#[derive(Default)]
struct RawCommits {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RawCommits {
    fn push(&mut self, commit: &[u8]) {
        self.bytes.extend_from_slice(commit);
        self.ends.push(self.bytes.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, end)| &self.bytes[start..*end])
    }
}

/// A chunk after steps 2 to 4: each commit of it, newest first, with its outcome.
type CheckedChunk = Result<Vec<(Oid, Result<Decoded, Problem>)>, StoreError>;

/// The first-parent line to verify and what checking it needs.
struct Line<'a, 's> {
    head: Oid,
    /// The trusted commit the line stops at (excluded).
    since: Option<Oid>,
    keys: &'a AuditKeys<'s>,
    progress: Option<&'a dyn Fn(u64, u64)>,
    hold_bytes: usize,
}

impl Line<'_, '_> {
    /// Step 1's walk: reads the line from the head back to its first commit (or to `since`),
    /// handing it over in chunks of [`CHUNK`] commits, numbered from 0 at the head, each with
    /// the commits' bytes while fewer than `hold_bytes` are kept. Returns how many chunks
    /// there are and how many commits.
    fn walk(
        &self,
        odb: &git2::Odb<'_>,
        hand_over: &mut dyn FnMut(usize, Chunk),
    ) -> Result<(usize, u64), VerifyError> {
        let mut cursor = Some(self.head);
        let mut held = 0usize;
        let mut chunks = 0usize;
        let mut commits = 0u64;
        let mut chunk = Chunk {
            oids: Vec::with_capacity(CHUNK),
            raw: Some(RawCommits::default()),
        };
        while let Some(oid) = cursor {
            if Some(oid) == self.since {
                break;
            }
            let object = odb.read(oid).map_err(git(format!("read commit {oid}")))?;
            if object.kind() != ObjectType::Commit {
                return Err(VerifyError::Invalid(Failure {
                    commit: oid,
                    seq: None,
                    problem: Problem::MalformedCommit(format!("a {}, not a commit", object.kind())),
                }));
            }
            cursor = first_parent(object.data());
            chunk.oids.push(oid);
            if let Some(raw) = chunk.raw.as_mut() {
                held += object.len();
                raw.push(object.data());
            }
            commits += 1;
            if chunk.oids.len() == CHUNK {
                let keep = held < self.hold_bytes;
                let next = Chunk {
                    oids: Vec::with_capacity(CHUNK),
                    raw: keep.then(RawCommits::default),
                };
                hand_over(chunks, std::mem::replace(&mut chunk, next));
                chunks += 1;
            }
        }
        if let Some(since) = self.since
            && cursor != Some(since)
        {
            return Err(VerifyError::SinceNotOnChain(since));
        }
        if !chunk.oids.is_empty() {
            hand_over(chunks, chunk);
            chunks += 1;
        }
        Ok((chunks, commits))
    }

    /// Hands a checked chunk to `replay` oldest first and reports progress; returns the
    /// commits replayed so far.
    fn replay_chunk(
        &self,
        checked: Vec<(Oid, Result<Decoded, Problem>)>,
        done: u64,
        total: u64,
        replay: &mut dyn FnMut(Oid, Result<Decoded, Problem>) -> Result<(), VerifyError>,
    ) -> Result<u64, VerifyError> {
        let after = done + checked.len() as u64;
        for (oid, decoded) in checked.into_iter().rev() {
            replay(oid, decoded)?;
        }
        if let Some(progress) = self.progress
            && (after / BATCH as u64 != done / BATCH as u64 || after == total)
        {
            progress(after, total);
        }
        Ok(after)
    }

    /// Walks, checks and replays the line on this thread alone.
    fn check_here(
        &self,
        repo: &Repository,
        replay: &mut dyn FnMut(Oid, Result<Decoded, Problem>) -> Result<(), VerifyError>,
    ) -> Result<u64, VerifyError> {
        let odb = repo.odb().map_err(git("open object database"))?;
        let mut chunks = Vec::new();
        let (_, total) = self.walk(&odb, &mut |_, chunk| chunks.push(chunk))?;
        let mut done = 0;
        while let Some(chunk) = chunks.pop() {
            let checked = check_chunk(&odb, chunk, self.keys)?;
            done = self.replay_chunk(checked, done, total, replay)?;
        }
        Ok(total)
    }

    /// Walks the line on this thread while `threads` workers, each with its own repository
    /// handle, check the chunks it hands over; then replays them in chain order as the workers
    /// finish them, the oldest first. Workers take the oldest chunk waiting, so the replay
    /// starts as soon as the walk ends; between chunks, and once none is left, they run the
    /// directory checks the replay defers to `checks`. Stops the workers at the first error.
    fn check_with_workers(
        &self,
        repo: &Repository,
        threads: usize,
        checks: &TreeChecks,
        replay: &mut dyn FnMut(Oid, Result<Decoded, Problem>) -> Result<(), VerifyError>,
    ) -> Result<u64, VerifyError> {
        let queue = Mutex::new(Queue::default());
        let replayed = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (path, keys) = (repo.path(), self.keys);
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::channel::<(usize, CheckedChunk)>();
            for _ in 0..threads {
                let sender = sender.clone();
                let (queue, replayed, stop) = (&queue, &replayed, &stop);
                scope.spawn(move || {
                    let handle = Repository::open(path);
                    let odb = match &handle {
                        Ok(repo) => repo.odb(),
                        Err(e) => Err(git2::Error::from_str(&e.to_string())),
                    };
                    while !stop.load(Ordering::Relaxed) {
                        while checks.run_one() {}
                        let next = lock(queue).take(replayed.load(Ordering::Acquire));
                        let Some((index, chunk)) = next else {
                            if !checks.run_one() {
                                std::thread::sleep(Duration::from_micros(200));
                            }
                            continue;
                        };
                        let checked = match &odb {
                            Ok(odb) => check_chunk(odb, chunk, keys),
                            Err(e) => Err(git("open object database")(git2::Error::from_str(
                                &e.to_string(),
                            ))),
                        };
                        if sender.send((index, checked)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(sender);
            let result = (|| {
                let odb = repo.odb().map_err(git("open object database"))?;
                let (chunks, total) = self.walk(&odb, &mut |index, chunk| {
                    lock(&queue).waiting.insert(index, chunk);
                })?;
                lock(&queue).chunks = Some(chunks);
                let mut checked: BTreeMap<usize, CheckedChunk> = BTreeMap::new();
                let mut done = 0;
                for (position, index) in (0..chunks).rev().enumerate() {
                    let chunk = loop {
                        if let Some(chunk) = checked.remove(&index) {
                            break chunk?;
                        }
                        match receiver.recv() {
                            Ok((index, chunk)) => {
                                checked.insert(index, chunk);
                            }
                            // Every worker is gone without this chunk: one panicked (and the
                            // scope re-raises that panic).
                            Err(_) => {
                                return Err(VerifyError::Store(git("verify")(
                                    git2::Error::from_str("a verification worker stopped"),
                                )));
                            }
                        }
                    };
                    done = self.replay_chunk(chunk, done, total, replay)?;
                    replayed.store(position + 1, Ordering::Release);
                }
                Ok(total)
            })();
            stop.store(true, Ordering::Relaxed);
            result
        })
    }
}

/// Steps 2 to 4 for one chunk: on the bytes the walk kept, or read again.
fn check_chunk(odb: &git2::Odb<'_>, chunk: Chunk, keys: &AuditKeys<'_>) -> CheckedChunk {
    let raw = match chunk.raw {
        Some(raw) => raw,
        None => {
            let mut raw = RawCommits::default();
            for oid in &chunk.oids {
                let object = odb.read(*oid).map_err(git(format!("read commit {oid}")))?;
                raw.push(object.data());
            }
            raw
        }
    };
    let checked = check_commits(&raw, keys);
    Ok(chunk.oids.into_iter().zip(checked).collect())
}

/// The chunks the walk handed over that no worker has taken yet.
#[derive(Default)]
struct Queue {
    waiting: BTreeMap<usize, Chunk>,
    /// How many chunks the line has, once the walk is over.
    chunks: Option<usize>,
}

impl Queue {
    /// The oldest waiting chunk a worker may take: any whose bytes the walk kept; one to be
    /// read again only once the walk is over and the replay is fewer than [`AHEAD`] chunks
    /// behind it (`replayed` chunks done).
    fn take(&mut self, replayed: usize) -> Option<(usize, Chunk)> {
        let chunks = self.chunks;
        let index = self.waiting.iter().rev().find_map(|(index, chunk)| {
            let near = chunks.is_some_and(|n| n - 1 - index < replayed + AHEAD);
            (chunk.raw.is_some() || near).then_some(*index)
        })?;
        self.waiting.remove_entry(&index)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first parent a raw commit names, if it names one where git writes it: right after the
/// `tree` line. [`split_commit`] refuses commits laid out otherwise.
fn first_parent(raw: &[u8]) -> Option<Oid> {
    let mut lines = raw.split(|byte| *byte == b'\n');
    lines.next()?.strip_prefix(b"tree ")?;
    let hex = lines.next()?.strip_prefix(b"parent ")?;
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// A commit object split into what the checks need.
struct RawCommit<'a> {
    tree: Oid,
    parents: usize,
    signature: Option<String>,
    signed: Vec<u8>,
    message: &'a str,
}

/// Splits a raw commit: headers up to the first blank line, then the message. The signed
/// payload is the object without its `gpgsig` header, exactly as git verifies it. The headers
/// must start as git writes them, `tree` then the `parent`s: the walk finds the line by that
/// layout.
fn split_commit(raw: &[u8]) -> Result<RawCommit<'_>, Problem> {
    let malformed = |why: &str| Problem::MalformedCommit(why.to_owned());
    let text = std::str::from_utf8(raw).map_err(|_| malformed("not UTF-8"))?;
    let (headers, message) = text
        .split_once("\n\n")
        .ok_or_else(|| malformed("no message"))?;
    let mut tree = None;
    let mut parents = 0;
    let mut past_parents = false;
    let mut signature: Option<String> = None;
    let mut signed = String::with_capacity(text.len());
    let mut in_signature = false;
    for line in headers.split('\n') {
        if let Some(continuation) = line.strip_prefix(' ') {
            if in_signature {
                if let Some(sig) = signature.as_mut() {
                    sig.push('\n');
                    sig.push_str(continuation);
                }
            } else {
                signed.push_str(line);
                signed.push('\n');
            }
            continue;
        }
        in_signature = false;
        if let Some(value) = line.strip_prefix("tree ") {
            if tree.is_some() || past_parents || parents > 0 {
                return Err(malformed("a second or misplaced tree header"));
            }
            tree = Some(Oid::from_str(value).map_err(|_| malformed("bad tree id"))?);
        } else if tree.is_none() {
            return Err(malformed("the first header is not the tree"));
        } else if let Some(value) = line.strip_prefix("parent ") {
            if past_parents {
                return Err(malformed("a parent header after other headers"));
            }
            Oid::from_str(value).map_err(|_| malformed("bad parent id"))?;
            parents += 1;
        } else {
            past_parents = true;
            if let Some(value) = line.strip_prefix("gpgsig ") {
                if signature.is_some() {
                    return Err(malformed("two signature headers"));
                }
                signature = Some(value.to_owned());
                in_signature = true;
                continue;
            }
        }
        signed.push_str(line);
        signed.push('\n');
    }
    signed.push('\n');
    signed.push_str(message);
    Ok(RawCommit {
        tree: tree.ok_or_else(|| malformed("no tree"))?,
        parents,
        signature,
        signed: signed.into_bytes(),
        message,
    })
}

/// The trusted audit keys: each distinct key with the signers (key ids) that carry it, and
/// the key decoded once for batch verification.
struct AuditKeys<'s> {
    keys: Vec<AuditKey<'s>>,
    /// The keys that decode as curve points, for [`verify_batch`].
    batch_keys: Vec<BatchKey>,
}

/// One trusted audit key.
struct AuditKey<'s> {
    /// The signers with this key; never empty.
    signers: Vec<&'s Signer>,
    /// Its index in [`AuditKeys::batch_keys`]; `None` when it is no curve point (its
    /// signatures are checked one by one, and fail).
    batch_key: Option<usize>,
}

impl<'s> AuditKeys<'s> {
    fn new(signers: &'s [Signer]) -> Self {
        let mut keys: Vec<AuditKey<'s>> = Vec::new();
        let mut batch_keys = Vec::new();
        for signer in signers.iter().filter(|s| s.role == SignerRole::Audit) {
            let data = signer.key.key_data();
            if let Some(key) = keys
                .iter_mut()
                .find(|k| k.signers[0].key.key_data() == data)
            {
                key.signers.push(signer);
                continue;
            }
            let point = match data {
                KeyData::Ed25519(public) => BatchKey::from_bytes(&public.0),
                _ => None,
            };
            keys.push(AuditKey {
                signers: vec![signer],
                batch_key: point.map(|point| {
                    batch_keys.push(point);
                    batch_keys.len() - 1
                }),
            });
        }
        Self { keys, batch_keys }
    }

    fn find(&self, data: &KeyData) -> Option<&AuditKey<'s>> {
        self.keys
            .iter()
            .find(|k| k.signers[0].key.key_data() == data)
    }
}

/// Steps 2 to 4 for one commit, its signature checked on its own (offline proofs).
fn decode(raw: &[u8], keys: &AuditKeys<'_>) -> Result<Decoded, Problem> {
    let (decoded, deferred) = decode_deferring(raw, keys);
    match deferred {
        Some(signature) => signature.check_alone().and(decoded),
        None => decoded,
    }
}

/// An Ed25519 signature that step 2 left to a batch: what the batch checks, and what checking
/// it on its own takes, which names the commit when a batch fails.
struct DeferredSignature<'s> {
    /// The key's index in [`AuditKeys::batch_keys`].
    key: usize,
    signature: [u8; 64],
    /// The SSHSIG signed-data blob: namespace, hash algorithm and the commit's digest.
    signed_data: Vec<u8>,
    signer: &'s Signer,
    payload: Vec<u8>,
    sshsig: SshSig,
}

impl DeferredSignature<'_> {
    /// The check step 2 would have made inline: the same verification, the same error.
    fn check_alone(&self) -> Result<(), Problem> {
        self.signer
            .key
            .verify(GIT_NAMESPACE, &self.payload, &self.sshsig)
            .map_err(|e| Problem::BadSignature(e.to_string()))
    }
}

/// Step 2's signature check: left to a batch (`Ok(Some(..))`) when the signature is a plain
/// Ed25519 SSHSIG in the `git` namespace, otherwise made here, as before.
fn check_or_defer<'s>(
    key: &AuditKey<'s>,
    payload: Vec<u8>,
    sshsig: SshSig,
) -> Result<Option<DeferredSignature<'s>>, Problem> {
    let signer = key.signers[0];
    let batchable = (|| {
        let batch_key = key.batch_key?;
        if sshsig.algorithm() != Algorithm::Ed25519
            || sshsig.namespace() != GIT_NAMESPACE
            || !sshsig.reserved().is_empty()
        {
            return None;
        }
        let signature: [u8; 64] = sshsig.signature_bytes().try_into().ok()?;
        let signed_data = SshSig::signed_data(GIT_NAMESPACE, sshsig.hash_alg(), &payload).ok()?;
        Some((batch_key, signature, signed_data))
    })();
    match batchable {
        Some((key, signature, signed_data)) => Ok(Some(DeferredSignature {
            key,
            signature,
            signed_data,
            signer,
            payload,
            sshsig,
        })),
        None => signer
            .key
            .verify(GIT_NAMESPACE, &payload, &sshsig)
            .map(|()| None)
            .map_err(|e| Problem::BadSignature(e.to_string())),
    }
}

/// Steps 2 to 4 for one commit, except the Ed25519 check of a plain signature, which is
/// returned to be checked in a batch. When it is, the decoded result stands only if that
/// signature verifies; otherwise the commit's problem is the bad signature (step 2 comes
/// first).
fn decode_deferring<'s>(
    raw: &[u8],
    keys: &AuditKeys<'s>,
) -> (Result<Decoded, Problem>, Option<DeferredSignature<'s>>) {
    let commit = match split_commit(raw) {
        Ok(commit) => commit,
        Err(problem) => return (Err(problem), None),
    };
    // 2. Signature.
    let Some(armored) = commit.signature.as_deref() else {
        return (Err(Problem::Unsigned), None);
    };
    let signature = match SshSig::from_pem(armored) {
        Ok(signature) => signature,
        Err(e) => return (Err(Problem::BadSignature(e.to_string())), None),
    };
    let Some(key) = keys.find(signature.public_key()) else {
        let fingerprint = ssh_key::PublicKey::from(signature.public_key().clone())
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string();
        return (Err(Problem::UntrustedKey(fingerprint)), None);
    };
    let deferred = match check_or_defer(key, commit.signed, signature) {
        Ok(deferred) => deferred,
        Err(problem) => return (Err(problem), None),
    };
    let decoded = (|| {
        // 4. Entry (before step 3, which needs the entry's time).
        let sealed = SealedEntry::from_commit_message(commit.message)?;
        // 3. In force at the entry's time.
        let at = sealed.entry.at_time()?;
        if !key.signers.iter().any(|s| s.in_force_at(at)) {
            return Err(not_in_force(key.signers[0], &sealed.entry.at, at));
        }
        Ok(Decoded {
            tree: commit.tree,
            parents: commit.parents,
            at,
            checked: CheckedEntry {
                entry: sealed.entry,
                hash: sealed.hash,
            },
        })
    })();
    (decoded, deferred)
}

/// Step 3's problem for an entry dated `at` outside `signer`'s window.
fn not_in_force(signer: &Signer, text: &str, at: OffsetDateTime) -> Problem {
    match signer.not_before {
        Some(start) if at < start => Problem::KeyNotYetInForce {
            kid: signer.kid.clone(),
            not_before: start,
            at,
        },
        _ => Problem::KeyRetired {
            kid: signer.kid.clone(),
            not_after: signer.not_after.map(format_entry_time).unwrap_or_default(),
            at: text.to_owned(),
        },
    }
}

/// Steps 2 to 4 for a run of raw commits, their Ed25519 signatures checked in one batch (see
/// [`super::batch`]: several times faster per signature than one by one, and as strict but
/// for what only the key holder could sign). A batch that fails is checked again signature by
/// signature, so the bad commits are named exactly as before.
fn check_commits(raw: &RawCommits, keys: &AuditKeys<'_>) -> Vec<Result<Decoded, Problem>> {
    let mut results = Vec::with_capacity(raw.ends.len());
    let mut deferred = Vec::with_capacity(raw.ends.len());
    for (index, object) in raw.iter().enumerate() {
        let (decoded, signature) = decode_deferring(object, keys);
        results.push(decoded);
        if let Some(signature) = signature {
            deferred.push((index, signature));
        }
    }
    let signed: Vec<Signed<'_>> = deferred
        .iter()
        .map(|(_, d)| Signed {
            key: d.key,
            signature: &d.signature,
            message: &d.signed_data,
        })
        .collect();
    if !verify_batch(&keys.batch_keys, &signed) {
        for (index, signature) in &deferred {
            if let Err(problem) = signature.check_alone() {
                results[*index] = Err(problem);
            }
        }
    }
    results
}

/// The checkpoint file: `.git/shipgate/checkpoint`.
pub fn checkpoint_path(repo: &Repository) -> PathBuf {
    repo.path().join("shipgate").join("checkpoint")
}

/// Step 8: the head must descend from (or be) the recorded checkpoint.
pub fn check_checkpoint(repo: &Repository, head: Option<Oid>) -> Result<(), VerifyError> {
    let path = checkpoint_path(repo);
    let Some(checkpoint) = read_checkpoint(&path)? else {
        return Ok(());
    };
    let descends = head.is_some_and(|head| {
        head == checkpoint || repo.graph_descendant_of(head, checkpoint).unwrap_or(false)
    });
    if descends {
        return Ok(());
    }
    Err(VerifyError::Invalid(Failure {
        commit: head.unwrap_or(Oid::ZERO_SHA1),
        seq: None,
        problem: Problem::Rollback { checkpoint },
    }))
}

/// Steps 8 then 1 to 7: the whole chain ending at `head`, which must still contain the
/// checkpoint, on every core. What a command checks before it trusts the branch.
pub fn verify_from_checkpoint(
    repo: &Repository,
    head: Oid,
    signers: &[Signer],
) -> Result<Verified, VerifyError> {
    check_checkpoint(repo, Some(head))?;
    verify_chain(repo, head, &VerifyOptions::whole_chain(signers))
}

fn read_checkpoint(path: &Path) -> Result<Option<Oid>, VerifyError> {
    let io = |source| VerifyError::Checkpoint {
        path: path.to_owned(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    Oid::from_str(text.trim()).map(Some).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a commit id",
        ))
    })
}

/// Records a verified head as the checkpoint (written to a temporary file, then renamed).
pub fn write_checkpoint(repo: &Repository, head: Oid) -> Result<(), VerifyError> {
    let path = checkpoint_path(repo);
    let io = |source| VerifyError::Checkpoint {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // A temporary file of this writer's own: two processes verifying at once (two executors,
    // say) must not rename each other's file away.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = path.with_extension(format!("{}-{write}.tmp", std::process::id()));
    std::fs::write(&temporary, format!("{head}\n")).map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })
}

/// Whether the object is a commit (for `--since` arguments).
pub fn is_commit(repo: &Repository, oid: Oid) -> bool {
    repo.odb()
        .and_then(|odb| odb.read_header(oid))
        .is_ok_and(|(_, kind)| kind == ObjectType::Commit)
}

/// Steps 2 to 4 for one raw commit object, without a repository: the signature by an audit
/// key in force at the entry's time, and the entry itself. What offline proofs check.
pub fn check_raw_commit(raw: &[u8], signers: &[Signer]) -> Result<CheckedEntry, Problem> {
    decode(raw, &AuditKeys::new(signers)).map(|decoded| decoded.checked)
}
