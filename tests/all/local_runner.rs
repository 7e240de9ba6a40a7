//! A local stand-in for a GitHub Actions runner, enough to run shipgate's action and the
//! adopters' workflows end to end against the fake GitHub.
//!
//! It does what a runner does for the parts these files use: evaluates `${{ }}` expressions
//! (property paths, literals, `!`, `==`, `!=`, `&&`, `||`, `contains`, `startsWith`,
//! `success()`, `always()`) in `if:`, `with:`, `env:` and outputs; runs `run:` steps with
//! `bash --noprofile --norc -eo pipefail` and the `GITHUB_*` / `RUNNER_*` variables; gives
//! each step fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files and reads them back (the
//! job summary is their concatenation); honours `GITHUB_PATH`; expands composite actions
//! (inputs with defaults, step outputs, action outputs); and stands in for `actions/checkout`
//! by cloning the fake's bare repository. A trigger's `types:` filter is honoured: an event
//! whose `action` it does not list starts no run (the job comes back skipped). The action runs as published: from a copy of its
//! files whose `action/checksums/` commits the SHA-256 of the binary under test (packed the
//! way the release workflow publishes it), downloading from `GITHUB_SERVER_URL`, which is a
//! `file://` folder laid out as GitHub serves release assets. No variable is set that a real
//! runner does not set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use shipgate::canonical::sha256_hex;

use crate::github_support::SLUG;

/// The project's root: where `action.yml` and `action/` live (`GITHUB_ACTION_PATH`).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the action's installer is told about this machine, and the release target it maps to.
pub fn runner_platform() -> (&'static str, &'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        _ => ("Linux", "X64", "x86_64-unknown-linux-musl"),
    }
}

/// The asset name the release workflow publishes for `target`.
pub fn asset_name(target: &str) -> String {
    format!("shipgate-v{}-{target}.tar.gz", env!("CARGO_PKG_VERSION"))
}

/// The repository the adopters' workflows name as the action (`shipgate/shipgate@...`).
pub const ACTION_REPOSITORY: &str = "shipgate/shipgate";

/// The binary under test, packed as the release workflow packs it, and its SHA-256.
fn packed_binary() -> &'static (Vec<u8>, String) {
    static PACKED: OnceLock<(Vec<u8>, String)> = OnceLock::new();
    PACKED.get_or_init(|| {
        let staging = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("action-staging-{}", std::process::id()));
        std::fs::create_dir_all(&staging).expect("staging folder");
        std::fs::copy(env!("CARGO_BIN_EXE_shipgate"), staging.join("shipgate")).expect("copy");
        let asset = staging.join("asset.tar.gz");
        let packed = Command::new("tar")
            .arg("-czf")
            .arg(&asset)
            .arg("-C")
            .arg(&staging)
            .arg("shipgate")
            .status()
            .expect("run tar");
        assert!(packed.success(), "tar failed");
        let bytes = std::fs::read(&asset).expect("read asset");
        let hash = sha256_hex(&bytes);
        (bytes, hash)
    })
}

/// Where this release's assets live below a server root, as GitHub serves them.
pub fn release_dir(server: &Path) -> PathBuf {
    server
        .join(ACTION_REPOSITORY)
        .join("releases/download")
        .join(format!("v{}", env!("CARGO_PKG_VERSION")))
}

/// A server root (`GITHUB_SERVER_URL`) whose release of this version holds `asset` (the
/// binary under test when `None`) under the asset name for this runner.
pub fn release_server(dir: &Path, asset: Option<&[u8]>) -> PathBuf {
    let release = release_dir(dir);
    std::fs::create_dir_all(&release).expect("release folder");
    let bytes = asset.unwrap_or(&packed_binary().0);
    std::fs::write(release.join(asset_name(runner_platform().2)), bytes).expect("asset");
    dir.to_owned()
}

/// The server root holding the genuine release, made once per test process.
pub fn release_folder() -> &'static Path {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("action-server-{}", std::process::id()));
        release_server(&base, None)
    })
}

