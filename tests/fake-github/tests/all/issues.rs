//! Issue comments (pagination, edits, who may edit) and reactions.
use serde_json::{Value, json};

use crate::support::{REPO, Resp, fixture};

fn links(resp: &Resp) -> Vec<(String, String)> {
    let Some(header) = resp.header("link") else {
        return Vec::new();
    };
    header
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url.trim_start_matches('<').trim_end_matches('>').to_owned();
            let rel = rel
                .trim_start_matches("rel=\"")
                .trim_end_matches('"')
                .to_owned();
            (rel, url)
        })
        .collect()
}

fn link<'a>(links: &'a [(String, String)], rel: &str) -> Option<&'a str> {
    links
        .iter()
        .find(|(r, _)| r == rel)
        .map(|(_, u)| u.as_str())
}

#[test]
fn comments_are_paginated_with_link_headers() {
    let fx = fixture();
    for i in 0..250 {
        fx.fake
            .add_comment("acme/widget", 7, "alice", &format!("comment {i}"));
    }
    let alice = fx.as_user("t-alice");
    let base = fx.fake.base_url();
    let path = format!("{REPO}/issues/7/comments");

    let first = alice.get(&format!("{path}?per_page=100"));
    assert_eq!(first.json().as_array().unwrap().len(), 100);
    let first_links = links(&first);
    assert_eq!(
        first_links,
        vec![
            (
                "next".to_owned(),
                format!("{base}{path}?per_page=100&page=2")
            ),
            (
                "last".to_owned(),
                format!("{base}{path}?per_page=100&page=3")
            ),
        ]
    );
    let second = alice.get(link(&first_links, "next").unwrap());
    let second_links = links(&second);
    let rels: Vec<_> = second_links.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(rels, vec!["prev", "next", "last", "first"]);
    assert_eq!(
        link(&second_links, "first"),
        Some(format!("{base}{path}?per_page=100&page=1").as_str())
    );
    let third = alice.get(link(&second_links, "next").unwrap());
    assert_eq!(third.json().as_array().unwrap().len(), 51);
    let third_rels: Vec<_> = links(&third).into_iter().map(|(r, _)| r).collect();
    assert_eq!(third_rels, vec!["prev", "first"]);

    let mut ids = Vec::new();
    for page in [&first, &second, &third] {
        ids.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_u64().unwrap()),
        );
    }
    let expected: Vec<u64> = fx
        .fake
        .comments("acme/widget", 7)
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, expected);

    let default = alice.get(&path);
    assert_eq!(default.json().as_array().unwrap().len(), 30);
    assert_eq!(
        link(&links(&default), "last"),
        Some(format!("{base}{path}?page=9").as_str())
    );
    let capped = alice.get(&format!("{path}?per_page=500"));
    assert_eq!(capped.json().as_array().unwrap().len(), 100);
    let beyond = alice.get(&format!("{path}?page=40"));
    assert_eq!(beyond.json(), json!([]));
}

#[test]
fn a_seeded_comment_keeps_its_author_and_times() {
    let fx = fixture();
    let list = fx
        .as_user("t-alice")
        .get(&format!("{REPO}/issues/7/comments"));
    let comment = &list.json()[0];
    assert_eq!(comment["body"], "/shipgate approve abc");
    assert_eq!(comment["user"]["login"], "bob");
    assert_eq!(comment["user"]["type"], "User");
    assert_eq!(comment["author_association"], "MEMBER");
    assert_eq!(comment["created_at"], "2026-11-20T10:00:00Z");
    assert_eq!(comment["updated_at"], "2026-11-20T10:00:00Z");
}

#[test]
fn a_comment_is_created_then_edited_with_a_later_updated_at() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let created = alice.post(
        &format!("{REPO}/issues/7/comments"),
        &json!({"body": "<!-- shipgate -->\nstatus"}),
    );
    assert_eq!(created.status, 201);
    let created = created.json();
    assert_eq!(created["author_association"], "COLLABORATOR");
    assert_eq!(created["created_at"], created["updated_at"]);
    let id = created["id"].as_u64().unwrap();
    assert_eq!(
        created["issue_url"],
        format!("{}{REPO}/issues/7", fx.fake.base_url())
    );

    let edited = alice.patch(
        &format!("{REPO}/issues/comments/{id}"),
        &json!({"body": "updated"}),
    );
    assert_eq!(edited.status, 200);
    let edited = edited.json();
    assert_eq!(edited["body"], "updated");
    assert_eq!(edited["created_at"], created["created_at"]);
    assert!(edited["updated_at"].as_str() > created["updated_at"].as_str());
    let fetched = alice.get(&format!("{REPO}/issues/comments/{id}"));
    assert_eq!(fetched.json(), edited);

    let view = fx
        .fake
        .comments("acme/widget", 7)
        .into_iter()
        .find(|c| c.id == id)
        .unwrap();
    assert_eq!(
        (view.login.as_str(), view.body.as_str()),
        ("alice", "updated")
    );
}

