//! Execute benchmark (issue 19): `shipgate execute` of one 3-operation run on a chain with
//! `--runs` runs, against its time on an empty chain (target: at most 2x).
//!
//! Run it in release mode from the workspace root:
//!
//! ```text
//! cargo run --release --example execute-bench                    # 10 000 runs against 0
//! cargo run --release --example execute-bench -- --runs 1000     # smoke run
//! ```
//!
//! For each chain size (0 runs, then `--runs`) it sets up a world as the integration tests do:
//! a repository whose `main` holds a policy (two of alice, bob and erin approve), `--samples`
//! pull requests on the fake GitHub (started in-process), each adding a plan of three tags,
//! approved by alice and bob, and a bare `origin` the fake serves. The governance branch is
//! built first with the library's [`ChainWriter`]: the genesis, then `--runs` shipments of
//! the realistic mix of `examples/audit-bench.rs` (two approvals, run opened, receipt minted
//! with a receipt signed by the mint key, lock, consumed, succeeded, unlock, a denial, a note;
//! a halt and resume every 100 shipments), signed with the policy's audit key so that it
//! verifies. Then the release binary (`target/release/shipgate`, brought up to date; or
//! `--shipgate PATH`) mints each pull request (`shipgate mint --pr N`, not timed) and
//! executes each run as a process, as a workflow runs it (`shipgate execute --run RUN`):
//! - **cold**: the first run, in a fresh clone of `main` (what CI's checkout has): the process
//!   fetches the governance branch and verifies it from the genesis;
//! - **warm**: the other runs, one after the other in that same clone, whose checkpoint
//!   (`.git/shipgate/checkpoint`) the earlier executions wrote: the median.
//!
//! The table gives both sizes, their ratios and the load average (other work on the machine
//! slows every figure down).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use clap::Parser;
use fake_github::{FakeGitHub, Seed};
use git2::{Oid, Repository};
use serde_json::json;
use shipgate::audit::entry::Event;
use shipgate::audit::state::{RUNS_FAN_OUT, State};
use shipgate::audit::store::{ChainWriter, Tip, read_entry};
use shipgate::keys::{GeneratedKey, generate, parse_private_key};
use shipgate::policy::SignerRole;

#[path = "common/mod.rs"]
mod common;
use common::{
    Res, STEP, event, git_env, git_ok, human, load_average, shipgate_binary, shipment, time_at,
    work_dir,
};

const SLUG: &str = "acme/widget";
const BRANCH: &str = "shipgate/audit";
const TOKEN: &str = "t-bot";
/// 2026-01-01T00:00:00Z: the time of the genesis entry.
const START: i64 = 1_767_225_600;

/// `shipgate execute` of a 3-operation run on a long chain against an empty one.
#[derive(Debug, Parser)]
#[command(name = "execute-bench")]
struct Args {
    /// Runs on the long chain (about ten entries each).
    #[arg(long, default_value_t = 10_000)]
    runs: usize,
    /// Runs executed per chain: the first in a fresh clone, the others warm (at least 2).
    #[arg(long, default_value_t = 4)]
    samples: usize,
    /// The shipgate binary (default: target/release/shipgate, brought up to date).
    #[arg(long)]
    shipgate: Option<PathBuf>,
    /// Keep the repositories in this directory (default: a temporary one).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("execute-bench: {e}");
        std::process::exit(1);
    }
}

/// What one chain size measured.
#[derive(Debug)]
struct Figures {
    runs: usize,
    entries: usize,
    build_seconds: f64,
    clone_ms: f64,
    cold_ms: f64,
    warm_ms: Vec<f64>,
}

fn run(args: &Args) -> Res<()> {
    if args.samples < 2 {
        return Err("--samples must be at least 2 (one cold run, then warm ones)".into());
    }
    let (out, _temporary) = work_dir(args.out.as_deref(), "execute-bench-")?;
    let binary = shipgate_binary(args.shipgate.as_deref())?;
    let load_before = load_average();
    println!(
        "execute-bench: runs 0 and {}, {} execution(s) each, work in {}",
        args.runs,
        args.samples,
        out.display()
    );
    let empty = measure(args, &binary, &out.join("empty"), 0)?;
    let long = measure(args, &binary, &out.join("long"), args.runs)?;
    print_table(&empty, &long, (load_before, load_average()));
    Ok(())
}

