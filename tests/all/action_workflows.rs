//! The action and the adopters' three workflows, run end to end by the local runner against the
//! fake GitHub: a pull request adding a plan (dry-run and status comment), approval comments
//! (mint), a push of the merged plan (execute), `verify`; the installer's committed digests
//! and its opt-in build; a pull request that brings its own toolchain; and inputs that try to
//! become shell code.

use std::path::Path;

use serde_json::{Value, json};

use crate::adoption_support::init_scaffold;
use crate::fixture::git;
use crate::github_support::{BOT, SLUG};
use shipgate::canonical::sha256_hex;

use crate::local_runner::{JobResult, LocalRunner, asset_name, release_server, runner_platform};
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

/// `/shipgate ship` runs in the approve workflow, whose checkout is the default branch's: the
/// run's plan is the pull request's, read from its head commit as git objects.
#[test]
fn slash_ship_in_the_approve_workflow_ships_the_pull_requests_plan_without_checking_it_out() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    assert_succeeded(&approve_and_mint(&world, &runner));
    let job = approve_job(
        &runner,
        comment_payload(&world, "bob", "User", "/shipgate ship").0,
    );
    assert_succeeded(&job);
    assert_eq!(
        job.output("shipgate", "status"),
        "shipped",
        "{}",
        job.transcript()
    );
    assert!(!job.workspace.join(".shipgate/plans/release.yaml").exists());
    assert!(world.github.peeled("refs/tags/v1.1.0").is_some());
    assert_eq!(world.github.fake.releases(SLUG).len(), 1);
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

fn dry_run_job(world: &MintWorld, runner: &LocalRunner) -> JobResult {
    runner.run_workflow(
        &adopter_workflow("shipgate-plan.yml"),
        "pull_request",
        pull_request_event(world),
        json!({}),
    )
}

