//! Issue 13 against a writer: approvals that cannot be gamed. Who wrote a plan comes from
//! GitHub's commit data for every commit (class 3), revokes hold once edited or deleted
//! (class 4), junk approvals cost no reactions and a flood of comments is refused (class 8),
//! and a marker comment by someone else never becomes the status comment (class 11). Each test
//! drives the shipgate binary against the fake GitHub and checks that nothing was minted.

use crate::fixture::{TestRepo, assert_exit, stderr, stdout};
use crate::github_support::SLUG;
use crate::mint_flow::{MintWorld, comment_event, mint_from_event};

const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
";

const PLAN_PATH: &str = ".shipgate/plans/release.yaml";

/// GitHub links `<login>@users.noreply.github.com` to the account `login`.
fn noreply(login: &str) -> (&str, String) {
    (login, format!("{login}@users.noreply.github.com"))
}

fn commit_plan(repo: &TestRepo, content: &str, author: (&str, &str), committer: (&str, &str)) {
    repo.commit_as(
        "release-plan",
        &[(PLAN_PATH, content)],
        "plan",
        author,
        committer,
    );
}

/// `login` revokes the world's plan in a comment of its own; returns the comment id.
fn revoke(world: &MintWorld, login: &str) -> u64 {
    let body = format!("/shipgate revoke {}", world.plan_prefix());
    world.github.fake.add_comment(SLUG, world.pr, login, &body)
}

fn minted(world: &MintWorld) -> bool {
    world.kinds().iter().any(|k| k == "run_opened")
}

#[test]
fn a_release_manager_committing_her_plan_under_someone_elses_email_cannot_approve_it() {
    // carol opens the PR; alice commits the plan with carol's email as author and approves.
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        let (carol, carol_email) = noreply("carol");
        let (alice, alice_email) = noreply("alice");
        commit_plan(repo, PLAN, (carol, &carol_email), (alice, &alice_email));
    });
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(
        !minted(&world),
        "alice committed the plan: {}",
        stdout(&out)
    );
    let status = world.status_comment();
    assert!(status.contains("SELF\\_APPROVAL"), "{status}");
}

#[test]
fn an_earlier_commit_of_the_plan_excludes_its_author_too() {
    // alice writes the plan; erin's commit (fixture email) touches it last.
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        let (alice, alice_email) = noreply("alice");
        let draft = PLAN.replace("Release 1.1.0", "Release");
        commit_plan(repo, &draft, (alice, &alice_email), (alice, &alice_email));
        repo.commit("release-plan", &[(PLAN_PATH, PLAN)], "rename");
    });
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(!minted(&world), "{}", stdout(&out));
    assert!(world.status_comment().contains("SELF\\_APPROVAL"));
}

#[test]
fn a_commit_linked_to_no_account_makes_the_plan_unapprovable() {
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        let mallory = ("Mallory", "mallory@example.com");
        commit_plan(repo, PLAN, mallory, mallory);
    });
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(!minted(&world), "{}", stdout(&out));
    assert!(stdout(&out).contains("AUTHOR_UNKNOWN"), "{}", stdout(&out));
    assert!(stdout(&out).contains("writes the plan"), "{}", stdout(&out));
    assert!(world.status_comment().contains("AUTHOR\\_UNKNOWN"));
}

#[test]
fn a_deleted_revoke_still_holds() {
    let world = MintWorld::with("carol", PLAN);
    world.approve("alice");
    let revoke = revoke(&world, "alice");
    assert_exit(&world.mint(), 0);
    // Another writer deletes the revoke; bob approves.
    world.github.fake.delete_comment(revoke);
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(
        !minted(&world),
        "alice's revoke was erased: {}",
        stdout(&out)
    );
    assert!(world.status_comment().contains("REVOKED"));
    assert!(world.kinds().iter().any(|k| k == "approval_revoked"));
    assert_exit(&world.shipgate(&["audit", "verify"]), 0);
}

