//! Every malformed plan and policy under `tests/data/*/invalid/` fails with the exact kind,
//! line and column its `.expect` file names; hostile inputs fail fast and clearly.

use std::path::Path;
use std::time::{Duration, Instant};

use shipgate::diag::{Diagnostic, InputErrorKind};
use shipgate::model::RepoSlug;
use shipgate::plan::{check_plan, resolve_plan};
use shipgate::policy::{PolicyFile, load_policy};
use shipgate::repo::LocalRepo;

use crate::fixture::TestRepo;

fn cases(dir: &str) -> Vec<(String, Vec<u8>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir);
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("case directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let expect = std::fs::read_to_string(p.with_extension("expect"))
                .expect("an .expect file beside each case");
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (
                name,
                std::fs::read(&p).expect("case"),
                expect.trim().to_owned(),
            )
        })
        .collect();
    cases.sort();
    cases
}

fn describe(d: &Diagnostic) -> String {
    format!("{} {}:{}", d.kind.code(), d.line, d.column)
}

fn plan_error(repo: &LocalRepo, name: &str, bytes: &[u8]) -> Option<Diagnostic> {
    let slug = RepoSlug::parse("acme/widget").expect("slug");
    let result = check_plan(name, bytes).and_then(|checked| resolve_plan(&checked, &slug, repo));
    result.err().map(|ds| ds.0[0].clone())
}

#[test]
fn every_malformed_plan_names_its_kind_line_and_column() {
    let fixture = TestRepo::standard();
    let repo = LocalRepo::discover(fixture.path()).expect("repo");
    let cases = cases("plans/invalid");
    assert!(
        cases.len() >= 30,
        "expected the full plan case set, found {}",
        cases.len()
    );
    let mismatches: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes, expect)| {
            let got = plan_error(&repo, name, bytes)
                .map(|d| describe(&d))
                .unwrap_or_else(|| "no error".into());
            (got != *expect).then(|| format!("{name}: expected {expect}, got {got}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

#[test]
fn every_malformed_policy_names_its_kind_line_and_column() {
    let cases = cases("policies/invalid");
    assert!(
        cases.len() >= 20,
        "expected the full policy case set, found {}",
        cases.len()
    );
    let mismatches: Vec<String> = cases
        .iter()
        .filter_map(|(name, bytes, expect)| {
            let file = PolicyFile {
                name: name.clone(),
                bytes: bytes.clone(),
            };
            let got = load_policy(&[file])
                .err()
                .map(|ds| describe(&ds.0[0]))
                .unwrap_or_else(|| "no error".into());
            (got != *expect).then(|| format!("{name}: expected {expect}, got {got}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

#[test]
fn a_group_defined_in_two_files_is_reported_in_the_second() {
    let a = PolicyFile {
        name: "a.yaml".into(),
        bytes: b"version: 1\ngroups:\n  rm:\n    users: [alice]\n".to_vec(),
    };
    let b = PolicyFile {
        name: "b.yaml".into(),
        bytes: b"version: 1\ngroups:\n  rm:\n    users: [bob]\n".to_vec(),
    };
    let err = load_policy(&[a, b]).expect_err("duplicate group");
    assert_eq!(
        (err.0[0].kind, err.0[0].file.as_str(), err.0[0].line),
        (InputErrorKind::DuplicateGroup, "b.yaml", 3)
    );
}

#[test]
fn more_than_100_operations_is_refused() {
    let mut text = String::from("version: 1\noperations:\n");
    for i in 0..101 {
        text.push_str(&format!(
            "  - kind: tag\n    name: v0.0.{i}\n    target: main\n"
        ));
    }
    let err = check_plan("many.yaml", text.as_bytes()).expect_err("too many");
    assert_eq!(
        (err.0[0].kind, err.0[0].line, err.0[0].column),
        (InputErrorKind::OperationCount, 3, 3)
    );
}

#[test]
fn all_problems_of_a_plan_are_reported_together() {
    let text = "version: 1\noperations:\n  - kind: tag\n    name: bad name\n    target: main\n  - kind: release\n    tag: also bad\n";
    let err = check_plan("two.yaml", text.as_bytes()).expect_err("two problems");
    let lines: Vec<usize> = err.0.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![4, 7]);
}

/// Hostile inputs: each fails with a clear kind, without panicking, well inside a second
/// (the bound is generous: it guards against hangs and blow-ups, not a benchmark).
fn assert_refused_fast(bytes: &[u8], expected: InputErrorKind) {
    let started = Instant::now();
    let err = check_plan("hostile.yaml", bytes).expect_err("hostile input must be refused");
    assert_eq!(err.0[0].kind, expected, "{}", err);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text =
        String::from("version: 1\nlol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*lol{}", i - 1); 9].join(", ");
        text.push_str(&format!("lol{i}: &lol{i} [{refs}]\n"));
    }
    text.push_str("operations: *lol9\n");
    assert_refused_fast(text.as_bytes(), InputErrorKind::AliasLimit);
}

#[test]
fn one_large_string_aliased_many_times_is_refused() {
    let big = "x".repeat(400_000);
    let aliases = vec!["*big"; 100_000].join(",");
    let text = format!(
        "version: 1\nname: &big \"{big}\"\noperations:\n  - kind: pull_request\n    head: a\n    base: b\n    title: t\n    body: *big\nextra: [{aliases}]\n"
    );
    assert!(text.len() < shipgate::plan::MAX_PLAN_BYTES);
    assert_refused_fast(text.as_bytes(), InputErrorKind::AliasLimit);
}

#[test]
fn a_ten_megabyte_file_is_refused_by_size() {
    let mut text = b"version: 1\nname: ".to_vec();
    text.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    assert_refused_fast(&text, InputErrorKind::TooLarge);
}

#[test]
fn a_thousand_levels_of_nesting_are_refused() {
    let text = format!(
        "version: 1\noperations: {}{}\n",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    assert_refused_fast(text.as_bytes(), InputErrorKind::TooDeep);
    let text = format!(
        "version: 1\noperations:\n  - kind: tag\n    message: {}{}\n",
        "{a: ".repeat(1000),
        "}".repeat(1000)
    );
    assert_refused_fast(text.as_bytes(), InputErrorKind::TooDeep);
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let started = Instant::now();
    let err = check_plan("bytes.yaml", b"version: 1\nname: caf\xe9\n").expect_err("latin-1");
    assert_eq!(
        (err.0[0].kind, err.0[0].line, err.0[0].column),
        (InputErrorKind::InvalidUtf8, 2, 10)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_ten_megabyte_plan_file_is_refused_by_the_cli_without_reading_it_whole() {
    let fixture = TestRepo::standard();
    let mut big = String::from("version: 1\nname: ");
    big.push_str(&"x".repeat(10 * 1024 * 1024));
    let path = fixture.write("big.yaml", &big);
    let out = fixture.shipgate(&["plan", "id", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::fixture::stderr(&out).contains("error[TOO_LARGE]"),
        "{}",
        crate::fixture::stderr(&out)
    );
}
