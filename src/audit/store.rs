//! The chain's git objects: state trees updated path by path, signed entry commits, and reading
//! entries and states back. No network here (see `append`) and no judgement (see `verify`).
//!
//! New objects go to an in-memory object backend ([`ChainWriter`]) and reach the disk as one
//! pack per flush, so the local repository never collects a handful of loose files per entry
//! (DESIGN 8, measured facts).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use git2::{Mempack, ObjectType, Odb, Oid, Repository, TreeWalkMode, TreeWalkResult};
use time::OffsetDateTime;

use super::entry::{Actor, ENTRY_VERSION, Entry, EntryError, Event, GENESIS_PREV, SealedEntry};
use super::replay::StateTrees;
use super::state::{ApplyError, Change, State, StateAccess, StateFileError, apply};
use crate::keys::SigningKey;
use crate::model::Kid;

/// The SSHSIG namespace git uses for commit signatures.
pub const GIT_NAMESPACE: &str = "git";
/// Author and committer name of every audit commit.
pub const COMMITTER_NAME: &str = "shipgate";
/// Author and committer email of every audit commit.
pub const COMMITTER_EMAIL: &str = "audit@shipgate.invalid";

/// Why the chain's objects could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// libgit2 failed.
    #[error("git: {context}: {source}")]
    Git {
        /// What was being done.
        context: String,
        /// The failure.
        source: git2::Error,
    },
    /// The audit key could not sign.
    #[error("the audit key cannot sign: {0}")]
    Sign(String),
    /// A commit on the chain does not carry a well-formed entry.
    #[error("commit {commit}: {source}")]
    Entry {
        /// The commit.
        commit: Oid,
        /// What is wrong.
        source: EntryError,
    },
    /// A tree on the chain does not hold a state.
    #[error("commit {commit}: {source}")]
    State {
        /// The commit.
        commit: Oid,
        /// What is wrong.
        source: StateFileError,
    },
    /// The entry is not a legal next step.
    #[error(transparent)]
    Refused(#[from] ApplyError),
}

pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Git { context, source }
}

/// The last entry of a chain: what the next entry builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// Its commit.
    pub commit: Oid,
    /// Its tree (the state after it).
    pub tree: Oid,
    /// Its sequence number.
    pub seq: u64,
    /// Its entry hash.
    pub hash: String,
}

/// The id of the empty tree (the state before genesis and after it).
pub fn empty_tree() -> Oid {
    Oid::hash_object(ObjectType::Tree, b"").unwrap_or(Oid::ZERO_SHA1)
}

/// Applies state changes to `base`, rebuilding only the trees on the touched paths.
pub fn update_tree(repo: &Repository, base: Oid, changes: &[Change]) -> Result<Oid, StoreError> {
    let odb = repo.odb().map_err(git("open object database"))?;
    update_tree_recording(repo, &odb, base, changes, &mut Vec::new())
}

/// [`update_tree`] through `odb`, adding the id of every object it writes to `written`. All
/// changes are applied in memory first and each touched directory is written once: an entry
/// that moves every run (a layout migration) rewrites each directory once, not once per run.
fn update_tree_recording(
    repo: &Repository,
    odb: &Odb<'_>,
    base: Oid,
    changes: &[Change],
    written: &mut Vec<Oid>,
) -> Result<Oid, StoreError> {
    StateTrees::new(repo, base).apply_writing(changes, odb, written)
}

/// Reads the entry a commit carries.
pub fn read_entry(repo: &Repository, commit: Oid) -> Result<SealedEntry, StoreError> {
    let found = repo.find_commit(commit).map_err(git("read audit commit"))?;
    entry_of(&found)
}

fn entry_of(commit: &git2::Commit<'_>) -> Result<SealedEntry, StoreError> {
    let id = commit.id();
    let message =
        std::str::from_utf8(commit.message_raw_bytes()).map_err(|_| StoreError::Entry {
            commit: id,
            source: EntryError::Layout,
        })?;
    SealedEntry::from_commit_message(message)
        .map_err(|source| StoreError::Entry { commit: id, source })
}

