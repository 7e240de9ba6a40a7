//! Steps 1 (no merges) and 5 to 7 of the checklist, in chain order: the replay of each
//! checked commit against the previous one (seq, prev, genesis, times), the state rules and
//! the state tree, on the calling thread; the commits come from the walk (`walk`).

use std::path::Path;

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
        let previous_tree = check_link(previous.as_ref(), entry).map_err(|p| fail(seq, p))?;
        if previous.is_none() {
            root = Some(oid);
        }
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
                threads: 1,
                progress: None,
                ..*options
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

/// The previous entry an entry must follow: seq, hash, tree and time.
type Link = (u64, String, Oid, OffsetDateTime);

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
