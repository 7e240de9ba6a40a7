//! Token kinds (issue 16): GitHub answers a user token, an installation token (a workflow's
//! `GITHUB_TOKEN`, `github-actions[bot]`) and a fork's read-only token differently, and the
//! repository's Actions workflow permissions change the answers.
use serde_json::json;

use crate::support::{REPO, fixture};

const SETTING: &str = "/repos/acme/widget/actions/permissions/workflow";

fn new_pull() -> serde_json::Value {
    json!({"title": "t", "head": "feature", "base": "main"})
}

#[test]
fn the_workflow_token_opens_pull_requests_only_when_the_repository_allows_it() {
    let fx = fixture();
    let bot = fx.as_user("t-bot");
    let refused = bot.post(&format!("{REPO}/pulls"), &new_pull());
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json()["message"],
        "GitHub Actions is not permitted to create or approve pull requests."
    );
    // The permission check comes before the body is validated.
    let invalid = bot.post(
        &format!("{REPO}/pulls"),
        &json!({"head": "main", "base": "main", "title": "x"}),
    );
    assert_eq!(invalid.status, 403);
    assert_eq!(fx.fake.pulls("acme/widget").len(), 1);

    // The setting: administrators only; GITHUB_TOKEN never has `administration`.
    assert_eq!(bot.get(SETTING).status, 403);
    assert_eq!(
        bot.get(SETTING).json()["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(fx.as_user("t-bob").get(SETTING).status, 403);
    let alice = fx.as_user("t-alice");
    assert_eq!(
        alice.get(SETTING).json(),
        json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false})
    );
    let set = alice.send(
        "PUT",
        SETTING,
        Some(&json!({"can_approve_pull_request_reviews": true}).to_string()),
    );
    assert_eq!(set.status, 204);
    assert_eq!(
        alice.get(SETTING).json()["can_approve_pull_request_reviews"],
        true
    );
    assert_eq!(
        alice.get(SETTING).json()["default_workflow_permissions"],
        "read"
    );
    let bad = alice.send(
        "PUT",
        SETTING,
        Some(&json!({"default_workflow_permissions": "admin"}).to_string()),
    );
    assert_eq!(bad.status, 422);

    let same = bot.post(
        &format!("{REPO}/pulls"),
        &json!({"head": "main", "base": "main", "title": "x"}),
    );
    assert_eq!(same.status, 422, "allowed now: the body is judged");
    let created = bot.post(&format!("{REPO}/pulls"), &new_pull());
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["user"]["login"], "github-actions[bot]");
    // A user token was never subject to the setting.
    assert!(
        fx.fake
            .workflow_permissions("acme/widget")
            .can_approve_pull_request_reviews
    );
}

#[test]
fn teams_are_invisible_to_an_installation_token_without_members_permission() {
    let fx = fixture();
    let membership = "/orgs/acme/teams/release/memberships/bob";
    let bot = fx.as_user("t-bot");
    assert_eq!(
        bot.get(membership).status,
        404,
        "not 200: no members permission"
    );
    assert_eq!(bot.get("/orgs/acme/teams/release").status, 404);

    let app = fx.as_user("t-app");
    assert_eq!(app.get(membership).json()["state"], "active");
    let team = app.get("/orgs/acme/teams/release");
    assert_eq!(team.status, 200);
    assert_eq!(team.json()["slug"], "release");
    assert_eq!(team.json()["members_count"], 2);
    assert_eq!(fx.as_user("t-alice").get(membership).status, 200);

    let pending = app.get("/orgs/acme/teams/release/memberships/dave");
    assert_eq!(pending.status, 200);
    assert_eq!(pending.json()["state"], "pending");
    assert_eq!(
        app.get("/orgs/acme/teams/release/memberships/alice").status,
        404
    );
}

#[test]
fn a_repository_shows_permissions_to_user_tokens_only() {
    let fx = fixture();
    let user = fx.as_user("t-bob").get(REPO).json();
    assert_eq!(user["permissions"]["push"], true);
    let bot = fx.as_user("t-bot").get(REPO).json();
    assert!(bot.get("permissions").is_none(), "{bot}");
    assert_eq!(bot["full_name"], "acme/widget");
}

#[test]
fn draft_releases_are_seen_only_with_push_access() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let draft = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v9", "draft": true}),
    );
    assert_eq!(draft.status, 201);
    let id = draft.json()["id"].as_u64().unwrap();
    let listed = |token: &str| {
        fx.as_user(token)
            .get(&format!("{REPO}/releases"))
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(listed("t-alice"), 1);
    assert_eq!(listed("t-bot"), 1, "the workflow token may push");
    assert_eq!(listed("t-carol"), 0, "a reader does not see drafts");
    assert_eq!(listed("t-app"), 0, "contents: read is no push access");
    let path = format!("{REPO}/releases/{id}");
    assert_eq!(fx.as_user("t-carol").get(&path).status, 404);
    assert_eq!(fx.as_user("t-bob").get(&path).status, 200);
}

/// The seed can be built in Rust, without YAML, as another project's tests would.
#[test]
fn a_seed_built_in_rust_serves_like_a_yaml_one() {
    use fake_github::{
        FakeGitHub, PermissionLevel, Role, Seed, SeedProtection, SeedRepo, SeedWorkflowPermissions,
        TokenKind, UserKind,
    };
    let seed = Seed::new()
        .user("octo", UserKind::User)
        .user("ci[bot]", UserKind::Bot)
        .token("t-octo", "octo", TokenKind::User, &[])
        .token(
            "t-ci",
            "ci[bot]",
            TokenKind::Installation,
            &[("contents", PermissionLevel::Read)],
        )
        .team("acme", "core", &["octo"])
        .repo(
            SeedRepo::new("acme/tool")
                .collaborator("octo", Role::Admin)
                .protect("main", SeedProtection::new(false, false))
                .workflow_permissions(SeedWorkflowPermissions::allowing_pull_requests(true)),
        );
    let fake = FakeGitHub::start(seed).unwrap();
    let get = |token: &str, path: &str| {
        crate::support::send(
            &fake.base_url(),
            "GET",
            path,
            Some(&format!("token {token}")),
            None,
        )
        .unwrap()
    };
    assert_eq!(
        get("t-octo", "/repos/acme/tool").json()["permissions"]["admin"],
        true
    );
    assert!(
        get("t-ci", "/repos/acme/tool")
            .json()
            .get("permissions")
            .is_none()
    );
    assert_eq!(get("t-ci", "/user").status, 403);
    assert_eq!(
        get("t-octo", "/orgs/acme/teams/core/memberships/octo").status,
        200
    );
    assert_eq!(
        get("t-octo", "/repos/acme/tool/actions/permissions/workflow").json()["can_approve_pull_request_reviews"],
        true
    );
}

/// An installation token writes the conversation only with `issues: write` or
/// `pull_requests: write`; the default `GITHUB_TOKEN` has both.
#[test]
fn an_installation_token_comments_only_with_issues_or_pull_requests_write() {
    let fx = fixture();
    let body = json!({"body": "hi"});
    let path = format!("{REPO}/issues/7/comments");
    let app = fx.as_user("t-app").post(&path, &body);
    assert_eq!(app.status, 403);
    assert_eq!(
        app.json()["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(fx.as_user("t-bot").post(&path, &body).status, 201);
}