#[test]
fn editing_through_the_handle_moves_updated_at() {
    let fx = fixture();
    let id = fx.fake.add_comment(
        "acme/widget",
        7,
        "github-actions[bot]",
        "/shipgate approve x",
    );
    fx.fake.edit_comment(id, "/shipgate approve y");
    let view = fx
        .fake
        .comments("acme/widget", 7)
        .into_iter()
        .find(|c| c.id == id)
        .unwrap();
    assert!(view.updated_at > view.created_at);
    let json = fx
        .as_user("t-alice")
        .get(&format!("{REPO}/issues/comments/{id}"))
        .json();
    assert_eq!(json["user"]["type"], "Bot");
    assert_eq!(json["author_association"], "NONE");
    assert_eq!(json["body"], "/shipgate approve y");
}

#[test]
fn only_the_author_or_a_pusher_may_edit_a_comment() {
    let fx = fixture();
    let seeded = fx.fake.comments("acme/widget", 7)[0].id;
    let path = format!("{REPO}/issues/comments/{seeded}");
    let by_reader = fx
        .as_user("t-carol")
        .patch(&path, &json!({"body": "forged"}));
    assert_eq!(by_reader.status, 404);
    assert_eq!(
        fx.fake.comments("acme/widget", 7)[0].body,
        "/shipgate approve abc"
    );
    let by_admin = fx
        .as_user("t-alice")
        .patch(&path, &json!({"body": "moderated"}));
    assert_eq!(by_admin.status, 200);
    let missing_body = fx.as_user("t-bob").patch(&path, &json!({}));
    assert_eq!(missing_body.status, 422);
}

#[test]
fn comments_on_a_missing_issue_or_comment_are_404() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    assert_eq!(alice.get(&format!("{REPO}/issues/99/comments")).status, 404);
    let post = alice.post(&format!("{REPO}/issues/99/comments"), &json!({"body": "x"}));
    assert_eq!(post.status, 404);
    assert_eq!(
        alice.get(&format!("{REPO}/issues/comments/424242")).status,
        404
    );
    let patch = alice.patch(
        &format!("{REPO}/issues/comments/424242"),
        &json!({"body": "x"}),
    );
    assert_eq!(patch.status, 404);
}

#[test]
fn a_reaction_is_recorded_once_per_user_and_content() {
    let fx = fixture();
    let id = fx.fake.comments("acme/widget", 7)[0].id;
    let path = format!("{REPO}/issues/comments/{id}/reactions");
    let bob = fx.as_user("t-bob");
    let first = bob.post(&path, &json!({"content": "+1"}));
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["content"], "+1");
    assert_eq!(first.json()["user"]["login"], "bob");
    let again = bob.post(&path, &json!({"content": "+1"}));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(
        fx.as_user("t-alice")
            .post(&path, &json!({"content": "rocket"}))
            .status,
        201
    );
    let invalid = bob.post(&path, &json!({"content": "thumbsup"}));
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.json()["errors"][0]["field"], "content");

    let listed = bob.get(&path).json();
    let contents: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["content"])
        .collect();
    assert_eq!(contents, vec!["+1", "rocket"]);
    let views = fx.fake.reactions(id);
    assert_eq!(views.len(), 2);
    assert_eq!(
        (views[0].login.as_str(), views[0].content.as_str()),
        ("bob", "+1")
    );
    let comment = bob.get(&format!("{REPO}/issues/comments/{id}")).json();
    assert_eq!(comment["reactions"]["total_count"], 2);
    assert_eq!(comment["reactions"]["+1"], 1);
    assert_eq!(
        bob.get(&format!("{REPO}/issues/comments/999999/reactions"))
            .status,
        404
    );
}
