//! Receipts interoperate with stock OpenSSH: `ssh-keygen -Y verify -n shipgate-receipt`
//! accepts the exact signed payload and the armoured signature, and rejects a changed payload.

use std::process::{Command, Stdio};

use shipgate::model::{CommentId, OpKey, ReceiptId, RunId};
use shipgate::receipt::{ReceiptApproval, ReceiptClaims};
use ssh_key::rand_core::OsRng;

fn claims() -> ReceiptClaims {
    ReceiptClaims {
        version: 1,
        receipt_id: ReceiptId::parse("rcp_interop").expect("receipt id"),
        repo: "acme/widget".into(),
        plan_id: format!("sha256:{}", "12".repeat(32)),
        run_id: RunId::parse("run_interop").expect("run id"),
        op_index: 1,
        op_kind: "release".into(),
        op_key: OpKey::parse("release:v1.4.0").expect("op key"),
        policy_hash: format!("sha256:{}", "34".repeat(32)),
        approvals: vec![ReceiptApproval {
            login: "alice".into(),
            comment_id: CommentId::new(7),
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
    let receipt = claims()
        .sign_sshsig(
            &shipgate::model::Kid::parse("mint-1").expect("key id"),
            &key,
        )
        .expect("sign");
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
    changed.claims.op_key = OpKey::parse("release:v9.9.9").expect("op key");
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
    let receipt = claims()
        .sign_sshsig(
            &shipgate::model::Kid::parse("mint-1").expect("key id"),
            &key,
        )
        .expect("sign");
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

/// HMAC-SHA256 (RFC 2104) of `payload` under `secret`, written out so the test needs no MAC
/// crate: what a holder of a shared secret would sign a receipt with.
fn hmac_sha256_hex(secret: &[u8], payload: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(payload)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A receipt as a holder of a shared secret would write it: the claims MACed with HMAC-SHA256,
/// under the kid of the policy's real mint key.
fn hmac_receipt(claims: shipgate::receipt::ReceiptClaims) -> shipgate::receipt::Receipt {
    let payload = claims.signed_payload().expect("payload");
    let mut value = serde_json::to_value(&claims).expect("json");
    value["signature"] = serde_json::json!({
        "alg": "hmac-sha256",
        "kid": "mint-1",
        "value": hmac_sha256_hex(b"a shared secret", &payload),
    });
    shipgate::receipt::parse_receipt(value.to_string().as_bytes()).expect("a receipt document")
}

/// HMAC receipts are gone: whoever can verify one can mint one, so the ship job would hold the
/// power to mint. A hand-made one placed where execute reads receipts (a `receipt_minted`
/// entry of a run, appended with the real audit key) ships nothing, refused as forged for its
/// algorithm.
#[test]
fn an_hmac_receipt_on_the_chain_is_refused_as_forged_and_ships_nothing() {
    use crate::execute_flow::{
        blocked_with, craft_signed, denials, execute, minted, nothing_shipped,
    };
    use crate::fixture::stdout;

    let (world, _) = minted();
    let run = craft_signed(&world, hmac_receipt);
    let out = execute(&world, &run, &[], &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    blocked_with(&out, "RECEIPT_FORGED");
    assert!(
        stdout(&out).contains("signature algorithm `hmac-sha256` is not supported"),
        "{}",
        stdout(&out)
    );
    nothing_shipped(&world);
    assert_eq!(denials(&world), ["RECEIPT_FORGED"]);
}
