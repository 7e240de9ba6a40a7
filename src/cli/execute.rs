//! Arguments of `shipgate execute`.

use clap::Args;

use super::{AuditAppendArgs, Format};

/// `shipgate execute`.
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// The run to execute (its receipts were minted by `shipgate mint`).
    #[arg(long, value_name = "RUN_ID")]
    pub run: String,
    /// How long the execution lock is held before another executor may break it (s, m, h).
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub lock_ttl: String,
    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub append: AuditAppendArgs,
}
