//! The dry-run report as plain text for a terminal. No colour is used, so `NO_COLOR` holds
//! trivially; plan text is echoed with control characters escaped.

use std::fmt::Write;

use super::{
    DryRunReport, OperationReport, PlanReport, RepoSource, Verdict, describe_preview,
    describe_requirement, github_line, policy_source_line,
};

/// Renders the report as text.
pub fn render_text(report: &DryRunReport) -> String {
    let mut out = String::new();
    write_header(&mut out, report);
    for plan in &report.plans {
        write_plan(&mut out, plan);
    }
    let _ = writeln!(out);
    if let Some(note) = &report.status_comment {
        let _ = writeln!(
            out,
            "status comment: {} on #{} (comment {})",
            note.action, note.pr, note.comment_id
        );
    }
    let verdict = if report.blocked {
        "something would be blocked"
    } else {
        "everything would ship after approval"
    };
    let _ = writeln!(out, "{} ({verdict})", report.banner);
    out
}

/// Writes the banner, the context lines, the warnings and the policy changes.
fn write_header(out: &mut String, report: &DryRunReport) {
    let _ = writeln!(out, "== {} ==", report.banner);
    let source = match report.repository_source {
        RepoSource::Flag => "from --repo-slug",
        RepoSource::Environment => "from GITHUB_REPOSITORY",
        RepoSource::OriginRemote => "from the origin remote",
        RepoSource::LocalPlaceholder => "local placeholder",
    };
    let _ = writeln!(out, "repository:  {} ({source})", report.repository);
    let _ = writeln!(
        out,
        "policy:      {}",
        policy_source_line(&report.policy.source)
    );
    let _ = writeln!(out, "policy hash: {}", report.policy.hash);
    let _ = writeln!(out, "github:      {}", github_line(&report.github));
    let _ = writeln!(out, "evaluated:   {}", report.evaluated_at);
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {}", clean(warning));
    }
    for change in &report.policy_changes {
        let _ = writeln!(
            out,
            "policy change (effective once merged): {}",
            clean(change)
        );
    }
}

/// Writes one plan: its heading, every operation and how to approve it.
fn write_plan(out: &mut String, plan: &PlanReport) {
    let _ = writeln!(out);
    let title = plan
        .name
        .as_deref()
        .map(|n| format!(" \"{}\"", clean(n)))
        .unwrap_or_default();
    let _ = writeln!(out, "plan {}{title}", clean(&plan.file));
    let _ = writeln!(out, "  id: {}", plan.plan_id);
    for op in &plan.operations {
        write_operation(out, op);
    }
    if let Some(run) = &plan.shipped_in {
        let _ = writeln!(out, "  shipped in {run}: nothing to approve");
        return;
    }
    let blocked = plan
        .operations
        .iter()
        .any(|o| o.verdict == Verdict::Blocked);
    if blocked {
        let _ = writeln!(
            out,
            "  approve: not possible until the blocked operations are fixed"
        );
    } else {
        let _ = writeln!(
            out,
            "  approve: comment `{}` on the pull request",
            plan.approve_command
        );
    }
}

/// Writes one operation: key, summary, GitHub preview, verdict and approvals needed.
fn write_operation(out: &mut String, op: &OperationReport) {
    let _ = writeln!(out, "  {}. {}", op.index + 1, clean(&op.key));
    let _ = writeln!(out, "     {}", clean(&op.summary));
    if let Some(preview) = &op.preview {
        let _ = writeln!(out, "     github: {}", clean(&describe_preview(preview)));
    }
    match op.verdict {
        Verdict::WouldShipAfterApproval => {
            let _ = writeln!(out, "     verdict: would ship after approval");
        }
        Verdict::Blocked => {
            if let Some(code) = op.preview.as_ref().and_then(|p| p.code) {
                let _ = writeln!(
                    out,
                    "     verdict: blocked: {} - {}",
                    code.as_str(),
                    code.why()
                );
            }
            for f in &op.findings {
                let _ = writeln!(
                    out,
                    "     verdict: blocked: {} - {} ({})",
                    f.code.as_str(),
                    f.code.why(),
                    clean(&f.message)
                );
            }
        }
    }
    for r in &op.approvals {
        let _ = writeln!(
            out,
            "     needs: {} [rule \"{}\"]",
            describe_requirement(r),
            clean(&r.rule)
        );
    }
}

/// Control, bidi and zero-width characters shown escaped (issue 13, class 13).
fn clean(text: &str) -> String {
    crate::invisible::show(text)
}
