//! What `shipgate mint` shows: per plan, the approvals tally, each approval's verdict, and
//! what was minted (or why not), as text, JSON, or the markdown of the PR status comment.

use std::fmt::Write;

use serde::Serialize;

use super::replies::{Replies, render_replies_markdown};
use super::{Banner, PolicySource, escape_markdown, plan_heading_markdown, policy_source_line};
use crate::approval::evaluate::{ApprovalVerdict, RuleTally};
use crate::model::{PlanId, PrNumber, ReceiptId, RepoSlug, RunId};

/// One receipt minted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MintedReceipt {
    /// The operation.
    pub op_key: String,
    /// The receipt.
    pub receipt_id: ReceiptId,
    /// False for advisory receipts (a finding stood): recorded, never executable.
    pub enforceable: bool,
    /// Expiry.
    pub expires_at: String,
}

/// What happened to one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MintOutcome {
    /// A run was opened and its receipts minted now.
    Minted {
        /// The run.
        run_id: RunId,
        /// Its receipts, in plan order.
        receipts: Vec<MintedReceipt>,
    },
    /// A run for this exact plan id exists: nothing new was minted.
    AlreadyMinted {
        /// The existing run.
        run_id: RunId,
    },
    /// Some rule's quorum is not met: the chain did not change.
    AwaitingApproval,
    /// No approval can count (`AUTHOR_UNKNOWN`: a commit touching the plan is linked to no
    /// GitHub account): nothing was minted.
    Unapprovable {
        /// The stable reason code.
        reason: String,
        /// What to do about it.
        why: String,
    },
    /// shipgate is halted: nothing was minted, the refusal was recorded.
    Halted {
        /// Why it was halted.
        reason: String,
    },
}

/// The tally of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationTally {
    /// The operation key.
    pub op_key: String,
    /// Per rule: needed and counted.
    pub rules: Vec<RuleTally>,
    /// Policy findings that make its receipt advisory.
    pub findings: Vec<String>,
}

/// One plan of the PR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanMint {
    /// The plan file.
    pub file: String,
    /// Its display name.
    pub name: Option<String>,
    /// The plan id.
    pub plan_id: PlanId,
    /// The comment that approves it.
    pub approve_command: String,
    /// What happened.
    pub outcome: MintOutcome,
    /// Per operation.
    pub operations: Vec<OperationTally>,
    /// Every approval command read, with its verdict.
    pub approvals: Vec<ApprovalVerdict>,
}

/// A whole mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MintReport {
    /// Always `mint`.
    pub mode: &'static str,
    /// [`Banner::Authorized`], [`Banner::AwaitingApproval`] or [`Banner::Halted`].
    pub banner: Banner,
    /// The repository.
    pub repository: RepoSlug,
    /// The pull request.
    pub pr: PrNumber,
    /// The policy hash the receipts bind.
    pub policy_hash: String,
    /// Where that policy was read (issue 17: the commit used).
    pub policy: PolicySource,
    /// Things to know that did not stop the mint.
    pub warnings: Vec<String>,
    /// The plans the PR adds or changes.
    pub plans: Vec<PlanMint>,
    /// The answers to `/shipgate help` and malformed commands (issue 18).
    #[serde(skip_serializing_if = "Replies::is_empty")]
    pub replies: Replies,
}

impl MintReport {
    /// Arranges the plans under the banner their outcomes call for.
    pub fn new(
        repository: RepoSlug,
        pr: PrNumber,
        (policy_hash, policy): (String, PolicySource),
        warnings: Vec<String>,
        plans: Vec<PlanMint>,
    ) -> Self {
        let banner = if plans
            .iter()
            .any(|p| matches!(p.outcome, MintOutcome::Halted { .. }))
        {
            Banner::Halted
        } else if !plans.is_empty()
            && plans.iter().all(|p| {
                matches!(
                    p.outcome,
                    MintOutcome::Minted { .. } | MintOutcome::AlreadyMinted { .. }
                )
            })
        {
            Banner::Authorized
        } else {
            Banner::AwaitingApproval
        };
        Self {
            mode: "mint",
            banner,
            repository,
            pr,
            policy_hash,
            policy,
            warnings,
            plans,
            replies: Replies::default(),
        }
    }

    /// The report with the answers to `/shipgate help` and malformed commands.
    pub fn with_replies(mut self, replies: Replies) -> Self {
        self.replies = replies;
        self
    }
}

fn outcome_line(outcome: &MintOutcome) -> String {
    match outcome {
        MintOutcome::Minted { run_id, receipts } => {
            format!("minted run {run_id} ({} receipts)", receipts.len())
        }
        MintOutcome::AlreadyMinted { run_id } => {
            format!("already minted: run {run_id}; nothing new")
        }
        MintOutcome::AwaitingApproval => "awaiting approval: nothing minted".to_owned(),
        MintOutcome::Unapprovable { reason, why } => {
            format!("unapprovable ({reason}): {why}: nothing minted")
        }
        MintOutcome::Halted { reason } => format!("halted ({reason}): nothing minted"),
    }
}

/// A rule's tally as "N of M": counted approvers up to the quorum, so a rule needing one
/// approval that got two reads "1 of 1" with both names, never "2/1" (issue 17).
fn tally_line(tally: &RuleTally) -> String {
    let who: Vec<&str> = tally.approvers.iter().map(|l| l.as_str()).collect();
    let required = tally.required as usize;
    format!(
        "{} of {required} for \"{}\"{}",
        who.len().min(required),
        tally.rule,
        if who.is_empty() {
            String::new()
        } else {
            format!(" ({})", who.join(", "))
        }
    )
}