/// The action as its release commit publishes it (`GITHUB_ACTION_PATH`): this source's
/// `action.yml`, `action/` scripts and `Cargo.toml`, plus the `action/checksums/` file the
/// release workflow commits, holding the SHA-256 of the binary under test. Made once per
/// test process.
pub fn published_action() -> &'static Path {
    static ACTION: OnceLock<PathBuf> = OnceLock::new();
    ACTION.get_or_init(|| {
        let root = project_root();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("action-published-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("action/checksums")).expect("action folder");
        for file in [
            "action.yml",
            "Cargo.toml",
            "action/install.sh",
            "action/run.sh",
        ] {
            std::fs::copy(root.join(file), dir.join(file)).expect("copy the action");
        }
        let asset = asset_name(runner_platform().2);
        std::fs::write(
            dir.join(format!(
                "action/checksums/v{}.sha256",
                env!("CARGO_PKG_VERSION")
            )),
            format!("{}  {asset}\n", packed_binary().1),
        )
        .expect("checksums");
        dir
    })
}

/// One runner: a temp folder, the GitHub it talks to, and the secrets it holds.
pub struct LocalRunner {
    pub temp: tempfile::TempDir,
    /// The bare repository behind the fake's `acme/widget`: what `actions/checkout` clones.
    pub remote: PathBuf,
    pub api_url: String,
    pub token: String,
    pub secrets: BTreeMap<String, String>,
    /// The server the installer downloads releases from (`GITHUB_SERVER_URL`).
    pub server: PathBuf,
    /// Prepended to the steps' PATH (e.g. a stub `cargo`).
    pub extra_path: Option<PathBuf>,
    runs: std::cell::Cell<u32>,
}

/// What one step did.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub name: String,
    pub exit: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// What a job did.
#[derive(Debug, Default)]
pub struct JobResult {
    pub skipped: bool,
    pub succeeded: bool,
    pub steps: Vec<StepResult>,
    /// `steps.<id>.outputs` of the job's steps.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The job summary.
    pub summary: String,
    pub workspace: PathBuf,
}

