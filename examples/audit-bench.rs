//! Audit chain benchmark (issue 3): how fast the chain grows, lands and verifies.
//!
//! Run it in release mode from the workspace root:
//!
//! ```text
//! cargo run --release --example audit-bench                       # full size: 100 000 entries
//! cargo run --release --example audit-bench -- --entries 2000     # smoke run, under a minute
//! cargo run --release --example audit-bench -- --out /tmp/bench   # keep repositories, figures.json
//! cargo run --release --example audit-bench -- --mix notes        # operator notes only
//! ```
//!
//! It measures, with the library's public API and real git repositories:
//! 1. **Local appends**: a chain of `--entries` entries (genesis, then a realistic mix of
//!    approvals, runs, receipts minted (carrying a receipt signed with a mint key) and
//!    consumed, locks, outcomes, denials, notes and a halt/resume every 100 shipments; or
//!    `--mix notes`) built with [`ChainWriter::append`], the code path of a real append minus
//!    the push, every commit SSHSIG-signed with a freshly generated Ed25519 audit key. New
//!    objects go to disk as one pack every `--flush-every` entries (a real append writes one
//!    pack per push). Appends/s over the first `--window` entries (empty repository) and over
//!    the last `--window` (the repository first repacked into one pack, as a clone has it; the
//!    repack is not timed), and their ratio: the cost must stay flat.
//! 2. **Fetch + append + push**: the chain is pushed to a local bare remote; a fresh work
//!    repository fetches it once (timed alone: git's transfer), appends once (timed: the
//!    first append of a fresh clone verifies the whole chain), then `--push-samples` notes go
//!    through
//!    [`shipgate::audit::append::append`] (fetch, look up the state at the head, build, sign,
//!    push without force through git's receive-pack, adopt the pack): median and p90.
//! 3. **Verify**: [`verify_chain`] (what `shipgate audit verify` runs) over the whole chain on
//!    the remote, with `--threads` threads (default: every core) and with one thread; the best
//!    of `--verify-runs` runs each, each on a freshly opened repository (as the CLI has it),
//!    with the CPU time it took.
//! 4. **Stock git**: `git verify-commit` (`gpg.format=ssh`, an allowed-signers file exported
//!    by shipgate) over `--git-sample` commits spread along the chain: once in one `git`
//!    process (how a person checks a range with stock git), once split across as many `git`
//!    processes as shipgate had threads; entries/s and the ratio shipgate / git for each.
//! 5. **Concurrent CLI writers**: `--writers` processes x `--appends-per-writer` runs of the
//!    release binary's `shipgate audit note` (target/release/shipgate, brought up to date; or
//!    `--shipgate PATH`), each writer in its own clone, against one fresh bare remote: total
//!    wall time and push attempts; the chain is then verified to hold every note once.
//!
//! The figures are printed as a table against the issue's targets, with the load average (other
//! work on the machine slows every figure down) and, with `--out`, written to
//! `DIR/figures.json` next to the repositories.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use git2::{Oid, Repository};
use serde_json::json;
use shipgate::audit::append::{AppendTarget, GitCli, append};
use shipgate::audit::entry::{Actor, Event};
use shipgate::audit::state::{RUNS_FAN_OUT, State};
use shipgate::audit::store::{ChainWriter, Tip};
use shipgate::audit::trust::ChainTrust;
use shipgate::audit::verify::{VerifyOptions, verify_chain};
use shipgate::keys::{
    SigningKey, allowed_signers_file, generate, parse_allowed_signers, parse_private_key,
    write_private_key,
};
use shipgate::policy::{Signer, SignerRole};

#[path = "common/mod.rs"]
mod common;
use common::{
    Res, STEP, event, git_env, git_ok, human, load_average, shipgate_binary, shipment, time_at,
    work_dir,
};

/// The allocator of the `shipgate` binary, so that appends and verification are timed as it
/// runs them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BRANCH: &str = "shipgate/audit";
const KID: &str = "audit-bench";
/// 2026-01-01T00:00:00Z: the time of the genesis entry.
const START: i64 = 1_767_225_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mix {
    /// Shipments: approvals, run, receipt minted and consumed, lock, outcome, plus notes,
    /// denials and an occasional halt and resume.
    Realistic,
    /// Operator notes only (the state stays empty).
    Notes,
}

