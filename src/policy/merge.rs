//! Merging policy documents into one [`Policy`] (DESIGN 3): each section of each document
//! checked and merged in its own step (groups, rules, deny, freeze, halt admins, signers), then
//! the checks that span files (rules' groups, overlapping freezes, the policy-wide settings),
//! then the hash. Every problem is collected with its place in its file, none stops the others.
//! The per-section steps are in `sections`. Pure: the documents are parsed by
//! [`super::load_policy`].

mod sections;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use self::sections::{
    check_header, merge_deny, merge_freeze, merge_groups, merge_halt_admins, merge_rules,
    merge_signers,
};
use super::raw::RawPolicy;
use super::{
    DEFAULT_APPROVAL_TTL_SECS, Deny, Freeze, Group, Policy, Rule, Signer, SignerRole, format_utc,
    parse_duration,
};
use crate::canonical;
use crate::diag::{Diagnostic, InputErrorKind};
use crate::model::Login;
use crate::yaml::{Document, Seg};

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

pub(super) struct Loader<'a> {
    pub(super) docs: Vec<Document<'a>>,
    pub(super) problems: Vec<Diagnostic>,
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

/// Everything merged so far, in file order, with where each freeze and rule came from.
#[derive(Default)]
struct Merged {
    groups: BTreeMap<String, Group>,
    rules: Vec<Rule>,
    deny: Vec<Deny>,
    freeze: Vec<(Freeze, Origin)>,
    halt_admins: BTreeSet<Login>,
    signers: Vec<Signer>,
    rule_groups: Vec<(Vec<String>, Origin)>,
}

/// Merges the parsed documents (presets first, then the files from `files_start`) into one
/// policy, section by section, then checks what spans files (rules' groups, overlapping
/// freezes, the policy-wide settings) and hashes the whole. Problems go to `loader`.
pub(super) fn merge(
    loader: &mut Loader<'_>,
    raws: &[RawPolicy],
    presets: Vec<String>,
    files: Vec<String>,
    files_start: usize,
) -> Policy {
    let mut merged = Merged::default();
    for (doc, raw) in raws.iter().enumerate() {
        check_header(loader, doc, raw, files_start);
        merge_groups(loader, doc, raw, &mut merged.groups);
        merge_rules(loader, doc, raw, &mut merged);
        merge_deny(loader, doc, raw, &mut merged.deny);
        merge_freeze(loader, doc, raw, &mut merged.freeze);
        merge_halt_admins(loader, doc, raw, &mut merged.halt_admins);
        merge_signers(loader, doc, raw, &mut merged.signers);
    }
    check_rule_groups(loader, &merged);
    let freeze = check_freeze_overlaps(loader, std::mem::take(&mut merged.freeze));
    let settings = merge_settings(loader, raws);
    finish(merged, freeze, settings, presets, files)
}

/// Every group a rule names is defined in some file.
fn check_rule_groups(loader: &mut Loader<'_>, merged: &Merged) {
    for (from, origin) in &merged.rule_groups {
        for (i, group) in from.iter().enumerate() {
            if !merged.groups.contains_key(group) {
                let known: Vec<&str> = merged.groups.keys().map(String::as_str).collect();
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
}

/// Sorts the freeze windows by start and refuses any that overlaps the one before it.
fn check_freeze_overlaps(
    loader: &mut Loader<'_>,
    mut freeze: Vec<(Freeze, Origin)>,
) -> Vec<Freeze> {
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
    freeze.into_iter().map(|(f, _)| f).collect()
}

/// The merged policy and its hash over the canonical JSON of everything that judges.
fn finish(
    merged: Merged,
    freeze: Vec<Freeze>,
    settings: Settings,
    presets: Vec<String>,
    files: Vec<String>,
) -> Policy {
    let Merged {
        groups,
        rules,
        deny,
        halt_admins,
        signers,
        ..
    } = merged;
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
                kid: s.kid.as_str(),
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
