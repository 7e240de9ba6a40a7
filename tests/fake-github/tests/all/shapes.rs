//! Shapes as GitHub writes them (issue 16): bot accounts' URLs, the `Location` of created
//! resources, and the tag object types GitHub's enum allows.
use serde_json::json;

use crate::support::{REPO, fixture};

#[test]
fn a_bots_urls_are_the_ones_github_writes() {
    let fx = fixture();
    let bot = fx.as_user("t-bot");
    let comment = bot.post(&format!("{REPO}/issues/7/comments"), &json!({"body": "hi"}));
    assert_eq!(comment.status, 201);
    let user = &comment.json()["user"];
    let base = fx.fake.base_url();
    assert_eq!(user["url"], format!("{base}/users/github-actions%5Bbot%5D"));
    assert_eq!(user["html_url"], format!("{base}/apps/github-actions"));
    assert_eq!(
        user["followers_url"],
        format!("{base}/users/github-actions%5Bbot%5D/followers")
    );
    let alice = &fx.as_user("t-alice").get(REPO).json()["owner"];
    assert_eq!(alice["html_url"], format!("{base}/acme"));
}

#[test]
fn a_created_resource_is_located_and_a_reaction_is_not() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let creates = [
        (
            format!("{REPO}/git/refs"),
            json!({"ref": "refs/heads/x", "sha": fx.shas.c1}),
        ),
        (
            format!("{REPO}/git/tags"),
            json!({"tag": "v2", "message": "m", "object": fx.shas.c1, "type": "commit"}),
        ),
        (format!("{REPO}/releases"), json!({"tag_name": "v3"})),
        (
            format!("{REPO}/pulls"),
            json!({"title": "t", "head": "feature", "base": "main"}),
        ),
        (format!("{REPO}/issues/7/comments"), json!({"body": "b"})),
    ];
    for (path, body) in creates {
        let resp = alice.post(&path, &body);
        assert_eq!(resp.status, 201, "{path}");
        let url = resp.json()["url"].as_str().unwrap().to_owned();
        assert_eq!(resp.header("location"), Some(url.as_str()), "{path}");
    }
    let comment = fx.fake.comments("acme/widget", 7)[0].id;
    let reaction = alice.post(
        &format!("{REPO}/issues/comments/{comment}/reactions"),
        &json!({"content": "+1"}),
    );
    assert_eq!(reaction.status, 201);
    assert_eq!(reaction.header("location"), None, "as recorded");
}

#[test]
fn a_tag_object_of_type_tag_is_refused_like_github() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.post(
        &format!("{REPO}/git/tags"),
        &json!({"tag": "v2", "message": "m", "object": fx.shas.c1, "type": "tag"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["errors"][0]["field"], "type");
}
