//! What mint tells: its report (each plan's tallies and outcome, on stdout, in the job summary
//! and the step outputs), the status comment unless posting it would take the status back
//! (issue 17), and the reactions on the comments whose commands it carried out or refused.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::PlanUnderReview;
use crate::app::audit::AppendSetup;
use crate::app::commands;
use crate::app::github;
use crate::approval::evaluate::{ApprovalOutcome, Comment};
use crate::audit::AuditError;
use crate::audit::state::StateAccess;
use crate::audit::view::StateView;
use crate::cli::Format;
use crate::error::{Error, Outcome};
use crate::github::{GitHubClient, GitHubConversation, Reaction};
use crate::model::{CommentId, PrNumber, RunId};
use crate::reason::Code;
use crate::report::Banner;
use crate::report::mint::{
    MintOutcome, MintReport, OperationTally, PlanMint, render_mint_markdown, render_mint_text,
};

/// The report to post as the status comment, or `None` (said on `out`) when posting it would
/// take the status back ([`status_would_regress`]).
pub(super) fn status_to_post<'r>(
    setup: &AppendSetup,
    pull: &crate::github::PullRequest,
    runs: &[RunId],
    report: &'r MintReport,
    out: &mut dyn Write,
) -> Result<Option<&'r MintReport>, Error> {
    if !status_would_regress(setup, pull, runs, report)? {
        return Ok(Some(report));
    }
    writeln!(
        out,
        "the status comment of #{} is left as it was: {}",
        pull.number,
        if pull.is_open() {
            "a run of it shipped"
        } else {
            "the pull request is merged or closed"
        }
    )?;
    Ok(None)
}

/// Whether posting `report` would take the status comment back (issue 17): on a merged or
/// closed pull request, or one whose run shipped, only a run minted now is news; anything
/// else (AUTHORIZED for the run that shipped, AWAITING APPROVAL for a plan that re-resolves
/// after the merge) would replace SHIPPED with an earlier state.
fn status_would_regress(
    setup: &AppendSetup,
    pull: &crate::github::PullRequest,
    runs: &[RunId],
    report: &MintReport,
) -> Result<bool, Error> {
    if report
        .plans
        .iter()
        .any(|p| matches!(p.outcome, MintOutcome::Minted { .. }))
    {
        return Ok(false);
    }
    if !pull.is_open() {
        return Ok(true);
    }
    let state = StateView::new(&setup.repo, setup.verified_head()?).map_err(AuditError::from)?;
    let shipped = runs.iter().any(|run_id| {
        state
            .run(run_id)
            .is_some_and(|run| crate::execute::shipped(&state, &run))
    });
    state.check().map_err(AuditError::from)?;
    Ok(shipped)
}

/// Each plan's part of the report: its tallies per operation, verdicts and outcome.
pub(super) fn plan_mints(
    plans: &[PlanUnderReview],
    approvals: &[ApprovalOutcome],
    outcomes: Vec<MintOutcome>,
) -> Vec<PlanMint> {
    plans
        .iter()
        .zip(approvals)
        .zip(outcomes)
        .map(|(((file, plan, decisions), approval), outcome)| PlanMint {
            file: file.clone(),
            name: plan.name.clone(),
            plan_id: plan.id.clone(),
            approve_command: format!("/shipgate approve {}", plan.id.approval_prefix()),
            outcome,
            operations: plan
                .operations
                .iter()
                .zip(decisions)
                .zip(&approval.tallies)
                .map(|((op, decision), tallies)| OperationTally {
                    op_key: op.key().to_string(),
                    rules: tallies.clone(),
                    findings: decision
                        .findings
                        .iter()
                        .map(|f| f.code.as_str().to_owned())
                        .collect(),
                })
                .collect(),
            approvals: approval.verdicts.clone(),
        })
        .collect()
}

