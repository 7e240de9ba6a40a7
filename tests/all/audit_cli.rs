//! The audit commands driven as a user would: the built binary, real repositories, a bare
//! remote reached through receive-pack. Covers many concurrent writers, the rollback
//! checkpoint, exit codes, and refusing an exposed key file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use shipgate::keys::{generate, write_private_key};
use shipgate::policy::SignerRole;

use crate::audit_support::{RemoteFixture, git, git_env};

const WRITERS: usize = 8;

/// Notes each writer appends: 12 in the suite (eight writers still race on every push), the
/// full 50 of the design's stress figure with `SHIPGATE_STRESS=full`.
fn notes_per_writer() -> usize {
    if std::env::var("SHIPGATE_STRESS").as_deref() == Ok("full") {
        50
    } else {
        12
    }
}

/// `shipgate ARGS` in `dir`, as the local audit commands run: no audit key in the
/// environment, the repository named by `GITHUB_REPOSITORY`.
pub(crate) fn shipgate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .current_dir(dir)
        .envs(git_env())
        .env_remove("SHIPGATE_AUDIT_KEY")
        .env("GITHUB_REPOSITORY", "acme/widget")
        .env("GITHUB_ACTOR", crate::fixture::TEST_ACTOR)
        .args(args)
        .output()
        .expect("shipgate runs")
}

/// A key file and the allowed-signers line trusting it.
fn key_files(dir: &Path) -> (String, String) {
    let generated = generate("audit-1", SignerRole::Audit).unwrap();
    let key_path = dir.join("audit.key");
    write_private_key(&key_path, &generated.private_openssh).unwrap();
    let signers_path = dir.join("allowed_signers");
    std::fs::write(
        &signers_path,
        format!("audit-1 {}\n", generated.public_line),
    )
    .unwrap();
    (
        key_path.display().to_string(),
        signers_path.display().to_string(),
    )
}

/// The push attempts `audit note` reports: `appended note as seq N (<commit>; K attempt(s))`.
fn push_attempts(stdout: &str) -> usize {
    stdout
        .split("; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in {stdout:?}"))
}

fn clone(fixture: &RemoteFixture, name: &str) -> std::path::PathBuf {
    let work = fixture.work(name);
    work.workdir().unwrap().to_owned()
}

