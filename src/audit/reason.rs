//! Stable reason codes of the audit chain, each with the sentence that explains it.
//!
//! The codes are part of shipgate's interface (scripts and PR comments match on them): they
//! never change spelling. Verification failures, append failures and state-rule refusals all
//! report one of these.

use std::fmt;

use crate::reason::Code;

/// A stable, machine-readable reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The chain failed verification.
    ChainInvalid,
    /// The branch moved backwards from a verified checkpoint.
    Rollback,
    /// The governance branch could not be written.
    Unavailable,
    /// An entry breaks the entry format.
    EntryInvalid,
    /// A run id was opened twice.
    RunExists,
    /// An event names a run that was never opened.
    RunMissing,
    /// A receipt id was minted twice.
    ReceiptExists,
    /// No receipt was minted under that id.
    ReceiptMissing,
    /// The receipt was already consumed.
    ReceiptConsumed,
    /// The receipt is advisory.
    ReceiptNotEnforceable,
    /// The receipt belongs to another run.
    ReceiptWrongRun,
    /// The receipt authorizes another operation.
    ReceiptWrongOperation,
    /// The receipt expired before it was consumed.
    ReceiptExpired,
    /// An outcome was recorded for an operation whose receipt was not consumed.
    ReceiptNotConsumed,
    /// The operation key was already executed.
    OperationExists,
    /// The repository is halted.
    Halted,
    /// A resume without a halt.
    NotHalted,
    /// The execution lock is held.
    Locked,
    /// The lock is not held by the run that releases it.
    LockNotHeld,
    /// A lock was broken before it expired.
    LockNotExpired,
    /// A resume that no halt admin asked for by a `/shipgate resume` comment after the halt.
    ResumeNotAuthorized,
    /// The appender's audit key is not a trusted `audit` signer in force now.
    KeyNotInForce,
    /// A release published that its run did not ship, or published twice.
    ReleaseNotPublishable,
}

impl Reason {
    /// The stable code.
    pub fn code(self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(self) -> Code {
        match self {
            Self::ChainInvalid => Code::AuditChainInvalid,
            Self::Rollback => Code::AuditRollback,
            Self::Unavailable => Code::AuditUnavailable,
            Self::EntryInvalid => Code::AuditEntryInvalid,
            Self::RunExists => Code::RunExists,
            Self::RunMissing => Code::RunMissing,
            Self::ReceiptExists => Code::ReceiptExists,
            Self::ReceiptMissing => Code::ReceiptMissing,
            Self::ReceiptConsumed => Code::ReceiptConsumed,
            Self::ReceiptNotEnforceable => Code::ReceiptNotEnforceable,
            Self::ReceiptWrongRun => Code::ReceiptWrongRun,
            Self::ReceiptWrongOperation => Code::ReceiptWrongOperation,
            Self::ReceiptExpired => Code::ReceiptExpired,
            Self::ReceiptNotConsumed => Code::ReceiptNotConsumed,
            Self::OperationExists => Code::OperationExists,
            Self::ReleaseNotPublishable => Code::ReleaseNotPublishable,
            Self::Halted => Code::Halted,
            Self::NotHalted => Code::NotHalted,
            Self::Locked => Code::Locked,
            Self::LockNotHeld => Code::LockNotHeld,
            Self::LockNotExpired => Code::LockNotExpired,
            Self::ResumeNotAuthorized => Code::ResumeNotAuthorized,
            Self::KeyNotInForce => Code::AuditKeyNotInForce,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
