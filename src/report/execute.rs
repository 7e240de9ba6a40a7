//! What `shipgate execute` shows: the SHIPPED / BLOCKED banner, each operation's outcome with
//! links, and the run's timeline from the audit chain, as text, JSON, or the markdown of the PR
//! status comment and the job summary.

use std::fmt::Write;

use serde::Serialize;

use super::{Banner, PolicySource, escape_markdown, policy_source_line};
use crate::model::RunId;

/// What happened to one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OpOutcome {
    /// Performed and read back as approved.
    Shipped {
        /// Where to see it (releases and pull requests).
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Found done as approved (an earlier attempt's effect).
    Recovered,
    /// Already settled by an earlier execution of this run, which stopped at a later operation.
    AlreadyShipped,
    /// Blocked before any effect.
    Denied {
        /// The reason code.
        code: String,
        /// Why.
        detail: String,
    },
    /// The effect failed or did not read back as approved.
    Failed {
        /// The reason code.
        code: String,
        /// Why.
        detail: String,
    },
    /// Not attempted: an earlier operation stopped the run.
    NotAttempted,
}

impl OpOutcome {
    /// Whether the operation is done as approved.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Self::Shipped { .. } | Self::Recovered | Self::AlreadyShipped
        )
    }

    fn describe(&self) -> String {
        match self {
            Self::Shipped { .. } => "shipped".to_owned(),
            Self::Recovered => "recovered: found done as approved".to_owned(),
            Self::AlreadyShipped => {
                "already shipped by an earlier execution of this run".to_owned()
            }
            Self::Denied { code, detail } => format!("blocked: {code} ({detail})"),
            Self::Failed { code, detail } => format!("failed: {code} ({detail})"),
            Self::NotAttempted => "not attempted".to_owned(),
        }
    }
}

/// One entry of the run's history on the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// Entry time.
    pub at: String,
    /// Entry sequence number.
    pub seq: u64,
    /// What happened, in a line.
    pub summary: String,
}

/// A whole execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecuteReport {
    /// Always `execute`.
    pub mode: &'static str,
    /// [`Banner::Shipped`] or [`Banner::Blocked`].
    pub banner: Banner,
    /// The run.
    pub run_id: RunId,
    /// Its plan.
    pub plan_id: String,
    /// Where the policy the gate judged with was read (issue 17: the commit used).
    pub policy: PolicySource,
    /// Each operation, in plan order.
    pub operations: Vec<(String, OpOutcome)>,
    /// The run's entries on the chain, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

impl ExecuteReport {
    /// The report of a run's operations.
    pub fn new(
        (run_id, plan_id): (RunId, String),
        policy: PolicySource,
        operations: Vec<(String, OpOutcome)>,
        timeline: Vec<TimelineEntry>,
    ) -> Self {
        let banner = if operations.iter().all(|(_, o)| o.is_done()) {
            Banner::Shipped
        } else {
            Banner::Blocked
        };
        Self {
            mode: "execute",
            banner,
            run_id,
            plan_id,
            policy,
            operations,
            timeline,
        }
    }
}

/// Renders the report for a terminal.
pub fn render_execute_text(report: &ExecuteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "== {} ==", report.banner);
    let _ = writeln!(out, "run {} (plan {})", report.run_id, report.plan_id);
    let _ = writeln!(out, "policy: {}", policy_source_line(&report.policy));
    for (op_key, outcome) in &report.operations {
        let _ = writeln!(out, "  {op_key}: {}", outcome.describe());
        if let OpOutcome::Shipped { link: Some(link) } = outcome {
            let _ = writeln!(out, "    {link}");
        }
    }
    out
}

/// Renders the report as markdown (status comment, job summary).
pub fn render_execute_markdown(report: &ExecuteReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", report.banner);
    let _ = writeln!(out, "- Run: `{}`", report.run_id);
    let _ = writeln!(out, "- Plan id: `{}`", report.plan_id);
    let _ = writeln!(
        out,
        "- Policy: {}\n",
        escape_markdown(&policy_source_line(&report.policy))
    );
    let _ = writeln!(out, "| Operation | Outcome |");
    let _ = writeln!(out, "|---|---|");
    for (op_key, outcome) in &report.operations {
        let text = escape_markdown(&outcome.describe());
        let cell = match outcome {
            // Links come from GitHub's own answers (html_url), never from plan text.
            OpOutcome::Shipped { link: Some(link) } => format!("[{text}](<{link}>)"),
            _ => text,
        };
        let _ = writeln!(out, "| {} | {cell} |", escape_markdown(op_key));
    }
    if !report.timeline.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Timeline (audit chain)</summary>\n"
        );
        for entry in &report.timeline {
            let _ = writeln!(
                out,
                "- {} seq {}: {}",
                entry.at,
                entry.seq,
                escape_markdown(&entry.summary)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
