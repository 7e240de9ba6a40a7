//! Receipt verification (DESIGN 6, check 3): is this receipt what a trusted mint key signed?
//!
//! Checklist, one error each, all reported as `RECEIPT_FORGED` by the gate:
//! 1. The document parses strictly (known fields only, bounded size) and is version 1.
//! 2. The signature's algorithm is SSHSIG Ed25519 (HMAC receipts were removed: a shared
//!    secret lets whoever verifies also mint), and its key id names a signer of the policy.
//! 3. That signer has the `mint` role: an audit key never mints.
//! 4. The signer is in force at `issued_at` (a retired key's later receipts are forgeries)
//!    and, when the caller judges it now (the gate does), in force at the caller's clock too:
//!    `issued_at` is the signer's own claim, so a retired key could otherwise backdate a
//!    receipt to before its retirement (issue 13, class 2; DESIGN 13.2).
//! 5. The signature verifies over the canonical claims: SSHSIG with namespace
//!    `shipgate-receipt` (so a git commit signature can never pass as a receipt).
//!
//! Only [`verify_receipt`] builds a [`VerifiedReceipt`]; the gate accepts nothing else.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{MAX_RECEIPT_BYTES, RECEIPT_NAMESPACE, Receipt, ReceiptClaims, SignatureAlg};
use crate::model::Kid;
use crate::policy::{Signer, SignerRole};
use crate::reason::Code;

/// Why a receipt is not a genuine receipt of a trusted mint key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeryError {
    /// Step 1.
    #[error("the receipt is malformed: {0}")]
    Malformed(String),
    /// Step 2: only SSHSIG Ed25519 receipts exist.
    #[error(
        "the signature algorithm `{0}` is not supported: receipts are signed with sshsig-ed25519 by a mint key of the policy; mint it again with `shipgate mint`"
    )]
    UnsupportedAlg(String),
    /// Step 2.
    #[error("key id `{0}` is not a signer of the policy")]
    UnknownKid(String),
    /// Step 3.
    #[error("key `{0}` is not a mint key")]
    NotAMintKey(String),
    /// Step 4: the key was not in force at the receipt's issue time.
    #[error("key `{kid}` was not in force at the receipt's issue time {issued_at} ({window})")]
    KeyNotInForceAtIssue {
        /// The key.
        kid: String,
        /// The claimed issue time.
        issued_at: String,
        /// The key's window of force.
        window: String,
    },
    /// Step 4: the key is not in force at the verifier's clock.
    #[error("key `{kid}` is not in force now ({now}; {window})")]
    KeyNotInForceNow {
        /// The key.
        kid: String,
        /// The verifier's clock.
        now: String,
        /// The key's window of force.
        window: String,
    },
    /// Step 5.
    #[error("the signature does not verify: {0}")]
    BadSignature(String),
}

impl ForgeryError {
    /// The gate's reason code for every variant.
    pub const REASON_CODE: Code = Code::ReceiptForged;
}

/// A receipt whose signature a trusted mint key made. Constructed only by [`verify_receipt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    claims: ReceiptClaims,
    kid: Kid,
}

impl VerifiedReceipt {
    /// The verified claims.
    pub fn claims(&self) -> &ReceiptClaims {
        &self.claims
    }

    /// The key that signed it.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }
}

/// Parses a receipt document strictly (step 1).
pub fn parse_receipt(text: &[u8]) -> Result<Receipt, ForgeryError> {
    if text.len() > MAX_RECEIPT_BYTES {
        return Err(ForgeryError::Malformed(format!(
            "larger than {MAX_RECEIPT_BYTES} bytes"
        )));
    }
    // `flatten` does not enforce unknown fields, so check the top-level keys separately.
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| ForgeryError::Malformed(e.to_string()))?;
    let keys = value
        .as_object()
        .ok_or_else(|| ForgeryError::Malformed("not a JSON object".into()))?;
    if let Some(unknown) = keys.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(ForgeryError::Malformed(format!(
            "unknown field `{unknown}`"
        )));
    }
    let receipt: Receipt =
        serde_json::from_value(value).map_err(|e| ForgeryError::Malformed(e.to_string()))?;
    if receipt.claims.version != 1 {
        return Err(ForgeryError::Malformed(format!(
            "version {} is not supported",
            receipt.claims.version
        )));
    }
    Ok(receipt)
}

