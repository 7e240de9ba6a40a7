//! The verifier's state trees: the state tree of every entry computed in memory, without
//! libgit2 tree builders or object writes.
//!
//! Ids are hashed here with plain SHA-1 on the CPU's SHA instructions ([`object_id`]), not with
//! libgit2's collision-detecting SHA-1, which took half the replay's time. Collision detection
//! guards an id against an object crafted to collide with another; here the hashed bytes are
//! the replay's own serialization of a state it derived from signed entries, compared with the
//! tree id the signed commit names, so a forger would need a second preimage of honest bytes.
//!
//! Rebuilding each touched tree with a libgit2 tree builder (parse the old tree, insert, sort,
//! hash, write) for every change made replays of long chains slow, and an append's cost grow
//! with its changes. Here every directory the replay touches stays parsed in memory; a change
//! edits the entries on its path, and once per entry each edited directory is serialized
//! exactly as git writes it (sorted by git's rule, `<octal mode> <name>\0<id>`) and hashed, or,
//! for an append ([`super::store::update_tree`]), written. The result is the tree id libgit2's
//! tree builder gives, which the tests check.
//!
//! Hashing a large directory (the flat `state/runs/` of a chain written before runs fanned
//! out, 450 KB at 10 000 runs) is most of the replay's work on such a chain, and the replay
//! runs on one thread. So a caller may take over the hashing of
//! large directories ([`StateTrees::apply_deferring`]): it names the id the commit's own tree
//! gives that directory, the replay goes on with that id, and [`TreeChecks`] has other threads
//! check later that the directory's bytes hash to it. The commit's tree is the replayed state
//! iff its root matches and every deferred check passes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use git2::{FileMode, ObjectType, Odb, Oid, Repository};

use super::state::Change;
use super::store::{StoreError, empty_tree, git};

/// One entry of a directory.
#[derive(Debug, Clone, Copy)]
struct Item {
    mode: i32,
    oid: Oid,
    /// Where its id lies in its directory's serialization, while that is kept.
    at: usize,
}

impl Item {
    fn new(mode: FileMode, oid: Oid) -> Self {
        Self {
            mode: i32::from(mode),
            oid,
            at: 0,
        }
    }

    fn is_tree(self) -> bool {
        self.mode == i32::from(FileMode::Tree)
    }
}

/// A directory's entries, keyed by git's sort key: the name, plus `/` for a tree (byte order of
/// these keys is git's tree order), and its serialization while only ids change. Most entries
/// change one id in each of the large fan-out directories (`state/runs/` lists 256); patching
/// those 20 bytes instead of serializing the directory again halves the replay's tree work.
#[derive(Default)]
struct Dir {
    entries: BTreeMap<Vec<u8>, Item>,
    /// The directory as git serializes it; `None` once an entry was added or removed.
    serialized: Option<Vec<u8>>,
}

impl Dir {
    fn get(&self, key: &[u8]) -> Option<&Item> {
        self.entries.get(key)
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets the entry at `key`: only its id, patched in the serialization, when it is there
    /// with the same mode.
    fn insert(&mut self, key: Vec<u8>, item: Item) {
        if let Some(existing) = self.entries.get_mut(&key)
            && existing.mode == item.mode
        {
            existing.oid = item.oid;
            if let Some(bytes) = self.serialized.as_mut() {
                bytes[existing.at..existing.at + 20].copy_from_slice(item.oid.as_bytes());
            }
            return;
        }
        self.entries.insert(key, item);
        self.serialized = None;
    }

    fn remove(&mut self, key: &[u8]) -> Option<Item> {
        let removed = self.entries.remove(key);
        if removed.is_some() {
            self.serialized = None;
        }
        removed
    }

    /// The directory serialized exactly as git writes it: `<octal mode> <name>\0<id>` for each
    /// entry in key order.
    fn serialized(&mut self) -> &[u8] {
        self.serialized.get_or_insert_with(|| {
            let mut bytes = Vec::with_capacity(self.entries.len() * 48);
            for (name, item) in &mut self.entries {
                let name = name.strip_suffix(b"/").unwrap_or(name);
                match item.mode {
                    0o100644 => bytes.extend_from_slice(b"100644 "),
                    0o40000 => bytes.extend_from_slice(b"40000 "),
                    mode => bytes.extend_from_slice(format!("{mode:o} ").as_bytes()),
                }
                bytes.extend_from_slice(name);
                bytes.push(0);
                item.at = bytes.len();
                bytes.extend_from_slice(item.oid.as_bytes());
            }
            bytes
        })
    }
}

fn key(name: &str, tree: bool) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 1);
    key.extend_from_slice(name.as_bytes());
    if tree {
        key.push(b'/');
    }
    key
}

