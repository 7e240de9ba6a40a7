//! The imperative shell: one function per subcommand, the only place that wires the pure core
//! to the clock, the environment, the file system, git and GitHub.

mod actions;
mod approvals;
mod audit;
mod check;
mod commands;
mod doctor;
mod dry_run;
mod execute;
mod github;
mod init;
mod inputs;
mod keys;
mod merge_group;
mod mint;
mod proof;
mod publish;
mod pull_head;
mod receipt;
mod runs;
mod ship;

use std::io::Write;

use time::OffsetDateTime;

use crate::cli::{Cli, Command, Format, PlanCommand, PolicyCommand, ReleaseCommand};
use crate::error::{Error, Outcome};

/// Runs one parsed command line, writing its report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Error> {
    read_objects_as_git_does();
    match cli.command {
        Command::DryRun(args) => dry_run::dry_run(&args, OffsetDateTime::now_utc(), out),
        Command::Plan(PlanCommand::Id {
            plan,
            repo: repo_args,
        }) => {
            let repo = inputs::open_repo(repo_args.repo.as_deref())?;
            let (slug, _) = inputs::repo_slug(&repo_args, &repo)?;
            let resolved = inputs::load_plan(&plan, &repo, &slug)?;
            writeln!(out, "{}", resolved.id)?;
            Ok(Outcome::Clean)
        }
        Command::Policy(PolicyCommand::Check { dir, format }) => policy_check(&dir, format, out),
        Command::Receipt(command) => receipt::receipt(&command, out),
        Command::Keys(command) => keys::run(command, out),
        Command::Audit(command) => audit::run(command, out),
        Command::Mint(args) => mint::mint(&args, out),
        Command::Execute(args) => execute::execute(&args, out),
        Command::Ship(args) => ship::ship(&args, out),
        Command::Runs(args) => runs::runs(&args, out),
        Command::Release(ReleaseCommand::Publish(args)) => publish::publish(&args, out),
        Command::Proof(args) => proof::proof(&args, out),
        Command::Init(args) => init::init(&args, OffsetDateTime::now_utc(), out),
        Command::Doctor(args) => doctor::doctor(&args, out),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "shipgate", out);
            Ok(Outcome::Clean)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command).render(out)?;
            Ok(Outcome::Clean)
        }
        Command::Halt(args) => audit::halt(&args, out),
        Command::Resume(args) => audit::resume(&args, out),
    }
}

/// The clock, in the whole seconds that entries and receipts record.
fn now_whole_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A report as pretty JSON with a final newline (`--format json`).
fn json_report(report: &impl serde::Serialize) -> Result<String, Error> {
    serde_json::to_string_pretty(report)
        .map(|text| text + "\n")
        .map_err(|e| Error::Usage(e.to_string()))
}

fn policy_check(
    dir: &std::path::Path,
    format: Format,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} is not a directory; pass the policy directory (default .shipgate/policies)",
            dir.display()
        )));
    }
    let files = inputs::read_policy_dir(dir)?;
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no policy files (*.yaml, *.yml) in {}",
            dir.display()
        )));
    }
    let policy = crate::policy::load_policy(&files)?;
    match format {
        Format::Json => {
            let summary = serde_json::json!({
                "ok": true,
                "hash": policy.hash,
                "files": policy.files,
                "presets": policy.presets,
                "rules": policy.rules.len(),
                "deny": policy.deny.len(),
                "freeze": policy.freeze.len(),
                "signers": policy.signers.iter().map(|s| serde_json::json!({"kid": s.kid, "role": s.role.as_str()})).collect::<Vec<_>>(),
            });
            writeln!(out, "{summary:#}")?;
        }
        Format::Text | Format::Markdown => {
            writeln!(
                out,
                "policy OK: {} file(s), presets [{}]",
                policy.files.len(),
                policy.presets.join(", ")
            )?;
            writeln!(
                out,
                "  {} rule(s), {} deny rule(s), {} freeze window(s), {} signer(s)",
                policy.rules.len(),
                policy.deny.len(),
                policy.freeze.len(),
                policy.signers.len()
            )?;
            writeln!(out, "  policy hash: {}", policy.hash)?;
        }
    }
    Ok(Outcome::Clean)
}

/// Object reads trust the object database as git itself does: an object's id was checked
/// when it arrived (git's `index-pack` hashes every object a fetch brings) or when it was
/// written, so libgit2 does not hash each object again on every read. Those re-hashes, with
/// collision-detecting SHA-1, were a fifth of the time `audit verify` spent walking the chain.
pub fn read_objects_as_git_does() {
    git2::opts::strict_hash_verification(false);
}