/// The entries from `head` back to the one with seq `seq` (included; or to the first commit),
/// newest first, each with its commit, reading each commit once: a run's history, from the
/// head back to the entry that opened it.
pub fn entries_back_to(
    repo: &Repository,
    head: Oid,
    seq: u64,
) -> Result<Vec<(Oid, SealedEntry)>, StoreError> {
    let mut entries = Vec::new();
    let mut cursor = Some(head);
    while let Some(oid) = cursor {
        let commit = repo.find_commit(oid).map_err(git("read audit commit"))?;
        let sealed = entry_of(&commit)?;
        let reached = sealed.entry.seq <= seq;
        entries.push((oid, sealed));
        if reached {
            break;
        }
        cursor = commit.parent_id(0).ok();
    }
    Ok(entries)
}

/// The tip a commit makes.
pub fn read_tip(repo: &Repository, commit: Oid) -> Result<Tip, StoreError> {
    let sealed = read_entry(repo, commit)?;
    let tree = repo
        .find_commit(commit)
        .map_err(git("read audit commit"))?
        .tree_id();
    Ok(Tip {
        commit,
        tree,
        seq: sealed.entry.seq,
        hash: sealed.hash,
    })
}

/// Reads the state a commit's tree holds.
pub fn read_state(repo: &Repository, commit: Oid) -> Result<State, StoreError> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(git("read state tree"))?;
    let mut files = Vec::new();
    let mut failure = None;
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
        match repo.find_blob(entry.id()) {
            Ok(blob) => files.push((path, blob.content().to_vec())),
            Err(e) => {
                failure = Some(e);
                return TreeWalkResult::Abort;
            }
        }
        TreeWalkResult::Ok
    })
    .map_err(git("walk state tree"))?;
    if let Some(e) = failure {
        return Err(git("read state blob")(e));
    }
    State::from_files(files.iter().map(|(p, b)| (p.clone(), b.as_slice())))
        .map_err(|source| StoreError::State { commit, source })
}

/// Writes signed entry commits into memory and flushes them to the repository as one pack.
pub struct ChainWriter<'a> {
    repo: &'a Repository,
    odb: &'a Odb<'a>,
    mempack: Mempack<'a>,
    key: &'a SigningKey,
    /// Every object written since the last flush or stage, in writing order.
    written: Vec<Oid>,
    /// The last commit this writer wrote and its entry's time, so appending on it needs no
    /// read to keep times in order.
    last: Option<(Oid, OffsetDateTime)>,
}

impl<'a> ChainWriter<'a> {
    /// A writer whose objects stay in memory until [`ChainWriter::flush`]. The in-memory
    /// backend stays on `odb` as long as the repository handle lives: give the writer a handle
    /// of its own.
    pub fn new(
        repo: &'a Repository,
        odb: &'a Odb<'a>,
        key: &'a SigningKey,
    ) -> Result<Self, StoreError> {
        // Highest priority, so every write lands in memory rather than as loose files.
        let mempack = odb
            .add_new_mempack_backend(1000)
            .map_err(git("add in-memory object backend"))?;
        Ok(Self {
            repo,
            odb,
            mempack,
            key,
            written: Vec::new(),
            last: None,
        })
    }

    /// The key id of the signing key.
    pub fn kid(&self) -> &Kid {
        &self.key.kid
    }

