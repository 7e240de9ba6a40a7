//! `shipgate receipt ...` arguments.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Format, PolicyArgs, RepoArgs};

/// Receipt utilities.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Print a receipt file's claims.
    #[command(after_help = "Example:\n  shipgate receipt show rcp_0123.json")]
    Show {
        /// The receipt (JSON).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check a receipt's signature against the policy's mint keys (exit 4 if forged).
    #[command(after_help = "Example:\n  shipgate receipt verify rcp_0123.json")]
    Verify {
        /// The receipt (JSON).
        file: PathBuf,
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
        /// The receipt (JSON).
        file: PathBuf,
        /// Where to write the signed bytes.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Where to write the armoured SSH signature.
        #[arg(long, value_name = "FILE")]
        signature_out: Option<PathBuf>,
    },
}
