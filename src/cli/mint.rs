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
    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}
