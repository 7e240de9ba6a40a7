//! Trusted signing keys declared in a policy's `signers:` list (DESIGN 3).
//!
//! A signer is a key id, a role (`mint` signs receipts, `audit` signs audit commits), an
//! OpenSSH Ed25519 public key and an optional window of force (`not_before`, `not_after`). This
//! module only parses and describes keys; signing and verifying live with the receipts and the
//! audit chain, which judge the window by their own clock (DESIGN 13.2).

use serde::Serialize;
use time::OffsetDateTime;

use crate::model::Kid;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    /// Signs receipts.
    Mint,
    /// Signs audit commits.
    Audit,
}

impl SignerRole {
    /// Parses `mint` or `audit`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "mint" => Some(Self::Mint),
            "audit" => Some(Self::Audit),
            _ => None,
        }
    }

    /// The role as written in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mint => "mint",
            Self::Audit => "audit",
        }
    }
}

/// A trusted key from a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Key id, unique within the merged policy (`mint-2026q4`).
    pub kid: Kid,
    /// What the key may sign.
    pub role: SignerRole,
    /// The Ed25519 public key.
    pub key: ssh_key::PublicKey,
    /// The key comes into force at this instant (inclusive): nothing dated earlier is trusted.
    pub not_before: Option<OffsetDateTime>,
    /// The key is retired after this instant (exclusive): nothing it signs later is trusted.
    pub not_after: Option<OffsetDateTime>,
}

impl Signer {
    /// The public key as one OpenSSH line without comment (`ssh-ed25519 AAAA...`).
    pub fn openssh_key(&self) -> String {
        let mut key = self.key.clone();
        key.set_comment("");
        key.to_openssh().unwrap_or_default()
    }

    /// Whether the key may be trusted for something signed at `at`: not before `not_before`,
    /// not after `not_after`.
    pub fn in_force_at(&self, at: OffsetDateTime) -> bool {
        self.not_before.is_none_or(|start| start <= at)
            && self.not_after.is_none_or(|limit| at <= limit)
    }

    /// The window of force in words, for messages (`in force from ... until ...`).
    pub fn window(&self) -> String {
        let utc = super::format_utc;
        match (self.not_before, self.not_after) {
            (None, None) => "in force without limit".to_owned(),
            (Some(start), None) => format!("in force from {}", utc(start)),
            (None, Some(limit)) => format!("retired after {}", utc(limit)),
            (Some(start), Some(limit)) => {
                format!("in force from {} until {}", utc(start), utc(limit))
            }
        }
    }
}

/// Why a `key:` value is not an acceptable signer key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerKeyError {
    /// Not an OpenSSH public key line.
    #[error("not an OpenSSH public key: {0}")]
    Malformed(String),
    /// A valid key of another algorithm.
    #[error("the key is {0}, but shipgate signers must be ssh-ed25519")]
    NotEd25519(String),
}

/// Parses an OpenSSH public key line, accepting only Ed25519 keys. The comment is dropped: it
/// carries no trust, and two signers with the same key must compare equal.
pub fn parse_signer_key(text: &str) -> Result<ssh_key::PublicKey, SignerKeyError> {
    let mut key = ssh_key::PublicKey::from_openssh(text.trim())
        .map_err(|e| SignerKeyError::Malformed(e.to_string()))?;
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(SignerKeyError::NotEd25519(key.algorithm().to_string()));
    }
    key.set_comment("");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOgnkcx95G1v293WqLxR7c492iCF9kGL1xQUA8YHgfIZ alice@example";

    #[test]
    fn ed25519_keys_parse_and_drop_their_comment() {
        let key = parse_signer_key(ED25519).unwrap();
        let signer = Signer {
            kid: crate::model::Kid::parse("k").unwrap(),
            role: SignerRole::Mint,
            key,
            not_before: None,
            not_after: None,
        };
        assert_eq!(
            signer.openssh_key(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOgnkcx95G1v293WqLxR7c492iCF9kGL1xQUA8YHgfIZ"
        );
    }

    #[test]
    fn garbage_and_truncated_keys_are_malformed() {
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-ed25519 AAAA",
            "hello world",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBXd",
        ] {
            assert!(
                matches!(parse_signer_key(bad), Err(SignerKeyError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn retirement_is_inclusive_of_its_instant() {
        let key = parse_signer_key(ED25519).unwrap();
        let limit = time::macros::datetime!(2027-01-10 00:00 UTC);
        let signer = Signer {
            kid: crate::model::Kid::parse("k").unwrap(),
            role: SignerRole::Audit,
            key,
            not_before: None,
            not_after: Some(limit),
        };
        assert!(signer.in_force_at(limit));
        assert!(!signer.in_force_at(limit + time::Duration::seconds(1)));
    }

    #[test]
    fn a_key_is_not_in_force_before_its_not_before() {
        let start = time::macros::datetime!(2027-01-01 00:00 UTC);
        let limit = time::macros::datetime!(2027-02-01 00:00 UTC);
        let signer = Signer {
            kid: crate::model::Kid::parse("k").unwrap(),
            role: SignerRole::Mint,
            key: parse_signer_key(ED25519).unwrap(),
            not_before: Some(start),
            not_after: Some(limit),
        };
        assert!(!signer.in_force_at(start - time::Duration::seconds(1)));
        assert!(signer.in_force_at(start));
        assert!(signer.in_force_at(limit));
        assert_eq!(
            signer.window(),
            "in force from 2027-01-01T00:00:00Z until 2027-02-01T00:00:00Z"
        );
    }
}
