//! shipgate's integration tests: one binary, a module per area.

mod cli;
mod fixture;
mod malformed;
mod plan_id;
mod policy_eval;
mod receipt;
