//! `shipgate dry-run`, `plan id` and `policy check` end to end: the built binary in a real
//! temporary repository, its outputs in every format, its exit codes, and proof that a
//! dry-run changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::fixture::{SIGNER_KEY, TestRepo, stderr, stdout};

const POLICY: &str = "\
version: 1
extends: [shipgate:two-person-release]
groups:
  release-managers: { users: [alice, bob] }
freeze:
  - name: year-end freeze
    from: 2026-12-20T00:00:00Z
    until: 2027-01-04T00:00:00Z
";

const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
  - kind: release
    tag: v1.1.0
    notes_file: CHANGELOG.md
";

/// The standard fixture with a committed policy (with signers) and a plan in the work tree.
fn governed_repo() -> TestRepo {
    let fixture = TestRepo::standard();
    let policy = format!(
        "{POLICY}signers:\n  - kid: mint-1\n    role: mint\n    key: {SIGNER_KEY}\n  - kid: audit-1\n    role: audit\n    key: {SIGNER_KEY}\n"
    );
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", &policy)],
        "add the policy",
    );
    fixture.write(".shipgate/policies/policy.yaml", &policy);
    fixture.write(".shipgate/plans/release.yaml", PLAN);
    fixture
}

const FIXED: [&str; 4] = ["--repo-slug", "acme/widget", "--at", "2026-11-23T12:00:00Z"];

fn dry_run(fixture: &TestRepo, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["dry-run"];
    args.extend(FIXED);
    args.extend(extra);
    fixture.shipgate(&args)
}

