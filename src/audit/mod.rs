//! The audit chain (DESIGN 8): signed, hash-chained commits on a governance branch.
//!
//! - [`entry`]: typed events, entries, hashes and the commit message format (pure).
//! - [`state`]: the governance state and [`state::apply`], the one rule book (pure).
//! - [`store`]: state trees and signed commits in git, written through an in-memory backend.
//! - [`append`]: compare-and-swap appends to a remote through git's receive-pack.
//! - [`verify`]: the full verification with its numbered checklist, and the checkpoint.
//! - [`trust`]: the last verified head, which every decision and append builds on.
//! - `batch`: Ed25519 signatures checked many at a time, one term per key (what verify uses).
//! - `replay`: the verifier's in-memory state trees (same ids as `store`, far fewer steps).
//! - [`view`]: the state at a commit, loaded record by record (what appends check against).
//! - [`reason`]: stable reason codes.

pub mod append;
mod batch;
pub mod entry;
pub mod reason;
mod replay;
pub mod state;
pub mod store;
pub mod trust;
pub mod verify;
pub mod view;

use crate::reason::Code;

/// Any failure of an audit command.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Appending failed or was refused.
    #[error(transparent)]
    Append(#[from] append::AppendError),
    /// Verification failed or could not run.
    #[error(transparent)]
    Verify(#[from] verify::VerifyError),
    /// Reading or writing chain objects failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The remote could not be fetched.
    #[error("{}: {}", Code::AuditUnavailable, .0)]
    Fetch(String),
}
