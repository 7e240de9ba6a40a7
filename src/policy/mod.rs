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
mod pattern;
mod raw;
pub mod signer;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use duration::{format_duration, parse_duration};
pub use eval::{Finding, OperationDecision, ReasonCode, Requirement, blocking_findings, evaluate};
pub use pattern::RefPattern;
pub use signer::{Signer, SignerRole};

use self::raw::{RawMatch, RawPolicy};
use crate::canonical;
use crate::diag::{Diagnostic, Diagnostics, InputErrorKind};
use crate::model::{Login, TeamSlug};
use crate::plan::OpKind;
use crate::yaml::{self, Document, Seg};

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

#[derive(Serialize)]
struct HashedSigner<'a> {
    kid: &'a str,
    role: SignerRole,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
}

#[derive(Serialize)]
struct HashedPolicy<'a> {
    version: u32,
    groups: &'a BTreeMap<String, Group>,
    rules: &'a [Rule],
    deny: &'a [Deny],
    freeze: &'a [Freeze],
    halt_admins: &'a BTreeSet<Login>,
    signers: Vec<HashedSigner<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_ttl: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audit_genesis: Option<&'a str>,
}

/// Where each list item came from, to point at it after merging.
#[derive(Clone, Copy)]
struct Origin {
    doc: usize,
    index: usize,
}

