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
pub const PLAN: &str = "\
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
pub fn adopter_workflow(name: &str) -> String {
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

pub fn runner(world: &MintWorld) -> LocalRunner {
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

pub fn pull_request_event(world: &MintWorld) -> Value {
    json!({
        "action": "opened",
        "number": world.pr,
        "pull_request": {"number": world.pr, "head": {"ref": "release-plan"}, "base": {"ref": "main"}},
        "repository": {"full_name": SLUG, "default_branch": "main"},
        "sender": {"login": "carol"},
    })
}

pub fn assert_succeeded(job: &JobResult) {
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
pub fn approve_job(runner: &LocalRunner, event: Value) -> JobResult {
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

/// The `workflow_dispatch` requests mint sent to the fake: (workflow file, body).
fn dispatches(world: &MintWorld) -> Vec<(String, Value)> {
    world
        .github
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/dispatches"))
        .map(|r| {
            let file = r.path.rsplit('/').nth(1).unwrap_or_default().to_owned();
            (file, serde_json::from_str(&r.body).expect("dispatch body"))
        })
        .collect()
}

fn events_of<'a>(chain: &'a [Value], kind: &str) -> Vec<&'a Value> {
    chain
        .iter()
        .filter(|e| e["event"]["type"] == kind)
        .map(|e| &e["event"])
        .collect()
}

/// Issue 15: `/shipgate ship` executes nothing in the approve job, which holds the mint key
/// and none of the ship environment's protections. It starts the ship workflow for the run
/// (`workflow_dispatch` with `run-id`) and records the request with its comment's id; the ship
/// workflow, whose checkout is the default branch's, reads the pull request's plan as git
/// objects and executes it there.
#[test]
fn slash_ship_starts_the_ship_workflow_which_executes_the_pull_requests_plan() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    assert_succeeded(&approve_and_mint(&world, &runner));
    let (event, ship_comment) = comment_payload(&world, "bob", "User", "/shipgate ship");
    let job = approve_job(&runner, event);
    assert_succeeded(&job);
    assert_eq!(
        job.output("shipgate", "status"),
        "authorized",
        "{}",
        job.transcript()
    );
    assert!(
        world.github.peeled("refs/tags/v1.1.0").is_none(),
        "the approve job ships nothing itself"
    );
    let run_id = job.output("shipgate", "run-id");
    let sent = dispatches(&world);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "shipgate-ship.yml");
    assert_eq!(
        sent[0].1,
        json!({"ref": "main", "inputs": {"run-id": run_id}})
    );
    let chain = world.chain();
    let requested = events_of(&chain, "ship_requested");
    assert_eq!(requested.len(), 1, "{chain:?}");
    assert_eq!(requested[0]["comment_id"], ship_comment);
    assert_eq!(requested[0]["run_id"], run_id.as_str());

    // The next comment's run does not start it again.
    let job = approve_job(
        &runner,
        comment_payload(&world, "dave", "User", "/shipgate lgtm").0,
    );
    assert_succeeded(&job);
    assert_eq!(dispatches(&world).len(), 1);

    // What GitHub then runs: the ship workflow, dispatched on main with the run id.
    let dispatched = json!({"ref": "refs/heads/main", "inputs": {"run-id": run_id}, "repository": {"full_name": SLUG, "default_branch": "main"}, "sender": {"login": "github-actions[bot]"}});
    let ship = runner.run_workflow(
        &adopter_workflow("shipgate-ship.yml"),
        "workflow_dispatch",
        dispatched,
        json!({"run-id": run_id}),
    );
    assert_succeeded(&ship);
    assert_eq!(
        ship.output("shipgate", "status"),
        "shipped",
        "{}",
        ship.transcript()
    );
    assert!(!ship.workspace.join(".shipgate/plans/release.yaml").exists());
    assert!(world.github.peeled("refs/tags/v1.1.0").is_some());
    assert_eq!(world.github.fake.releases(SLUG).len(), 1);
}

/// Issue 15, lost commands: GitHub keeps one pending run per concurrency group and cancels the
/// pending one a newer comment replaces. The `/shipgate halt` whose run was cancelled (here:
/// never run) is carried out by the next run, recorded with its comment's id, and only once.
#[test]
fn a_halt_whose_run_was_cancelled_is_recorded_by_the_next_run_once() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let halt = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "alice", "/shipgate halt incident 42");
    let stranger = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "dave", "/shipgate resume");
    world.approve("alice");
    let job = approve_and_mint(&world, &runner);
    assert!(!job.skipped && !job.succeeded, "halted is exit 1");
    assert_eq!(
        job.output("shipgate", "status"),
        "halted",
        "{}",
        job.transcript()
    );
    let chain = world.chain();
    let halts = events_of(&chain, "halted");
    assert_eq!(halts.len(), 1, "{chain:?}");
    assert_eq!(halts[0]["comment_id"], halt);
    assert_eq!(halts[0]["reason"], "incident 42");
    assert!(
        events_of(&chain, "run_opened").is_empty(),
        "halted: nothing is minted"
    );
    assert_eq!(world.reaction(halt), ["+1"]);
    assert_eq!(world.reaction(stranger), ["-1"], "dave is no halt admin");

    let again = approve_job(
        &runner,
        comment_payload(&world, "bob", "User", "/shipgate lgtm").0,
    );
    assert_eq!(
        again.output("shipgate", "status"),
        "halted",
        "{}",
        again.transcript()
    );
    let chain = world.chain();
    assert_eq!(
        events_of(&chain, "halted").len(),
        1,
        "acted on once: {chain:?}"
    );
    assert!(events_of(&chain, "resumed").is_empty());

    // A resume by the halt admin, whose run is cancelled too, is carried out by the next run;
    // the halt written before it stays carried out.
    let resume = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "alice", "/shipgate resume");
    let job = approve_job(
        &runner,
        comment_payload(&world, "bob", "User", "/shipgate lgtm").0,
    );
    assert_succeeded(&job);
    assert_eq!(
        job.output("shipgate", "status"),
        "authorized",
        "{}",
        job.transcript()
    );
    let chain = world.chain();
    assert_eq!(events_of(&chain, "halted").len(), 1, "{chain:?}");
    let resumes = events_of(&chain, "resumed");
    assert_eq!(resumes.len(), 1, "{chain:?}");
    assert_eq!(resumes[0]["comment_id"], resume);
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
    // Issue 17: a shipped run started again says so and does nothing (status idle).
    assert_succeeded(&by_hand);
    assert_eq!(by_hand.output("shipgate", "status"), "idle");
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
            .contains("the command input must be dry-run, mint, execute, publish or verify"),
        "{}",
        job.transcript()
    );
    assert!(!marker.exists(), "an input ran as shell code");
}

