//! Receipts (DESIGN 5): signed, expiring, single-use authorizations, each bound to one
//! operation of one run of one plan.
//!
//! The signature covers the RFC 8785 canonical JSON of the receipt without `signature`, and
//! nothing else: the exact bytes are [`Receipt::signed_payload`], which `shipgate receipt
//! export-payload` writes so stock `ssh-keygen -Y verify -n shipgate-receipt` can check them.
//! Signing and verifying are pure: time, ids and the nonce are arguments.

mod verify;

use serde::{Deserialize, Serialize};

pub use verify::{ForgeryError, VerifiedReceipt, parse_receipt, verify_receipt};

use crate::canonical;
use crate::model::{CommentId, Kid, OpKey, ReceiptId, RunId};

/// The SSHSIG namespace of receipt signatures (domain separation from git's `git`).
pub const RECEIPT_NAMESPACE: &str = "shipgate-receipt";
/// Largest receipt document accepted, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 64 * 1024;

/// One approval a receipt rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptApproval {
    /// The approver's login.
    pub login: String,
    /// The approving comment.
    pub comment_id: CommentId,
    /// When it was written (RFC 3339).
    pub at: String,
}

/// A policy finding standing when the receipt was minted (which makes it advisory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFinding {
    /// The stable reason code.
    pub code: String,
    /// What exactly.
    pub message: String,
}

/// Everything a receipt says, i.e. what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptClaims {
    /// Always 1.
    pub version: u32,
    /// `rcp_...`, unique.
    pub receipt_id: ReceiptId,
    /// `owner/name`.
    pub repo: String,
    /// The resolved plan's id.
    pub plan_id: String,
    /// The run it belongs to.
    pub run_id: RunId,
    /// Position of the operation in the plan.
    pub op_index: u32,
    /// tag, release or pull_request.
    pub op_kind: String,
    /// The operation key.
    pub op_key: OpKey,
    /// The policy hash at minting.
    pub policy_hash: String,
    /// The approvals it rests on.
    pub approvals: Vec<ReceiptApproval>,
    /// False when a finding stood at minting: recorded, never executable.
    pub enforceable: bool,
    /// The findings that made it advisory.
    pub findings: Vec<ReceiptFinding>,
    /// Minting instant (RFC 3339, UTC).
    pub issued_at: String,
    /// Expiry instant (RFC 3339, UTC).
    pub expires_at: String,
    /// Random, so two receipts never share bytes.
    pub nonce: String,
}

/// Signature algorithms. Only SSHSIG Ed25519 is supported; any other name parses (so the gate
/// can say what was refused) and never verifies.
///
/// HMAC-SHA256 receipts were removed: whoever can verify an HMAC receipt can mint one, so the
/// ship job that verifies would hold the power to mint, which defeats the separation of mint
/// and ship keys that the design rests on. A receipt naming `hmac-sha256` is `RECEIPT_FORGED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SignatureAlg {
    /// OpenSSH SSHSIG with an Ed25519 key.
    SshsigEd25519,
    /// Any other name, as written in the receipt: refused by [`verify_receipt`].
    Unsupported(String),
}

impl SignatureAlg {
    /// The name used in receipts.
    pub fn as_str(&self) -> &str {
        match self {
            Self::SshsigEd25519 => "sshsig-ed25519",
            Self::Unsupported(name) => name,
        }
    }
}

impl From<String> for SignatureAlg {
    fn from(name: String) -> Self {
        if name == "sshsig-ed25519" {
            Self::SshsigEd25519
        } else {
            Self::Unsupported(name)
        }
    }
}

impl From<SignatureAlg> for String {
    fn from(alg: SignatureAlg) -> Self {
        alg.as_str().to_owned()
    }
}

/// A receipt's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSignature {
    /// The algorithm.
    pub alg: SignatureAlg,
    /// The signing key's id in the policy's `signers`.
    pub kid: Kid,
    /// The base64 of the SSHSIG blob (the body of its PEM armour).
    pub value: String,
}

/// A signed receipt, as stored and exchanged. Nothing trusts it before [`verify_receipt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// What is signed.
    #[serde(flatten)]
    pub claims: ReceiptClaims,
    /// The signature over the canonical claims.
    pub signature: ReceiptSignature,
}

/// Why a receipt could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The claims have no canonical form.
    #[error(transparent)]
    Canonical(#[from] canonical::CanonicalError),
    /// The key could not sign (not Ed25519, or encrypted).
    #[error("the mint key cannot sign: {0}")]
    Key(String),
}

impl ReceiptClaims {
    /// The exact bytes the signature covers: canonical JSON of the claims.
    pub fn signed_payload(&self) -> Result<Vec<u8>, canonical::CanonicalError> {
        Ok(canonical::to_canonical_json(self)?.into_bytes())
    }

    /// Signs with an Ed25519 mint key as an SSHSIG (namespace `shipgate-receipt`, SHA-512).
    pub fn sign_sshsig(self, kid: &Kid, key: &ssh_key::PrivateKey) -> Result<Receipt, SignError> {
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            return Err(SignError::Key(format!(
                "it is {}, not ssh-ed25519",
                key.algorithm()
            )));
        }
        let payload = self.signed_payload()?;
        let sig = key
            .sign(RECEIPT_NAMESPACE, ssh_key::HashAlg::Sha512, &payload)
            .map_err(|e| SignError::Key(e.to_string()))?;
        let pem = sig
            .to_pem(ssh_key::LineEnding::LF)
            .map_err(|e| SignError::Key(e.to_string()))?;
        let value = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>();
        Ok(Receipt {
            claims: self,
            signature: ReceiptSignature {
                alg: SignatureAlg::SshsigEd25519,
                kid: kid.clone(),
                value,
            },
        })
    }
}

impl Receipt {
    /// The exact bytes the signature covers.
    pub fn signed_payload(&self) -> Result<Vec<u8>, canonical::CanonicalError> {
        self.claims.signed_payload()
    }

    /// The signature as an armoured SSH SIGNATURE file, for `ssh-keygen -Y verify`.
    /// `None` for a receipt of an unsupported algorithm.
    pub fn armored_signature(&self) -> Option<String> {
        if self.signature.alg != SignatureAlg::SshsigEd25519 {
            return None;
        }
        let mut pem = String::from("-----BEGIN SSH SIGNATURE-----\n");
        let body = self.signature.value.as_bytes();
        for chunk in body.chunks(70) {
            pem.push_str(&String::from_utf8_lossy(chunk));
            pem.push('\n');
        }
        pem.push_str("-----END SSH SIGNATURE-----\n");
        Some(pem)
    }

    /// The receipt as canonical JSON (how it is stored on the audit branch).
    pub fn to_canonical_json(&self) -> Result<String, canonical::CanonicalError> {
        canonical::to_canonical_json(self)
    }
}
