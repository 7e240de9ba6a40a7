//! `audit verify`: is this branch exactly a chain that trusted audit keys wrote by the rules?
//!
//! Checklist (DESIGN 8 and 10), one [`Problem`] variant per failed step; the first bad commit
//! in chain order is named:
//! 1. Shape: a single line of commits, first parent to first parent; a merge commit (a side
//!    branch joined in) is refused. `--since` must lie on that line.
//! 2. Signature: every commit carries an SSHSIG (namespace `git`) over exactly the commit
//!    without its signature header, made by a key listed as an `audit` signer.
//! 3. Key in force: that signer was not retired (`not_after`) at the entry's time, so a leaked
//!    old key cannot extend the chain.
//! 4. Entry: the message is summary, canonical JSON and a `Shipgate-Entry` trailer that is the
//!    hash of that JSON; unknown event types or fields are refused (fail closed).
//! 5. Chain: `seq` contiguous from 0, `prev` the previous entry's hash, genesis only at 0.
//! 6. Rules: [`apply`] accepts the entry, which also proves every executed operation had an
//!    enforceable, unexpired receipt consumed exactly once before its outcome.
//! 7. State: the commit's tree is exactly the replayed state.
//! 8. Rollback: the branch still descends from the last verified head (the checkpoint).
//!
//! Steps 2 to 4 are independent per commit and run on all cores; 1 and 5 to 7 run in order,
//! except the hashing of large state directories for step 7, which the replay hands to the
//! same worker threads (checked against the ids the commit's tree gives them; if one fails, the
//! chain is verified again without handing off, to name the first bad commit exactly).
//! Verification writes nothing to the repository: the replayed state trees are only hashed, in
//! memory (see `replay`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use git2::{ObjectType, Oid, Repository};
use ssh_key::Algorithm;
use ssh_key::SshSig;
use ssh_key::public::KeyData;

use super::entry::{EntryError, Event, GENESIS_PREV, SealedEntry};
use super::reason::Reason;
use super::replay::{StateTrees, TreeChecks};
use super::state::{ApplyError, State, apply};
use super::store::{GIT_NAMESPACE, StoreError, empty_tree, git, read_state, read_tip};
use crate::policy::{Signer, SignerRole};

/// Entries between two progress reports.
const BATCH: usize = 4096;

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
            Problem::Rollback { .. } => Reason::Rollback,
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
}

/// One commit after the per-commit checks (steps 2 to 4).
struct Decoded {
    tree: Oid,
    parents: usize,
    sealed: SealedEntry,
}

