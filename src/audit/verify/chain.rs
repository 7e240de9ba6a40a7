//! Steps 1 (no merges) and 5 to 7 of the checklist, in chain order: the replay of each
//! checked commit against the previous one (seq, prev, genesis, times) and the state rules on
//! the calling thread, and the state tree, on a thread of its own when there are worker threads
//! (the tree thread only ever sees entries that passed the rules, so its failure is the
//! earlier one); the commits come from the walk (`walk`).

use std::path::Path;
use std::sync::{Arc, mpsc};

use git2::{ObjectType, Oid, Repository};
use time::OffsetDateTime;

use super::signature::AuditKeys;
use super::walk::Line;
use super::{Decoded, FUTURE_TOLERANCE, Failure, Problem, TrustedHead, VerifyError, VerifyOptions};
use crate::audit::entry::{Entry, Event, GENESIS_PREV};
use crate::audit::replay::{StateTrees, TreeChecks};
use crate::audit::state::{Change, State, apply};
use crate::audit::store::{StoreError, empty_tree, git};

/// Steps 1 to 7 from `start` (excluded; `options.since` names it) to `head`; returns the
/// verified head and how many entries were checked.
pub(super) fn verify_line(
    repo: &Repository,
    head: Oid,
    start: Option<TrustedHead>,
    options: &VerifyOptions<'_>,
) -> Result<(TrustedHead, u64), VerifyError> {
    let keys = AuditKeys::new(options.signers);
    let line = Line {
        head,
        since: options.since,
        keys: &keys,
        progress: options.progress,
        hold_bytes: options.hold_bytes,
    };
    if options.threads <= 1 {
        let trees = TreeReplay::new(repo, start.as_ref(), None);
        let mut chain = Replay::new(start, options.now, Trees::Here(trees));
        let total = line.check_here(repo, &mut |oid, decoded| chain.replay(oid, decoded))?;
        return Ok((chain.into_head(head)?, total));
    }
    // A failed deferred tree check verifies again from the same start, single-threaded.
    let retry_start = start.clone();
    // Worker threads check the commits and hash the large state directories (see `replay`);
    // step 7 runs on a thread of its own, an entry behind the rules.
    let checks = TreeChecks::new();
    let path = repo.path();
    let tree_start = start.as_ref().map(|s| s.tree);
    let (outcome, trees_outcome) = std::thread::scope(|scope| {
        let (steps, received) = mpsc::sync_channel::<Vec<TreeStep>>(TREE_BATCHES_AHEAD);
        let checks = &checks;
        let tree_thread = scope.spawn(move || {
            let repo = Repository::open(path).map_err(git("open repository"))?;
            let mut trees = TreeReplay::at(&repo, tree_start, Some(checks));
            received
                .into_iter()
                .flatten()
                .try_for_each(|step| trees.check(step))
        });
        let piped = Trees::Piped {
            steps,
            batch: Vec::with_capacity(TREE_BATCH),
        };
        let mut chain = Replay::new(start, options.now, piped);
        let replayed =
            line.check_with_workers(repo, options.threads, checks, &mut |oid, decoded| {
                chain.replay(oid, decoded)
            });
        // The entries that passed the rules go to the tree thread whatever comes next (a tree
        // failure among them comes first); the replay then lets go of its end of the channel,
        // so the tree thread ends.
        let flushed = chain.trees.flush();
        let outcome = match replayed.and_then(|total| flushed.map(|()| total)) {
            Ok(total) => chain.into_head(head).map(|trusted| (trusted, total)),
            Err(e) => {
                drop(chain);
                Err(e)
            }
        };
        let trees_outcome = tree_thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (outcome, trees_outcome)
    });
    if checks.finish() {
        // A large directory does not hash to the id its commit gives it. Verify again without
        // deferring: that names the first bad commit, and the tree it should have, exactly.
        return verify_line(
            repo,
            head,
            retry_start,
            &VerifyOptions {
                threads: 1,
                progress: None,
                ..*options
            },
        );
    }
    // The tree thread only saw entries that passed the rules: its failure comes first.
    trees_outcome?;
    outcome
}

