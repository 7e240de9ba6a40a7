//! `shipgate doctor`: one test per misconfiguration it claims to catch, each asserting the
//! finding's code and the exit code.

use crate::adoption_support::{Adopted, findings, online};
use crate::fixture::{assert_exit, git, stdout};
use crate::github_support::{ALICE, BOT, GitHubWorld, SLUG};

fn has(findings: &[(String, String)], code: &str, severity: &str) -> bool {
    findings.iter().any(|(c, s)| c == code && s == severity)
}

#[track_caller]
fn assert_finding(
    result: &(Option<i32>, Vec<(String, String)>),
    exit: i32,
    code: &str,
    severity: &str,
) {
    assert_eq!(result.0, Some(exit), "{:?}", result.1);
    assert!(
        has(&result.1, code, severity),
        "no {severity} {code}: {:?}",
        result.1
    );
}

#[test]
fn an_invalid_policy_is_a_problem() {
    let adopted = Adopted::new();
    adopted.append_to_policy("bogus: true\n");
    adopted.commit_all("break the policy");
    assert_finding(&adopted.doctor(&[]), 1, "POLICY_INVALID", "problem");
}

#[test]
fn a_policy_only_in_the_work_tree_is_missing_from_the_default_branch() {
    // init wrote the policy, but it was never committed.
    let adopted = Adopted::initialised(&["--approver", "alice", "--approver", "bob"]);
    let result = adopted.doctor(&[]);
    assert_finding(&result, 1, "POLICY_MISSING", "problem");
}

#[test]
fn an_uncommitted_policy_change_is_a_warning() {
    let adopted = Adopted::new();
    adopted.append_to_policy(
        "deny:\n  - name: no nightlies\n    match: { kinds: [tag], refs: [nightly] }\n    reason: not from here\n",
    );
    let result = adopted.doctor(&[]);
    assert_finding(&result, 0, "POLICY_UNCOMMITTED", "warning");
}

#[test]
fn a_missing_signer_role_is_a_problem() {
    let adopted = Adopted::initialised(&["--approver", "alice", "--approver", "bob"]);
    let mint = adopted.generate("mint-test", "mint");
    adopted.append_to_policy(&format!("signers:\n{mint}"));
    adopted.commit_all("only a mint key");
    let result = adopted.doctor(&[]);
    assert_finding(&result, 1, "SIGNER_MISSING", "problem");
    assert!(has(&result.1, "SIGNER_OK", "ok"), "the mint signer is fine");
}

#[test]
fn a_retired_signer_is_a_problem() {
    let adopted = Adopted::initialised(&["--approver", "alice", "--approver", "bob"]);
    let mint = adopted.generate("mint-test", "mint");
    let audit = adopted.generate("audit-test", "audit");
    adopted.append_to_policy(&format!(
        "signers:\n{}    not_after: 2020-01-01T00:00:00Z\n{audit}",
        mint
    ));
    adopted.commit_all("a retired mint key");
    let result = adopted.doctor(&[]);
    assert_finding(&result, 1, "SIGNER_EXPIRED", "problem");
    assert_finding(&result, 1, "KEY_RETIRED", "problem");
}

