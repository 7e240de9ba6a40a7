//! Collaborator permission and team membership.
use serde_json::json;

use crate::support::{REPO, fixture};

#[test]
fn the_permission_endpoint_reports_each_role() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    for (login, permission) in [
        ("alice", "admin"),
        ("bob", "write"),
        ("carol", "read"),
        ("github-actions[bot]", "none"),
    ] {
        let resp = alice.get(&format!("{REPO}/collaborators/{login}/permission"));
        assert_eq!(resp.status, 200, "{login}");
        let body = resp.json();
        assert_eq!(body["permission"], permission, "{login}");
        assert_eq!(body["role_name"], permission, "{login}");
        assert_eq!(body["user"]["login"], login);
    }
    let unknown = alice.get(&format!("{REPO}/collaborators/mallory/permission"));
    assert_eq!(unknown.status, 404);
}

#[test]
fn team_membership_is_active_member_or_404() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let member = alice.get("/orgs/acme/teams/release/memberships/bob");
    assert_eq!(member.status, 200);
    let body = member.json();
    assert_eq!(
        (body["role"].clone(), body["state"].clone()),
        (json!("member"), json!("active"))
    );
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .starts_with(&fx.fake.base_url())
    );
    assert_eq!(
        alice
            .get("/orgs/acme/teams/release/memberships/alice")
            .status,
        404
    );
    assert_eq!(
        alice.get("/orgs/acme/teams/other/memberships/bob").status,
        404
    );
    assert_eq!(
        alice
            .get("/orgs/other/teams/release/memberships/bob")
            .status,
        404
    );
}
