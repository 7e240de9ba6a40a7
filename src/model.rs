//! Newtypes for the identifiers that cross module boundaries.
//!
//! Each one is checked on construction, so later code never re-validates a string and never
//! confuses a commit sha with a plan id, or a pull request number with a comment id. They
//! serialize as plain strings, or bare numbers for GitHub's numeric ids.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use ssh_key::rand_core::{OsRng, RngCore};

/// Why a string is not a valid identifier of the named kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what}: {why}")]
pub struct InvalidId {
    /// What kind of identifier was expected.
    pub what: &'static str,
    /// The rejected text (as given).
    pub value: String,
    /// The rule it breaks.
    pub why: &'static str,
}

fn invalid(what: &'static str, value: &str, why: &'static str) -> InvalidId {
    InvalidId {
        what,
        value: value.to_owned(),
        why,
    }
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Orders and hashes as its text, so a map keyed by the id answers a lookup by text
        /// (which finds nothing for text that is no such id).
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// `owner/name` of a GitHub repository, lowercased (GitHub treats both parts without case).
    RepoSlug
);

impl RepoSlug {
    /// Parses `owner/name` with GitHub's character rules.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        const WHAT: &str = "repository (owner/name)";
        let (owner, name) = text
            .split_once('/')
            .ok_or_else(|| invalid(WHAT, text, "expected owner/name"))?;
        let owner_ok = (1..=39).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !owner.starts_with('-');
        if !owner_ok {
            return Err(invalid(
                WHAT,
                text,
                "the owner must be 1-39 letters, digits or hyphens",
            ));
        }
        let name_ok = (1..=100).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && name != "."
            && name != "..";
        if !name_ok {
            return Err(invalid(
                WHAT,
                text,
                "the name must be 1-100 letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(Self(text.to_ascii_lowercase()))
    }
}

string_newtype!(
    /// A full 40-hex git commit id, lowercase.
    CommitSha
);

impl CommitSha {
    /// Parses exactly 40 hexadecimal digits (either case; stored lowercase).
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        if text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(invalid(
                "commit sha",
                text,
                "expected 40 hexadecimal digits",
            ))
        }
    }

    /// The first `n` characters, for display.
    pub fn short(&self, n: usize) -> &str {
        &self.0[..n.min(self.0.len())]
    }
}

impl From<git2::Oid> for CommitSha {
    fn from(oid: git2::Oid) -> Self {
        Self(oid.to_string())
    }
}

string_newtype!(
    /// A full 40-hex git tree id, lowercase: the content a `target: merge` tag approves
    /// (DESIGN 13.7).
    TreeSha
);

impl TreeSha {
    /// Parses exactly 40 hexadecimal digits (either case; stored lowercase).
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        CommitSha::parse(text)
            .map(|sha| Self(sha.0))
            .map_err(|_| invalid("tree sha", text, "expected 40 hexadecimal digits"))
    }

    /// The first `n` characters, for display.
    pub fn short(&self, n: usize) -> &str {
        &self.0[..n.min(self.0.len())]
    }
}

impl From<git2::Oid> for TreeSha {
    fn from(oid: git2::Oid) -> Self {
        Self(oid.to_string())
    }
}

string_newtype!(
    /// `sha256:` + 64 lowercase hex digits: the identity of a resolved plan (DESIGN 2).
    PlanId
);

/// The shortest plan-id prefix a person may type (DESIGN 2).
pub const MIN_PLAN_ID_PREFIX: usize = 12;

impl PlanId {
    /// Wraps a digest produced by [`crate::canonical::sha256_prefixed`].
    pub fn from_digest(digest: String) -> Result<Self, InvalidId> {
        let hex = digest
            .strip_prefix("sha256:")
            .ok_or_else(|| invalid("plan id", &digest, "expected sha256:<hex>"))?;
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(digest))
        } else {
            Err(invalid(
                "plan id",
                &digest,
                "expected 64 lowercase hex digits after sha256:",
            ))
        }
    }

    /// The 64 hex digits without the `sha256:` prefix.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The prefix people type in `/shipgate approve <prefix>`.
    pub fn approval_prefix(&self) -> &str {
        &self.hex()[..MIN_PLAN_ID_PREFIX]
    }
}

string_newtype!(
    /// The logical request key of an operation: `tag:<name>`, `release:<tag>` or
    /// `pull_request:<head>-><base>` (DESIGN 2). Unique per repository for all time.
    OpKey
);

impl OpKey {
    /// `tag:<name>`.
    pub fn tag(name: &str) -> Self {
        Self(format!("tag:{name}"))
    }
    /// `release:<tag>`.
    pub fn release(tag: &str) -> Self {
        Self(format!("release:{tag}"))
    }
    /// `pull_request:<head>-><base>`.
    pub fn pull_request(head: &str, base: &str) -> Self {
        Self(format!("pull_request:{head}->{base}"))
    }

