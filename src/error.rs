//! The top-level error and the one mapping from outcomes to exit codes (DESIGN 9).
//!
//! Each domain module has its own error enum; this one only joins them, so `main.rs` can turn
//! any failure into the right exit code and message without knowing the domains. Every error
//! and every reason code falls into a [`Class`] (the registry in `reason` says which for each
//! code); [`Outcome`] is the class as a process exit code. Nothing else maps exit codes: the
//! domain modules (`audit`, `repo`, ...) know nothing of this one, so there is no cycle.

use std::process::ExitCode;

use crate::audit::AuditError;
use crate::audit::append::AppendError;
use crate::audit::store::StoreError;
use crate::audit::verify::VerifyError;
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
    /// The outcome (exit code) this error stands for.
    pub fn outcome(&self) -> Outcome {
        self.class().into()
    }

    /// The class of this failure: the registry's class where the error carries a reason code.
    pub fn class(&self) -> Class {
        match self {
            Self::Input(_) | Self::Usage(_) => Class::BadInput,
            Self::Repo(err) => repo_class(err),
            Self::Output(_) => Class::Infrastructure,
            Self::Forged(_) => Code::ReceiptForged.class(),
            Self::Audit(err) => audit_class(err),
            Self::Keys(crate::keys::KeysError::Generate(_)) => Class::Infrastructure,
            Self::Keys(_) => Class::BadInput,
            Self::GitHub(err) => err.reason_code().class(),
            Self::Proof(crate::proof::ProofError::Malformed(_)) => Class::BadInput,
            Self::Proof(_) => Code::ProofInvalid.class(),
        }
    }
}

/// Missing repositories and branches are usage problems; the rest is infrastructure.
fn repo_class(err: &RepoError) -> Class {
    match err {
        RepoError::NotFound { .. }
        | RepoError::Bare { .. }
        | RepoError::NoDefaultBranch(_)
        | RepoError::Symlink(_) => Class::BadInput,
        RepoError::Git { .. } | RepoError::Worktree { .. } => Class::Infrastructure,
    }
}

/// A chain that does not verify is an integrity failure (4), a refusal by the state rules is
/// blocked (1), a `--since` off the chain is usage (2), everything else is infrastructure (3).
fn audit_class(err: &AuditError) -> Class {
    match err {
        AuditError::Verify(VerifyError::Invalid(failure)) => failure.reason().reason_code().class(),
        AuditError::Verify(VerifyError::SinceNotOnChain(_)) => Class::BadInput,
        AuditError::Append(AppendError::Refused(_)) => Class::Blocked,
        AuditError::Append(AppendError::Untrusted(untrusted))
            if matches!(untrusted.as_ref(), VerifyError::Invalid(_)) =>
        {
            Class::Integrity
        }
        AuditError::Store(StoreError::Entry { .. } | StoreError::State { .. }) => Class::Integrity,
        AuditError::Append(_) | AuditError::Verify(_) | AuditError::Store(_) => {
            Class::Infrastructure
        }
        AuditError::Fetch(_) => Code::AuditUnavailable.class(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_is_the_exit_code_design_9_names() {
        let exit = |class| Outcome::from(class).code();
        for quiet in [Class::Ok, Class::Skipped, Class::Note, Class::Warning] {
            assert_eq!(exit(quiet), 0, "{quiet:?}");
        }
        assert_eq!(exit(Class::Blocked), 1);
        assert_eq!(exit(Class::BadInput), 2);
        assert_eq!(exit(Class::Infrastructure), 3);
        assert_eq!(exit(Class::Integrity), 4);
    }

    #[test]
    fn an_error_carrying_a_code_exits_as_its_class() {
        let config = Error::GitHub(crate::github::GitHubError::Config("no token".into()));
        assert_eq!(config.outcome(), Outcome::BadInput);
        let fetch = Error::Audit(AuditError::Fetch("offline".into()));
        assert_eq!(fetch.outcome(), Outcome::Infrastructure);
        assert!(
            fetch
                .to_string()
                .starts_with(&format!("{}: ", Code::AuditUnavailable))
        );
    }
}