/// The state trees as the replay goes, starting from one tree.
pub(crate) struct StateTrees<'r> {
    repo: &'r Repository,
    /// Directories parsed or built so far, by path (`""` is the root, no trailing `/`). A
    /// directory's id in its parent's entry is stale while the directory is dirty.
    dirs: HashMap<String, Dir>,
    /// Directories edited since the last [`StateTrees::finish`].
    dirty: HashSet<String>,
    root: Oid,
}

impl<'r> StateTrees<'r> {
    /// Trees starting from `root` (the empty tree at genesis); directories are read from
    /// `repo` when first touched.
    pub(crate) fn new(repo: &'r Repository, root: Oid) -> Self {
        Self {
            repo,
            dirs: HashMap::new(),
            dirty: HashSet::new(),
            root,
        }
    }

    /// Applies one entry's changes and returns the id of the resulting root tree.
    pub(crate) fn apply(&mut self, changes: &[Change]) -> Result<Oid, StoreError> {
        self.apply_deferring(changes, &mut |_, _| None)
    }

    /// [`StateTrees::apply`], offering each edited directory of at least [`DEFER_AT`] bytes
    /// to `defer` with its path and serialized bytes: when it returns an id (having taken the
    /// bytes, to check that they hash to it), that id stands for the directory, unhashed.
    pub(crate) fn apply_deferring(
        &mut self,
        changes: &[Change],
        defer: &mut dyn FnMut(&str, &[u8]) -> Option<Oid>,
    ) -> Result<Oid, StoreError> {
        self.apply_to(changes, &mut Objects::Hashed { defer })
    }

    /// [`StateTrees::apply`], writing the new blobs and the edited directories (each once,
    /// however many changes touched it) to `odb` and adding their ids to `written`: what an
    /// append stores. The root is written even when it is the empty tree.
    pub(crate) fn apply_writing(
        &mut self,
        changes: &[Change],
        odb: &Odb<'_>,
        written: &mut Vec<Oid>,
    ) -> Result<Oid, StoreError> {
        let mut objects = Objects::Written { odb, written };
        let root = self.apply_to(changes, &mut objects)?;
        if root == empty_tree() {
            objects.tree("", &[])?;
        }
        Ok(root)
    }

    fn apply_to(
        &mut self,
        changes: &[Change],
        objects: &mut Objects<'_, '_>,
    ) -> Result<Oid, StoreError> {
        for change in changes {
            let blob = change
                .content()
                .map(|bytes| objects.blob(&bytes))
                .transpose()?;
            self.set(&change.path(), blob)?;
        }
        self.finish(objects)
    }

    /// Loads the directory at `path` whose id is `oid` (or an empty one) if not loaded yet.
    fn load(&mut self, path: &str, oid: Option<Oid>) -> Result<(), StoreError> {
        if self.dirs.contains_key(path) {
            return Ok(());
        }
        let mut dir = Dir::default();
        if let Some(oid) = oid {
            let tree = self.repo.find_tree(oid).map_err(git("read state tree"))?;
            for entry in &tree {
                let name = std::str::from_utf8(entry.name_bytes())
                    .map_err(|_| git("read state tree")(git2::Error::from_str("non-UTF-8 name")))?;
                let item = Item {
                    mode: entry.filemode(),
                    oid: entry.id(),
                    at: 0,
                };
                dir.entries.insert(key(name, item.is_tree()), item);
            }
        }
        self.dirs.insert(path.to_owned(), dir);
        Ok(())
    }