    /// Reads a key as recorded on the chain: one of the three forms, with non-empty names.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "tag" if !rest.is_empty() => Some(Self::tag(rest)),
            "release" if !rest.is_empty() => Some(Self::release(rest)),
            "pull_request" => {
                let (head, base) = rest.split_once("->")?;
                (!head.is_empty() && !base.is_empty()).then(|| Self::pull_request(head, base))
            }
            _ => None,
        }
    }

    /// The operation kind the key names (`tag`, `release`, `pull_request`).
    pub fn kind(&self) -> &str {
        self.0.split_once(':').map_or("", |(kind, _)| kind)
    }

    /// The ref that policy `refs:` patterns match: the tag for tags and releases, the base
    /// branch for pull requests (as `Operation::policy_ref`).
    pub fn policy_ref(&self) -> &str {
        let rest = self.0.split_once(':').map_or("", |(_, rest)| rest);
        match self.kind() {
            "pull_request" => rest.split_once("->").map_or(rest, |(_, base)| base),
            _ => rest,
        }
    }
}

impl<'de> Deserialize<'de> for OpKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not an operation key (tag:<name>, release:<tag> or \
                 pull_request:<head>-><base>)"
            ))
        })
    }
}

string_newtype!(
    /// A GitHub login, lowercased: GitHub logins are case-insensitive, so `Alice` and `alice`
    /// are one person and must count once.
    Login
);

impl Login {
    /// Parses a GitHub user login (letters, digits, single hyphens; bots end in `[bot]`).
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let base = text.strip_suffix("[bot]").unwrap_or(text);
        let ok = (1..=39).contains(&base.len())
            && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !base.starts_with('-');
        if ok {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(invalid(
                "GitHub login",
                text,
                "expected 1-39 letters, digits or hyphens",
            ))
        }
    }
}

string_newtype!(
    /// A GitHub team as `org/team-slug`, lowercased.
    TeamSlug
);

impl TeamSlug {
    /// Parses `org/team-slug`.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let ok = text.split_once('/').is_some_and(|(org, team)| {
            let part = |s: &str| {
                !s.is_empty()
                    && s.len() <= 100
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            };
            part(org) && part(team)
        });
        if ok {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(invalid("team", text, "expected org/team-slug"))
        }
    }
}

/// The rule every chain id keeps (DESIGN 8): 1-128 letters, digits, `_`, `-` or `.`, not
/// starting with `.`, so an id always names one state file and never a path.
fn is_chain_id(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Deserializes a checked newtype from a JSON string through its `parse`.
macro_rules! checked_deserialize {
    ($name:ident) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A chain id with a fixed prefix (`run_`, `rcp_`), checked by [`is_chain_id`].
fn prefixed_chain_id(what: &'static str, prefix: &str, text: &str) -> Result<String, InvalidId> {
    if !text.starts_with(prefix) || text.len() == prefix.len() {
        return Err(invalid(what, text, "expected its prefix and a suffix"));
    }
    if !is_chain_id(text) {
        return Err(invalid(
            what,
            text,
            "expected 1-128 letters, digits, '_', '-' or '.'",
        ));
    }
    Ok(text.to_owned())
}

string_newtype!(
    /// A run id: `run_` and the id characters of the chain (`run_3f9a...`).
    RunId
);
checked_deserialize!(RunId);

impl RunId {
    /// Parses `run_<id>`.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        prefixed_chain_id("run id", "run_", text).map(Self)
    }

    /// A fresh random run id.
    pub fn random() -> Self {
        Self(random_id("run", 12))
    }
}

string_newtype!(
    /// A receipt id: `rcp_` and the id characters of the chain (`rcp_81c0...`).
    ReceiptId
);
checked_deserialize!(ReceiptId);

impl ReceiptId {
    /// Parses `rcp_<id>`.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        prefixed_chain_id("receipt id", "rcp_", text).map(Self)
    }

    /// A fresh random receipt id.
    pub fn random() -> Self {
        Self(random_id("rcp", 12))
    }
}

/// What a key id may hold, in words (one source for [`KID_RULE`] and [`Kid::parse`]'s error).
macro_rules! kid_rule {
    () => {
        "1-64 letters, digits, '-', '_' or '.' (and '@' or '+' after the first character)"
    };
}

/// What a key id may hold, in words, for error messages and hints.
pub const KID_RULE: &str = kid_rule!();

string_newtype!(
    /// A signing key id (`mint-2026q4`): the comment of the key and the name signers use.
    Kid
);
checked_deserialize!(Kid);

