//! What changes between two policies, in words: the semantic diff a pull request that edits
//! `.shipgate/policies/` shows in its status comment (issue 13, class 12), so that a new mint
//! signer or a new approver never slips in unremarked.
//!
//! Items are matched by their names (signers by key id, groups, rules, denies and freezes by
//! name); an item under the same name whose content differs is "changed". The lines are plain
//! text: the renderers escape them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Policy, Signer, format_utc};
use crate::model::Kid;

/// The differences from `old` to `new`, one sentence each, in a stable order: signers, halt
/// admins, groups, rules, denies, freezes, settings. Empty when they mean the same.
pub fn diff(old: &Policy, new: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    signers(&old.signers, &new.signers, &mut lines);
    let (was, now): (BTreeSet<&str>, BTreeSet<&str>) = (
        old.halt_admins.iter().map(|l| l.as_str()).collect(),
        new.halt_admins.iter().map(|l| l.as_str()).collect(),
    );
    for added in now.difference(&was) {
        lines.push(format!("halt admin {added} added"));
    }
    for removed in was.difference(&now) {
        lines.push(format!("halt admin {removed} removed"));
    }
    named(
        "group",
        &by_name(old.groups.iter().map(|(n, g)| (n.as_str(), g))),
        &by_name(new.groups.iter().map(|(n, g)| (n.as_str(), g))),
        &mut lines,
    );
    named(
        "rule",
        &by_name(old.rules.iter().map(|r| (r.name.as_str(), r))),
        &by_name(new.rules.iter().map(|r| (r.name.as_str(), r))),
        &mut lines,
    );
    named(
        "deny",
        &by_name(old.deny.iter().map(|d| (d.name.as_str(), d))),
        &by_name(new.deny.iter().map(|d| (d.name.as_str(), d))),
        &mut lines,
    );
    named(
        "freeze",
        &by_name(old.freeze.iter().map(|f| (f.name.as_str(), f))),
        &by_name(new.freeze.iter().map(|f| (f.name.as_str(), f))),
        &mut lines,
    );
    if old.approval_ttl_secs != new.approval_ttl_secs {
        lines.push(format!(
            "approval_ttl changed from {} s to {} s",
            old.approval_ttl_secs, new.approval_ttl_secs
        ));
    }
    if old.genesis != new.genesis {
        lines.push(format!(
            "audit.genesis changed from {} to {}",
            old.genesis.as_deref().unwrap_or("unpinned"),
            new.genesis.as_deref().unwrap_or("unpinned")
        ));
    }
    lines
}

fn signers(old: &[Signer], new: &[Signer], lines: &mut Vec<String>) {
    let find = |list: &[Signer], kid: &Kid| list.iter().find(|s| &s.kid == kid).cloned();
    for signer in new {
        match find(old, &signer.kid) {
            None => lines.push(format!(
                "{} signer {} added (key {})",
                signer.role.as_str(),
                signer.kid,
                signer.openssh_key()
            )),
            Some(before) if before.key != signer.key || before.role != signer.role => {
                lines.push(format!(
                    "signer {} changed: now a {} key {}",
                    signer.kid,
                    signer.role.as_str(),
                    signer.openssh_key()
                ));
            }
            Some(before) if before.not_after != signer.not_after => lines.push(format!(
                "{} signer {} now retires {} (was {})",
                signer.role.as_str(),
                signer.kid,
                signer
                    .not_after
                    .map_or_else(|| "never".to_owned(), |t| format!("at {}", format_utc(t))),
                before
                    .not_after
                    .map_or_else(|| "never".to_owned(), |t| format!("at {}", format_utc(t)))
            )),
            Some(_) => {}
        }
    }
    for signer in old.iter().filter(|s| find(new, &s.kid).is_none()) {
        lines.push(format!(
            "{} signer {} removed",
            signer.role.as_str(),
            signer.kid
        ));
    }
}

/// Items by name, as canonical JSON values (what they mean, not where they came from).
fn by_name<'a, T: Serialize + 'a>(
    items: impl Iterator<Item = (&'a str, &'a T)>,
) -> BTreeMap<&'a str, serde_json::Value> {
    items
        .map(|(name, item)| {
            (
                name,
                serde_json::to_value(item).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

fn named(
    what: &str,
    old: &BTreeMap<&str, serde_json::Value>,
    new: &BTreeMap<&str, serde_json::Value>,
    lines: &mut Vec<String>,
) {
    for (name, value) in new {
        match old.get(name) {
            None => lines.push(format!("{what} \"{name}\" added: {value}")),
            Some(before) if before != value => {
                lines.push(format!("{what} \"{name}\" changed: {before} -> {value}"));
            }
            Some(_) => {}
        }
    }
    for name in old.keys().filter(|name| !new.contains_key(*name)) {
        lines.push(format!("{what} \"{name}\" removed"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{PolicyFile, load_policy};

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOgnkcx95G1v293WqLxR7c492iCF9kGL1xQUA8YHgfIZ";

    fn policy(text: &str) -> Policy {
        load_policy(&[PolicyFile {
            name: "policy.yaml".into(),
            bytes: text.as_bytes().to_vec(),
        }])
        .unwrap()
    }

    const BASE: &str = "version: 1
groups:
  rm: { users: [alice, bob] }
rules:
  - name: two
    approvals: { required: 2, from: [rm] }
halt_admins: [alice]
";

    #[test]
    fn the_same_policy_has_no_differences() {
        assert!(diff(&policy(BASE), &policy(BASE)).is_empty());
    }

    #[test]
    fn a_new_signer_a_new_approver_and_a_weaker_rule_are_each_named() {
        let weaker = format!(
            "{}signers:\n  - {{ kid: mint-x, role: mint, key: {KEY_A} }}\n",
            BASE.replace("[alice, bob]", "[alice, bob, mallory]")
                .replace("required: 2", "required: 1")
        );
        let lines = diff(&policy(BASE), &policy(&weaker));
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("mint signer mint-x added"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("group \"rm\" changed") && lines[1].contains("mallory"),
            "{lines:?}"
        );
        assert!(lines[2].starts_with("rule \"two\" changed"), "{lines:?}");
    }

    #[test]
    fn removed_items_and_retired_signers_are_named() {
        let with_signer =
            format!("{BASE}signers:\n  - {{ kid: audit-1, role: audit, key: {KEY_A} }}\n");
        let retired = format!(
            "{BASE}signers:\n  - {{ kid: audit-1, role: audit, key: {KEY_A}, not_after: 2027-01-01T00:00:00Z }}\n"
        )
        .replace("halt_admins: [alice]\n", "");
        let lines = diff(&policy(&with_signer), &policy(&retired));
        assert_eq!(
            lines,
            [
                "audit signer audit-1 now retires at 2027-01-01T00:00:00Z (was never)",
                "halt admin alice removed"
            ]
        );
    }
}
