//! Commit statuses: who may set one, what GitHub refuses, and the combined view branch
//! protection reads (the newest status of each context decides).
use serde_json::json;

use crate::support::{REPO, fixture};

#[test]
fn the_workflow_token_sets_a_status_and_the_newest_of_each_context_decides() {
    let fx = fixture();
    let bot = fx.as_user("t-bot");
    let head = &fx.shas.c3;
    let statuses = format!("{REPO}/statuses/{head}");

    let none = bot.get(&format!("{REPO}/commits/{head}/status"));
    assert_eq!(none.status, 200);
    assert_eq!(
        none.json()["state"],
        "pending",
        "no status at all reads as pending"
    );
    assert_eq!(none.json()["total_count"], 0);

    let pending = bot.post(
        &statuses,
        &json!({"state": "pending", "context": "shipgate", "description": "awaiting 2 approvals",
                "target_url": "https://example.com/pr/7#status"}),
    );
    assert_eq!(
        pending.status,
        201,
        "{}",
        String::from_utf8_lossy(&pending.body)
    );
    assert_eq!(
        pending.header("location"),
        pending.json()["url"].as_str(),
        "a created status is located at its commit's statuses"
    );
    assert_eq!(pending.json()["creator"]["login"], "github-actions[bot]");
    let ci = bot.post(&statuses, &json!({"state": "success", "context": "ci"}));
    assert_eq!(ci.status, 201);
    let combined = bot
        .get(&format!("{REPO}/commits/release/1.0/status"))
        .json();
    assert_eq!(
        combined["state"], "pending",
        "shipgate's pending holds the merge"
    );
    assert_eq!(combined["sha"], head.as_str());

    let success = bot.post(
        &statuses,
        &json!({"state": "success", "context": "ShipGate"}),
    );
    assert_eq!(success.status, 201);
    let combined = bot.get(&format!("{REPO}/commits/{head}/status")).json();
    assert_eq!(combined["state"], "success");
    assert_eq!(combined["total_count"], 2, "contexts are case-insensitive");
    assert_eq!(combined["statuses"][0]["state"], "success");

    let failed = bot.post(&statuses, &json!({"state": "error", "context": "ci"}));
    assert_eq!(failed.status, 201);
    assert_eq!(
        bot.get(&format!("{REPO}/commits/{head}/status")).json()["state"],
        "failure"
    );
    let listed = bot.get(&format!("{REPO}/commits/{head}/statuses")).json();
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["error", "success", "success", "pending"],
        "newest first"
    );
}

#[test]
fn github_refuses_statuses_it_would_refuse() {
    let fx = fixture();
    let head = &fx.shas.c3;
    let statuses = format!("{REPO}/statuses/{head}");
    let ok = json!({"state": "success", "context": "shipgate"});

    assert_eq!(fx.as_user("t-fork").post(&statuses, &ok).status, 403);
    assert_eq!(
        fx.as_user("t-app").post(&statuses, &ok).status,
        403,
        "an app without statuses: write"
    );
    assert_eq!(
        fx.as_user("t-carol").post(&statuses, &ok).status,
        404,
        "a reader cannot see the write"
    );

    let bot = fx.as_user("t-bot");
    let bad_state = bot.post(&statuses, &json!({"state": "green"}));
    assert_eq!(bad_state.status, 422);
    assert_eq!(bad_state.json()["errors"][0]["field"], "state");
    assert_eq!(
        bot.post(&statuses, &json!({})).status,
        422,
        "state is required"
    );
    let long = bot.post(
        &statuses,
        &json!({"state": "success", "description": "x".repeat(141)}),
    );
    assert_eq!(long.status, 422);
    let unknown = bot.post(&format!("{REPO}/statuses/{}", "0".repeat(40)), &ok);
    assert_eq!(unknown.status, 422);
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("No commit found for SHA")
    );
    assert_eq!(
        bot.get(&format!("{REPO}/commits/nowhere/status")).status,
        404
    );

    let defaulted = bot.post(&statuses, &json!({"state": "success"}));
    assert_eq!(defaulted.json()["context"], "default");
    assert_eq!(
        bot.post(
            &statuses,
            &json!({"state": "success", "description": "x".repeat(140)})
        )
        .status,
        201,
        "140 characters is the limit, not over it"
    );
}
