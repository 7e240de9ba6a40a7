//! Releases: creation (and the tag it makes), duplicates, lookups.
use serde_json::json;

use crate::support::{REPO, fixture};

#[test]
fn a_release_creates_its_missing_tag_at_target_commitish() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v1.0", "target_commitish": "release/1.0", "name": "One", "body": "notes"}),
    );
    assert_eq!(resp.status, 201);
    let release = resp.json();
    assert_eq!(release["tag_name"], "v1.0");
    assert_eq!(release["target_commitish"], "release/1.0");
    assert_eq!(release["author"]["login"], "alice");
    assert_eq!(release["draft"], false);
    assert!(release["published_at"].is_string());
    assert_eq!(
        fx.ref_target("refs/tags/v1.0").as_deref(),
        Some(fx.shas.c3.as_str())
    );

    let views = fx.fake.releases("acme/widget");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].id, release["id"].as_u64().unwrap());
    assert_eq!(views[0].name.as_deref(), Some("One"));
    assert_eq!(views[0].target_commitish, "release/1.0");

    let by_tag = alice.get(&format!("{REPO}/releases/tags/v1.0"));
    assert_eq!(by_tag.status, 200);
    assert_eq!(by_tag.json(), release);
    let by_id = alice.get(&format!("{REPO}/releases/{}", views[0].id));
    assert_eq!(by_id.json(), release);
}

#[test]
fn the_default_target_is_the_default_branch_and_a_sha_works_too() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.post(&format!("{REPO}/releases"), &json!({"tag_name": "v2"}));
    assert_eq!(resp.json()["target_commitish"], "main");
    assert!(resp.json()["name"].is_null());
    assert_eq!(
        fx.ref_target("refs/tags/v2").as_deref(),
        Some(fx.shas.c2.as_str())
    );
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v3", "target_commitish": fx.shas.c4, "prerelease": true}),
    );
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json()["prerelease"], true);
    assert_eq!(
        fx.ref_target("refs/tags/v3").as_deref(),
        Some(fx.shas.c4.as_str())
    );
}

#[test]
fn an_existing_tag_is_kept_as_it_is() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let tag = json!({"ref": "refs/tags/v0", "sha": fx.shas.c1});
    assert_eq!(alice.post(&format!("{REPO}/git/refs"), &tag).status, 201);
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v0", "target_commitish": "main"}),
    );
    assert_eq!(resp.status, 201);
    assert_eq!(
        fx.ref_target("refs/tags/v0").as_deref(),
        Some(fx.shas.c1.as_str())
    );
}

#[test]
fn a_duplicate_tag_is_422_already_exists() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    assert_eq!(
        alice
            .post(&format!("{REPO}/releases"), &json!({"tag_name": "v1"}))
            .status,
        201
    );
    let resp = alice.post(&format!("{REPO}/releases"), &json!({"tag_name": "v1"}));
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json(),
        json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
            "documentation_url": "https://docs.github.com/rest/releases/releases#create-a-release",
            "status": "422",
        })
    );
    assert_eq!(fx.fake.releases("acme/widget").len(), 1);
}

#[test]
fn an_unknown_target_or_bad_tag_name_is_422_and_creates_nothing() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v1", "target_commitish": "nope"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["errors"][0]["field"], "target_commitish");
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "bad..name"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["errors"][0]["field"], "tag_name");
    assert!(fx.fake.releases("acme/widget").is_empty());
    assert!(fx.ref_target("refs/tags/v1").is_none());
}

#[test]
fn a_missing_release_is_404_and_drafts_are_not_found_by_tag() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let missing = alice.get(&format!("{REPO}/releases/tags/nope"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "Not Found");
    assert_eq!(alice.get(&format!("{REPO}/releases/123456")).status, 404);

    let draft = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v5", "draft": true}),
    );
    assert_eq!(draft.status, 201);
    assert!(draft.json()["published_at"].is_null());
    assert!(
        fx.ref_target("refs/tags/v5").is_none(),
        "a draft makes no tag"
    );
    assert_eq!(alice.get(&format!("{REPO}/releases/tags/v5")).status, 404);
    let id = draft.json()["id"].as_u64().unwrap();
    assert_eq!(alice.get(&format!("{REPO}/releases/{id}")).status, 200);
}

#[test]
fn releases_are_listed_newest_first() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for tag in ["a", "b", "c"] {
        alice.post(&format!("{REPO}/releases"), &json!({"tag_name": tag}));
    }
    let list = alice.get(&format!("{REPO}/releases?per_page=2"));
    let tags: Vec<_> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].clone())
        .collect();
    assert_eq!(tags, vec!["c", "b"]);
    assert!(list.header("link").unwrap().contains("rel=\"next\""));
}
