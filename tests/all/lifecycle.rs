//! Plans with a lifecycle (issue 17): `execute --pending` is loud about runs whose plan file is
//! in the checkout but no longer matches (stale, expired), waits quietly for plans still on
//! their pull request, and says "nothing pending" only when that is true; `shipgate runs`
//! lists the runs with their state; `receipt show` says whether a receipt was consumed; a plan
//! that shipped is `shipped in run_...`, not a conflict.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use shipgate::audit::entry::{Event, RunOperation};
use shipgate::model::{OpKey, PrNumber, ReceiptId, RunId};

use crate::execute_flow::{append_as_auditor, denials, execute, minted, nothing_shipped, shipped};
use crate::fixture::{assert_exit, stdout};
use crate::mint_flow::MintWorld;

const PLAN_FILE: &str = ".shipgate/plans/release.yaml";

/// The world's plan file with other release notes: the same operations, another plan id.
fn edit_plan(world: &MintWorld) {
    let path = world.repo.path().join(PLAN_FILE);
    let text = std::fs::read_to_string(&path).expect("plan");
    std::fs::write(&path, text.replace("first release", "the first release")).expect("edit");
}

/// An RFC 3339 instant an hour ago, in whole seconds: an expiry long past.
fn an_hour_ago() -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(1))
        .replace_nanosecond(0)
        .expect("time")
        .format(&Rfc3339)
        .expect("time")
}

#[test]
fn pending_reports_a_stale_run_with_its_reason_exit_1_and_on_its_pull_request() {
    let (world, run) = minted();
    edit_plan(&world);
    let outputs = world.repo.path().join("outputs.txt");
    let env = [("GITHUB_OUTPUT", outputs.to_str().expect("utf-8"))];
    let out = world.shipgate_with(&["execute", "--pending"], &env);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(!text.contains("no run is pending"), "{text}");
    assert!(text.contains(&run), "{text}");
    assert!(text.contains("blocked: RECEIPT_STALE"), "{text}");
    assert!(
        text.contains(&format!("{PLAN_FILE} resolves now to sha256:")),
        "{text}"
    );
    let written = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(written.contains("status=blocked\n"), "{written}");
    assert!(
        written.contains("blocked-reasons=RECEIPT_STALE\n"),
        "{written}"
    );
    let comment = world.status_comment();
    assert!(comment.contains("BLOCKED"), "{comment}");
    assert!(comment.contains("RECEIPT_STALE"), "{comment}");
    assert!(comment.contains("approve"), "{comment}");
    nothing_shipped(&world);
    assert!(denials(&world).is_empty(), "a notice is not a denial");
}

/// Puts a plan tagging v0.9.0 in the checkout and appends a run of pull request `pr` for it
/// whose receipt expired an hour ago, unused; returns the run id.
fn expired_run_for_a_plan_in_the_checkout(world: &MintWorld, pr: u64) -> String {
    world.repo.write(
        ".shipgate/plans/old.yaml",
        "version: 1\noperations:\n  - kind: tag\n    name: v0.9.0\n    target: main\n",
    );
    let run = RunId::parse("run_expired").expect("run id");
    let op_key = OpKey::tag("v0.9.0");
    append_as_auditor(
        world,
        vec![
            Event::RunOpened {
                pr: Some(PrNumber::new(pr)),
                run_id: run.clone(),
                plan_id: format!("sha256:{}", "0".repeat(64)),
                policy_hash: format!("sha256:{}", "1".repeat(64)),
                operations: vec![RunOperation {
                    op_index: 0,
                    op_key: op_key.clone(),
                }],
            },
            Event::ReceiptMinted {
                receipt_id: ReceiptId::parse("rcp_expired").expect("receipt id"),
                run_id: run.clone(),
                op_key,
                enforceable: true,
                expires_at: an_hour_ago(),
                receipt: None,
            },
        ],
    );
    run.to_string()
}

#[test]
fn pending_reports_a_run_whose_receipts_expired_unused() {
    let (world, _) = minted();
    // The minted run waits (its plan is not in the checkout); the expired one is loud.
    std::fs::remove_file(world.repo.path().join(PLAN_FILE)).expect("rm");
    let run = expired_run_for_a_plan_in_the_checkout(&world, world.pr);
    let out = world.shipgate(&["execute", "--pending"]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains(&run), "{text}");
    assert!(text.contains("blocked: RECEIPT_EXPIRED"), "{text}");
    assert!(text.contains("approve again"), "{text}");
    let comment = world.status_comment();
    assert!(comment.contains("RECEIPT_EXPIRED"), "{comment}");
    nothing_shipped(&world);
}

