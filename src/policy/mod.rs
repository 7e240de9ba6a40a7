//! Policies (DESIGN 3): who must approve what, what is denied or frozen, and whose keys are
//! trusted.
pub mod signer;