    /// Sets (or with `None` removes) the blob at `path`, as `store::set_path` does: a missing
    /// directory is created, a non-directory in the way is replaced, and a removal below a
    /// missing directory removes whatever has that directory's name.
    fn set(&mut self, path: &str, blob: Option<Oid>) -> Result<(), StoreError> {
        if !self.dirs.contains_key("") {
            let root = (self.root != empty_tree()).then_some(self.root);
            self.load("", root)?;
        }
        let components: Vec<&str> = path.split('/').collect();
        let Some((leaf, parents)) = components.split_last() else {
            return Ok(());
        };
        let mut dir_path = String::new();
        for name in parents {
            let child_path = if dir_path.is_empty() {
                (*name).to_owned()
            } else {
                format!("{dir_path}/{name}")
            };
            let dir = self.dirs.get_mut(&dir_path).expect("parent loaded");
            let existing = dir.get(&key(name, true)).map(|item| item.oid);
            if existing.is_none() {
                // No such directory: a removal ends here (removing a same-named file, like the
                // tree builder does); a write creates the directory in place of any file.
                let had_file = dir.remove(&key(name, false)).is_some();
                if blob.is_none() {
                    if had_file {
                        self.mark_dirty(&dir_path);
                    }
                    return Ok(());
                }
                dir.insert(key(name, true), Item::new(FileMode::Tree, Oid::ZERO_SHA1));
                self.mark_dirty(&dir_path);
                self.forget(&child_path);
                self.dirs.insert(child_path.clone(), Dir::default());
            } else {
                self.load(&child_path, existing)?;
            }
            dir_path = child_path;
        }
        let dir = self.dirs.get_mut(&dir_path).expect("directory loaded");
        let removed_tree = dir.remove(&key(leaf, true)).is_some();
        let changed = match blob {
            Some(oid) => {
                dir.insert(key(leaf, false), Item::new(FileMode::Blob, oid));
                true
            }
            None => dir.remove(&key(leaf, false)).is_some() || removed_tree,
        };
        if removed_tree {
            let prefix = format!("{dir_path}/{leaf}");
            self.forget(&prefix);
        }
        if changed {
            self.mark_dirty(&dir_path);
        }
        Ok(())
    }

    /// Marks a directory and all its ancestors dirty.
    fn mark_dirty(&mut self, path: &str) {
        let mut path = path;
        loop {
            if !self.dirty.insert(path.to_owned()) {
                // Already dirty, and so are its ancestors.
                return;
            }
            if path.is_empty() {
                return;
            }
            path = path.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
    }

    /// Drops a directory and everything under it from memory. (A directory is loaded only
    /// after its parent, and an emptied one is dropped with its empty descendants, so nothing
    /// below an unloaded path is loaded.)
    fn forget(&mut self, path: &str) {
        if self.dirs.remove(path).is_none() {
            return;
        }
        self.dirty.remove(path);
        let below = format!("{path}/");
        self.dirs.retain(|dir, _| !dir.starts_with(&below));
        self.dirty.retain(|dir| !dir.starts_with(&below));
    }

    /// Hashes (or writes) the dirty directories, deepest first, into their parents and the
    /// root.
    fn finish(&mut self, objects: &mut Objects<'_, '_>) -> Result<Oid, StoreError> {
        let mut dirty: Vec<String> = self.dirty.drain().collect();
        dirty.sort_by_key(|path| std::cmp::Reverse(depth(path)));
        for path in dirty {
            let dir = self
                .dirs
                .get_mut(&path)
                .expect("dirty directories are loaded");
            let oid = if dir.is_empty() {
                None
            } else {
                Some(objects.tree(&path, dir.serialized())?)
            };
            if path.is_empty() {
                self.root = match oid {
                    Some(oid) => oid,
                    None => objects.tree("", &[])?,
                };
                continue;
            }
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            let parent_dir = self.dirs.get_mut(parent).expect("parent loaded");
            match oid {
                Some(oid) => {
                    let name = key(name, true);
                    if parent_dir.get(&name).is_some() {
                        parent_dir.insert(name, Item::new(FileMode::Tree, oid));
                    }
                }
                None => {
                    parent_dir.remove(&key(name, true));
                    self.dirs.remove(&path);
                }
            }
        }
        Ok(self.root)
    }
}

/// What becomes of the objects a replay makes: hashed only (the verifier, which may defer
/// large directories), or written to an object database (an append).
enum Objects<'a, 'o> {
    Hashed {
        defer: &'a mut dyn FnMut(&str, &[u8]) -> Option<Oid>,
    },
    Written {
        odb: &'a Odb<'o>,
        written: &'a mut Vec<Oid>,
    },
}

impl Objects<'_, '_> {
    fn blob(&mut self, bytes: &[u8]) -> Result<Oid, StoreError> {
        self.write(ObjectType::Blob, bytes)
    }

    /// The id of the directory at `path` serialized as `bytes` (empty: the empty tree).
    fn tree(&mut self, path: &str, bytes: &[u8]) -> Result<Oid, StoreError> {
        match self {
            Self::Hashed { defer } => {
                let deferred = (bytes.len() >= DEFER_AT)
                    .then(|| defer(path, bytes))
                    .flatten();
                Ok(deferred.unwrap_or_else(|| object_id(ObjectType::Tree, bytes)))
            }
            Self::Written { .. } => self.write(ObjectType::Tree, bytes),
        }
    }

