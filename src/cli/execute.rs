//! Arguments of `shipgate execute`.

use clap::Args;

use super::{AuditAppendArgs, Format};
use crate::model::RunId;

/// `shipgate execute`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["run", "pr", "pending"])))]
pub struct ExecuteArgs {
    /// The run to execute (its receipts were minted by `shipgate mint`).
    #[arg(long, value_name = "RUN_ID", value_parser = RunId::parse)]
    pub run: Option<RunId>,
    /// Execute the latest run minted for this pull request (and update its status comment).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Execute every run that still has work (an unused, unexpired receipt, or an operation
    /// in doubt) and whose plan is in the checkout, oldest first: what a push to the default
    /// branch does.
    #[arg(long)]
    pub pending: bool,
    /// How long the execution lock is held before another executor may break it (s, m, h).
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub lock_ttl: String,
    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}
