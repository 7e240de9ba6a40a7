//! Authentication, permissions, GitHub's common headers and its generic error bodies.
use serde_json::json;

use crate::support::{REPO, fixture, send};

#[test]
fn a_missing_or_unknown_token_is_401_bad_credentials() {
    let fx = fixture();
    let base = fx.fake.base_url();
    for authorization in [
        None,
        Some("Bearer nope"),
        Some("Basic dDphbGljZQ=="),
        Some("t-alice"),
    ] {
        let resp = send(&base, "GET", REPO, authorization, None).unwrap();
        assert_eq!(resp.status, 401, "{authorization:?}");
        assert_eq!(
            resp.json(),
            json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401",
            })
        );
    }
    let resp = send(&base, "GET", REPO, Some("token t-alice"), None).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["permissions"]["admin"], true);
}

#[test]
fn a_read_only_token_reads_but_every_write_is_403() {
    let fx = fixture();
    let fork = fx.as_user("t-fork");
    assert_eq!(fork.get(&format!("{REPO}/issues/7/comments")).status, 200);
    let writes = [
        (
            "POST",
            format!("{REPO}/issues/7/comments"),
            json!({"body": "hi"}),
        ),
        (
            "POST",
            format!("{REPO}/git/refs"),
            json!({"ref": "refs/heads/x", "sha": fx.shas.c1}),
        ),
        (
            "POST",
            format!("{REPO}/releases"),
            json!({"tag_name": "v9"}),
        ),
        (
            "POST",
            format!("{REPO}/pulls"),
            json!({"title": "t", "head": "feature", "base": "main"}),
        ),
    ];
    for (method, path, body) in writes {
        let resp = fork.send(method, &path, Some(&body.to_string()));
        assert_eq!(resp.status, 403, "{path}");
        assert_eq!(
            resp.json()["message"],
            "Resource not accessible by integration"
        );
    }
    assert_eq!(fx.fake.comments("acme/widget", 7).len(), 1);
    assert!(fx.fake.releases("acme/widget").is_empty());
}

#[test]
fn a_reader_cannot_write_git_data_or_releases() {
    let fx = fixture();
    let carol = fx.as_user("t-carol");
    let resp = carol.post(
        &format!("{REPO}/git/refs"),
        &json!({"ref": "refs/heads/x", "sha": fx.shas.c1}),
    );
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["message"], "Not Found");
    let resp = carol.post(&format!("{REPO}/releases"), &json!({"tag_name": "v9"}));
    assert_eq!(resp.status, 404);
    assert!(fx.ref_target("refs/heads/x").is_none());
    // Readers may still comment, as on a public repository.
    let resp = carol.post(
        &format!("{REPO}/issues/7/comments"),
        &json!({"body": "lgtm"}),
    );
    assert_eq!(resp.status, 201);
}

#[test]
fn unknown_repositories_and_ids_that_are_not_numbers_are_404_not_found() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for (method, path) in [
        ("GET", "/repos/acme/nope".to_owned()),
        ("GET", "/repos/acme/nope/releases".to_owned()),
        ("GET", format!("{REPO}/pulls/not-a-number")),
    ] {
        let resp = alice.send(method, &path, None);
        assert_eq!(resp.status, 404, "{method} {path}");
        assert_eq!(resp.json()["message"], "Not Found");
        assert!(resp.json()["documentation_url"].is_string());
    }
}

#[test]
fn a_body_that_is_not_json_is_400_and_a_mistyped_field_is_422() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.send("POST", &format!("{REPO}/releases"), Some("{not json"));
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["message"], "Problems parsing JSON");
    let resp = alice.post(
        &format!("{REPO}/releases"),
        &json!({"tag_name": "v1", "draft": "yes"}),
    );
    assert_eq!(resp.status, 422);
    assert_eq!(resp.json()["message"], "Validation Failed");
    assert_eq!(resp.json()["errors"][0]["code"], "invalid");
    let resp = alice.post(&format!("{REPO}/releases"), &json!({"name": "no tag"}));
    assert_eq!(resp.status, 422);
    assert_eq!(
        resp.json()["errors"][0],
        json!({"resource": "Release", "code": "missing_field", "field": "tag_name"})
    );
}

#[test]
fn every_response_carries_githubs_headers() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let ok = alice.get(REPO);
    let missing = alice.get("/repos/acme/nope");
    let unauthenticated = send(&fx.fake.base_url(), "GET", REPO, None, None).unwrap();
    for resp in [&ok, &missing, &unauthenticated] {
        assert_eq!(
            resp.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert!(resp.header("x-github-request-id").is_some());
        for name in ["limit", "remaining", "reset", "used"] {
            let value = resp.header(&format!("x-ratelimit-{name}")).unwrap();
            assert!(value.parse::<u64>().is_ok(), "{name}: {value}");
        }
        assert_eq!(resp.header("x-ratelimit-resource"), Some("core"));
    }
    assert_ne!(
        ok.header("x-github-request-id"),
        missing.header("x-github-request-id")
    );
}