    /// The id of an object: hashed, or written and recorded.
    fn write(&mut self, kind: ObjectType, bytes: &[u8]) -> Result<Oid, StoreError> {
        match self {
            Self::Hashed { .. } => Ok(object_id(kind, bytes)),
            Self::Written { odb, written } => {
                let oid = odb.write(kind, bytes).map_err(git("write state object"))?;
                written.push(oid);
                Ok(oid)
            }
        }
    }
}

/// Directories at least this large (serialized) may have their hashing deferred: in practice
/// a flat `state/runs/` beyond a few hundred runs; fan-out directories stay far below.
pub(crate) const DEFER_AT: usize = 16 * 1024;

/// Deferred directory checks waiting for a thread, and whether one failed.
pub(crate) struct TreeChecks {
    queue: Mutex<VecDeque<TreeCheck>>,
    failed: AtomicBool,
}

/// One deferred check: `bytes` must hash to `claimed`, the id the commit's tree gives them.
struct TreeCheck {
    bytes: Vec<u8>,
    claimed: Oid,
}

impl TreeChecks {
    /// Beyond this many queued checks, the replay hashes itself (bounds the memory held).
    const QUEUE_LIMIT: usize = 64;

    pub(crate) fn new() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            failed: AtomicBool::new(false),
        }
    }

    /// Queues a check of a copy of `bytes` against `claimed`, unless the queue is full (then
    /// the caller hashes them).
    pub(crate) fn offer(&self, bytes: &[u8], claimed: Oid) -> bool {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.len() >= Self::QUEUE_LIMIT {
            return false;
        }
        queue.push_back(TreeCheck {
            bytes: bytes.to_vec(),
            claimed,
        });
        true
    }

    /// Runs one queued check; false when none was queued.
    pub(crate) fn run_one(&self) -> bool {
        let next = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front();
        let Some(check) = next else {
            return false;
        };
        if object_id(ObjectType::Tree, &check.bytes) != check.claimed {
            self.failed.store(true, Ordering::Release);
        }
        true
    }

    /// Runs the checks still queued, once the threads that ran the others are done; whether
    /// any check failed.
    pub(crate) fn finish(&self) -> bool {
        while self.run_one() {}
        self.failed.load(Ordering::Acquire)
    }
}

