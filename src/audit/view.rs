//! The state at a commit, loaded record by record: what an append checks against.
//!
//! An append checks its entries, and the caller's own check, against the state at the remote
//! head. Reading that whole state costs time in proportion to its size (every run, receipt and
//! operation: about 315 ms at 100 000 entries), while a check looks at a handful of records.
//! [`StateView`] implements [`StateAccess`] by looking each record up at its path in the
//! commit's tree (`Tree::get_path`) when first asked for, checking it exactly as
//! [`State::from_files`] does, and keeping it; changes committed to the view are kept on top, so
//! later entries of the same append see them. The verifier does not use it: it replays every
//! entry into a whole [`State`].
//!
//! A lookup that fails (a git error, or a file that is not where or how the state writes it) is
//! answered as absent and remembered; [`StateView::check`] returns it, and the appender calls it
//! after every use of the view, so a failed lookup never passes for an absent record. Files the
//! checks never look at are not read, so they are not checked here: `audit verify` checks every
//! tree.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree};

use super::state::{
    Change, HALT_PATH, HaltRecord, LAYOUT_PATH, LOCK_PATH, LayoutRecord, LockRecord, OpRecord,
    POLICY_PATH, PolicyRecord, RUNS_DIR, ReceiptRecord, RevokesRecord, RunRecord, State,
    StateAccess, StateFileError, flat_run_path, op_path, receipt_path, revokes_path, run_path,
};
use super::store::{StoreError, git};
use crate::model::{OpKey, ReceiptId, RunId};

/// The state at one commit, loaded on demand, plus the changes committed since.
pub struct StateView<'r> {
    repo: &'r Repository,
    /// The commit whose tree this is (named in errors); `None` for the empty state.
    commit: Option<Oid>,
    tree: Option<Tree<'r>>,
    loaded: RefCell<Loaded>,
    failure: RefCell<Option<StoreError>>,
}

/// Records looked up so far (`None`: looked up and absent) and committed changes.
#[derive(Default)]
struct Loaded {
    halt: Option<Option<HaltRecord>>,
    lock: Option<Option<LockRecord>>,
    runs: BTreeMap<RunId, Option<RunRecord>>,
    receipts: BTreeMap<ReceiptId, Option<ReceiptRecord>>,
    ops: BTreeMap<OpKey, Option<OpRecord>>,
    revokes: BTreeMap<String, Option<RevokesRecord>>,
    policy: Option<Option<PolicyRecord>>,
    layout: Option<Option<LayoutRecord>>,
    /// Every run of the tree is in `runs`.
    all_runs: bool,
}

impl<'r> StateView<'r> {
    /// The state at `commit` (the empty state for `None`).
    pub fn new(repo: &'r Repository, commit: Option<Oid>) -> Result<Self, StoreError> {
        let tree = commit
            .map(|oid| repo.find_commit(oid).and_then(|c| c.tree()))
            .transpose()
            .map_err(git("read state tree"))?;
        Ok(Self {
            repo,
            commit,
            tree,
            loaded: RefCell::default(),
            failure: RefCell::default(),
        })
    }

