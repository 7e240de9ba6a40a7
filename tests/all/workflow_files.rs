//! Rules every workflow file of the project keeps, ours and the adopters' templates: no
//! `${{ }}` inside a `run:` body (an expression there is pasted into the script before the
//! shell parses it, so a branch name or comment could become shell code), a least-privilege
//! `permissions:` block on every job, and a `concurrency:` group so runs queue rather than
//! race. The ecosystem's linters (actionlint, check-jsonschema) run in `.ci/run`.

use std::path::PathBuf;

use serde_json::Value;

use crate::adoption_support::init_scaffold;
use crate::local_runner::project_root;

fn files() -> Vec<PathBuf> {
    let root = project_root();
    let mut files = vec![root.join("action.yml")];
    for dir in [
        ".github/workflows",
        "templates/workflows",
        "examples/workflows",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("workflow folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

fn parse(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).expect("read");
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every step of a workflow's jobs, or of a composite action.
fn steps(document: &Value) -> Vec<Value> {
    let mut steps = Vec::new();
    if let Some(composite) = document.pointer("/runs/steps").and_then(Value::as_array) {
        steps.extend(composite.iter().cloned());
    }
    if let Some(jobs) = document["jobs"].as_object() {
        for job in jobs.values() {
            steps.extend(job["steps"].as_array().into_iter().flatten().cloned());
        }
    }
    steps
}

#[test]
fn no_expression_is_pasted_into_a_run_body() {
    let mut checked = 0;
    for path in files() {
        for step in steps(&parse(&path)) {
            if let Some(script) = step["run"].as_str() {
                checked += 1;
                assert!(
                    !script.contains("${{"),
                    "{}: a run body contains ${{{{ }}}}; pass the value through env: instead:\n{script}",
                    path.display()
                );
            }
        }
    }
    assert!(checked >= 5, "only {checked} run bodies found");
}

#[test]
fn the_rule_catches_an_expression_in_a_run_body() {
    let hostile: Value = serde_yaml::from_str(
        "jobs:\n  a:\n    steps:\n      - run: echo \"${{ github.event.comment.body }}\"\n",
    )
    .expect("yaml");
    let bodies: Vec<String> = steps(&hostile)
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_owned))
        .collect();
    assert!(bodies.iter().any(|b| b.contains("${{")));
}

#[test]
fn every_job_has_least_privilege_permissions_and_a_concurrency_group() {
    for path in files().iter().filter(|p| !p.ends_with("action.yml")) {
        let workflow = parse(path);
        assert_eq!(
            workflow["permissions"]["contents"],
            "read",
            "{}: the workflow's default token is read-only",
            path.display()
        );
        for (name, job) in workflow["jobs"].as_object().expect("jobs") {
            assert!(
                workflow.get("concurrency").is_some() || job.get("concurrency").is_some(),
                "{}: job {name} is in no concurrency group",
                path.display()
            );
            let permissions = job["permissions"]
                .as_object()
                .unwrap_or_else(|| panic!("{}: job {name} has no permissions", path.display()));
            for (scope, level) in permissions {
                assert!(
                    [
                        "actions",
                        "attestations",
                        "contents",
                        "id-token",
                        "issues",
                        "pull-requests",
                        "statuses"
                    ]
                    .contains(&scope.as_str()),
                    "{}: job {name} asks for {scope}",
                    path.display()
                );
                assert!(level == "read" || level == "write", "{level}");
            }
        }
    }
}

/// Issue 15, lost commands: a workflow-level group is entered before a job's `if`, so a comment
/// without `/shipgate` would replace (cancel) a pending `/shipgate` run; on the job only the
/// comments the job acts on compete. Jobs that hold a key keep no credential in the clone.
#[test]
fn the_approve_and_ship_jobs_take_their_concurrency_group_and_no_persisted_credential() {
    for name in ["shipgate-approve.yml", "shipgate-ship.yml"] {
        for dir in [".github/workflows", "templates/workflows"] {
            let path = project_root().join(dir).join(name);
            let workflow = parse(&path);
            assert!(
                workflow.get("concurrency").is_none(),
                "{}: concurrency belongs on the job",
                path.display()
            );
            for (job_name, job) in workflow["jobs"].as_object().expect("jobs") {
                assert_eq!(
                    job["concurrency"]["cancel-in-progress"],
                    false,
                    "{}: job {job_name}",
                    path.display()
                );
                let checkout = steps(&workflow)
                    .into_iter()
                    .find(|s| {
                        s["uses"]
                            .as_str()
                            .is_some_and(|u| u.starts_with("actions/checkout@"))
                    })
                    .expect("a checkout");
                assert_eq!(
                    checkout["with"]["persist-credentials"],
                    false,
                    "{}: job {job_name}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn workflows_never_run_on_pull_request_target() {
    for path in files() {
        let text = std::fs::read_to_string(&path).expect("read");
        let workflow = parse(&path);
        assert!(
            workflow["on"].get("pull_request_target").is_none()
                && workflow["on"] != "pull_request_target",
            "{}: pull_request_target runs a fork's pull request with secrets",
            path.display()
        );
        assert!(!text.contains("pull_request_target:"), "{}", path.display());
    }
}

/// Every stable code the source defines (`=> "SOME_CODE"` arms of the code functions, and
/// `#[error("SOME_CODE: ...")]` messages), found by scanning `src/`.
#[test]
fn our_workflows_are_what_init_writes_for_the_action_at_the_root() {
    let scratch = init_scaffold(&["--action", "./", "--default-branch", "main"]);
    // The approve workflow too: it checks out the default branch only (DESIGN 13.9), so the
    // action at the root is the default branch's.
    for name in [
        "shipgate-plan.yml",
        "shipgate-approve.yml",
        "shipgate-ship.yml",
    ] {
        let ours = std::fs::read_to_string(project_root().join(".github/workflows").join(name));
        let written = std::fs::read_to_string(scratch.path().join(".github/workflows").join(name));
        assert_eq!(
            ours.expect("ours"),
            written.expect("init's"),
            "{name}: copy it from `shipgate init --action ./ --default-branch main` run in a scratch repository"
        );
    }
}
