//! Contract: every body the fake serves carries every field GitHub's OpenAPI description marks
//! `required` for that response, with the declared JSON type (and enum value), at the top
//! level and two levels of nesting (DESIGN 11). The description is the slice vendored in
//! `tests/data/github/` (see its README); the test fails when it is missing.
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{REPO, Resp, fixture};

const DEPTH: usize = 3;

fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/github/openapi-slice.json")
}

struct Spec {
    doc: Value,
}

impl Spec {
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = reference.trim_start_matches('#');
            schema = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling {reference}"));
        }
        schema
    }

    fn response_schema(&self, method: &str, template: &str, status: u16) -> &Value {
        let operation = &self.doc["paths"][template][method];
        assert!(
            operation.is_object(),
            "no {method} {template} in the description"
        );
        let response = self.resolve(&operation["responses"][status.to_string()]);
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "no JSON schema for {method} {template} {status}"
        );
        schema
    }

    fn nullable(&self, schema: &Value) -> bool {
        let schema = self.resolve(schema);
        schema["nullable"] == json!(true)
            || schema["type"] == json!("null")
            || ["anyOf", "oneOf"].iter().any(|k| {
                schema[*k]
                    .as_array()
                    .is_some_and(|alts| alts.iter().any(|a| self.nullable(a)))
            })
    }

    /// Appends to `errors` every way `value` falls short of `schema`.
    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        if value.is_null() {
            if !self.nullable(schema) {
                errors.push(format!("{at}: null where the description allows none"));
            }
            return;
        }
        if let Some(parts) = schema["allOf"].as_array() {
            for part in parts {
                self.check(part, value, at, depth, errors);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alternatives) = schema[key].as_array() {
                let mut best: Option<Vec<String>> = None;
                for alternative in alternatives {
                    let mut found = Vec::new();
                    self.check(alternative, value, at, depth, &mut found);
                    if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                        best = Some(found);
                    }
                }
                errors.extend(best.unwrap_or_default());
            }
        }
        let kind = schema["type"].as_str();
        let type_ok = match kind {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            _ => true,
        };
        if !type_ok {
            errors.push(format!(
                "{at}: expected {}, got {value}",
                kind.unwrap_or("?")
            ));
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        if depth == 0 {
            return;
        }
        if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
            for (i, item) in values.iter().enumerate().take(3) {
                self.check(items, item, &format!("{at}[{i}]"), depth, errors);
            }
        }
        if let Some(object) = value.as_object() {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    errors.push(format!("{at}: missing required `{name}`"));
                }
            }
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    if let Some(field) = object.get(name) {
                        self.check(property, field, &format!("{at}.{name}"), depth - 1, errors);
                    }
                }
            }
        }
    }
}

/// One served response and the operation of the description it answers.
struct Served {
    method: &'static str,
    template: &'static str,
    resp: Resp,
}

fn served(method: &'static str, template: &'static str, resp: Resp) -> Served {
    Served {
        method,
        template,
        resp,
    }
}

