//! `issue_comment` event payloads, as GitHub Actions provides them in `GITHUB_EVENT_PATH`:
//! the recorded examples vendored in `tests/data/github/webhook-examples/` (the tests fail
//! when they are missing), and variants of them for pull requests.

use std::path::{Path, PathBuf};

use shipgate::event::{
    CommentEvent, Ignored, MergeGroupEvent, read_comment_event, read_merge_group_event,
};

/// The vendored webhook examples (see `tests/data/github/README.md`).
pub fn examples() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/github/webhook-examples");
    assert!(
        dir.is_dir(),
        "{}: the vendored webhook examples are missing (see tests/data/github/README.md)",
        dir.display()
    );
    dir
}

fn example(name: &str) -> serde_json::Value {
    let path = examples().join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A comment event on a pull request, from the recorded example.
fn on_pull_request(body: &str, action: &str) -> Vec<u8> {
    let mut event = example("issue_comment.created.2.json");
    event["action"] = action.into();
    event["issue"]["pull_request"] =
        serde_json::json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
    event["comment"]["body"] = body.into();
    serde_json::to_vec(&event).expect("json")
}

#[test]
fn recorded_comments_on_issues_and_edits_and_deletions_are_ignored() {
    let mut seen = 0;
    for entry in std::fs::read_dir(examples()).expect("examples") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if !name.starts_with("issue_comment.") {
            continue;
        }
        seen += 1;
        let event =
            read_comment_event(&std::fs::read(&path).expect("read")).expect("a valid payload");
        let expected = if name.starts_with("issue_comment.created") {
            Ignored::NotAPullRequest
        } else {
            Ignored::Action(name.split('.').nth(1).expect("action").to_owned())
        };
        assert_eq!(event, CommentEvent::Ignore(expected), "{name}");
    }
    assert_eq!(seen, 9);
}

#[test]
fn a_new_command_comment_on_a_pull_request_is_acted_on() {
    let event = read_comment_event(&on_pull_request(
        "Looks good.\n/shipgate approve 0123456789ab",
        "created",
    ))
    .expect("valid");
    let CommentEvent::Act(act) = event else {
        panic!("expected work, got {event:?}")
    };
    assert_eq!(
        (act.repo.as_str(), act.pr.get(), act.author.as_str()),
        ("codertocat/hello-world", 1, "codertocat")
    );
}

#[test]
fn pull_request_comments_without_commands_or_not_new_are_ignored() {
    assert_eq!(
        read_comment_event(&on_pull_request("Nice work!", "created")).expect("valid"),
        CommentEvent::Ignore(Ignored::NoCommand)
    );
    assert_eq!(
        read_comment_event(&on_pull_request(
            "> /shipgate approve 0123456789ab",
            "created"
        ))
        .expect("valid"),
        CommentEvent::Ignore(Ignored::NoCommand)
    );
    assert_eq!(
        read_comment_event(&on_pull_request("/shipgate approve 0123456789ab", "edited"))
            .expect("valid"),
        CommentEvent::Ignore(Ignored::Action("edited".into()))
    );
}

#[test]
fn other_payloads_are_malformed_not_ignored() {
    assert!(read_comment_event(b"{\"ref\": \"refs/heads/main\"}").is_err());
    assert!(read_comment_event(b"not json").is_err());
}

/// A `merge_group` payload (the fields GitHub's webhook schema requires), its group ref named
/// `head_ref`.
fn merge_group_payload(head_ref: &str) -> serde_json::Value {
    serde_json::json!({
        "action": "checks_requested",
        "merge_group": {
            "head_sha": "a".repeat(40),
            "head_ref": head_ref,
            "base_sha": "B".repeat(40),
            "base_ref": "refs/heads/main",
            "head_commit": {"id": "a".repeat(40)},
        },
        "repository": {"full_name": "acme/widget"},
        "sender": {"login": "github-merge-queue[bot]"},
    })
}

#[test]
fn a_merge_group_names_its_commits_and_the_pull_request_of_its_ref() {
    let base = "b".repeat(40);
    let event = merge_group_payload(&format!("refs/heads/gh-readonly-queue/main/pr-42-{base}"));
    let bytes = serde_json::to_vec(&event).expect("json");
    let MergeGroupEvent::Check(group) = read_merge_group_event(&bytes).expect("valid") else {
        panic!("checks are requested");
    };
    assert_eq!(group.head_sha.as_str(), "a".repeat(40));
    assert_eq!(group.base_sha.as_str(), base, "stored lowercase");
    assert_eq!(group.pull_request().map(|pr| pr.get()), Some(42));
    for other in [
        "refs/heads/gh-readonly-queue/main/pr--x",
        "refs/heads/gh-readonly-queue/main/pr-4x2-abc",
        "refs/heads/gh-readonly-queue/main/pr-99999999999999999999999-abc",
        "refs/heads/release",
    ] {
        let bytes = serde_json::to_vec(&merge_group_payload(other)).expect("json");
        let MergeGroupEvent::Check(group) = read_merge_group_event(&bytes).expect("valid") else {
            panic!("checks are requested");
        };
        assert_eq!(group.pull_request(), None, "{other}");
    }
}

#[test]
fn a_merge_group_ref_that_is_no_plain_branch_ref_is_refused() {
    for head_ref in [
        format!("refs/heads/{}", "q".repeat(250)),
        "refs/tags/v1".to_owned(),
        "refs/heads/".to_owned(),
        "refs/heads/a b".to_owned(),
        "refs/heads/a\u{7}".to_owned(),
    ] {
        let bytes = serde_json::to_vec(&merge_group_payload(&head_ref)).expect("json");
        let refused = read_merge_group_event(&bytes).expect_err("refused");
        assert!(
            refused.to_string().starts_with("EVENT_MALFORMED: "),
            "{refused}"
        );
    }
}
