//! Strict mode: a route the fake does not implement answers 501 and is recorded, an injected
//! fault that never fired is reported, and a fake dropped with either left panics.
use std::panic::{AssertUnwindSafe, catch_unwind};

use fake_github::{Fault, FaultKind};
use serde_json::json;

use crate::support::{REPO, fixture, send};

fn fault(path: &str, times: u32) -> Fault {
    Fault::new(Some("GET"), path, FaultKind::Status(502), times)
}

#[test]
fn an_unknown_route_or_method_answers_501_naming_it_and_is_recorded() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for (method, path) in [
        ("GET", "/nope".to_owned()),
        ("DELETE", REPO.to_owned()),
        ("DELETE", format!("{REPO}/git/refs/heads/feature")),
        ("GET", format!("{REPO}/commits")),
    ] {
        let resp = alice.send(method, &path, None);
        assert_eq!(resp.status, 501, "{method} {path}");
        let body = resp.json();
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&format!("{method} {path}")), "{message}");
        assert_eq!(body["status"], "501");
        assert!(body["documentation_url"].is_string());
        assert_eq!(
            resp.header("content-type"),
            Some("application/json; charset=utf-8")
        );
    }
    assert!(fx.ref_target("refs/heads/feature").is_some());
    let problems = fx.fake.take_problems();
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(problems[0].ends_with("GET /nope"), "{}", problems[0]);
    assert!(problems[2].ends_with(&format!("DELETE {REPO}/git/refs/heads/feature")));
    assert!(
        fx.fake.take_problems().is_empty(),
        "taken problems are forgotten"
    );
}

#[test]
fn github_routes_below_the_fakes_wide_routes_are_501_not_a_missing_thing() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for path in [
        format!("{REPO}/commits/main/comments"),
        format!("{REPO}/commits/release/1.0/check-runs"),
        format!("{REPO}/branches/main/protection/required_status_checks"),
        format!("{REPO}/pulls/comments"),
        format!("{REPO}/releases/latest"),
    ] {
        let resp = alice.get(&path);
        assert_eq!(resp.status, 501, "{path}");
        assert!(resp.json()["message"].as_str().unwrap().contains(&path));
    }
    assert_eq!(fx.fake.take_problems().len(), 5);
    // The wide routes still serve what they implement.
    assert_eq!(
        alice.get(&format!("{REPO}/commits/release/1.0")).status,
        200
    );
    assert_eq!(
        alice
            .get(&format!("{REPO}/branches/main/protection"))
            .status,
        200
    );
    assert_eq!(alice.get(&format!("{REPO}/pulls/7")).status, 200);
}

#[test]
fn a_fake_dropped_after_a_request_to_an_unknown_route_fails_the_test() {
    let fx = fixture();
    assert_eq!(fx.as_user("t-alice").get("/nope").status, 501);
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(fx)));
    let message = *dropped.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("strict mode"), "{message}");
    assert!(message.contains("GET /nope"), "{message}");
}

#[test]
fn a_fault_that_never_fired_is_a_problem_and_fails_the_drop() {
    let fx = fixture();
    fx.fake.inject(fault(&format!("{REPO}/releases"), 1));
    fx.fake.inject(fault(&format!("{REPO}/pulls"), 2));
    assert_eq!(
        fx.as_user("t-alice").get(&format!("{REPO}/pulls")).status,
        502
    );
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(fx)));
    let message = *dropped.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("2 problem(s)"), "{message}");
    assert!(
        message.contains(&format!("(1 time(s) left): GET {REPO}/releases")),
        "{message}"
    );
    assert!(
        message.contains(&format!("(1 time(s) left): GET {REPO}/pulls")),
        "{message}"
    );
}

#[test]
fn an_optional_fault_may_stay_unspent_and_a_spent_fault_is_clean() {
    let fx = fixture();
    fx.fake
        .inject_optional(fault(&format!("{REPO}/releases"), 3));
    fx.fake.inject(fault(&format!("{REPO}/pulls"), 1));
    assert_eq!(
        fx.as_user("t-alice").get(&format!("{REPO}/pulls")).status,
        502
    );
    assert_eq!(fx.fake.take_problems(), Vec::<String>::new());
    // The optional rule is still queued, and still fires.
    assert_eq!(
        fx.as_user("t-alice")
            .get(&format!("{REPO}/releases"))
            .status,
        502
    );
}

#[test]
fn the_admin_surface_reports_problems_and_takes_optional_faults() {
    let fx = fixture();
    let base = fx.fake.base_url();
    let optional =
        json!({"method": "GET", "path": "/x", "kind": {"status": 502}, "optional": true});
    let resp = send(
        &base,
        "POST",
        "/_fake/faults",
        None,
        Some(&optional.to_string()),
    )
    .unwrap();
    assert_eq!(resp.status, 201);
    assert_eq!(fx.as_user("t-alice").get("/nope").status, 501);
    let problems = send(&base, "GET", "/_fake/problems", None, None)
        .unwrap()
        .json();
    assert_eq!(
        problems,
        json!(["a request hit a route the fake does not implement: GET /nope"])
    );
    assert_eq!(
        fx.fake.take_problems().len(),
        1,
        "reading over HTTP keeps them"
    );
}
