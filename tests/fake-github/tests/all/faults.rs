//! Fault injection (every kind, through the handle and the admin surface) and the request log.
use std::time::{Duration, Instant};

use fake_github::{Fault, FaultKind};
use serde_json::json;

use crate::support::{REPO, fixture, send};

fn fault(method: Option<&str>, path: &str, kind: FaultKind, times: u32) -> Fault {
    Fault::new(method, path, kind, times)
}

#[test]
fn a_status_fault_answers_5xx_without_the_effect() {
    let fx = fixture();
    fx.fake.inject(fault(
        Some("POST"),
        "/repos/*/*/git/refs",
        FaultKind::Status(502),
        1,
    ));
    let alice = fx.as_user("t-alice");
    let body = json!({"ref": "refs/heads/topic", "sha": fx.shas.c1});
    let failed = alice.post(&format!("{REPO}/git/refs"), &body);
    assert_eq!(failed.status, 502);
    assert_eq!(failed.json()["message"], "Server Error");
    assert!(fx.ref_target("refs/heads/topic").is_none());
    assert_eq!(
        alice.post(&format!("{REPO}/git/refs"), &body).status,
        201,
        "the rule is spent"
    );
}

#[test]
fn a_rate_limit_fault_carries_retry_after() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for status in [429, 403] {
        fx.fake.inject(fault(
            None,
            "/repos/acme/widget/releases",
            FaultKind::RateLimited {
                status,
                retry_after_secs: 7,
            },
            1,
        ));
        let resp = alice.post(&format!("{REPO}/releases"), &json!({"tag_name": "v1"}));
        assert_eq!(resp.status, status);
        assert_eq!(resp.header("retry-after"), Some("7"));
        assert!(
            resp.json()["message"]
                .as_str()
                .unwrap()
                .contains("secondary rate limit")
        );
    }
    assert!(fx.fake.releases("acme/widget").is_empty());
}

#[test]
fn a_latency_fault_delays_then_serves() {
    let fx = fixture();
    fx.fake.inject(fault(
        Some("get"),
        REPO,
        FaultKind::Latency(Duration::from_millis(150)),
        1,
    ));
    let start = Instant::now();
    let resp = fx.as_user("t-alice").get(REPO);
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert_eq!(resp.status, 200);
}

#[test]
fn a_dropped_connection_still_has_its_effect() {
    let fx = fixture();
    fx.fake.inject(fault(
        Some("POST"),
        "/repos/acme/widget/releases",
        FaultKind::DropAfterEffect,
        1,
    ));
    let outcome = send(
        &fx.fake.base_url(),
        "POST",
        &format!("{REPO}/releases"),
        Some("Bearer t-alice"),
        Some(r#"{"tag_name": "v1.0"}"#),
    );
    assert!(
        outcome.is_err(),
        "the client must see a connection error, got {outcome:?}"
    );
    let releases = fx.fake.releases("acme/widget");
    assert_eq!(releases.len(), 1, "the effect happened");
    assert_eq!(
        fx.ref_target("refs/tags/v1.0").as_deref(),
        Some(fx.shas.c2.as_str())
    );
    let log = fx.fake.requests();
    assert_eq!(log.last().unwrap().status, 0);
}

#[test]
fn a_status_after_effect_fault_makes_an_ambiguous_write() {
    let fx = fixture();
    fx.fake.inject(fault(
        None,
        "/repos/*/*/issues/7/comments",
        FaultKind::StatusAfterEffect(502),
        1,
    ));
    let resp = fx.as_user("t-bob").post(
        &format!("{REPO}/issues/7/comments"),
        &json!({"body": "once"}),
    );
    assert_eq!(resp.status, 502);
    let comments = fx.fake.comments("acme/widget", 7);
    assert_eq!(comments.last().unwrap().body, "once");
}

#[test]
fn faults_apply_in_order_only_to_matching_requests_and_can_be_cleared() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    fx.fake
        .inject(fault(Some("POST"), REPO, FaultKind::Status(500), 5));
    fx.fake.inject(fault(None, REPO, FaultKind::Status(503), 1));
    fx.fake.inject(fault(None, REPO, FaultKind::Status(500), 1));
    assert_eq!(
        alice.get(REPO).status,
        503,
        "the POST rule does not match a GET"
    );
    assert_eq!(alice.get(REPO).status, 500);
    assert_eq!(
        alice.get(&format!("{REPO}?page=1")).status,
        200,
        "rules spent; query ignored"
    );
    fx.fake.inject(fault(None, REPO, FaultKind::Status(500), 3));
    fx.fake.clear_faults();
    assert_eq!(alice.get(REPO).status, 200);
}

#[test]
fn the_admin_surface_injects_lists_and_clears_without_being_logged() {
    let fx = fixture();
    let base = fx.fake.base_url();
    let spec = json!({"method": "GET", "path": "/repos/*/*", "kind": {"status": 503}, "times": 2});
    let added = send(
        &base,
        "POST",
        "/_fake/faults",
        None,
        Some(&spec.to_string()),
    )
    .unwrap();
    assert_eq!(added.status, 201);
    let alice = fx.as_user("t-alice");
    assert_eq!(alice.get(REPO).status, 503);
    let cleared = send(&base, "DELETE", "/_fake/faults", None, None).unwrap();
    assert_eq!(cleared.status, 200);
    assert_eq!(alice.get(REPO).status, 200);
    let bad = send(&base, "POST", "/_fake/faults", None, Some(r#"{"path": 1}"#)).unwrap();
    assert_eq!(bad.status, 422);

    let log = send(&base, "GET", "/_fake/requests", None, None)
        .unwrap()
        .json();
    assert_eq!(
        log,
        json!([
            {"method": "GET", "path": REPO, "body": "", "status": 503},
            {"method": "GET", "path": REPO, "body": "", "status": 200},
        ])
    );
    let latency = json!({"path": REPO, "kind": {"latency_ms": 1}});
    assert_eq!(
        send(
            &base,
            "POST",
            "/_fake/faults",
            None,
            Some(&latency.to_string())
        )
        .unwrap()
        .status,
        201
    );
    assert_eq!(alice.get(REPO).status, 200);
}

#[test]
fn every_request_is_logged_with_its_final_status() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    alice.get(&format!("{REPO}/issues/7/comments?per_page=5&page=1"));
    alice.post(
        &format!("{REPO}/issues/7/comments"),
        &json!({"body": "hello"}),
    );
    send(&fx.fake.base_url(), "GET", REPO, None, None).unwrap();
    let log = fx.fake.requests();
    assert_eq!(fx.fake.request_count(), 3);
    assert_eq!(log[0].method, "GET");
    assert_eq!(
        log[0].path,
        format!("{REPO}/issues/7/comments?per_page=5&page=1")
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].method, "POST");
    assert_eq!(log[1].body, r#"{"body":"hello"}"#);
    assert_eq!(log[1].status, 201);
    assert_eq!(log[2].status, 401);
    fx.fake.clear_log();
    assert_eq!(fx.fake.request_count(), 0);
    assert!(fx.fake.requests().is_empty());
}