/// Asserts that the install step failed with `expected` in its error, and that shipgate
/// never ran nor was left installed.
fn assert_install_refused(job: &JobResult, expected: &str) {
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

/// A stand-in for cargo, first on the PATH, that records its arguments, its working directory
/// and `RUSTUP_TOOLCHAIN`, and installs the binary under test. Returns the log it writes.
fn stub_cargo(runner: &mut LocalRunner) -> std::path::PathBuf {
    let stub_dir = runner.temp.path().join("stub-bin");
    std::fs::create_dir_all(&stub_dir).expect("stub dir");
    let log = runner.temp.path().join("cargo-args");
    let stub = format!(
        "#!/usr/bin/env bash\nset -eu\n{{ printf '%s\\n' \"$@\"; echo \"cwd=$PWD\"; echo \"toolchain=${{RUSTUP_TOOLCHAIN:-}}\"; }} > '{}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\ncp '{}' \"$2/bin/shipgate\"\n",
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
    log
}

#[test]
fn the_installer_trusts_only_the_digest_committed_in_the_action_never_the_releases() {
    let world = MintWorld::with("carol", PLAN);
    let mut runner = runner(&world);
    let log = stub_cargo(&mut runner);
    // A replaced asset, and beside it the checksum file its replacer publishes.
    let impostor = b"#!/bin/sh\necho pwned\n";
    runner.server = release_server(&runner.temp.path().join("replaced"), Some(impostor));
    let release = crate::local_runner::release_dir(&runner.server);
    let asset = asset_name(runner_platform().2);
    std::fs::write(
        release.join(format!("{asset}.sha256")),
        format!("{}  {asset}\n", sha256_hex(impostor)),
    )
    .expect("published checksum");
    assert_install_refused(&dry_run_job(&world, &runner), "checksum mismatch");

    // No asset at all: the step fails; it never falls back to compiling.
    runner.server = runner.temp.path().join("empty-server");
    std::fs::create_dir_all(&runner.server).expect("empty server");
    assert_install_refused(&dry_run_job(&world, &runner), "cannot download");

    // A version whose digests this action's source does not commit.
    runner.server = crate::local_runner::release_folder().to_owned();
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
    assert_install_refused(&job, "no verified shipgate 9.9.9 binary exists");
    assert!(!log.exists(), "the installer compiled without being asked");
    assert!(world.status_comment().is_empty(), "nothing ran");
}

#[test]
fn building_from_source_is_an_opt_in_run_outside_the_workspace_with_a_pinned_toolchain() {
    let world = MintWorld::with("carol", PLAN);
    let mut runner = runner(&world);
    let log = stub_cargo(&mut runner);
    runner.server = runner.temp.path().join("empty-server");
    std::fs::create_dir_all(&runner.server).expect("empty server");
    let opted_in = action_workflow(
        "pull_request",
        &[("command", "dry-run"), ("build-from-source", "true")],
    );
    let job = runner.run_workflow(
        &opted_in,
        "pull_request",
        pull_request_event(&world),
        json!({}),
    );
    assert_succeeded(&job);
    assert_eq!(job.output("shipgate", "status"), "clean");
    let recorded = std::fs::read_to_string(&log).expect("cargo was called");
    let lines: Vec<&str> = recorded.lines().collect();
    let action = crate::local_runner::published_action();
    assert_eq!(
        &lines[..5],
        [
            "install",
            "--locked",
            "--quiet",
            "--path",
            action.to_str().expect("utf-8")
        ],
        "{lines:?}"
    );
    let cwd = lines
        .iter()
        .find_map(|l| l.strip_prefix("cwd="))
        .expect("cwd");
    assert!(
        !Path::new(cwd).starts_with(&job.workspace),
        "cargo ran inside the workspace: {cwd}"
    );
    assert!(lines.contains(&"toolchain=stable"), "{lines:?}");
    assert!(job.transcript().contains("building shipgate"));
}

/// Issue 15, the critical hole: a pull request that carries a `rust-toolchain.toml` naming a
/// toolchain of its own and a `.cargo/config.toml` with a rustc wrapper. Approving it runs the
/// approve workflow with the mint and audit keys; with the real rustup on the PATH, nothing of
/// the pull request may run, nor be a file in the workspace. The job mints all the same: the
/// plans are read as git objects.
#[test]
fn a_pull_requests_toolchain_and_cargo_config_never_run_beside_the_keys() {
    let evil = tempfile::tempdir().expect("evil dir");
    let toolchain_marker = evil.path().join("toolchain-ran");
    let wrapper_marker = evil.path().join("wrapper-ran");
    let toolchain = evil.path().join("toolchain");
    std::fs::create_dir_all(toolchain.join("bin")).expect("toolchain dir");
    let record = |marker: &Path| format!("#!/bin/sh\nenv > '{}'\nexit 1\n", marker.display());
    for tool in ["cargo", "rustc"] {
        let path = toolchain.join("bin").join(tool);
        std::fs::write(&path, record(&toolchain_marker)).expect("fake tool");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let wrapper = evil.path().join("wrapper.sh");
    std::fs::write(&wrapper, record(&wrapper_marker)).expect("wrapper");
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let rust_toolchain = format!("[toolchain]\npath = \"{}\"\n", toolchain.display());
    let cargo_config = format!("[build]\nrustc-wrapper = \"{}\"\n", wrapper.display());
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        repo.commit(
            "release-plan",
            &[
                (".shipgate/plans/release.yaml", PLAN),
                ("rust-toolchain.toml", &rust_toolchain),
                (".cargo/config.toml", &cargo_config),
            ],
            "plan the release (and bring a toolchain)",
        );
    });
    let mut runner = runner(&world);
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    runner.extra_path = cargo_home.map(|home| home.join("bin"));

    let job = approve_and_mint(&world, &runner);
    let ran = |marker: &Path| std::fs::read_to_string(marker).ok();
    assert_eq!(ran(&toolchain_marker), None, "the PR's toolchain ran");
    assert_eq!(ran(&wrapper_marker), None, "the PR's rustc wrapper ran");
    for file in [
        "rust-toolchain.toml",
        ".cargo/config.toml",
        ".shipgate/plans/release.yaml",
    ] {
        assert!(
            !job.workspace.join(file).exists(),
            "{file} of the pull request is on disk in the workspace"
        );
    }
    assert_succeeded(&job);
    assert_eq!(
        job.output("shipgate", "status"),
        "authorized",
        "{}",
        job.transcript()
    );

    // With no verified binary to download, the job fails; it never compiles instead.
    runner.server = runner.temp.path().join("empty-server");
    std::fs::create_dir_all(&runner.server).expect("empty server");
    let body = format!("/shipgate approve {}", world.plan_prefix());
    let job = approve_job(&runner, comment_payload(&world, "erin", "User", &body).0);
    assert_eq!(ran(&toolchain_marker), None, "the PR's toolchain ran");
    assert_eq!(ran(&wrapper_marker), None, "the PR's rustc wrapper ran");
    assert_install_refused(&job, "cannot download");
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
