//! What shows where runs are in their life (issue 17): the notice `execute --pending` gives for
//! a run that can no longer ship as approved (stale, expired), as text, JSON or the markdown of
//! the PR status comment, and the listing of `shipgate runs`.

use crate::model::{PrNumber, RunId};
use std::fmt::Write;

use serde::Serialize;

use super::{Banner, escape_markdown};
use crate::audit::state::RunRecord;
use crate::lifecycle::RunState;

/// A run `execute --pending` did not execute because its plan no longer matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleRunReport {
    /// Always `execute`.
    pub mode: &'static str,
    /// Always [`Banner::Blocked`].
    pub banner: Banner,
    /// The run.
    pub run_id: RunId,
    /// The plan it approved.
    pub plan_id: String,
    /// The pull request it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrNumber>,
    /// The reason code.
    pub code: String,
    /// Why, and what to do, in a line.
    pub detail: String,
}

impl StaleRunReport {
    /// The notice for `run` in `state` (stale or expired, which have a code).
    pub fn new(run: &RunRecord, state: &RunState) -> Option<Self> {
        let code = state.code()?;
        Some(Self {
            mode: "execute",
            banner: Banner::Blocked,
            run_id: run.run_id.clone(),
            plan_id: run.plan_id.clone(),
            pr: run.pr,
            code: code.as_str().to_owned(),
            detail: state.explain(run),
        })
    }
}

/// Renders the notice for a terminal: the banner, then `blocked: CODE (detail)`.
pub fn render_stale_text(report: &StaleRunReport) -> String {
    format!(
        "== {} ==\nrun {} (plan {})\n  blocked: {} ({})\n",
        report.banner, report.run_id, report.plan_id, report.code, report.detail
    )
}

/// Renders the notice as markdown (status comment, job summary).
pub fn render_stale_markdown(report: &StaleRunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", report.banner);
    let _ = writeln!(out, "- Run: `{}`", report.run_id);
    let _ = writeln!(out, "- Plan id: `{}`\n", report.plan_id);
    let _ = writeln!(
        out,
        "Nothing was shipped: `{}`: {}",
        report.code,
        escape_markdown(&report.detail)
    );
    let _ = writeln!(
        out,
        "\nApprove the plan as it is now (`/shipgate approve <prefix>`) to mint a new run."
    );
    out
}

/// One run of `shipgate runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRow {
    /// The run.
    pub run_id: RunId,
    /// The plan it approved.
    pub plan_id: String,
    /// The pull request it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrNumber>,
    /// The entry that opened it.
    pub seq: u64,
    /// Its state.
    #[serde(flatten)]
    pub state: RunState,
    /// The state in a line.
    pub detail: String,
}

/// The listing of `shipgate runs`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunsReport {
    /// Always `runs`.
    pub mode: &'static str,
    /// The runs, newest first.
    pub runs: Vec<RunRow>,
    /// The plans no run holds yet: in the checkout, or with `--pr`, the ones the pull request
    /// adds or changes.
    pub awaiting_approval: Vec<AwaitingRow>,
}

/// A plan awaiting approval: no run on the chain holds any of its operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwaitingRow {
    /// The plan file.
    pub file: String,
    /// The plan id approvers approve (by a prefix).
    pub plan_id: String,
    /// The pull request it is on, when listed for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pr: Option<PrNumber>,
    /// The comment that approves it.
    pub approve_command: String,
}

/// Renders the listing for a terminal, a run a line.
pub fn render_runs_text(report: &RunsReport) -> String {
    let mut out = String::new();
    for row in &report.awaiting_approval {
        let pr = row.pr.map_or_else(|| "-".to_owned(), |pr| format!("#{pr}"));
        let _ = writeln!(
            out,
            "{:<28}  {:<17}  {:<5}  {}: {}",
            "-", "awaiting_approval", pr, row.file, row.approve_command
        );
    }
    if report.runs.is_empty() {
        out.push_str("no runs on the governance branch\n");
        return out;
    }
    for row in &report.runs {
        let pr = row.pr.map_or_else(|| "-".to_owned(), |pr| format!("#{pr}"));
        let _ = writeln!(
            out,
            "{}  {:<17}  {:<5}  {}",
            row.run_id,
            row.state.word(),
            pr,
            row.detail
        );
    }
    out
}