#[test]
fn a_key_in_the_environment_that_is_not_the_policys_is_a_problem() {
    let adopted = Adopted::new();
    let other = tempfile::tempdir().expect("temp dir");
    let file = other.path().join("other.key");
    let out = adopted.shipgate(&[
        "keys",
        "generate",
        "--kid",
        "mint-test",
        "--role",
        "mint",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert_exit(&out, 0);
    let private = std::fs::read_to_string(&file).expect("key");
    let out = adopted.shipgate_env(
        &["doctor", "--format", "json"],
        &[("SHIPGATE_MINT_KEY", private.as_str())],
    );
    let result = findings(&out);
    assert_finding(&result, 1, "KEY_MISMATCH", "problem");
    assert!(
        has(&result.1, "KEY_NOT_GIVEN", "skipped"),
        "no audit key given"
    );
    let secret_line = private.lines().nth(1).expect("a key body line");
    assert!(
        !stdout(&out).contains(secret_line),
        "doctor printed the private key"
    );
}

#[test]
fn a_missing_workflow_is_a_problem() {
    let adopted = Adopted::new();
    git(
        adopted.path(),
        &["rm", "-q", ".github/workflows/shipgate-approve.yml"],
    );
    adopted.commit_all("drop the approve workflow");
    assert_finding(&adopted.doctor(&[]), 1, "WORKFLOW_MISSING", "problem");
}

#[test]
fn a_governance_branch_not_created_yet_is_a_warning() {
    let adopted = Adopted::new();
    let _world = adopted.serve();
    assert_finding(
        &adopted.doctor(&[]),
        0,
        "GOVERNANCE_BRANCH_MISSING",
        "warning",
    );
}

#[test]
fn a_tampered_governance_branch_is_a_problem() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    adopted.start_chain();
    assert_finding(&adopted.doctor(&[]), 0, "GOVERNANCE_BRANCH_OK", "ok");
    // An unsigned commit appended on the remote, as someone with push access could.
    let bare = world.bare.path();
    let head = git(bare, &["rev-parse", "refs/heads/shipgate/audit"]);
    let head = stdout(&head).trim().to_owned();
    let forged = git(
        bare,
        &[
            "-c",
            "user.name=Mallory",
            "-c",
            "user.email=m@example.com",
            "commit-tree",
            &format!("{head}^{{tree}}"),
            "-p",
            &head,
            "-m",
            "forged",
        ],
    );
    let forged = stdout(&forged).trim().to_owned();
    git(bare, &["update-ref", "refs/heads/shipgate/audit", &forged]);
    assert_finding(
        &adopted.doctor(&[]),
        1,
        "GOVERNANCE_BRANCH_INVALID",
        "problem",
    );
}

/// Classic branch protection for the governance branch on the fake GitHub.
fn protect_chain(world: &GitHubWorld, protection: fake_github::SeedProtection) {
    world
        .fake
        .protect_branch(SLUG, "shipgate/audit", Some(protection));
}

#[test]
fn an_unprotected_governance_branch_is_a_problem() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    adopted.start_chain();
    assert_finding(
        &adopted.doctor_online(&world, ALICE),
        1,
        "BRANCH_UNPROTECTED",
        "problem",
    );
}

#[test]
fn protection_that_allows_force_pushes_is_a_problem() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    adopted.start_chain();
    protect_chain(&world, fake_github::SeedProtection::new(true, false));
    let result = adopted.doctor_online(&world, ALICE);
    assert_finding(&result, 1, "FORCE_PUSH_ALLOWED", "problem");
    assert!(
        !result.1.iter().any(|(c, _)| c == "DELETION_ALLOWED"),
        "{:?}",
        result.1
    );

    protect_chain(&world, fake_github::SeedProtection::default());
    assert_finding(
        &adopted.doctor_online(&world, ALICE),
        0,
        "BRANCH_PROTECTED",
        "ok",
    );
}

#[test]
fn protection_a_token_may_not_read_is_a_warning_not_a_pass() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    adopted.start_chain();
    protect_chain(&world, fake_github::SeedProtection::default());
    // bob may write but does not administer the repository.
    let result = adopted.doctor_online(&world, "t-bob");
    assert_finding(&result, 0, "PROTECTION_UNREADABLE", "warning");
    assert_finding(&result, 0, "TOKEN_CAN_PUSH", "ok");
}

#[test]
fn a_token_that_cannot_push_is_a_problem() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    world
        .fake
        .set_branch_rules(SLUG, "shipgate/audit", &["non_fast_forward", "deletion"]);
    // carol has read access only.
    let result = adopted.doctor_online(&world, "t-carol");
    assert_finding(&result, 1, "TOKEN_CANNOT_PUSH", "problem");
    assert!(
        has(&result.1, "BRANCH_PROTECTED", "ok"),
        "rulesets are readable: {:?}",
        result.1
    );
}

