//! What a command leaves for GitHub Actions when it runs in a workflow: its markdown report
//! appended to `$GITHUB_STEP_SUMMARY`, and its outputs appended to `$GITHUB_OUTPUT`. Outside
//! Actions (the variables unset) nothing is written.

use std::io::Write;

use crate::error::{Error, Outcome};
use crate::report::shipped::{ShippedOp, shipped_outputs};

/// Appends `markdown` to the job summary, when there is one.
pub fn write_step_summary(markdown: &str) -> std::io::Result<()> {
    append_to("GITHUB_STEP_SUMMARY", markdown)
}

/// Appends the step's outputs, when there are any: a one-line value as `name=value`, any other
/// in GitHub's heredoc form (`name<<DELIMITER`, the value's lines, `DELIMITER`) with a fresh
/// random delimiter that the value does not contain, so no value (a JSON document, text
/// GitHub answered with) can end itself early and forge another output.
pub fn write_outputs(outputs: &[(&str, String)]) -> std::io::Result<()> {
    let text = format_outputs(outputs, || crate::model::random_id("ghadelimiter", 16));
    append_to("GITHUB_OUTPUT", &text)
}

/// [`write_outputs`]' text, with delimiters from `delimiter` (asked again while one occurs in
/// the value; random ones never do).
fn format_outputs(outputs: &[(&str, String)], mut delimiter: impl FnMut() -> String) -> String {
    let mut text = String::new();
    for (name, value) in outputs {
        if !value.contains(['\n', '\r']) {
            text.push_str(&format!("{name}={value}\n"));
            continue;
        }
        let mut fence = delimiter();
        while value.contains(&fence) || fence.contains(['\n', '\r']) {
            fence = delimiter();
        }
        text.push_str(&format!("{name}<<{fence}\n{value}\n{fence}\n"));
    }
    text
}

/// Several ids as one output value.
/// Runs a command that ships, then writes the `shipped` outputs of what it collected whatever
/// its exit code (issue 18): what was done on GitHub before a failure or a block, `[]` when
/// nothing was. The command's error comes first; a failure to write the outputs after it.
pub fn with_shipped_outputs(
    command: impl FnOnce(&mut Vec<ShippedOp>) -> Result<Outcome, Error>,
) -> Result<Outcome, Error> {
    let mut shipped = Vec::new();
    let result = command(&mut shipped);
    let written = write_outputs(&shipped_outputs(&shipped));
    let outcome = result?;
    written?;
    Ok(outcome)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_values_are_written_as_name_equals_value() {
        let text = format_outputs(&[("status", "shipped".into())], || unreachable!());
        assert_eq!(text, "status=shipped\n");
    }

    #[test]
    fn other_values_are_fenced_by_a_delimiter_they_do_not_contain() {
        let mut offered = ["EOF", "X"].into_iter().map(str::to_owned);
        let hostile = "a\nEOF\nstatus=shipped".to_owned();
        let text = format_outputs(&[("shipped", hostile)], || {
            offered.next().expect("a second delimiter")
        });
        assert_eq!(text, "shipped<<X\na\nEOF\nstatus=shipped\nX\n");
    }

    #[test]
    fn random_delimiters_differ_each_time() {
        let outputs = [("a", "1\n2".to_owned())];
        let first = format_outputs(&outputs, || crate::model::random_id("ghadelimiter", 16));
        let second = format_outputs(&outputs, || crate::model::random_id("ghadelimiter", 16));
        assert_ne!(first, second);
        assert!(first.starts_with("a<<ghadelimiter_"), "{first}");
    }
}
