//! The audit commands trust the policy's signers by default, read from the default branch,
//! and a new chain's genesis records the policy hash.

use crate::fixture::{TestRepo, git, stderr, stdout};

/// A repository whose committed policy names an audit key, with a bare `origin` reached
/// through git's receive-pack, and the key file.
fn governed_with_remote() -> (TestRepo, tempfile::TempDir, String) {
    let fixture = TestRepo::standard();
    let out = fixture.shipgate(&[
        "keys",
        "generate",
        "--kid",
        "audit-1",
        "--role",
        "audit",
        "--out",
        "audit.key",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let public = stdout(&out).lines().next().expect("public line").to_owned();
    let policy =
        format!("version: 1\nsigners:\n  - kid: audit-1\n    role: audit\n    key: {public}\n");
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", &policy)],
        "policy",
    );
    fixture.write(".shipgate/policies/policy.yaml", &policy);
    let remote = tempfile::tempdir().expect("remote dir");
    git(remote.path(), &["init", "--quiet", "--bare"]);
    git(
        fixture.path(),
        &[
            "remote",
            "add",
            "origin",
            remote.path().to_str().expect("utf-8"),
        ],
    );
    (fixture, remote, public)
}

#[test]
fn verify_and_export_signers_default_to_the_policy_signers() {
    let (fixture, _remote, public) = governed_with_remote();
    let note = fixture.shipgate(&[
        "audit",
        "note",
        "first entry",
        "--audit-key",
        "audit.key",
        "--repo-slug",
        "acme/widget",
    ]);
    assert_eq!(note.status.code(), Some(0), "{}", stderr(&note));

    let verify = fixture.shipgate(&["audit", "verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );

    let export = fixture.shipgate(&["audit", "export-signers"]);
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let key_material = public.split_whitespace().nth(1).expect("base64");
    assert!(
        stdout(&export).contains(key_material),
        "{}",
        stdout(&export)
    );

    let log = fixture.shipgate(&["audit", "log", "--format", "json"]);
    assert_eq!(log.status.code(), Some(0), "{}", stderr(&log));
    let genesis = stdout(&log)
        .lines()
        .last()
        .expect("the genesis entry")
        .to_owned();
    let check = fixture.shipgate(&["policy", "check", "--format", "json"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&check.stdout).expect("policy check json");
    let hash = summary["hash"].as_str().expect("hash");
    assert!(
        genesis.contains(&format!("\"policy_hash\":\"{hash}\"")),
        "{genesis} does not record {hash}"
    );
}

#[test]
fn a_policy_without_signers_is_not_silently_trusted() {
    let fixture = TestRepo::standard();
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", "version: 1\n")],
        "policy",
    );
    let out = fixture.shipgate(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("declares no signers"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn halt_and_resume_from_a_terminal_are_recorded_once_each() {
    let (fixture, _remote, _public) = governed_with_remote();
    let with_key = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--audit-key", "audit.key", "--repo-slug", "acme/widget"]);
        fixture.shipgate(&all)
    };
    let halt = with_key(&["halt", "--reason", "bad build in 1.4.0", "--by", "alice"]);
    assert_eq!(halt.status.code(), Some(0), "{}", stderr(&halt));
    assert!(
        stdout(&halt).contains("appended halted"),
        "{}",
        stdout(&halt)
    );

    let again = with_key(&["halt", "--reason", "still bad"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a second halt is refused: {}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("HALTED"), "{}", stderr(&again));

    // Resuming takes a halt admin's comment on GitHub (tests/all/resume_provenance.rs).
    let resume = with_key(&["resume", "--comment", "1"]);
    assert_eq!(resume.status.code(), Some(2), "{}", stderr(&resume));
    assert!(
        stderr(&resume).contains("GITHUB_TOKEN"),
        "{}",
        stderr(&resume)
    );

    let empty = with_key(&["halt", "--reason", "  "]);
    assert_eq!(empty.status.code(), Some(2));

    let verify = fixture.shipgate(&["audit", "verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    let log = stdout(&fixture.shipgate(&["audit", "log", "--format", "json"]));
    let kinds: Vec<&str> = ["\"type\":\"halted\"", "\"type\":\"genesis\""]
        .into_iter()
        .filter(|kind| log.contains(kind))
        .collect();
    assert_eq!(kinds.len(), 2, "{log}");
    assert!(log.contains("\"reason\":\"bad build in 1.4.0\""), "{log}");
}
