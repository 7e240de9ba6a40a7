//! What the seed and the merge endpoint can say (issue 16): merging pull requests (the commits
//! GitHub writes for each method, in the bare repository, and its refusals), pull requests
//! seeded closed or merged, and rulesets and classic protection set up in the seed.
use serde_json::json;

use crate::support::{REPO, fixture};

fn merge(fx: &crate::support::Fixture, body: &serde_json::Value) -> crate::support::Resp {
    fx.as_user("t-alice").send(
        "PUT",
        &format!("{REPO}/pulls/7/merge"),
        Some(&body.to_string()),
    )
}

#[test]
fn a_merge_writes_a_merge_commit_and_closes_the_pull_request() {
    let fx = fixture();
    let resp = merge(&fx, &json!({"sha": fx.shas.c3}));
    assert_eq!(resp.status, 200);
    let sha = resp.json()["sha"].as_str().unwrap().to_owned();
    assert_eq!(resp.json()["merged"], true);
    let git = fx.git();
    let commit = git.find_commit(git2::Oid::from_str(&sha).unwrap()).unwrap();
    let parents: Vec<String> = commit.parent_ids().map(|p| p.to_string()).collect();
    assert_eq!(parents, [fx.shas.c2.clone(), fx.shas.c3.clone()]);
    assert!(
        commit
            .message()
            .unwrap()
            .starts_with("Merge pull request #7 from acme/release/1.0")
    );
    assert_eq!(commit.committer().name().ok(), Some("GitHub"));
    assert_eq!(
        fx.ref_target("refs/heads/main").as_deref(),
        Some(sha.as_str())
    );

    let pull = fx.as_user("t-alice").get(&format!("{REPO}/pulls/7")).json();
    assert_eq!(pull["state"], "closed");
    assert_eq!(pull["merged"], true);
    assert_eq!(pull["merge_commit_sha"], sha);
    assert_eq!(pull["merged_by"]["login"], "alice");
    assert!(pull["merged_at"].is_string());
    assert_eq!(merge(&fx, &json!({})).status, 405, "merged already");
    let open = fx.as_user("t-alice").get(&format!("{REPO}/pulls")).json();
    assert_eq!(open.as_array().unwrap().len(), 0);
    let closed = fx
        .as_user("t-alice")
        .get(&format!("{REPO}/pulls?state=closed"))
        .json();
    assert_eq!(closed[0]["number"], 7);
}

#[test]
fn a_squash_writes_one_commit_with_the_heads_tree() {
    let fx = fixture();
    let resp = merge(&fx, &json!({"merge_method": "squash"}));
    assert_eq!(resp.status, 200);
    let git = fx.git();
    let sha = git2::Oid::from_str(resp.json()["sha"].as_str().unwrap()).unwrap();
    let commit = git.find_commit(sha).unwrap();
    assert_eq!(
        commit.parent_ids().collect::<Vec<_>>(),
        [git2::Oid::from_str(&fx.shas.c2).unwrap()]
    );
    let head = git
        .find_commit(git2::Oid::from_str(&fx.shas.c3).unwrap())
        .unwrap();
    assert_eq!(commit.tree_id(), head.tree_id());
    assert_eq!(commit.message().ok(), Some("Release (#7)"));
}

#[test]
fn a_rebase_replays_the_heads_commits_with_their_authors() {
    let fx = fixture();
    let resp = merge(&fx, &json!({"merge_method": "rebase"}));
    assert_eq!(resp.status, 200);
    let git = fx.git();
    let sha = git2::Oid::from_str(resp.json()["sha"].as_str().unwrap()).unwrap();
    let replayed = git.find_commit(sha).unwrap();
    let original = git
        .find_commit(git2::Oid::from_str(&fx.shas.c3).unwrap())
        .unwrap();
    assert_ne!(
        replayed.id(),
        original.id(),
        "a new commit, committed by GitHub"
    );
    assert_eq!(replayed.author().email(), original.author().email());
    assert_eq!(replayed.message(), original.message());
    assert_eq!(replayed.tree_id(), original.tree_id());
    assert_eq!(replayed.parent_id(0).unwrap().to_string(), fx.shas.c2);
}

