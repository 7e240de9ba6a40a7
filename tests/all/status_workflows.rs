//! Issue 18's triggers, run by the local runner as an adopter's repository runs them: the plan
//! workflow `shipgate init` writes on every pull request activity that can change the
//! `shipgate` check (and on no other), the approve workflow setting the check after each
//! approval, a push that changes the plan making it pending again with the stale approvals
//! listed, and the plan workflow on a merge queue's `merge_group`.

use serde_json::{Value, json};

use crate::action_workflows::{
    PLAN, adopter_workflow, approve_job, assert_succeeded, pull_request_event, runner,
};
use crate::fixture::git;
use crate::github_support::statuses_set;
use crate::local_runner::{JobResult, LocalRunner};
use crate::merge_group::{merge_group_event, queue};
use crate::mint_flow::{MintWorld, comment_payload};

/// The plan workflow for a `pull_request` event of activity `action`.
fn plan_job(world: &MintWorld, runner: &LocalRunner, action: &str) -> JobResult {
    let mut event = pull_request_event(world);
    event["action"] = json!(action);
    runner.run_workflow(
        &adopter_workflow("shipgate-plan.yml"),
        "pull_request",
        event,
        json!({}),
    )
}

/// The statuses set on `sha`, oldest first.
fn statuses_on(world: &MintWorld, sha: &str) -> Vec<Value> {
    statuses_set(&world.github)
        .into_iter()
        .filter(|(on, _)| on == sha)
        .map(|(_, status)| status)
        .collect()
}

/// The last `shipgate` status set on `sha`: its state and description.
fn check_on(world: &MintWorld, sha: &str) -> (String, String) {
    let last = statuses_on(world, sha)
        .pop()
        .unwrap_or_else(|| panic!("no status on {sha}"));
    assert_eq!(last["context"], "shipgate");
    let text = |key: &str| last[key].as_str().expect("a string").to_owned();
    (text("state"), text("description"))
}

/// `login` comments `/shipgate approve` and the approve workflow runs for the comment.
fn approve(world: &MintWorld, runner: &LocalRunner, login: &str) -> JobResult {
    let body = format!("/shipgate approve {}", world.plan_prefix());
    let job = approve_job(runner, comment_payload(world, login, "User", &body).0);
    assert_succeeded(&job);
    job
}

/// Pushes a commit changing the plan to the pull request's branch; GitHub moves
/// `refs/pull/N/head` with it.
fn push_plan_change(world: &MintWorld, plan: &str) -> String {
    world.repo.commit(
        "release-plan",
        &[(".shipgate/plans/release.yaml", plan)],
        "fix the release notes",
    );
    world.repo.write(".shipgate/plans/release.yaml", plan);
    git(
        world.repo.path(),
        &["push", "--quiet", "origin", "release-plan"],
    );
    world.repo.branch_sha("release-plan")
}

#[test]
fn the_check_follows_the_pull_request_from_plan_to_approval_to_a_changed_plan() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let head = world.repo.branch_sha("release-plan");

    assert_succeeded(&plan_job(&world, &runner, "opened"));
    let (state, description) = check_on(&world, &head);
    assert_eq!(state, "pending", "{description}");
    assert!(
        description.contains(&format!("/shipgate approve {}", world.plan_prefix())),
        "{description}"
    );

    approve(&world, &runner, "alice");
    assert_eq!(check_on(&world, &head).0, "pending", "one of two approvals");
    approve(&world, &runner, "bob");
    let (state, description) = check_on(&world, &head);
    assert_eq!(state, "success", "{description}");
    assert!(
        description.starts_with("authorized: 1 plan"),
        "{description}"
    );

    let approved = world.plan_prefix();
    let changed = PLAN.replace("notes: first release", "notes: first release, fixed");
    let new_head = push_plan_change(&world, &changed);
    assert_ne!(world.plan_prefix(), approved, "the plan id moved");
    let job = plan_job(&world, &runner, "synchronize");
    assert_succeeded(&job);
    let (state, description) = check_on(&world, &new_head);
    assert_eq!(state, "pending", "{description}");
    assert!(description.contains(&world.plan_prefix()), "{description}");
    let comment = world.status_comment();
    let stale = comment
        .split("### Approvals that no longer count")
        .nth(1)
        .unwrap_or_else(|| panic!("no stale approvals listed:\n{comment}"));
    for login in ["alice", "bob"] {
        assert!(stale.contains(login), "{login} is listed:\n{comment}");
    }
    assert!(stale.contains(&approved), "{comment}");
}

#[test]
fn the_plan_workflow_runs_on_every_activity_that_can_change_the_check_and_no_other() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let head = world.repo.branch_sha("release-plan");
    let mut set = 0;
    for action in ["opened", "synchronize", "reopened", "edited"] {
        let job = plan_job(&world, &runner, action);
        assert_succeeded(&job);
        set += 1;
        assert_eq!(statuses_on(&world, &head).len(), set, "{action} sets it");
    }
    for action in ["closed", "labeled", "assigned"] {
        let job = plan_job(&world, &runner, action);
        assert!(job.skipped, "{action} starts no run");
        assert_eq!(
            statuses_on(&world, &head).len(),
            set,
            "{action} sets nothing"
        );
    }
}

#[test]
fn the_plan_workflow_sets_the_merge_groups_check_in_a_merge_queue() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let workflow = adopter_workflow("shipgate-plan.yml");
    let plan = [(".shipgate/plans/release.yaml", PLAN)];

    let unapproved = queue(&world, &plan);
    let job = runner.run_workflow(
        &workflow,
        "merge_group",
        merge_group_event(&unapproved),
        json!({}),
    );
    assert!(!job.skipped);
    assert!(!job.succeeded, "a failing group fails the job too");
    assert_eq!(job.output("shipgate", "status"), "blocked");
    assert_eq!(
        job.output("shipgate", "blocked-reasons"),
        "PLAN_NOT_APPROVED"
    );
    let (state, description) = check_on(&world, &unapproved.head);
    assert_eq!(state, "failure", "{description}");
    assert!(description.contains(&world.plan_prefix()), "{description}");
    assert!(job.summary.contains("merge group"), "{}", job.transcript());

    approve(&world, &runner, "alice");
    approve(&world, &runner, "bob");
    let approved = queue(&world, &plan);
    let job = runner.run_workflow(
        &workflow,
        "merge_group",
        merge_group_event(&approved),
        json!({}),
    );
    assert_succeeded(&job);
    assert_eq!(job.output("shipgate", "status"), "clean");
    let (state, description) = check_on(&world, &approved.head);
    assert_eq!(state, "success", "{description}");
    assert!(
        statuses_on(&world, &approved.head)
            .iter()
            .all(|s| s["state"] != "pending"),
        "never pending in a queue"
    );
}
