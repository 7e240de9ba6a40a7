//! shipgate's integration tests: one binary, a module per area.

mod action_workflows;
mod audit_apply;
mod audit_cli;
mod audit_interop;
mod audit_policy;
mod audit_support;
mod audit_tamper;
mod audit_view;
mod cli;
mod cli_polish;
mod dry_run_online;
mod event;
mod execute_flow;
mod fixture;
mod github_port;
mod github_support;
mod local_runner;
mod malformed;
mod mint_flow;
mod plan_id;
mod policy_eval;
mod receipt;
mod repo;
mod robustness;
mod workflow_files;
