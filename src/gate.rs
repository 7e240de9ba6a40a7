//! The gate (DESIGN 6): the checks that stand before every side effect.
//!
//! Global preconditions first, judged on a state only a verification can produce
//! ([`VerifiedState`]: the chain verified up to that head), no halt, the run's lock held by
//! this run and unexpired; they yield a [`Cleared`], which every per-operation check requires.
//! Then, per operation, in this order; the first failure blocks it with its stable reason code:
//!
//! 1. (the mode: a dry-run holds no `Cleared`, so it can never reach the checks below)
//! 2. a receipt exists for this operation of this run         `RECEIPT_MISSING`
//! 3. signed by a trusted mint key in force at issue time and  `RECEIPT_FORGED`
//!    now, lasting no longer than the policy's `receipt_ttl`
//! 4. the receipt is enforceable                              `RECEIPT_NOT_ENFORCEABLE`
//! 5. its run is the run being executed                       `RECEIPT_WRONG_RUN`
//! 6. repo, plan id, op kind and op key match the operation   `RECEIPT_WRONG_OPERATION`
//! 7. not consumed (per the governance branch head)           `RECEIPT_CONSUMED`
//! 8. now < expires_at, with 60 s of skew in the safe direction `RECEIPT_EXPIRED`
//! 9. the policy hash and the re-resolved plan are unchanged  `RECEIPT_STALE`
//! 10. the policy on the default branch, judged now, neither
//!     denies the operation nor freezes it                  `POLICY_DENIED`, `FROZEN`
//!     (DESIGN 13.6: a receipt minted before a freeze does not execute inside it)
//!
//! Passing yields an [`Authorized`], which only this module can construct. It carries the
//! approved operation itself, resolved (name, target, body): the effect half of the GitHub
//! port takes nothing but the pass, by value, so no code path can act without the gate, act
//! twice on one pass, or perform anything but what was approved. Pure: the caller supplies
//! the clock, the audit state's answers and the plan re-resolved now.
//!
//! The file runs past 600 lines for its unit tests: every check's own code, in DESIGN order,
//! next to the checklist they pin.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::audit::trust::VerifiedState;
use crate::model::{OpKey, PlanId, ReceiptId, RepoSlug, RunId};
use crate::plan::{OpKind, ResolvedOperation, ResolvedPlan, TagTarget};
use crate::policy::{
    MAX_RECEIPT_TTL_SECS, Policy, ReasonCode, Signer, blocking_findings, format_duration,
};
use crate::reason::Code;
use crate::receipt::{Receipt, ReceiptClaims, verify_receipt};

/// Tolerated clock difference, always applied against the receipt.
pub const CLOCK_SKEW: Duration = Duration::seconds(60);

/// Whether a receipt expiring at `expires_at` is expired at `now`: skew counts against it.
pub fn is_expired(now: OffsetDateTime, expires_at: OffsetDateTime) -> bool {
    now + CLOCK_SKEW >= expires_at
}

/// Why the gate blocked. Stable, machine-readable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "Code")]
pub enum GateCode {
    /// The audit chain does not verify.
    AuditChainInvalid,
    /// shipgate is halted.
    Halted,
    /// The run's lock is not held by this executor.
    Locked,
    /// The audit branch cannot be written: no audit, no effect.
    AuditUnavailable,
    /// Check 2.
    ReceiptMissing,
    /// Check 3.
    ReceiptForged,
    /// Check 4.
    ReceiptNotEnforceable,
    /// Check 5.
    ReceiptWrongRun,
    /// Check 6.
    ReceiptWrongOperation,
    /// Check 7.
    ReceiptConsumed,
    /// Check 8.
    ReceiptExpired,
    /// Check 9.
    ReceiptStale,
    /// Check 9: a `target: merge` tag whose pull request has not merged (DESIGN 13.7).
    NotMerged,
    /// Check 10: a deny rule matches the operation.
    PolicyDenied,
    /// Check 10: a freeze window is active.
    Frozen,
    /// GitHub refuses the token pull requests (found out before the receipt is consumed).
    TokenCannotOpenPullRequest,
}

impl From<GateCode> for Code {
    fn from(value: GateCode) -> Self {
        value.reason_code()
    }
}