/// Entries handed to the tree thread at once: one wake-up per batch, not per entry.
const TREE_BATCH: usize = 256;
/// How many batches the rules may run ahead of step 7 (bounds the changes held in between).
const TREE_BATCHES_AHEAD: usize = 16;

/// Step 7 for one entry that passed steps 1 to 6: its changes, and the tree its commit has.
struct TreeStep {
    commit: Oid,
    seq: u64,
    tree: Oid,
    changes: Vec<Change>,
}

/// Where step 7 runs: on the replay's thread, or on a thread of its own fed in chain order, a
/// batch at a time.
enum Trees<'r> {
    Here(TreeReplay<'r>),
    Piped {
        steps: mpsc::SyncSender<Vec<TreeStep>>,
        batch: Vec<TreeStep>,
    },
}

impl Trees<'_> {
    fn check(&mut self, step: TreeStep) -> Result<(), VerifyError> {
        match self {
            Self::Here(trees) => trees.check(step),
            Self::Piped { batch, .. } => {
                batch.push(step);
                if batch.len() < TREE_BATCH {
                    return Ok(());
                }
                self.flush()
            }
        }
    }

    /// Hands the waiting entries to the tree thread.
    fn flush(&mut self) -> Result<(), VerifyError> {
        let Self::Piped { steps, batch } = self else {
            return Ok(());
        };
        if batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(batch, Vec::with_capacity(TREE_BATCH));
        steps.send(full).map_err(|_| {
            // The tree thread stopped at a failure, which it returns.
            VerifyError::Store(StoreError::Git {
                context: "verify".to_owned(),
                source: git2::Error::from_str("the state tree check stopped"),
            })
        })
    }
}

/// Step 7 in chain order: the state trees replayed from each entry's changes, against the tree
/// its commit has.
struct TreeReplay<'r> {
    repo: &'r Repository,
    trees: StateTrees<'r>,
    /// The previous entry's tree.
    previous: Oid,
    /// Where large directories' hashes are deferred to, with worker threads.
    deferred: Option<&'r TreeChecks>,
}

impl<'r> TreeReplay<'r> {
    fn new(
        repo: &'r Repository,
        start: Option<&TrustedHead>,
        deferred: Option<&'r TreeChecks>,
    ) -> Self {
        Self::at(repo, start.map(|s| s.tree), deferred)
    }

    /// Trees starting from `tree` (the empty tree before a genesis).
    fn at(repo: &'r Repository, tree: Option<Oid>, deferred: Option<&'r TreeChecks>) -> Self {
        let previous = tree.unwrap_or_else(empty_tree);
        Self {
            repo,
            trees: StateTrees::new(repo, previous),
            previous,
            deferred,
        }
    }

    fn check(&mut self, step: TreeStep) -> Result<(), VerifyError> {
        let expected = if step.changes.is_empty() {
            self.previous
        } else if let Some(checks) = self.deferred {
            let repo = self.repo;
            self.trees
                .apply_deferring(&step.changes, &mut |path, bytes| {
                    let claimed = claimed_dir(repo, step.tree, path)?;
                    checks.offer(bytes, claimed).then_some(claimed)
                })?
        } else {
            self.trees.apply(&step.changes)?
        };
        if expected != step.tree {
            return Err(VerifyError::Invalid(Failure {
                commit: step.commit,
                seq: Some(step.seq),
                problem: Problem::TreeMismatch {
                    expected,
                    found: step.tree,
                },
            }));
        }
        self.previous = step.tree;
        Ok(())
    }
}

/// The replay of steps 1 and 5 to 7, one checked commit at a time in chain order: the state
/// so far, the previous entry, the chain's first commit once seen, and step 7's trees.
struct Replay<'r> {
    now: Option<OffsetDateTime>,
    state: State,
    previous: Option<Link>,
    root: Option<Oid>,
    trees: Trees<'r>,
}

