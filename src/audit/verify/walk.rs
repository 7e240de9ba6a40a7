//! Step 1's walk of the first-parent line, newest first, and the per-commit checks (steps 2
//! to 4, in `signature`) run on the commits it read: on the calling thread, or on worker
//! threads that take the chunks as the walk hands them over and also run the replay's deferred
//! directory checks. Each chunk is replayed oldest first (`chain`) as soon as it is checked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use git2::{ObjectType, Oid, Repository};

use super::signature::{AuditKeys, check_commits};
use super::{Decoded, Failure, Problem, VerifyError};
use crate::audit::replay::TreeChecks;
use crate::audit::store::{StoreError, git};

/// Entries between two progress reports.
const BATCH: usize = 4096;
/// Commits in one unit of the per-commit checks.
const CHUNK: usize = 256;
/// The default of [`VerifyOptions::hold_bytes`]: 256 MiB, a chain of about 200 000 entries.
pub const HOLD_BYTES: usize = 256 << 20;
/// How many chunks the workers may read again ahead of the replay (bounds the memory held
/// beyond [`VerifyOptions::hold_bytes`]).
const AHEAD: usize = 32;

/// A run of consecutive commits of the line, newest first, as the walk found them.
pub(super) struct Chunk {
    oids: Vec<Oid>,
    /// The commits' bytes, when the walk kept them; otherwise they are read again.
    raw: Option<RawCommits>,
}

/// Commits one after another in one buffer: one allocation for a chunk, not one per commit
/// (the walk allocates them and a worker frees them).
#[derive(Default)]
pub(super) struct RawCommits {
    bytes: Vec<u8>,
    pub(super) ends: Vec<usize>,
}

impl RawCommits {
    /// Room for a chunk of signed entries (about 1 KiB each) without growing.
    fn for_chunk() -> Self {
        Self {
            bytes: Vec::with_capacity(CHUNK * 1280),
            ends: Vec::with_capacity(CHUNK),
        }
    }

    pub(super) fn push(&mut self, commit: &[u8]) {
        self.bytes.extend_from_slice(commit);
        self.ends.push(self.bytes.len());
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, end)| &self.bytes[start..*end])
    }
}

/// A chunk after steps 2 to 4: each commit of it, newest first, with its outcome.
pub(super) type CheckedChunk = Result<Vec<(Oid, Result<Decoded, Problem>)>, StoreError>;

/// The first-parent line to verify and what checking it needs.
pub(super) struct Line<'a, 's> {
    pub(super) head: Oid,
    /// The trusted commit the line stops at (excluded).
    pub(super) since: Option<Oid>,
    pub(super) keys: &'a AuditKeys<'s>,
    pub(super) progress: Option<&'a dyn Fn(u64, u64)>,
    pub(super) hold_bytes: usize,
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
            raw: Some(RawCommits::for_chunk()),
        };
        while let Some(oid) = cursor {
            if Some(oid) == self.since {
                break;
            }
            // The error's context is formatted only on failure: this runs for every commit.
            let object = odb
                .read(oid)
                .map_err(|e| git(format!("read commit {oid}"))(e))?;
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
                    raw: keep.then(RawCommits::for_chunk),
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
    pub(super) fn check_here(
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
    pub(super) fn check_with_workers(
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
            let mut raw = RawCommits::for_chunk();
            for oid in &chunk.oids {
                let object = odb
                    .read(*oid)
                    .map_err(|e| git(format!("read commit {oid}"))(e))?;
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
