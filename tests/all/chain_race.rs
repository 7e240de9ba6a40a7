//! A writer without any key races an unsigned entry onto the governance branch between a
//! command's verification and its next decision (issue 13, class 1; DESIGN 13.1). A `git`
//! wrapper on the command's `PATH` moves the remote branch to the forged commit just before
//! the chosen `git fetch` runs, exactly as a concurrent push would land there.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use shipgate::audit::entry::{ENTRY_VERSION, Entry, Event, format_entry_time};
use shipgate::audit::state::Change;
use shipgate::audit::store::{read_tip, update_tree, write_entry_commit};
use shipgate::keys::SigningKey;
use time::OffsetDateTime;

use crate::fixture::{assert_exit, stderr, stdout};
use crate::mint_flow::MintWorld;

const BRANCH: &str = "refs/heads/shipgate/audit";

/// The bare repository the world's `origin` points at.
pub fn origin(world: &MintWorld) -> PathBuf {
    let repo = Repository::open(world.repo.path()).expect("repo");
    let remote = repo.find_remote("origin").expect("origin");
    PathBuf::from(remote.url().expect("utf-8 url"))
}

/// Writes, in `origin`, an unsigned but well-formed entry after the branch's head: `event`
/// with the state `changes` applied, chained by seq and hash like a genuine one.
fn forge_unsigned(origin: &Path, event: Event, changes: &[Change]) -> (Oid, Oid) {
    forge(origin, event, changes, None)
}

/// Lands a forged entry (signed by `key`, or unsigned) on the world's governance branch, as a
/// writer's plain `git push` would.
pub fn land_forged(world: &MintWorld, event: Event, changes: &[Change], key: Option<&SigningKey>) {
    let origin = origin(world);
    let (_, forged) = forge(&origin, event, changes, key);
    let repo = Repository::open_bare(&origin).expect("origin");
    repo.reference(BRANCH, forged, true, "a writer pushes")
        .expect("land the forgery");
}

fn forge(origin: &Path, event: Event, changes: &[Change], key: Option<&SigningKey>) -> (Oid, Oid) {
    let repo = Repository::open_bare(origin).expect("origin");
    let head = repo.refname_to_id(BRANCH).expect("a chain");
    let tip = read_tip(&repo, head).expect("tip");
    let tree = update_tree(&repo, tip.tree, changes).expect("tree");
    let entry = Entry {
        version: ENTRY_VERSION,
        seq: tip.seq + 1,
        prev: tip.hash,
        at: format_entry_time(OffsetDateTime::now_utc()),
        actor: shipgate::audit::entry::Actor {
            login: "mallory".into(),
            workflow_run: None,
            sha: None,
        },
        event,
    };
    let sealed = entry.seal().expect("seal");
    let forged = write_entry_commit(&repo, Some(head), tree, &sealed, key).expect("commit");
    (head, forged)
}

