//! clap types of `shipgate audit`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::PolicyArgs;

/// Which repository, remote and branch hold the chain.
#[derive(Debug, Clone, Args)]
pub struct AuditTargetArgs {
    /// The local git repository (default: the one enclosing the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The remote holding the governance branch.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// The governance branch.
    #[arg(long, default_value = crate::audit::append::DEFAULT_BRANCH)]
    pub branch: String,
}

/// Output of `audit log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per entry.
    Text,
    /// One JSON entry per line.
    Json,
}

/// `shipgate audit log`.
#[derive(Debug, Args)]
pub struct AuditLogArgs {
    #[command(flatten)]
    pub target: AuditTargetArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
    /// Show at most this many entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `shipgate audit verify`.
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    pub target: AuditTargetArgs,
    /// Trust this commit (an earlier verified head) and verify only what follows it.
    #[arg(long, value_name = "COMMIT")]
    pub since: Option<String>,
    /// The trusted signers, as a git allowed-signers file (default: the `audit` signers of the
    /// policy on the default branch).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// How an operator's entry is appended: where, with which key, and the genesis details of a
/// new chain.
#[derive(Debug, Clone, Args)]
pub struct AuditAppendArgs {
    #[command(flatten)]
    pub target: AuditTargetArgs,
    /// The audit private key file (default: the SHIPGATE_AUDIT_KEY variable's text).
    #[arg(long, value_name = "FILE")]
    pub audit_key: Option<PathBuf>,
    /// The governed repository, recorded in the genesis entry of a new chain (default:
    /// GITHUB_REPOSITORY, then the remote's URL).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_slug: Option<String>,
    /// Give up with AUDIT_UNAVAILABLE after this many seconds of failed attempts.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub give_up_after: u64,
    /// Where the policy recorded in a new chain's genesis entry comes from.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `shipgate audit note`.
#[derive(Debug, Args)]
pub struct AuditNoteArgs {
    /// The note.
    pub message: String,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}

/// `shipgate halt`.
#[derive(Debug, Args)]
pub struct HaltArgs {
    /// Why shipping stops (recorded on the chain and shown in status comments).
    #[arg(long)]
    pub reason: String,
    /// Who halts, as recorded (default: GITHUB_ACTOR, else the audit key's id).
    #[arg(long, value_name = "LOGIN")]
    pub by: Option<String>,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}

/// `shipgate resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The id of a halt admin's `/shipgate resume` comment, written after the halt: the
    /// resume is theirs, read from GitHub and recorded with its id (the audit key alone can
    /// halt, never resume).
    #[arg(long, value_name = "ID")]
    pub comment: u64,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}

/// `shipgate audit export-signers`.
#[derive(Debug, Args)]
pub struct ExportSignersArgs {
    /// The local git repository (default: the one enclosing the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Read the signers from this allowed-signers file instead of the policy.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `shipgate audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the chain's entries, newest first.
    #[command(after_help = "Example:\n  shipgate audit log --limit 20")]
    Log(AuditLogArgs),
    /// Verify the whole chain: signatures, hashes, seq, state trees, receipts, shape, rollback.
    #[command(
        after_help = "Example:\n  shipgate audit verify\n  shipgate audit verify --allowed-signers signers --json\nExit 4 names the first bad commit."
    )]
    Verify(AuditVerifyArgs),
    /// Append a signed operator note.
    #[command(
        after_help = "Example:\n  SHIPGATE_AUDIT_KEY=\"$(cat audit.key)\" shipgate audit note 'rotated keys'"
    )]
    Note(AuditNoteArgs),
    /// Write a git allowed-signers file so stock git can check audit commit signatures.
    #[command(
        after_help = "Example:\n  shipgate audit export-signers --out signers\n  git -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=signers log --show-signature origin/shipgate/audit"
    )]
    ExportSigners(ExportSignersArgs),
}
