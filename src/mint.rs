//! Deciding what `shipgate mint` does for a plan (DESIGN 5), as a pure function.
//!
//! The shell gathers the inputs (resolved plan, policy decisions, approvals, the audit state's
//! halt flag and any run already open for the plan id, the clock, fresh ids and nonces) and
//! acts on the decision: sign the receipts and append them, or record a refusal, or only
//! update the status comment. Nothing here signs, reads or writes.

use time::{Duration, OffsetDateTime};

use crate::approval::evaluate::ApprovalOutcome;
use crate::plan::ResolvedPlan;
use crate::policy::{MAX_RECEIPT_TTL_SECS, OperationDecision, format_utc};
use crate::receipt::{ReceiptApproval, ReceiptClaims, ReceiptFinding};

/// Fresh identifiers for one mint, drawn by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreshIds {
    /// The run id to open.
    pub run_id: String,
    /// One receipt id per operation, in plan order.
    pub receipt_ids: Vec<String>,
    /// One nonce per operation, in plan order.
    pub nonces: Vec<String>,
}

/// Everything a mint decision depends on.
pub struct MintInputs<'a> {
    /// The resolved plan.
    pub plan: &'a ResolvedPlan,
    /// The policy's decision per operation.
    pub decisions: &'a [OperationDecision],
    /// The approvals.
    pub approvals: &'a ApprovalOutcome,
    /// The policy hash the receipts bind.
    pub policy_hash: &'a str,
    /// The audit state says shipgate is halted.
    pub halted: bool,
    /// A run already opened for this plan id, if any.
    pub open_run: Option<&'a str>,
    /// The instant of minting.
    pub now: OffsetDateTime,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MintDecision {
    /// Halted: mint nothing, record the refusal.
    Halted,
    /// A run exists for this exact plan id: mint nothing, say so.
    AlreadyMinted {
        /// The existing run.
        run_id: String,
    },
    /// Some rule's quorum is not met: the chain does not change.
    AwaitingApproval,
    /// Open a run and mint these receipts (unsigned claims, one per operation).
    Mint {
        /// The new run.
        run_id: String,
        /// The claims to sign, in plan order.
        receipts: Vec<ReceiptClaims>,
    },
}

