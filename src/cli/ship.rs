//! Arguments of `shipgate ship`: what a `/shipgate ship` comment does, from a terminal.

use clap::Args;

use super::{AuditTargetArgs, PolicyArgs};

/// `shipgate ship`.
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The pull request whose runs to ship.
    #[arg(long, value_name = "N")]
    pub pr: u64,
    /// The workflow file to start (`workflow_dispatch` with the run id as its `run-id` input),
    /// the same one a `/shipgate ship` comment starts.
    #[arg(long, value_name = "FILE", default_value = "shipgate-ship.yml")]
    pub ship_workflow: String,
    /// The GitHub repository (default: GITHUB_REPOSITORY, then the origin remote).
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo_slug: Option<String>,
    #[command(flatten)]
    pub target: AuditTargetArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
}
