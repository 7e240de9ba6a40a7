//! Arguments of `shipgate proof`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{AuditTargetArgs, PolicyArgs};
use crate::model::RunId;

/// `shipgate proof`: export a run's proof bundle, or verify one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProofArgs {
    /// The run whose proof to export.
    #[arg(value_name = "RUN_ID", value_parser = RunId::parse)]
    pub run: Option<RunId>,
    /// Where to write the bundle (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub target: AuditTargetArgs,
    #[command(subcommand)]
    pub command: Option<ProofCommand>,
}

/// `shipgate proof verify`.
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Check a proof bundle offline against the policy's signers (exit 4 if it proves nothing).
    #[command(
        after_help = "Examples:\n  shipgate proof verify run_3f9a.proof.json\n  shipgate proof verify run_3f9a.proof.json --allowed-signers signers"
    )]
    Verify {
        /// The bundle.
        file: PathBuf,
        /// Trust these signers (a git allowed-signers file from `shipgate audit export-signers`)
        /// instead of the policy on the default branch.
        #[arg(long, value_name = "FILE")]
        allowed_signers: Option<PathBuf>,
        /// The git repository whose policy to trust (default: the enclosing one).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}