/// A directory holding a `git` that, on the `nth` `git fetch` of the process, first moves
/// `origin`'s governance branch from `from` to `forged`, then runs the real git.
fn racing_git(dir: &Path, origin: &Path, nth: u32, from: Oid, forged: Oid) -> PathBuf {
    let counter = dir.join("fetches");
    git_wrapper(
        dir,
        &format!(
            "for arg in \"$@\"; do
  if [ \"$arg\" = fetch ]; then
    n=$(($(cat '{counter}' 2>/dev/null || echo 0) + 1))
    echo $n > '{counter}'
    if [ $n -eq {nth} ]; then
      \"$REAL_GIT\" --git-dir='{origin}' update-ref {BRANCH} {forged} {from} || exit 1
    fi
    break
  fi
done",
            counter = counter.display(),
            origin = origin.display(),
        ),
    )
}

/// Writes `dir/bin/git`: a shell script that runs `before` (with the real git in `$REAL_GIT`),
/// then the real git with the same arguments; returns the directory to put first on `PATH`.
fn git_wrapper(dir: &Path, before: &str) -> PathBuf {
    let real = std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
        .expect("git on PATH");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let script = format!(
        "#!/bin/sh\nREAL_GIT='{}'\n{before}\nexec \"$REAL_GIT\" \"$@\"\n",
        real.display()
    );
    let git = bin.join("git");
    std::fs::write(&git, script).expect("script");
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

fn path_with(bin: &Path) -> String {
    let rest = std::env::var("PATH").expect("PATH");
    format!("{}:{rest}", bin.display())
}

#[test]
fn an_unsigned_resume_raced_in_after_verification_ships_nothing() {
    let (world, _) = crate::execute_flow::minted();
    let halt = world.shipgate(&["halt", "--reason", "incident", "--by", "alice"]);
    assert_exit(&halt, 0);

    // Mallory, who holds no key, prepares an unsigned `resumed` entry that lifts the halt.
    let origin = origin(&world);
    let (halted_head, forged) = forge_unsigned(
        &origin,
        Event::Resumed {
            by: "alice".into(),
            comment_id: Some(shipgate::model::CommentId::new(42)),
        },
        &[Change::Halt(None)],
    );
    // It lands after execute's first fetch (which it verifies) and before its second (the
    // one the lock's append builds on).
    let scratch = tempfile::tempdir().expect("tempdir");
    let bin = racing_git(scratch.path(), &origin, 2, halted_head, forged);
    let run = crate::execute_flow::run_id(&world);
    let out = world.shipgate_with(
        &["execute", "--run", &run],
        &[("PATH", path_with(&bin).as_str())],
    );

    assert_exit(&out, 4);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(said.contains("AUDIT_CHAIN_INVALID"), "{said}");
    crate::execute_flow::nothing_shipped(&world);
    let repo = Repository::open_bare(&origin).expect("origin");
    assert_eq!(
        repo.refname_to_id(BRANCH).expect("branch"),
        forged,
        "nothing was appended on the unsigned entry"
    );
}

#[test]
fn a_note_is_never_appended_on_an_unsigned_head() {
    let (world, _) = crate::execute_flow::minted();
    let origin = origin(&world);
    let (head, forged) = forge_unsigned(
        &origin,
        Event::Note {
            message: "unsigned".into(),
        },
        &[],
    );
    let repo = Repository::open_bare(&origin).expect("origin");
    repo.reference(BRANCH, forged, true, "mallory pushes")
        .expect("land the forgery");
    assert_ne!(head, forged);
    let out = world.shipgate(&["audit", "note", "on top of a forgery"]);
    assert_exit(&out, 4);
    assert!(
        stderr(&out).contains("AUDIT_CHAIN_INVALID"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.refname_to_id(BRANCH).expect("branch"), forged);
}

/// A directory holding a `git` whose first `git push` does push, then exits 1 without a word
/// on the ref, as a connection dropped after the remote updated would.
fn lying_git(dir: &Path) -> PathBuf {
    let marker = dir.join("lied");
    git_wrapper(
        dir,
        &format!(
            "for arg in \"$@\"; do
  if [ \"$arg\" = push ] && [ ! -e '{marker}' ]; then
    touch '{marker}'
    \"$REAL_GIT\" \"$@\" >/dev/null 2>&1
    echo 'fatal: the remote end hung up unexpectedly' >&2
    exit 1
  fi
done",
            marker = marker.display(),
        ),
    )
}

#[test]
fn a_push_that_landed_but_reported_failure_is_not_appended_twice() {
    let (world, _) = crate::execute_flow::minted();
    let scratch = tempfile::tempdir().expect("tempdir");
    let bin = lying_git(scratch.path());
    let out = world.shipgate_with(
        &["audit", "note", "exactly once"],
        &[("PATH", path_with(&bin).as_str())],
    );
    assert_exit(&out, 0);
    assert!(scratch.path().join("lied").exists(), "the push lied");
    let notes = world
        .chain()
        .iter()
        .filter(|e| e["event"]["message"] == "exactly once")
        .count();
    assert_eq!(notes, 1);
    assert_exit(&world.shipgate(&["audit", "verify"]), 0);
}
