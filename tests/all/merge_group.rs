//! Issue 18, merge queues: `shipgate dry-run --merge-group` sets the `shipgate` status of the
//! group commit a merge queue builds (`gh-readonly-queue/<base>/pr-<n>-<sha>`, made here in the
//! fake's backing repository as GitHub makes it), from the `merge_group` event payload: success
//! without plans or when every plan has a run, failure naming the plan otherwise (never
//! pending), and a refusal with a reason code for a payload that is not GitHub's.

use std::io::Write;
use std::process::Output;

use serde_json::{Value, json};

use crate::fixture::{assert_exit, git, stderr, stdout};
use crate::github_support::{SLUG, statuses_set};
use crate::mint_flow::{MintWorld, PLAN};

/// A release plan whose tag lands on the merged commit: its plan id binds the merged tree.
const MERGE_PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: merge
  - kind: release
    tag: v1.1.0
    notes: first release
";

/// A merge group as GitHub builds it: its commit, the commit it builds on, and its ref.
pub struct Group {
    pub head: String,
    pub base: String,
    pub head_ref: String,
}

/// Queues the world's pull request: a group commit on top of `main` holding `files` (what
/// merging the pull request adds), on the queue's branch (made anew, as GitHub makes it for
/// every group), pushed to the fake's repository.
pub fn queue(world: &MintWorld, files: &[(&str, &str)]) -> Group {
    let base = world.repo.branch_sha("main");
    let branch = format!("gh-readonly-queue/main/pr-{}-{base}", world.pr);
    if let Ok(mut old) = world
        .repo
        .repo
        .find_reference(&format!("refs/heads/{branch}"))
    {
        old.delete().expect("delete the last group's branch");
    }
    let head = world
        .repo
        .commit(&branch, files, &format!("Merge pull request #{}", world.pr))
        .to_string();
    git(
        world.repo.path(),
        &[
            "push",
            "--quiet",
            "--force",
            "origin",
            &format!("refs/heads/{branch}"),
        ],
    );
    Group {
        head,
        base,
        head_ref: format!("refs/heads/{branch}"),
    }
}

