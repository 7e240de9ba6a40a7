//! clap types of `shipgate doctor`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Output of `shipgate doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One finding per paragraph.
    Text,
    /// Machine-readable JSON.
    Json,
}

/// `shipgate doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The git repository to check (default: the one enclosing the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The GitHub repository (default: GITHUB_REPOSITORY, then the origin remote).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_slug: Option<String>,
    /// Policy directory, repository-relative.
    #[arg(long, value_name = "DIR", default_value = ".shipgate/policies")]
    pub policies: String,
    /// The default branch (default: origin/HEAD, then main, then master).
    #[arg(long, value_name = "NAME")]
    pub default_branch: Option<String>,
    /// The remote holding the governance branch.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// The governance branch.
    #[arg(long, default_value = crate::audit::append::DEFAULT_BRANCH)]
    pub branch: String,
    /// The mint private key file to check against the policy (default: SHIPGATE_MINT_KEY).
    #[arg(long, value_name = "FILE")]
    pub mint_key: Option<PathBuf>,
    /// The audit private key file to check against the policy (default: SHIPGATE_AUDIT_KEY).
    #[arg(long, value_name = "FILE")]
    pub audit_key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
}
