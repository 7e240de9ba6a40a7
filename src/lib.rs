//! shipgate governs how software gets shipped on GitHub.
//!
//! A plan says what to ship, a policy says who must approve it, approvals mint signed,
//! single-use receipts, and the gate lets an operation act only with a valid receipt; every
//! decision is recorded on a signed, hash-chained audit branch. See DESIGN.md.
//!
//! Layout: `cli` parses arguments, `app` is the imperative shell (one function per command),
//! and everything else is the core: `canonical` (RFC 8785 JSON and digests), `model` (checked
//! identifiers), `diag` (input diagnostics), `repo` (read-only git), `policy`; `execute` is
//! the execution protocol, generic over its ports (GitHub, the audit chain, the clock).
pub mod app;
pub mod approval;
pub mod audit;
pub mod canonical;
pub mod cli;
pub mod diag;
pub mod error;
pub mod event;
pub mod execute;
pub mod gate;
pub mod github;
pub mod invisible;
pub mod keys;
pub mod lifecycle;
pub mod mint;
pub mod model;
pub mod plan;
pub mod policy;
pub mod preview;
pub mod proof;
pub mod publish;
pub mod reason;
pub mod receipt;
pub mod refname;
pub mod repo;
pub mod report;
pub mod scaffold;
pub mod yaml;
