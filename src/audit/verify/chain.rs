//! Steps 1 (no merges) and 5 to 7 of the checklist, in chain order: the replay of each
//! checked commit against the previous one (seq, prev, genesis, times), the state rules and
//! the state tree, on the calling thread; the commits come from the walk (`walk`).

use std::path::Path;
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};
use time::OffsetDateTime;

use super::signature::AuditKeys;
use super::walk::Line;
use super::{Decoded, FUTURE_TOLERANCE, Failure, Problem, TrustedHead, VerifyError, VerifyOptions};
use crate::audit::entry::{Entry, Event, GENESIS_PREV};
use crate::audit::replay::{StateTrees, TreeChecks};
use crate::audit::state::{State, apply};
use crate::audit::store::{StoreError, empty_tree};

/// Steps 1 to 7 from `start` (excluded; `options.since` names it) to `head`; returns the
/// verified head and how many entries were checked.
pub(super) fn verify_line(
    repo: &Repository,
    head: Oid,
    start: Option<TrustedHead>,
    options: &VerifyOptions<'_>,
) -> Result<(TrustedHead, u64), VerifyError> {
    let keys = AuditKeys::new(options.signers);
    let deferring = options.threads > 1;
    // A failed deferred tree check verifies again from the same start, single-threaded.
    let retry_start = if deferring { start.clone() } else { None };
    // With worker threads, they also hash the large state directories (see `replay`).
    let checks = TreeChecks::new();
    let mut chain = Replay::new(repo, start, options.now, deferring.then_some(&checks));
    let mut replay = |oid: Oid, decoded: Result<Decoded, Problem>| chain.replay(oid, decoded);
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
                threads: 1,
                progress: None,
                ..*options
            },
        );
    }
    let total = replayed?;
    Ok((chain.into_head(head)?, total))
}

/// The replay of steps 1 and 5 to 7, one checked commit at a time in chain order: the state
/// and tree so far, the previous entry, and the chain's first commit once seen.
struct Replay<'r> {
    repo: &'r Repository,
    now: Option<OffsetDateTime>,
    /// Where large directories' hashes are deferred to, with worker threads.
    deferred: Option<&'r TreeChecks>,
    state: State,
    previous: Option<Link>,
    root: Option<Oid>,
    trees: StateTrees<'r>,
}

impl<'r> Replay<'r> {
    fn new(
        repo: &'r Repository,
        start: Option<TrustedHead>,
        now: Option<OffsetDateTime>,
        deferred: Option<&'r TreeChecks>,
    ) -> Self {
        let root = start.as_ref().and_then(|s| s.root);
        let (state, previous) = match start {
            // Shared only while a decision still holds the state of the last head.
            Some(start) => (
                Arc::unwrap_or_clone(start.state),
                Some((start.seq, start.hash, start.tree, start.at)),
            ),
            None => (State::default(), None),
        };
        let tree = previous
            .as_ref()
            .map_or_else(empty_tree, |(_, _, tree, _)| *tree);
        Self {
            repo,
            now,
            deferred,
            state,
            previous,
            root,
            trees: StateTrees::new(repo, tree),
        }
    }

    /// Steps 1 and 5 to 7 for the next commit of the chain.
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
        let seq = Some(entry.seq);
        // 1 and 5.
        let previous_tree = check_order(&commit, self.previous.as_ref(), self.now)
            .map_err(|problem| fail(seq, problem))?;
        if self.previous.is_none() {
            self.root = Some(oid);
        }
        // 6. Rules.
        let changes = apply(&self.state, entry).map_err(|e| fail(seq, Problem::Rules(e)))?;
        // 7. State.
        let expected = if changes.is_empty() {
            previous_tree
        } else if let Some(checks) = self.deferred {
            let repo = self.repo;
            self.trees.apply_deferring(&changes, &mut |path, bytes| {
                let claimed = claimed_dir(repo, commit.tree, path)?;
                checks.offer(bytes, claimed).then_some(claimed)
            })?
        } else {
            self.trees.apply(&changes)?
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
        self.state.commit(changes);
        self.previous = Some((entry.seq, commit.checked.hash, commit.tree, commit.at));
        Ok(())
    }

    /// The verified head once the line is replayed.
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
/// Returns the tree the entry builds on.
fn check_order(
    commit: &Decoded,
    previous: Option<&Link>,
    now: Option<OffsetDateTime>,
) -> Result<Oid, Problem> {
    if commit.parents > 1 {
        return Err(Problem::MergeCommit(commit.parents));
    }
    let previous_tree = check_link(previous, &commit.checked.entry)?;
    check_time(commit.at, previous.map(|(_, _, _, at)| *at), now)?;
    Ok(previous_tree)
}

/// Step 5's links: a genesis at seq 0 first, then each entry the next seq naming the previous
/// entry's hash, never another genesis. Returns the tree the entry builds on.
fn check_link(previous: Option<&Link>, entry: &Entry) -> Result<Oid, Problem> {
    let is_genesis = matches!(entry.event, Event::Genesis { .. });
    let misplaced_genesis = || Problem::Genesis {
        kind: entry.event.kind(),
        seq: entry.seq,
    };
    let Some((previous_seq, previous_hash, previous_tree, _)) = previous else {
        if entry.seq != 0 || !is_genesis || entry.prev != GENESIS_PREV {
            return Err(misplaced_genesis());
        }
        return Ok(empty_tree());
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
    Ok(*previous_tree)
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