#[test]
fn text_report_shows_plan_id_verdicts_approvals_and_banner() {
    let fixture = governed_repo();
    let out = dry_run(&fixture, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("dry_run_text", stdout(&out));
}

#[test]
fn markdown_report_is_stable() {
    let fixture = governed_repo();
    let out = dry_run(&fixture, &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("dry_run_markdown", stdout(&out));
}

#[test]
fn json_report_carries_everything_a_machine_needs() {
    let fixture = governed_repo();
    let out = dry_run(&fixture, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["mode"], "dry_run");
    assert_eq!(report["banner"], "DRY RUN - nothing was shipped");
    assert_eq!(report["repository"], "acme/widget");
    assert_eq!(report["blocked"], false);
    assert_eq!(report["policy"]["source"]["from"], "default_branch");
    let plan = &report["plans"][0];
    let id = plan["plan_id"].as_str().expect("plan id");
    assert!(id.starts_with("sha256:") && id.len() == 71);
    assert_eq!(
        plan["approve_command"],
        format!("/shipgate approve {}", &id[7..19])
    );
    let ops = plan["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[0]["key"], "tag:v1.1.0");
    assert_eq!(ops[0]["verdict"], "would_ship_after_approval");
    assert_eq!(ops[1]["approvals"][0]["required"], 2);
}

#[test]
fn a_blocked_operation_exits_1_and_says_why() {
    let fixture = governed_repo();
    let out = fixture.shipgate(&[
        "dry-run",
        "--repo-slug",
        "acme/widget",
        "--at",
        "2026-12-24T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("verdict: blocked: FROZEN - A release freeze is in effect."),
        "{text}"
    );
    assert!(text.contains("DRY RUN - nothing was shipped"));
}

#[test]
fn bad_input_exits_2_with_file_line_and_column() {
    let fixture = governed_repo();
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\noperations:\n  - kind: tag\n    name: v1 1\n    target: main\n",
    );
    let out = dry_run(&fixture, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error[INVALID_REF_NAME]"), "{err}");
    assert!(
        err.contains("--> .shipgate/plans/release.yaml:4:11"),
        "{err}"
    );
    assert!(err.contains("= hint:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = fixture.shipgate(&["dry-run", "--at", "next tuesday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--at"), "{}", stderr(&out));
}

#[test]
fn json_format_reports_input_errors_as_json_too() {
    let fixture = governed_repo();
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\noperations:\n  - kind: tag\n    name: v1 1\n    target: main\n",
    );
    let out = dry_run(&fixture, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let error = &report["errors"][0];
    assert_eq!(
        (
            error["kind"].as_str(),
            error["line"].as_u64(),
            error["column"].as_u64()
        ),
        (Some("INVALID_REF_NAME"), Some(4), Some(11))
    );
    assert_eq!(error["file"], ".shipgate/plans/release.yaml");
    assert!(
        stderr(&out).contains("error[INVALID_REF_NAME]"),
        "humans still read stderr"
    );
}

#[test]
fn no_plans_is_bad_input() {
    let fixture = TestRepo::standard();
    let out = fixture.shipgate(&["dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error[NO_PLANS]"), "{}", stderr(&out));
}

#[test]
fn outside_a_repository_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = crate::fixture::shipgate_in(
        dir.path(),
        &["dry-run", "--repo", dir.path().to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no git repository"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_committed_policy_wins_over_a_weaker_work_tree_copy() {
    let fixture = governed_repo();
    // The committed policy has a freeze; the work tree's copy quietly drops it.
    let weak = POLICY.split("freeze:").next().expect("prefix").to_owned();
    fixture.write(".shipgate/policies/policy.yaml", &weak);
    let frozen_day = [
        "dry-run",
        "--repo-slug",
        "acme/widget",
        "--at",
        "2026-12-24T00:00:00Z",
    ];

    let out = fixture.shipgate(&frozen_day);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the committed freeze must still block"
    );
    assert!(stdout(&out).contains("from main at"), "{}", stdout(&out));

    let mut local = frozen_day.to_vec();
    local.push("--policies-from-worktree");
    let out = fixture.shipgate(&local);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("in the work tree (--policies-from-worktree"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_policy_on_another_branch_is_not_read() {
    let fixture = governed_repo();
    // A PR branch that deletes the deny rule's preset and allows everything is ignored.
    fixture.commit(
        "weaken",
        &[(".shipgate/policies/policy.yaml", "version: 1\n")],
        "weaken",
    );
    let out = dry_run(&fixture, &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["policy"]["presets"][0],
        "shipgate:two-person-release"
    );
}

/// Every file under the repository (the `.git` directory included) with a digest of its
/// content and its length: any write to refs, objects, the index or the work tree shows.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read");
                let digest = Sha256::digest(&bytes);
                let rel = path
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, format!("{}:{digest:x}", bytes.len()));
            }
        }
    }
    files
}

#[test]
fn a_dry_run_writes_nothing_to_the_repository() {
    let fixture = governed_repo();
    let before = snapshot(fixture.path());
    for extra in [
        &[][..],
        &["--format", "json"],
        &["--format", "markdown"],
        &["--policies-from-worktree"],
    ] {
        let out = dry_run(&fixture, extra);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let blocked = fixture.shipgate(&["dry-run", "--at", "2026-12-24T00:00:00Z"]);
    assert_eq!(blocked.status.code(), Some(1));
    assert_eq!(
        before,
        snapshot(fixture.path()),
        "a dry-run changed the repository"
    );
}

#[test]
fn policy_check_validates_a_directory() {
    let fixture = governed_repo();
    let out = fixture.shipgate(&["policy", "check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("policy OK: 1 file(s), presets [shipgate:two-person-release]"),
        "{}",
        stdout(&out)
    );

    fixture.write(
        ".shipgate/policies/broken.yaml",
        "version: 1\nrules:\n  - name: r\n    approvals: { required: 1, from: [nobody] }\n",
    );
    let out = fixture.shipgate(&["policy", "check", ".shipgate/policies"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error[UNKNOWN_GROUP]"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("broken.yaml:4:38"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hostile_plan_text_is_escaped_in_markdown() {
    let fixture = governed_repo();
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\nname: \"<script>alert(1)</script> @everyone [x](http://evil)\"\noperations:\n  - kind: tag\n    name: v1.1.0\n    target: main\n    message: hi\n",
    );
    let out = dry_run(&fixture, &["--format", "markdown"]);
    let md = stdout(&out);
    assert!(!md.contains("<script>"), "{md}");
    assert!(!md.contains("@everyone"), "{md}");
    assert!(!md.contains("[x](http"), "{md}");
}
