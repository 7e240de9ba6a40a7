//! The governance branch in fresh clones (issue 13, class 10; DESIGN 13.3): a policy that pins
//! the chain's genesis makes a deleted or restarted branch detectable without any local
//! checkpoint, and no command starts a new chain once a pin or a checkpoint says one existed.

use std::path::PathBuf;

use git2::Repository;

use crate::chain_race::origin;
use crate::fixture::{assert_exit, stderr, stdout};
use crate::mint_flow::MintWorld;

const BRANCH: &str = "refs/heads/shipgate/audit";
const POLICY: &str = ".shipgate/policies/policy.yaml";

/// A minted world whose policy on `main` pins the chain's genesis; `unpinned` keeps the policy
/// as it was, for an attacker restarting the chain.
fn pinned_world() -> (MintWorld, git2::Oid) {
    let (world, _) = crate::execute_flow::minted();
    let origin = Repository::open_bare(origin(&world)).expect("origin");
    let mut walk = origin.revwalk().expect("walk");
    walk.push_ref(BRANCH).expect("branch");
    let root = walk.last().expect("a commit").expect("oid");
    let policy = std::fs::read_to_string(world.repo.path().join(POLICY)).expect("policy");
    let main = Repository::open(world.repo.path())
        .expect("repo")
        .refname_to_id("refs/heads/main")
        .expect("main");
    world
        .repo
        .repo
        .branch(
            "unpinned",
            &world.repo.repo.find_commit(main).expect("main"),
            false,
        )
        .expect("branch");
    let pinned = format!("{policy}audit:\n  genesis: {root}\n");
    world.repo.commit(
        "main",
        &[(POLICY, &pinned)],
        "pin the audit chain's genesis",
    );
    (world, root)
}

/// A note on the missing branch is refused as a rollback: no new chain is started.
fn refuses_to_start_over(world: &MintWorld) {
    let note = world.shipgate(&["audit", "note", "a fresh start"]);
    assert_exit(&note, 4);
    assert!(
        stderr(&note).contains("AUDIT_ROLLBACK"),
        "{}",
        stderr(&note)
    );
}

fn checkpoint(world: &MintWorld) -> PathBuf {
    world.repo.path().join(".git/shipgate/checkpoint")
}

/// Deletes the governance branch on the remote, and forgets every local trace of it, as a
/// fresh clone in a CI job would.
fn delete_branch_everywhere(world: &MintWorld) {
    let origin = Repository::open_bare(origin(world)).expect("origin");
    origin
        .find_reference(BRANCH)
        .expect("branch")
        .delete()
        .expect("delete");
    let _ = std::fs::remove_file(checkpoint(world));
    let local = Repository::open(world.repo.path()).expect("repo");
    if let Ok(mut tracking) = local.find_reference("refs/remotes/origin/shipgate/audit") {
        tracking.delete().expect("delete tracking ref");
    }
}

#[test]
fn with_a_pinned_genesis_a_deleted_branch_is_never_started_over() {
    let (world, _) = pinned_world();
    delete_branch_everywhere(&world);
    refuses_to_start_over(&world);
    let verify = world.shipgate(&["audit", "verify"]);
    assert_exit(&verify, 4);
    let origin = Repository::open_bare(origin(&world)).expect("origin");
    assert!(origin.find_reference(BRANCH).is_err(), "no new chain");
}

#[test]
fn with_a_checkpoint_a_deleted_branch_is_never_started_over() {
    let (world, _) = crate::execute_flow::minted();
    assert!(
        checkpoint(&world).exists(),
        "mint verified and checkpointed"
    );
    let origin_repo = Repository::open_bare(origin(&world)).expect("origin");
    origin_repo
        .find_reference(BRANCH)
        .expect("branch")
        .delete()
        .expect("delete");
    refuses_to_start_over(&world);
    assert!(origin_repo.find_reference(BRANCH).is_err(), "no new chain");
}

#[test]
fn a_restarted_chain_fails_against_the_pinned_genesis_in_a_fresh_clone() {
    let (world, root) = pinned_world();
    let run = crate::execute_flow::run_id(&world);
    delete_branch_everywhere(&world);
    // The attacker holds the audit key and restarts the chain under the old, unpinned policy.
    let restart = world.shipgate_with(
        &[
            "audit",
            "note",
            "a fresh start",
            "--default-branch",
            "unpinned",
        ],
        &[("GITHUB_ACTOR", "mallory")],
    );
    assert_exit(&restart, 0);
    let _ = std::fs::remove_file(checkpoint(&world));
    let origin_repo = Repository::open_bare(origin(&world)).expect("origin");
    let mut walk = origin_repo.revwalk().expect("walk");
    walk.push_ref(BRANCH).expect("branch");
    assert_ne!(
        walk.last().expect("commit").expect("oid"),
        root,
        "a new genesis"
    );

    let verify = world.shipgate(&["audit", "verify"]);
    assert_exit(&verify, 4);
    assert!(
        stderr(&verify).contains(&format!("pins its genesis at {root}")),
        "{}",
        stderr(&verify)
    );
    let execute = world.shipgate(&["execute", "--run", &run]);
    assert_ne!(execute.status.code(), Some(0), "{}", stdout(&execute));
    crate::execute_flow::nothing_shipped(&world);
}

#[test]
fn doctor_offers_the_genesis_pin_once_the_chain_exists() {
    let (world, _) = crate::execute_flow::minted();
    let doctor = world.shipgate(&["doctor"]);
    let said = stdout(&doctor);
    assert!(said.contains("AUDIT_GENESIS_UNPINNED"), "{said}");
    assert!(said.contains("genesis: "), "{said}");
}
