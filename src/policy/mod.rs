//! Policies (DESIGN 3): who must approve what, what is denied or frozen, and whose keys are
//! trusted.
//!
//! [`load_policy`] parses every policy file, merges the `extends:` presets (shipped in the
//! top-level `policies/` directory and compiled in), checks the merged whole, and computes
//! the policy hash. [`evaluate`] applies a policy to a resolved plan. Both are pure: the
//! caller reads the files (from the default branch's commit, never from a PR head).

pub mod diff;
mod duration;
mod eval;
mod merge;
mod pattern;
mod raw;
pub mod signer;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use duration::{format_duration, parse_duration};
pub use eval::{
    Finding, OperationDecision, ReasonCode, Requirement, blocking_findings, evaluate, requirement,
};
pub use pattern::RefPattern;
pub use signer::{Signer, SignerRole};

use self::merge::{Loader, merge};
use self::raw::RawPolicy;
use crate::diag::{Diagnostics, InputErrorKind};
use crate::model::{Login, TeamSlug};
use crate::plan::OpKind;
use crate::yaml::{self, Seg};

/// Largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// Default receipt lifetime when a rule does not say.
pub const DEFAULT_RECEIPT_TTL_SECS: u64 = 24 * 3_600;
/// The clock skew the gate tolerates, in seconds: a `receipt_ttl` must exceed it, or the
/// receipt could be expired at the gate the moment it is minted (DESIGN 13.2).
const CLOCK_SKEW_SECS: u64 = crate::gate::CLOCK_SKEW.whole_seconds().unsigned_abs();
/// The longest lifetime any receipt may have, whatever the policy says (DESIGN 13.2).
pub const MAX_RECEIPT_TTL_SECS: u64 = 30 * 86_400;
const MAX_REQUIRED_APPROVALS: u64 = 100;

/// The presets shipped with shipgate, usable as `extends: [shipgate:<name>]`.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "shipgate:two-person-release",
        include_str!("../../policies/two-person-release.yaml"),
    ),
    (
        "shipgate:solo-maintainer",
        include_str!("../../policies/solo-maintainer.yaml"),
    ),
];

/// A policy file to load.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Its name in messages (a path, or the preset name).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A named set of approvers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Individual users.
    pub users: BTreeSet<Login>,
    /// Teams, whose membership is read from GitHub.
    pub teams: BTreeSet<TeamSlug>,
}

/// Which operations a rule, deny or freeze applies to. `None` means all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// Operation kinds.
    pub kinds: Option<BTreeSet<OpKind>>,
    /// Ref patterns (tag name for tags and releases, base branch for pull requests).
    pub refs: Option<Vec<RefPattern>>,
}

impl Matcher {
    /// Whether an operation of `kind` on `reference` is matched.
    pub fn matches(&self, kind: OpKind, reference: &str) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
            && self
                .refs
                .as_ref()
                .is_none_or(|r| r.iter().any(|p| p.matches(reference)))
    }
}

impl Serialize for Matcher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            kinds: Option<&'a BTreeSet<OpKind>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            refs: Option<Vec<&'a str>>,
        }
        View {
            kinds: self.kinds.as_ref(),
            refs: self
                .refs
                .as_ref()
                .map(|r| r.iter().map(RefPattern::as_str).collect()),
        }
        .serialize(s)
    }
}

/// An approval rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// What it applies to.
    #[serde(rename = "match")]
    pub matcher: Matcher,
    /// Distinct approvers needed.
    pub required: u32,
    /// Groups whose members may approve.
    pub from: Vec<String>,
    /// Whether the plan's author may count.
    pub self_approval: bool,
    /// Receipt lifetime in seconds.
    pub receipt_ttl_secs: u64,
    /// The file (or preset) it came from.
    #[serde(skip)]
    pub source: String,
}

/// A deny rule: matching operations are blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deny {
    /// Its name.
    pub name: String,
    /// What it applies to.
    #[serde(rename = "match")]
    pub matcher: Matcher,
    /// Why, in words shown to people.
    pub reason: String,
}

/// A freeze window: every operation is blocked from `from` (inclusive) to `until` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Freeze {
    /// Its name.
    pub name: String,
    /// Start, inclusive.
    #[serde(serialize_with = "rfc3339")]
    pub from: OffsetDateTime,
    /// End, exclusive.
    #[serde(serialize_with = "rfc3339")]
    pub until: OffsetDateTime,
}

impl Freeze {
    /// Whether `at` falls inside the window.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.until
    }
}

fn rfc3339<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_utc(*t))
}