impl Kid {
    /// Parses a key id: 1-64 letters, digits, `-`, `_` or `.`, and after the first character
    /// also `@` or `+`, so that an allowed-signers principal such as `alice@example.com` (and
    /// an OpenSSH key comment such as `alice@laptop`) names its key.
    pub fn parse(text: &str) -> Result<Self, InvalidId> {
        let ok = (1..=64).contains(&text.len())
            && text.bytes().enumerate().all(|(at, b)| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'_' | b'.')
                    || (at > 0 && matches!(b, b'@' | b'+'))
            });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(invalid("key id", text, concat!("expected ", kid_rule!())))
        }
    }
}

macro_rules! number_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// Wraps the number GitHub gave.
            pub const fn new(number: u64) -> Self {
                Self(number)
            }

            /// The number as GitHub spells it.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

number_newtype!(
    /// A pull request (issue) number in its repository (`#42`); serializes as the bare number.
    PrNumber
);

number_newtype!(
    /// A GitHub issue comment id; serializes as the bare number.
    CommentId
);

/// A fresh identifier: `prefix`, an underscore and `bytes` random bytes from the operating
/// system, in lowercase hex (run, receipt and executor ids).
pub fn random_id(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    format!("{prefix}_{}", crate::canonical::hex(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_slug_is_lowercased_and_checked() {
        assert_eq!(
            RepoSlug::parse("Acme/Widget.rs").unwrap().as_str(),
            "acme/widget.rs"
        );
        for bad in [
            "acme", "/widget", "acme/", "ac me/x", "acme/..", "-acme/x", "a/b/c",
        ] {
            assert!(RepoSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commit_sha_needs_40_hex() {
        let sha = CommitSha::parse(&"A".repeat(40)).unwrap();
        assert_eq!(sha.as_str(), "a".repeat(40));
        assert!(CommitSha::parse(&"a".repeat(39)).is_err());
        assert!(CommitSha::parse(&"g".repeat(40)).is_err());
    }

    #[test]
    fn plan_id_prefix_is_twelve_hex() {
        let id = PlanId::from_digest(format!("sha256:{}", "0123456789abcdef".repeat(4))).unwrap();
        assert_eq!(id.approval_prefix(), "0123456789ab");
        assert!(PlanId::from_digest("sha256:XYZ".into()).is_err());
    }

    #[test]
    fn logins_fold_case_and_allow_bots() {
        assert_eq!(
            Login::parse("Alice").unwrap(),
            Login::parse("alice").unwrap()
        );
        assert!(Login::parse("github-actions[bot]").is_ok());
        assert!(Login::parse("al ice").is_err());
    }

    #[test]
    fn run_and_receipt_ids_need_their_prefix_and_the_chain_charset() {
        assert_eq!(RunId::parse("run_0a").unwrap().as_str(), "run_0a");
        assert_eq!(ReceiptId::parse("rcp_0a").unwrap().as_str(), "rcp_0a");
        for bad in ["", "run_", "rcp_1", "../run", "run_1/..", "run_a b"] {
            assert!(RunId::parse(bad).is_err(), "{bad}");
        }
        assert!(ReceiptId::parse("run_1").is_err());
        assert!(RunId::random().as_str().starts_with("run_"));
        assert!(ReceiptId::random().as_str().starts_with("rcp_"));
    }

    #[test]
    fn key_ids_take_principals_like_emails_but_no_spaces_wildcards_or_leading_at() {
        for good in [
            "mint-2026q4",
            "audit_1.a",
            "alice@example.com",
            "bob+ci@laptop",
        ] {
            assert_eq!(Kid::parse(good).unwrap().as_str(), good);
        }
        let long = "k".repeat(65);
        for bad in [
            "",
            "@alice",
            "+x",
            "a b",
            "*@example.com",
            "a,b",
            "a/b",
            long.as_str(),
        ] {
            assert!(Kid::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_round_trip_as_plain_json_strings_and_refuse_bad_text() {
        let id: RunId = serde_json::from_str("\"run_1\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"run_1\"");
        assert!(serde_json::from_str::<RunId>("\"../run\"").is_err());
        assert!(serde_json::from_str::<ReceiptId>("\"rcq_1\"").is_err());
        assert!(serde_json::from_str::<Kid>("\"a b\"").is_err());
        let pr: PrNumber = serde_json::from_str("42").unwrap();
        assert_eq!((pr.get(), pr.to_string()), (42, "42".to_owned()));
        assert_eq!(serde_json::to_string(&CommentId::new(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<Kid>("\"mint-1\"").unwrap(),
            Kid::parse("mint-1").unwrap()
        );
    }
}