#[test]
fn eight_processes_append_notes_concurrently_and_every_entry_lands_once() {
    let notes = notes_per_writer();
    let fixture = RemoteFixture::new();
    let (key, signers) = key_files(fixture.dir.path());
    let dirs: Vec<_> = (0..WRITERS)
        .map(|w| clone(&fixture, &format!("w{w}")))
        .collect();
    let attempts: usize = std::thread::scope(|scope| {
        let writers: Vec<_> = dirs
            .iter()
            .enumerate()
            .map(|(writer, dir)| {
                let key = &key;
                scope.spawn(move || {
                    let mut attempts = 0;
                    for n in 0..notes {
                        let message = format!("writer {writer} note {n}");
                        let out = shipgate(dir, &["audit", "note", "--audit-key", key, &message]);
                        assert!(
                            out.status.success(),
                            "{message}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        attempts += push_attempts(&String::from_utf8_lossy(&out.stdout));
                    }
                    attempts
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    // Every lost race costs a push; the back-off, scaled by the round that lost, keeps the
    // losers from colliding again: 1.6 to 1.7 pushes an entry measured (3.1 to 3.2 with the
    // earlier fixed 20 ms window). The design's bound, under 2, is asserted on the full stress
    // run; the suite's shorter run, often beside other work on the machine, allows 2.5, still
    // far below a back-off that stopped working.
    let entries = WRITERS * notes;
    let per_entry = attempts as f64 / entries as f64;
    eprintln!(
        "{WRITERS} writers x {notes} notes: {attempts} push attempts, {per_entry:.2} per entry"
    );
    let bound = if notes == 50 { 2.0 } else { 2.5 };
    assert!(per_entry < bound, "{per_entry:.2} push attempts per entry");
    let reader = clone(&fixture, "reader");
    let log = shipgate(&reader, &["audit", "log", "--format", "json"]);
    assert!(log.status.success());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let lines: Vec<_> = String::from_utf8(log.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(message) = value["entry"]["event"]["message"].as_str() {
            *seen.entry(message.to_owned()).or_default() += 1;
        }
    }
    assert_eq!(lines.len(), WRITERS * notes + 1, "genesis plus every note");
    assert_eq!(seen.len(), WRITERS * notes);
    assert!(
        seen.values().all(|count| *count == 1),
        "an entry landed twice"
    );
    let verify = shipgate(
        &reader,
        &["audit", "verify", "--allowed-signers", &signers, "--json"],
    );
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(summary["entries_checked"], WRITERS * notes + 1);
}

#[test]
fn a_force_pushed_rollback_is_caught_against_the_checkpoint() {
    let fixture = RemoteFixture::new();
    let (key, signers) = key_files(fixture.dir.path());
    let work = clone(&fixture, "work");
    for n in 0..3 {
        let out = shipgate(
            &work,
            &["audit", "note", "--audit-key", &key, &format!("note {n}")],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let verifier = clone(&fixture, "verifier");
    let first = shipgate(
        &verifier,
        &["audit", "verify", "--allowed-signers", &signers],
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let checkpoint = std::fs::read_to_string(verifier.join(".git/shipgate/checkpoint")).unwrap();
    assert_eq!(checkpoint.trim(), fixture.head().to_string());

    // Someone with push rights rolls the branch back two entries.
    let rolled_back = fixture
        .remote_repo()
        .find_commit(fixture.head())
        .unwrap()
        .parent(0)
        .unwrap()
        .parent_id(0)
        .unwrap();
    let force = git(
        &work,
        &[
            "push",
            "--force",
            "origin",
            &format!("{rolled_back}:refs/heads/shipgate/audit"),
        ],
    );
    assert!(
        force.status.success(),
        "{}",
        String::from_utf8_lossy(&force.stderr)
    );

    let second = shipgate(
        &verifier,
        &["audit", "verify", "--allowed-signers", &signers, "--json"],
    );
    assert_eq!(second.status.code(), Some(4));
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(summary["reason"], "AUDIT_ROLLBACK");
    assert_eq!(summary["commit"], rolled_back.to_string());
}

#[test]
fn a_tampered_chain_exits_4_and_names_the_commit() {
    let fixture = RemoteFixture::new();
    let (key, signers) = key_files(fixture.dir.path());
    let work = clone(&fixture, "work");
    let out = shipgate(&work, &["audit", "note", "--audit-key", &key, "honest"]);
    assert!(out.status.success());
    // An unsigned commit appended with plain git.
    let forged = git(
        &work,
        &[
            "-c",
            "user.name=x",
            "-c",
            "user.email=x@x",
            "commit-tree",
            "-p",
            "origin/shipgate/audit",
            "-m",
            "forged",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        ],
    );
    let forged = String::from_utf8(forged.stdout).unwrap().trim().to_owned();
    assert!(
        git(
            &work,
            &[
                "push",
                "origin",
                &format!("{forged}:refs/heads/shipgate/audit")
            ]
        )
        .status
        .success()
    );
    let verify = shipgate(&work, &["audit", "verify", "--allowed-signers", &signers]);
    assert_eq!(verify.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(
        stderr.contains(&format!("AUDIT_CHAIN_INVALID: commit {forged}")),
        "{stderr}"
    );
    assert!(stderr.contains("not signed"), "{stderr}");
}

#[test]
fn keys_generate_writes_a_private_file_and_prints_only_the_public_half() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = shipgate(
        dir.path(),
        &[
            "keys", "generate", "--kid", "audit-9", "--role", "audit", "--out", "k",
        ],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("ssh-ed25519 AAAA") && stdout.contains("role: audit"));
    assert!(!stdout.contains("PRIVATE KEY"));
    let path = dir.path().join("k");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o604)).unwrap();
    let refused = shipgate(dir.path(), &["audit", "note", "--audit-key", "k", "x"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("readable by other users"));
}

#[test]
fn verifiers_writing_the_checkpoint_at_once_never_trip_over_each_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = git2::Repository::init(dir.path()).expect("repo");
    let signature = git2::Signature::now("t", "t@example.com").expect("signature");
    let tree = repo
        .find_tree(
            repo.treebuilder(None)
                .expect("tree")
                .write()
                .expect("write"),
        )
        .expect("tree");
    let head = repo
        .commit(None, &signature, &signature, "c", &tree, &[])
        .expect("commit");
    let path = dir.path().to_owned();
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let repo = git2::Repository::open(&path).expect("open");
                (0..50).all(|_| shipgate::audit::verify::write_checkpoint(&repo, head).is_ok())
            })
        })
        .collect();
    for writer in writers {
        assert!(writer.join().expect("thread"), "a checkpoint write failed");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path().join(".git/shipgate"))
        .expect("checkpoint dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["checkpoint"], "no temporary file is left behind");
}