    /// Appends `event` after `tip` (or as seq 0 when there is no tip): checks it against
    /// `state` with [`apply`], writes the state tree and the signed commit, and updates `state`.
    /// The entry is dated `at`, or the tip's time when `at` is earlier: entry times never go
    /// backwards (a clock behind the previous writer's waits for it; DESIGN 13.2).
    pub fn append<S: StateAccess + ?Sized>(
        &mut self,
        tip: Option<&Tip>,
        state: &mut S,
        actor: &Actor,
        at: OffsetDateTime,
        event: Event,
    ) -> Result<Tip, StoreError> {
        let at = match tip {
            Some(tip) => at.max(self.time_of(tip)?),
            None => at,
        };
        let entry = Entry {
            version: ENTRY_VERSION,
            seq: tip.map_or(0, |t| t.seq + 1),
            prev: tip.map_or_else(|| GENESIS_PREV.to_owned(), |t| t.hash.clone()),
            at: super::entry::format_entry_time(at),
            actor: actor.clone(),
            event,
        };
        let changes = apply(state, &entry)?;
        let base = tip.map_or_else(empty_tree, |t| t.tree);
        let tree = update_tree_recording(self.repo, self.odb, base, &changes, &mut self.written)?;
        let sealed = entry.seal().map_err(|source| StoreError::Entry {
            commit: Oid::ZERO_SHA1,
            source,
        })?;
        let commit = write_entry_commit(
            self.repo,
            tip.map(|t| t.commit),
            tree,
            &sealed,
            Some(self.key),
        )?;
        self.written.push(commit);
        self.last = Some((commit, at));
        state.commit(changes);
        Ok(Tip {
            commit,
            tree,
            seq: sealed.entry.seq,
            hash: sealed.hash,
        })
    }

    /// The time of the entry `tip` names.
    fn time_of(&self, tip: &Tip) -> Result<OffsetDateTime, StoreError> {
        match self.last {
            Some((commit, at)) if commit == tip.commit => Ok(at),
            _ => read_entry(self.repo, tip.commit)?
                .entry
                .at_time()
                .map_err(|source| StoreError::Entry {
                    commit: tip.commit,
                    source,
                }),
        }
    }

    /// A pack of exactly the objects written since the last flush or stage. (libgit2's
    /// `git_mempack_dump` would add every object reachable from the new commits: the whole
    /// state, making each append cost grow with the state.)
    fn pack_new_objects(&self) -> Result<git2::Buf, StoreError> {
        let mut builder = self.repo.packbuilder().map_err(git("open pack builder"))?;
        for oid in &self.written {
            builder
                .insert_object(*oid, None)
                .map_err(git("pack new audit objects"))?;
        }
        let mut pack = git2::Buf::new();
        builder
            .write_buf(&mut pack)
            .map_err(git("pack new audit objects"))?;
        Ok(pack)
    }

    /// Forgets the objects in memory once they are in a pack.
    fn reset(&mut self) -> Result<(), StoreError> {
        self.mempack
            .reset()
            .map_err(git("reset in-memory objects"))?;
        self.written.clear();
        Ok(())
    }

    /// Moves the objects written so far from memory into a pack of their own in a new objects
    /// directory under `dir`, outside the repository: git can push from it (as an alternate
    /// object directory) and [`StagedPack::adopt`] moves it into the repository once the push
    /// landed, so a rejected attempt leaves nothing behind.
    pub fn stage(&mut self, dir: &Path) -> Result<StagedPack, StoreError> {
        let objects = dir.to_owned();
        let staged = StagedPack {
            objects: objects.clone(),
        };
        let pack_dir = objects.join("pack");
        std::fs::create_dir_all(&pack_dir).map_err(|e| io_error("create staging directory", &e))?;
        let pack = self.pack_new_objects()?;
        let mut indexer =
            git2::Indexer::new(None, &pack_dir, 0o444, false).map_err(git("open pack indexer"))?;
        indexer
            .write_all(&pack)
            .map_err(|e| io_error("write staged pack", &e))?;
        indexer.commit().map_err(git("index staged pack"))?;
        self.reset()?;
        Ok(staged)
    }

    /// Moves the objects written so far from memory into one pack in the repository.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.written.is_empty() {
            return Ok(());
        }
        let pack = self.pack_new_objects()?;
        let mut writer = self.odb.packwriter().map_err(git("open pack writer"))?;
        writer
            .write_all(&pack)
            .map_err(|e| git("write pack")(git2::Error::from_str(&e.to_string())))?;
        writer.commit().map_err(git("index pack"))?;
        self.reset()
    }
}

fn io_error(context: &str, err: &std::io::Error) -> StoreError {
    git(context)(git2::Error::from_str(&err.to_string()))
}

