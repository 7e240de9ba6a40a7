//! shipgate's own requests against GitHub's REST description (issue 16): every request the
//! flows send to the fake, with the workflow's `GITHUB_TOKEN` and with an administrator's
//! token, must name an operation of the vendored OpenAPI slice, use only its query
//! parameters, send a body its request schema accepts, and get a status code the operation
//! documents. The fake's response bodies are checked by the fake's own contract test.

use serde_json::Value;

use crate::adoption_support::{Adopted, online};
use crate::execute_flow::{execute, run_id};
use crate::fixture::assert_exit;
use crate::github_support::{ALICE, BOT};
use crate::mint_flow::MintWorld;

fn slice() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github/openapi-slice.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the vendored OpenAPI slice is missing (tests/data/github/README.md)",
            path.display()
        )
    });
    serde_json::from_slice(&bytes).expect("the slice is JSON")
}

/// Path parameters that may hold slashes (ref, branch and tag names).
const SLASHED: &[&str] = &["{ref}", "{branch}", "{tag}"];

fn matches(template: &[&str], path: &[&str]) -> bool {
    match (template.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((t, rest)), _) if SLASHED.contains(t) => {
            (1..=path.len()).any(|n| matches(rest, &path[n..]))
        }
        (Some((t, rest)), Some((p, path_rest))) => {
            let fits = if t.starts_with('{') {
                !p.is_empty()
            } else {
                t == p
            };
            fits && matches(rest, path_rest)
        }
        _ => false,
    }
}

/// The operation's template for a concrete path: the one with the most literal segments.
fn template_of<'a>(spec: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('/').collect();
    spec["paths"]
        .as_object()?
        .keys()
        .filter(|t| matches(&t.split('/').collect::<Vec<_>>(), &segments))
        .max_by_key(|t| t.split('/').filter(|s| !s.starts_with('{')).count())
        .map(String::as_str)
}

fn resolve<'a>(spec: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node["$ref"].as_str() {
        node = spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or(&Value::Null);
    }
    node
}

/// Appends how `value` falls short of `schema` (type, enum, required, properties).
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    for key in ["anyOf", "oneOf"] {
        if let Some(alternatives) = schema[key].as_array() {
            let fits = alternatives.iter().any(|alt| {
                let mut inner = Vec::new();
                check(spec, alt, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: no alternative of {key} accepts {value}"));
            }
            return;
        }
    }
    if value.is_null() && schema["nullable"] == Value::Bool(true) {
        return;
    }
    let fits = match schema["type"].as_str() {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    };
    if !fits {
        errors.push(format!("{at}: {value} is not a {}", schema["type"]));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(object) = value.as_object() {
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap_or_default();
            if !object.contains_key(field) {
                errors.push(format!("{at}: the required field {field} is missing"));
            }
        }
        let properties = &schema["properties"];
        for (key, item) in object {
            match properties.get(key) {
                Some(property) => check(spec, property, item, &format!("{at}.{key}"), errors),
                None if properties.is_object() => {
                    errors.push(format!("{at}: {key} is not a field of the request schema"));
                }
                None => {}
            }
        }
    }
}

/// Statuses GitHub answers that its description does not list for the operation, each with
/// why: the description documents 200 only for reading the workflow permissions, but GitHub
/// refuses a token without administration rights (a workflow's `GITHUB_TOKEN`) with 403.
const UNDOCUMENTED_STATUSES: &[(&str, u16)] =
    &[("/repos/{owner}/{repo}/actions/permissions/workflow", 403)];

/// Every way the logged requests fall short of the description.
fn violations(spec: &Value, requests: &[fake_github::LoggedRequest]) -> Vec<String> {
    let mut errors = Vec::new();
    for request in requests {
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        let method = request.method.to_lowercase();
        let at = format!("{} {path}", request.method);
        let Some(template) = template_of(spec, path) else {
            errors.push(format!("{at}: no path of the description"));
            continue;
        };
        let operation = &spec["paths"][template][&method];
        if !operation.is_object() {
            errors.push(format!("{at}: {template} has no {method}"));
            continue;
        }
        let declared: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(spec, p))
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split('=').next().unwrap_or_default();
            if !declared.contains(&key) {
                errors.push(format!("{at}: query parameter {key} is not declared"));
            }
        }
        let body_schema =
            &resolve(spec, &operation["requestBody"])["content"]["application/json"]["schema"];
        if body_schema.is_object() {
            match serde_json::from_str::<Value>(&request.body) {
                Ok(body) => check(spec, body_schema, &body, &format!("{at} body"), &mut errors),
                Err(e) => errors.push(format!("{at}: the body is not JSON ({e})")),
            }
        } else if !request.body.trim().is_empty() {
            errors.push(format!("{at}: a body where the operation takes none"));
        }
        let status = request.status.to_string();
        let excepted = UNDOCUMENTED_STATUSES.contains(&(template, request.status));
        if operation["responses"].get(&status).is_none() && !excepted {
            errors.push(format!(
                "{at}: status {status} is not documented for {template}"
            ));
        }
    }
    errors
}

#[track_caller]
fn assert_conforms(spec: &Value, requests: &[fake_github::LoggedRequest]) {
    assert!(!requests.is_empty(), "nothing was checked");
    let errors = violations(spec, requests);
    assert!(
        errors.is_empty(),
        "{} of {} requests break GitHub's description:\n{}",
        errors.len(),
        requests.len(),
        errors.join("\n")
    );
}

#[test]
fn the_flow_with_the_workflow_token_sends_only_requests_github_describes() {
    let spec = slice();
    let world = MintWorld::new();
    let pr = world.pr.to_string();
    assert_exit(
        &world.shipgate(&["dry-run", "--pr", &pr, ".shipgate/plans/release.yaml"]),
        0,
    );
    world.approve("alice");
    world.approve("bob");
    assert_exit(&world.mint(), 0);
    let run = run_id(&world);
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    assert_conforms(&spec, &world.github.fake.requests());

    let teams = MintWorld::with_teams();
    teams.approve("alice");
    teams.approve("dave");
    assert_exit(&teams.mint(), 0);
    assert_conforms(&spec, &teams.github.fake.requests());
}

#[test]
fn doctor_sends_only_requests_github_describes_with_either_token() {
    let spec = slice();
    let adopted = Adopted::with_init(&[
        "--approver",
        "alice",
        "--approver",
        "bob",
        "--team",
        "acme/release",
    ]);
    let world = adopted.serve();
    adopted.start_chain();
    for token in [ALICE, BOT] {
        adopted.doctor(&online(&world.fake.base_url(), token));
    }
    assert_conforms(&spec, &world.fake.requests());
}

#[test]
fn a_request_outside_the_description_is_caught() {
    let spec = slice();
    let logged = fake_github::LoggedRequest::new;
    let bad = [
        logged("GET", "/repos/acme/widget/nope", "", 200),
        logged(
            "POST",
            "/repos/acme/widget/git/tags",
            r#"{"tag":"v1","message":"m","object":"abc","type":"tag"}"#,
            201,
        ),
        logged("GET", "/repos/acme/widget/pulls?sort_by=x", "", 200),
        logged(
            "POST",
            "/repos/acme/widget/pulls",
            r#"{"title":"t","head":"a"}"#,
            201,
        ),
        logged("GET", "/repos/acme/widget", "", 418),
    ];
    assert_eq!(
        violations(&spec, &bad).len(),
        bad.len(),
        "{:#?}",
        violations(&spec, &bad)
    );
}
