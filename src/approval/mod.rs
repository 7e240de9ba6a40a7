//! Approvals (DESIGN 4): the comment language, and which approvals count.

pub mod command;
pub mod evaluate;
pub mod pending;
pub mod stale;
mod visible;
