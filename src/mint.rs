//! Deciding what `shipgate mint` does for a plan (DESIGN 5), as a pure function.
//!
//! The shell gathers the inputs (resolved plan, policy decisions, approvals, the audit state's
//! halt flag and any run already open for the plan id, the clock, fresh ids and nonces) and
//! appends the entries [`decision_events`] makes of the decision: the receipts, signed with the
//! mint key it is handed, or a refusal, or nothing (only the status comment changes). Nothing
//! here reads or writes: signing an SSHSIG with Ed25519 is a pure function of key and bytes.

use time::{Duration, OffsetDateTime};

use crate::approval::evaluate::ApprovalOutcome;
use crate::audit::entry::{Event, RunOperation};
use crate::audit::state::StateAccess;
use crate::keys::SigningKey;
use crate::model::{PrNumber, ReceiptId, RunId};
use crate::plan::ResolvedPlan;
use crate::policy::{MAX_RECEIPT_TTL_SECS, OperationDecision, format_utc};
use crate::reason::Code;
use crate::receipt::{ReceiptApproval, ReceiptClaims, ReceiptFinding};
use crate::report::mint::{MintOutcome, MintedReceipt};

/// Fresh identifiers for one mint, drawn by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreshIds {
    /// The run id to open.
    pub run_id: RunId,
    /// One receipt id per operation, in plan order.
    pub receipt_ids: Vec<ReceiptId>,
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
    pub open_run: Option<&'a RunId>,
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
        run_id: RunId,
    },
    /// Some rule's quorum is not met: the chain does not change.
    AwaitingApproval,
    /// Open a run and mint these receipts (unsigned claims, one per operation).
    Mint {
        /// The new run.
        run_id: RunId,
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
            run_id: run_id.clone(),
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
                    op_key: op.key(),
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
        run_id: ids.run_id.clone(),
        receipts,
    }
}

/// The entries one plan's decision appends, and what the report says of it: for a mint, the
/// counted approvals, the run and one `receipt_minted` per receipt, each carrying the receipt
/// signed with `mint_key`; for a halt, the refusal. `state` supplies the halt's reason.
pub fn decision_events(
    pr: PrNumber,
    plan: &ResolvedPlan,
    approval: &ApprovalOutcome,
    decision: MintDecision,
    state: &dyn StateAccess,
    mint_key: &SigningKey,
    policy_hash: &str,
) -> Result<(MintOutcome, Vec<Event>), String> {
    Ok(match decision {
        MintDecision::Halted => {
            let reason = state.halt().map(|h| h.reason).unwrap_or_default();
            (
                MintOutcome::Halted { reason },
                vec![Event::MintRefused {
                    plan_id: plan.id.to_string(),
                    reason: Code::Halted.as_str().into(),
                }],
            )
        }
        MintDecision::AlreadyMinted { run_id } => {
            (MintOutcome::AlreadyMinted { run_id }, Vec::new())
        }
        MintDecision::AwaitingApproval => match approval.blocked {
            Some(reason) => (
                MintOutcome::Unapprovable {
                    reason: reason.code().to_owned(),
                    why: reason.why().to_owned(),
                },
                Vec::new(),
            ),
            None => (MintOutcome::AwaitingApproval, Vec::new()),
        },
        MintDecision::Mint { run_id, receipts } => {
            let mut events: Vec<Event> = approval
                .verdicts
                .iter()
                .filter(|v| v.rejection.is_none())
                .map(|v| Event::ApprovalRecorded {
                    plan_id: plan.id.to_string(),
                    login: v.login.to_string(),
                    comment_id: v.comment_id,
                })
                .collect();
            events.push(Event::RunOpened {
                pr: Some(pr),
                run_id: run_id.clone(),
                plan_id: plan.id.to_string(),
                policy_hash: policy_hash.to_owned(),
                operations: receipts
                    .iter()
                    .map(|c| RunOperation {
                        op_index: c.op_index,
                        op_key: c.op_key.clone(),
                    })
                    .collect(),
            });
            let mut minted = Vec::new();
            for claims in receipts {
                let line = minted_line(&claims);
                let claims_ids = (claims.receipt_id.clone(), claims.op_key.clone());
                let receipt = claims
                    .sign_sshsig(&mint_key.kid, &mint_key.key)
                    .map_err(|e| e.to_string())?;
                let document = receipt.to_canonical_json().map_err(|e| e.to_string())?;
                events.push(Event::ReceiptMinted {
                    receipt_id: claims_ids.0,
                    run_id: run_id.clone(),
                    op_key: claims_ids.1,
                    enforceable: line.enforceable,
                    expires_at: line.expires_at.clone(),
                    receipt: Some(document),
                });
                minted.push(line);
            }
            (
                MintOutcome::Minted {
                    run_id,
                    receipts: minted,
                },
                events,
            )
        }
    })
}