impl StepResult {
    /// The step `name` that ran as the process `out`.
    fn of(name: String, out: &std::process::Output) -> Self {
        Self {
            name,
            exit: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl JobResult {
    /// Output `name` of step `id`, or "".
    pub fn output(&self, id: &str, name: &str) -> String {
        self.outputs
            .get(id)
            .and_then(|o| o.get(name))
            .cloned()
            .unwrap_or_default()
    }

    /// The step named `name`, which must have run.
    pub fn step(&self, name: &str) -> &StepResult {
        self.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("step {name} did not run:\n{}", self.transcript()))
    }

    /// Every step's streams, for assertion messages.
    pub fn transcript(&self) -> String {
        self.steps
            .iter()
            .map(|s| {
                format!(
                    "--- {} (exit {:?})\n{}{}",
                    s.name, s.exit, s.stdout, s.stderr
                )
            })
            .collect()
    }
}

/// A step's context while it runs: the expression contexts and the files it writes.
struct Scope {
    contexts: Value,
    failed: bool,
}

impl LocalRunner {
    pub fn new(remote: &Path, api_url: String, token: &str) -> Self {
        Self {
            temp: tempfile::tempdir().expect("runner temp"),
            remote: remote.to_owned(),
            api_url,
            token: token.to_owned(),
            secrets: BTreeMap::new(),
            server: release_folder().to_owned(),
            extra_path: None,
            runs: std::cell::Cell::new(0),
        }
    }

    /// `GITHUB_SERVER_URL`: the folder standing in for the GitHub web server.
    fn server_url(&self) -> String {
        format!("file://{}", self.server.display())
    }

    /// Runs every job of `workflow` (YAML text) for `event_name` with `event` as its payload.
    /// `inputs` are a `workflow_dispatch`'s inputs.
    pub fn run_workflow(
        &self,
        workflow: &str,
        event_name: &str,
        event: Value,
        inputs: Value,
    ) -> JobResult {
        let workflow: Value = serde_yaml::from_str(workflow).expect("workflow YAML");
        let triggers = &workflow["on"];
        let runs_on_event = match triggers {
            Value::String(one) => one == event_name,
            Value::Array(many) => many.iter().any(|t| t == event_name),
            Value::Object(map) => map.contains_key(event_name),
            _ => false,
        };
        assert!(
            runs_on_event,
            "the workflow does not run on {event_name}: {triggers}"
        );
        // GitHub starts no run for an activity type the trigger does not list.
        if let Some(types) = triggers[event_name]["types"].as_array()
            && !types.iter().any(|t| Some(t) == event.get("action"))
        {
            return JobResult {
                skipped: true,
                ..JobResult::default()
            };
        }
        let jobs = workflow["jobs"].as_object().expect("jobs");
        assert_eq!(jobs.len(), 1, "the harness runs one-job workflows");
        let (_, job) = jobs.iter().next().expect("a job");

        self.runs.set(self.runs.get() + 1);
        let run_dir = self.temp.path().join(format!("run-{}", self.runs.get()));
        let workspace = run_dir.join("workspace");
        let runner_temp = run_dir.join("temp");
        std::fs::create_dir_all(&workspace).expect("workspace");
        std::fs::create_dir_all(&runner_temp).expect("runner temp");
        let event_path = run_dir.join("event.json");
        std::fs::write(&event_path, event.to_string()).expect("event file");

        let github = json!({
            "event_name": event_name,
            "event": event,
            "token": self.token,
            "repository": SLUG,
            "api_url": self.api_url,
            "workspace": workspace.display().to_string(),
            "run_id": "4242",
            "actor": event.pointer("/sender/login").cloned().unwrap_or(json!("octocat")),
            "server_url": self.server_url(),
            "action_repository": "",
        });
        let mut scope = Scope {
            contexts: json!({
                "github": github,
                "secrets": self.secrets,
                "inputs": inputs,
                "steps": {},
                "env": {},
            }),
            failed: false,
        };
        let mut result = JobResult {
            workspace: workspace.clone(),
            ..JobResult::default()
        };
        if let Some(condition) = job.get("if").and_then(Value::as_str)
            && !truthy(&evaluate(strip_braces(condition), &scope.contexts))
        {
            result.skipped = true;
            return result;
        }
        let env = RunnerEnv {
            workspace: &workspace,
            runner_temp: &runner_temp,
            event_path: &event_path,
            event_name,
            paths: std::cell::RefCell::new(Vec::new()),
        };
        for step in job["steps"].as_array().expect("steps") {
            let id = step["id"].as_str().map(str::to_owned);
            let outputs = self.run_step(step, &mut scope, &env, &mut result);
            if let Some(id) = id {
                scope.contexts["steps"][&id] = json!({ "outputs": outputs });
                result.outputs.insert(id, outputs);
            }
        }
        result.succeeded = !scope.failed;
        result
    }

    /// Runs one workflow step (a `run:`, `actions/checkout`, or the shipgate action) and
    /// returns its outputs.
    fn run_step(
        &self,
        step: &Value,
        scope: &mut Scope,
        env: &RunnerEnv<'_>,
        result: &mut JobResult,
    ) -> BTreeMap<String, String> {
        if !should_run(step, scope) {
            return BTreeMap::new();
        }
        let with = interpolate_map(&step["with"], &scope.contexts);
        match step.get("uses").and_then(Value::as_str) {
            Some(uses) if uses.starts_with("actions/checkout@") => {
                let outcome = self.checkout(&with, env, &scope.contexts);
                scope.failed |= outcome.exit != Some(0);
                result.steps.push(outcome);
                BTreeMap::new()
            }
            Some(uses) if is_shipgate_action(uses) => {
                // What the runner puts in `github.action_repository` inside the action: its
                // repository, or nothing for an action run from the checkout (`./`).
                let mut github = scope.contexts["github"].clone();
                if uses.starts_with(ACTION_REPOSITORY) {
                    github["action_repository"] = json!(ACTION_REPOSITORY);
                }
                self.run_composite(&with, github, env, result, scope)
            }
            Some(other) => panic!("the local runner does not know the action {other}"),
            None => self.run_shell_step(step, scope, None, env, result),
        }
    }

    /// Runs a `run:` step (its env and script interpolated in `scope`), in `cwd` or the
    /// workspace, records it, and returns its outputs.
    fn run_shell_step(
        &self,
        step: &Value,
        scope: &mut Scope,
        cwd: Option<&Path>,
        env: &RunnerEnv<'_>,
        result: &mut JobResult,
    ) -> BTreeMap<String, String> {
        let step_env = interpolate_map(&step["env"], &scope.contexts);
        let script = interpolate(step["run"].as_str().expect("run"), &scope.contexts);
        let (outcome, outputs) =
            self.run_script(step_name(step), &script, &step_env, cwd, env, result);
        scope.failed |= outcome.exit != Some(0);
        result.steps.push(outcome);
        outputs
    }

    /// Expands the shipgate action (`action.yml` at the project root) as a runner expands a
    /// composite action, and returns the action's outputs.
    fn run_composite(
        &self,
        with: &BTreeMap<String, String>,
        github: Value,
        env: &RunnerEnv<'_>,
        result: &mut JobResult,
        outer: &mut Scope,
    ) -> BTreeMap<String, String> {
        let text =
            std::fs::read_to_string(published_action().join("action.yml")).expect("action.yml");
        let action: Value = serde_yaml::from_str(&text).expect("action.yml YAML");
        let mut inputs = serde_json::Map::new();
        let defaults_scope = json!({ "github": github });
        for (name, spec) in action["inputs"].as_object().expect("inputs") {
            let value = match with.get(name) {
                Some(value) => value.clone(),
                None => spec["default"]
                    .as_str()
                    .map(|d| interpolate(d, &defaults_scope))
                    .unwrap_or_default(),
            };
            inputs.insert(name.clone(), Value::String(value));
        }
        for name in with.keys() {
            assert!(inputs.contains_key(name), "action.yml has no input {name}");
        }
        let mut scope = Scope {
            contexts: json!({ "github": github, "inputs": inputs, "steps": {}, "env": {} }),
            failed: outer.failed,
        };
        for step in action["runs"]["steps"].as_array().expect("composite steps") {
            if !should_run(step, &scope) {
                continue;
            }
            assert_eq!(
                step["shell"], "bash",
                "composite run steps name their shell"
            );
            let outputs =
                self.run_shell_step(step, &mut scope, Some(published_action()), env, result);
            if let Some(id) = step["id"].as_str() {
                scope.contexts["steps"][id] = json!({ "outputs": outputs });
            }
        }
        outer.failed |= scope.failed;
        action["outputs"]
            .as_object()
            .expect("outputs")
            .iter()
            .map(|(name, spec)| {
                let value = interpolate(spec["value"].as_str().expect("value"), &scope.contexts);
                (name.clone(), value)
            })
            .collect()
    }

    /// Runs `script` with bash as a runner does, and returns the step and its outputs.
    fn run_script(
        &self,
        name: String,
        script: &str,
        step_env: &BTreeMap<String, String>,
        action_path: Option<&Path>,
        env: &RunnerEnv<'_>,
        result: &mut JobResult,
    ) -> (StepResult, BTreeMap<String, String>) {
        let index = result.steps.len();
        let output_file = env.runner_temp.join(format!("output-{index}"));
        let summary_file = env.runner_temp.join(format!("summary-{index}"));
        let path_file = env.runner_temp.join(format!("path-{index}"));
        let script_file = env.runner_temp.join(format!("step-{index}.sh"));
        for file in [&output_file, &summary_file, &path_file] {
            std::fs::write(file, "").expect("runner file");
        }
        std::fs::write(&script_file, script).expect("script");
        let (os, arch, _) = runner_platform();
        let mut path = env.paths.borrow().clone();
        path.extend(self.extra_path.clone());
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(env.workspace)
            .env_clear()
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .env("HOME", self.temp.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", env.event_name)
            .env("GITHUB_EVENT_PATH", env.event_path)
            .env("GITHUB_REPOSITORY", SLUG)
            .env("GITHUB_SERVER_URL", self.server_url())
            .env("GITHUB_API_URL", &self.api_url)
            .env("GITHUB_WORKSPACE", env.workspace)
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_ACTOR", "github-actions[bot]")
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .env("GITHUB_PATH", &path_file)
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", env.runner_temp)
            .envs(step_env);
        if let Some(action_path) = action_path {
            command.env("GITHUB_ACTION_PATH", action_path);
        }
        let out = command.output().expect("run bash");
        let outputs = parse_outputs(&std::fs::read_to_string(&output_file).expect("outputs"));
        result
            .summary
            .push_str(&std::fs::read_to_string(&summary_file).expect("summary"));
        env.paths.borrow_mut().extend(
            std::fs::read_to_string(&path_file)
                .expect("path file")
                .lines()
                .rev()
                .map(PathBuf::from),
        );
        (StepResult::of(name, &out), outputs)
    }

    /// `actions/checkout`: a full clone of the repository at `with.ref`, or at what the
    /// event names (a pull request's head, a merge group's ref, else the default branch).
    fn checkout(
        &self,
        with: &BTreeMap<String, String>,
        env: &RunnerEnv<'_>,
        contexts: &Value,
    ) -> StepResult {
        let reference = match with.get("ref").filter(|r| !r.is_empty()) {
            Some(reference) => reference.clone(),
            None => match (
                contexts.pointer("/github/event/pull_request/number"),
                contexts
                    .pointer("/github/event/merge_group/head_ref")
                    .and_then(Value::as_str),
            ) {
                (Some(number), _) => format!("refs/pull/{number}/head"),
                (None, Some(group)) => group.to_owned(),
                (None, None) => "refs/heads/main".to_owned(),
            },
        };
        // What actions/checkout runs with `fetch-depth: 0`: every branch as a remote-tracking
        // ref and every tag, no local branch and no origin/HEAD, the ref detached.
        let script = format!(
            "git init --quiet .\ngit remote add origin '{}'\ngit fetch --quiet --tags origin '+refs/heads/*:refs/remotes/origin/*'\ngit fetch --quiet origin '{reference}'\ngit checkout --quiet --detach FETCH_HEAD\n",
            self.remote.display()
        );
        let out = Command::new("bash")
            .args(["-eo", "pipefail", "-c", &script])
            .current_dir(env.workspace)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        StepResult::of(format!("actions/checkout {reference}"), &out)
    }
}

struct RunnerEnv<'a> {
    workspace: &'a Path,
    runner_temp: &'a Path,
    event_path: &'a Path,
    event_name: &'a str,
    /// What steps added to `GITHUB_PATH`, newest first.
    paths: std::cell::RefCell<Vec<PathBuf>>,
}

/// The references adopters' workflows use for the shipgate action (`shipgate init` writes
/// `shipgate/shipgate@v<version>`; this repository's own workflows use `./`).
fn is_shipgate_action(uses: &str) -> bool {
    uses == "./" || uses.starts_with("shipgate/shipgate@")
}

fn step_name(step: &Value) -> String {
    step["name"]
        .as_str()
        .or_else(|| step["id"].as_str())
        .or_else(|| step["uses"].as_str())
        .unwrap_or("run")
        .to_owned()
}

fn should_run(step: &Value, scope: &Scope) -> bool {
    let condition = step
        .get("if")
        .and_then(Value::as_str)
        .unwrap_or("success()");
    let mut contexts = scope.contexts.clone();
    contexts["__failed"] = Value::Bool(scope.failed);
    truthy(&evaluate(strip_braces(condition), &contexts))
}

fn strip_braces(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .unwrap_or(text)
}

/// `name=value` lines and `name<<DELIMITER` blocks, as a runner reads `GITHUB_OUTPUT`.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}

fn interpolate_map(map: &Value, contexts: &Value) -> BTreeMap<String, String> {
    map.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), interpolate(&text, contexts))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces every `${{ expression }}` in `text` by its value as a string.
pub fn interpolate(text: &str, contexts: &Value) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed ${{") + start;
        out.push_str(&to_text(&evaluate(&rest[start + 3..end], contexts)));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// GitHub's truthiness: false, 0, '' and null are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluates an expression against the contexts.
pub fn evaluate(expression: &str, contexts: &Value) -> Value {
    let tokens = tokenize(expression);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        contexts,
    };
    let value = parser.or();
    assert_eq!(
        parser.at,
        tokens.len(),
        "unparsed rest of expression {expression:?}"
    );
    value
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Text(String),
    Number(f64),
    Symbol(&'static str),
}

fn tokenize(expression: &str) -> Vec<Token> {
    let chars: Vec<char> = expression.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('\''), Some('\'')) => {
                        text.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => break,
                    (Some(ch), _) => {
                        text.push(*ch);
                        i += 1;
                    }
                    (None, _) => panic!("unclosed string in {expression:?}"),
                }
            }
            i += 1;
            tokens.push(Token::Text(text));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            tokens.push(Token::Number(text.parse().expect("number")));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_-".contains(chars[i])) {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else {
            let pair: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let symbol = ["&&", "||", "==", "!="]
                .into_iter()
                .find(|s| pair == *s)
                .or_else(|| {
                    ["!", ".", "(", ")", ","]
                        .into_iter()
                        .find(|s| s.starts_with(c))
                })
                .unwrap_or_else(|| panic!("unexpected {c:?} in {expression:?}"));
            i += symbol.len();
            tokens.push(Token::Symbol(symbol));
        }
    }
    tokens
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    contexts: &'a Value,
}