/// Audit chain benchmark: appends/s (flat?), fetch+append+push latency, verify throughput vs
/// stock git, and concurrent CLI writers.
#[derive(Debug, Parser)]
#[command(name = "audit-bench")]
struct Args {
    /// Entries in the chain, genesis included.
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// Which events the chain is made of.
    #[arg(long, value_enum, default_value_t = Mix::Realistic)]
    mix: Mix,
    /// Entries per throughput window (first and last) of the local build.
    #[arg(long, default_value_t = 1_000)]
    window: usize,
    /// Also time a window ending at these entry counts (default: 10% and 50% of --entries).
    #[arg(long, value_delimiter = ',')]
    checkpoints: Option<Vec<usize>>,
    /// Entries written to memory between two packs of the local build.
    #[arg(long, default_value_t = 1_000)]
    flush_every: usize,
    /// Fetch+append+push rounds timed against the remote holding the chain.
    #[arg(long, default_value_t = 30)]
    push_samples: usize,
    /// Verification threads (default: the available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip the extra single-threaded verification.
    #[arg(long)]
    no_single_thread: bool,
    /// Build the chain in the layout of DESIGN 8 (runs flat, no `state_layout`), as chains
    /// written before runs fanned out are: the clone's first append then migrates every run.
    #[arg(long)]
    flat_runs: bool,
    /// Verifications timed per thread count; the fastest counts.
    #[arg(long, default_value_t = 3)]
    verify_runs: usize,
    /// Commits checked by `git verify-commit` (spread evenly along the chain).
    #[arg(long, default_value_t = 200)]
    git_sample: usize,
    /// Concurrent `shipgate audit note` processes (0 skips this part).
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Notes each writer appends.
    #[arg(long, default_value_t = 50)]
    appends_per_writer: usize,
    /// The shipgate binary (default: target/release/shipgate, brought up to date).
    #[arg(long)]
    shipgate: Option<PathBuf>,
    /// Keep the repositories and figures.json in this directory (default: a temporary one).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Every figure, for the table and figures.json.
#[derive(Debug, Default, serde::Serialize)]
struct Figures {
    entries: usize,
    mix: String,
    window: usize,
    build_seconds: f64,
    appends_per_s_first: f64,
    appends_per_s_last: f64,
    append_cost_ratio_last_over_first: f64,
    /// Appends/s over the window ending at each checkpoint and at the end: (end, rate).
    windows: Vec<(usize, f64)>,
    pack_bytes: u64,
    push_chain_seconds: f64,
    /// A fresh clone's `git fetch` of the whole chain.
    initial_fetch_ms: f64,
    /// The first fetch+append+push after it, which verifies the whole chain.
    initial_fetch_append_ms: f64,
    push_samples: usize,
    push_median_ms: f64,
    push_p90_ms: f64,
    push_max_ms: f64,
    fetch_ms: f64,
    verify_entries: u64,
    verify_threads: usize,
    verify_seconds: f64,
    verify_cpu_seconds: f64,
    verify_entries_per_s: f64,
    verify_single_thread_entries_per_s: Option<f64>,
    git_sample: usize,
    git_one_process_entries_per_s: f64,
    verify_over_git_one_process_ratio: f64,
    git_processes: usize,
    git_seconds: f64,
    git_entries_per_s: f64,
    verify_over_git_ratio: f64,
    writers: usize,
    appends_per_writer: usize,
    writers_seconds: Option<f64>,
    writers_total_attempts: Option<u64>,
    /// The 1-minute load average before and after (other work on the machine skews figures).
    load_average: (f64, f64),
}

fn main() {
    let args = Args::parse();
    // Read objects as the `shipgate` binary does.
    shipgate::app::read_objects_as_git_does();
    if let Err(e) = run(&args) {
        eprintln!("audit-bench: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Res<()> {
    if args.window == 0 || args.entries < 2 * args.window {
        return Err("--window must be at least 1 and --entries at least twice --window".into());
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (out, _temporary) = work_dir(args.out.as_deref(), "audit-bench-")?;
    println!(
        "audit-bench: {} entries ({:?} mix), {} verify thread(s), work in {}",
        args.entries,
        args.mix,
        threads,
        out.display()
    );
    let mut figures = Figures {
        load_average: (load_average(), 0.0),
        entries: args.entries,
        mix: format!("{:?}", args.mix).to_lowercase(),
        window: args.window,
        push_samples: args.push_samples,
        verify_threads: threads,
        writers: args.writers,
        appends_per_writer: args.appends_per_writer,
        ..Figures::default()
    };

    let generated = generate(KID, SignerRole::Audit)?;
    let key = parse_private_key(&generated.private_openssh, "generated key")?;
    let signers = parse_allowed_signers(&format!("{KID} {}\n", generated.public_line))?;
    let mint_generated = generate("mint-bench", SignerRole::Mint)?;
    let mint_key = parse_private_key(&mint_generated.private_openssh, "generated mint key")?;

    // 1. Local appends.
    let chain_path = out.join("chain.git");
    let head = build_chain(args, &chain_path, &key, &mint_key, &mut figures)?;

    // 2. Fetch + append + push against a bare remote holding the chain.
    let remote = out.join("remote.git");
    git_ok(&out, &["init", "--quiet", "--bare", "remote.git"])?;
    let started = Instant::now();
    git_ok(
        &chain_path,
        &[
            "push",
            "--quiet",
            &remote.display().to_string(),
            &format!("{head}:refs/heads/{BRANCH}"),
        ],
    )?;
    figures.push_chain_seconds = started.elapsed().as_secs_f64();
    println!(
        "  pushed the chain to the bare remote in {:.1} s",
        figures.push_chain_seconds
    );
    let remote_head = push_rounds(args, &out, &remote, &key, &mut figures)?;

    // 3. Verify with the library's verifier, on the remote (one pack, as a clone has it).
    let remote_repo = Repository::open_bare(&remote)?;
    // Best of `--verify-runs` runs: other work on the machine only ever slows a run down. Each
    // run opens the repository afresh, as `shipgate audit verify` does: a handle used before
    // would answer from libgit2's object cache.
    let verify = |threads: usize| -> Res<(u64, f64, f64)> {
        let mut best: Option<(u64, f64, f64)> = None;
        for _ in 0..args.verify_runs.max(1) {
            let cpu = cpu_seconds();
            let started = Instant::now();
            let verified = verify_chain(
                &Repository::open_bare(&remote)?,
                remote_head,
                &VerifyOptions {
                    threads,
                    ..VerifyOptions::whole_chain(&signers)
                },
            )?;
            let seconds = started.elapsed().as_secs_f64();
            let run = (verified.entries_checked, seconds, cpu_seconds() - cpu);
            if best.is_none_or(|b| seconds < b.1) {
                best = Some(run);
            }
        }
        Ok(best.expect("at least one run"))
    };
    let (checked, seconds, cpu) = verify(threads)?;
    figures.verify_entries = checked;
    figures.verify_seconds = seconds;
    figures.verify_cpu_seconds = cpu;
    figures.verify_entries_per_s = checked as f64 / seconds;
    println!(
        "  verified {checked} entries with {threads} thread(s) in {seconds:.2} s (best of {}; {cpu:.1} CPU-s): {:.0} entries/s",
        args.verify_runs.max(1),
        figures.verify_entries_per_s
    );
    if !args.no_single_thread && threads > 1 {
        let (checked, seconds, cpu) = verify(1)?;
        let rate = checked as f64 / seconds;
        figures.verify_single_thread_entries_per_s = Some(rate);
        println!(
            "  verified again with 1 thread in {seconds:.2} s ({cpu:.1} CPU-s): {rate:.0} entries/s"
        );
    }

    // 4. Stock git over a sample.
    stock_git(
        args,
        &out,
        &remote,
        &remote_repo,
        remote_head,
        threads,
        &signers,
        &mut figures,
    )?;

    // 5. Concurrent CLI writers.
    if args.writers > 0 && args.appends_per_writer > 0 {
        cli_writers(args, &out, &signers, &mut figures)?;
    }

    figures.load_average.1 = load_average();
    print_table(&figures);
    if args.out.is_some() {
        let path = out.join("figures.json");
        std::fs::write(&path, serde_json::to_string_pretty(&figures)? + "\n")?;
        println!("figures written to {}", path.display());
    }
    Ok(())
}

/// CPU time (user + system) this process used so far, from /proc/self/stat (0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses: utime and stime are the 12th
    // and 13th, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => 0.0,
    }
}

/// The events of the built chain, entry by entry after genesis.
struct EventMix<'k> {
    mix: Mix,
    mint_key: &'k SigningKey,
    queue: std::collections::VecDeque<(Actor, Event)>,
    cycle: u64,
}

impl<'k> EventMix<'k> {
    fn new(mix: Mix, mint_key: &'k SigningKey) -> Self {
        Self {
            mix,
            mint_key,
            queue: std::collections::VecDeque::new(),
            cycle: 0,
        }
    }

