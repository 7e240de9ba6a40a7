//! clap types of `shipgate keys`.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

/// What a generated key will sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyRole {
    /// Receipts.
    Mint,
    /// Audit commits.
    Audit,
}

/// `shipgate keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate an Ed25519 signing key; print its public line and the policy `signers:` entry.
    #[command(
        after_help = "Example:\n  shipgate keys generate --kid audit-2026q4 --role audit --out audit.key"
    )]
    Generate {
        /// The key id (becomes the key comment and the principal in allowed-signers files).
        #[arg(long)]
        kid: String,
        /// What the key signs.
        #[arg(long, value_enum)]
        role: KeyRole,
        /// Write the private key here (mode 0600, never overwritten). Default: `<kid>.key`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}