impl Parser<'_> {
    fn eat(&mut self, symbol: &str) -> bool {
        if matches!(self.tokens.get(self.at), Some(Token::Symbol(s)) if *s == symbol) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Value {
        let mut value = self.and();
        while self.eat("||") {
            let right = self.and();
            if !truthy(&value) {
                value = right;
            }
        }
        value
    }

    fn and(&mut self) -> Value {
        let mut value = self.unary();
        while self.eat("&&") {
            let right = self.unary();
            if truthy(&value) {
                value = right;
            }
        }
        value
    }

    fn unary(&mut self) -> Value {
        if self.eat("!") {
            return Value::Bool(!truthy(&self.unary()));
        }
        let left = self.primary();
        if self.eat("==") {
            let right = self.primary();
            return Value::Bool(loosely_equal(&left, &right));
        }
        if self.eat("!=") {
            let right = self.primary();
            return Value::Bool(!loosely_equal(&left, &right));
        }
        left
    }

    fn primary(&mut self) -> Value {
        let token = self.tokens.get(self.at).cloned().expect("an operand");
        self.at += 1;
        match token {
            Token::Text(text) => Value::String(text),
            Token::Number(n) => json!(n),
            Token::Symbol("(") => {
                let value = self.or();
                assert!(self.eat(")"), "missing )");
                value
            }
            Token::Name(name) if self.eat("(") => {
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.or());
                        if self.eat(")") {
                            break;
                        }
                        assert!(self.eat(","), "expected , in a call");
                    }
                }
                self.call(&name, &args)
            }
            Token::Name(name) => {
                let mut value = match name.as_str() {
                    "true" => return Value::Bool(true),
                    "false" => return Value::Bool(false),
                    "null" => return Value::Null,
                    _ => self.contexts.get(&name).cloned().unwrap_or(Value::Null),
                };
                while self.eat(".") {
                    let Some(Token::Name(field)) = self.tokens.get(self.at).cloned() else {
                        panic!("expected a property name");
                    };
                    self.at += 1;
                    value = value.get(&field).cloned().unwrap_or(Value::Null);
                }
                value
            }
            Token::Symbol(other) => panic!("unexpected {other}"),
        }
    }

    fn call(&self, name: &str, args: &[Value]) -> Value {
        let failed = self.contexts["__failed"].as_bool().unwrap_or(false);
        match (name, args) {
            ("success", []) => Value::Bool(!failed),
            ("failure", []) => Value::Bool(failed),
            ("always", []) => Value::Bool(true),
            ("contains", [Value::Array(items), needle]) => {
                Value::Bool(items.iter().any(|i| loosely_equal(i, needle)))
            }
            ("contains", [haystack, needle]) => Value::Bool(
                to_text(haystack)
                    .to_lowercase()
                    .contains(&to_text(needle).to_lowercase()),
            ),
            ("startsWith", [text, prefix]) => Value::Bool(
                to_text(text)
                    .to_lowercase()
                    .starts_with(&to_text(prefix).to_lowercase()),
            ),
            _ => panic!("the local runner does not know {name}({args:?})"),
        }
    }
}

/// `==` as GitHub compares: strings case-insensitively, numbers by value.
fn loosely_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => left == right,
    }
}

#[test]
fn expressions_follow_githubs_rules() {
    let contexts = json!({
        "github": {"event": {"issue": {"number": 7, "pull_request": {"url": "u"}},
                              "comment": {"body": "LGTM\n/shipgate approve abc", "user": {"type": "User"}}}},
        "inputs": {"run-id": ""},
        "__failed": false,
    });
    let check = |expression: &str| truthy(&evaluate(expression, &contexts));
    assert!(check(
        "github.event.issue.pull_request && contains(github.event.comment.body, '/SHIPGATE') && github.event.comment.user.type != 'Bot'"
    ));
    assert!(!check("github.event.pull_request.number"));
    assert!(check("!inputs.run-id"));
    assert!(check("success() && startsWith('refs/pull/7', 'refs/')"));
    assert_eq!(
        interpolate(
            "refs/pull/${{ github.event.pull_request.number || github.event.issue.number }}/head",
            &contexts
        ),
        "refs/pull/7/head"
    );
    assert_eq!(interpolate("${{ 'it''s' }}", &contexts), "it's");
}
