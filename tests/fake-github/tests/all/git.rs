//! Refs, annotated tags, commits and branches, checked against the bare repository.
use fake_github::{FakeGitHub, Seed};
use git2::Signature;
use serde_json::{Value, json};

use crate::support::{self, Fixture, REPO, fixture, signature, tess};

#[test]
fn a_ref_is_created_once() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let body = json!({"ref": "refs/heads/topic", "sha": fx.shas.c1});
    let resp = alice.post(&format!("{REPO}/git/refs"), &body);
    assert_eq!(resp.status, 201);
    let created = resp.json();
    assert_eq!(created["ref"], "refs/heads/topic");
    assert_eq!(created["object"]["sha"], fx.shas.c1.as_str());
    assert_eq!(created["object"]["type"], "commit");
    let base = fx.fake.base_url();
    assert_eq!(created["url"], format!("{base}{REPO}/git/refs/heads/topic"));
    assert_eq!(
        fx.ref_target("refs/heads/topic").as_deref(),
        Some(fx.shas.c1.as_str())
    );

    let again = alice.post(&format!("{REPO}/git/refs"), &body);
    assert_eq!(again.status, 422);
    assert_eq!(
        again.json(),
        json!({
            "message": "Reference already exists",
            "documentation_url": "https://docs.github.com/rest/git/refs#create-a-reference",
            "status": "422",
        })
    );
}

#[test]
fn a_ref_to_an_unknown_object_or_with_a_bad_name_is_422() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let cases = [
        (
            json!({"ref": "refs/heads/x", "sha": "0".repeat(40)}),
            "Object does not exist",
        ),
        (
            json!({"ref": "refs/heads/x", "sha": "abc"}),
            "Object does not exist",
        ),
        (
            json!({"ref": "heads/x", "sha": fx.shas.c1}),
            "Reference name is invalid",
        ),
        (
            json!({"ref": "refs/x", "sha": fx.shas.c1}),
            "Reference name is invalid",
        ),
        (
            json!({"ref": "refs/heads/a..b", "sha": fx.shas.c1}),
            "Reference name is invalid",
        ),
    ];
    for (body, message) in cases {
        let resp = alice.post(&format!("{REPO}/git/refs"), &body);
        assert_eq!(resp.status, 422, "{body}");
        assert_eq!(resp.json()["message"], message, "{body}");
    }
    assert!(fx.ref_target("refs/heads/x").is_none());
}

#[test]
fn a_ref_update_is_fast_forward_only_unless_forced() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let ff = alice.patch(
        &format!("{REPO}/git/refs/heads/stale"),
        &json!({"sha": fx.shas.c2}),
    );
    assert_eq!(ff.status, 200);
    assert_eq!(ff.json()["object"]["sha"], fx.shas.c2.as_str());
    assert_eq!(
        fx.ref_target("refs/heads/stale").as_deref(),
        Some(fx.shas.c2.as_str())
    );

    let path = format!("{REPO}/git/refs/heads/release/1.0");
    let rewind = alice.patch(&path, &json!({"sha": fx.shas.c4}));
    assert_eq!(rewind.status, 422);
    assert_eq!(rewind.json()["message"], "Update is not a fast forward");
    assert_eq!(
        fx.ref_target("refs/heads/release/1.0").as_deref(),
        Some(fx.shas.c3.as_str())
    );

    let forced = alice.patch(&path, &json!({"sha": fx.shas.c4, "force": true}));
    assert_eq!(forced.status, 200);
    assert_eq!(
        fx.ref_target("refs/heads/release/1.0").as_deref(),
        Some(fx.shas.c4.as_str())
    );

    let missing = alice.patch(
        &format!("{REPO}/git/refs/heads/nope"),
        &json!({"sha": fx.shas.c2}),
    );
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["message"], "Reference does not exist");
}