/// A pack of new objects in an objects directory of its own, removed when dropped unless
/// adopted by the repository.
#[derive(Debug)]
pub struct StagedPack {
    objects: PathBuf,
}

impl StagedPack {
    /// The objects directory (for `GIT_ALTERNATE_OBJECT_DIRECTORIES`).
    pub fn objects_dir(&self) -> &Path {
        &self.objects
    }

    /// Moves the pack into the repository's object store (index last, so git never sees an
    /// index without its pack).
    pub fn adopt(self, repo: &Repository) -> Result<(), StoreError> {
        let target = repo.path().join("objects").join("pack");
        let entries = std::fs::read_dir(self.objects.join("pack"))
            .map_err(|e| io_error("read staged pack", &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| io_error("read staged pack", &e))?;
        let mut files: Vec<PathBuf> = entries.into_iter().map(|e| e.path()).collect();
        files.sort_by_key(|path| path.extension().is_some_and(|ext| ext == "idx"));
        for file in files {
            if let Some(name) = file.file_name() {
                std::fs::rename(&file, target.join(name))
                    .map_err(|e| io_error("adopt staged pack", &e))?;
            }
        }
        Ok(())
    }
}

impl Drop for StagedPack {
    fn drop(&mut self) {
        // Best effort: a leftover staging directory wastes space but breaks nothing.
        let _ = std::fs::remove_dir_all(&self.objects);
    }
}

/// Writes one entry commit: `summary\n\nJSON\n\nShipgate-Entry: ...`, author and committer
/// time = the entry's `at`, signed as SSHSIG (namespace `git`, SHA-512) when a key is given.
/// Unsigned commits exist only so tests can build tampered chains.
pub fn write_entry_commit(
    repo: &Repository,
    parent: Option<Oid>,
    tree: Oid,
    sealed: &SealedEntry,
    key: Option<&SigningKey>,
) -> Result<Oid, StoreError> {
    write_commit(
        repo,
        &parent.into_iter().collect::<Vec<_>>(),
        tree,
        sealed,
        key,
    )
}

/// [`write_entry_commit`] with any number of parents (tests build merge commits with it).
pub fn write_commit(
    repo: &Repository,
    parents: &[Oid],
    tree: Oid,
    sealed: &SealedEntry,
    key: Option<&SigningKey>,
) -> Result<Oid, StoreError> {
    let at = sealed.entry.at_time().map_err(|source| StoreError::Entry {
        commit: Oid::ZERO_SHA1,
        source,
    })?;
    let when = git2::Time::new(at.unix_timestamp(), 0);
    let person = git2::Signature::new(COMMITTER_NAME, COMMITTER_EMAIL, &when)
        .map_err(git("commit signature"))?;
    let tree = repo.find_tree(tree).map_err(git("read state tree"))?;
    let parents = parents
        .iter()
        .map(|oid| repo.find_commit(*oid))
        .collect::<Result<Vec<_>, _>>()
        .map_err(git("read parent commit"))?;
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let buffer = repo
        .commit_create_buffer(
            &person,
            &person,
            &sealed.commit_message(),
            &tree,
            &parent_refs,
        )
        .map_err(git("build commit"))?;
    let content = buffer
        .as_str()
        .map_err(|_| StoreError::Sign("the commit buffer is not UTF-8".into()))?;
    match key {
        Some(key) => {
            let signature = key
                .key
                .sign(GIT_NAMESPACE, ssh_key::HashAlg::Sha512, content.as_bytes())
                .map_err(|e| StoreError::Sign(e.to_string()))?;
            let armored = signature
                .to_pem(ssh_key::LineEnding::LF)
                .map_err(|e| StoreError::Sign(e.to_string()))?;
            repo.commit_signed(content, armored.trim_end_matches('\n'), None)
                .map_err(git("write signed commit"))
        }
        None => repo
            .odb()
            .and_then(|odb| odb.write(ObjectType::Commit, content.as_bytes()))
            .map_err(git("write commit")),
    }
}
