//! The action and the adopters' three workflows, run end to end by the local runner against the
//! fake GitHub: a pull request adding a plan (dry-run and status comment), approval comments
//! (mint), a push of the merged plan (execute), `verify`; the installer's checksum and
//! fallback paths; and inputs that try to become shell code.

use std::path::Path;

use serde_json::{Value, json};

use crate::adoption_support::init_scaffold;
use crate::fixture::git;
use crate::github_support::{BOT, SLUG};
use crate::local_runner::{JobResult, LocalRunner, asset_name, runner_platform, write_checksum};
use crate::mint_flow::{MintWorld, comment_payload};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A plan that its own merge does not move: the tag targets an existing tag, the notes are
/// inline, so the plan id is the same on the pull request and on the default branch.
const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: v1.0.0
  - kind: release
    tag: v1.1.0
    notes: first release
";

/// An adopter's workflow, exactly as `shipgate init` writes it (into a scratch repository
/// whose default branch is main), made once per test process.
fn adopter_workflow(name: &str) -> String {
    static SCAFFOLD: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let scaffold = SCAFFOLD.get_or_init(|| init_scaffold(&[]));
    std::fs::read_to_string(scaffold.path().join(".github/workflows").join(name))
        .expect("a workflow shipgate init wrote")
}

/// A one-job workflow on `trigger` that checks out the repository and runs the shipgate
/// action with these inputs.
fn action_workflow(trigger: &str, with: &[(&str, &str)]) -> String {
    let inputs: String = with
        .iter()
        .map(|(name, value)| format!("          {name}: {value}\n"))
        .collect();
    format!(
        "on: {trigger}\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - id: shipgate\n        uses: shipgate/shipgate@v{VERSION}\n        with:\n{inputs}"
    )
}

fn runner(world: &MintWorld) -> LocalRunner {
    let mut runner = LocalRunner::new(world.github.bare.path(), world.github.fake.base_url(), BOT);
    runner.secrets.insert(
        "SHIPGATE_MINT_KEY".into(),
        world.mint.private_openssh.to_string(),
    );
    runner.secrets.insert(
        "SHIPGATE_AUDIT_KEY".into(),
        world.audit.private_openssh.to_string(),
    );
    runner
}

fn pull_request_event(world: &MintWorld) -> Value {
    json!({
        "action": "opened",
        "number": world.pr,
        "pull_request": {"number": world.pr, "head": {"ref": "release-plan"}, "base": {"ref": "main"}},
        "repository": {"full_name": SLUG, "default_branch": "main"},
        "sender": {"login": "carol"},
    })
}

fn assert_succeeded(job: &JobResult) {
    assert!(!job.skipped, "the job was skipped");
    assert!(job.succeeded, "the job failed:\n{}", job.transcript());
}

/// Approves by comment and runs the approve workflow for the last comment.
fn approve_and_mint(world: &MintWorld, runner: &LocalRunner) -> JobResult {
    world.approve("alice");
    let body = format!("/shipgate approve {}", world.plan_prefix());
    approve_job(runner, comment_payload(world, "bob", "User", &body).0)
}

/// The approve workflow, run for the comment of `event`.
fn approve_job(runner: &LocalRunner, event: Value) -> JobResult {
    runner.run_workflow(
        &adopter_workflow("shipgate-approve.yml"),
        "issue_comment",
        event,
        json!({}),
    )
}

#[test]
fn the_plan_workflow_dry_runs_the_pull_request_and_comments() {
    let world = MintWorld::with("carol", PLAN);
    let job = dry_run_job(&world, &runner(&world));
    assert_succeeded(&job);
    assert_eq!(job.output("shipgate", "status"), "clean");
    let plan_id = job.output("shipgate", "plan-id");
    assert!(
        plan_id.starts_with(&format!("sha256:{}", world.plan_prefix())),
        "{plan_id}"
    );
    assert_eq!(job.output("shipgate", "blocked-reasons"), "");
    assert!(
        job.summary.contains("DRY RUN - nothing was shipped"),
        "{}",
        job.summary
    );
    assert!(
        world.status_comment().contains("/shipgate approve "),
        "{}",
        world.status_comment()
    );
    let install = job.step("Install shipgate");
    assert!(
        install.stdout.contains(&format!("shipgate {}: ", VERSION)),
        "the installer says what it installed:\n{}",
        job.transcript()
    );
    assert!(world.kinds().is_empty(), "a dry-run writes no audit entry");
}