#[test]
fn every_served_body_has_the_fields_the_openapi_description_requires() {
    let path = spec_path();
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the vendored slice of GitHub's OpenAPI description is missing \
             (regenerate it as tests/data/github/README.md says)",
            path.display()
        )
    });
    let spec = Spec {
        doc: serde_json::from_slice(&bytes).unwrap(),
    };
    let fx = fixture();
    let alice = fx.as_user("t-alice");
    let bot = fx.as_user("t-bot");
    let r = |suffix: &str| format!("{REPO}{suffix}");

    let tag = alice
        .post(
            &r("/git/tags"),
            &json!({"tag": "v1", "message": "m", "object": fx.shas.c2, "type": "commit"}),
        )
        .json();
    let comment = alice.post(&r("/issues/7/comments"), &json!({"body": "hi"}));
    let comment_id = comment.json()["id"].as_u64().unwrap();
    let release = alice.post(
        &r("/releases"),
        &json!({"tag_name": "v1.0", "body": "notes"}),
    );
    let release_id = release.json()["id"].as_u64().unwrap();
    let reactions = format!("/issues/comments/{comment_id}/reactions");
    fx.fake
        .set_branch_rules("acme/widget", "main", &["non_fast_forward", "deletion"]);

    let all = vec![
        served("get", "/repos/{owner}/{repo}", alice.get(REPO)),
        served(
            "get",
            "/repos/{owner}/{repo}/git/ref/{ref}",
            alice.get(&r("/git/ref/heads/main")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/git/ref/{ref}",
            alice.get(&r("/git/ref/heads/nope")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/git/matching-refs/{ref}",
            alice.get(&r("/git/matching-refs/heads/")),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/git/refs",
            alice.post(
                &r("/git/refs"),
                &json!({"ref": "refs/tags/v1", "sha": tag["sha"]}),
            ),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/git/refs",
            alice.post(
                &r("/git/refs"),
                &json!({"ref": "refs/tags/v1", "sha": tag["sha"]}),
            ),
        ),
        served(
            "patch",
            "/repos/{owner}/{repo}/git/refs/{ref}",
            alice.patch(&r("/git/refs/heads/stale"), &json!({"sha": fx.shas.c2})),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/git/tags",
            alice.post(
                &r("/git/tags"),
                &json!({"tag": "v2", "message": "m", "object": fx.shas.c3, "type": "commit"}),
            ),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/git/tags/{tag_sha}",
            alice.get(&r(&format!("/git/tags/{}", tag["sha"].as_str().unwrap()))),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}",
            alice.get(&r("/commits/main")),
        ),
        // Authored by an account (a simple-user), committed by an email of none (null).
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}",
            alice.get(&r("/commits/release/1.0")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}",
            alice.get(&r("/commits/nope")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/branches/{branch}",
            alice.get(&r("/branches/main")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            alice.get(&r("/branches/main/protection")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            alice.get(&r("/branches/feature/protection")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/rules/branches/{branch}",
            alice.get(&r("/rules/branches/main")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/rules/branches/{branch}",
            alice.get(&r("/rules/branches/shipgate/audit")),
        ),
        served("post", "/repos/{owner}/{repo}/releases", release),
        served(
            "post",
            "/repos/{owner}/{repo}/releases",
            alice.post(&r("/releases"), &json!({"tag_name": "v1.0"})),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/releases",
            alice.get(&r("/releases")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/releases/tags/{tag}",
            alice.get(&r("/releases/tags/v1.0")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/releases/tags/{tag}",
            alice.get(&r("/releases/tags/nope")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/releases/{release_id}",
            alice.get(&r(&format!("/releases/{release_id}"))),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/pulls",
            alice.post(
                &r("/pulls"),
                &json!({"title": "F", "head": "feature", "base": "main"}),
            ),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/pulls",
            alice.post(
                &r("/pulls"),
                &json!({"title": "F", "head": "feature", "base": "main"}),
            ),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/pulls",
            alice.get(&r("/pulls")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            alice.get(&r("/pulls/7")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            alice.get(&r("/pulls/99")),
        ),
        // Authored by an account, committed by an email of none (null).
        served(
            "get",
            "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
            alice.get(&r("/pulls/7/commits")),
        ),
        served("get", "/user", alice.get("/user")),
        served(
            "post",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            comment,
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            alice.get(&r("/issues/7/comments")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            alice.get(&r("/issues/99/comments")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            alice.get(&r(&format!("/issues/comments/{comment_id}"))),
        ),
        served(
            "patch",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            alice.patch(
                &r(&format!("/issues/comments/{comment_id}")),
                &json!({"body": "edited"}),
            ),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            alice.post(&r(&reactions), &json!({"content": "+1"})),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            alice.post(&r(&reactions), &json!({"content": "+1"})),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
            alice.get(&r(&reactions)),
        ),
        served(
            "post",
            "/repos/{owner}/{repo}/statuses/{sha}",
            bot.post(
                &r(&format!("/statuses/{}", fx.shas.c3)),
                &json!({"state": "pending", "context": "shipgate", "description": "d"}),
            ),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}/status",
            alice.get(&r("/commits/release/1.0/status")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}/status",
            alice.get(&r("/commits/nope/status")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/commits/{ref}/statuses",
            alice.get(&r("/commits/release/1.0/statuses")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            alice.get(&r("/collaborators/bob/permission")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/collaborators/{username}/permission",
            alice.get(&r("/collaborators/mallory/permission")),
        ),
        served(
            "get",
            "/orgs/{org}/teams/{team_slug}/memberships/{username}",
            alice.get("/orgs/acme/teams/release/memberships/bob"),
        ),
        // Token kinds (issue 16): the workflow's GITHUB_TOKEN, an app that may read members.
        served("get", "/repos/{owner}/{repo}", bot.get(REPO)),
        served(
            "post",
            "/repos/{owner}/{repo}/pulls",
            bot.post(
                &r("/pulls"),
                &json!({"title": "t", "head": "feature", "base": "main"}),
            ),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/actions/permissions/workflow",
            alice.get(&r("/actions/permissions/workflow")),
        ),
        served(
            "get",
            "/orgs/{org}/teams/{team_slug}",
            alice.get("/orgs/acme/teams/release"),
        ),
        served(
            "get",
            "/orgs/{org}/teams/{team_slug}",
            bot.get("/orgs/acme/teams/release"),
        ),
        served(
            "get",
            "/orgs/{org}/teams/{team_slug}/memberships/{username}",
            fx.as_user("t-app")
                .get("/orgs/acme/teams/release/memberships/dave"),
        ),
        // Merging (issue 16), last: it closes #7.
        served(
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            alice.send(
                "PUT",
                &r("/pulls/7/merge"),
                Some(&json!({"sha": fx.shas.c1}).to_string()),
            ),
        ),
        served(
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            alice.send("PUT", &r("/pulls/7/merge"), Some("{}")),
        ),
        served(
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            alice.send("PUT", &r("/pulls/7/merge"), Some("{}")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            alice.get(&r("/pulls/7")),
        ),
        served(
            "get",
            "/repos/{owner}/{repo}/pulls",
            alice.get(&r("/pulls?state=closed")),
        ),
    ];

    let mut errors = Vec::new();
    let mut statuses = Vec::new();
    for Served {
        method,
        template,
        resp,
    } in &all
    {
        statuses.push((*template, resp.status));
        let schema = spec.response_schema(method, template, resp.status);
        let at = format!("{} {template} {}", method.to_uppercase(), resp.status);
        spec.check(schema, &resp.json(), &at, DEPTH, &mut errors);
    }
    assert!(
        errors.is_empty(),
        "{} contract violations:\n{}",
        errors.len(),
        errors.join("\n")
    );
    // The run covered successes and GitHub's error responses alike.
    for status in [200, 201, 403, 404, 405, 409, 422] {
        assert!(
            statuses.iter().any(|(_, s)| *s == status),
            "no {status} checked"
        );
    }
}

/// The vendored GitHub data stays small, and its README accounts for every file.
#[test]
fn the_vendored_github_data_is_small_and_each_file_has_its_source_named() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/github");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut total = 0;
    let mut files = 0;
    let mut pending = vec![dir.clone()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            total += std::fs::metadata(&path).unwrap().len();
            files += 1;
            let name = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            assert!(
                name == "README.md" || readme.contains(&name),
                "{name} is not named in tests/data/github/README.md"
            );
        }
    }
    assert!(files >= 12, "only {files} files");
    assert!(total < 1_000_000, "{total} bytes of vendored GitHub data");
}
