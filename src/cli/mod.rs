//! Command-line types (clap) and their conversion into library requests.
//!
//! Nothing here decides anything: it parses arguments and hands them to [`crate::app`].
//! clap stays out of every other module.

mod audit;
pub mod doctor;
mod execute;
pub mod init;
pub mod keys;
mod mint;
mod proof;
mod receipt;
mod release;
mod runs;
mod ship;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use audit::{
    AuditAppendArgs, AuditCommand, AuditLogArgs, AuditNoteArgs, AuditTargetArgs, AuditVerifyArgs,
    ExportSignersArgs, HaltArgs, LogFormat, ResumeArgs,
};
pub use doctor::{DoctorArgs, DoctorFormat};
pub use execute::ExecuteArgs;
pub use init::InitArgs;
pub use keys::KeysCommand;
pub use mint::MintArgs;
pub use proof::{ProofArgs, ProofCommand};
pub use receipt::{ReceiptCommand, ReceiptSourceArgs};
pub use release::{ReleaseCommand, ReleasePublishArgs};
pub use runs::RunsArgs;
pub use ship::ShipArgs;

/// shipgate: nothing ships without a human-approved, signed, single-use receipt.
#[derive(Debug, Parser)]
#[command(name = "shipgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a plan would ship, who must approve it and what would block it. Writes nothing.
    #[command(
        after_help = "Examples:\n  shipgate dry-run\n  shipgate dry-run .shipgate/plans/release.yaml --format markdown\n  shipgate dry-run --policies-from-worktree --at 2026-12-24T12:00:00Z\n  GITHUB_TOKEN=... shipgate dry-run --repo-slug acme/widget --pr 42\n  GITHUB_TOKEN=... shipgate dry-run --merge-group   (in a workflow on merge_group)\n\nEnvironment:\n  GITHUB_TOKEN       read GitHub's state for the preview (and write the --pr status comment)\n  GITHUB_API_URL     the API base URL (default https://api.github.com; GHES: https://HOST/api/v3)\n  GITHUB_REPOSITORY  the repository, when --repo-slug is not given"
    )]
    DryRun(DryRunArgs),
    /// Plan utilities.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Policy utilities.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Receipt utilities: show, verify, export the signed payload.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit chain on the governance branch.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Count the approvals on a pull request and, once every quorum is met, mint the receipts
    /// (recorded on the audit chain; needs GITHUB_TOKEN, the mint key and the audit key).
    #[command(
        after_help = "Examples:\n  shipgate mint --pr 42\n  # in an issue_comment workflow (the PR comes from GITHUB_EVENT_PATH):\n  shipgate mint\n\nRun it in any clone with the default branch fetched: the PR's head commit is fetched\n(refs/pull/N/head) when missing and read as git objects, never checked out; the plans\nare the ones it adds or changes, the policy is the default branch's.\n\nEnvironment:\n  GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY  reach GitHub\n  SHIPGATE_MINT_KEY   the mint private key (or --mint-key FILE)\n  SHIPGATE_AUDIT_KEY  the audit private key (or --audit-key FILE)\n  GITHUB_EVENT_PATH   an issue_comment event: its PR, and which events to ignore"
    )]
    Mint(MintArgs),
    /// Perform a run's operations, each only after its receipt passes the gate, and record
    /// every step on the audit chain (needs GITHUB_TOKEN and the audit key).
    #[command(
        after_help = "Example:\n  shipgate execute --run run_3f9a0c1d2e4b5a6978c0d1e2\n\nRun it in a checkout whose plans include the run's plan (e.g. the default branch after\nthe plan's pull request merged). Re-running it for a run with an operation in doubt (a crash\nbetween consuming a receipt and recording the outcome) reads GitHub and recovers.\n\nExit codes: 0 shipped, 1 blocked (the reason code is printed and recorded), 3 GitHub or git\nfailed, 4 the chain or a receipt failed verification."
    )]
    Execute(ExecuteArgs),
    /// Start the ship workflow for a pull request's open runs, as a `/shipgate ship` comment
    /// does: only for an approver of its plans (needs GITHUB_TOKEN; no key).
    #[command(
        after_help = "Example:\n  GITHUB_TOKEN=\"$(gh auth token)\" shipgate ship --pr 42\n\nYou are the token's account (GET /user), or GITHUB_ACTOR when the token is an installation\ntoken that cannot say. You must be named by a rule of the pull request's plans, as for\napproving; the repository must not be halted; a run must be open (the plans approved and\nminted). The ship workflow then executes each run in its own environment.\n\nExit codes: 0 started (or nothing left to ship), 1 refused (the reason is printed), 2 bad\nusage, 3 GitHub or git failed, 4 the audit chain failed verification."
    )]
    Ship(ShipArgs),
    /// List the plans awaiting approval, then the runs on the governance branch, newest first,
    /// with their state (authorized, waiting, shipped, partially shipped, stale, expired,
    /// blocked, superseded) and their PR.
    #[command(
        after_help = "Examples:\n  shipgate runs\n  shipgate runs --pr 42 --format json\n\nReads the verified governance branch (fetched from the remote) and the plans in this\ncheckout: a run whose plan file is here but resolves to another id now is stale."
    )]
    Runs(RunsArgs),
    /// Publish a draft release after its assets (`publish: after_assets`).
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Export a run's proof bundle (its receipts and its piece of the audit chain), or verify
    /// one offline.
    #[command(
        after_help = "Examples:\n  shipgate proof run_3f9a0c1d2e4b5a6978c0d1e2 --out run.proof.json\n  shipgate proof verify run.proof.json"
    )]
    Proof(ProofArgs),
    /// Set up a repository for shipgate: the policy (from a preset), the plans directory and
    /// the three workflows; then print the key-setup steps. Overwrites nothing without --force.
    #[command(
        after_help = "Examples:\n  shipgate init --approver alice --approver bob --approver carol\n  shipgate init --preset solo-maintainer --approver alice\n  shipgate init --approver alice --team acme/release --action acme/shipgate@v0.1.0 --default-branch trunk\n\nWrites .shipgate/policies/policy.yaml, .shipgate/plans/README.md and\n.github/workflows/shipgate-{plan,approve,ship}.yml. Exit codes: 0 written, 2 a file exists\n(nothing written; --force overwrites) or a flag is not acceptable."
    )]
    Init(InitArgs),
    /// Check a repository's shipgate setup and explain every finding: the policy, the signers,
    /// the keys, the workflows, the governance branch and, with GITHUB_TOKEN, GitHub's settings.
    #[command(
        after_help = "Examples:\n  shipgate doctor\n  shipgate doctor --mint-key mint.key --audit-key audit.key\n  GITHUB_TOKEN=... shipgate doctor --format json\n\nExit codes: 0 no problem (warnings allowed), 1 a check found a problem, 2 bad usage,\n3 git or GitHub could not be reached for a check.\n\nEnvironment:\n  SHIPGATE_MINT_KEY, SHIPGATE_AUDIT_KEY  private keys to check against the policy (never printed)\n  GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY  check the token and branch protection on GitHub\n  GITHUB_STEP_SUMMARY  the markdown report is appended there in GitHub Actions"
    )]
    Doctor(DoctorArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  shipgate completions bash > /etc/bash_completion.d/shipgate\n  shipgate completions zsh > \"${fpath[1]}/_shipgate\"\n  shipgate completions fish > ~/.config/fish/completions/shipgate.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  shipgate man > shipgate.1 && man ./shipgate.1")]
    Man,
    /// Stop all minting and execution (recorded on the audit chain; needs the audit key).
    #[command(
        after_help = "Example:\n  SHIPGATE_AUDIT_KEY=\"$(cat audit.key)\" shipgate halt --reason 'bad build in 1.4.0'"
    )]
    Halt(HaltArgs),
    /// Lift a halt (recorded on the audit chain; needs the audit key).
    #[command(after_help = "Example:\n  SHIPGATE_AUDIT_KEY=\"$(cat audit.key)\" shipgate resume")]
    Resume(ResumeArgs),
}