/// One world with a chain of `runs` runs: build, mint, execute cold then warm.
fn measure(args: &Args, binary: &Path, dir: &Path, runs: usize) -> Res<Figures> {
    std::fs::create_dir_all(dir)?;
    let mint = generate("mint-1", SignerRole::Mint)?;
    let audit = generate("audit-1", SignerRole::Audit)?;
    let world = World::new(dir, binary, &mint, &audit, args.samples)?;

    let started = Instant::now();
    let entries = build_chain(&dir.join("chain.git"), &world.bare, &audit, &mint, runs)?;
    let build_seconds = started.elapsed().as_secs_f64();
    println!("  {runs} runs: built {entries} entries in {build_seconds:.1} s");

    let mut run_ids = Vec::new();
    for pr in &world.prs {
        let started = Instant::now();
        world.shipgate_ok(&world.work, &["mint", "--pr", &pr.to_string()])?;
        run_ids.push(world.run_of(*pr)?);
        println!(
            "  minted pull request #{pr} in {:.0} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }

    let exec = dir.join("exec");
    let started = Instant::now();
    git_ok(
        dir,
        &[
            "clone",
            "--quiet",
            "--single-branch",
            "--branch",
            "main",
            &world.bare.display().to_string(),
            &exec.display().to_string(),
        ],
    )?;
    let clone_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut times = Vec::new();
    for run in &run_ids {
        let started = Instant::now();
        let output = world.shipgate_ok(&exec, &["execute", "--run", run])?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !String::from_utf8_lossy(&output.stdout).contains("== SHIPPED ==") {
            return Err(format!(
                "execute of {run} did not ship:\n{}",
                String::from_utf8_lossy(&output.stdout)
            )
            .into());
        }
        println!("  executed {run} in {ms:.0} ms");
        times.push(ms);
    }
    let cold_ms = times.remove(0);
    Ok(Figures {
        runs,
        entries,
        build_seconds,
        clone_ms,
        cold_ms,
        warm_ms: times,
    })
}

/// The repository, its bare `origin` served by the fake GitHub, and the pull requests.
struct World<'k> {
    work: PathBuf,
    bare: PathBuf,
    binary: &'k Path,
    mint: &'k GeneratedKey,
    audit: &'k GeneratedKey,
    fake: FakeGitHub,
    prs: Vec<u64>,
}

impl<'k> World<'k> {
    fn new(
        dir: &Path,
        binary: &'k Path,
        mint: &'k GeneratedKey,
        audit: &'k GeneratedKey,
        samples: usize,
    ) -> Res<Self> {
        let work = dir.join("work");
        let bare = dir.join("origin.git");
        std::fs::create_dir_all(work.join(".shipgate/policies"))?;
        git_ok(&work, &["init", "--quiet", "--initial-branch", "main"])?;
        std::fs::write(work.join("README.md"), "# widget\n")?;
        std::fs::write(
            work.join(".shipgate/policies/policy.yaml"),
            policy(mint, audit),
        )?;
        commit(&work, "the policy")?;
        // One branch per pull request, each adding its own plan of three tags.
        for k in 0..samples {
            git_ok(
                &work,
                &["checkout", "--quiet", "-b", &format!("plan-{k}"), "main"],
            )?;
            let file = format!(".shipgate/plans/bench-{k}.yaml");
            std::fs::create_dir_all(work.join(".shipgate/plans"))?;
            std::fs::write(work.join(&file), plan(k))?;
            commit(&work, &format!("plan {k}"))?;
        }
        git_ok(&work, &["checkout", "--quiet", "main"])?;
        git_ok(
            dir,
            &[
                "clone",
                "--quiet",
                "--bare",
                &work.display().to_string(),
                &bare.display().to_string(),
            ],
        )?;
        git_ok(
            &work,
            &["remote", "add", "origin", &bare.display().to_string()],
        )?;
        let fake = FakeGitHub::start(seed(&bare)?)?;
        let mut world = Self {
            work,
            bare,
            binary,
            mint,
            audit,
            fake,
            prs: Vec::new(),
        };
        for k in 0..samples {
            let pr = world
                .fake
                .open_pull(SLUG, "carol", &format!("plan-{k}"), "main", "Release");
            // The plan id, as `shipgate plan id` prints it on the plan's branch.
            git_ok(&world.work, &["checkout", "--quiet", &format!("plan-{k}")])?;
            let id = world.shipgate_ok(
                &world.work,
                &["plan", "id", &format!(".shipgate/plans/bench-{k}.yaml")],
            )?;
            git_ok(&world.work, &["checkout", "--quiet", "main"])?;
            let id = String::from_utf8_lossy(&id.stdout).trim().to_owned();
            let prefix = id
                .strip_prefix("sha256:")
                .and_then(|hex| hex.get(..16))
                .ok_or_else(|| format!("not a plan id: {id}"))?;
            for login in ["alice", "bob"] {
                world
                    .fake
                    .add_comment(SLUG, pr, login, &format!("/shipgate approve {prefix}\n"));
            }
            world.prs.push(pr);
        }
        Ok(world)
    }

    fn shipgate_ok(&self, dir: &Path, args: &[&str]) -> Res<Output> {
        let output = Command::new(self.binary)
            .args(args)
            .current_dir(dir)
            .envs(git_env())
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_OUTPUT")
            .env("GITHUB_REPOSITORY", SLUG)
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_API_URL", self.fake.base_url())
            .env("GITHUB_ACTOR", "execute-bench")
            .env("SHIPGATE_MINT_KEY", self.mint.private_openssh.as_str())
            .env("SHIPGATE_AUDIT_KEY", self.audit.private_openssh.as_str())
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "shipgate {} failed ({}):\n{}{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(output)
    }

    /// The run minted last for pull request `pr`, read from the chain's newest entries.
    fn run_of(&self, pr: u64) -> Res<String> {
        let repo = Repository::open_bare(&self.bare)?;
        let mut cursor = Some(repo.refname_to_id(&format!("refs/heads/{BRANCH}"))?);
        while let Some(commit) = cursor {
            if let Event::RunOpened {
                run_id,
                pr: Some(n),
                ..
            } = read_entry(&repo, commit)?.entry.event
                && n.get() == pr
            {
                return Ok(run_id.to_string());
            }
            cursor = repo.find_commit(commit)?.parent_ids().next();
        }
        Err(format!("no run was opened for pull request #{pr}").into())
    }
}

fn policy(mint: &GeneratedKey, audit: &GeneratedKey) -> String {
    format!(
        "version: 1
groups:
  release-managers: {{ users: [alice, bob, erin] }}
rules:
  - name: releases need two release managers
    match: {{ kinds: [tag, release, pull_request] }}
    approvals: {{ required: 2, from: [release-managers] }}
    receipt_ttl: 2h
halt_admins: [alice]
signers:
  - {{ kid: mint-1, role: mint, key: {} }}
  - {{ kid: audit-1, role: audit, key: {} }}
",
        mint.public_line, audit.public_line
    )
}

/// Plan `k`: three tags on `main`.
fn plan(k: usize) -> String {
    let tags: String = (0..3)
        .map(|i| format!("  - kind: tag\n    name: v{k}.{i}.0\n    target: main\n"))
        .collect();
    format!("version: 1\nname: Release {k}\noperations:\n{tags}")
}

/// The fake GitHub's users, the bot's token and the repository served from `git_dir`.
fn seed(git_dir: &Path) -> Res<Seed> {
    Ok(Seed::from_yaml_str(&format!(
        r#"
users:
  - {{ login: alice }}
  - {{ login: bob }}
  - {{ login: carol }}
  - {{ login: erin, email: bench@example.com }}
  - {{ login: "github-actions[bot]", type: Bot }}
tokens:
  - {{ token: {TOKEN}, login: "github-actions[bot]" }}
repos:
  - full_name: {SLUG}
    git_dir: {}
    default_branch: main
    collaborators: {{ alice: admin, bob: write, carol: read, "github-actions[bot]": write }}
"#,
        git_dir.display()
    ))?)
}

/// Commits everything in `dir` as erin (whom the fake links to the address).
fn commit(dir: &Path, message: &str) -> Res<()> {
    git_ok(dir, &["add", "--all"])?;
    git_ok(
        dir,
        &[
            "-c",
            "user.name=Erin",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "--quiet",
            "-m",
            message,
        ],
    )?;
    Ok(())
}

/// Builds the genesis and `runs` shipments in `path` and pushes them to `bare`'s governance
/// branch. Returns the number of entries.
fn build_chain(
    path: &Path,
    bare: &Path,
    audit: &GeneratedKey,
    mint: &GeneratedKey,
    runs: usize,
) -> Res<usize> {
    let key = parse_private_key(&audit.private_openssh, "audit key")?;
    let mint_key = parse_private_key(&mint.private_openssh, "mint key")?;
    let repo = Repository::init_bare(path)?;
    let odb = repo.odb()?;
    let mut writer = ChainWriter::new(&repo, &odb, &key)?;
    let mut state = State::default();
    let mut tip: Option<Tip> = None;
    let mut entries = 0usize;
    let genesis = event(
        json!({"type": "genesis", "repository": SLUG, "signer_kids": ["audit-1"],
                               "state_layout": RUNS_FAN_OUT}),
    );
    let mut queue = vec![(human("carol"), genesis)];
    let mut n = 0u64;
    while !queue.is_empty() {
        for (actor, event) in queue {
            let at = time_at(START + STEP * entries as i64);
            tip = Some(writer.append(tip.as_ref(), &mut state, &actor, at, event)?);
            entries += 1;
            if entries % 1_000 == 0 {
                writer.flush()?;
            }
        }
        n += 1;
        queue = if n <= runs as u64 {
            shipment(n, START + STEP * entries as i64, &mint_key, SLUG, "r")?
        } else {
            Vec::new()
        };
    }
    writer.flush()?;
    let head: Oid = tip.ok_or("no entry")?.commit;
    repo.reference(&format!("refs/heads/{BRANCH}"), head, true, "execute-bench")?;
    git_ok(
        path,
        &[
            "push",
            "--quiet",
            &bare.display().to_string(),
            &format!("{head}:refs/heads/{BRANCH}"),
        ],
    )?;
    Ok(entries)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn print_table(empty: &Figures, long: &Figures, load: (f64, f64)) {
    let (warm0, warm1) = (median(&empty.warm_ms), median(&long.warm_ms));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n{:44}  {:>10}  {:>10}  {:>7}  target",
        "",
        format!("{} runs", empty.runs),
        format!("{} runs", long.runs),
        "ratio"
    );
    let _ = writeln!(out, "{}", "-".repeat(88));
    let rows = [
        (
            "chain entries before minting",
            empty.entries as f64,
            long.entries as f64,
            false,
        ),
        (
            "chain built (s)",
            empty.build_seconds,
            long.build_seconds,
            false,
        ),
        (
            "git clone of main (ms)",
            empty.clone_ms,
            long.clone_ms,
            false,
        ),
        (
            "execute, fresh clone (cold, ms)",
            empty.cold_ms,
            long.cold_ms,
            true,
        ),
        (
            "execute, same clone again (warm, median, ms)",
            warm0,
            warm1,
            true,
        ),
    ];
    for (name, a, b, target) in rows {
        let ratio = if target {
            format!("{:.2}x", b / a)
        } else {
            String::new()
        };
        let met = match (target, b / a <= 2.0) {
            (false, _) => "",
            (true, true) => "<= 2x yes",
            (true, false) => "<= 2x NO",
        };
        let _ = writeln!(out, "{name:44}  {a:>10.0}  {b:>10.0}  {ratio:>7}  {met}");
    }
    let _ = writeln!(
        out,
        "(warm runs: {:?} ms and {:?} ms; load average {:.2} before, {:.2} after; {} core(s))",
        empty.warm_ms.iter().map(|t| t.round()).collect::<Vec<_>>(),
        long.warm_ms.iter().map(|t| t.round()).collect::<Vec<_>>(),
        load.0,
        load.1,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
