//! Policy evaluation tables (DESIGN 3): quorum from groups and teams, deny, freeze
//! boundaries, NO_RULE_MATCHES, several rules at once, and presets.

use shipgate::plan::{Operation, check_plan};
use shipgate::policy::{OperationDecision, Policy, PolicyFile, ReasonCode, evaluate, load_policy};
use time::OffsetDateTime;
use time::macros::datetime;

fn policy(text: &str) -> Policy {
    load_policy(&[PolicyFile {
        name: "policy.yaml".into(),
        bytes: text.as_bytes().to_vec(),
    }])
    .unwrap_or_else(|e| panic!("{e}"))
}

fn op(yaml: &str) -> Operation {
    let text = format!("version: 1\noperations:\n  - {yaml}\n");
    check_plan("op.yaml", text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .operations
        .remove(0)
}

fn decide(policy: &Policy, yaml: &str, at: OffsetDateTime) -> OperationDecision {
    evaluate(policy, &[op(yaml)], at).remove(0)
}

fn codes(d: &OperationDecision) -> Vec<ReasonCode> {
    d.findings.iter().map(|f| f.code).collect()
}

const TAG: &str = "{kind: tag, name: v1.4.0, target: main}";
const LATEST: &str = "{kind: tag, name: latest, target: main}";
const RELEASE: &str = "{kind: release, tag: v1.4.0}";
const PR: &str = "{kind: pull_request, head: release/1.4, base: main, title: t}";
const NOON: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

const BASE: &str = "\
version: 1
groups:
  release-managers: { users: [Alice, bob, carol] }
  security: { users: [dave], teams: [acme/security] }
rules:
  - name: releases need two release managers
    match: { kinds: [tag, release], refs: [\"v*\"] }
    approvals: { required: 2, from: [release-managers] }
  - name: security signs off tags
    match: { kinds: [tag] }
    approvals: { required: 1, from: [security] }
    self_approval: true
    receipt_ttl: 1h30m
deny:
  - name: no moving tags
    match: { kinds: [tag], refs: [latest, stable] }
    reason: moving tags break reproducible builds
freeze:
  - name: year-end freeze
    from: 2026-12-20T00:00:00Z
    until: 2027-01-04T00:00:00Z
";

#[test]
fn quorum_comes_from_the_named_groups() {
    let d = decide(&policy(BASE), RELEASE, NOON);
    assert!(d.is_allowed(), "{:?}", d.findings);
    assert_eq!(d.requirements.len(), 1);
    let r = &d.requirements[0];
    assert_eq!(r.required, 2);
    let users: Vec<&str> = r.users.iter().map(|u| u.as_str()).collect();
    assert_eq!(
        users,
        ["alice", "bob", "carol"],
        "logins are lowercased and sorted"
    );
    assert!(!r.self_approval);
    assert_eq!(r.receipt_ttl_secs, 24 * 3600, "the default ttl");
}

#[test]
fn several_matching_rules_all_apply_and_teams_count_as_members() {
    let d = decide(&policy(BASE), TAG, NOON);
    assert!(d.is_allowed(), "{:?}", d.findings);
    let rules: Vec<&str> = d.requirements.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "releases need two release managers",
            "security signs off tags"
        ]
    );
    let security = &d.requirements[1];
    assert_eq!(
        security
            .teams
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>(),
        ["acme/security"]
    );
    assert!(security.self_approval);
    assert_eq!(security.receipt_ttl_secs, 5400);
}

#[test]
fn a_deny_rule_blocks_even_when_rules_match() {
    let d = decide(&policy(BASE), LATEST, NOON);
    assert_eq!(codes(&d), [ReasonCode::PolicyDenied]);
    assert!(
        d.findings[0]
            .message
            .contains("moving tags break reproducible builds")
    );
}

#[test]
fn an_operation_no_rule_matches_is_denied() {
    let d = decide(&policy(BASE), PR, NOON);
    assert_eq!(codes(&d), [ReasonCode::NoRuleMatches]);
    let empty = policy("version: 1\n");
    assert_eq!(
        codes(&decide(&empty, TAG, NOON)),
        [ReasonCode::NoRuleMatches]
    );
}

#[test]
fn refs_patterns_decide_which_rules_match() {
    let p = policy(BASE);
    // "v*" does not match a tag named 1.4.0, but the security rule (no refs) still does.
    let d = decide(&p, "{kind: tag, name: 1.4.0, target: main}", NOON);
    assert_eq!(
        d.requirements
            .iter()
            .map(|r| r.rule.as_str())
            .collect::<Vec<_>>(),
        ["security signs off tags"]
    );
    // A release of 1.4.0 matches nothing.
    assert_eq!(
        codes(&decide(&p, "{kind: release, tag: 1.4.0}", NOON)),
        [ReasonCode::NoRuleMatches]
    );
}

#[test]
fn a_freeze_starts_inclusive_and_ends_exclusive() {
    let p = policy(BASE);
    let table = [
        (datetime!(2026-12-19 23:59:59 UTC), false),
        (datetime!(2026-12-20 00:00:00 UTC), true),
        (datetime!(2027-01-03 23:59:59 UTC), true),
        (datetime!(2027-01-04 00:00:00 UTC), false),
    ];
    for (at, frozen) in table {
        let d = decide(&p, RELEASE, at);
        assert_eq!(codes(&d).contains(&ReasonCode::Frozen), frozen, "at {at}");
    }
}

#[test]
fn a_quorum_larger_than_its_groups_is_unreachable() {
    let p = policy(
        "version: 1\ngroups:\n  solo: { users: [alice] }\nrules:\n  - name: two of one\n    approvals: { required: 2, from: [solo] }\n",
    );
    assert_eq!(
        codes(&decide(&p, TAG, NOON)),
        [ReasonCode::QuorumUnreachable]
    );
}

#[test]
fn presets_bring_their_rules_and_denies() {
    let p = policy(
        "version: 1\nextends: [shipgate:two-person-release]\ngroups:\n  release-managers: { users: [alice, bob] }\n",
    );
    assert_eq!(p.presets, ["shipgate:two-person-release"]);
    let tag = decide(&p, TAG, NOON);
    assert!(tag.is_allowed());
    assert_eq!(tag.requirements[0].required, 2);
    assert_eq!(decide(&p, PR, NOON).requirements[0].required, 1);
    // No preset rule matches a tag named `latest`, and the preset denies it too: both are said.
    assert_eq!(
        codes(&decide(&p, LATEST, NOON)),
        [ReasonCode::NoRuleMatches, ReasonCode::PolicyDenied]
    );

    let solo = policy(
        "version: 1\nextends: [shipgate:solo-maintainer]\ngroups:\n  maintainers: { users: [alice] }\n",
    );
    let d = decide(&solo, RELEASE, NOON);
    assert!(d.is_allowed());
    assert!(d.requirements[0].self_approval);
}

#[test]
fn a_preset_needs_the_groups_it_names() {
    let err = load_policy(&[PolicyFile {
        name: "p.yaml".into(),
        bytes: b"version: 1\nextends: [shipgate:two-person-release]\n".to_vec(),
    }])
    .expect_err("release-managers is undefined");
    assert_eq!(err.0[0].kind, shipgate::diag::InputErrorKind::UnknownGroup);
    assert_eq!(err.0[0].file, "shipgate:two-person-release");
}

#[test]
fn the_policy_hash_follows_meaning_not_spelling() {
    let a = policy(BASE);
    let reordered = BASE.replace("[Alice, bob, carol]", "[carol, alice, Bob]");
    assert_eq!(a.hash, policy(&reordered).hash);
    let widened = BASE.replace("[Alice, bob, carol]", "[alice, bob, carol, eve]");
    assert_ne!(a.hash, policy(&widened).hash);
    let weakened = BASE.replace("required: 2", "required: 1");
    assert_ne!(a.hash, policy(&weakened).hash);
}

#[test]
fn signers_are_parsed_with_their_roles_and_retirement() {
    let text = format!(
        "version: 1\nsigners:\n  - kid: mint-1\n    role: mint\n    key: {key} comment\n  - kid: audit@ci.example\n    role: audit\n    key: {key}\n    not_after: 2027-01-10T00:00:00Z\n",
        key = crate::fixture::SIGNER_KEY
    );
    let p = policy(&text);
    assert!(p.has_signer(shipgate::policy::SignerRole::Mint));
    assert!(p.has_signer(shipgate::policy::SignerRole::Audit));
    assert_eq!(
        p.signers[1].not_after,
        Some(datetime!(2027-01-10 00:00 UTC))
    );
    assert_eq!(p.signers[0].openssh_key(), crate::fixture::SIGNER_KEY);
    assert_eq!(p.signers[1].kid.as_str(), "audit@ci.example");
}

#[test]
fn the_shipped_presets_parse_on_their_own() {
    for (name, text) in shipgate::policy::PRESETS {
        let raw: Result<Policy, _> = load_policy(&[PolicyFile {
            name: (*name).into(),
            bytes: text.as_bytes().to_vec(),
        }]);
        // A preset alone names groups it does not define: only UNKNOWN_GROUP may be reported.
        if let Err(e) = raw {
            assert!(
                e.0.iter()
                    .all(|d| d.kind == shipgate::diag::InputErrorKind::UnknownGroup),
                "{name}: {e}"
            );
        }
    }
}