#[test]
fn the_approve_workflow_mints_once_the_quorum_is_met_and_ignores_other_comments() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let chatter = comment_payload(&world, "dave", "User", "looks good to me").0;
    let skipped = approve_job(&runner, chatter);
    assert!(skipped.skipped, "a comment without /shipgate starts no job");
    let bot = comment_payload(&world, "github-actions[bot]", "Bot", "/shipgate approve x").0;
    let skipped = approve_job(&runner, bot);
    assert!(skipped.skipped, "a bot's comment starts no job");

    let job = approve_and_mint(&world, &runner);
    assert_succeeded(&job);
    assert_eq!(
        job.output("shipgate", "status"),
        "authorized",
        "{}",
        job.transcript()
    );
    let run_id = job.output("shipgate", "run-id");
    assert!(run_id.starts_with("run_"), "{run_id}");
    assert!(job.summary.contains("AUTHORIZED"), "{}", job.summary);
    let kinds = world.kinds();
    assert_eq!(
        kinds.iter().filter(|k| *k == "receipt_minted").count(),
        2,
        "{kinds:?}"
    );
}

#[test]
fn the_ship_workflow_executes_the_merged_plan_on_push_and_verify_checks_the_chain() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    assert_succeeded(&approve_and_mint(&world, &runner));
    let run_id = world
        .chain()
        .iter()
        .find(|e| e["event"]["type"] == "run_opened")
        .and_then(|e| e["event"]["run_id"].as_str().map(str::to_owned))
        .expect("a run");

    // The plan's pull request merges: main fast-forwards to it.
    merge(world.github.bare.path(), "release-plan");
    let push = json!({"ref": "refs/heads/main", "repository": {"full_name": SLUG, "default_branch": "main"}, "sender": {"login": "carol"}});
    let workflow = adopter_workflow("shipgate-ship.yml");
    let job = runner.run_workflow(&workflow, "push", push.clone(), json!({}));
    assert_succeeded(&job);
    assert_eq!(job.output("shipgate", "status"), "shipped");
    assert_eq!(job.output("shipgate", "run-id"), run_id);
    assert!(job.summary.contains("SHIPPED"), "{}", job.summary);
    assert!(world.github.peeled("refs/tags/v1.1.0").is_some());
    assert_eq!(world.github.fake.releases(SLUG).len(), 1);

    let again = runner.run_workflow(&workflow, "push", push, json!({}));
    assert_succeeded(&again);
    assert_eq!(again.output("shipgate", "status"), "idle");

    let by_hand = runner.run_workflow(
        &workflow,
        "workflow_dispatch",
        json!({"inputs": {"run-id": run_id}, "repository": {"full_name": SLUG, "default_branch": "main"}}),
        json!({"run-id": run_id}),
    );
    assert!(!by_hand.succeeded, "a used receipt blocks the job");
    assert_eq!(by_hand.output("shipgate", "status"), "blocked");
    assert!(
        by_hand
            .output("shipgate", "blocked-reasons")
            .contains("RECEIPT_CONSUMED"),
        "{}",
        by_hand.transcript()
    );
    assert_eq!(world.github.fake.releases(SLUG).len(), 1, "nothing twice");

    let verify = action_workflow("workflow_dispatch", &[("command", "verify")]);
    let job = runner.run_workflow(&verify, "workflow_dispatch", json!({}), json!({}));
    assert_succeeded(&job);
    assert_eq!(job.output("shipgate", "status"), "verified");
    assert!(
        job.summary.contains("Audit chain verified"),
        "{}",
        job.summary
    );
}

fn merge(bare: &Path, branch: &str) {
    git(
        bare,
        &[
            "update-ref",
            "refs/heads/main",
            &format!("refs/heads/{branch}"),
        ],
    );
}

/// A release folder whose asset is the real one but whose published checksum is `checksum`
/// (or missing when `None`).
fn release_with_checksum(runner: &LocalRunner, checksum: Option<&str>) -> std::path::PathBuf {
    let base = runner.temp.path().join("release");
    let version_dir = base.join(format!("v{}", VERSION));
    std::fs::create_dir_all(&version_dir).expect("release dir");
    let asset = asset_name(runner_platform().2);
    std::fs::copy(
        crate::local_runner::release_folder()
            .join(format!("v{}", VERSION))
            .join(&asset),
        version_dir.join(&asset),
    )
    .expect("copy asset");
    if let Some(checksum) = checksum {
        write_checksum(&version_dir, &asset, checksum);
    }
    base
}

fn dry_run_job(world: &MintWorld, runner: &LocalRunner) -> JobResult {
    runner.run_workflow(
        &adopter_workflow("shipgate-plan.yml"),
        "pull_request",
        pull_request_event(world),
        json!({}),
    )
}

