//! The imperative shell: one function per subcommand, the only place that wires the pure core
//! to the clock, the environment, the file system, git and GitHub.

use std::io::Write;

use crate::cli::{Cli, Command};
use crate::error::{Error, Outcome};

/// Runs one parsed command line, writing its report to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Error> {
    match cli.command {
        Command::DryRun(_) | Command::Plan(_) | Command::Policy(_) => {
            writeln!(out, "not yet")?;
            Ok(Outcome::Clean)
        }
    }
}
