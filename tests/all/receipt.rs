//! Receipts interoperate with stock OpenSSH: `ssh-keygen -Y verify -n shipgate-receipt`
//! accepts the exact signed payload and the armoured signature, and rejects a changed payload.

use std::process::{Command, Stdio};

use shipgate::receipt::{ReceiptApproval, ReceiptClaims};
use ssh_key::rand_core::OsRng;

fn claims() -> ReceiptClaims {
    ReceiptClaims {
        version: 1,
        receipt_id: "rcp_interop".into(),
        repo: "acme/widget".into(),
        plan_id: format!("sha256:{}", "12".repeat(32)),
        run_id: "run_interop".into(),
        op_index: 1,
        op_kind: "release".into(),
        op_key: "release:v1.4.0".into(),
        policy_hash: format!("sha256:{}", "34".repeat(32)),
        approvals: vec![ReceiptApproval {
            login: "alice".into(),
            comment_id: 7,
            at: "2026-11-23T10:00:00Z".into(),
        }],
        enforceable: true,
        findings: vec![],
        issued_at: "2026-11-23T10:05:00Z".into(),
        expires_at: "2026-11-24T10:05:00Z".into(),
        nonce: "5b8e".into(),
    }
}

/// Stock OpenSSH's verdict on `receipt.sig` over `payload`, trusting `allowed_signers` in `dir`
/// for the key id `mint-1`.
pub fn ssh_keygen_verify(dir: &std::path::Path, payload: &[u8]) -> bool {
    let mut child = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-f",
            "allowed_signers",
            "-I",
            "mint-1",
            "-n",
            "shipgate-receipt",
            "-s",
            "receipt.sig",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-keygen is installed (.ci/run installs openssh-client)");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), payload)
        .expect("write payload");
    child.wait().expect("ssh-keygen ran").success()
}

#[test]
fn stock_ssh_keygen_verifies_a_receipt_and_rejects_a_changed_one() {
    let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).expect("key");
    let receipt = claims().sign_sshsig("mint-1", &key).expect("sign");
    let dir = tempfile::tempdir().expect("temp dir");
    let public = key.public_key().to_openssh().expect("public key");
    std::fs::write(
        dir.path().join("allowed_signers"),
        format!("mint-1 namespaces=\"shipgate-receipt\" {public}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("receipt.sig"),
        receipt.armored_signature().expect("sshsig"),
    )
    .expect("write");

    let payload = receipt.signed_payload().expect("payload");
    assert!(
        ssh_keygen_verify(dir.path(), &payload),
        "ssh-keygen rejected a genuine receipt"
    );

    let mut changed = receipt.clone();
    changed.claims.op_key = "release:v9.9.9".into();
    assert!(
        !ssh_keygen_verify(dir.path(), &changed.signed_payload().expect("payload")),
        "ssh-keygen accepted a changed receipt"
    );
}

#[test]
fn receipt_commands_verify_show_and_export_against_the_policy() {
    use crate::fixture::{TestRepo, stderr, stdout};

    let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).expect("key");
    let public = key.public_key().to_openssh().expect("public key");
    let fixture = TestRepo::standard();
    let policy =
        format!("version: 1\nsigners:\n  - kid: mint-1\n    role: mint\n    key: {public}\n");
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", &policy)],
        "policy",
    );
    let receipt = claims().sign_sshsig("mint-1", &key).expect("sign");
    let genuine = fixture.write("rcp.json", &serde_json::to_string(&receipt).expect("json"));

    let out = fixture.shipgate(&["receipt", "verify", genuine.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("genuine: signed by `mint-1` (sshsig-ed25519)"),
        "{}",
        stdout(&out)
    );

    let out = fixture.shipgate(&["receipt", "show", "rcp.json"]);
    assert!(
        stdout(&out).contains("receipt rcp_interop for release:v1.4.0"),
        "{}",
        stdout(&out)
    );

    let mut tampered = receipt.clone();
    tampered.claims.enforceable = false;
    fixture.write(
        "tampered.json",
        &serde_json::to_string(&tampered).expect("json"),
    );
    let out = fixture.shipgate(&["receipt", "verify", "tampered.json"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a forged receipt is an integrity failure"
    );
    assert!(stderr(&out).contains("RECEIPT_FORGED"), "{}", stderr(&out));

    let out = fixture.shipgate(&[
        "receipt",
        "export-payload",
        "rcp.json",
        "--out",
        "payload.json",
        "--signature-out",
        "receipt.sig",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::write(
        fixture.path().join("allowed_signers"),
        format!("mint-1 namespaces=\"shipgate-receipt\" {public}\n"),
    )
    .expect("write");
    let payload = std::fs::read(fixture.path().join("payload.json")).expect("payload");
    assert!(ssh_keygen_verify(fixture.path(), &payload));
}
