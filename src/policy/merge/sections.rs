//! The steps of a merge that read one section of one policy document: `version` and
//! `extends`, `groups`, `rules`, `deny`, `freeze`, `halt_admins`, `signers`, each checked
//! field by field (every problem reported at its place) and added to the merge so far.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Loader, Merged, Origin};
use crate::diag::InputErrorKind;
use crate::model::{KID_RULE, Kid, Login, TeamSlug};
use crate::plan::OpKind;
use crate::policy::raw::{RawGroup, RawMatch, RawPolicy, RawRule, RawSigner};
use crate::policy::{
    CLOCK_SKEW_SECS, DEFAULT_RECEIPT_TTL_SECS, Deny, Freeze, Group, MAX_RECEIPT_TTL_SECS,
    MAX_REQUIRED_APPROVALS, Matcher, RefPattern, Rule, Signer, SignerRole, parse_duration, signer,
};
use crate::yaml::Seg;

/// `version: 1`, and `extends` only in files, never in presets.
pub(super) fn check_header(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    files_start: usize,
) {
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
}

/// `groups:`: each name valid and defined once across all files.
pub(super) fn merge_groups(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    groups: &mut BTreeMap<String, Group>,
) {
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
        let group = group_members(loader, doc, name, raw_group);
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
}

/// A group's users (GitHub logins) and teams (`org/team-slug`).
fn group_members(loader: &mut Loader<'_>, doc: usize, name: &str, raw_group: &RawGroup) -> Group {
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
    group
}

/// `rules:`: each rule's name, match, quorum and receipt lifetime; the groups it names are
/// checked once every file is merged ([`check_rule_groups`]).
pub(super) fn merge_rules(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    merged: &mut Merged,
) {
    for (index, r) in raw.rules.iter().enumerate() {
        let at = |field: &'static str| [Seg::Key("rules"), Seg::Index(index), Seg::Key(field)];
        check_name(loader, doc, &at("name"), &r.name);
        let matcher = check_match(loader, doc, "rules", index, r.matcher.as_ref());
        let approvals_at = |field: &'static str| {
            [
                Seg::Key("rules"),
                Seg::Index(index),
                Seg::Key("approvals"),
                Seg::Key(field),
            ]
        };
        let required = match r.approvals.required {
            n @ 1..=MAX_REQUIRED_APPROVALS => n as u32,
            n => {
                loader.at(
                    doc,
                    &approvals_at("required"),
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
                &approvals_at("from"),
                InputErrorKind::InvalidValue,
                "`from` names no group".into(),
                "name at least one group",
            );
        }
        let receipt_ttl_secs = rule_receipt_ttl(loader, doc, &at("receipt_ttl"), r);
        merged
            .rule_groups
            .push((r.approvals.from.clone(), Origin { doc, index }));
        merged.rules.push(Rule {
            name: r.name.clone(),
            matcher,
            required,
            from: r.approvals.from.clone(),
            self_approval: r.self_approval.unwrap_or(false),
            receipt_ttl_secs,
            source: loader.docs[doc].file().to_owned(),
        });
    }
}

/// A rule's `receipt_ttl`: above the gate's clock-skew allowance, at most 30 days; the default
/// when absent or wrong (the error is reported).
fn rule_receipt_ttl(loader: &mut Loader<'_>, doc: usize, path: &[Seg<'_>], r: &RawRule) -> u64 {
    let Some(text) = &r.receipt_ttl else {
        return DEFAULT_RECEIPT_TTL_SECS;
    };
    match parse_duration(text) {
        Ok(secs) if secs > CLOCK_SKEW_SECS && secs <= MAX_RECEIPT_TTL_SECS => secs,
        Ok(_) => {
            loader.at(
                doc,
                path,
                InputErrorKind::InvalidDuration,
                format!("receipt_ttl `{text}` is out of range"),
                "use more than 1m (the gate's 60 s clock-skew allowance) and at most 30d",
            );
            DEFAULT_RECEIPT_TTL_SECS
        }
        Err(why) => {
            loader.at(
                doc,
                path,
                InputErrorKind::InvalidDuration,
                format!("receipt_ttl `{text}` is not a duration: {why}"),
                "write e.g. 24h, 90m or 1h30m",
            );
            DEFAULT_RECEIPT_TTL_SECS
        }
    }
}

/// `deny:`: each rule's name, reason and match.
pub(super) fn merge_deny(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    deny: &mut Vec<Deny>,
) {
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
}

/// `freeze:`: each window's name and instants, ending after it starts; overlaps across files
/// are checked once every file is merged ([`check_freeze_overlaps`]).
pub(super) fn merge_freeze(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    freeze: &mut Vec<(Freeze, Origin)>,
) {
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
}

/// `halt_admins:`: GitHub logins.
pub(super) fn merge_halt_admins(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    halt_admins: &mut BTreeSet<Login>,
) {
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
}

/// `signers:`: each signer whose kid, role and key are all valid joins the trusted keys.
pub(super) fn merge_signers(
    loader: &mut Loader<'_>,
    doc: usize,
    raw: &RawPolicy,
    signers: &mut Vec<Signer>,
) {
    for (index, s) in raw.signers.iter().enumerate() {
        if let Some(signer) = check_signer(loader, doc, index, s, signers) {
            signers.push(signer);
        }
    }
}

/// One signer: a valid kid used once, the role mint or audit, an Ed25519 key, and a window of
/// force that does not end before it begins.
fn check_signer(
    loader: &mut Loader<'_>,
    doc: usize,
    index: usize,
    s: &RawSigner,
    signers: &[Signer],
) -> Option<Signer> {
    let at = |field: &'static str| [Seg::Key("signers"), Seg::Index(index), Seg::Key(field)];
    let kid = Kid::parse(&s.kid).ok();
    if kid.is_none() {
        loader.at(
            doc,
            &at("kid"),
            InputErrorKind::InvalidValue,
            format!("key id `{}` is not valid", s.kid),
            &format!("use {KID_RULE}"),
        );
    } else if signers.iter().any(|other| other.kid.as_str() == s.kid) {
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
    match (kid, role, key) {
        (Some(kid), Some(role), Some(key)) => Some(Signer {
            kid,
            role,
            key,
            not_before,
            not_after,
        }),
        _ => None,
    }
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
