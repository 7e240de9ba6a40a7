//! The state layout at scale (DESIGN 13.8): runs fan out, chains written while runs lay flat
//! keep verifying (with `shipgate audit verify` and stock `git verify-commit`), the next append
//! migrates them in one `state_migrated` entry, and no tree other than the replayed state gets
//! through that migration.

use std::path::Path;

use crate::audit_cli::shipgate;

use git2::{Oid, Repository};
use shipgate::audit::entry::{Entry, Event, RunOperation};
use shipgate::audit::reason::Reason;
use shipgate::audit::state::{
    Change, LAYOUT_PATH, RUNS_FAN_OUT, State, StateAccess, apply, flat_run_path, run_path,
};
use shipgate::audit::store::{ChainWriter, Tip, read_entry, read_state, update_tree, write_commit};
use shipgate::audit::verify::{Problem, VerifyError};
use shipgate::audit::view::StateView;
use shipgate::keys::{allowed_signers_file, generate, parse_private_key, write_private_key};
use shipgate::model::{OpKey, RunId};
use shipgate::policy::SignerRole;

use crate::audit_support::{
    LocalChain, RemoteFixture, TestClock, actor, first_parent_line, flat_genesis, git, note,
};

const RUNS: [&str; 3] = ["run_a", "run_b", "run_c"];

fn run_id(text: &str) -> RunId {
    RunId::parse(text).expect("run id")
}

fn opened(run_id: &str) -> Event {
    Event::RunOpened {
        pr: None,
        run_id: RunId::parse(run_id).expect("a run id"),
        plan_id: format!("sha256:{}", "a".repeat(64)),
        policy_hash: "sha256:p".into(),
        operations: vec![RunOperation {
            op_index: 0,
            op_key: OpKey::parse(&format!("tag:{run_id}")).expect("an op key"),
        }],
    }
}

fn has_path(repo: &Repository, commit: Oid, path: &str) -> bool {
    let tree = repo.find_commit(commit).unwrap().tree().unwrap();
    tree.get_path(Path::new(path)).is_ok()
}

