//! The bot that answers (issue 18): `eyes` on every `/shipgate` comment as soon as mint sees
//! it, `/shipgate help`, and replies to malformed commands threaded into the status comment.

use crate::fixture::assert_exit;
use crate::github_support::SLUG;
use crate::mint_flow::{MintWorld, comment_event, mint_from_event};

/// Posts `body` as `login`, runs mint on its event, and returns the comment's id.
fn command(world: &MintWorld, login: &str, body: &str) -> u64 {
    let (event, id) = comment_event(world, login, body);
    assert_exit(&mint_from_event(world, &event), 0);
    id
}

#[test]
fn every_shipgate_comment_gets_eyes_and_other_comments_none() {
    let world = MintWorld::new();
    let prefix = world.plan_prefix();
    let valid = command(&world, "alice", &format!("/shipgate approve {prefix}"));
    assert_eq!(world.reaction(valid), ["eyes", "+1"]);
    let malformed = command(&world, "bob", "/shipgate aprove abc");
    assert_eq!(world.reaction(malformed), ["eyes"]);
    let (event, chatter) = comment_event(&world, "bob", "shipgate looks great");
    assert_exit(&mint_from_event(&world, &event), 0);
    assert!(world.reaction(chatter).is_empty());
    // A rerun on the same event reacts once: GitHub keeps one reaction per content.
    let (event, again) = comment_event(&world, "erin", "/shipgate help");
    assert_exit(&mint_from_event(&world, &event), 0);
    assert_exit(&mint_from_event(&world, &event), 0);
    assert_eq!(world.reaction(again), ["eyes"]);
}

#[test]
fn help_lists_the_commands_the_approvers_of_the_plan_and_the_halt_admins() {
    let world = MintWorld::new();
    let id = command(&world, "carol", "/shipgate help");
    let status = world.status_comment();
    assert!(status.contains("### Replies"), "{status}");
    assert!(
        status.contains(&format!("#issuecomment-{id}")),
        "names the comment: {status}"
    );
    for form in [
        "/shipgate approve <plan-id-prefix>",
        "/shipgate revoke <plan-id-prefix>",
        "/shipgate halt <reason>",
        "/shipgate resume",
        "/shipgate ship",
        "/shipgate help",
    ] {
        assert!(status.contains(form), "{form}: {status}");
    }
    assert!(
        status.contains(&format!("/shipgate approve {}", world.plan_prefix())),
        "{status}"
    );
    assert!(
        status.contains("needs 2 of release-managers (alice, bob, erin)"),
        "{status}"
    );
    assert!(
        status.contains("Who may halt and resume: alice."),
        "{status}"
    );
    // What shipgate writes is never a command itself.
    let parsed = shipgate::approval::command::parse_comment(&status);
    assert!(
        parsed.commands.is_empty() && parsed.errors.is_empty(),
        "{parsed:?}"
    );
}

#[test]
fn each_malformed_form_gets_its_problem_and_the_right_form() {
    for (body, problem, form) in [
        (
            "/shipgate aprove abc",
            "unknown command; did you mean approve?",
            "/shipgate approve <plan-id-prefix>",
        ),
        (
            "/shipgate approve",
            "a plan-id prefix is missing",
            "/shipgate approve <plan-id-prefix>",
        ),
        (
            "/shipgate approve abc123",
            "the plan-id prefix is too short",
            "/shipgate approve <plan-id-prefix>",
        ),
        (
            "/shipgate revoke 0123456789xyz",
            "the plan-id prefix is not hexadecimal",
            "/shipgate revoke <plan-id-prefix>",
        ),
        (
            "/shipgate approve 0123456789ab extra",
            "it takes one plan-id prefix, nothing more",
            "/shipgate approve <plan-id-prefix>",
        ),
        (
            "/shipgate ship now",
            "it takes no argument",
            "/shipgate ship",
        ),
        ("/shipgate deploy", "unknown command", "/shipgate help"),
    ] {
        let world = MintWorld::new();
        command(&world, "bob", body);
        let status = world.status_comment();
        let escaped = problem.replace('.', "\\.");
        assert!(status.contains(&escaped), "{body}: {status}");
        assert!(status.contains(&format!("` {form} `")), "{body}: {status}");
        assert!(status.contains(&format!("` {body} `")), "{body}: {status}");
    }
}

#[test]
fn hostile_text_in_a_malformed_command_is_bounded_and_cannot_leave_its_code_span() {
    let world = MintWorld::new();
    let hostile = format!(
        "/shipgate aprove ``` @everyone <img src=x> [x](http://evil) {}",
        "A".repeat(300)
    );
    command(&world, "bob", &hostile);
    let status = world.status_comment();
    let line = status
        .lines()
        .find(|l| l.contains("aprove"))
        .expect("a reply");
    assert!(
        line.contains("```` /shipgate aprove ``` @everyone"),
        "{line}"
    );
    assert!(line.contains(" ````…"), "cut and closed: {line}");
    assert!(!line.contains(&"A".repeat(101)), "bounded: {line}");
}

#[test]
fn replies_update_the_one_status_comment_and_keep_the_last_few() {
    let world = MintWorld::new();
    command(&world, "bob", "/shipgate aprove abc");
    let after_one = world.github.fake.comments(SLUG, world.pr).len();
    for i in 0..6 {
        command(&world, "bob", &format!("/shipgate approve short{i}"));
    }
    let comments = world.github.fake.comments(SLUG, world.pr);
    assert_eq!(comments.len(), after_one + 6, "no comment per command");
    let status = world.status_comment();
    assert_eq!(
        comments
            .iter()
            .filter(|c| c.body.starts_with("<!-- shipgate:status -->"))
            .count(),
        1
    );
    assert!(
        !status.contains("aprove"),
        "the oldest reply fell off: {status}"
    );
    assert_eq!(status.matches("was not carried out").count(), 5, "{status}");
}

#[test]
fn help_on_a_pull_request_without_plans_lists_every_rule() {
    let world = MintWorld::with_history("carol", crate::mint_flow::PLAN, |repo| {
        repo.commit("release-plan", &[("README.md", "docs only")], "docs");
    });
    command(&world, "carol", "/shipgate help");
    let status = world.status_comment();
    assert!(
        status.starts_with("<!-- shipgate:status -->\n## NO PLAN"),
        "{status}"
    );
    assert!(
        status.contains("any plan (this pull request has none)"),
        "{status}"
    );
    assert!(
        status.contains("releases need two release managers"),
        "{status}"
    );
}