struct Loader<'a> {
    docs: Vec<Document<'a>>,
    problems: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn at(
        &mut self,
        doc: usize,
        path: &[Seg<'_>],
        kind: InputErrorKind,
        message: String,
        hint: &str,
    ) {
        let mut d = self.docs[doc].error_at(path, kind, message);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.problems.push(d);
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

fn merge(
    loader: &mut Loader<'_>,
    raws: &[RawPolicy],
    presets: Vec<String>,
    files: Vec<String>,
    files_start: usize,
) -> Policy {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut deny = Vec::new();
    let mut freeze: Vec<(Freeze, Origin)> = Vec::new();
    let mut halt_admins = BTreeSet::new();
    let mut signers: Vec<Signer> = Vec::new();
    let mut rule_groups: Vec<(Vec<String>, Origin)> = Vec::new();

    for (doc, raw) in raws.iter().enumerate() {
        if raw.version != 1 {
            loader.at(
                doc,
                &[Seg::Key("version")],
                InputErrorKind::UnsupportedVersion,
                format!(
                    "policy version {} is not supported; expected 1",
                    raw.version
                ),
                "write `version: 1`",
            );
        }
        if doc < files_start && !raw.extends.is_empty() {
            loader.at(
                doc,
                &[Seg::Key("extends")],
                InputErrorKind::InvalidValue,
                "a preset cannot extend another".into(),
                "",
            );
        }
        for (name, raw_group) in &raw.groups {
            let path = [Seg::Key("groups"), Seg::KeyItself(name)];
            if !valid_group_name(name) {
                loader.at(
                    doc,
                    &path,
                    InputErrorKind::InvalidValue,
                    format!("group name `{name}` is not valid"),
                    "use lowercase letters, digits, '-' and '_' (up to 64)",
                );
                continue;
            }
            if groups.contains_key(name) {
                loader.at(
                    doc,
                    &path,
                    InputErrorKind::DuplicateGroup,
                    format!("group `{name}` is defined more than once"),
                    "define each group in one policy file",
                );
                continue;
            }
            let mut group = Group {
                users: BTreeSet::new(),
                teams: BTreeSet::new(),
            };
            for (i, user) in raw_group.users.iter().enumerate() {
                match Login::parse(user) {
                    Ok(login) => {
                        group.users.insert(login);
                    }
                    Err(e) => loader.at(
                        doc,
                        &[
                            Seg::Key("groups"),
                            Seg::Key(name),
                            Seg::Key("users"),
                            Seg::Index(i),
                        ],
                        InputErrorKind::InvalidValue,
                        e.to_string(),
                        "write a GitHub login, e.g. octocat",
                    ),
                }
            }
            for (i, team) in raw_group.teams.iter().enumerate() {
                match TeamSlug::parse(team) {
                    Ok(slug) => {
                        group.teams.insert(slug);
                    }
                    Err(e) => loader.at(
                        doc,
                        &[
                            Seg::Key("groups"),
                            Seg::Key(name),
                            Seg::Key("teams"),
                            Seg::Index(i),
                        ],
                        InputErrorKind::InvalidValue,
                        e.to_string(),
                        "write org/team-slug, e.g. acme/release",
                    ),
                }
            }
            if raw_group.users.is_empty() && raw_group.teams.is_empty() {
                loader.at(
                    doc,
                    &path,
                    InputErrorKind::InvalidValue,
                    format!("group `{name}` has no users and no teams"),
                    "add members, or remove the group",
                );
            }
            groups.insert(name.clone(), group);
        }
        for (index, r) in raw.rules.iter().enumerate() {
            let at = |field: &'static str| [Seg::Key("rules"), Seg::Index(index), Seg::Key(field)];
            check_name(loader, doc, &at("name"), &r.name);
            let matcher = check_match(loader, doc, "rules", index, r.matcher.as_ref());
            let required = match r.approvals.required {
                n @ 1..=MAX_REQUIRED_APPROVALS => n as u32,
                n => {
                    loader.at(
                        doc,
                        &[
                            Seg::Key("rules"),
                            Seg::Index(index),
                            Seg::Key("approvals"),
                            Seg::Key("required"),
                        ],
                        InputErrorKind::InvalidValue,
                        format!("`required: {n}` is out of range"),
                        "a rule needs 1 to 100 approvals; to forbid an operation, use a deny rule",
                    );
                    1
                }
            };
            if r.approvals.from.is_empty() {
                loader.at(
                    doc,
                    &[
                        Seg::Key("rules"),
                        Seg::Index(index),
                        Seg::Key("approvals"),
                        Seg::Key("from"),
                    ],
                    InputErrorKind::InvalidValue,
                    "`from` names no group".into(),
                    "name at least one group",
                );
            }
            let receipt_ttl_secs = match &r.receipt_ttl {
                None => DEFAULT_RECEIPT_TTL_SECS,
                Some(text) => match parse_duration(text) {
                    Ok(secs) if secs > CLOCK_SKEW_SECS && secs <= MAX_RECEIPT_TTL_SECS => secs,
                    Ok(_) => {
                        loader.at(
                            doc,
                            &at("receipt_ttl"),
                            InputErrorKind::InvalidDuration,
                            format!("receipt_ttl `{text}` is out of range"),
                            "use more than 1m (the gate's 60 s clock-skew allowance) and at most 30d",
                        );
                        DEFAULT_RECEIPT_TTL_SECS
                    }
                    Err(why) => {
                        loader.at(
                            doc,
                            &at("receipt_ttl"),
                            InputErrorKind::InvalidDuration,
                            format!("receipt_ttl `{text}` is not a duration: {why}"),
                            "write e.g. 24h, 90m or 1h30m",
                        );
                        DEFAULT_RECEIPT_TTL_SECS
                    }
                },
            };
            rule_groups.push((r.approvals.from.clone(), Origin { doc, index }));
            rules.push(Rule {
                name: r.name.clone(),
                matcher,
                required,
                from: r.approvals.from.clone(),
                self_approval: r.self_approval.unwrap_or(false),
                receipt_ttl_secs,
                source: loader.docs[doc].file().to_owned(),
            });
        }
        for (index, d) in raw.deny.iter().enumerate() {
            check_name(
                loader,
                doc,
                &[Seg::Key("deny"), Seg::Index(index), Seg::Key("name")],
                &d.name,
            );
            check_name(
                loader,
                doc,
                &[Seg::Key("deny"), Seg::Index(index), Seg::Key("reason")],
                &d.reason,
            );
            let matcher = check_match(loader, doc, "deny", index, Some(&d.matcher));
            deny.push(Deny {
                name: d.name.clone(),
                matcher,
                reason: d.reason.clone(),
            });
        }
        for (index, f) in raw.freeze.iter().enumerate() {
            let at = |field: &'static str| [Seg::Key("freeze"), Seg::Index(index), Seg::Key(field)];
            check_name(loader, doc, &at("name"), &f.name);
            let from = parse_instant(loader, doc, &at("from"), &f.from);
            let until = parse_instant(loader, doc, &at("until"), &f.until);
            if let (Some(from), Some(until)) = (from, until) {
                if until <= from {
                    loader.at(
                        doc,
                        &at("until"),
                        InputErrorKind::FreezeInverted,
                        format!("freeze `{}` ends before it starts", f.name),
                        "`until` must be later than `from`",
                    );
                } else {
                    freeze.push((
                        Freeze {
                            name: f.name.clone(),
                            from,
                            until,
                        },
                        Origin { doc, index },
                    ));
                }
            }
        }
        for (i, admin) in raw.halt_admins.iter().enumerate() {
            match Login::parse(admin) {
                Ok(login) => {
                    halt_admins.insert(login);
                }
                Err(e) => loader.at(
                    doc,
                    &[Seg::Key("halt_admins"), Seg::Index(i)],
                    InputErrorKind::InvalidValue,
                    e.to_string(),
                    "write a GitHub login",
                ),
            }
        }
        for (index, s) in raw.signers.iter().enumerate() {
            let at =
                |field: &'static str| [Seg::Key("signers"), Seg::Index(index), Seg::Key(field)];
            let kid_ok = (1..=64).contains(&s.kid.len())
                && s.kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !kid_ok {
                loader.at(
                    doc,
                    &at("kid"),
                    InputErrorKind::InvalidValue,
                    format!("key id `{}` is not valid", s.kid),
                    "use 1-64 letters, digits, '-', '_' or '.'",
                );
            } else if signers.iter().any(|other| other.kid == s.kid) {
                loader.at(
                    doc,
                    &at("kid"),
                    InputErrorKind::DuplicateSigner,
                    format!("key id `{}` is used by more than one signer", s.kid),
                    "give each key its own kid",
                );
            }
            let role = SignerRole::parse(&s.role);
            if role.is_none() {
                loader.at(
                    doc,
                    &at("role"),
                    InputErrorKind::InvalidValue,
                    format!("role `{}` is not mint or audit", s.role),
                    "mint keys sign receipts; audit keys sign audit commits",
                );
            }
            let key = match signer::parse_signer_key(&s.key) {
                Ok(key) => Some(key),
                Err(e) => {
                    loader.at(
                        doc,
                        &at("key"),
                        InputErrorKind::InvalidSignerKey,
                        e.to_string(),
                        "paste the line printed by `shipgate keys generate` (ssh-ed25519 AAAA...)",
                    );
                    None
                }
            };
            let not_before = s
                .not_before
                .as_ref()
                .and_then(|t| parse_instant(loader, doc, &at("not_before"), t));
            let not_after = s
                .not_after
                .as_ref()
                .and_then(|t| parse_instant(loader, doc, &at("not_after"), t));
            if let (Some(start), Some(limit)) = (not_before, not_after)
                && limit < start
            {
                loader.at(
                    doc,
                    &at("not_after"),
                    InputErrorKind::InvalidValue,
                    format!("signer `{}` is retired before it comes into force", s.kid),
                    "`not_after` must not be earlier than `not_before`",
                );
            }
            if let (true, Some(role), Some(key)) = (kid_ok, role, key) {
                signers.push(Signer {
                    kid: s.kid.clone(),
                    role,
                    key,
                    not_before,
                    not_after,
                });
            }
        }
    }
    for (from, origin) in &rule_groups {
        for (i, group) in from.iter().enumerate() {
            if !groups.contains_key(group) {
                let known: Vec<&str> = groups.keys().map(String::as_str).collect();
                let hint = if known.is_empty() {
                    "define it under `groups:`".to_owned()
                } else {
                    format!("define it under `groups:`; defined: {}", known.join(", "))
                };
                loader.at(
                    origin.doc,
                    &[
                        Seg::Key("rules"),
                        Seg::Index(origin.index),
                        Seg::Key("approvals"),
                        Seg::Key("from"),
                        Seg::Index(i),
                    ],
                    InputErrorKind::UnknownGroup,
                    format!("rule names group `{group}`, which no policy defines"),
                    &hint,
                );
            }
        }
    }
    freeze.sort_by_key(|(f, _)| (f.from, f.until));
    for pair in freeze.windows(2) {
        let ((earlier, _), (later, origin)) = (&pair[0], &pair[1]);
        if later.from < earlier.until {
            loader.at(
                origin.doc,
                &[
                    Seg::Key("freeze"),
                    Seg::Index(origin.index),
                    Seg::Key("from"),
                ],
                InputErrorKind::FreezeOverlap,
                format!("freeze `{}` overlaps freeze `{}`", later.name, earlier.name),
                "merge the two windows into one",
            );
        }
    }
    let freeze: Vec<Freeze> = freeze.into_iter().map(|(f, _)| f).collect();
    let settings = merge_settings(loader, raws);
    let hashed = HashedPolicy {
        version: 1,
        groups: &groups,
        rules: &rules,
        deny: &deny,
        freeze: &freeze,
        halt_admins: &halt_admins,
        signers: signers
            .iter()
            .map(|s| HashedSigner {
                kid: &s.kid,
                role: s.role,
                key: s.openssh_key(),
                not_before: s.not_before.map(format_utc),
                not_after: s.not_after.map(format_utc),
            })
            .collect(),
        approval_ttl: settings.approval_ttl_secs,
        audit_genesis: settings.genesis.as_deref(),
    };
    let hash = canonical::canonical_digest(&hashed)
        .expect("a policy holds only strings, booleans and integers");
    Policy {
        groups,
        rules,
        deny,
        freeze,
        halt_admins,
        signers,
        presets,
        files,
        genesis: settings.genesis,
        approval_ttl_secs: settings
            .approval_ttl_secs
            .unwrap_or(DEFAULT_APPROVAL_TTL_SECS),
        hash,
    }
}

/// The policy-wide settings: `approval_ttl` and `audit.genesis`. Two files that set one
/// differently are an error: which one wins would be an accident of file names.
struct Settings {
    approval_ttl_secs: Option<u64>,
    genesis: Option<String>,
}

fn merge_settings(loader: &mut Loader<'_>, raws: &[RawPolicy]) -> Settings {
    let mut settings = Settings {
        approval_ttl_secs: None,
        genesis: None,
    };
    for (doc, raw) in raws.iter().enumerate() {
        if let Some(text) = &raw.approval_ttl {
            let at = [Seg::Key("approval_ttl")];
            match parse_duration(text) {
                Ok(secs) if secs > 0 => {
                    if settings.approval_ttl_secs.is_some_and(|s| s != secs) {
                        loader.at(
                            doc,
                            &at,
                            InputErrorKind::InvalidValue,
                            format!("approval_ttl `{text}` differs from another policy file's"),
                            "set approval_ttl in one policy file",
                        );
                    }
                    settings.approval_ttl_secs = Some(secs);
                }
                Ok(_) => loader.at(
                    doc,
                    &at,
                    InputErrorKind::InvalidValue,
                    "approval_ttl is zero".to_owned(),
                    "write how long an approval counts, e.g. 14d",
                ),
                Err(why) => loader.at(
                    doc,
                    &at,
                    InputErrorKind::InvalidValue,
                    format!("approval_ttl `{text}` is not a duration: {why}"),
                    "write e.g. 14d or 72h",
                ),
            }
        }
        if let Some(genesis) = raw.audit.as_ref().and_then(|a| a.genesis.as_ref()) {
            let at = [Seg::Key("audit"), Seg::Key("genesis")];
            let well_formed = genesis.len() == 40
                && genesis
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !well_formed {
                loader.at(
                    doc,
                    &at,
                    InputErrorKind::InvalidValue,
                    format!("audit.genesis `{genesis}` is not a commit id"),
                    "write the 40-hex id of the governance branch's first commit (`shipgate doctor` prints it)",
                );
            } else if settings.genesis.as_ref().is_some_and(|g| g != genesis) {
                loader.at(
                    doc,
                    &at,
                    InputErrorKind::InvalidValue,
                    format!("audit.genesis `{genesis}` differs from another policy file's"),
                    "pin the genesis in one policy file",
                );
            } else {
                settings.genesis = Some(genesis.clone());
            }
        }
    }
    settings
}

fn valid_group_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

fn check_name(loader: &mut Loader<'_>, doc: usize, path: &[Seg<'_>], text: &str) {
    if text.trim().is_empty() || text.chars().count() > 500 || text.chars().any(char::is_control) {
        loader.at(
            doc,
            path,
            InputErrorKind::InvalidValue,
            "names and reasons are 1 to 500 printable characters on one line".into(),
            "shorten it or remove line breaks",
        );
    }
}

fn check_match(
    loader: &mut Loader<'_>,
    doc: usize,
    section: &'static str,
    index: usize,
    raw: Option<&RawMatch>,
) -> Matcher {
    let Some(raw) = raw else {
        return Matcher {
            kinds: None,
            refs: None,
        };
    };
    let base = [Seg::Key(section), Seg::Index(index), Seg::Key("match")];
    let kinds = raw.kinds.as_ref().map(|kinds| {
        if kinds.is_empty() {
            loader.at(
                doc,
                &[base[0], base[1], base[2], Seg::Key("kinds")],
                InputErrorKind::InvalidValue,
                "`kinds` is empty and would match nothing".into(),
                "omit `kinds` to match every kind",
            );
        }
        let mut set = BTreeSet::new();
        for (i, k) in kinds.iter().enumerate() {
            match OpKind::parse(k) {
                Some(kind) => {
                    set.insert(kind);
                }
                None => loader.at(
                    doc,
                    &[base[0], base[1], base[2], Seg::Key("kinds"), Seg::Index(i)],
                    InputErrorKind::UnknownKind,
                    format!("unknown operation kind `{k}`"),
                    "use tag, release or pull_request",
                ),
            }
        }
        set
    });
    let refs = raw.refs.as_ref().map(|refs| {
        if refs.is_empty() {
            loader.at(
                doc,
                &[base[0], base[1], base[2], Seg::Key("refs")],
                InputErrorKind::InvalidValue,
                "`refs` is empty and would match nothing".into(),
                "omit `refs` to match every ref",
            );
        }
        refs.iter()
            .enumerate()
            .filter_map(|(i, p)| match RefPattern::parse(p) {
                Ok(p) => Some(p),
                Err(why) => {
                    loader.at(
                        doc,
                        &[base[0], base[1], base[2], Seg::Key("refs"), Seg::Index(i)],
                        InputErrorKind::InvalidValue,
                        format!("ref pattern `{p}`: {why}"),
                        "write e.g. v* or release/*",
                    );
                    None
                }
            })
            .collect()
    });
    Matcher { kinds, refs }
}

fn parse_instant(
    loader: &mut Loader<'_>,
    doc: usize,
    path: &[Seg<'_>],
    text: &str,
) -> Option<OffsetDateTime> {
    match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(t) => Some(t.to_offset(time::UtcOffset::UTC)),
        Err(_) => {
            loader.at(
                doc,
                path,
                InputErrorKind::InvalidTimestamp,
                format!("`{text}` is not an RFC 3339 timestamp"),
                "write e.g. 2026-12-20T00:00:00Z",
            );
            None
        }
    }
}