/// Issue 15, outputs on failure: when shipgate fails (exit 2, 3 or 4) before it writes its
/// outputs, the action still says `status=failed` with the exit code, and the job summary says
/// what failed, so a later `if: failure()` step can act on it.
#[test]
fn a_failing_command_still_writes_status_failed_its_exit_code_and_a_summary() {
    let world = MintWorld::with("carol", PLAN);
    let runner = runner(&world);
    let workflow = action_workflow("push", &[("command", "mint")]);
    let push = json!({"ref": "refs/heads/main", "repository": {"full_name": SLUG, "default_branch": "main"}});
    let job = runner.run_workflow(&workflow, "push", push.clone(), json!({}));
    assert!(!job.succeeded);
    assert_eq!(
        job.output("shipgate", "status"),
        "failed",
        "{}",
        job.transcript()
    );
    assert_eq!(job.output("shipgate", "exit-code"), "2");
    assert!(
        job.summary.contains("shipgate mint failed"),
        "{}",
        job.summary
    );
    assert!(job.summary.contains("Exit 2: bad input"), "{}", job.summary);

    let bad_command = action_workflow("push", &[("command", "ship-it")]);
    let job = runner.run_workflow(&bad_command, "push", push, json!({}));
    assert_eq!(job.output("shipgate", "status"), "failed");
    assert_eq!(job.output("shipgate", "exit-code"), "2");
    assert_eq!(job.output("shipgate", "shipped"), "[]", "issue 18");
}

/// Issue 15, tokens: the `token` input reaches shipgate's own git processes as an HTTP header
/// in their environment (so the governance branch is pushed with it, not with a credential the
/// checkout left in the clone), exactly one header, masked in the log.
#[test]
fn the_token_input_is_what_shipgates_git_pushes_with() {
    let scratch = tempfile::tempdir().expect("scratch");
    let fake = scratch.path().join("shipgate");
    std::fs::write(
        &fake,
        "#!/usr/bin/env bash\ngit config --get-all http.https://github.example/.extraheader\n",
    )
    .expect("fake shipgate");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let out = std::process::Command::new("bash")
        .arg(crate::local_runner::project_root().join("action/run.sh"))
        .current_dir(scratch.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "1")
        .env(
            "GIT_CONFIG_KEY_0",
            "http.https://github.example/.extraheader",
        )
        .env(
            "GIT_CONFIG_VALUE_0",
            "AUTHORIZATION: basic checkouts-credential",
        )
        .env("SHIPGATE_BIN", &fake)
        .env("SHIPGATE_COMMAND", "verify")
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_TOKEN", "ghs_apptoken")
        .output()
        .expect("run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // base64("x-access-token:ghs_apptoken")
    let basic = "eC1hY2Nlc3MtdG9rZW46Z2hzX2FwcHRva2Vu";
    assert!(stdout.contains(&format!("::add-mask::{basic}")), "{stdout}");
    // git's rule for http.extraHeader: an empty value empties the list configured before it.
    let values: Vec<&str> = stdout.lines().filter(|l| !l.starts_with("::")).collect();
    let reset = values
        .iter()
        .rposition(|v| v.is_empty())
        .map_or(0, |i| i + 1);
    assert_eq!(
        values[reset..],
        [format!("AUTHORIZATION: basic {basic}")],
        "{stdout}"
    );
}

/// Issue 18: a required `shipgate` check must never be skipped, so the plan workflow that
/// `shipgate init` writes has no path filter and runs on every push to a pull request; the
/// jobs that set the check (plan and approve) may write statuses, and the ship job may not.
#[test]
fn the_workflows_that_set_the_shipgate_check_are_never_skipped_and_may_write_statuses() {
    let plan = adopter_workflow("shipgate-plan.yml");
    assert!(!plan.contains("paths:"), "{plan}");
    assert!(
        plan.contains("types: [opened, synchronize, reopened, edited]"),
        "{plan}"
    );
    for name in ["shipgate-plan.yml", "shipgate-approve.yml"] {
        assert!(adopter_workflow(name).contains("statuses: write"), "{name}");
    }
    assert!(!adopter_workflow("shipgate-ship.yml").contains("statuses:"));
}