impl<'r> Replay<'r> {
    fn new(start: Option<TrustedHead>, now: Option<OffsetDateTime>, trees: Trees<'r>) -> Self {
        let root = start.as_ref().and_then(|s| s.root);
        let (state, previous) = match start {
            // Shared only while a decision still holds the state of the last head.
            Some(start) => (
                Arc::unwrap_or_clone(start.state),
                Some((start.seq, start.hash, start.tree, start.at)),
            ),
            None => (State::default(), None),
        };
        Self {
            now,
            state,
            previous,
            root,
            trees,
        }
    }

    /// Steps 1 and 5 to 7 for the next commit of the chain (7 perhaps on the tree thread).
    fn replay(&mut self, oid: Oid, decoded: Result<Decoded, Problem>) -> Result<(), VerifyError> {
        let fail = |seq: Option<u64>, problem: Problem| {
            VerifyError::Invalid(Failure {
                commit: oid,
                seq,
                problem,
            })
        };
        let commit = decoded.map_err(|problem| fail(None, problem))?;
        let entry = &commit.checked.entry;
        let seq = entry.seq;
        // 1 and 5.
        check_order(&commit, self.previous.as_ref(), self.now)
            .map_err(|problem| fail(Some(seq), problem))?;
        if self.previous.is_none() {
            self.root = Some(oid);
        }
        // 6. Rules.
        let changes = apply(&self.state, entry).map_err(|e| fail(Some(seq), Problem::Rules(e)))?;
        // 7. State.
        let step = TreeStep {
            commit: oid,
            seq,
            tree: commit.tree,
            changes: changes.clone(),
        };
        self.trees.check(step)?;
        self.state.commit(changes);
        self.previous = Some((seq, commit.checked.hash, commit.tree, commit.at));
        Ok(())
    }

    /// The verified head once the line is replayed (step 7 of the last entries may still be
    /// running on the tree thread, which ends once this replay is dropped).
    fn into_head(self, head: Oid) -> Result<TrustedHead, VerifyError> {
        let (seq, hash, tree, at) = self.previous.ok_or_else(|| {
            VerifyError::Store(StoreError::Git {
                context: format!("verify {head}"),
                source: git2::Error::from_str("the line holds no entry"),
            })
        })?;
        Ok(TrustedHead {
            commit: head,
            seq,
            hash,
            tree,
            at,
            root: self.root,
            state: Arc::new(self.state),
        })
    }
}

/// The previous entry an entry must follow: seq, hash, tree and time.
type Link = (u64, String, Oid, OffsetDateTime);

/// Steps 1 and 5 for one commit: no merge, linked to the previous entry, dated in order.
fn check_order(
    commit: &Decoded,
    previous: Option<&Link>,
    now: Option<OffsetDateTime>,
) -> Result<(), Problem> {
    if commit.parents > 1 {
        return Err(Problem::MergeCommit(commit.parents));
    }
    check_link(previous, &commit.checked.entry)?;
    check_time(commit.at, previous.map(|(_, _, _, at)| *at), now)
}

/// Step 5's links: a genesis at seq 0 first, then each entry the next seq naming the previous
/// entry's hash, never another genesis.
fn check_link(previous: Option<&Link>, entry: &Entry) -> Result<(), Problem> {
    let is_genesis = matches!(entry.event, Event::Genesis { .. });
    let misplaced_genesis = || Problem::Genesis {
        kind: entry.event.kind(),
        seq: entry.seq,
    };
    let Some((previous_seq, previous_hash, _, _)) = previous else {
        if entry.seq != 0 || !is_genesis || entry.prev != GENESIS_PREV {
            return Err(misplaced_genesis());
        }
        return Ok(());
    };
    if entry.seq != previous_seq + 1 {
        return Err(Problem::SeqGap {
            previous: *previous_seq,
            found: entry.seq,
        });
    }
    if &entry.prev != previous_hash {
        return Err(Problem::PrevMismatch {
            expected: previous_hash.clone(),
            found: entry.prev.clone(),
        });
    }
    if is_genesis {
        return Err(misplaced_genesis());
    }
    Ok(())
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