#[test]
fn refs_are_read_one_by_one_and_by_prefix() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let one = alice.get(&format!("{REPO}/git/ref/heads/release/1.0"));
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["object"]["sha"], fx.shas.c3.as_str());
    let missing = alice.get(&format!("{REPO}/git/ref/heads/nope"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "Not Found");

    let heads = alice.get(&format!("{REPO}/git/matching-refs/heads/"));
    assert_eq!(heads.status, 200);
    let names: Vec<_> = heads
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ref"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            "refs/heads/feature",
            "refs/heads/main",
            "refs/heads/release/1.0",
            "refs/heads/stale"
        ]
    );
    let none = alice.get(&format!("{REPO}/git/matching-refs/tags/v"));
    assert_eq!(none.json(), json!([]));
}

#[test]
fn a_tag_object_is_annotated_and_needs_its_own_ref() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let resp = alice.post(
        &format!("{REPO}/git/tags"),
        &json!({
            "tag": "v1.0.0",
            "message": "Release 1.0.0\n",
            "object": fx.shas.c3,
            "type": "commit",
            "tagger": {"name": "Rel Ease", "email": "rel@example.com", "date": "2026-11-21T09:00:00Z"},
        }),
    );
    assert_eq!(resp.status, 201);
    let tag = resp.json();
    let sha = tag["sha"].as_str().unwrap().to_owned();
    assert_eq!(tag["tag"], "v1.0.0");
    assert_eq!(
        tag["object"],
        json!({
            "sha": fx.shas.c3,
            "type": "commit",
            "url": format!("{}{REPO}/git/commits/{}", fx.fake.base_url(), fx.shas.c3),
        })
    );
    assert_eq!(tag["tagger"]["date"], "2026-11-21T09:00:00Z");

    let git = fx.git();
    let object = git.find_tag(git2::Oid::from_str(&sha).unwrap()).unwrap();
    assert_eq!(object.name().unwrap(), "v1.0.0");
    assert_eq!(object.message().unwrap(), Some("Release 1.0.0\n"));
    assert_eq!(object.target_id().to_string(), fx.shas.c3);
    assert_eq!(object.tagger().unwrap().name().unwrap(), "Rel Ease");
    assert!(
        fx.ref_target("refs/tags/v1.0.0").is_none(),
        "a tag object makes no ref"
    );

    let created = alice.post(
        &format!("{REPO}/git/refs"),
        &json!({"ref": "refs/tags/v1.0.0", "sha": sha}),
    );
    assert_eq!(created.status, 201);
    let read = alice.get(&format!("{REPO}/git/ref/tags/v1.0.0"));
    assert_eq!(read.json()["object"]["type"], "tag");
    assert_eq!(read.json()["object"]["sha"], sha.as_str());
    let fetched = alice.get(&format!("{REPO}/git/tags/{sha}"));
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), tag);
    assert_eq!(
        alice.get(&format!("{REPO}/git/tags/{}", fx.shas.c1)).status,
        404
    );
}

#[test]
fn a_tag_without_tagger_is_signed_by_the_caller() {
    let fx = fixture();
    let resp = fx.as_user("t-bob").post(
        &format!("{REPO}/git/tags"),
        &json!({"tag": "v2", "message": "m", "object": fx.shas.c2, "type": "commit"}),
    );
    assert_eq!(resp.status, 201);
    assert_eq!(resp.json()["tagger"]["name"], "bob");
    let bad = fx.as_user("t-bob").post(
        &format!("{REPO}/git/tags"),
        &json!({"tag": "v3", "message": "m", "object": fx.shas.c2, "type": "banana"}),
    );
    assert_eq!(bad.status, 422);
}

#[test]
fn a_commit_is_found_by_branch_tag_or_sha() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let main = alice.get(&format!("{REPO}/commits/main"));
    assert_eq!(main.status, 200);
    let body = main.json();
    assert_eq!(body["sha"], fx.shas.c2.as_str());
    assert_eq!(body["commit"]["message"], "second");
    assert_eq!(body["commit"]["author"]["email"], "tess@example.com");
    assert_eq!(body["parents"][0]["sha"], fx.shas.c1.as_str());
    assert_eq!(body["files"][0]["filename"], "README.md");
    let by_sha = alice.get(&format!("{REPO}/commits/{}", &fx.shas.c3[..10]));
    assert_eq!(by_sha.json()["sha"], fx.shas.c3.as_str());
    let by_branch_with_slash = alice.get(&format!("{REPO}/commits/release/1.0"));
    assert_eq!(by_branch_with_slash.json()["sha"], fx.shas.c3.as_str());
    let unknown = alice.get(&format!("{REPO}/commits/nope"));
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.json()["message"], "No commit found for SHA: nope");
}