#[test]
fn an_unreachable_github_exits_3() {
    let adopted = Adopted::new();
    let result = adopted.doctor(&online("http://127.0.0.1:9", ALICE));
    assert_finding(&result, 3, "GITHUB_UNREACHABLE", "unreachable");
}

#[test]
fn doctor_writes_its_report_to_the_job_summary() {
    let adopted = Adopted::new();
    let summary = tempfile::NamedTempFile::new().expect("temp file");
    let path = summary.path().to_str().expect("utf-8").to_owned();
    let out = adopted.shipgate_env(&["doctor"], &[("GITHUB_STEP_SUMMARY", path.as_str())]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("ok          POLICY_OK"), "{text}");
    let markdown = std::fs::read_to_string(summary.path()).expect("summary");
    assert!(markdown.starts_with("## shipgate doctor"), "{markdown}");
    assert!(markdown.contains("`KEY_NOT_GIVEN`"), "{markdown}");
}

#[test]
fn tags_anyone_may_push_are_a_warning_until_a_tag_ruleset_restricts_creation() {
    let adopted = Adopted::new();
    let world = adopted.serve();
    adopted.start_chain();
    protect_chain(&world, fake_github::SeedProtection::default());
    assert_finding(
        &adopted.doctor_online(&world, ALICE),
        0,
        "TAGS_UNPROTECTED",
        "warning",
    );
    // A tag ruleset that only blocks deletion does not stop a writer from tagging.
    world
        .fake
        .add_tag_ruleset(SLUG, "keep tags", &["~ALL"], &["deletion"]);
    assert_finding(
        &adopted.doctor_online(&world, ALICE),
        0,
        "TAGS_UNPROTECTED",
        "warning",
    );
    world.fake.add_tag_ruleset(
        SLUG,
        "release tags",
        &["refs/tags/v*"],
        &["creation", "update", "deletion"],
    );
    // A writer's token reads rulesets too.
    let result = adopted.doctor_online(&world, "t-bob");
    assert_finding(&result, 0, "TAGS_PROTECTED", "ok");
    assert!(
        !has(&result.1, "TAGS_UNPROTECTED", "warning"),
        "{:?}",
        result.1
    );
}

/// When the policy lets pull requests ship, doctor checks that workflows may open them: the
/// setting, read with an administrator's token, or GitHub's answer to the workflow token,
/// which may not read it; a team the token cannot read is a problem too (issue 16).
#[test]
fn pull_requests_workflows_may_not_open_and_teams_the_token_cannot_read_are_problems() {
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
    protect_chain(&world, fake_github::SeedProtection::default());
    let admin = adopted.doctor_online(&world, ALICE);
    assert_finding(&admin, 0, "TOKEN_CAN_OPEN_PULL_REQUEST", "ok");
    assert_finding(&admin, 0, "TEAM_READABLE", "ok");

    let workflow = adopted.doctor_online(&world, BOT);
    assert_finding(&workflow, 1, "TEAM_MEMBERSHIP_UNREADABLE", "problem");
    assert_finding(&workflow, 1, "TOKEN_CAN_OPEN_PULL_REQUEST", "ok");

    world.fake.set_workflow_permissions(
        SLUG,
        fake_github::SeedWorkflowPermissions::allowing_pull_requests(false),
    );
    let admin = adopted.doctor_online(&world, ALICE);
    assert_finding(&admin, 1, "TOKEN_CANNOT_OPEN_PULL_REQUEST", "problem");
    let workflow = adopted.doctor_online(&world, BOT);
    assert_finding(&workflow, 1, "TOKEN_CANNOT_OPEN_PULL_REQUEST", "problem");
    assert_eq!(world.fake.pulls(SLUG).len(), 0, "asking created nothing");
}
