//! Pull requests: creation and GitHub's refusals, listing by head and base.
use serde_json::json;

use crate::support::{REPO, fixture};

#[test]
fn a_pull_request_is_opened_from_a_branch() {
    let fx = fixture();
    let bob = fx.as_user("t-bob");
    let resp = bob.post(
        &format!("{REPO}/pulls"),
        &json!({"title": "Feature", "head": "acme:feature", "base": "main", "body": "Adds it", "draft": true}),
    );
    assert_eq!(resp.status, 201);
    let pull = resp.json();
    assert_eq!(pull["number"], 8, "numbers continue after the seeded #7");
    assert_eq!(pull["state"], "open");
    assert_eq!(pull["user"]["login"], "bob");
    assert_eq!(pull["head"]["ref"], "feature");
    assert_eq!(pull["head"]["label"], "acme:feature");
    assert_eq!(pull["head"]["sha"], fx.shas.c4.as_str());
    assert_eq!(pull["base"]["sha"], fx.shas.c2.as_str());
    assert_eq!(pull["commits"], 1);
    assert_eq!(pull["changed_files"], 1);
    assert_eq!(pull["author_association"], "MEMBER");
    let views = fx.fake.pulls("acme/widget");
    let view = views.iter().find(|p| p.number == 8).unwrap();
    assert_eq!(
        (view.head.as_str(), view.base.as_str()),
        ("feature", "main")
    );
    assert_eq!((view.login.as_str(), view.draft), ("bob", true));
    assert_eq!(view.body.as_deref(), Some("Adds it"));
}