    /// The first lookup that failed, if any (and forgets it).
    pub fn check(&self) -> Result<(), StoreError> {
        match self.failure.borrow_mut().take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    fn fail(&self, failure: StoreError) {
        self.failure.borrow_mut().get_or_insert(failure);
    }

    fn state_error(&self, source: StateFileError) -> StoreError {
        StoreError::State {
            commit: self.commit.unwrap_or(Oid::ZERO_SHA1),
            source,
        }
    }

    fn bad_file(&self, path: &str, why: &str) -> StoreError {
        self.state_error(StateFileError {
            path: path.to_owned(),
            why: why.to_owned(),
        })
    }

    /// The one-record state the file at `path` holds (the empty state when there is no file).
    fn file(&self, path: &str) -> State {
        match self.read_file(path) {
            Ok(state) => state,
            Err(failure) => {
                self.fail(failure);
                State::default()
            }
        }
    }

    /// The entry at `path` of the head's tree; `None` when there is no head or no such path.
    fn entry_at(&self, path: &str) -> Result<Option<git2::TreeEntry<'static>>, StoreError> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(entry)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format!("look up {path}"))(e)),
        }
    }

    fn read_file(&self, path: &str) -> Result<State, StoreError> {
        match self.entry_at(path)? {
            Some(entry) => self.parse_file(path, &entry),
            None => Ok(State::default()),
        }
    }

    /// The one-record state of the tree entry `entry`, found at `path`. (A run's file is taken
    /// from where the state's layout keeps runs, so its layout is not checked again here.)
    fn parse_file(&self, path: &str, entry: &git2::TreeEntry<'_>) -> Result<State, StoreError> {
        if entry.kind() != Some(ObjectType::Blob) {
            return Err(self.bad_file(path, "not a file"));
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(git("read state blob"))?;
        let change =
            State::file_change(path, blob.content()).map_err(|source| self.state_error(source))?;
        let mut state = State::default();
        state.commit(vec![change]);
        Ok(state)
    }

    /// The directory `entry` found at `path`, refusing anything else.
    fn dir(&self, path: &str, entry: &git2::TreeEntry<'_>) -> Result<Tree<'r>, StoreError> {
        if entry.kind() != Some(ObjectType::Tree) {
            return Err(self.bad_file(path, "not a directory"));
        }
        self.repo
            .find_tree(entry.id())
            .map_err(git("read state tree"))
    }

    /// Loads every run file of the tree that is not loaded yet, each from its directory's own
    /// entry (a lookup by path would parse the directories again per run): files right in
    /// `state/runs/` while runs lie flat, two directory levels down once they fan out.
    fn load_runs(&self, loaded: &mut Loaded, fanned_out: bool) -> Result<(), StoreError> {
        let Some(dir) = self.entry_at(RUNS_DIR)? else {
            return Ok(());
        };
        let mut dirs = vec![(RUNS_DIR.to_owned(), self.dir(RUNS_DIR, &dir)?)];
        let mut depth = 0;
        let files_at = if fanned_out { 2 } else { 0 };
        while depth < files_at {
            let mut below = Vec::new();
            for (path, dir) in &dirs {
                for entry in dir {
                    let path = format!("{path}/{}", String::from_utf8_lossy(entry.name_bytes()));
                    below.push((path.clone(), self.dir(&path, &entry)?));
                }
            }
            dirs = below;
            depth += 1;
        }
        for (path, dir) in &dirs {
            for entry in dir {
                let path = format!("{path}/{}", String::from_utf8_lossy(entry.name_bytes()));
                let state = self.parse_file(&path, &entry)?;
                for (run_id, run) in state.runs {
                    loaded.runs.entry(run_id).or_insert(Some(run));
                }
            }
        }
        Ok(())
    }
}

impl StateAccess for StateView<'_> {
    fn halt(&self) -> Option<HaltRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .halt
            .get_or_insert_with(|| self.file(HALT_PATH).halt)
            .clone()
    }

    fn lock(&self) -> Option<LockRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .lock
            .get_or_insert_with(|| self.file(LOCK_PATH).lock)
            .clone()
    }

    fn run(&self, run_id: &RunId) -> Option<RunRecord> {
        let path = match self.layout() {
            Some(_) => run_path(run_id),
            None => flat_run_path(run_id),
        };
        let mut loaded = self.loaded.borrow_mut();
        if let Some(run) = loaded.runs.get(run_id) {
            return run.clone();
        }
        let run = (!loaded.all_runs)
            .then(|| self.file(&path).runs.remove(run_id))
            .flatten();
        loaded.runs.insert(run_id.to_owned(), run.clone());
        run
    }

    fn receipt(&self, receipt_id: &ReceiptId) -> Option<ReceiptRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .receipts
            .entry(receipt_id.to_owned())
            .or_insert_with(|| {
                self.file(&receipt_path(receipt_id))
                    .receipts
                    .remove(receipt_id)
            })
            .clone()
    }

    fn op(&self, op_key: &OpKey) -> Option<OpRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .ops
            .entry(op_key.to_owned())
            .or_insert_with(|| self.file(&op_path(op_key)).ops.remove(op_key))
            .clone()
    }

    fn runs(&self) -> Vec<RunRecord> {
        let fanned_out = self.layout().is_some();
        let mut loaded = self.loaded.borrow_mut();
        if !loaded.all_runs {
            match self.load_runs(&mut loaded, fanned_out) {
                Ok(()) => loaded.all_runs = true,
                Err(failure) => self.fail(failure),
            }
        }
        loaded.runs.values().flatten().cloned().collect()
    }

    fn revokes(&self, plan_id: &str) -> Option<RevokesRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .revokes
            .entry(plan_id.to_owned())
            .or_insert_with(|| self.file(&revokes_path(plan_id)).revokes.remove(plan_id))
            .clone()
    }

    fn policy(&self) -> Option<PolicyRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .policy
            .get_or_insert_with(|| self.file(POLICY_PATH).policy)
            .clone()
    }

    fn layout(&self) -> Option<LayoutRecord> {
        let mut loaded = self.loaded.borrow_mut();
        loaded
            .layout
            .get_or_insert_with(|| self.file(LAYOUT_PATH).layout)
            .clone()
    }

    fn commit(&mut self, changes: Vec<Change>) {
        let loaded = self.loaded.get_mut();
        for change in changes {
            match change {
                Change::Halt(halt) => loaded.halt = Some(halt),
                Change::Lock(lock) => loaded.lock = Some(lock),
                Change::Run(run) | Change::FlatRun(run) => {
                    loaded.runs.insert(run.run_id.clone(), Some(run));
                }
                // The run stays: the migration writes it again at its fan-out path.
                Change::FlatRunRemoved(_) => {}
                Change::Layout(layout) => loaded.layout = Some(Some(layout)),
                Change::Receipt(receipt) => {
                    loaded
                        .receipts
                        .insert(receipt.receipt_id.clone(), Some(receipt));
                }
                Change::Op(op) => {
                    loaded.ops.insert(op.op_key.clone(), Some(op));
                }
                Change::Revokes(revokes) => {
                    loaded
                        .revokes
                        .insert(revokes.plan_id.clone(), Some(revokes));
                }
                Change::Policy(policy) => loaded.policy = Some(Some(policy)),
            }
        }
    }
}