#[test]
fn pending_says_which_pull_request_a_waiting_run_waits_for() {
    let (world, _) = minted();
    std::fs::remove_file(world.repo.path().join(PLAN_FILE)).expect("rm");
    let out = world.shipgate(&["execute", "--pending"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("no run is pending"), "{text}");
    assert!(
        text.contains(&format!("waiting for #{} to merge", world.pr)),
        "{text}"
    );
    nothing_shipped(&world);
}

#[test]
fn pending_is_quiet_once_the_plan_shipped() {
    let (world, run) = minted();
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    let before = shipped(&world);
    let out = world.shipgate(&["execute", "--pending"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("no run is pending"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(&format!("{PLAN_FILE}: shipped in {run}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(shipped(&world), before);
}

/// `shipgate runs --format json`, parsed.
fn runs_json(world: &MintWorld, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["runs", "--format", "json"];
    args.extend(extra);
    let out = world.shipgate(&args);
    assert_exit(&out, 0);
    serde_json::from_str(&stdout(&out)).expect("json")
}

#[test]
fn runs_lists_each_run_with_its_state_and_pull_request_newest_first() {
    let (world, run) = minted();
    let listed = runs_json(&world, &[]);
    assert_eq!(listed["mode"], "runs");
    assert_eq!(listed["runs"][0]["run_id"], run.as_str());
    assert_eq!(listed["runs"][0]["state"], "authorized", "{listed}");
    assert_eq!(listed["runs"][0]["pr"], world.pr);

    edit_plan(&world);
    let listed = runs_json(&world, &[]);
    assert_eq!(listed["runs"][0]["state"], "stale", "{listed}");
    assert_eq!(listed["runs"][0]["file"], PLAN_FILE);
    let approved = listed["runs"][0]["plan_id"].as_str().expect("plan id");
    let now = listed["runs"][0]["resolves_to"]
        .as_str()
        .expect("resolves to");
    assert!(now.starts_with("sha256:") && now != approved, "{listed}");

    std::fs::remove_file(world.repo.path().join(PLAN_FILE)).expect("rm");
    let listed = runs_json(&world, &[]);
    assert_eq!(listed["runs"][0]["state"], "waiting", "{listed}");
    let expired = expired_run_for_a_plan_in_the_checkout(&world, world.pr);
    let listed = runs_json(&world, &[]);
    assert_eq!(
        listed["runs"][0]["run_id"],
        expired.as_str(),
        "newest first"
    );
    assert_eq!(listed["runs"][0]["state"], "expired", "{listed}");
    assert_eq!(listed["runs"][1]["state"], "waiting", "{listed}");

    let other = runs_json(&world, &["--pr", "999"]);
    assert_eq!(other["runs"], serde_json::json!([]));
}

#[test]
fn runs_lists_a_plan_awaiting_approval_until_a_run_holds_it() {
    let world = MintWorld::new();
    let listed = runs_json(&world, &[]);
    assert_eq!(listed["runs"], serde_json::json!([]), "{listed}");
    let awaiting = &listed["awaiting_approval"][0];
    assert_eq!(awaiting["file"], PLAN_FILE, "{listed}");
    let plan_id = awaiting["plan_id"].as_str().expect("plan id");
    assert!(plan_id.starts_with("sha256:"), "{listed}");
    assert!(
        awaiting["approve_command"]
            .as_str()
            .is_some_and(|c| c.starts_with("/shipgate approve ")),
        "{listed}"
    );
    let pr = world.pr.to_string();
    let on_pr = runs_json(&world, &["--pr", &pr]);
    assert_eq!(on_pr["awaiting_approval"][0]["plan_id"], plan_id, "{on_pr}");
    assert_eq!(on_pr["awaiting_approval"][0]["pr"], world.pr, "{on_pr}");
    let text = world.shipgate(&["runs"]);
    assert_exit(&text, 0);
    assert!(
        stdout(&text).contains("awaiting_approval"),
        "{}",
        stdout(&text)
    );

    world.approve("alice");
    world.approve("bob");
    assert_exit(&world.mint(), 0);
    let listed = runs_json(&world, &[]);
    assert_eq!(
        listed["awaiting_approval"],
        serde_json::json!([]),
        "{listed}"
    );
    assert_eq!(listed["runs"][0]["state"], "authorized", "{listed}");
}

#[test]
fn runs_says_shipped_once_a_run_shipped() {
    let (world, run) = minted();
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    let listed = runs_json(&world, &[]);
    assert_eq!(listed["runs"][0]["state"], "shipped", "{listed}");
    let out = world.shipgate(&["runs"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!("{run}  shipped")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn receipt_show_says_whether_the_receipt_was_consumed_and_never_guesses() {
    let (world, run) = minted();
    let receipt = world
        .chain()
        .iter()
        .find_map(|e| e["event"]["receipt_id"].as_str().map(str::to_owned))
        .expect("a minted receipt");
    let show = world.shipgate(&["receipt", "show", &receipt]);
    assert_exit(&show, 0);
    assert!(
        stdout(&show).contains("consumed:   no"),
        "{}",
        stdout(&show)
    );

    assert_exit(&execute(&world, &run, &[], &[]), 0);
    let show = world.shipgate(&["receipt", "show", &receipt]);
    assert!(
        stdout(&show).contains("consumed:   yes, by entry seq"),
        "{}",
        stdout(&show)
    );
    let json = world.shipgate(&["receipt", "show", &receipt, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(value["consumption"]["state"], "consumed", "{value}");
    assert!(value["consumption"]["at"].is_string(), "{value}");

    let document = world
        .chain()
        .iter()
        .find_map(|e| e["event"]["receipt"].as_str().map(str::to_owned))
        .expect("a receipt document");
    world.repo.write("rcp.json", &document);
    let show = world.shipgate(&["receipt", "show", "rcp.json", "--branch", "shipgate/none"]);
    assert_exit(&show, 0);
    assert!(
        stdout(&show).contains("consumed:   unknown: could not read a verified governance branch"),
        "{}",
        stdout(&show)
    );
}

#[test]
fn a_plan_that_shipped_is_shipped_in_its_run_not_a_conflict() {
    let (world, run) = minted();
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    // `target: main` moves on: the tag that shipped is now "at another commit" than the plan's.
    world
        .repo
        .commit("main", &[("later.txt", "later\n")], "main moves on");
    let push = std::process::Command::new("git")
        .args(["push", "-q", "origin", "main"])
        .current_dir(world.repo.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git push");
    assert!(
        push.status.success(),
        "{}",
        String::from_utf8_lossy(&push.stderr)
    );
    let out = world.shipgate(&["dry-run", "--online"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains(&format!("shipped in {run}")), "{text}");
    assert!(!text.contains("CONFLICT_TAG_EXISTS"), "{text}");
    let json = world.shipgate(&["dry-run", "--online", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    assert_eq!(report["plans"][0]["shipped_in"], run.as_str(), "{report}");
    assert_eq!(report["blocked"], false);
}

/// A plan tagging `tag` at `main`.
fn old_plan(tag: &str) -> String {
    format!("version: 1\noperations:\n  - kind: tag\n    name: {tag}\n    target: main\n")
}

/// The standard world, except that `old.yaml` was on main when the pull request branched and
/// main edited it afterwards: the pull request changes only `release.yaml`.
fn forked_world() -> MintWorld {
    let plan = crate::mint_flow::PLAN;
    let world = MintWorld::with_history("carol", plan, |repo| {
        repo.commit(
            "main",
            &[(".shipgate/plans/old.yaml", &old_plan("v0.9.0"))],
            "an older plan",
        );
        repo.commit(
            "release-plan",
            &[(".shipgate/plans/release.yaml", plan)],
            "plan the 1.1.0 release",
        );
        repo.commit(
            "main",
            &[(".shipgate/plans/old.yaml", &old_plan("v0.9.1"))],
            "main edits the older plan",
        );
    });
    // The checkout of the pull request's head holds the older plan as it branched.
    world
        .repo
        .write(".shipgate/plans/old.yaml", &old_plan("v0.9.0"));
    world
}

#[test]
fn mint_judges_the_plans_a_pull_request_changes_against_the_merge_base() {
    let world = forked_world();
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(!stdout(&out).contains("old.yaml"), "{}", stdout(&out));
    let opened: Vec<_> = world
        .chain()
        .into_iter()
        .filter(|e| e["event"]["type"] == "run_opened")
        .collect();
    assert_eq!(opened.len(), 1, "one run: the release plan's only");
    assert_eq!(
        opened[0]["event"]["operations"].as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn dry_run_on_a_pull_request_judges_only_the_plans_it_adds_or_changes() {
    let world = forked_world();
    let pr = world.pr.to_string();
    let out = world.shipgate(&["dry-run", "--pr", &pr, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let files: Vec<&str> = report["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .filter_map(|p| p["file"].as_str())
        .collect();
    assert_eq!(files, [PLAN_FILE], "{report}");
    let everything = world.shipgate(&["dry-run", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&everything)).expect("json");
    assert_eq!(
        report["plans"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
}