/// Git's id of an object of `kind` holding `bytes`: the SHA-1 of `<kind> <length>\0<bytes>`.
pub(crate) fn object_id(kind: ObjectType, bytes: &[u8]) -> Oid {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    hasher.update(kind.str().as_bytes());
    hasher.update(format!(" {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    Oid::from_bytes(&hasher.finalize()).expect("a SHA-1 digest is an object id's length")
}

fn depth(path: &str) -> usize {
    if path.is_empty() {
        0
    } else {
        1 + path.matches('/').count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::store::update_tree;
    use serde_json::json;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    // Records are built from JSON so that optional fields added later need no change here.
    fn record<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("a valid record")
    }

    fn run(id: u64, seq: u64) -> Change {
        Change::Run(record(json!({
            "run_id": format!("run_{id}"),
            "plan_id": "sha256:ab",
            "policy_hash": "sha256:cd",
            "operations": [{"op_index": 0, "op_key": format!("tag:v{id}")}],
            "seq": seq,
        })))
    }

    fn receipt(id: u64, seq: u64) -> Change {
        Change::Receipt(record(json!({
            "receipt_id": format!("rcp_{id}"),
            "run_id": format!("run_{id}"),
            "op_key": format!("tag:v{id}"),
            "enforceable": true,
            "expires_at": "2099-01-01T00:00:00Z",
            "status": if seq % 2 == 0 { "minted" } else { "consumed" },
            "minted_seq": seq,
        })))
    }

    fn op(id: u64, seq: u64) -> Change {
        Change::Op(record(json!({
            "op_key": format!("tag:v{id}"),
            "run_id": format!("run_{id}"),
            "receipt_id": format!("rcp_{id}"),
            "status": "in_doubt",
            "seq": seq,
        })))
    }

    fn halt(on: bool, seq: u64) -> Change {
        Change::Halt(on.then(|| {
            record(json!({
                "by": "alice",
                "reason": "drill",
                "since": "2026-01-01T00:00:00Z",
                "seq": seq,
            }))
        }))
    }

    fn lock(on: bool, seq: u64) -> Change {
        Change::Lock(on.then(|| {
            record(json!({
                "run_id": "run_1",
                "acquired_at": "2026-01-01T00:00:00Z",
                "expires_at": "2026-01-01T01:00:00Z",
                "seq": seq,
            }))
        }))
    }

    /// Steps of one to three changes: new and rewritten files in every fan-out directory,
    /// halts and locks set and lifted (directories emptied and removed, down to the empty
    /// root), and removals of files that are not there.
    fn steps() -> Vec<Vec<Change>> {
        let mut steps = vec![
            vec![halt(true, 1)],
            vec![halt(false, 2)],
            vec![lock(false, 3), halt(false, 3)],
            vec![lock(true, 4), halt(true, 4)],
            vec![lock(false, 5), halt(false, 5), run(1, 5)],
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for seq in 6..1500 {
            let step = (0..=rng.next(3))
                .map(|_| {
                    let id = rng.next(400);
                    match rng.next(7) {
                        0 => run(id, seq),
                        1 => receipt(id, seq),
                        2 => op(id, seq),
                        3 => halt(rng.next(2) == 0, seq),
                        4 => lock(rng.next(2) == 0, seq),
                        _ => receipt(id, seq + 1),
                    }
                })
                .collect();
            steps.push(step);
        }
        steps
    }

    #[test]
    fn object_ids_are_the_ids_libgit2_gives() {
        let large = vec![b'x'; 70_000];
        for (kind, bytes) in [
            (ObjectType::Blob, &b""[..]),
            (ObjectType::Blob, &b"{\"seq\":1}\n"[..]),
            (ObjectType::Tree, &large[..]),
        ] {
            assert_eq!(
                object_id(kind, bytes),
                Oid::hash_object(kind, bytes).unwrap()
            );
        }
    }

    /// The state tree after `changes`, built with libgit2's tree builder one change at a time:
    /// the reference the replay must agree with.
    fn built_with_tree_builder(repo: &Repository, base: Oid, changes: &[Change]) -> Oid {
        fn set(
            repo: &Repository,
            tree: Option<Oid>,
            path: &[&str],
            blob: Option<Oid>,
        ) -> Option<Oid> {
            let (name, rest) = path.split_first()?;
            let tree = tree.map(|oid| repo.find_tree(oid).unwrap());
            let mut builder = repo.treebuilder(tree.as_ref()).unwrap();
            let child = if rest.is_empty() {
                blob.map(|oid| (oid, FileMode::Blob))
            } else {
                let below = builder
                    .get(name)
                    .unwrap()
                    .filter(|entry| entry.kind() == Some(ObjectType::Tree))
                    .map(|entry| entry.id());
                set(repo, below, rest, blob).map(|oid| (oid, FileMode::Tree))
            };
            match child {
                Some((oid, mode)) => builder.insert(name, oid, mode.into()).map(drop).unwrap(),
                None if builder.get(name).unwrap().is_some() => builder.remove(name).unwrap(),
                None => {}
            }
            (!builder.is_empty()).then(|| builder.write().unwrap())
        }
        let mut root = base;
        for change in changes {
            let blob = change.content().map(|bytes| repo.blob(&bytes).unwrap());
            let path = change.path();
            let components: Vec<&str> = path.split('/').collect();
            root = set(repo, Some(root), &components, blob).unwrap_or_else(empty_tree);
        }
        root
    }

    #[test]
    fn replayed_and_written_trees_have_the_ids_the_tree_builder_writes() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let empty = repo.treebuilder(None).unwrap().write().unwrap();
        assert_eq!(empty, empty_tree());
        let mut trees = StateTrees::new(&repo, empty);
        let mut built = empty;
        for (index, changes) in steps().iter().enumerate() {
            let written = update_tree(&repo, built, changes).unwrap();
            built = built_with_tree_builder(&repo, built, changes);
            assert_eq!(written, built, "step {index}");
            assert_eq!(trees.apply(changes).unwrap(), built, "step {index}");
        }
        assert_ne!(built, empty);

        // Starting from a tree on disk (a checkpoint) works the same.
        let mut resumed = StateTrees::new(&repo, built);
        for changes in steps().iter().take(50) {
            built = built_with_tree_builder(&repo, built, changes);
            assert_eq!(resumed.apply(changes).unwrap(), built);
        }
    }

    #[test]
    fn a_written_tree_and_everything_in_it_is_in_the_object_database() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let odb = repo.odb().unwrap();
        let mut root = empty_tree();
        let mut written = Vec::new();
        for changes in steps().iter().take(40) {
            root = StateTrees::new(&repo, root)
                .apply_writing(changes, &odb, &mut written)
                .unwrap();
        }
        let tree = repo.find_tree(root).unwrap();
        let mut objects = 0;
        tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            assert!(odb.exists(entry.id()), "{:?} is missing", entry.name());
            objects += 1;
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        assert!(objects > 40);
        assert!(written.contains(&root));

        // A state emptied again still names a tree that exists.
        let emptied = StateTrees::new(&repo, empty_tree())
            .apply_writing(&[], &odb, &mut written)
            .unwrap();
        assert_eq!(emptied, empty_tree());
        assert!(odb.exists(emptied));
    }
}