#[test]
fn the_installer_refuses_a_binary_whose_checksum_does_not_match_or_is_missing() {
    let world = MintWorld::with("carol", PLAN);
    for (checksum, expected) in [
        (Some("0".repeat(64)), "checksum mismatch"),
        (None, "refusing to run an unverified binary"),
    ] {
        let mut runner = runner(&world);
        runner.download_base = release_with_checksum(&runner, checksum.as_deref());
        let job = dry_run_job(&world, &runner);
        assert!(!job.succeeded, "{}", job.transcript());
        let install = job.step("Install shipgate");
        assert_ne!(install.exit, Some(0));
        assert!(
            install.stdout.contains("::error") && install.stdout.contains(expected),
            "{}",
            job.transcript()
        );
        assert!(
            !job.steps.iter().any(|s| s.name == "Run shipgate"),
            "shipgate must not run after a failed install"
        );
        let installed = job
            .workspace
            .parent()
            .expect("run dir")
            .join("temp")
            .join(format!("shipgate-{}", VERSION));
        assert!(!installed.join("bin/shipgate").exists());
    }
    assert!(world.status_comment().is_empty(), "nothing ran");
}

#[test]
fn the_installer_builds_from_the_action_source_when_the_release_has_no_asset() {
    let world = MintWorld::with("carol", PLAN);
    let mut runner = runner(&world);
    runner.download_base = runner.temp.path().join("empty-release");
    std::fs::create_dir_all(&runner.download_base).expect("empty release");
    // A stand-in for cargo that records its arguments and installs the binary under test.
    let stub_dir = runner.temp.path().join("stub-bin");
    std::fs::create_dir_all(&stub_dir).expect("stub dir");
    let log = runner.temp.path().join("cargo-args");
    let stub = format!(
        "#!/usr/bin/env bash\nset -eu\nprintf '%s\\n' \"$@\" > '{}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\ncp '{}' \"$2/bin/shipgate\"\n",
        log.display(),
        env!("CARGO_BIN_EXE_shipgate")
    );
    std::fs::write(stub_dir.join("cargo"), stub).expect("stub");
    std::fs::set_permissions(
        stub_dir.join("cargo"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    runner.extra_path = Some(stub_dir);

    let job = dry_run_job(&world, &runner);
    assert_succeeded(&job);
    let args = std::fs::read_to_string(&log).expect("cargo was called");
    let args: Vec<&str> = args.lines().collect();
    let root = crate::local_runner::project_root();
    assert_eq!(
        &args[..5],
        [
            "install",
            "--locked",
            "--quiet",
            "--path",
            root.to_str().expect("utf-8")
        ],
        "{args:?}"
    );
    assert!(job.transcript().contains("building shipgate"));
    assert_eq!(job.output("shipgate", "status"), "clean");

    // Another version than the action's source cannot be built from it.
    std::fs::remove_file(&log).expect("reset the cargo log");
    let pinned = action_workflow(
        "pull_request",
        &[("command", "dry-run"), ("version", "v9.9.9")],
    );
    let job = runner.run_workflow(
        &pinned,
        "pull_request",
        pull_request_event(&world),
        json!({}),
    );
    assert!(!job.succeeded);
    assert!(
        job.transcript().contains("not 9.9.9"),
        "{}",
        job.transcript()
    );
    assert!(!log.exists(), "cargo must not build another version");
}

#[test]
fn inputs_reach_shipgate_as_arguments_never_as_shell_code() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let marker = runner.temp.path().join("pwned");
    let hostile = format!("$(touch {m}); touch {m}; `touch {m}`", m = marker.display());
    let title = "${{ github.event.pull_request.title }}";
    let workflow = action_workflow(
        "pull_request",
        &[("command", "dry-run"), ("plan", title), ("policies", title)],
    );
    let mut event = pull_request_event(&world);
    event["pull_request"]["title"] = Value::String(hostile.clone());
    let job = runner.run_workflow(&workflow, "pull_request", event.clone(), json!({}));
    assert!(!job.succeeded, "no such plan: the dry-run fails");
    assert!(!marker.exists(), "an input ran as shell code");

    let bad_command = action_workflow("pull_request", &[("command", title)]);
    let job = runner.run_workflow(&bad_command, "pull_request", event, json!({}));
    assert!(!job.succeeded);
    assert!(
        job.transcript()
            .contains("the command input must be dry-run, mint, execute or verify"),
        "{}",
        job.transcript()
    );
    assert!(!marker.exists(), "an input ran as shell code");
}