#[test]
fn a_commit_links_a_seeded_email_to_its_account() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let body = alice.get(&format!("{REPO}/commits/release/1.0")).json();
    assert_eq!(body["commit"]["author"]["email"], "Alice@Example.com");
    let author = &body["author"];
    assert_eq!(author["login"], "alice");
    assert_eq!(author["type"], "User");
    assert_eq!(author["site_admin"], false);
    let base = fx.fake.base_url();
    assert_eq!(author["url"], format!("{base}/users/alice"));
    assert_eq!(
        body["committer"],
        Value::Null,
        "tess@example.com is no account's"
    );
    let comment = alice.post(&format!("{REPO}/issues/7/comments"), &json!({"body": "hi"}));
    assert_eq!(
        comment.json()["user"],
        *author,
        "the same account object as elsewhere"
    );
    let branch = alice.get(&format!("{REPO}/branches/release/1.0")).json();
    assert_eq!(branch["commit"]["author"]["login"], "alice");
}

/// Points `refs/heads/{branch}` (created or moved) at a new commit on c2 with these signatures.
fn push(fx: &Fixture, branch: &str, author: &Signature, committer: &Signature) {
    let git = fx.git();
    let c2 = git2::Oid::from_str(&fx.shas.c2).unwrap();
    let oid = support::commit(&git, (author, committer), "x.txt", branch, &[c2]);
    git.reference(&format!("refs/heads/{branch}"), oid, true, "push")
        .unwrap();
}

#[test]
fn noreply_emails_link_to_their_login() {
    let fx = fixture();
    let bob = signature("Bob", "bob@users.noreply.github.com");
    let bot = signature(
        "github-actions[bot]",
        "41898282+github-actions[bot]@users.noreply.github.com",
    );
    push(&fx, "noreply", &bob, &bot);
    let numbered = signature("Carol", "123456+Carol@Users.NoReply.GitHub.com");
    push(&fx, "numbered", &numbered, &tess());
    let alice = fx.as_user("t-alice");
    let body = alice.get(&format!("{REPO}/commits/noreply")).json();
    assert_eq!(body["author"]["login"], "bob");
    assert_eq!(body["committer"]["login"], "github-actions[bot]");
    assert_eq!(body["committer"]["type"], "Bot");
    let body = alice.get(&format!("{REPO}/commits/numbered")).json();
    assert_eq!(body["author"]["login"], "carol");
    assert_eq!(body["committer"], Value::Null);
}

#[test]
fn an_email_of_no_account_stays_null() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let main = alice.get(&format!("{REPO}/commits/main")).json();
    assert_eq!(main["commit"]["author"]["email"], "tess@example.com");
    assert_eq!(
        (&main["author"], &main["committer"]),
        (&Value::Null, &Value::Null)
    );
    // A known login without its email, an unknown login, an organisation, a non-numeric id.
    for email in [
        "bob@example.com",
        "mallory@users.noreply.github.com",
        "acme@users.noreply.github.com",
        "x+alice@users.noreply.github.com",
    ] {
        push(&fx, "unknown", &signature("Someone", email), &tess());
        let body = alice.get(&format!("{REPO}/commits/unknown")).json();
        assert_eq!(body["commit"]["author"]["email"], email);
        assert_eq!(body["author"], Value::Null, "{email}");
    }
}