/// The `merge_group` `checks_requested` payload of `group`, with the fields GitHub sends.
pub fn merge_group_event(group: &Group) -> Value {
    json!({
        "action": "checks_requested",
        "merge_group": {
            "head_sha": group.head,
            "head_ref": group.head_ref,
            "base_sha": group.base,
            "base_ref": "refs/heads/main",
            "head_commit": {
                "id": group.head,
                "tree_id": "0".repeat(40),
                "message": "Merge pull request",
                "timestamp": "2026-12-04T12:00:00Z",
                "author": {"name": "GitHub", "email": "noreply@github.com"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
        },
        "repository": {"full_name": SLUG, "default_branch": "main"},
        "sender": {"login": "github-merge-queue[bot]"},
    })
}

/// Runs `dry-run --merge-group` with `event` as the event payload.
fn check_group(world: &MintWorld, event: &[u8]) -> Output {
    let mut file = tempfile::NamedTempFile::new().expect("event file");
    file.write_all(event).expect("write event");
    let path = file.path().to_str().expect("utf-8").to_owned();
    world.shipgate_with(
        &["dry-run", "--merge-group"],
        &[
            ("GITHUB_EVENT_PATH", path.as_str()),
            ("GITHUB_EVENT_NAME", "merge_group"),
        ],
    )
}

/// The one status set on `sha`: the `shipgate` check, never pending.
fn status_of(world: &MintWorld, sha: &str) -> Value {
    let set: Vec<Value> = statuses_set(&world.github)
        .into_iter()
        .filter(|(on, _)| on == sha)
        .map(|(_, status)| status)
        .collect();
    let [status] = set.as_slice() else {
        panic!("one status on the group's commit: {set:?}");
    };
    assert_eq!(status["context"], "shipgate");
    assert_ne!(status["state"], "pending", "a queue waits on pending");
    status.clone()
}

fn approve_and_mint(world: &MintWorld) {
    world.approve("alice");
    world.approve("bob");
    assert_exit(&world.mint(), 0);
}

fn description(status: &Value) -> &str {
    status["description"].as_str().expect("a description")
}

#[test]
fn a_group_that_adds_no_plan_passes() {
    let world = MintWorld::new();
    let group = queue(&world, &[("NEWS.md", "a change without a plan\n")]);
    let out = check_group(&world, merge_group_event(&group).to_string().as_bytes());
    assert_exit(&out, 0);
    let status = status_of(&world, &group.head);
    assert_eq!(status["state"], "success", "{status}");
    assert_eq!(
        description(&status),
        "no plan in this change: nothing to approve"
    );
    assert!(
        statuses_set(&world.github)
            .iter()
            .all(|(sha, _)| sha == &group.head)
    );
}

#[test]
fn a_group_whose_plan_has_a_run_passes() {
    let world = MintWorld::new();
    approve_and_mint(&world);
    let group = queue(&world, &[(".shipgate/plans/release.yaml", PLAN)]);
    let out = check_group(&world, merge_group_event(&group).to_string().as_bytes());
    assert_exit(&out, 0);
    let status = status_of(&world, &group.head);
    assert_eq!(status["state"], "success", "{status}");
    assert!(
        description(&status).starts_with("authorized: 1 plan"),
        "{status}"
    );
    assert!(
        stdout(&out).contains(&format!("plan sha256:{}", world.plan_prefix())),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_group_with_an_unapproved_plan_fails_naming_it() {
    let world = MintWorld::new();
    world.approve("alice");
    let group = queue(&world, &[(".shipgate/plans/release.yaml", PLAN)]);
    let out = check_group(&world, merge_group_event(&group).to_string().as_bytes());
    assert_exit(&out, 1);
    let status = status_of(&world, &group.head);
    assert_eq!(status["state"], "failure", "{status}");
    assert_eq!(
        description(&status),
        format!("blocked: plan {} (PLAN_NOT_APPROVED)", world.plan_prefix())
    );
    assert!(
        stdout(&out).contains("blocked: PLAN_NOT_APPROVED: "),
        "{}",
        stdout(&out)
    );
}

/// A `target: merge` plan binds the tree: a group built on the base it was approved on has
/// that tree and passes; once the base moved, the group's tree (and plan id) is another, and
/// the check says the approvals were given to another tree.
#[test]
fn a_target_merge_plan_whose_base_moved_fails_the_group_as_changed() {
    let world = MintWorld::with("carol", MERGE_PLAN);
    approve_and_mint(&world);
    let plan = [(".shipgate/plans/release.yaml", MERGE_PLAN)];
    let up_to_date = queue(&world, &plan);
    let event = merge_group_event(&up_to_date).to_string();
    assert_exit(&check_group(&world, event.as_bytes()), 0);
    assert_eq!(status_of(&world, &up_to_date.head)["state"], "success");

    world
        .repo
        .commit("main", &[("NEWS.md", "another pull request\n")], "merge #2");
    let behind = queue(&world, &plan);
    let out = check_group(&world, merge_group_event(&behind).to_string().as_bytes());
    assert_exit(&out, 1);
    let status = status_of(&world, &behind.head);
    assert_eq!(status["state"], "failure", "{status}");
    let description = description(&status);
    assert!(
        description.ends_with("(PLAN_CHANGED_IN_MERGE_GROUP)"),
        "{status}"
    );
    assert!(
        !description.contains(&world.plan_prefix()),
        "it names the group's plan id, not the approved one: {status}"
    );
    assert!(
        stdout(&out).contains("approvals were given to another tree"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_malformed_merge_group_payload_is_refused_with_a_reason_code_and_sets_nothing() {
    let world = MintWorld::new();
    let group = queue(&world, &[("NEWS.md", "x\n")]);
    let good = merge_group_event(&group);
    let mut bad_sha = good.clone();
    bad_sha["merge_group"]["head_sha"] = json!("HEAD");
    let mut bad_ref = good.clone();
    bad_ref["merge_group"]["base_ref"] = json!("refs/heads/main\n::error::forged");
    let mut no_group = good.clone();
    no_group["merge_group"] = Value::Null;
    for event in [
        bad_sha.to_string(),
        bad_ref.to_string(),
        no_group.to_string(),
        "{\"action\": \"checks_requested\"".to_owned(),
    ] {
        let out = check_group(&world, event.as_bytes());
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("EVENT_MALFORMED: not a merge_group event payload"),
            "{event}: {}",
            stderr(&out)
        );
    }
    let mut destroyed = good;
    destroyed["action"] = json!("destroyed");
    let out = check_group(&world, destroyed.to_string().as_bytes());
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("ignored: merge_group `destroyed`"));
    assert!(statuses_set(&world.github).is_empty(), "nothing was set");
}

/// A plan of the group that does not load fails the check, then the run says why.
#[test]
fn a_group_whose_plan_does_not_load_fails_its_check() {
    let world = MintWorld::new();
    let group = queue(
        &world,
        &[(
            ".shipgate/plans/release.yaml",
            "version: 1\nname: [unclosed\n",
        )],
    );
    let out = check_group(&world, merge_group_event(&group).to_string().as_bytes());
    assert_exit(&out, 2);
    let status = status_of(&world, &group.head);
    assert_eq!(status["state"], "failure", "{status}");
    assert!(stderr(&out).contains("SYNTAX"), "{}", stderr(&out));
}

#[test]
fn merge_group_is_not_combined_with_a_pull_request_or_plan_files() {
    let world = MintWorld::new();
    for args in [
        ["dry-run", "--merge-group", "--pr", "1"].as_slice(),
        ["dry-run", "--merge-group", ".shipgate/plans/release.yaml"].as_slice(),
    ] {
        let out = world.shipgate(args);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
}