#[test]
fn a_second_pull_request_for_the_same_head_is_422() {
    let fx = fixture();
    let resp = fx.as_user("t-alice").post(
        &format!("{REPO}/pulls"),
        &json!({"title": "Again", "head": "release/1.0", "base": "main"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json(),
        json!({
            "message": "Validation Failed",
            "errors": [{
                "resource": "PullRequest",
                "code": "custom",
                "message": "A pull request already exists for acme:release/1.0.",
            }],
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": "422",
        })
    );
    assert_eq!(fx.fake.pulls("acme/widget").len(), 1);
}

#[test]
fn a_head_without_new_commits_is_422() {
    let fx = fixture();
    let resp = fx.as_user("t-alice").post(
        &format!("{REPO}/pulls"),
        &json!({"title": "Nothing", "head": "stale", "base": "main"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["errors"],
        json!([{"resource": "PullRequest", "code": "custom", "message": "No commits between main and stale"}])
    );
}

#[test]
fn a_missing_branch_is_422_invalid() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for (head, base, field) in [
        ("nope", "main", "head"),
        ("feature", "nope", "base"),
        ("other:feature", "main", "head"),
    ] {
        let resp = alice.post(
            &format!("{REPO}/pulls"),
            &json!({"title": "t", "head": head, "base": base}),
        );
        assert_eq!(resp.status, 422, "{head} {base}");
        assert_eq!(
            resp.json()["errors"],
            json!([{"resource": "PullRequest", "code": "invalid", "field": field}])
        );
    }
    let resp = alice.post(
        &format!("{REPO}/pulls"),
        &json!({"title": "t", "base": "main"}),
    );
    assert_eq!(resp.json()["errors"][0]["code"], "missing_field");
}

#[test]
fn pull_requests_are_listed_by_head_and_base() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    alice.post(
        &format!("{REPO}/pulls"),
        &json!({"title": "F", "head": "feature", "base": "release/1.0"}),
    );
    let numbers = |query: &str| -> Vec<u64> {
        let resp = alice.get(&format!("{REPO}/pulls{query}"));
        assert_eq!(resp.status, 200, "{query}");
        resp.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(numbers(""), vec![8, 7]);
    assert_eq!(numbers("?head=acme:feature"), vec![8]);
    assert_eq!(numbers("?head=acme:release/1.0&base=main"), vec![7]);
    assert_eq!(numbers("?base=release/1.0&state=open"), vec![8]);
    assert_eq!(numbers("?head=acme:nope"), Vec::<u64>::new());
    assert_eq!(numbers("?head=someone:feature"), Vec::<u64>::new());
    assert_eq!(numbers("?state=closed"), Vec::<u64>::new());
    assert_eq!(numbers("?state=all"), vec![8, 7]);
}

#[test]
fn a_pull_request_is_fetched_by_number() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let seeded = alice.get(&format!("{REPO}/pulls/7"));
    assert_eq!(seeded.status, 200);
    assert_eq!(seeded.json()["title"], "Release");
    assert_eq!(seeded.json()["body"], "");
    assert_eq!(seeded.json()["comments"], 1);
    assert_eq!(alice.get(&format!("{REPO}/pulls/99")).status, 404);

    let n = fx
        .fake
        .open_pull("acme/widget", "carol", "feature", "main", "Seeded later");
    let direct = alice.get(&format!("{REPO}/pulls/{n}"));
    assert_eq!(direct.json()["user"]["login"], "carol");
    assert!(direct.json()["body"].is_null());
}

#[test]
fn a_pull_requests_commits_link_emails_to_accounts_as_github_does() {
    let fx = fixture();
    let resp = fx.as_user("t-bob").get(&format!("{REPO}/pulls/7/commits"));
    assert_eq!(resp.status, 200);
    let commits = resp.json();
    let commits = commits.as_array().unwrap();
    assert_eq!(commits.len(), 1, "release/1.0 is one commit ahead of main");
    assert_eq!(commits[0]["sha"], fx.shas.c3.as_str());
    assert_eq!(
        commits[0]["author"]["login"], "alice",
        "alice's verified email"
    );
    assert!(commits[0]["committer"].is_null(), "an email of no account");
    assert!(
        commits[0].get("files").is_none(),
        "only the single commit has files"
    );
    let missing = fx.as_user("t-bob").get(&format!("{REPO}/pulls/99/commits"));
    assert_eq!(missing.status, 404);
}

#[test]
fn get_user_answers_a_user_token_and_refuses_an_installation_token() {
    let fx = fixture();
    let me = fx.as_user("t-alice").get("/user");
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["login"], "alice");
    let bot = fx.as_user("t-fork").get("/user");
    assert_eq!(bot.status, 403);
    assert_eq!(
        bot.json()["message"],
        "Resource not accessible by integration"
    );
}

#[test]
fn a_comment_is_deleted_by_its_author_or_a_pusher_only() {
    let fx = fixture();
    let id = fx
        .fake
        .add_comment("acme/widget", 7, "carol", "/shipgate revoke abcabcabcabc");
    let path = format!("{REPO}/issues/comments/{id}");
    let stranger = fx.as_user("t-fork").send("DELETE", &path, None);
    assert_eq!(stranger.status, 403, "a read-only token writes nothing");
    let bob = fx.as_user("t-bob").send("DELETE", &path, None);
    assert_eq!(
        bob.status, 204,
        "bob may push, so he may delete anyone's comment"
    );
    assert!(
        fx.fake
            .comments("acme/widget", 7)
            .iter()
            .all(|c| c.id != id)
    );
    assert_eq!(fx.as_user("t-bob").send("DELETE", &path, None).status, 404);
}

/// Pushes a commit on `branch` of the fixture's bare repository with stock git, as a
/// contributor's `git push` does (hooks run).
fn push_commit(fx: &crate::support::Fixture, branch: &str, file: &str) -> String {
    let work = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(work.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let bare = fx.fake.git_dir("acme/widget").display().to_string();
    git(&["clone", "--quiet", "--branch", branch, &bare, "."]);
    std::fs::write(work.path().join(file), "more\n").unwrap();
    git(&["add", file]);
    git(&["commit", "--quiet", "-m", "more work"]);
    git(&["push", "--quiet", "origin", branch]);
    git(&["rev-parse", "HEAD"]).trim().to_owned()
}

#[test]
fn a_push_to_an_open_pull_requests_branch_moves_its_pull_ref_and_a_merged_ones_stays() {
    let fx = fixture();
    assert_eq!(
        fx.ref_target("refs/pull/7/head").as_deref(),
        Some(fx.shas.c3.as_str()),
        "GitHub keeps every pull request's head at refs/pull/N/head"
    );
    let pushed = push_commit(&fx, "release/1.0", "notes.txt");
    assert_eq!(fx.ref_target("refs/pull/7/head"), Some(pushed.clone()));
    assert_eq!(
        fx.as_user("t-alice").get(&format!("{REPO}/pulls/7")).json()["head"]["sha"],
        pushed.as_str()
    );

    let merged = fx.as_user("t-alice").send(
        "PUT",
        &format!("{REPO}/pulls/7/merge"),
        Some(&json!({"sha": pushed}).to_string()),
    );
    assert_eq!(merged.status, 200);
    push_commit(&fx, "release/1.0", "later.txt");
    assert_eq!(
        fx.ref_target("refs/pull/7/head"),
        Some(pushed),
        "a merged pull request's ref stays at its last head"
    );
}