#[test]
fn a_revoke_deleted_before_mint_read_it_holds_through_its_event() {
    let world = MintWorld::with("carol", PLAN);
    let prefix = world.plan_prefix();
    world.approve("alice");
    world.approve("bob");
    let (event, id) = comment_event(&world, "alice", &format!("/shipgate revoke {prefix}"));
    world.github.fake.delete_comment(id);
    let out = mint_from_event(&world, &event);
    assert_exit(&out, 0);
    assert!(!minted(&world), "{}", stdout(&out));
    assert!(world.kinds().iter().any(|k| k == "approval_revoked"));
}

#[test]
fn an_edited_revoke_does_not_restore_the_approval() {
    let world = MintWorld::with("carol", PLAN);
    world.approve("alice");
    let revoke = revoke(&world, "alice");
    world.github.fake.edit_comment(revoke, "thanks!");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(!minted(&world), "{}", stdout(&out));
    assert!(world.status_comment().contains("EDITED\\_LATER"));
}

#[test]
fn a_revoke_after_an_approval_in_the_same_comment_holds() {
    let world = MintWorld::with("carol", PLAN);
    let prefix = world.plan_prefix();
    world.github.fake.add_comment(
        SLUG,
        world.pr,
        "alice",
        &format!("/shipgate approve {prefix}\n/shipgate revoke {prefix}"),
    );
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(!minted(&world), "{}", stdout(&out));
}

#[test]
fn junk_approvals_cost_no_reactions_and_counted_ones_are_reacted_to_once() {
    let world = MintWorld::with("carol", PLAN);
    let prefix = world.plan_prefix();
    let junk: Vec<u64> = (0..20)
        .map(|_| {
            world.github.fake.add_comment(
                SLUG,
                world.pr,
                "carol",
                &format!("/shipgate approve {prefix}"),
            )
        })
        .collect();
    let alice = world.approve("alice");
    assert_exit(&world.mint(), 0);
    assert!(junk.iter().all(|id| world.reaction(*id).is_empty()));
    assert_eq!(world.reaction(alice), ["+1"]);

    world.github.fake.clear_log();
    assert_exit(&world.mint(), 0);
    let reactions = world
        .github
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/reactions"))
        .count();
    assert_eq!(reactions, 0, "every comment carries its reaction already");
}

#[test]
fn a_flood_of_comments_is_refused_with_a_clear_code_and_nothing_is_minted() {
    let world = MintWorld::with("carol", PLAN);
    world.approve("alice");
    world.approve("bob");
    for i in 0..shipgate::github::MAX_COMMENTS {
        world
            .github
            .fake
            .add_comment(SLUG, world.pr, "carol", &format!("spam {i}"));
    }
    let out = world.mint();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("TOO_MANY_COMMENTS"),
        "{}",
        stderr(&out)
    );
    assert!(!minted(&world));
}

#[test]
fn a_status_marker_posted_by_someone_else_is_left_alone() {
    let world = MintWorld::with("carol", PLAN);
    let forged_body = "<!-- shipgate:status -->\n## AUTHORIZED\nall good, ship it";
    let forged = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "carol", forged_body);
    world.approve("alice");
    assert_exit(&world.mint(), 0);
    let comments = world.github.fake.comments(SLUG, world.pr);
    let theirs = comments.iter().find(|c| c.id == forged).expect("forged");
    assert_eq!(theirs.body, forged_body, "carol's comment was not edited");
    let ours: Vec<_> = comments
        .iter()
        .filter(|c| c.body.starts_with("<!-- shipgate:status -->") && c.id != forged)
        .collect();
    assert_eq!(ours.len(), 1, "shipgate wrote its own status comment");
    assert_eq!(ours[0].login, "github-actions[bot]");
    assert!(ours[0].body.contains("AWAITING APPROVAL"));
}

#[test]
fn a_pull_request_with_more_commits_than_github_lists_is_refused() {
    // GitHub lists 250 commits of a pull request: authorship hidden past them would go unseen.
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        let (alice, alice_email) = noreply("alice");
        commit_plan(repo, PLAN, (alice, &alice_email), (alice, &alice_email));
        for i in 0..shipgate::github::MAX_PULL_COMMITS {
            repo.commit("release-plan", &[("filler.txt", &i.to_string())], "filler");
        }
    });
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("TOO_MANY_COMMITS"),
        "{}",
        stderr(&out)
    );
    assert!(!minted(&world));
}