#[test]
fn branches_and_their_protection() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let branch = alice.get(&format!("{REPO}/branches/release/1.0"));
    assert_eq!(branch.status, 200);
    assert_eq!(branch.json()["name"], "release/1.0");
    assert_eq!(branch.json()["commit"]["sha"], fx.shas.c3.as_str());
    assert_eq!(branch.json()["protected"], false);
    assert_eq!(
        alice.get(&format!("{REPO}/branches/main")).json()["protected"],
        true
    );

    let protection = alice.get(&format!("{REPO}/branches/main/protection"));
    assert_eq!(protection.status, 200);
    assert_eq!(
        protection.json()["allow_force_pushes"],
        json!({"enabled": false})
    );
    assert_eq!(
        protection.json()["allow_deletions"],
        json!({"enabled": false})
    );

    let unprotected = alice.get(&format!("{REPO}/branches/feature/protection"));
    assert_eq!(unprotected.status, 404);
    assert_eq!(unprotected.json()["message"], "Branch not protected");
    let missing = alice.get(&format!("{REPO}/branches/nope"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "Branch not found");
}

#[test]
fn protection_is_shown_to_administrators_only() {
    let fx = fixture();
    let path = format!("{REPO}/branches/main/protection");
    let bob = fx.as_user("t-bob").get(&path);
    assert_eq!(bob.status, 404);
    assert_eq!(bob.json()["message"], "Not Found");
    let app = fx.as_user("t-fork").get(&path);
    assert_eq!(app.status, 403);
    assert_eq!(
        app.json()["message"],
        "Resource not accessible by integration"
    );
}

#[test]
fn tests_can_protect_branches_and_set_ruleset_rules() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    fx.fake.protect_branch(
        "acme/widget",
        "feature",
        Some(fake_github::SeedProtection::new(true, false)),
    );
    let protection = alice.get(&format!("{REPO}/branches/feature/protection"));
    assert_eq!(protection.json()["allow_force_pushes"]["enabled"], true);
    fx.fake.protect_branch("acme/widget", "feature", None);
    let gone = alice.get(&format!("{REPO}/branches/feature/protection"));
    assert_eq!(gone.status, 404);

    let none = fx
        .as_user("t-carol")
        .get(&format!("{REPO}/rules/branches/shipgate/audit"));
    assert_eq!((none.status, none.json()), (200, json!([])));
    fx.fake.set_branch_rules(
        "acme/widget",
        "shipgate/audit",
        &["non_fast_forward", "deletion"],
    );
    let rules = fx
        .as_user("t-carol")
        .get(&format!("{REPO}/rules/branches/shipgate/audit"));
    assert_eq!(rules.json()[0]["type"], "non_fast_forward");
    assert_eq!(rules.json()[1]["type"], "deletion");
    assert_eq!(rules.json()[1]["ruleset_source"], "acme/widget");
}

#[test]
fn a_repository_without_git_dir_is_an_empty_bare_repository() {
    let seed = Seed::from_yaml_str(
        "tokens: [{ token: t, login: alice }]\nrepos: [{ full_name: acme/empty, default_branch: trunk }]",
    )
    .unwrap();
    let fake = FakeGitHub::start(seed).unwrap();
    let git = git2::Repository::open_bare(fake.git_dir("acme/empty")).unwrap();
    assert!(git.references().unwrap().next().is_none());
    let head = git.find_reference("HEAD").unwrap();
    assert_eq!(head.symbolic_target().unwrap(), Some("refs/heads/trunk"));
    let base = fake.base_url();
    let resp = crate::support::send(
        &base,
        "GET",
        "/repos/acme/empty/git/ref/heads/trunk",
        Some("Bearer t"),
        None,
    )
    .unwrap();
    assert_eq!(resp.status, 409);
    assert_eq!(resp.json()["message"], "Git Repository is empty.");
    let repo =
        crate::support::send(&base, "GET", "/repos/acme/empty", Some("Bearer t"), None).unwrap();
    assert_eq!(repo.json()["default_branch"], "trunk");
    assert_eq!(repo.json()["owner"]["type"], "Organization");
}

#[test]
fn pushes_behind_the_fakes_back_are_seen_at_once() {
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    assert_eq!(alice.get(&format!("{REPO}/git/ref/heads/late")).status, 404);
    let git = fx.git();
    let c1 = git2::Oid::from_str(&fx.shas.c1).unwrap();
    git.reference("refs/heads/late", c1, false, "push").unwrap();
    let resp = alice.get(&format!("{REPO}/git/ref/heads/late"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["object"]["sha"], fx.shas.c1.as_str());
}
