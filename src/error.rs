//! The top-level error and the one mapping from outcomes to exit codes (DESIGN 9).
//!
//! Each domain module has its own error enum; this one only joins them, so `main.rs` can turn
//! any failure into the right exit code and message without knowing the domains.

use std::process::ExitCode;

use crate::diag::Diagnostics;
use crate::reason::{Class, Code};
use crate::repo::RepoError;

/// What a command's outcome means, as a process exit code (DESIGN 9). Ordered by severity,
/// so the outcome of several steps is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// 0: done, or a dry-run with nothing blocked.
    Clean,
    /// 1: governance blocked something.
    Blocked,
    /// 2: bad input or usage.
    BadInput,
    /// 3: infrastructure (GitHub, git, network, file system).
    Infrastructure,
    /// 4: integrity failure (tampered chain, forged receipt).
    Integrity,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Blocked => 1,
            Self::BadInput => 2,
            Self::Infrastructure => 3,
            Self::Integrity => 4,
        }
    }
}

impl From<Class> for Outcome {
    fn from(class: Class) -> Self {
        match class {
            Class::Ok | Class::Skipped | Class::Note | Class::Warning => Self::Clean,
            Class::Blocked => Self::Blocked,
            Class::BadInput => Self::BadInput,
            Class::Infrastructure => Self::Infrastructure,
            Class::Integrity => Self::Integrity,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(outcome.code())
    }
}

/// Any failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in input files, each with file, line and column.
    #[error("{0}")]
    Input(#[from] Diagnostics),
    /// The local git repository could not be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// A command-line value that parses but makes no sense.
    #[error("{0}")]
    Usage(String),
    /// A receipt is not what a trusted mint key signed (`RECEIPT_FORGED`).
    #[error("{}: {}", Code::ReceiptForged, .0)]
    Forged(#[from] crate::receipt::ForgeryError),
    /// Writing the report failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// The audit chain failed (tampered, unreachable, or refused).
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// A key could not be generated or loaded.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeysError),
    /// GitHub could not be reached, refused, or answered unreadably.
    #[error(transparent)]
    GitHub(#[from] crate::github::GitHubError),
    /// A proof bundle does not prove what it claims.
    #[error("{}: {}", Code::ProofInvalid, .0)]
    Proof(#[from] crate::proof::ProofError),
}

impl Error {
    /// The outcome this error stands for.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Input(_) | Self::Usage(_) => Outcome::BadInput,
            Self::Repo(err) => err.outcome(),
            Self::Output(_) => Outcome::Infrastructure,
            Self::Forged(_) => Outcome::Integrity,
            Self::Audit(err) => err.outcome(),
            Self::Keys(crate::keys::KeysError::Generate(_)) => Outcome::Infrastructure,
            Self::Keys(_) => Outcome::BadInput,
            Self::GitHub(crate::github::GitHubError::Config(_)) => Outcome::BadInput,
            Self::GitHub(_) => Outcome::Infrastructure,
            Self::Proof(crate::proof::ProofError::Malformed(_)) => Outcome::BadInput,
            Self::Proof(_) => Outcome::Integrity,
        }
    }
}