impl GateCode {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(self) -> Code {
        match self {
            Self::AuditChainInvalid => Code::AuditChainInvalid,
            Self::Halted => Code::Halted,
            Self::Locked => Code::Locked,
            Self::AuditUnavailable => Code::AuditUnavailable,
            Self::ReceiptMissing => Code::ReceiptMissing,
            Self::ReceiptForged => Code::ReceiptForged,
            Self::ReceiptNotEnforceable => Code::ReceiptNotEnforceable,
            Self::ReceiptWrongRun => Code::ReceiptWrongRun,
            Self::ReceiptWrongOperation => Code::ReceiptWrongOperation,
            Self::ReceiptConsumed => Code::ReceiptConsumed,
            Self::ReceiptExpired => Code::ReceiptExpired,
            Self::ReceiptStale => Code::ReceiptStale,
            Self::NotMerged => Code::NotMerged,
            Self::PolicyDenied => Code::PolicyDenied,
            Self::Frozen => Code::Frozen,
            Self::TokenCannotOpenPullRequest => Code::TokenCannotOpenPullRequest,
        }
    }

    /// What it means and what to do: the registry's sentence.
    pub fn why(self) -> &'static str {
        self.reason_code().sentence()
    }
}

/// A blocked operation: the code and what exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocked {
    /// The reason code.
    pub code: GateCode,
    /// Details for the log and the status comment.
    pub detail: String,
}

fn blocked(code: GateCode, detail: impl Into<String>) -> Blocked {
    Blocked {
        code,
        detail: detail.into(),
    }
}

/// Proof that the global preconditions held for one run at one verified head: only
/// [`check_preconditions`] makes one, and [`check_operation`] requires it.
#[derive(Debug, PartialEq, Eq)]
pub struct Cleared {
    head: git2::Oid,
    run_id: String,
}

impl Cleared {
    /// The verified head the preconditions were judged at.
    pub fn head(&self) -> git2::Oid {
        self.head
    }
}

/// Checks the global preconditions, in DESIGN order, on a verified state: no halt stands, and
/// this executor (`holder`) holds the lock for `run_id`: another executor of the same run is
/// locked out like any other run's. A lock past its expiry is still held until another executor breaks
/// it on the record, which moves it to that executor's run. (That the chain verifies is what a
/// [`VerifiedState`] is; that the branch is writable, the append of the consume proves.)
pub fn check_preconditions(
    verified: &VerifiedState,
    run_id: &str,
    holder: &str,
) -> Result<Cleared, Blocked> {
    let state = verified.state();
    if let Some(halt) = &state.halt {
        return Err(blocked(
            GateCode::Halted,
            format!("halted by {}: {}", halt.by, halt.reason),
        ));
    }
    let held = state
        .lock
        .as_ref()
        .is_some_and(|lock| lock.run_id == run_id && lock.holder.as_deref() == Some(holder));
    if !held {
        return Err(blocked(
            GateCode::Locked,
            match &state.lock {
                Some(lock) if lock.run_id == run_id => format!(
                    "another executor of run {run_id} holds the lock until {}",
                    lock.expires_at
                ),
                Some(lock) => format!(
                    "the lock is held by run {} until {}",
                    lock.run_id, lock.expires_at
                ),
                None => format!("run {run_id} does not hold the lock"),
            },
        ));
    }
    Ok(Cleared {
        head: verified.head(),
        run_id: run_id.to_owned(),
    })
}

/// The operation about to act, as the run being executed describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationUnderGate<'a> {
    /// The run being executed.
    pub run_id: &'a str,
    /// The repository.
    pub repo: &'a RepoSlug,
    /// The run's plan id.
    pub plan_id: &'a PlanId,
    /// Position in the plan.
    pub op_index: u32,
    /// Kind.
    pub op_kind: OpKind,
    /// Key.
    pub op_key: &'a OpKey,
}

/// What the gate consults besides the operation.
pub struct GateContext<'a> {
    /// The receipt minted for this operation of this run, if any.
    pub receipt: Option<&'a Receipt>,
    /// The policy's signers (trust for check 3).
    pub signers: &'a [Signer],
    /// The longest lifetime the policy gives a receipt of this operation
    /// ([`crate::policy::Policy::receipt_ttl_cap`]); check 3 holds receipts to it.
    pub receipt_ttl: Duration,
    /// Whether the governance branch head records the receipt as consumed.
    pub consumed: bool,
    /// The clock.
    pub now: OffsetDateTime,
    /// The policy hash now (default branch).
    pub current_policy_hash: &'a str,
    /// The run's plan re-resolved now (none: no plan resolves to the run's plan id any more).
    pub current_plan: Option<&'a ResolvedPlan>,
    /// The policy on the default branch now (check 10 judges its denies and freezes).
    pub policy: &'a Policy,
}