const KNOWN_FIELDS: &[&str] = &[
    "version",
    "receipt_id",
    "repo",
    "plan_id",
    "run_id",
    "op_index",
    "op_kind",
    "op_key",
    "policy_hash",
    "approvals",
    "enforceable",
    "findings",
    "issued_at",
    "expires_at",
    "nonce",
    "signature",
];

/// Verifies a receipt against the policy's signers (steps 2 to 5). `now` is the verifier's
/// clock: with it, the key must also be in force now (what the gate and `receipt verify`
/// ask); without it, only at issue time (an offline proof of a run that executed in the past).
pub fn verify_receipt(
    receipt: &Receipt,
    signers: &[Signer],
    now: Option<OffsetDateTime>,
) -> Result<VerifiedReceipt, ForgeryError> {
    let sig = &receipt.signature;
    let payload = receipt
        .signed_payload()
        .map_err(|e| ForgeryError::Malformed(e.to_string()))?;
    let issued_at = OffsetDateTime::parse(&receipt.claims.issued_at, &Rfc3339).map_err(|_| {
        ForgeryError::Malformed(format!(
            "issued_at `{}` is not RFC 3339",
            receipt.claims.issued_at
        ))
    })?;
    // 2. The one algorithm, by a signer of the policy.
    if sig.alg != SignatureAlg::SshsigEd25519 {
        return Err(ForgeryError::UnsupportedAlg(sig.alg.as_str().to_owned()));
    }
    let signer = signers
        .iter()
        .find(|s| sig.kid == s.kid.as_str())
        .ok_or_else(|| ForgeryError::UnknownKid(sig.kid.to_string()))?;
    // 3. With the mint role.
    if signer.role != SignerRole::Mint {
        return Err(ForgeryError::NotAMintKey(sig.kid.to_string()));
    }
    // 4. In force when the receipt says it was issued, and now.
    if !signer.in_force_at(issued_at) {
        return Err(ForgeryError::KeyNotInForceAtIssue {
            kid: sig.kid.to_string(),
            issued_at: receipt.claims.issued_at.clone(),
            window: signer.window(),
        });
    }
    if let Some(now) = now
        && !signer.in_force_at(now)
    {
        return Err(ForgeryError::KeyNotInForceNow {
            kid: sig.kid.to_string(),
            now: crate::policy::format_utc(now),
            window: signer.window(),
        });
    }
    // 5. The SSHSIG verifies under the receipt namespace.
    let armored = receipt
        .armored_signature()
        .ok_or_else(|| ForgeryError::UnsupportedAlg(sig.alg.as_str().to_owned()))?;
    let sshsig = ssh_key::SshSig::from_pem(armored)
        .map_err(|e| ForgeryError::BadSignature(e.to_string()))?;
    signer
        .key
        .verify(RECEIPT_NAMESPACE, &payload, &sshsig)
        .map_err(|e| ForgeryError::BadSignature(e.to_string()))?;
    Ok(VerifiedReceipt {
        claims: receipt.claims.clone(),
        kid: sig.kid.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OpKey, ReceiptId, RunId};
    use crate::receipt::{ReceiptApproval, ReceiptSignature};
    use ssh_key::rand_core::OsRng;

    fn claims() -> ReceiptClaims {
        ReceiptClaims {
            version: 1,
            receipt_id: ReceiptId::parse("rcp_01").expect("receipt id"),
            repo: "acme/widget".into(),
            plan_id: format!("sha256:{}", "ab".repeat(32)),
            run_id: RunId::parse("run_01").expect("run id"),
            op_index: 0,
            op_kind: "tag".into(),
            op_key: OpKey::parse("tag:v1.4.0").expect("op key"),
            policy_hash: format!("sha256:{}", "cd".repeat(32)),
            approvals: vec![ReceiptApproval {
                login: "alice".into(),
                comment_id: crate::model::CommentId::new(1),
                at: "2026-11-23T10:00:00Z".into(),
            }],
            enforceable: true,
            findings: vec![],
            issued_at: "2026-11-23T10:05:00Z".into(),
            expires_at: "2026-11-24T10:05:00Z".into(),
            nonce: "n0nce".into(),
        }
    }

    fn kid(text: &str) -> Kid {
        Kid::parse(text).expect("key id")
    }

    fn key() -> ssh_key::PrivateKey {
        ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap()
    }

    fn signer(kid: &str, role: SignerRole, key: &ssh_key::PrivateKey) -> Signer {
        Signer {
            kid: self::kid(kid),
            role,
            key: key.public_key().clone(),
            not_before: None,
            not_after: None,
        }
    }

    #[test]
    fn a_genuine_receipt_verifies_and_round_trips_through_json() {
        let k = key();
        let receipt = claims().sign_sshsig(&kid("mint-1"), &k).unwrap();
        let text = serde_json::to_vec(&receipt).unwrap();
        let parsed = parse_receipt(&text).unwrap();
        let verified =
            verify_receipt(&parsed, &[signer("mint-1", SignerRole::Mint, &k)], None).unwrap();
        assert_eq!(verified.claims(), &claims());
        assert_eq!(verified.kid(), "mint-1");
    }

    #[test]
    fn the_key_id_stays_a_plain_string_on_the_wire_and_one_that_names_no_signer_is_malformed() {
        let receipt = claims().sign_sshsig(&kid("mint-1"), &key()).unwrap();
        let text = serde_json::to_string(&receipt).unwrap();
        assert!(text.contains(r#""kid":"mint-1""#), "{text}");
        let reparsed = serde_json::to_string(&parse_receipt(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(reparsed, text, "byte-identical through the Kid type");
        let hostile = text.replace(r#""kid":"mint-1""#, r#""kid":"../mint-1""#);
        assert!(matches!(
            parse_receipt(hostile.as_bytes()),
            Err(ForgeryError::Malformed(_))
        ));
    }

    #[test]
    fn every_forgery_is_rejected_for_its_own_reason() {
        let (mint, other) = (key(), key());
        let good = claims().sign_sshsig(&kid("mint-1"), &mint).unwrap();
        let trusted = [
            signer("mint-1", SignerRole::Mint, &mint),
            signer("audit-1", SignerRole::Audit, &mint),
        ];

        let mut flipped = good.clone();
        flipped.claims.op_key = OpKey::parse("tag:v9.9.9").expect("op key");
        assert!(matches!(
            verify_receipt(&flipped, &trusted, None),
            Err(ForgeryError::BadSignature(_))
        ));

        let by_stranger = claims().sign_sshsig(&kid("mint-1"), &other).unwrap();
        assert!(matches!(
            verify_receipt(&by_stranger, &trusted, None),
            Err(ForgeryError::BadSignature(_))
        ));

        let unknown = claims().sign_sshsig(&kid("mint-9"), &mint).unwrap();
        assert_eq!(
            verify_receipt(&unknown, &trusted, None),
            Err(ForgeryError::UnknownKid("mint-9".into()))
        );

        let by_audit_key = claims().sign_sshsig(&kid("audit-1"), &mint).unwrap();
        assert_eq!(
            verify_receipt(&by_audit_key, &trusted, None),
            Err(ForgeryError::NotAMintKey("audit-1".into()))
        );

        let mut retired = trusted[0].clone();
        retired.not_after = Some(time::macros::datetime!(2026-11-01 00:00 UTC));
        assert!(matches!(
            verify_receipt(&good, &[retired], None),
            Err(ForgeryError::KeyNotInForceAtIssue { .. })
        ));
    }

    #[test]
    fn a_key_retired_since_the_claimed_issue_time_is_refused_now() {
        // The receipt says it was issued on 2026-11-23, before the key retired on 2026-12-01;
        // the holder of the retired key can write any issue time, so the gate's clock decides.
        let k = key();
        let mut retired = signer("mint-1", SignerRole::Mint, &k);
        retired.not_after = Some(time::macros::datetime!(2026-12-01 00:00 UTC));
        let mut backdated = claims();
        backdated.expires_at = "2099-01-01T00:00:00Z".into();
        let receipt = backdated.sign_sshsig(&kid("mint-1"), &k).unwrap();
        let signers = std::slice::from_ref(&retired);
        assert!(verify_receipt(&receipt, signers, None).is_ok());
        let before = time::macros::datetime!(2026-11-30 00:00 UTC);
        assert!(verify_receipt(&receipt, signers, Some(before)).is_ok());
        let after = time::macros::datetime!(2026-12-02 00:00 UTC);
        let refused = verify_receipt(&receipt, signers, Some(after)).unwrap_err();
        assert!(
            matches!(refused, ForgeryError::KeyNotInForceNow { .. }),
            "{refused}"
        );
        assert_eq!(
            refused.to_string(),
            "key `mint-1` is not in force now (2026-12-02T00:00:00Z; retired after 2026-12-01T00:00:00Z)"
        );
    }

    #[test]
    fn a_key_not_yet_in_force_signs_nothing() {
        let k = key();
        let mut next = signer("mint-2", SignerRole::Mint, &k);
        next.not_before = Some(time::macros::datetime!(2026-12-01 00:00 UTC));
        let receipt = claims().sign_sshsig(&kid("mint-2"), &k).unwrap();
        let signers = std::slice::from_ref(&next);
        // Issued (it says) on 2026-11-23, before the key's window opens.
        assert!(matches!(
            verify_receipt(&receipt, signers, None),
            Err(ForgeryError::KeyNotInForceAtIssue { .. })
        ));
        // Dated inside the window, but judged before it opens: the clock refuses it.
        let mut dated = claims();
        dated.issued_at = "2026-12-02T00:00:00Z".into();
        let receipt = dated.sign_sshsig(&kid("mint-2"), &k).unwrap();
        let early = time::macros::datetime!(2026-11-25 00:00 UTC);
        assert!(matches!(
            verify_receipt(&receipt, signers, Some(early)),
            Err(ForgeryError::KeyNotInForceNow { .. })
        ));
    }

    #[test]
    fn a_byte_flipped_signature_is_rejected() {
        let k = key();
        let mut receipt = claims().sign_sshsig(&kid("mint-1"), &k).unwrap();
        let mut bytes = receipt.signature.value.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        receipt.signature.value = String::from_utf8(bytes).unwrap();
        assert!(matches!(
            verify_receipt(&receipt, &[signer("mint-1", SignerRole::Mint, &k)], None),
            Err(ForgeryError::BadSignature(_))
        ));
    }

    #[test]
    fn a_git_commit_signature_cannot_pass_as_a_receipt() {
        let k = key();
        let payload = claims().signed_payload().unwrap();
        let git_sig = k.sign("git", ssh_key::HashAlg::Sha512, &payload).unwrap();
        let pem = git_sig.to_pem(ssh_key::LineEnding::LF).unwrap();
        let value = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>();
        let receipt = Receipt {
            claims: claims(),
            signature: ReceiptSignature {
                alg: SignatureAlg::SshsigEd25519,
                kid: Kid::parse("mint-1").unwrap(),
                value,
            },
        };
        assert!(matches!(
            verify_receipt(&receipt, &[signer("mint-1", SignerRole::Mint, &k)], None),
            Err(ForgeryError::BadSignature(_))
        ));
    }

    #[test]
    fn a_receipt_of_any_other_algorithm_is_refused_whatever_its_key_id() {
        // HMAC receipts are gone (a shared secret lets whoever verifies also mint): a receipt
        // naming hmac-sha256 under the kid of a real mint key is refused before any key is used.
        let k = key();
        let genuine = claims().sign_sshsig(&kid("mint-1"), &k).unwrap();
        let mut value = serde_json::to_value(&genuine).unwrap();
        value["signature"]["alg"] = serde_json::json!("hmac-sha256");
        value["signature"]["value"] = serde_json::json!("ab".repeat(32));
        let hmac = parse_receipt(value.to_string().as_bytes()).unwrap();
        assert_eq!(
            hmac.signature.alg,
            SignatureAlg::Unsupported("hmac-sha256".into())
        );
        let refused =
            verify_receipt(&hmac, &[signer("mint-1", SignerRole::Mint, &k)], None).unwrap_err();
        assert_eq!(refused, ForgeryError::UnsupportedAlg("hmac-sha256".into()));
        assert!(
            refused
                .to_string()
                .contains("`hmac-sha256` is not supported")
        );
        // The name round-trips, so the audit chain keeps what was written.
        assert_eq!(
            serde_json::to_value(&hmac).unwrap()["signature"]["alg"],
            "hmac-sha256"
        );
    }

    #[test]
    fn unknown_fields_and_other_versions_are_malformed() {
        let k = key();
        let receipt = claims().sign_sshsig(&kid("mint-1"), &k).unwrap();
        let mut value = serde_json::to_value(&receipt).unwrap();
        value["extra"] = serde_json::json!(true);
        assert!(matches!(
            parse_receipt(value.to_string().as_bytes()),
            Err(ForgeryError::Malformed(_))
        ));
        let mut value = serde_json::to_value(&receipt).unwrap();
        value["version"] = serde_json::json!(2);
        assert!(matches!(
            parse_receipt(value.to_string().as_bytes()),
            Err(ForgeryError::Malformed(_))
        ));
        assert!(matches!(
            parse_receipt(&vec![b' '; MAX_RECEIPT_BYTES + 1]),
            Err(ForgeryError::Malformed(_))
        ));
    }
}
