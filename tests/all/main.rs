//! shipgate's integration tests: one binary, a module per area.

mod cli;
mod event;
mod fixture;
mod malformed;
mod plan_id;
mod policy_eval;
mod receipt;
mod repo;
mod robustness;
