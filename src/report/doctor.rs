//! What `shipgate doctor` found: one [`Finding`] per check, each with a stable code, a
//! severity, what it means and how to fix it, rendered as text, JSON or markdown (the job
//! summary). Rendering decides nothing: the checks in `app::doctor` do.

use std::fmt::Write as _;

use serde::Serialize;

use super::escape_markdown;
use crate::error::Outcome;
use crate::reason::{Class, Code};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The check passed.
    Ok,
    /// The check was not run (nothing to check it with); not a fault.
    Skipped,
    /// Works, but should be looked at.
    Warning,
    /// shipgate will not work, or not safely, until this is fixed (exit 1).
    Problem,
    /// The check could not reach git or GitHub (exit 3).
    Unreachable,
}

impl Severity {
    /// The word shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skipped => "skipped",
            Self::Warning => "warning",
            Self::Problem => "problem",
            Self::Unreachable => "unreachable",
        }
    }

    /// The severity of a finding with a code of this class (the registry decides it).
    pub fn of(class: Class) -> Self {
        match class {
            Class::Ok => Self::Ok,
            Class::Skipped => Self::Skipped,
            Class::Note | Class::Warning => Self::Warning,
            Class::Blocked | Class::BadInput | Class::Integrity => Self::Problem,
            Class::Infrastructure => Self::Unreachable,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code (`POLICY_INVALID`).
    pub code: Code,
    /// How much it matters.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// How to fix it (empty when nothing needs fixing).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Finding {
    /// A finding without a fix; its severity is its code's class.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::of(code.class()),
            message: message.into(),
            fix: String::new(),
        }
    }

    /// The same finding with how to fix it.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }
}

/// Everything doctor found, in the order it checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl DoctorReport {
    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The exit outcome: infrastructure when a check could not reach git or GitHub, blocked
    /// when any check found a problem, clean otherwise (warnings allowed).
    pub fn outcome(&self) -> Outcome {
        self.findings
            .iter()
            .map(|f| Outcome::from(f.code.class()))
            .max()
            .unwrap_or(Outcome::Clean)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    fn summary(&self) -> String {
        format!(
            "{} ok, {} warning(s), {} problem(s), {} unreachable, {} skipped",
            self.count(Severity::Ok),
            self.count(Severity::Warning),
            self.count(Severity::Problem),
            self.count(Severity::Unreachable),
            self.count(Severity::Skipped)
        )
    }

    /// Plain text (no colour), one finding per paragraph.
    pub fn render_text(&self) -> String {
        let mut out = String::from("shipgate doctor\n\n");
        for f in &self.findings {
            // Continuation lines (a policy's diagnostics) stay under their finding.
            let message = f.message.replace('\n', &format!("\n{:<12}", ""));
            let _ = writeln!(out, "{:<11} {}: {message}", f.severity.label(), f.code);
            if !f.fix.is_empty() {
                let _ = writeln!(out, "{:<11} fix: {}", "", f.fix);
            }
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// JSON: `ok`, the exit code, and the findings.
    pub fn render_json(&self) -> serde_json::Value {
        let outcome = self.outcome();
        serde_json::json!({
            "ok": outcome == Outcome::Clean,
            "exit_code": outcome.code(),
            "findings": self.findings,
        })
    }

    /// A markdown table for the job summary; every value is escaped.
    pub fn render_markdown(&self) -> String {
        let mut out =
            String::from("## shipgate doctor\n\n| | check | finding | fix |\n|---|---|---|---|\n");
        for f in &self.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                f.severity.label(),
                f.code,
                escape_markdown(&f.message),
                escape_markdown(&f.fix)
            );
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_finding_decides_the_exit_code() {
        let mut report = DoctorReport::default();
        report.push(Finding::new(Code::PolicyOk, "fine"));
        report.push(Finding::new(Code::PolicyUncommitted, "hm"));
        assert_eq!(report.outcome(), Outcome::Clean);
        report.push(Finding::new(Code::PolicyInvalid, "broken").fix("mend it"));
        assert_eq!(report.outcome(), Outcome::Blocked);
        report.push(Finding::new(Code::GitUnreachable, "no answer"));
        assert_eq!(report.outcome(), Outcome::Infrastructure);
        let text = report.render_text();
        assert!(
            text.contains("problem     POLICY_INVALID: broken\n            fix: mend it\n"),
            "{text}"
        );
    }

    #[test]
    fn markdown_escapes_what_it_quotes() {
        let mut report = DoctorReport::default();
        report.push(Finding::new(Code::PolicyInvalid, "a | b <img> @alice"));
        let md = report.render_markdown();
        assert!(md.contains("a &#124; b &lt;img&gt; &#64;alice"), "{md}");
    }
}