/// Output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human text.
    Text,
    /// Machine-readable JSON.
    Json,
    /// GitHub-flavoured markdown (PR comments, job summaries).
    Markdown,
}

/// Where the repository and its identity come from.
#[derive(Debug, Args)]
pub struct RepoArgs {
    /// The git repository (default: the one enclosing the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The GitHub repository the plan ships to (default: GITHUB_REPOSITORY, then the origin remote).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_slug: Option<String>,
}

/// The policy directory when none is named.
pub const POLICIES_DIR: &str = ".shipgate/policies";

/// Where the policy comes from.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Policy directory, repository-relative, read from the default branch's commit.
    #[arg(long, value_name = "DIR", default_value = POLICIES_DIR)]
    pub policies: String,
    /// Read the policies from the work tree instead of the default branch (to test local edits).
    #[arg(long)]
    pub policies_from_worktree: bool,
    /// The default branch (default: origin/HEAD, then main, then master).
    #[arg(long, value_name = "NAME")]
    pub default_branch: Option<String>,
}

/// `shipgate dry-run`.
#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Plan files (default: every *.yaml and *.yml in .shipgate/plans/).
    #[arg(value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Evaluate freezes at this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// How a dry-run meets GitHub.
#[derive(Debug, Args)]
pub struct GitHubArgs {
    /// Require the online preview (GitHub's state is read whenever GITHUB_TOKEN is set; this
    /// makes a missing token an error instead of a local-only preview).
    #[arg(long)]
    pub online: bool,
    /// The pull request whose status comment to upsert (needs GITHUB_TOKEN).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// With --pr: write no status comment either (the dry-run then writes nothing at all).
    #[arg(long, requires = "pr")]
    pub no_comment: bool,
    /// In a merge queue's workflow (`on: merge_group`): set the `shipgate` status of the
    /// group's commit that the event (GITHUB_EVENT_PATH) names, success only when every plan
    /// the group adds or changes has a run on the governance branch (needs GITHUB_TOKEN).
    #[arg(long, conflicts_with_all = ["pr", "online", "plans", "format", "at"])]
    pub merge_group: bool,
}

/// `shipgate plan ...`.
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Print the plan id of a resolved plan, and nothing else.
    #[command(after_help = "Example:\n  shipgate plan id .shipgate/plans/release.yaml")]
    Id {
        /// The plan file.
        plan: PathBuf,
        #[command(flatten)]
        repo: RepoArgs,
    },
}

/// `shipgate policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate the policy files in a directory of the work tree and print the policy hash.
    #[command(after_help = "Example:\n  shipgate policy check .shipgate/policies")]
    Check {
        /// The policy directory (default: .shipgate/policies).
        #[arg(value_name = "DIR", default_value = ".shipgate/policies")]
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}