/// Proof that the gate passed for one operation of one run, carrying that operation as
/// approved and re-resolved. Only [`check_operation`] makes one; it is neither `Clone` nor
/// `Copy`, and performing its effect consumes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorized {
    run_id: RunId,
    receipt_id: ReceiptId,
    op_index: u32,
    op_key: OpKey,
    operation: ResolvedOperation,
}

impl Authorized {
    /// The run.
    pub fn run_id(&self) -> &RunId {
        &self.run_id
    }
    /// The receipt that authorizes the effect.
    pub fn receipt_id(&self) -> &ReceiptId {
        &self.receipt_id
    }
    /// The operation's position.
    pub fn op_index(&self) -> u32 {
        self.op_index
    }
    /// The operation's key.
    pub fn op_key(&self) -> &OpKey {
        &self.op_key
    }
    /// The approved operation, resolved: exactly what its effect performs.
    pub fn operation(&self) -> &ResolvedOperation {
        &self.operation
    }
    /// Spends the pass on its operation: what the effect half performs.
    pub fn into_operation(self) -> ResolvedOperation {
        self.operation
    }
}

/// Runs the nine checks for one operation, in order.
pub fn check_operation(
    cleared: &Cleared,
    op: &OperationUnderGate<'_>,
    ctx: &GateContext<'_>,
) -> Result<Authorized, Blocked> {
    // 1. Cleared for this very run.
    if cleared.run_id != op.run_id {
        return Err(blocked(
            GateCode::Locked,
            format!(
                "the preconditions were cleared for run {}, not {}",
                cleared.run_id, op.run_id
            ),
        ));
    }
    // 2. A receipt exists.
    let receipt = ctx.receipt.ok_or_else(|| {
        blocked(
            GateCode::ReceiptMissing,
            format!("no receipt for {} in run {}", op.op_key, op.run_id),
        )
    })?;
    // 3. Genuine: by a trusted mint key in force at issue time and now (DESIGN 13.2: the
    // receipt's own `issued_at` is the signer's claim), with a lifetime the mint could give.
    let verified = verify_receipt(receipt, ctx.signers, Some(ctx.now))
        .map_err(|e| blocked(GateCode::ReceiptForged, e.to_string()))?;
    let claims = verified.claims();
    check_lifetime(claims, ctx)?;
    // 4. Enforceable.
    if !claims.enforceable {
        let codes: Vec<&str> = claims.findings.iter().map(|f| f.code.as_str()).collect();
        return Err(blocked(
            GateCode::ReceiptNotEnforceable,
            format!("advisory receipt (findings: {})", codes.join(", ")),
        ));
    }
    // 5. This run.
    if claims.run_id != op.run_id {
        return Err(blocked(
            GateCode::ReceiptWrongRun,
            format!(
                "receipt of run {}, executing run {}",
                claims.run_id, op.run_id
            ),
        ));
    }
    // 6. This operation of this plan in this repository.
    let same = claims.repo == op.repo.as_str()
        && claims.plan_id == op.plan_id.as_str()
        && claims.op_index == op.op_index
        && claims.op_kind == op.op_kind.as_str()
        && claims.op_key == op.op_key.as_str();
    if !same {
        return Err(blocked(
            GateCode::ReceiptWrongOperation,
            format!(
                "receipt for {} of {}, operation is {} of {}",
                claims.op_key, claims.plan_id, op.op_key, op.plan_id
            ),
        ));
    }
    // 7. Not consumed.
    if ctx.consumed {
        return Err(blocked(
            GateCode::ReceiptConsumed,
            format!("receipt {} was consumed", claims.receipt_id),
        ));
    }
    // 8. Not expired, and not issued in the future: skew always counts against the receipt.
    let parse = |t: &str| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| blocked(GateCode::ReceiptExpired, format!("unreadable time `{t}`")))
    };
    let (issued_at, expires_at) = (parse(&claims.issued_at)?, parse(&claims.expires_at)?);
    if is_expired(ctx.now, expires_at) {
        return Err(blocked(
            GateCode::ReceiptExpired,
            format!("expired at {}", claims.expires_at),
        ));
    }
    if issued_at > ctx.now + CLOCK_SKEW {
        return Err(blocked(
            GateCode::ReceiptExpired,
            format!(
                "issued in the future ({}): clock skew beyond 60 s",
                claims.issued_at
            ),
        ));
    }
    // 9. Not stale.
    if claims.policy_hash != ctx.current_policy_hash {
        return Err(blocked(
            GateCode::ReceiptStale,
            format!(
                "policy changed: minted under {}, now {}",
                claims.policy_hash, ctx.current_policy_hash
            ),
        ));
    }
    let operation = current_operation(claims, op, ctx)?;
    // 10. Not denied or frozen now.
    if let Some(finding) =
        blocking_findings(ctx.policy, op.op_kind, op.op_key.policy_ref(), ctx.now).first()
    {
        let code = match finding.code {
            ReasonCode::Frozen => GateCode::Frozen,
            _ => GateCode::PolicyDenied,
        };
        return Err(blocked(code, finding.message.clone()));
    }
    Ok(Authorized {
        run_id: claims.run_id.clone(),
        receipt_id: claims.receipt_id.clone(),
        op_index: op.op_index,
        op_key: op.op_key.clone(),
        operation: operation.clone(),
    })
}