#[test]
fn a_stale_sha_is_409_an_unknown_method_422_and_a_reader_404() {
    let fx = fixture();
    let stale = merge(&fx, &json!({"sha": fx.shas.c1}));
    assert_eq!(stale.status, 409);
    assert_eq!(
        stale.json()["message"],
        "Head branch was modified. Review and try the merge again."
    );
    assert_eq!(merge(&fx, &json!({"merge_method": "octopus"})).status, 422);
    let carol = fx
        .as_user("t-carol")
        .send("PUT", &format!("{REPO}/pulls/7/merge"), Some("{}"));
    assert_eq!(carol.status, 404);
    assert_eq!(fx.ref_target("refs/heads/main"), Some(fx.shas.c2.clone()));
}

#[test]
fn seeded_pull_requests_may_be_closed_or_merged() {
    let dir = tempfile::tempdir().unwrap();
    let shas = crate::support::fixture_repo(dir.path());
    let yaml = crate::support::seed_yaml(dir.path()).replace(
        r#"title: Release, body: "" } ]"#,
        r#"title: Release, body: "" }, { number: 8, user: bob, head: feature, base: main, title: Old, state: closed }, { number: 9, user: bob, head: stale, base: main, title: Done, state: merged } ]"#,
    );
    let fake =
        fake_github::FakeGitHub::start(fake_github::Seed::from_yaml_str(&yaml).unwrap()).unwrap();
    let get = |path: &str| {
        crate::support::send(&fake.base_url(), "GET", path, Some("token t-alice"), None)
            .unwrap()
            .json()
    };
    let numbers = |query: &str| -> Vec<u64> {
        get(&format!("{REPO}/pulls?state={query}"))
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(numbers("open"), [7]);
    assert_eq!(numbers("closed"), [9, 8]);
    assert_eq!(numbers("all"), [9, 8, 7]);
    let closed = get(&format!("{REPO}/pulls/8"));
    assert_eq!(
        (closed["state"].clone(), closed["merged"].clone()),
        (json!("closed"), json!(false))
    );
    assert!(closed["merged_at"].is_null() && closed["closed_at"].is_string());
    let merged = get(&format!("{REPO}/pulls/9"));
    assert_eq!(merged["merged"], true);
    assert_eq!(merged["merge_commit_sha"], shas.c1);
}

#[test]
fn the_seed_sets_rulesets_and_classic_protection() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::fixture_repo(dir.path());
    let yaml = crate::support::seed_yaml(dir.path()).replace(
        "    protected_branches:",
        "    branch_rules: { shipgate/audit: [non_fast_forward, deletion] }\n    tag_rulesets: [ { name: releases, include: [\"refs/tags/v*\"], rules: [creation, update] } ]\n    protected_branches:",
    );
    let fake =
        fake_github::FakeGitHub::start(fake_github::Seed::from_yaml_str(&yaml).unwrap()).unwrap();
    let get = |path: &str| {
        crate::support::send(&fake.base_url(), "GET", path, Some("token t-alice"), None).unwrap()
    };
    let rules = get(&format!("{REPO}/rules/branches/shipgate/audit")).json();
    let types: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["non_fast_forward", "deletion"]);
    let rulesets = get(&format!("{REPO}/rulesets")).json();
    let id = rulesets[0]["id"].as_u64().unwrap();
    let ruleset = get(&format!("{REPO}/rulesets/{id}")).json();
    assert_eq!(
        ruleset["conditions"]["ref_name"]["include"],
        json!(["refs/tags/v*"])
    );
    assert_eq!(
        ruleset["rules"],
        json!([{"type": "creation"}, {"type": "update"}])
    );
    let protection = get(&format!("{REPO}/branches/main/protection"));
    assert_eq!(protection.status, 200);
    assert_eq!(protection.json()["allow_force_pushes"]["enabled"], false);
}