/// Renders the report for a terminal.
pub fn render_mint_text(report: &MintReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "== {} ==", report.banner);
    let _ = writeln!(out, "repository:  {} #{}", report.repository, report.pr);
    let _ = writeln!(out, "policy hash: {}", report.policy_hash);
    let _ = writeln!(out, "policy:      {}", policy_source_line(&report.policy));
    // File names and warnings come from the pull request: shown escaped (issue 13, class 13).
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {}", crate::invisible::show(warning));
    }
    for plan in &report.plans {
        let _ = writeln!(out, "\nplan {}", crate::invisible::show(&plan.file));
        let _ = writeln!(out, "  id: {}", plan.plan_id);
        let _ = writeln!(out, "  {}", outcome_line(&plan.outcome));
        for op in &plan.operations {
            let tallies: Vec<String> = op.rules.iter().map(tally_line).collect();
            let _ = writeln!(out, "  {}: {}", op.op_key, tallies.join("; "));
        }
        for verdict in &plan.approvals {
            let _ = writeln!(
                out,
                "  approval by {} (comment {}): {}",
                verdict.login,
                verdict.comment_id,
                verdict_text(verdict)
            );
        }
        if let MintOutcome::Minted { receipts, .. } = &plan.outcome {
            for r in receipts {
                let _ = writeln!(
                    out,
                    "  receipt {} for {}{} (expires {})",
                    r.receipt_id,
                    r.op_key,
                    if r.enforceable { "" } else { " [advisory]" },
                    r.expires_at
                );
            }
        }
    }
    out
}

fn verdict_text(verdict: &ApprovalVerdict) -> String {
    match verdict.rejection {
        None => "counted".to_owned(),
        Some(rejection) => format!("not counted: {} - {}", rejection.code(), rejection.why()),
    }
}

/// Renders the report as the markdown of the PR status comment. Plan names and file names
/// are escaped; logins are validated GitHub logins and are never written as @mentions.
pub fn render_mint_markdown(report: &MintReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", report.banner);
    let _ = writeln!(out, "- Repository: `{}`", report.repository);
    let _ = writeln!(out, "- Policy hash: `{}`", report.policy_hash);
    let _ = writeln!(
        out,
        "- Policy: {}",
        escape_markdown(&policy_source_line(&report.policy))
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "- **Warning:** {}", escape_markdown(warning));
    }
    for plan in &report.plans {
        out.push_str(&plan_heading_markdown(
            plan.name.as_deref(),
            &plan.file,
            &plan.plan_id,
        ));
        let _ = writeln!(
            out,
            "**{}**\n",
            escape_markdown(&outcome_line(&plan.outcome))
        );
        let _ = writeln!(out, "| Operation | Approvals | Findings |");
        let _ = writeln!(out, "|---|---|---|");
        for op in &plan.operations {
            let tallies: Vec<String> = op
                .rules
                .iter()
                .map(|t| escape_markdown(&tally_line(t)))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                escape_markdown(&op.op_key),
                tallies.join("<br>"),
                escape_markdown(&op.findings.join(", "))
            );
        }
        if !plan.approvals.is_empty() {
            let _ = writeln!(out, "\nApprovals read:\n");
            for verdict in &plan.approvals {
                let _ = writeln!(
                    out,
                    "- {} (comment {}): {}",
                    escape_markdown(verdict.login.as_str()),
                    verdict.comment_id,
                    escape_markdown(&verdict_text(verdict))
                );
            }
        }
        match &plan.outcome {
            MintOutcome::Minted { run_id, receipts } => {
                let _ = writeln!(out, "\nRun `{run_id}`, receipts:\n");
                for r in receipts {
                    let _ = writeln!(
                        out,
                        "- `{}` for {}{}, expires {}",
                        r.receipt_id,
                        escape_markdown(&r.op_key),
                        if r.enforceable { "" } else { " (advisory)" },
                        r.expires_at
                    );
                }
            }
            MintOutcome::AwaitingApproval => {
                let _ = writeln!(
                    out,
                    "\nTo approve, comment:\n\n```\n{}\n```",
                    plan.approve_command
                );
            }
            MintOutcome::Unapprovable { reason, why } => {
                let _ = writeln!(
                    out,
                    "\nNobody can approve this plan: `{reason}`, {}.",
                    escape_markdown(why)
                );
            }
            MintOutcome::AlreadyMinted { .. } | MintOutcome::Halted { .. } => {}
        }
    }
    out.push_str(&render_replies_markdown(&report.replies));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Login;

    fn tally(required: u32, approvers: &[&str]) -> RuleTally {
        RuleTally {
            rule: "r".into(),
            required,
            approvers: approvers
                .iter()
                .map(|l| Login::parse(l).expect("login"))
                .collect(),
        }
    }

    /// Issue 17: "2 of 2", never "2/1".
    #[test]
    fn tallies_read_n_of_m_and_never_count_past_the_quorum() {
        assert_eq!(tally_line(&tally(2, &[])), "0 of 2 for \"r\"");
        assert_eq!(
            tally_line(&tally(2, &["alice"])),
            "1 of 2 for \"r\" (alice)"
        );
        assert_eq!(
            tally_line(&tally(1, &["alice", "bob"])),
            "1 of 1 for \"r\" (alice, bob)"
        );
    }
}