/// Check 9's plan half: the run's plan still resolves to the receipt's plan id, and the
/// operation at the receipt's position is the one under the gate (the one the pass carries).
fn current_operation<'a>(
    claims: &ReceiptClaims,
    op: &OperationUnderGate<'_>,
    ctx: &GateContext<'a>,
) -> Result<&'a ResolvedOperation, Blocked> {
    let plan = ctx.current_plan.ok_or_else(|| {
        blocked(
            GateCode::ReceiptStale,
            format!(
                "no plan in the checkout resolves to {}, the plan the receipt was minted for",
                claims.plan_id
            ),
        )
    })?;
    if claims.plan_id != plan.id.as_str() {
        return Err(blocked(GateCode::ReceiptStale, changed_plan(claims, plan)));
    }
    let resolved = usize::try_from(op.op_index)
        .ok()
        .and_then(|index| plan.operations.get(index))
        .filter(|resolved| resolved.key() == *op.op_key && resolved.kind() == op.op_kind)
        .ok_or_else(|| {
            blocked(
                GateCode::ReceiptStale,
                format!(
                    "operation {} of plan {} is not {}",
                    op.op_index, plan.id, op.op_key
                ),
            )
        })?;
    if let Some(target) = tag_target(resolved)
        && target.is_unmerged()
    {
        return Err(blocked(
            GateCode::NotMerged,
            format!(
                "{} targets {}: it ships once its pull request merges",
                op.op_key,
                target.describe()
            ),
        ));
    }
    Ok(resolved)
}

/// Check 9's detail when the plan resolves to another id. For `target: merge` that means no
/// commit of the default branch carries the approved content (DESIGN 13.7): say what to do.
fn changed_plan(claims: &ReceiptClaims, plan: &ResolvedPlan) -> String {
    let merged = plan
        .operations
        .iter()
        .filter_map(tag_target)
        .find(|target| target.is_landed_merge());
    match merged {
        Some(target) => format!(
            "the merged content differs from what was approved: the merge at {} is not the tree approved for {}; require branches to be up to date before merging (or use a merge queue), then approve the plan again on a new pull request",
            target.describe(),
            claims.plan_id
        ),
        None => format!(
            "plan changed: minted for {}, resolves now to {}",
            claims.plan_id, plan.id
        ),
    }
}

/// The target of a tag or release operation.
fn tag_target(op: &ResolvedOperation) -> Option<&TagTarget> {
    match op {
        ResolvedOperation::Tag { target, .. } | ResolvedOperation::Release { target, .. } => {
            Some(target)
        }
        ResolvedOperation::PullRequest { .. } => None,
    }
}