fn minted_line(claims: &ReceiptClaims) -> MintedReceipt {
    MintedReceipt {
        op_key: claims.op_key.to_string(),
        receipt_id: claims.receipt_id.clone(),
        enforceable: claims.enforceable,
        expires_at: claims.expires_at.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::approval::evaluate::{ApprovalContext, Authorship, Comment, evaluate_approvals};
    use crate::model::{CommentId, CommitSha, Login, RepoSlug};
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
                target: crate::plan::TagTarget::Commit(sha.clone()),
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
                id: CommentId::new(i as u64 + 1),
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
            run_id: RunId::parse("run_1").expect("run id"),
            receipt_ids: ["rcp_a", "rcp_b"]
                .map(|id| ReceiptId::parse(id).expect("receipt id"))
                .to_vec(),
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
        let run_0 = RunId::parse("run_0").expect("run id");
        let base = MintInputs {
            halted: true,
            ..ready(&plan, &decisions, &approved)
        };
        assert_eq!(decide_mint(&base, ids()), MintDecision::Halted);
        let open = MintInputs {
            halted: false,
            open_run: Some(&run_0),
            ..base
        };
        assert_eq!(
            decide_mint(&open, ids()),
            MintDecision::AlreadyMinted {
                run_id: run_0.clone()
            }
        );
        let waiting = MintInputs {
            open_run: None,
            approvals: &none,
            ..open
        };
        assert_eq!(decide_mint(&waiting, ids()), MintDecision::AwaitingApproval);
    }

    fn mint_key() -> SigningKey {
        SigningKey {
            kid: crate::model::Kid::parse("mint-1").unwrap(),
            key: ssh_key::PrivateKey::random(
                &mut ssh_key::rand_core::OsRng,
                ssh_key::Algorithm::Ed25519,
            )
            .unwrap(),
        }
    }

    #[test]
    fn a_mint_records_the_counted_approvals_the_run_and_signed_receipts() {
        let (plan, decisions) = setup(POLICY);
        let approvals = approvals(&plan, &decisions, &["alice"]);
        let decision = decide_mint(&ready(&plan, &decisions, &approvals), ids());
        let key = mint_key();
        let state = crate::audit::state::State::default();
        let (outcome, events) = decision_events(
            PrNumber::new(7),
            &plan,
            &approvals,
            decision,
            &state,
            &key,
            "sha256:p",
        )
        .unwrap();
        let MintOutcome::Minted { run_id, receipts } = outcome else {
            panic!("expected a mint: {outcome:?}")
        };
        assert_eq!(run_id, "run_1");
        assert_eq!(
            receipts
                .iter()
                .map(|r| (r.receipt_id.as_str(), r.enforceable))
                .collect::<Vec<_>>(),
            [("rcp_a", true), ("rcp_b", false)]
        );
        assert!(matches!(
            &events[0],
            Event::ApprovalRecorded { login, comment_id, .. } if login == "alice" && comment_id.get() == 1
        ));
        assert!(matches!(
            &events[1],
            Event::RunOpened { pr: Some(pr), run_id, operations, .. }
                if pr.get() == 7 && run_id == "run_1" && operations.len() == 2
        ));
        let signer = key.as_signer(crate::policy::SignerRole::Mint);
        for event in &events[2..] {
            let Event::ReceiptMinted {
                receipt: Some(document),
                ..
            } = event
            else {
                panic!("expected a minted receipt: {event:?}")
            };
            let receipt = crate::receipt::parse_receipt(document.as_bytes()).unwrap();
            let verified =
                crate::receipt::verify_receipt(&receipt, std::slice::from_ref(&signer), None);
            assert!(verified.is_ok(), "{verified:?}");
        }
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn a_halt_records_the_refusal_and_other_decisions_record_nothing() {
        let (plan, decisions) = setup(POLICY);
        let approvals = approvals(&plan, &decisions, &[]);
        let key = mint_key();
        let mut state = crate::audit::state::State::default();
        state.halt = Some(crate::audit::state::HaltRecord {
            by: "alice".into(),
            reason: "incident".into(),
            since: "2026-11-23T11:00:00Z".into(),
            seq: 3,
        });
        let events_of = |decision| {
            decision_events(
                PrNumber::new(7),
                &plan,
                &approvals,
                decision,
                &state,
                &key,
                "sha256:p",
            )
            .unwrap()
        };
        let (outcome, events) = events_of(MintDecision::Halted);
        assert_eq!(
            outcome,
            MintOutcome::Halted {
                reason: "incident".into()
            }
        );
        assert!(matches!(
            &events[..],
            [Event::MintRefused { plan_id, reason }]
                if plan_id == plan.id.as_str() && reason == Code::Halted.as_str()
        ));
        let run_0 = RunId::parse("run_0").expect("run id");
        let (outcome, events) = events_of(MintDecision::AlreadyMinted {
            run_id: run_0.clone(),
        });
        assert_eq!(outcome, MintOutcome::AlreadyMinted { run_id: run_0 });
        assert!(events.is_empty());
        let (outcome, events) = events_of(MintDecision::AwaitingApproval);
        assert_eq!(outcome, MintOutcome::AwaitingApproval);
        assert!(events.is_empty());
    }
}
