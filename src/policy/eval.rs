//! Policy evaluation (DESIGN 3): deterministic and fail-closed.
//!
//! For each operation: every matching rule applies (its quorum is required), any matching
//! deny or active freeze blocks, and an operation that no rule matches is blocked with
//! `NO_RULE_MATCHES`. A denial is a value ([`Finding`]), never an `Err`.

use std::collections::BTreeSet;

use serde::Serialize;
use time::OffsetDateTime;

use super::{Policy, Rule, format_utc};
use crate::model::{Login, TeamSlug};
use crate::plan::{OpKind, Operation};
use crate::reason::Code;

/// Why an operation is blocked by policy. Stable codes, explained by [`ReasonCode::why`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "Code")]
pub enum ReasonCode {
    /// No rule matches the operation.
    NoRuleMatches,
    /// A deny rule matches.
    PolicyDenied,
    /// A freeze window is active.
    Frozen,
    /// A rule asks for more approvers than its groups can ever provide.
    QuorumUnreachable,
}

impl From<ReasonCode> for Code {
    fn from(value: ReasonCode) -> Self {
        value.reason_code()
    }
}

impl ReasonCode {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(self) -> Code {
        match self {
            Self::NoRuleMatches => Code::NoRuleMatches,
            Self::PolicyDenied => Code::PolicyDenied,
            Self::Frozen => Code::Frozen,
            Self::QuorumUnreachable => Code::QuorumUnreachable,
        }
    }

    /// What it means and what to do: the registry's sentence.
    pub fn why(self) -> &'static str {
        self.reason_code().sentence()
    }
}

/// One reason an operation is blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable reason code.
    pub code: ReasonCode,
    /// What exactly, naming the rule, deny or freeze.
    pub message: String,
}

/// What one matching rule requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The rule's name.
    pub rule: String,
    /// Distinct approvers needed.
    pub required: u32,
    /// The groups they come from.
    pub groups: Vec<String>,
    /// Users of those groups.
    pub users: BTreeSet<Login>,
    /// Teams of those groups.
    pub teams: BTreeSet<TeamSlug>,
    /// Whether the plan's author may count.
    pub self_approval: bool,
    /// Receipt lifetime in seconds.
    pub receipt_ttl_secs: u64,
}

/// The policy's verdict on one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationDecision {
    /// Approvals required (all must be met).
    pub requirements: Vec<Requirement>,
    /// Why the operation is blocked; empty when it may ship once approved.
    pub findings: Vec<Finding>,
}

impl OperationDecision {
    /// Whether nothing blocks the operation (it still needs its approvals).
    pub fn is_allowed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Evaluates `policy` for each operation at instant `at`.
pub fn evaluate(
    policy: &Policy,
    operations: &[Operation],
    at: OffsetDateTime,
) -> Vec<OperationDecision> {
    operations
        .iter()
        .map(|op| evaluate_one(policy, op, at))
        .collect()
}

/// What `rule` requires: its quorum, and the users and teams of the groups it names.
pub fn requirement(policy: &Policy, rule: &Rule) -> Requirement {
    let mut users = BTreeSet::new();
    let mut teams = BTreeSet::new();
    for group in rule.from.iter().filter_map(|g| policy.groups.get(g)) {
        users.extend(group.users.iter().cloned());
        teams.extend(group.teams.iter().cloned());
    }
    Requirement {
        rule: rule.name.clone(),
        required: rule.required,
        groups: rule.from.clone(),
        users,
        teams,
        self_approval: rule.self_approval,
        receipt_ttl_secs: rule.receipt_ttl_secs,
    }
}

fn evaluate_one(policy: &Policy, op: &Operation, at: OffsetDateTime) -> OperationDecision {
    let (kind, reference) = (op.kind(), op.policy_ref());
    let mut findings = Vec::new();
    let mut requirements = Vec::new();
    for rule in policy
        .rules
        .iter()
        .filter(|r| r.matcher.matches(kind, reference))
    {
        let requirement = requirement(policy, rule);
        let (users, teams) = (&requirement.users, &requirement.teams);
        // With teams, membership is only known online; without, the count is exact.
        if teams.is_empty() && users.len() < rule.required as usize {
            findings.push(Finding {
                code: ReasonCode::QuorumUnreachable,
                message: format!(
                    "rule \"{}\" needs {} approvers but its groups have {}",
                    rule.name,
                    rule.required,
                    users.len()
                ),
            });
        }
        requirements.push(requirement);
    }
    if requirements.is_empty() {
        findings.push(Finding {
            code: ReasonCode::NoRuleMatches,
            message: format!(
                "no rule matches a {} operation on `{reference}`",
                kind.as_str()
            ),
        });
    }
    findings.extend(blocking_findings(policy, kind, reference, at));
    OperationDecision {
        requirements,
        findings,
    }
}

/// The deny rules that match an operation of `kind` on `reference`, and the freezes active
/// at `at`: what blocks it whatever its approvals (the gate asks again at execution).
pub fn blocking_findings(
    policy: &Policy,
    kind: OpKind,
    reference: &str,
    at: OffsetDateTime,
) -> Vec<Finding> {
    let denied = policy
        .deny
        .iter()
        .filter(|d| d.matcher.matches(kind, reference))
        .map(|deny| Finding {
            code: ReasonCode::PolicyDenied,
            message: format!("denied by \"{}\": {}", deny.name, deny.reason),
        });
    let frozen = policy
        .freeze
        .iter()
        .filter(|f| f.contains(at))
        .map(|freeze| Finding {
            code: ReasonCode::Frozen,
            message: format!(
                "freeze \"{}\" from {} until {}",
                freeze.name,
                format_utc(freeze.from),
                format_utc(freeze.until)
            ),
        });
    denied.chain(frozen).collect()
}
