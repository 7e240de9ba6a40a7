//! What a command leaves for GitHub Actions when it runs in a workflow: its markdown report
//! appended to `$GITHUB_STEP_SUMMARY`, and its outputs appended to `$GITHUB_OUTPUT`. Outside
//! Actions (the variables unset) nothing is written.

use std::io::Write;

/// Appends `markdown` to the job summary, when there is one.
pub fn write_step_summary(markdown: &str) -> std::io::Result<()> {
    append_to("GITHUB_STEP_SUMMARY", markdown)
}

/// Appends `name=value` lines to the step's outputs, when there are any. Values are shipgate's
/// own (ids, status words, reason codes); one that is not a single line is left out rather
/// than allowed to forge another output.
pub fn write_outputs(outputs: &[(&str, String)]) -> std::io::Result<()> {
    let text: String = outputs
        .iter()
        .filter(|(_, value)| !value.contains(['\n', '\r']))
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    append_to("GITHUB_OUTPUT", &text)
}

/// Several ids as one output value.
pub fn space_separated<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn append_to(variable: &str, text: &str) -> std::io::Result<()> {
    let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}
