//! `shipgate runs` arguments.

use std::path::PathBuf;

use clap::Args;

use super::{AuditTargetArgs, Format, PolicyArgs};

/// `shipgate runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub target: AuditTargetArgs,
    /// The GitHub repository the plans ship to (default: GITHUB_REPOSITORY, then the origin remote).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_slug: Option<String>,
    /// The trusted signers, as a git allowed-signers file (default: the `audit` signers of the
    /// policy on the default branch).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Only the runs of this pull request.
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
