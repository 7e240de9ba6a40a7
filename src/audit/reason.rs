//! Stable reason codes of the audit chain, each with the sentence that explains it.
//!
//! The codes are part of shipgate's interface (scripts and PR comments match on them): they
//! never change spelling. Verification failures, append failures and state-rule refusals all
//! report one of these.

use std::fmt;

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
}

impl Reason {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ChainInvalid => "AUDIT_CHAIN_INVALID",
            Self::Rollback => "AUDIT_ROLLBACK",
            Self::Unavailable => "AUDIT_UNAVAILABLE",
            Self::EntryInvalid => "AUDIT_ENTRY_INVALID",
            Self::RunExists => "RUN_EXISTS",
            Self::RunMissing => "RUN_MISSING",
            Self::ReceiptExists => "RECEIPT_EXISTS",
            Self::ReceiptMissing => "RECEIPT_MISSING",
            Self::ReceiptConsumed => "RECEIPT_CONSUMED",
            Self::ReceiptNotEnforceable => "RECEIPT_NOT_ENFORCEABLE",
            Self::ReceiptWrongRun => "RECEIPT_WRONG_RUN",
            Self::ReceiptWrongOperation => "RECEIPT_WRONG_OPERATION",
            Self::ReceiptExpired => "RECEIPT_EXPIRED",
            Self::ReceiptNotConsumed => "RECEIPT_NOT_CONSUMED",
            Self::OperationExists => "OPERATION_EXISTS",
            Self::Halted => "HALTED",
            Self::NotHalted => "NOT_HALTED",
            Self::Locked => "LOCKED",
            Self::LockNotHeld => "LOCK_NOT_HELD",
            Self::LockNotExpired => "LOCK_NOT_EXPIRED",
            Self::ResumeNotAuthorized => "RESUME_NOT_AUTHORIZED",
            Self::KeyNotInForce => "AUDIT_KEY_NOT_IN_FORCE",
        }
    }

    /// Why this matters, in one sentence.
    pub fn why(self) -> &'static str {
        match self {
            Self::ChainInvalid => {
                "the audit chain does not verify, so its history cannot be trusted and nothing may act on it"
            }
            Self::Rollback => {
                "the governance branch no longer contains a head that was verified before: history was rewritten or rolled back"
            }
            Self::Unavailable => {
                "the governance branch could not be written in time, and no effect happens without its audit entry"
            }
            Self::EntryInvalid => "an audit entry is malformed, so it cannot be recorded",
            Self::RunExists => "a run id names one run only, for all time",
            Self::RunMissing => "the event names a run that was never opened",
            Self::ReceiptExists => "a receipt id names one receipt only, for all time",
            Self::ReceiptMissing => "no receipt was minted under that id",
            Self::ReceiptConsumed => "a receipt acts once: it was already consumed",
            Self::ReceiptNotEnforceable => {
                "the receipt is advisory (a finding stood when it was minted) and can never be executed"
            }
            Self::ReceiptWrongRun => "the receipt belongs to another run",
            Self::ReceiptWrongOperation => "the receipt authorizes another operation",
            Self::ReceiptExpired => "the receipt expired before it was consumed",
            Self::ReceiptNotConsumed => {
                "an operation's outcome was recorded without its receipt being consumed first"
            }
            Self::OperationExists => {
                "the operation key was already executed and is never executed twice"
            }
            Self::Halted => {
                "the repository is halted: nothing is minted or executed until it is resumed"
            }
            Self::NotHalted => "there is no halt to resume from",
            Self::Locked => "another run holds the execution lock",
            Self::LockNotHeld => "the lock is not held by that run",
            Self::LockNotExpired => "only an expired lock may be broken",
            Self::ResumeNotAuthorized => {
                "only a halt admin's own `/shipgate resume` comment, written after the halt, lifts it"
            }
            Self::KeyNotInForce => {
                "the audit key is not a signer the policy trusts now, so nothing it signs would verify"
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