/// The report where the workflow reads it (job summary, step outputs) and on stdout; halted
/// is exit 1.
pub(super) fn publish_report(
    report: &MintReport,
    runs: &[RunId],
    format: Format,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    crate::app::actions::write_step_summary(&render_mint_markdown(report))?;
    let halted = report.banner == Banner::Halted;
    crate::app::actions::write_outputs(&[
        (
            "plan-id",
            crate::app::actions::space_separated(report.plans.iter().map(|p| &p.plan_id)),
        ),
        (
            "run-id",
            runs.iter().map(RunId::as_str).collect::<Vec<_>>().join(" "),
        ),
        ("status", report.banner.status()),
        (
            "blocked-reasons",
            if halted { Code::Halted.as_str() } else { "" }.to_owned(),
        ),
    ])?;
    let rendered = match format {
        Format::Text => render_mint_text(report),
        Format::Markdown => render_mint_markdown(report),
        Format::Json => crate::app::json_report(report)?,
    };
    out.write_all(rendered.as_bytes())?;
    if halted {
        Ok(Outcome::Blocked)
    } else {
        Ok(Outcome::Clean)
    }
}

/// The reactions that answer the commands: +1 on a comment when any of its commands was
/// carried out (the status comment says which were not), -1 otherwise.
pub(super) fn reactions_of(answers: &[commands::Answer]) -> BTreeMap<CommentId, Reaction> {
    let mut reactions = BTreeMap::new();
    for answer in answers {
        reactions
            .entry(answer.comment_id)
            .and_modify(|r| {
                if answer.reaction == Reaction::PlusOne {
                    *r = Reaction::PlusOne;
                }
            })
            .or_insert(answer.reaction);
    }
    reactions
}

/// The reactions that inform (DESIGN 13 class 8): +1 on a counted approval, -1 on one by an
/// approver that does not count; nothing for strangers' and bots' comments, which cost a
/// request each and tell nobody anything. A comment that carries a +1 or -1 already is left
/// alone (GitHub's rollup does not say whose; shipgate's is the usual one), so each comment
/// gets at most one reaction from shipgate, ever. Then the halt and resume reactions, and the
/// status comment (none when it would regress), whose id is returned.
pub(super) async fn answer_on_github(
    client: &GitHubClient,
    pr: PrNumber,
    mut reactions: BTreeMap<CommentId, Reaction>,
    comments: &[Comment],
    approvals: &[ApprovalOutcome],
    status: Option<&MintReport>,
) -> Result<Option<CommentId>, Error> {
    let mut verdicts: BTreeMap<CommentId, Reaction> = BTreeMap::new();
    for verdict in approvals.iter().flat_map(|a| &a.verdicts) {
        let reaction = match (verdict.rejection, verdict.approver) {
            (None, _) => Reaction::PlusOne,
            (Some(_), true) => Reaction::MinusOne,
            (Some(_), false) => continue,
        };
        // Counted for any plan wins over rejected for another (a stale id for plan B is
        // expected when the comment approves plan A).
        verdicts
            .entry(verdict.comment_id)
            .and_modify(|r| {
                if reaction == Reaction::PlusOne {
                    *r = Reaction::PlusOne;
                }
            })
            .or_insert(reaction);
    }
    let reacted: BTreeSet<CommentId> = comments
        .iter()
        .filter(|c| c.thumbs > 0)
        .map(|c| c.id)
        .collect();
    for (comment_id, reaction) in verdicts {
        if !reacted.contains(&comment_id) {
            reactions.entry(comment_id).or_insert(reaction);
        }
    }
    for (comment_id, reaction) in reactions {
        client.react(comment_id, reaction).await?;
    }
    let Some(report) = status else {
        return Ok(None);
    };
    let upserted = github::post_status(client, pr, &render_mint_markdown(report)).await?;
    Ok(Some(match upserted {
        crate::github::Upserted::Created(id) | crate::github::Upserted::Updated(id) => id,
    }))
}