    /// The next actor and event; `at` is the entry's time (expiries are set after it).
    fn next(&mut self, at: i64) -> (Actor, Event) {
        if self.mix == Mix::Notes {
            self.cycle += 1;
            return (
                operator(),
                event(json!({"type": "note",
                             "message": format!("operator note {}: deploy window reviewed", self.cycle)})),
            );
        }
        if self.queue.is_empty() {
            self.cycle += 1;
            let shipment = shipment(self.cycle, at, self.mint_key, "acme/widget", "v")
                .expect("a shipment of valid events and a signed receipt");
            self.queue.extend(shipment);
        }
        self.queue.pop_front().expect("a refilled queue")
    }
}

fn operator() -> Actor {
    human("carol")
}

/// The chain being built: what the next entry builds on.
struct Building<'k> {
    path: PathBuf,
    key: &'k SigningKey,
    state: State,
    tip: Option<Tip>,
    mix: EventMix<'k>,
    flush_every: usize,
    flat_runs: bool,
    started: Instant,
    report_at: Instant,
}

impl Building<'_> {
    /// Appends entries `range` (their index is their seq) through a fresh repository handle,
    /// writing a pack every `flush_every` entries and at the end.
    fn append(&mut self, range: std::ops::Range<usize>) -> Res<()> {
        let repo = Repository::open_bare(&self.path)?;
        let odb = repo.odb()?;
        let mut writer = ChainWriter::new(&repo, &odb, self.key)?;
        let end = range.end;
        for i in range {
            let at = START + STEP * i as i64;
            let (actor, event) = if i == 0 {
                (operator(), genesis(self.flat_runs))
            } else {
                self.mix.next(at)
            };
            let next = writer.append(
                self.tip.as_ref(),
                &mut self.state,
                &actor,
                time_at(at),
                event,
            )?;
            self.tip = Some(next);
            if (i + 1) % self.flush_every == 0 || i + 1 == end {
                writer.flush()?;
            }
            if self.report_at.elapsed() >= Duration::from_secs(10) {
                self.report_at = Instant::now();
                println!(
                    "  ... {} entries in {:.0} s",
                    i + 1,
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }
}

/// The genesis a chain started by this version writes: runs fan out from the start (DESIGN
/// 13.8). With `flat_runs`, the genesis of an older chain, without `state_layout`: its runs lie
/// flat, and the first append of the push rounds migrates every run in one entry.
fn genesis(flat_runs: bool) -> Event {
    let mut genesis = json!({
        "type": "genesis",
        "repository": "acme/widget",
        "signer_kids": [KID],
    });
    if !flat_runs {
        genesis["state_layout"] = json!(RUNS_FAN_OUT);
    }
    event(genesis)
}

/// Part 1: builds the chain locally and measures appends/s over the first and last windows.
/// The last window starts from a repository repacked into one pack, as a fresh clone (or one
/// that git's automatic maintenance packed) has it, so that both windows see the same number
/// of packs and only the chain's size differs.
fn build_chain(
    args: &Args,
    path: &Path,
    key: &SigningKey,
    mint_key: &SigningKey,
    figures: &mut Figures,
) -> Res<Oid> {
    let n = args.entries;
    let w = args.window;
    Repository::init_bare(path)?;
    let mut building = Building {
        path: path.to_owned(),
        key,
        state: State::default(),
        tip: None,
        mix: EventMix::new(args.mix, mint_key),
        flush_every: args.flush_every.max(1),
        flat_runs: args.flat_runs,
        started: Instant::now(),
        report_at: Instant::now(),
    };
    let set_branch = |building: &Building<'_>| -> Res<Oid> {
        let head = building.tip.as_ref().expect("at least genesis").commit;
        Repository::open_bare(path)?.reference(
            &format!("refs/heads/{BRANCH}"),
            head,
            true,
            "audit-bench",
        )?;
        Ok(head)
    };
    let first = Instant::now();
    building.append(0..w)?;
    let first_window = first.elapsed();
    // Windows ending at each checkpoint (default 10% and 50% of the chain), then the last.
    let mut ends: Vec<usize> = args
        .checkpoints
        .clone()
        .unwrap_or_else(|| vec![n / 10, n / 2])
        .into_iter()
        .filter(|&end| end >= 2 * w && end + w <= n)
        .collect();
    ends.sort_unstable();
    ends.dedup();
    ends.push(n);
    let mut repack_seconds = 0.0;
    let mut done = w;
    for end in ends {
        building.append(done..end - w)?;
        // The branch first: repacking keeps only what a ref reaches.
        set_branch(&building)?;
        let repack = Instant::now();
        git_ok(path, &["repack", "-a", "-d", "-q"])?;
        repack_seconds += repack.elapsed().as_secs_f64();
        let window = Instant::now();
        building.append(end - w..end)?;
        let seconds = window.elapsed().as_secs_f64();
        figures.windows.push((end, w as f64 / seconds));
        done = end;
    }
    let last_window = w as f64 / figures.windows.last().expect("the last window").1;
    figures.build_seconds = building.started.elapsed().as_secs_f64() - repack_seconds;
    figures.appends_per_s_first = w as f64 / first_window.as_secs_f64();
    figures.appends_per_s_last = w as f64 / last_window;
    figures.append_cost_ratio_last_over_first = last_window / first_window.as_secs_f64();
    figures.pack_bytes = dir_size(&path.join("objects"));
    let head = set_branch(&building)?;
    let state = &building.state;
    let windows: Vec<String> = std::iter::once((w, figures.appends_per_s_first))
        .chain(figures.windows.iter().copied())
        .map(|(end, rate)| format!("{rate:.0}/s up to {end}"))
        .collect();
    println!(
        "  built {n} entries in {:.1} s ({:.0}/s overall; windows of {w}: {}; repacks before the windows {repack_seconds:.1} s, not counted); objects {:.1} MB; state: {} runs, {} receipts, {} ops",
        figures.build_seconds,
        n as f64 / figures.build_seconds,
        windows.join(", "),
        figures.pack_bytes as f64 / 1e6,
        state.runs.len(),
        state.receipts.len(),
        state.ops.len(),
    );
    Ok(head)
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Part 2: one fetch+append+push per round, timed, against the remote holding the chain.
fn push_rounds(
    args: &Args,
    out: &Path,
    remote: &Path,
    key: &SigningKey,
    figures: &mut Figures,
) -> Res<Oid> {
    let work = Repository::init(out.join("work"))?;
    work.remote("origin", &remote.display().to_string())?;
    let cli = GitCli::new(&work, git_env());
    let target = AppendTarget {
        remote: "origin".into(),
        branch: BRANCH.into(),
        genesis: genesis(args.flat_runs),
        actor: operator(),
        give_up_after: Duration::from_secs(60),
        trust: ChainTrust::new(vec![key.as_signer(SignerRole::Audit)], None),
    };
    let clock_base = START + STEP * args.entries as i64;
    let mut round = 0i64;
    let mut one = |label: &str| -> Res<f64> {
        round += 1;
        let at = clock_base + STEP * round;
        let message = format!("bench push {label}");
        let started = Instant::now();
        append(&work, &cli, key, &target, &|| time_at(at), |_| {
            Ok(event(json!({"type": "note", "message": message})))
        })?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    // A fresh clone: the whole chain is fetched into the empty work repository (git's
    // transfer, timed alone), then the first append verifies it from the genesis.
    let started = Instant::now();
    cli.fetch(&work, "origin", BRANCH)?;
    figures.initial_fetch_ms = started.elapsed().as_secs_f64() * 1000.0;
    figures.initial_fetch_append_ms = one("initial")?;
    println!(
        "  fresh clone: git fetch of the whole chain in {:.0} ms, then the first fetch+append+push (verifies the whole chain) in {:.0} ms",
        figures.initial_fetch_ms, figures.initial_fetch_append_ms
    );
    let mut times = Vec::with_capacity(args.push_samples);
    for i in 0..args.push_samples {
        times.push(one(&i.to_string())?);
    }
    if !times.is_empty() {
        times.sort_by(f64::total_cmp);
        figures.push_median_ms = percentile(&times, 0.5);
        figures.push_p90_ms = percentile(&times, 0.9);
        figures.push_max_ms = times[times.len() - 1];
        println!(
            "  {} fetch+append+push rounds: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
            times.len(),
            figures.push_median_ms,
            figures.push_p90_ms,
            figures.push_max_ms
        );
    }
    // Each round starts with a `git fetch` that finds nothing new: time that part alone (the
    // rest is building, signing and git's push through receive-pack).
    let head = Repository::open_bare(remote)?.refname_to_id(&format!("refs/heads/{BRANCH}"))?;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        cli.fetch(&work, "origin", BRANCH)?;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
    }
    figures.fetch_ms = best;
    println!("  of which the git fetch (nothing new): {best:.1} ms");
    Ok(head)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Part 4: `git verify-commit` over a sample spread along the chain.
#[allow(clippy::too_many_arguments)]
fn stock_git(
    args: &Args,
    out: &Path,
    remote: &Path,
    repo: &Repository,
    head: Oid,
    processes: usize,
    signers: &[Signer],
    figures: &mut Figures,
) -> Res<()> {
    let mut line = Vec::new();
    let mut cursor = Some(head);
    while let Some(oid) = cursor {
        line.push(oid);
        cursor = repo.find_commit(oid)?.parent_id(0).ok();
    }
    let sample_size = args.git_sample.clamp(1, line.len());
    let sample: Vec<String> = (0..sample_size)
        .map(|i| line[i * line.len() / sample_size].to_string())
        .collect();
    let signers_path = out.join("allowed_signers");
    std::fs::write(&signers_path, allowed_signers_file(signers))?;
    let config = format!("gpg.ssh.allowedSignersFile={}", signers_path.display());
    let timed = |processes: usize| -> Res<f64> {
        let started = Instant::now();
        let results: Vec<std::io::Result<Output>> = std::thread::scope(|scope| {
            let workers: Vec<_> = sample
                .chunks(sample.len().div_ceil(processes))
                .map(|part| {
                    let config = &config;
                    scope.spawn(move || {
                        Command::new("git")
                            .current_dir(remote)
                            .envs(git_env())
                            .args(["-c", "gpg.format=ssh", "-c", config, "verify-commit"])
                            .args(part)
                            .output()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a git worker"))
                .collect()
        });
        let seconds = started.elapsed().as_secs_f64();
        for result in results {
            let output = result?;
            if !output.status.success() {
                return Err(format!(
                    "git verify-commit failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )
                .into());
            }
        }
        Ok(seconds)
    };
    figures.git_sample = sample.len();
    // As a person checks a range with stock git: one `git verify-commit` over all of it.
    let seconds = timed(1)?;
    figures.git_one_process_entries_per_s = sample.len() as f64 / seconds;
    figures.verify_over_git_one_process_ratio =
        figures.verify_entries_per_s / figures.git_one_process_entries_per_s;
    println!(
        "  git verify-commit checked {} commits in one process in {seconds:.2} s: {:.0} entries/s",
        sample.len(),
        figures.git_one_process_entries_per_s
    );
    // And spread over as many processes as shipgate had threads, every core busy.
    let processes = processes.clamp(1, sample.len());
    let seconds = timed(processes)?;
    figures.git_processes = processes;
    figures.git_seconds = seconds;
    figures.git_entries_per_s = sample.len() as f64 / seconds;
    figures.verify_over_git_ratio = figures.verify_entries_per_s / figures.git_entries_per_s;
    println!(
        "  git verify-commit checked {} commits with {processes} process(es) in {seconds:.2} s: {:.0} entries/s",
        sample.len(),
        figures.git_entries_per_s
    );
    Ok(())
}

/// Part 5: concurrent `shipgate audit note` processes against one fresh bare remote.
fn cli_writers(args: &Args, out: &Path, signers: &[Signer], figures: &mut Figures) -> Res<()> {
    let binary = shipgate_binary(args.shipgate.as_deref())?;
    let dir = out.join("cli");
    std::fs::create_dir_all(&dir)?;
    git_ok(&dir, &["init", "--quiet", "--bare", "remote.git"])?;
    let remote = dir.join("remote.git");
    let generated = generate(KID, SignerRole::Audit)?;
    let key_path = dir.join("audit.key");
    write_private_key(&key_path, &generated.private_openssh)?;
    let signers_path = dir.join("allowed_signers");
    std::fs::write(&signers_path, format!("{KID} {}\n", generated.public_line))?;
    let cli_signers = parse_allowed_signers(&std::fs::read_to_string(&signers_path)?)?;
    debug_assert!(cli_signers.len() == 1 && signers.len() == 1);
    let work_dirs = (0..args.writers)
        .map(|w| -> Res<PathBuf> {
            let path = dir.join(format!("w{w}"));
            let repo = Repository::init(&path)?;
            repo.remote("origin", &remote.display().to_string())?;
            Ok(path)
        })
        .collect::<Res<Vec<_>>>()?;
    let key_arg = key_path.display().to_string();
    let started = Instant::now();
    let results: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = work_dirs
            .iter()
            .enumerate()
            .map(|(w, work)| {
                let (binary, key_arg) = (&binary, &key_arg);
                scope.spawn(move || -> Result<u64, String> {
                    let mut attempts = 0;
                    for n in 0..args.appends_per_writer {
                        let message = format!("writer {w} note {n}");
                        let output = Command::new(binary)
                            .current_dir(work)
                            .envs(git_env())
                            .env_remove("SHIPGATE_AUDIT_KEY")
                            .env("GITHUB_REPOSITORY", "acme/widget")
                            .args(["audit", "note", "--audit-key", key_arg, &message])
                            .output()
                            .map_err(|e| e.to_string())?;
                        if !output.status.success() {
                            return Err(format!(
                                "{message}: {}",
                                String::from_utf8_lossy(&output.stderr).trim()
                            ));
                        }
                        attempts += attempts_of(&String::from_utf8_lossy(&output.stdout));
                    }
                    Ok(attempts)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a writer thread"))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut attempts = 0;
    for result in results {
        attempts += result?;
    }
    let remote_repo = Repository::open_bare(&remote)?;
    let head = remote_repo.refname_to_id(&format!("refs/heads/{BRANCH}"))?;
    let verified = verify_chain(
        &remote_repo,
        head,
        &VerifyOptions {
            threads: 1,
            ..VerifyOptions::whole_chain(&cli_signers)
        },
    )?;
    let expected = (args.writers * args.appends_per_writer + 1) as u64;
    if verified.entries_checked != expected {
        return Err(format!(
            "the CLI chain holds {} entries, expected {expected}",
            verified.entries_checked
        )
        .into());
    }
    figures.writers_seconds = Some(seconds);
    figures.writers_total_attempts = Some(attempts);
    println!(
        "  {} writers x {} notes through {} in {seconds:.1} s ({attempts} push attempts); chain of {expected} entries verifies",
        args.writers,
        args.appends_per_writer,
        binary.display()
    );
    Ok(())
}

/// The attempts count in `appended note as seq N (COMMIT; K attempt(s))`.
fn attempts_of(stdout: &str) -> u64 {
    stdout
        .split("; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn print_table(f: &Figures) {
    let mut rows: Vec<(String, String, String, Option<bool>)> = Vec::new();
    let w = f.window;
    rows.push((
        format!("appends/s, first {w} entries"),
        format!("{:.0}", f.appends_per_s_first),
        String::new(),
        None,
    ));
    for &(end, rate) in &f.windows[..f.windows.len().saturating_sub(1)] {
        rows.push((
            format!("appends/s, {w} up to entry {end}"),
            format!("{rate:.0}"),
            String::new(),
            None,
        ));
    }
    rows.push((
        format!("appends/s, last {w} (at {})", f.entries),
        format!("{:.0}", f.appends_per_s_last),
        String::new(),
        None,
    ));
    rows.push((
        "append cost, last / first".into(),
        format!("{:.2}x", f.append_cost_ratio_last_over_first),
        "<= 1.2x".into(),
        Some(f.append_cost_ratio_last_over_first <= 1.2),
    ));
    if f.push_samples > 0 {
        rows.push((
            format!("fetch+append+push, median of {}", f.push_samples),
            format!("{:.1} ms", f.push_median_ms),
            "<= 30 ms".into(),
            Some(f.push_median_ms <= 30.0),
        ));
        rows.push((
            "fetch+append+push, p90".into(),
            format!("{:.1} ms", f.push_p90_ms),
            String::new(),
            None,
        ));
        rows.push((
            "  of which the git fetch".into(),
            format!("{:.1} ms", f.fetch_ms),
            String::new(),
            None,
        ));
    }
    rows.push((
        format!(
            "verify, {} entries, {} thread(s)",
            f.verify_entries, f.verify_threads
        ),
        format!("{:.0} /s", f.verify_entries_per_s),
        ">= 50 000 /s".into(),
        Some(f.verify_entries_per_s >= 50_000.0),
    ));
    if let Some(rate) = f.verify_single_thread_entries_per_s {
        rows.push((
            "verify, 1 thread".into(),
            format!("{rate:.0} /s"),
            String::new(),
            None,
        ));
    }
    rows.push((
        format!("git verify-commit, {} commits, 1 proc", f.git_sample),
        format!("{:.1} /s", f.git_one_process_entries_per_s),
        String::new(),
        None,
    ));
    rows.push((
        "verify / stock git, 1 proc".into(),
        format!("{:.0}x", f.verify_over_git_one_process_ratio),
        ">= 500x".into(),
        Some(f.verify_over_git_one_process_ratio >= 500.0),
    ));
    rows.push((
        format!(
            "git verify-commit, {} commits, {} proc",
            f.git_sample, f.git_processes
        ),
        format!("{:.1} /s", f.git_entries_per_s),
        String::new(),
        None,
    ));
    rows.push((
        format!("verify / stock git, {} proc", f.git_processes),
        format!("{:.0}x", f.verify_over_git_ratio),
        ">= 500x".into(),
        Some(f.verify_over_git_ratio >= 500.0),
    ));
    if let Some(seconds) = f.writers_seconds {
        rows.push((
            format!(
                "{} writers x {} CLI appends",
                f.writers, f.appends_per_writer
            ),
            format!("{seconds:.1} s"),
            "<= 20 s".into(),
            Some(seconds <= 20.0),
        ));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n{:width$}  {:>14}  {:>14}  met",
        "measure", "figure", "target"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 38));
    for (name, value, target, met) in rows {
        let met = match met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        let _ = writeln!(out, "{name:width$}  {value:>14}  {target:>14}  {met}");
    }
    let _ = writeln!(
        out,
        "(load average {:.2} before, {:.2} after; {} core(s))",
        f.load_average.0,
        f.load_average.1,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
}
