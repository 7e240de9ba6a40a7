//! The dry-run report as GitHub-flavoured markdown (PR comments, job summaries).
//!
//! Every piece of user-controlled text (plan names, titles, branch and tag names, messages)
//! goes through [`escape_markdown`], so it cannot add markup, HTML, links or @mentions.

use std::fmt::Write;

use super::{
    DryRunReport, OperationReport, PlanReport, Verdict, describe_preview, describe_requirement,
    github_line, plan_heading_markdown, policy_source_line,
};

/// Escapes text for inline use in GitHub markdown: markup and HTML characters become
/// entities or backslash escapes, `@` cannot start a mention, line breaks become spaces, and
/// bidi controls and zero-width characters show as a visible `\u{202E}` (issue 13, class 13)
/// so that what an approver reads is what ships.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("&#64;"),
            '|' => out.push_str("&#124;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '~' | ':' | '.' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c if crate::invisible::is_invisible(c) => {
                out.push('\\');
                out.push_str(&crate::invisible::escaped(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as markdown.
pub fn render_markdown(report: &DryRunReport) -> String {
    let mut out = String::new();
    write_header(&mut out, report);
    write_policy_changes(&mut out, report);
    for plan in &report.plans {
        out.push_str(&plan_heading_markdown(
            plan.name.as_deref(),
            &plan.file,
            &plan.plan_id,
        ));
        let _ = writeln!(out, "| # | Operation | What | Verdict | Approvals needed |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for op in &plan.operations {
            write_operation_row(&mut out, op);
        }
        write_plan_footer(&mut out, plan);
    }
    write_stale_approvals(&mut out, report);
    out
}

/// The approvals a push made stale: each named, with the command to give again.
fn write_stale_approvals(out: &mut String, report: &DryRunReport) {
    if report.stale_approvals.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### Approvals that no longer count\n");
    let _ = writeln!(
        out,
        "These approve a plan id no plan of this pull request has now: a push changed a plan, its notes or what it resolves against. Approve the id above again.\n"
    );
    for stale in &report.stale_approvals {
        let _ = writeln!(
            out,
            "- **{}** approved `{}` ([comment]({}))",
            escape_markdown(&stale.login),
            stale.prefix,
            escape_markdown(&stale.url)
        );
    }
}

/// Writes the banner and the repository, policy, GitHub, time and warning lines.
fn write_header(out: &mut String, report: &DryRunReport) {
    let _ = writeln!(out, "## {}\n", report.banner);
    let _ = writeln!(out, "- Repository: `{}`", report.repository);
    let _ = writeln!(
        out,
        "- Policy: {} (hash `{}`)",
        escape_markdown(&policy_source_line(&report.policy.source)),
        report.policy.hash
    );
    let _ = writeln!(
        out,
        "- GitHub: {}",
        escape_markdown(&github_line(&report.github))
    );
    let _ = writeln!(out, "- Evaluated at: {}", report.evaluated_at);
    for warning in &report.warnings {
        let _ = writeln!(out, "- **Warning:** {}", escape_markdown(warning));
    }
}

/// Writes the section listing the policy changes this pull request makes, if any.
fn write_policy_changes(out: &mut String, report: &DryRunReport) {
    if report.policy_changes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### Policy changes in this pull request\n\nThey take effect only once merged: until then the default branch's policy judges every plan, this one's included. Review them like code that grants access.\n"
    );
    for change in &report.policy_changes {
        let _ = writeln!(out, "- {}", escape_markdown(change));
    }
}

/// Writes one operation's table row: key, what it does, verdict and approvals needed.
fn write_operation_row(out: &mut String, op: &OperationReport) {
    let verdict = match op.verdict {
        Verdict::WouldShipAfterApproval => "would ship after approval".to_owned(),
        Verdict::Blocked => blocked_verdict_cell(op),
    };
    let what = match &op.preview {
        Some(preview) => format!(
            "{}<br>GitHub: {}",
            escape_markdown(&op.summary),
            escape_markdown(&describe_preview(preview))
        ),
        None => escape_markdown(&op.summary),
    };
    let needs = op
        .approvals
        .iter()
        .map(|r| escape_markdown(&describe_requirement(r)))
        .collect::<Vec<_>>()
        .join("<br>");
    let _ = writeln!(
        out,
        "| {} | {} | {what} | {verdict} | {needs} |",
        op.index + 1,
        escape_markdown(&op.key),
    );
}

/// The verdict cell of a blocked operation: the GitHub conflict, then every finding.
fn blocked_verdict_cell(op: &OperationReport) -> String {
    let conflict = op.preview.as_ref().and_then(|p| {
        p.code.map(|code| {
            format!(
                "**blocked: {}** {}",
                code.as_str(),
                escape_markdown(&p.detail)
            )
        })
    });
    conflict
        .into_iter()
        .chain(op.findings.iter().map(|f| {
            format!(
                "**blocked: {}** {}",
                f.code.as_str(),
                escape_markdown(&f.message)
            )
        }))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Writes the approve command, or why the blocked operations cannot ship.
fn write_plan_footer(out: &mut String, plan: &PlanReport) {
    if let Some(run) = &plan.shipped_in {
        let _ = writeln!(out, "\nShipped in `{run}`: nothing to approve.");
        return;
    }
    let blocked: Vec<_> = plan
        .operations
        .iter()
        .filter(|o| o.verdict == Verdict::Blocked)
        .collect();
    if blocked.is_empty() {
        let _ = writeln!(
            out,
            "\nTo approve, comment:\n\n```\n{}\n```",
            plan.approve_command
        );
        return;
    }
    let _ = writeln!(out, "\n**Why not shipped:**\n");
    for op in blocked {
        if let Some(code) = op.preview.as_ref().and_then(|p| p.code) {
            let _ = writeln!(
                out,
                "- {} `{}`: {}",
                escape_markdown(&op.key),
                code.as_str(),
                code.why()
            );
        }
        for f in &op.findings {
            let _ = writeln!(
                out,
                "- {} `{}`: {}",
                escape_markdown(&op.key),
                f.code.as_str(),
                f.code.why()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_inject_markup_or_mentions() {
        let hostile = "<img src=x onerror=alert(1)> @everyone [click](http://evil) **bold** | pipe\n# heading";
        let escaped = escape_markdown(hostile);
        for forbidden in ["<img", "@everyone", "**", "| pipe", "\n"] {
            assert!(
                !escaped.contains(forbidden),
                "{forbidden:?} survived in {escaped:?}"
            );
        }
        // Every bracket is escaped, so no link can form.
        assert_eq!(escaped.matches('[').count(), escaped.matches("\\[").count());
        assert_eq!(escaped.matches(']').count(), escaped.matches("\\]").count());
    }

    #[test]
    fn bidi_overrides_and_zero_width_characters_show_escaped() {
        let escaped = escape_markdown("release \u{202E}exe.txt\u{200B}\u{2066}x\u{2069}");
        assert_eq!(
            escaped,
            "release \\\\u{202E}exe\\.txt\\\\u{200B}\\\\u{2066}x\\\\u{2069}"
        );
    }
}