/// Check 3's lifetime half: `expires_at - issued_at` within the policy's `receipt_ttl` and
/// never beyond 30 days (DESIGN 13.2). The mint never signs more, so a longer receipt was
/// signed outside it: a forgery, or a leaked mint key. Against the policy's `receipt_ttl` only
/// when the receipt was minted under the current policy: under another, check 9 blocks it as
/// stale, and an honest policy change must not read as an attack.
fn check_lifetime(claims: &ReceiptClaims, ctx: &GateContext<'_>) -> Result<(), Blocked> {
    let parse = |t: &str| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map_err(|_| blocked(GateCode::ReceiptForged, format!("unreadable time `{t}`")))
    };
    let lifetime = parse(&claims.expires_at)? - parse(&claims.issued_at)?;
    let longest = Duration::seconds(i64::try_from(MAX_RECEIPT_TTL_SECS).unwrap_or(i64::MAX));
    let too_long = |limit: &str| {
        blocked(
            GateCode::ReceiptForged,
            format!(
                "the receipt lasts {} (from {} to {}), longer than {limit}: shipgate's mint never signs that",
                describe(lifetime),
                claims.issued_at,
                claims.expires_at
            ),
        )
    };
    if lifetime > longest {
        return Err(too_long("the 30 days no receipt may exceed"));
    }
    if claims.policy_hash == ctx.current_policy_hash && lifetime > ctx.receipt_ttl {
        return Err(too_long(&format!(
            "the policy's receipt_ttl of {} for {} operations",
            describe(ctx.receipt_ttl),
            claims.op_kind
        )));
    }
    Ok(())
}

