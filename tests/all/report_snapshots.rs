//! Snapshots of the reports people and machines read: mint, execute and doctor, in markdown
//! and JSON, from the same worlds the flow tests use. What changes from run to run (random
//! keys make the policy hash and every commit differ; ids, nonces, times, the fake's port, the
//! temporary directories) is normalised first, so a snapshot changes only when a report does.
//! Review a change with `cargo insta review`; CI (`CI=true`) fails on any mismatch.

use std::path::Path;

use crate::adoption_support::Adopted;
use crate::execute_flow::{execute, minted};
use crate::fixture::{assert_exit, stdout};
use crate::mint_flow::MintWorld;

/// `text` with its run-to-run parts replaced by placeholders: `dirs` (temporary paths) by
/// `[dir]`, RFC 3339 instants by `[time]`, the fake GitHub's address by `[github]`, then word
/// by word (runs of letters and digits, so `run_<hex>` and markdown's `run\_<hex>` alike):
/// 64- and 40-hex digests and commit ids, and shorter hex words holding a digit (run and
/// receipt ids, abbreviated ids, approval prefixes).
fn normalise(text: &str, dirs: &[&Path]) -> String {
    let mut text = text.to_owned();
    for dir in dirs {
        text = text.replace(dir.to_str().expect("utf-8 path"), "[dir]");
    }
    let text = replace_instants(&text);
    let text = replace_after(&text, "http://127.0.0.1:", "[github]");
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        out.push_str(&normalise_word(&word));
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

fn normalise_word(word: &str) -> String {
    let hex = |w: &str| w.bytes().all(|b| b.is_ascii_hexdigit());
    match word.len() {
        64 if hex(word) => "[digest]".to_owned(),
        40 if hex(word) => "[sha]".to_owned(),
        7..=32 if hex(word) && word.bytes().any(|b| b.is_ascii_digit()) => "[hex]".to_owned(),
        _ => word.to_owned(),
    }
}

/// Every `YYYY-MM-DDTHH:MM:SSZ` replaced by `[time]`.
fn replace_instants(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:ddZ";
    let bytes = text.as_bytes();
    let fits = |at: usize| {
        bytes.get(at..at + SHAPE.len()).is_some_and(|window| {
            window.iter().zip(SHAPE).all(|(b, s)| match s {
                b'd' => b.is_ascii_digit(),
                other => b == other,
            })
        })
    };
    let (mut out, mut at, mut copied) = (String::new(), 0, 0);
    while at < bytes.len() {
        if fits(at) {
            out.push_str(&text[copied..at]);
            out.push_str("[time]");
            at += SHAPE.len();
            copied = at;
        } else {
            at += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Every `marker` followed by a port number replaced by `with`.
fn replace_after(text: &str, marker: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(found) = rest.find(marker) {
        out.push_str(&rest[..found]);
        out.push_str(with);
        rest = rest[found + marker.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// A world approved by alice and bob, ready to mint.
fn approved() -> MintWorld {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    world
}

fn mint_report(format: &str) -> String {
    let world = approved();
    let out = world.shipgate(&["mint", "--pr", &world.pr.to_string(), "--format", format]);
    assert_exit(&out, 0);
    normalise(&stdout(&out), &[world.repo.path()])
}

fn execute_report(format: &str) -> String {
    let (world, run) = minted();
    let out = execute(&world, &run, &["--format", format], &[]);
    assert_exit(&out, 0);
    normalise(&stdout(&out), &[world.repo.path()])
}

#[test]
fn the_mint_report_in_markdown() {
    insta::assert_snapshot!("mint_markdown", mint_report("markdown"));
}

#[test]
fn the_mint_report_in_json() {
    insta::assert_snapshot!("mint_json", mint_report("json"));
}

#[test]
fn the_execute_report_in_markdown() {
    insta::assert_snapshot!("execute_markdown", execute_report("markdown"));
}

#[test]
fn the_execute_report_in_json() {
    insta::assert_snapshot!("execute_json", execute_report("json"));
}

/// Ship on merge (issue 17): the dry run names the approved tree before the merge and the
/// merged commit after it.
#[test]
fn the_dry_run_of_a_target_merge_plan_before_and_after_the_merge() {
    let world = crate::ship_on_merge::approved_release();
    let dry_run = |world: &MintWorld| {
        let out = world.shipgate(&["dry-run", ".shipgate/plans/release.yaml"]);
        assert_exit(&out, 0);
        normalise(&stdout(&out), &[world.repo.path()])
    };
    insta::assert_snapshot!("merge_target_dry_run_before_the_merge", dry_run(&world));
    crate::ship_on_merge::merge(&world, world.pr, "squash");
    crate::ship_on_merge::check_out_main(&world);
    insta::assert_snapshot!("merge_target_dry_run_after_the_merge", dry_run(&world));
}

/// After a merge behind the base, the status says why the run is stale and what to do.
#[test]
fn the_execute_report_of_a_release_merged_behind_its_base() {
    let world = crate::ship_on_merge::approved_release();
    crate::ship_on_merge::land(&world, "main", "OTHER.md");
    crate::ship_on_merge::merge(&world, world.pr, "merge");
    crate::ship_on_merge::check_out_main(&world);
    let out = world.shipgate(&["execute", "--pending", "--format", "markdown"]);
    assert_exit(&out, 1);
    insta::assert_snapshot!(
        "merge_target_stale_execute_markdown",
        normalise(&stdout(&out), &[world.repo.path()])
    );
}

#[test]
fn the_doctor_report_in_json_and_in_the_job_summary() {
    let adopted = Adopted::new();
    let dirs = [adopted.path(), adopted.keys.path()];
    let out = adopted.shipgate(&["doctor", "--format", "json"]);
    assert_exit(&out, 0);
    insta::assert_snapshot!("doctor_json", normalise(&stdout(&out), &dirs));

    let summary = tempfile::NamedTempFile::new().expect("temp file");
    let path = summary.path().to_str().expect("utf-8").to_owned();
    let out = adopted.shipgate_env(&["doctor"], &[("GITHUB_STEP_SUMMARY", path.as_str())]);
    assert_exit(&out, 0);
    let markdown = std::fs::read_to_string(summary.path()).expect("summary");
    insta::assert_snapshot!("doctor_markdown", normalise(&markdown, &dirs));
}

#[test]
fn normalising_keeps_words_and_replaces_what_varies() {
    let text = "run_0a1b2c3d run\\_0a1b2c3d rcp_ffee0123 at 2026-12-03T17:01:02Z by http://127.0.0.1:40123/x \
        sha256:0c3ad56541964ca64a3e70356e54ff598b87646c104baaa9a55a09fb671cea63 \
        24757f833f22 added deadbeef v1.1.0 /tmp/x/y";
    assert_eq!(
        normalise(text, &[Path::new("/tmp/x")]),
        "run_[hex] run\\_[hex] rcp_[hex] at [time] by [github]/x sha256:[digest] [hex] added deadbeef v1.1.0 [dir]/y"
    );
}
