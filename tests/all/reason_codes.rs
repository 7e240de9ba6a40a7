//! The reason-code registry (`src/reason.rs`, issue 14) is the one place a code is spelled:
//! README's troubleshooting table lists exactly its rows, and no other source file writes a
//! code as a string literal.

use std::path::Path;

use shipgate::error::Outcome;
use shipgate::reason::Code;

use crate::local_runner::project_root;

/// The rows the registry calls for, in its order.
fn expected_rows() -> Vec<String> {
    Code::ALL
        .iter()
        .map(|code| code.table_row(Outcome::from(code.class()).code()))
        .collect()
}

/// The table rows (lines starting with "| `") of README's troubleshooting section.
fn readme_rows() -> Vec<String> {
    let readme = std::fs::read_to_string(project_root().join("README.md")).expect("README");
    let (_, section) = readme
        .split_once("## Troubleshooting")
        .expect("a troubleshooting section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_troubleshooting_table_is_exactly_the_registry() {
    let expected = expected_rows();
    let found = readme_rows();
    let missing: Vec<&String> = expected.iter().filter(|r| !found.contains(r)).collect();
    let extra: Vec<&String> = found.iter().filter(|r| !expected.contains(r)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && found == expected,
        "README's troubleshooting table differs from src/reason.rs.\n\
         rows missing or different:\n{}\n\nrows README has that the registry lacks:\n{}\n\n\
         the whole table, in order (paste it under the header):\n{}",
        missing
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        extra
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        expected.join("\n")
    );
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_source_file_but_the_registry_spells_a_code() {
    let src = project_root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut spelled = Vec::new();
    for path in files.iter().filter(|p| !p.ends_with("reason.rs")) {
        let text = std::fs::read_to_string(path).expect("read");
        for code in Code::ALL {
            // A literal of the code itself, or a message that starts with it.
            for quoted in [format!("\"{code}\""), format!("\"{code}:")] {
                if text.contains(&quoted) {
                    spelled.push(format!("{}: {quoted}", path.display()));
                }
            }
        }
    }
    assert!(
        spelled.is_empty(),
        "reason codes spelled outside src/reason.rs (use `Code::...`): {spelled:#?}"
    );
}
