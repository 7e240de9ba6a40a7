//! Issue 17, status never regresses, and `shipgate ship --pr N`: a replay of a shipped run
//! leaves its SHIPPED status comment as it was; re-running mint (the PR open or merged) does
//! not take it back (tallies read "N of M": `report::mint` unit tests). And the terminal twin of `/shipgate ship`.

use crate::execute_flow::{denials, execute, minted, nothing_shipped, shipped};
use crate::fixture::{assert_exit, stderr, stdout};
use crate::github_support::{ALICE, SLUG};
use crate::mint_flow::MintWorld;

/// A world whose run shipped by `execute --run`, and its SHIPPED status comment.
fn shipped_world() -> (MintWorld, String, String) {
    let (world, run) = minted();
    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 0);
    let status = world.status_comment();
    assert!(status.contains("## SHIPPED"), "{status}");
    assert!(status.contains("Timeline (audit chain)"), "{status}");
    (world, run, status)
}

#[test]
fn a_replay_of_a_shipped_run_says_already_shipped_and_leaves_the_status_comment() {
    let (world, run, status) = shipped_world();
    let effects = shipped(&world);
    let pr = world.pr.to_string();
    for args in [["execute", "--run", &run], ["execute", "--pr", &pr]] {
        let again = world.shipgate(&args);
        assert_eq!(
            world.status_comment(),
            status,
            "the SHIPPED comment is kept"
        );
        assert_exit(&again, 0);
        assert!(
            stdout(&again).contains(&format!("run {run} (plan ")),
            "{}",
            stdout(&again)
        );
        assert!(
            stdout(&again).contains("already shipped: nothing to do"),
            "{}",
            stdout(&again)
        );
        assert_eq!(
            world.status_comment(),
            status,
            "the SHIPPED comment is kept"
        );
    }
    assert_eq!(shipped(&world), effects, "nothing more shipped");
    assert!(denials(&world).is_empty(), "a replay is no denial");
}

#[test]
fn minting_again_on_a_shipped_pull_request_open_or_merged_keeps_shipped() {
    let (world, _, status) = shipped_world();
    let again = world.mint();
    assert_exit(&again, 0);
    assert_eq!(world.status_comment(), status, "not AUTHORIZED again");
    assert!(
        stdout(&again).contains("is left as it was: a run of it shipped"),
        "{}",
        stdout(&again)
    );

    // The merge moves main: `target: main` re-resolves, a new plan id awaits approval.
    let main = world
        .repo
        .commit("main", &[("NEWS.md", "merged\n")], "merge #1");
    world
        .github
        .fake
        .mark_merged(SLUG, world.pr, &main.to_string(), "alice");
    let after_merge = world.mint();
    assert_exit(&after_merge, 0);
    assert_eq!(world.status_comment(), status, "not AWAITING APPROVAL");
    assert!(
        stdout(&after_merge).contains("== AWAITING APPROVAL =="),
        "{}",
        stdout(&after_merge)
    );
    assert!(
        stdout(&after_merge).contains("is left as it was: the pull request is merged or closed"),
        "{}",
        stdout(&after_merge)
    );
}

fn dispatches(world: &MintWorld) -> Vec<serde_json::Value> {
    world
        .github
        .fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.path
                .ends_with("/actions/workflows/shipgate-ship.yml/dispatches")
        })
        .map(|r| serde_json::from_str(&r.body).expect("json body"))
        .collect()
}

#[test]
fn ship_from_a_terminal_starts_the_ship_workflow_for_an_approver_only() {
    let (world, run) = minted();
    let pr = world.pr.to_string();

    // The bot token cannot say whose it is: GITHUB_ACTOR names who asks; carol approves nothing.
    let refused = world.shipgate_with(&["ship", "--pr", &pr], &[("GITHUB_ACTOR", "carol")]);
    assert_exit(&refused, 1);
    assert!(
        stdout(&refused).contains("refused: carol may not approve"),
        "{}{}",
        stdout(&refused),
        stderr(&refused)
    );
    assert!(dispatches(&world).is_empty());

    // A user token is its own account: GITHUB_ACTOR cannot make it someone else.
    let out = world.shipgate_with(
        &["ship", "--pr", &pr],
        &[("GITHUB_TOKEN", ALICE), ("GITHUB_ACTOR", "carol")],
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!(
            "shipgate-ship.yml started on main for {run} (asked by alice)"
        )),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let sent = dispatches(&world);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["ref"], "main");
    assert_eq!(sent[0]["inputs"]["run-id"], run.as_str());
    nothing_shipped(&world);

    // Once it shipped, there is nothing to start.
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    let done = world.shipgate_with(&["ship", "--pr", &pr], &[("GITHUB_ACTOR", "bob")]);
    assert_exit(&done, 0);
    assert!(
        stdout(&done).contains("already shipped: nothing to start"),
        "{}",
        stdout(&done)
    );
    assert_eq!(dispatches(&world).len(), 1);
}

#[test]
fn ship_from_a_terminal_is_refused_before_approval_and_while_halted() {
    let world = MintWorld::new();
    let pr = world.pr.to_string();
    let early = world.shipgate_with(&["ship", "--pr", &pr], &[("GITHUB_ACTOR", "bob")]);
    assert_exit(&early, 1);
    assert!(
        stdout(&early).contains("no run is open"),
        "{}{}",
        stdout(&early),
        stderr(&early)
    );

    world.approve("alice");
    world.approve("bob");
    assert_exit(&world.mint(), 0);
    let halt = world.shipgate(&["halt", "--reason", "incident", "--by", "alice"]);
    assert_exit(&halt, 0);
    let halted = world.shipgate_with(&["ship", "--pr", &pr], &[("GITHUB_ACTOR", "bob")]);
    assert_exit(&halted, 1);
    assert!(
        stdout(&halted).contains("refused: the repository is halted"),
        "{}",
        stdout(&halted)
    );
    assert!(dispatches(&world).is_empty());
}