/// A duration in seconds, as a policy writes it (`2h`, `1h30m`).
fn describe(d: Duration) -> String {
    format_duration(d.whole_seconds().unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SignerRole;
    use crate::receipt::{ReceiptClaims, ReceiptFinding};
    use ssh_key::rand_core::OsRng;
    use time::macros::datetime;

    struct World {
        key: ssh_key::PrivateKey,
        signers: Vec<Signer>,
        repo: RepoSlug,
        plan_id: PlanId,
        op_key: OpKey,
        /// The plan re-resolved at the gate: one tag, `v1.4.0`.
        plan: ResolvedPlan,
        /// A freeze from 11:10 to 11:20 on NOW's day.
        policy: Policy,
        /// The same, denying `v*` tags.
        denying: Policy,
    }

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
    const POLICY: &str = "sha256:policy";

    fn world() -> World {
        let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
        let signers = vec![Signer {
            kid: crate::model::Kid::parse("mint-1").unwrap(),
            role: SignerRole::Mint,
            key: key.public_key().clone(),
            not_before: None,
            not_after: None,
        }];
        let plan = plan_with(
            PlanId::from_digest(format!("sha256:{}", "ab".repeat(32))).unwrap(),
            "v1.4.0",
        );
        World {
            key,
            signers,
            repo: RepoSlug::parse("acme/widget").unwrap(),
            plan_id: plan.id.clone(),
            op_key: OpKey::tag("v1.4.0"),
            plan,
            policy: policy(""),
            denying: policy(
                "deny:\n  - name: no tags\n    match: { kinds: [tag], refs: [\"v*\"] }\n    reason: tags are cut by hand\n",
            ),
        }
    }

    /// A plan of one lightweight tag, as if resolved to `id`.
    fn plan_with(id: PlanId, tag: &str) -> ResolvedPlan {
        let target = TagTarget::Commit(crate::model::CommitSha::parse(&"c".repeat(40)).unwrap());
        ResolvedPlan {
            file: ".shipgate/plans/release.yaml".into(),
            name: None,
            repo: RepoSlug::parse("acme/widget").unwrap(),
            operations: vec![ResolvedOperation::Tag {
                name: tag.into(),
                target,
                message: None,
                target_as_written: "main".into(),
            }],
            checked: Vec::new(),
            id,
        }
    }

    fn policy(extra: &str) -> Policy {
        let text = format!(
            "version: 1\nfreeze:\n  - name: launch\n    from: 2026-11-23T11:10:00Z\n    until: 2026-11-23T11:20:00Z\n{extra}"
        );
        crate::policy::load_policy(&[crate::policy::PolicyFile {
            name: "policy.yaml".into(),
            bytes: text.into_bytes(),
        }])
        .unwrap()
    }

    impl World {
        fn claims(&self) -> ReceiptClaims {
            ReceiptClaims {
                version: 1,
                receipt_id: ReceiptId::parse("rcp_1").expect("receipt id"),
                repo: self.repo.to_string(),
                plan_id: self.plan_id.to_string(),
                run_id: RunId::parse("run_1").expect("run id"),
                op_index: 0,
                op_kind: "tag".into(),
                op_key: self.op_key.clone(),
                policy_hash: POLICY.into(),
                approvals: vec![],
                enforceable: true,
                findings: vec![],
                issued_at: "2026-11-23T11:00:00Z".into(),
                expires_at: "2026-11-23T13:00:00Z".into(),
                nonce: "n".into(),
            }
        }

        fn sign(&self, claims: ReceiptClaims) -> Receipt {
            claims
                .sign_sshsig(&crate::model::Kid::parse("mint-1").unwrap(), &self.key)
                .unwrap()
        }

        fn op(&self) -> OperationUnderGate<'_> {
            OperationUnderGate {
                run_id: "run_1",
                repo: &self.repo,
                plan_id: &self.plan_id,
                op_index: 0,
                op_kind: OpKind::Tag,
                op_key: &self.op_key,
            }
        }

        fn check<'a>(
            &'a self,
            receipt: Option<&'a Receipt>,
            tweak: impl FnOnce(&mut GateContext<'a>),
        ) -> Result<Authorized, GateCode> {
            self.blocked(receipt, tweak).map_err(|b| b.code)
        }

        fn blocked<'a>(
            &'a self,
            receipt: Option<&'a Receipt>,
            tweak: impl FnOnce(&mut GateContext<'a>),
        ) -> Result<Authorized, Blocked> {
            let mut ctx = GateContext {
                receipt,
                signers: &self.signers,
                receipt_ttl: Duration::hours(2),
                consumed: false,
                now: NOW,
                current_policy_hash: POLICY,
                current_plan: Some(&self.plan),
                policy: &self.policy,
            };
            tweak(&mut ctx);
            let cleared = Cleared {
                head: git2::Oid::ZERO_SHA1,
                run_id: "run_1".into(),
            };
            check_operation(&cleared, &self.op(), &ctx)
        }
    }

    #[test]
    fn a_valid_receipt_passes_and_names_what_it_authorizes() {
        let w = world();
        let receipt = w.sign(w.claims());
        let authorized = w.check(Some(&receipt), |_| {}).unwrap();
        assert_eq!(
            (
                authorized.run_id().as_str(),
                authorized.receipt_id().as_str(),
                authorized.op_index()
            ),
            ("run_1", "rcp_1", 0)
        );
        assert_eq!(authorized.operation(), &w.plan.operations[0]);
    }

    #[test]
    fn each_check_blocks_with_its_own_code() {
        let w = world();
        let good = w.sign(w.claims());
        assert_eq!(w.check(None, |_| {}), Err(GateCode::ReceiptMissing));
        let mut forged = good.clone();
        forged.claims.expires_at = "2027-11-23T13:00:00Z".into();
        assert_eq!(w.check(Some(&forged), |_| {}), Err(GateCode::ReceiptForged));
        let mut advisory = w.claims();
        advisory.enforceable = false;
        advisory.findings = vec![ReceiptFinding {
            code: Code::Frozen.as_str().into(),
            message: "freeze".into(),
        }];
        assert_eq!(
            w.check(Some(&w.sign(advisory)), |_| {}),
            Err(GateCode::ReceiptNotEnforceable)
        );
        let mut other_run = w.claims();
        other_run.run_id = RunId::parse("run_2").expect("run id");
        assert_eq!(
            w.check(Some(&w.sign(other_run)), |_| {}),
            Err(GateCode::ReceiptWrongRun)
        );
        let mut other_op = w.claims();
        other_op.op_key = OpKey::parse("tag:v9").expect("op key");
        assert_eq!(
            w.check(Some(&w.sign(other_op)), |_| {}),
            Err(GateCode::ReceiptWrongOperation)
        );
        let mut other_repo = w.claims();
        other_repo.repo = "acme/gadget".into();
        assert_eq!(
            w.check(Some(&w.sign(other_repo)), |_| {}),
            Err(GateCode::ReceiptWrongOperation)
        );
        assert_eq!(
            w.check(Some(&good), |c| c.consumed = true),
            Err(GateCode::ReceiptConsumed)
        );
        assert_eq!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 14:00 UTC)),
            Err(GateCode::ReceiptExpired)
        );
        assert_eq!(
            w.check(Some(&good), |c| c.current_policy_hash = "sha256:weaker"),
            Err(GateCode::ReceiptStale)
        );
        let moved = plan_with(
            PlanId::from_digest(format!("sha256:{}", "cd".repeat(32))).unwrap(),
            "v1.4.0",
        );
        assert_eq!(
            w.check(Some(&good), |c| c.current_plan = Some(&moved)),
            Err(GateCode::ReceiptStale)
        );
        assert_eq!(
            w.check(Some(&good), |c| c.current_plan = None),
            Err(GateCode::ReceiptStale)
        );
        // The plan id matches but its operation at the receipt's position is another one (a
        // plan built by hand; resolution never gives such a pair): nothing to carry.
        let other_op = plan_with(w.plan_id.clone(), "v9.9.9");
        assert_eq!(
            w.check(Some(&good), |c| c.current_plan = Some(&other_op)),
            Err(GateCode::ReceiptStale)
        );
    }

    #[test]
    fn a_freeze_or_deny_in_force_at_execution_blocks_a_receipt_minted_before_it() {
        let w = world();
        let good = w.sign(w.claims());
        assert_eq!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 11:15 UTC)),
            Err(GateCode::Frozen)
        );
        assert_eq!(
            w.check(Some(&good), |c| c.policy = &w.denying),
            Err(GateCode::PolicyDenied)
        );
        assert!(w.check(Some(&good), |_| {}).is_ok());
    }

    #[test]
    fn a_receipt_backdated_by_a_retired_key_is_forged() {
        // The key retired yesterday; the receipt says it was issued before that and lasts
        // until 2099. Its own issue time is the signer's claim: the gate's clock decides.
        let mut w = world();
        w.signers[0].not_after = Some(NOW - Duration::days(1));
        let mut claims = w.claims();
        claims.issued_at = "2026-11-21T12:00:00Z".into();
        claims.expires_at = "2099-01-01T00:00:00Z".into();
        let backdated = w.sign(claims);
        let refused = w.blocked(Some(&backdated), |_| {}).unwrap_err();
        assert_eq!(refused.code, GateCode::ReceiptForged);
        assert!(refused.detail.contains("not in force now"), "{refused:?}");
        // Within its lifetime too: in force at the claimed issue time is not enough.
        let mut claims = w.claims();
        claims.issued_at = "2026-11-22T11:00:00Z".into();
        claims.expires_at = "2026-11-22T13:00:00Z".into();
        let receipt = w.sign(claims);
        let refused = w
            .blocked(Some(&receipt), |c| c.now = datetime!(2026-11-22 12:30 UTC))
            .unwrap_err();
        assert!(refused.detail.contains("not in force now"), "{refused:?}");
    }

    #[test]
    fn a_key_not_yet_in_force_is_forged() {
        let mut w = world();
        w.signers[0].not_before = Some(NOW + Duration::days(1));
        let receipt = w.sign(w.claims());
        assert_eq!(
            w.check(Some(&receipt), |_| {}),
            Err(GateCode::ReceiptForged)
        );
    }

    #[test]
    fn a_receipt_outliving_the_policys_receipt_ttl_is_forged() {
        let w = world();
        let mut claims = w.claims();
        claims.expires_at = "2026-11-23T14:00:01Z".into();
        let long = w.sign(claims);
        let refused = w.blocked(Some(&long), |_| {}).unwrap_err();
        assert_eq!(refused.code, GateCode::ReceiptForged);
        assert!(
            refused
                .detail
                .contains("longer than the policy's receipt_ttl of 2h for tag operations"),
            "{refused:?}"
        );
        // Exactly the receipt_ttl is what the mint gives: accepted.
        assert!(w.check(Some(&w.sign(w.claims())), |_| {}).is_ok());
        // Minted under another policy: stale (check 9), not an attack.
        assert_eq!(
            w.check(Some(&long), |c| c.current_policy_hash = "sha256:other"),
            Err(GateCode::ReceiptStale)
        );
    }

    #[test]
    fn no_receipt_lasts_more_than_thirty_days_under_any_policy() {
        let w = world();
        let mut claims = w.claims();
        claims.expires_at = "2099-01-01T00:00:00Z".into();
        let forever = w.sign(claims);
        for policy in [POLICY, "sha256:other"] {
            let refused = w
                .blocked(Some(&forever), |c| {
                    c.current_policy_hash = policy;
                    c.receipt_ttl = Duration::days(3_650);
                })
                .unwrap_err();
            assert_eq!(refused.code, GateCode::ReceiptForged);
            assert!(refused.detail.contains("30 days"), "{refused:?}");
        }
    }

    #[test]
    fn checks_run_in_design_order() {
        let w = world();
        // Wrong run AND consumed AND expired: the earliest check (5) is the one reported.
        let mut claims = w.claims();
        claims.run_id = RunId::parse("run_2").expect("run id");
        let receipt = w.sign(claims);
        assert_eq!(
            w.check(Some(&receipt), |c| {
                c.consumed = true;
                c.now = datetime!(2027-01-01 00:00 UTC)
            }),
            Err(GateCode::ReceiptWrongRun)
        );
        // Cleared for another run blocks before a missing receipt is even noticed.
        let other = Cleared {
            head: git2::Oid::ZERO_SHA1,
            run_id: "run_9".into(),
        };
        let ctx = GateContext {
            receipt: None,
            signers: &w.signers,
            receipt_ttl: Duration::hours(2),
            consumed: false,
            now: NOW,
            current_policy_hash: POLICY,
            current_plan: Some(&w.plan),
            policy: &w.policy,
        };
        assert_eq!(
            check_operation(&other, &w.op(), &ctx).map_err(|b| b.code),
            Err(GateCode::Locked)
        );
    }

    #[test]
    fn clock_skew_always_counts_against_the_receipt() {
        let w = world();
        let good = w.sign(w.claims());
        // 59 s before expiry is within the skew: refused.
        assert_eq!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 12:59:01 UTC)),
            Err(GateCode::ReceiptExpired)
        );
        assert!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 12:58:59 UTC))
                .is_ok()
        );
        // Issued more than 60 s in our future: a clock we cannot trust.
        assert_eq!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 10:58:59 UTC)),
            Err(GateCode::ReceiptExpired)
        );
        assert!(
            w.check(Some(&good), |c| c.now = datetime!(2026-11-23 10:59:00 UTC))
                .is_ok()
        );
    }

    #[test]
    fn preconditions_need_no_halt_and_this_executors_lock() {
        use crate::audit::state::{HaltRecord, LockRecord, State};
        use crate::model::RunId;
        let lock = |run: &str, until: &str| LockRecord {
            run_id: RunId::parse(run).expect("run id"),
            holder: Some("exe_1".into()),
            acquired_at: "2026-11-23T11:00:00Z".into(),
            expires_at: until.into(),
            seq: 3,
        };
        let cleared = |state: State| {
            check_preconditions(
                &VerifiedState::for_tests(git2::Oid::ZERO_SHA1, state),
                "run_1",
                "exe_1",
            )
            .map_err(|b| b.code)
        };
        let ours = State {
            lock: Some(lock("run_1", "2026-11-23T12:15:00Z")),
            ..State::default()
        };
        assert!(cleared(ours.clone()).is_ok());
        let halted = State {
            halt: Some(HaltRecord {
                by: "alice".into(),
                reason: "incident".into(),
                since: "2026-11-23T11:30:00Z".into(),
                seq: 4,
            }),
            ..ours.clone()
        };
        assert_eq!(cleared(halted), Err(GateCode::Halted));
        assert_eq!(cleared(State::default()), Err(GateCode::Locked));
        let theirs = State {
            lock: Some(lock("run_2", "2026-11-23T12:15:00Z")),
            ..State::default()
        };
        assert_eq!(cleared(theirs), Err(GateCode::Locked));
        // The same run's lock, taken by another executor (or by a version that named none).
        for holder in [Some("exe_2".to_owned()), None] {
            let other_executor = State {
                lock: Some(LockRecord {
                    holder,
                    ..lock("run_1", "2026-11-23T12:15:00Z")
                }),
                ..State::default()
            };
            assert_eq!(cleared(other_executor), Err(GateCode::Locked));
        }
        // Expired but not broken: still ours.
        let expired = State {
            lock: Some(lock("run_1", "2026-11-23T11:59:59Z")),
            ..State::default()
        };
        assert!(cleared(expired).is_ok());
    }
}