/// Formats an instant as RFC 3339 in UTC with a `Z`.
pub fn format_utc(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A merged, checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Approval rules, presets first, then files in name order.
    pub rules: Vec<Rule>,
    /// Deny rules.
    pub deny: Vec<Deny>,
    /// Freeze windows, sorted by start.
    pub freeze: Vec<Freeze>,
    /// Who may halt and resume.
    pub halt_admins: BTreeSet<Login>,
    /// Trusted keys.
    pub signers: Vec<Signer>,
    /// The presets merged in, in order.
    pub presets: Vec<String>,
    /// The files merged (excluding presets), in order.
    pub files: Vec<String>,
    /// The audit chain's genesis commit (`audit.genesis`), once pinned (DESIGN 13.3).
    pub genesis: Option<String>,
    /// How long an approval comment counts after it was written (`approval_ttl`).
    pub approval_ttl_secs: u64,
    /// `sha256:` of the canonical JSON of the merged policy.
    pub hash: String,
}

/// How long an approval counts when the policy does not say: 14 days.
pub const DEFAULT_APPROVAL_TTL_SECS: u64 = 14 * 24 * 3600;

impl Policy {
    /// Whether the policy defines a key of `role`.
    pub fn has_signer(&self, role: SignerRole) -> bool {
        self.signers.iter().any(|s| s.role == role)
    }

    /// The longest lifetime the policy lets the mint give a receipt for an operation of
    /// `kind`: the largest `receipt_ttl` of the rules that can match it (the mint takes the
    /// smallest of the rules that do), never beyond 30 days, and zero when no rule can match
    /// (nothing of that kind is ever minted). What the gate holds a receipt's lifetime to
    /// (DESIGN 13.2).
    pub fn receipt_ttl_cap(&self, kind: OpKind) -> time::Duration {
        let secs = self
            .rules
            .iter()
            .filter(|r| r.matcher.kinds.as_ref().is_none_or(|k| k.contains(&kind)))
            .map(|r| r.receipt_ttl_secs)
            .max()
            .unwrap_or(0)
            .min(MAX_RECEIPT_TTL_SECS);
        time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// Parses, merges and checks policy files (and the presets they extend). All problems found
/// are reported together.
pub fn load_policy(files: &[PolicyFile]) -> Result<Policy, Diagnostics> {
    // Parse the files, then the presets they name (each once, in order of first mention).
    let mut docs = Vec::new();
    let mut raws = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match yaml::document(&file.name, &file.bytes, MAX_POLICY_BYTES)
            .and_then(|d| d.parse::<RawPolicy>().map(|r| (d, r)))
        {
            Ok((doc, raw)) => {
                docs.push(doc);
                raws.push(raw);
            }
            Err(d) => problems.push(d),
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let mut presets: Vec<String> = Vec::new();
    let mut loader = Loader {
        docs: Vec::new(),
        problems: Vec::new(),
    };
    let mut preset_raws = Vec::new();
    for (doc_index, raw) in raws.iter().enumerate() {
        for (i, name) in raw.extends.iter().enumerate() {
            match PRESETS.iter().find(|(n, _)| n == name) {
                Some((preset_name, text)) => {
                    if presets.iter().any(|p| p == preset_name) {
                        continue;
                    }
                    let doc = yaml::document(preset_name, text.as_bytes(), MAX_POLICY_BYTES)
                        .expect("presets are small UTF-8 files");
                    let raw: RawPolicy = doc.parse().expect("presets are tested to parse");
                    presets.push((*preset_name).to_owned());
                    preset_raws.push((doc, raw));
                }
                None => {
                    let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
                    problems.push(
                        docs[doc_index]
                            .error_at(
                                &[Seg::Key("extends"), Seg::Index(i)],
                                InputErrorKind::UnknownPreset,
                                format!("unknown preset `{name}`"),
                            )
                            .with_hint(format!("shipgate ships: {}", known.join(", "))),
                    );
                }
            }
        }
    }
    // Presets first, then the files, so a file's rules read as additions to its presets.
    let mut all_raws = Vec::new();
    for (doc, raw) in preset_raws {
        loader.docs.push(doc);
        all_raws.push(raw);
    }
    let files_start = loader.docs.len();
    loader.docs.extend(docs);
    all_raws.extend(raws);
    loader.problems = problems;
    let policy = merge(
        &mut loader,
        &all_raws,
        presets,
        files.iter().map(|f| f.name.clone()).collect(),
        files_start,
    );
    if loader.problems.is_empty() {
        Ok(policy)
    } else {
        Err(Diagnostics(loader.problems))
    }
}
