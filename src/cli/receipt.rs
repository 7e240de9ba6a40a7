//! `shipgate receipt ...` arguments.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Format, PolicyArgs, RepoArgs};

/// Where a receipt named by id is looked up: the governance branch's state.
#[derive(Debug, Args)]
pub struct ReceiptSourceArgs {
    /// The remote holding the governance branch (fetched when the repository has it).
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// The governance branch.
    #[arg(long, default_value = crate::audit::append::DEFAULT_BRANCH)]
    pub branch: String,
}

/// Receipt utilities.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Print a receipt's claims.
    #[command(
        after_help = "Examples:\n  shipgate receipt show rcp_0123.json\n  shipgate receipt show rcp_3f9a0c1d2e4b5a6978c0d1e2   # from the governance branch"
    )]
    Show {
        /// A receipt file (JSON), or a receipt id to read from the governance branch.
        receipt: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        source: ReceiptSourceArgs,
    },
    /// Check a receipt's signature against the policy's mint keys (exit 4 if forged).
    #[command(
        after_help = "Examples:\n  shipgate receipt verify rcp_0123.json\n  shipgate receipt verify rcp_3f9a0c1d2e4b5a6978c0d1e2   # from the governance branch"
    )]
    Verify {
        /// A receipt file (JSON), or a receipt id to read from the governance branch.
        receipt: String,
        #[command(flatten)]
        source: ReceiptSourceArgs,
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Write the exact signed bytes (and the armoured signature) for `ssh-keygen -Y verify`.
    #[command(
        after_help = "Example:\n  shipgate receipt export-payload rcp_0123.json --out payload.json --signature-out receipt.sig\n  ssh-keygen -Y verify -f allowed_signers -I mint-2026q4 -n shipgate-receipt -s receipt.sig < payload.json"
    )]
    ExportPayload {
        /// A receipt file (JSON), or a receipt id to read from the governance branch.
        receipt: String,
        #[command(flatten)]
        source: ReceiptSourceArgs,
        /// Where to write the signed bytes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Where to write the armoured SSH signature.
        #[arg(long, value_name = "FILE")]
        signature_out: Option<PathBuf>,
    },
}
