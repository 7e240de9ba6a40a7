//! Halt and resume provenance (issue 13, class 9): the audit key alone may halt (fail safe)
//! but never resume. `shipgate resume` lifts a halt only on a halt admin's own, unedited
//! `/shipgate resume` comment written after the halt, read from GitHub and recorded with its id.

use crate::fixture::{assert_exit, stderr};
use crate::github_support::SLUG;
use crate::mint_flow::MintWorld;

fn halted() -> MintWorld {
    let world = MintWorld::new();
    let halt = world.shipgate(&["halt", "--reason", "bad build", "--by", "alice"]);
    assert_exit(&halt, 0);
    world
}

fn resume(world: &MintWorld, comment: u64) -> std::process::Output {
    world.shipgate(&["resume", "--comment", &comment.to_string()])
}

fn refused(world: &MintWorld, out: &std::process::Output) {
    assert_exit(out, 1);
    assert!(
        stderr(out).contains("RESUME_NOT_AUTHORIZED"),
        "{}",
        stderr(out)
    );
    assert_eq!(world.kinds(), ["genesis", "halted"], "still halted");
}

#[test]
fn the_audit_key_alone_cannot_resume_in_a_halt_admins_name() {
    let world = halted();
    // The attack of old: `--by` was free text, and the ship environment holds the audit key.
    let out = world.shipgate(&["resume", "--by", "alice"]);
    assert_exit(&out, 2);
    assert_eq!(world.kinds(), ["genesis", "halted"]);
}

#[test]
fn a_resume_comment_by_someone_who_is_not_a_halt_admin_is_refused() {
    let world = halted();
    let comment = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "bob", "/shipgate resume\n");
    refused(&world, &resume(&world, comment));
}

#[test]
fn an_edited_or_quoted_resume_comment_is_refused() {
    let world = halted();
    let edited = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "alice", "looks fine\n");
    world.github.fake.edit_comment(edited, "/shipgate resume\n");
    refused(&world, &resume(&world, edited));
    let quoted =
        world
            .github
            .fake
            .add_comment(SLUG, world.pr, "alice", "> /shipgate resume\nnot yet\n");
    refused(&world, &resume(&world, quoted));
}

#[test]
fn a_halt_admins_own_resume_comment_lifts_the_halt_and_is_recorded_with_its_id() {
    let world = halted();
    let comment = world.github.fake.add_comment(
        SLUG,
        world.pr,
        "alice",
        "back to normal\n/shipgate resume\n",
    );
    let out = resume(&world, comment);
    assert_exit(&out, 0);
    let resumed = world
        .chain()
        .into_iter()
        .find(|e| e["event"]["type"] == "resumed")
        .expect("a resume entry");
    assert_eq!(resumed["event"]["by"], "alice");
    assert_eq!(resumed["event"]["comment_id"], comment);
    let again = resume(&world, comment);
    assert_exit(&again, 1);
    assert!(stderr(&again).contains("NOT_HALTED"), "{}", stderr(&again));
}