fn verify_json(dir: &Path, signers: &Path) -> serde_json::Value {
    let signers = signers.display().to_string();
    let out = shipgate(
        dir,
        &["audit", "verify", "--allowed-signers", &signers, "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stock_git_verifies(repo: &Path, signers: &Path, commits: &[Oid]) {
    for commit in commits {
        let out = git(
            repo,
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
                "verify-commit",
                &commit.to_string(),
            ],
        );
        assert!(
            out.status.success(),
            "{commit}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_flat_layout_chain_verifies_and_the_next_append_migrates_it() {
    let fixture = RemoteFixture::new();
    let generated = generate("audit-1", SignerRole::Audit).unwrap();
    let key_path = fixture.dir.path().join("audit.key");
    write_private_key(&key_path, &generated.private_openssh).unwrap();
    let key = parse_private_key(&generated.private_openssh, "test").unwrap();
    let signers_path = fixture.dir.path().join("allowed_signers");
    std::fs::write(
        &signers_path,
        allowed_signers_file(&[key.as_signer(SignerRole::Audit)]),
    )
    .unwrap();

    // The chain as the flat layout wrote it: genesis without a layout, runs at their flat
    // paths, signed with the real audit key, pushed through receive-pack.
    let old = fixture.work("old");
    let clock = TestClock::new();
    let mut tip: Option<Tip> = None;
    {
        let odb = old.odb().unwrap();
        let mut writer = ChainWriter::new(&old, &odb, &key).unwrap();
        let mut state = State::default();
        let events = std::iter::once(flat_genesis("audit-1"))
            .chain(RUNS.iter().map(|run| opened(run)))
            .chain([note("before the fan-out")]);
        for event in events {
            tip = Some(
                writer
                    .append(tip.as_ref(), &mut state, &actor(), clock.now(), event)
                    .unwrap(),
            );
        }
        writer.flush().unwrap();
    }
    let old_head = tip.unwrap().commit;
    let old_dir = old.workdir().unwrap().to_owned();
    let push = git(
        &old_dir,
        &[
            "push",
            "origin",
            &format!("{old_head}:refs/heads/shipgate/audit"),
        ],
    );
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    for run in RUNS {
        assert!(has_path(&old, old_head, &flat_run_path(&run_id(run))));
        assert!(!has_path(&old, old_head, &run_path(&run_id(run))));
    }
    assert!(!has_path(&old, old_head, LAYOUT_PATH));

    let reader = fixture.work("reader");
    let reader_dir = reader.workdir().unwrap().to_owned();
    assert_eq!(
        verify_json(&reader_dir, &signers_path)["entries_checked"],
        5
    );
    let remote = fixture.remote();
    stock_git_verifies(
        &remote,
        &signers_path,
        &first_parent_line(&fixture.remote_repo(), old_head),
    );

    // The next append, by today's CLI, moves every run and then writes its note, in one push.
    let writer = fixture.work("writer");
    let writer_dir = writer.workdir().unwrap().to_owned();
    let key_arg = key_path.display().to_string();
    let out = shipgate(
        &writer_dir,
        &["audit", "note", "--audit-key", &key_arg, "after"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote_repo = fixture.remote_repo();
    let head = fixture.head();
    let line = first_parent_line(&remote_repo, head);
    assert_eq!(line.len(), 7);
    let migration = read_entry(&remote_repo, line[5]).unwrap().entry;
    assert_eq!(
        migration.event,
        Event::StateMigrated {
            layout: RUNS_FAN_OUT
        }
    );
    assert!(matches!(
        read_entry(&remote_repo, head).unwrap().entry.event,
        Event::Note { .. }
    ));
    for run in RUNS {
        assert!(
            has_path(&remote_repo, head, &run_path(&run_id(run))),
            "{run}"
        );
        assert!(
            !has_path(&remote_repo, head, &flat_run_path(&run_id(run))),
            "{run}"
        );
    }
    assert!(has_path(&remote_repo, head, LAYOUT_PATH));
    assert_eq!(
        read_state(&remote_repo, head).unwrap().runs.len(),
        RUNS.len()
    );

    // The whole chain, both layouts, verifies from its genesis, with shipgate and stock git.
    let fresh = fixture.work("fresh");
    let fresh_dir = fresh.workdir().unwrap().to_owned();
    assert_eq!(verify_json(&fresh_dir, &signers_path)["entries_checked"], 7);
    stock_git_verifies(&remote, &signers_path, &line);

    // A second append does not migrate again.
    let out = shipgate(
        &writer_dir,
        &["audit", "note", "--audit-key", &key_arg, "again"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(first_parent_line(&remote_repo, fixture.head()).len(), 8);
}

/// A flat chain with three runs, and an entry at seq 5 following it.
fn flat_chain() -> LocalChain {
    LocalChain::build_flat(RUNS.iter().map(|run| opened(run)).collect())
}

fn next_entry(chain: &LocalChain, event: Event) -> Entry {
    let previous = chain.entry(chain.commits.len() - 1);
    Entry {
        seq: previous.entry.seq + 1,
        prev: previous.hash,
        event,
        ..previous.entry
    }
}

fn signed(chain: &LocalChain, entry: Entry, tree: Oid) -> Oid {
    let parent = *chain.commits.last().unwrap();
    let sealed = entry.seal().unwrap();
    write_commit(&chain.repo, &[parent], tree, &sealed, Some(&chain.key)).unwrap()
}

fn verify_problem(chain: &LocalChain, head: Oid) -> (Oid, Problem) {
    match chain.verify(head, std::slice::from_ref(&chain.signer)) {
        Err(VerifyError::Invalid(failure)) => (failure.commit, failure.problem),
        other => panic!("expected an integrity failure, got {other:?}"),
    }
}

#[test]
fn a_migration_cannot_smuggle_a_tree_other_than_the_moved_state() {
    let chain = flat_chain();
    let last = *chain.commits.last().unwrap();
    let base = chain.tree(chain.commits.len() - 1);
    let state = read_state(&chain.repo, last).unwrap();
    let migration = next_entry(
        &chain,
        Event::StateMigrated {
            layout: RUNS_FAN_OUT,
        },
    );
    let honest_changes = apply(&state, &migration).unwrap();
    let honest = update_tree(&chain.repo, base, &honest_changes).unwrap();

    // The honest migration verifies.
    let good = signed(&chain, migration.clone(), honest);
    chain
        .verify(good, std::slice::from_ref(&chain.signer))
        .expect("the honest migration verifies");

    // A migration that drops a run on the way (a run id freed to be opened again).
    let dropped: Vec<Change> = honest_changes
        .iter()
        .filter(|change| !matches!(change, Change::Run(run) if run.run_id == "run_b"))
        .cloned()
        .collect();
    let dropped_tree = update_tree(&chain.repo, base, &dropped).unwrap();
    // A migration that claims the move but leaves the runs flat.
    let unmoved_tree = base;
    // A migration that moves the runs but leaves their flat copies.
    let kept: Vec<Change> = honest_changes
        .iter()
        .filter(|change| !matches!(change, Change::FlatRunRemoved(_)))
        .cloned()
        .collect();
    let doubled_tree = update_tree(&chain.repo, base, &kept).unwrap();
    for forged_tree in [dropped_tree, unmoved_tree, doubled_tree] {
        let forged = signed(&chain, migration.clone(), forged_tree);
        let (commit, problem) = verify_problem(&chain, forged);
        assert_eq!(commit, forged);
        assert_eq!(
            problem,
            Problem::TreeMismatch {
                expected: honest,
                found: forged_tree
            }
        );
    }

    // The fanned-out tree under an entry that is not a migration: the layout changed without
    // the entry that says so.
    let quiet = signed(&chain, next_entry(&chain, note("nothing to see")), honest);
    let (commit, problem) = verify_problem(&chain, quiet);
    assert_eq!(commit, quiet);
    assert!(
        matches!(problem, Problem::TreeMismatch { .. }),
        "{problem:?}"
    );
}

#[test]
fn a_state_migrates_once_and_a_tree_mixing_layouts_is_not_a_state() {
    let chain = flat_chain();
    let state = read_state(&chain.repo, *chain.commits.last().unwrap()).unwrap();
    let migration = next_entry(
        &chain,
        Event::StateMigrated {
            layout: RUNS_FAN_OUT,
        },
    );
    let mut migrated = state.clone();
    migrated.commit(apply(&state, &migration).unwrap());
    let again = Entry {
        seq: migration.seq + 1,
        ..migration.clone()
    };
    assert_eq!(
        apply(&migrated, &again).unwrap_err().reason,
        Reason::EntryInvalid
    );
    let unknown = next_entry(&chain, Event::StateMigrated { layout: 3 });
    assert_eq!(
        apply(&state, &unknown).unwrap_err().reason,
        Reason::EntryInvalid
    );

    // The files of the migrated state read back; moving one run back to its flat path, or
    // dropping the layout record, does not make a state.
    let files = migrated.files();
    let read = |files: &std::collections::BTreeMap<String, Vec<u8>>| {
        State::from_files(files.iter().map(|(p, b)| (p.clone(), b.as_slice())))
    };
    assert_eq!(read(&files).unwrap(), migrated);
    let mut flat_one = files.clone();
    let run_a = run_id("run_a");
    let bytes = flat_one.remove(&run_path(&run_a)).unwrap();
    flat_one.insert(flat_run_path(&run_a), bytes);
    assert_eq!(read(&flat_one).unwrap_err().path, flat_run_path(&run_a));
    let mut no_layout = files.clone();
    no_layout.remove(LAYOUT_PATH);
    assert!(read(&no_layout).is_err());
}

#[test]
fn appends_read_runs_in_either_layout() {
    let flat = flat_chain();
    let fanned = LocalChain::build(RUNS.iter().map(|run| opened(run)).collect());
    for (chain, fanned_out) in [(&flat, false), (&fanned, true)] {
        let head = *chain.commits.last().unwrap();
        assert_eq!(has_path(&chain.repo, head, LAYOUT_PATH), fanned_out);
        // One run looked up by its path, and the scan of every run.
        let view = StateView::new(&chain.repo, Some(head)).unwrap();
        assert_eq!(view.run(&run_id("run_b")).unwrap().run_id, "run_b");
        assert!(view.run(&run_id("run_z")).is_none());
        view.check().unwrap();
        let scanned = StateView::new(&chain.repo, Some(head)).unwrap();
        let mut ids: Vec<String> = scanned
            .runs()
            .into_iter()
            .map(|r| r.run_id.to_string())
            .collect();
        scanned.check().unwrap();
        ids.sort();
        assert_eq!(
            ids,
            RUNS.map(String::from).to_vec(),
            "fanned out: {fanned_out}"
        );
        // A run opened twice is refused whichever layout holds the first.
        let again = next_entry(chain, opened("run_a"));
        assert_eq!(apply(&view, &again).unwrap_err().reason, Reason::RunExists);
    }
}