/// Decides what to mint. Receipts for operations with a standing finding are advisory
/// (`enforceable: false`); each receipt expires after the shortest `receipt_ttl` of its rules.
pub fn decide_mint(inputs: &MintInputs<'_>, ids: FreshIds) -> MintDecision {
    if inputs.halted {
        return MintDecision::Halted;
    }
    if let Some(run_id) = inputs.open_run {
        return MintDecision::AlreadyMinted {
            run_id: run_id.to_owned(),
        };
    }
    if !inputs.approvals.quorum_met() {
        return MintDecision::AwaitingApproval;
    }
    let plan = inputs.plan;
    let receipts = plan
        .operations
        .iter()
        .zip(inputs.decisions)
        .zip(&inputs.approvals.tallies)
        .zip(ids.receipt_ids.into_iter().zip(ids.nonces))
        .enumerate()
        .map(
            |(index, (((op, decision), tallies), (receipt_id, nonce)))| {
                // Never beyond 30 days, whatever reaches here: the gate refuses longer ones.
                let ttl = decision
                    .requirements
                    .iter()
                    .map(|r| r.receipt_ttl_secs)
                    .min()
                    .unwrap_or(0)
                    .min(MAX_RECEIPT_TTL_SECS);
                let approvers: std::collections::BTreeSet<_> =
                    tallies.iter().flat_map(|t| t.approvers.iter()).collect();
                let approvals = inputs
                    .approvals
                    .verdicts
                    .iter()
                    .filter(|v| v.rejection.is_none() && approvers.contains(&v.login))
                    .map(|v| ReceiptApproval {
                        login: v.login.to_string(),
                        comment_id: v.comment_id,
                        at: format_utc(v.at),
                    })
                    .collect();
                ReceiptClaims {
                    version: 1,
                    receipt_id,
                    repo: plan.repo.to_string(),
                    plan_id: plan.id.to_string(),
                    run_id: ids.run_id.clone(),
                    op_index: u32::try_from(index).expect("a plan has at most 100 operations"),
                    op_kind: op.kind().as_str().to_owned(),
                    op_key: op.key().to_string(),
                    policy_hash: inputs.policy_hash.to_owned(),
                    approvals,
                    enforceable: decision.is_allowed(),
                    findings: decision
                        .findings
                        .iter()
                        .map(|f| ReceiptFinding {
                            code: f.code.as_str().to_owned(),
                            message: f.message.clone(),
                        })
                        .collect(),
                    issued_at: format_utc(inputs.now),
                    expires_at: format_utc(
                        inputs.now + Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX)),
                    ),
                    nonce,
                }
            },
        )
        .collect();
    MintDecision::Mint {
        run_id: ids.run_id,
        receipts,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::approval::evaluate::{ApprovalContext, Authorship, Comment, evaluate_approvals};
    use crate::model::{CommitSha, Login, RepoSlug};
    use crate::plan::{ResolvedOperation, check_plan};
    use crate::policy::{PolicyFile, evaluate, load_policy};
    use crate::reason::Code;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    fn setup(policy_text: &str) -> (ResolvedPlan, Vec<OperationDecision>) {
        let text = "version: 1\noperations:\n  - kind: tag\n    name: v1.4.0\n    target: main\n  - kind: tag\n    name: latest\n    target: main\n";
        let checked = check_plan("p.yaml", text.as_bytes()).unwrap();
        let sha = CommitSha::parse(&"a".repeat(40)).unwrap();
        let operations: Vec<ResolvedOperation> = ["v1.4.0", "latest"]
            .iter()
            .map(|n| ResolvedOperation::Tag {
                name: (*n).into(),
                target: sha.clone(),
                message: None,
                target_as_written: "main".into(),
            })
            .collect();
        let repo = RepoSlug::parse("acme/widget").unwrap();
        let id = crate::plan::plan_id(&repo, &operations);
        let plan = ResolvedPlan {
            file: "p.yaml".into(),
            name: None,
            repo,
            operations,
            checked: checked.operations,
            id,
        };
        let policy = load_policy(&[PolicyFile {
            name: "policy.yaml".into(),
            bytes: policy_text.as_bytes().to_vec(),
        }])
        .unwrap();
        let decisions = evaluate(&policy, &plan.checked, NOW);
        (plan, decisions)
    }

    const POLICY: &str = "version: 1\ngroups:\n  rm: { users: [alice, bob] }\nrules:\n  - name: tags\n    match: { kinds: [tag] }\n    approvals: { required: 1, from: [rm] }\n    receipt_ttl: 2h\ndeny:\n  - name: moving\n    match: { refs: [latest] }\n    reason: moving tags\n";

    fn approvals(
        plan: &ResolvedPlan,
        decisions: &[OperationDecision],
        who: &[&str],
    ) -> ApprovalOutcome {
        let comments: Vec<Comment> = who
            .iter()
            .enumerate()
            .map(|(i, login)| Comment {
                id: i as u64 + 1,
                author: Login::parse(login).unwrap(),
                author_is_bot: false,
                created_at: NOW - Duration::minutes(10),
                updated_at: NOW - Duration::minutes(10),
                body: format!("/shipgate approve {}", plan.id.approval_prefix()),
                thumbs: 0,
            })
            .collect();
        let requirements: Vec<_> = decisions.iter().map(|d| d.requirements.clone()).collect();
        let ctx = ApprovalContext {
            plan_id: &plan.id,
            other_plan_ids: &[],
            authorship: &Authorship::Known {
                authors: BTreeSet::new(),
            },
            recorded_revokes: &[],
            requirements: &requirements,
            team_memberships: &BTreeMap::new(),
            approvals_since: NOW - Duration::days(14),
        };
        evaluate_approvals(&comments, &ctx)
    }

    fn ids() -> FreshIds {
        FreshIds {
            run_id: "run_1".into(),
            receipt_ids: vec!["rcp_a".into(), "rcp_b".into()],
            nonces: vec!["n1".into(), "n2".into()],
        }
    }

    /// Inputs of a mint at NOW, not halted, no run open yet.
    fn ready<'a>(
        plan: &'a ResolvedPlan,
        decisions: &'a [OperationDecision],
        approvals: &'a ApprovalOutcome,
    ) -> MintInputs<'a> {
        MintInputs {
            plan,
            decisions,
            approvals,
            policy_hash: "sha256:p",
            halted: false,
            open_run: None,
            now: NOW,
        }
    }

    #[test]
    fn quorum_mints_one_receipt_per_operation_advisory_where_a_finding_stands() {
        let (plan, decisions) = setup(POLICY);
        let approvals = approvals(&plan, &decisions, &["alice"]);
        let inputs = ready(&plan, &decisions, &approvals);
        let MintDecision::Mint { run_id, receipts } = decide_mint(&inputs, ids()) else {
            panic!("expected a mint")
        };
        assert_eq!(run_id, "run_1");
        assert_eq!(receipts.len(), 2);
        assert!(receipts[0].enforceable && receipts[0].findings.is_empty());
        assert_eq!(receipts[0].expires_at, "2026-11-23T14:00:00Z");
        assert_eq!(receipts[0].approvals[0].login, "alice");
        assert_eq!(
            (receipts[0].op_key.as_str(), receipts[0].plan_id.as_str()),
            ("tag:v1.4.0", plan.id.as_str())
        );
        assert!(
            !receipts[1].enforceable,
            "the denied operation's receipt is advisory"
        );
        assert_eq!(receipts[1].findings[0].code, Code::PolicyDenied.as_str());
    }

    #[test]
    fn no_receipt_is_minted_to_last_beyond_thirty_days() {
        let (plan, mut decisions) = setup(POLICY);
        let approvals = approvals(&plan, &decisions, &["alice"]);
        decisions[0].requirements[0].receipt_ttl_secs = 400 * 86_400;
        let inputs = ready(&plan, &decisions, &approvals);
        let MintDecision::Mint { receipts, .. } = decide_mint(&inputs, ids()) else {
            panic!("expected a mint")
        };
        assert_eq!(receipts[0].expires_at, "2026-12-23T12:00:00Z");
    }

    #[test]
    fn halted_already_minted_and_awaiting_mint_nothing() {
        let (plan, decisions) = setup(POLICY);
        let approved = approvals(&plan, &decisions, &["alice"]);
        let none = approvals(&plan, &decisions, &[]);
        let base = MintInputs {
            halted: true,
            ..ready(&plan, &decisions, &approved)
        };
        assert_eq!(decide_mint(&base, ids()), MintDecision::Halted);
        let open = MintInputs {
            halted: false,
            open_run: Some("run_0"),
            ..base
        };
        assert_eq!(
            decide_mint(&open, ids()),
            MintDecision::AlreadyMinted {
                run_id: "run_0".into()
            }
        );
        let waiting = MintInputs {
            open_run: None,
            approvals: &none,
            ..open
        };
        assert_eq!(decide_mint(&waiting, ids()), MintDecision::AwaitingApproval);
    }
}
