//! The fake-github integration tests: one binary, one module per API area, all over real
//! HTTP on 127.0.0.1.
mod auth;
mod binary;
mod contract;
mod faults;
mod git;
mod issues;
mod merge;
mod octocrab_models;
mod orgs;
mod pulls;
mod releases;
mod shapes;
mod statuses;
mod strict;
mod support;
mod tokens;