/// Verifies the chain ending at `head` (checklist at the top of this file, steps 1 to 7).
///
/// The per-commit checks (steps 2 to 4: reading the commit, its signature, its entry) run on
/// `options.threads` worker threads, a few thousand commits ahead of the replay (steps 5 to 7),
/// which stays sequential, in chain order, on the calling thread; with one thread everything
/// runs on the calling thread. Either way the first bad commit in chain order is named.
pub fn verify_chain(
    repo: &Repository,
    head: Oid,
    options: &VerifyOptions<'_>,
) -> Result<Verified, VerifyError> {
    // 1. Shape: collect the first-parent line, oldest first.
    let mut line = Vec::new();
    let mut cursor = Some(head);
    while let Some(oid) = cursor {
        if Some(oid) == options.since {
            break;
        }
        let commit = repo
            .find_commit(oid)
            .map_err(git(format!("read commit {oid}")))?;
        line.push(oid);
        cursor = commit.parent_id(0).ok();
    }
    if let Some(since) = options.since
        && cursor != Some(since)
    {
        return Err(VerifyError::SinceNotOnChain(since));
    }
    line.reverse();

    let (mut state, mut previous) = match options.since {
        Some(since) => {
            let tip = read_tip(repo, since)?;
            (
                read_state(repo, since)?,
                Some((tip.seq, tip.hash, tip.tree)),
            )
        }
        None => (State::default(), None),
    };
    let mut trees = StateTrees::new(
        repo,
        previous
            .as_ref()
            .map_or_else(empty_tree, |(_, _, tree)| *tree),
    );
    // With worker threads, they also hash the large state directories (see `replay`).
    let checks = TreeChecks::new();
    let deferring = options.threads > 1;
    let total = line.len() as u64;
    let mut done = 0u64;
    let mut replay = |oid: Oid, decoded: Result<Decoded, Problem>| -> Result<(), VerifyError> {
        let fail = |seq: Option<u64>, problem: Problem| {
            VerifyError::Invalid(Failure {
                commit: oid,
                seq,
                problem,
            })
        };
        let commit = decoded.map_err(|problem| fail(None, problem))?;
        let entry = &commit.sealed.entry;
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
                empty_tree()
            }
            Some((previous_seq, previous_hash, previous_tree)) => {
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
        // 6. Rules.
        let changes = apply(&state, entry).map_err(|e| fail(seq, Problem::Rules(e)))?;
        // 7. State.
        let expected = if changes.is_empty() {
            previous_tree
        } else if deferring {
            let index = usize::try_from(done).unwrap_or(usize::MAX);
            trees.apply_deferring(&changes, &mut |path, bytes| {
                let claimed = claimed_dir(repo, commit.tree, path)?;
                checks.offer(index, bytes, claimed).then_some(claimed)
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
        previous = Some((entry.seq, commit.sealed.hash, commit.tree));
        done += 1;
        if let Some(progress) = options.progress
            && (done % BATCH as u64 == 0 || done == total)
        {
            progress(done, total);
        }
        Ok(())
    };
    let replayed = if options.threads <= 1 {
        (|| {
            let odb = repo.odb().map_err(git("open object database"))?;
            for chunk in line.chunks(CHUNK) {
                let decoded = decode_chunk(&odb, chunk, options.signers)?;
                for (oid, decoded) in chunk.iter().zip(decoded) {
                    replay(*oid, decoded)?;
                }
            }
            Ok(())
        })()
    } else {
        decode_ahead(repo.path(), &line, options, &checks, &mut replay)
    };
    if checks.finish().is_some() {
        // A large directory does not hash to the id its commit gives it. Verify again without
        // deferring: that names the first bad commit, and the tree it should have, exactly.
        return verify_chain(
            repo,
            head,
            &VerifyOptions {
                signers: options.signers,
                since: options.since,
                threads: 1,
                progress: None,
            },
        );
    }
    replayed?;
    Ok(Verified {
        head: Some(head),
        entries_checked: total,
        head_seq: previous.map(|(seq, _, _)| seq),
    })
}

/// The id the tree `root` gives the directory at `path`, if it has one.
fn claimed_dir(repo: &Repository, root: Oid, path: &str) -> Option<Oid> {
    let entry = repo.find_tree(root).ok()?.get_path(Path::new(path)).ok()?;
    (entry.kind() == Some(ObjectType::Tree)).then(|| entry.id())
}

/// Commits a worker decodes at a time.
const CHUNK: usize = 256;
/// How many chunks the workers may run ahead of the replay (bounds the memory held).
const AHEAD: usize = 32;

/// Runs steps 2 to 4 for `line` on `options.threads` workers, each with its own repository
/// handle, and hands the results to `replay` on this thread in chain order, while the workers
/// go on with the next chunks. Between chunks, and once every chunk is decoded, the workers
/// run the directory checks the replay defers to `checks`. Stops the workers at the first
/// error `replay` returns, or when it is done.
fn decode_ahead(
    path: &Path,
    line: &[Oid],
    options: &VerifyOptions<'_>,
    checks: &TreeChecks,
    replay: &mut dyn FnMut(Oid, Result<Decoded, Problem>) -> Result<(), VerifyError>,
) -> Result<(), VerifyError> {
    type ChunkResult = Result<Vec<Result<Decoded, Problem>>, StoreError>;
    let chunks: Vec<&[Oid]> = line.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    let replayed = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<(usize, ChunkResult)>();
        for _ in 0..options.threads {
            let sender = sender.clone();
            let (chunks, next, replayed, stop) = (&chunks, &next, &replayed, &stop);
            let signers = options.signers;
            scope.spawn(move || {
                let handle = Repository::open(path).map_err(git("open repository"));
                let odb = handle
                    .as_ref()
                    .map_err(|e| git("open object database")(git2::Error::from_str(&e.to_string())))
                    .and_then(|repo| repo.odb().map_err(git("open object database")));
                loop {
                    while checks.run_one() {}
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= chunks.len() {
                        while !stop.load(Ordering::Relaxed) {
                            if !checks.run_one() {
                                std::thread::sleep(Duration::from_micros(200));
                            }
                        }
                        return;
                    }
                    while index >= replayed.load(Ordering::Acquire) + AHEAD {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        if !checks.run_one() {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let result = match &odb {
                        Ok(odb) => decode_chunk(odb, chunks[index], signers),
                        Err(e) => Err(git("open object database")(git2::Error::from_str(
                            &e.to_string(),
                        ))),
                    };
                    if sender.send((index, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting: BTreeMap<usize, ChunkResult> = BTreeMap::new();
        let result = (|| {
            for (index, chunk) in chunks.iter().enumerate() {
                let decoded = loop {
                    if let Some(result) = waiting.remove(&index) {
                        break result?;
                    }
                    match receiver.recv() {
                        Ok((done, result)) => {
                            waiting.insert(done, result);
                        }
                        // Every worker is gone without this chunk: one panicked (and the
                        // scope re-raises that panic).
                        Err(_) => {
                            return Err(VerifyError::Store(git("verify")(git2::Error::from_str(
                                "a verification worker stopped",
                            ))));
                        }
                    }
                };
                for (oid, decoded) in chunk.iter().zip(decoded) {
                    replay(*oid, decoded)?;
                }
                replayed.store(index + 1, Ordering::Release);
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        result
    })
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
/// payload is the object without its `gpgsig` header, exactly as git verifies it.
fn split_commit(raw: &[u8]) -> Result<RawCommit<'_>, Problem> {
    let malformed = |why: &str| Problem::MalformedCommit(why.to_owned());
    let text = std::str::from_utf8(raw).map_err(|_| malformed("not UTF-8"))?;
    let (headers, message) = text
        .split_once("\n\n")
        .ok_or_else(|| malformed("no message"))?;
    let mut tree = None;
    let mut parents = 0;
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
        if let Some(value) = line.strip_prefix("gpgsig ") {
            if signature.is_some() {
                return Err(malformed("two signature headers"));
            }
            signature = Some(value.to_owned());
            in_signature = true;
            continue;
        }
        if let Some(value) = line.strip_prefix("tree ") {
            tree = Some(Oid::from_str(value).map_err(|_| malformed("bad tree id"))?);
        } else if line.starts_with("parent ") {
            parents += 1;
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

/// Steps 2 to 4 for one commit, its signature checked on its own (offline proofs).
fn decode(raw: &[u8], signers: &[Signer]) -> Result<Decoded, Problem> {
    let (decoded, deferred) = decode_deferring(raw, signers);
    match deferred {
        Some(signature) => signature.check_alone().and(decoded),
        None => decoded,
    }
}

/// An Ed25519 signature that step 2 left to a batch: what the batch checks, and what checking
/// it on its own takes, which names the commit when a batch fails.
struct DeferredSignature<'s> {
    key: ed25519_dalek::VerifyingKey,
    signature: ed25519_dalek::Signature,
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
    signer: &'s Signer,
    payload: Vec<u8>,
    sshsig: SshSig,
) -> Result<Option<DeferredSignature<'s>>, Problem> {
    let batchable = (|| {
        let KeyData::Ed25519(public) = sshsig.public_key() else {
            return None;
        };
        if sshsig.algorithm() != Algorithm::Ed25519
            || sshsig.namespace() != GIT_NAMESPACE
            || !sshsig.reserved().is_empty()
        {
            return None;
        }
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public.0).ok()?;
        let bytes: &[u8; 64] = sshsig.signature_bytes().try_into().ok()?;
        let signed_data = SshSig::signed_data(GIT_NAMESPACE, sshsig.hash_alg(), &payload).ok()?;
        Some((
            key,
            ed25519_dalek::Signature::from_bytes(bytes),
            signed_data,
        ))
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
    signers: &'s [Signer],
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
    let audit_signers: Vec<&Signer> = signers
        .iter()
        .filter(|s| s.role == SignerRole::Audit && s.key.key_data() == signature.public_key())
        .collect();
    let Some(first) = audit_signers.first().copied() else {
        let fingerprint = ssh_key::PublicKey::from(signature.public_key().clone())
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string();
        return (Err(Problem::UntrustedKey(fingerprint)), None);
    };
    let deferred = match check_or_defer(first, commit.signed, signature) {
        Ok(deferred) => deferred,
        Err(problem) => return (Err(problem), None),
    };
    let decoded = (|| {
        // 4. Entry (before step 3, which needs the entry's time).
        let sealed = SealedEntry::from_commit_message(commit.message)?;
        // 3. In force at the entry's time.
        let at = sealed.entry.at_time()?;
        if !audit_signers.iter().any(|s| s.in_force_at(at)) {
            return Err(Problem::KeyRetired {
                kid: first.kid.clone(),
                not_after: first
                    .not_after
                    .map(crate::audit::entry::format_entry_time)
                    .unwrap_or_default(),
                at: sealed.entry.at.clone(),
            });
        }
        Ok(Decoded {
            tree: commit.tree,
            parents: commit.parents,
            sealed,
        })
    })();
    (decoded, deferred)
}

/// Steps 2 to 4 for a run of commits read from the object database, their Ed25519 signatures
/// checked in one batch (about twice as fast per signature as one by one). A batch that fails
/// is checked again signature by signature, so the bad commits are named exactly as before.
///
/// The batch equation is the cofactored one: it also accepts a signature whose `R` carries a
/// small-order component, which one-by-one verification (and OpenSSH) refuses. Only the
/// holder of the signing key can make such a signature (changing `R` changes the challenge),
/// and that holder can sign anything anyway, so the chain's guarantees do not change.
fn decode_chunk(
    odb: &git2::Odb<'_>,
    oids: &[Oid],
    signers: &[Signer],
) -> Result<Vec<Result<Decoded, Problem>>, StoreError> {
    let mut results = Vec::with_capacity(oids.len());
    let mut deferred = Vec::with_capacity(oids.len());
    for (index, oid) in oids.iter().enumerate() {
        let object = odb.read(*oid).map_err(git(format!("read commit {oid}")))?;
        let (decoded, signature) = decode_deferring(object.data(), signers);
        results.push(decoded);
        if let Some(signature) = signature {
            deferred.push((index, signature));
        }
    }
    let messages: Vec<&[u8]> = deferred.iter().map(|(_, d)| &d.signed_data[..]).collect();
    let signatures: Vec<_> = deferred.iter().map(|(_, d)| d.signature).collect();
    let keys: Vec<_> = deferred.iter().map(|(_, d)| d.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_err() {
        for (index, signature) in &deferred {
            if let Err(problem) = signature.check_alone() {
                results[*index] = Err(problem);
            }
        }
    }
    Ok(results)
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
pub fn check_raw_commit(raw: &[u8], signers: &[Signer]) -> Result<SealedEntry, Problem> {
    decode(raw, signers).map(|decoded| decoded.sealed)
}
