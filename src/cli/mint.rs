//! Arguments of `shipgate mint`.

use std::path::PathBuf;

use clap::Args;

use super::{AuditAppendArgs, Format};

/// `shipgate mint`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// The pull request whose plans to mint (default: the one the GITHUB_EVENT_PATH
    /// issue_comment event is about).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// The mint private key file (default: the SHIPGATE_MINT_KEY variable's text).
    #[arg(long, value_name = "FILE")]
    pub mint_key: Option<PathBuf>,
    /// The workflow file a `/shipgate ship` comment starts (`workflow_dispatch` with the run
    /// id as its `run-id` input), so every execution happens in the ship workflow's environment.
    #[arg(long, value_name = "FILE", default_value = "shipgate-ship.yml")]
    pub ship_workflow: String,
    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}
