//! The `shipgate` binary: parse arguments, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the C library's allocator: `audit verify` parses every entry of the
/// chain on several threads, and glibc's malloc and free took a tenth of its CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match shipgate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(shipgate::error::Outcome::BadInput)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let stdout = std::io::stdout();
    match shipgate::app::run(cli, &mut stdout.lock()) {
        Ok(outcome) => outcome.into(),
        // A reader that stopped reading (`shipgate man | head`) is not a failure.
        Err(shipgate::error::Error::Output(err))
            if err.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            // In a workflow, input errors also become annotations on the file and line at fault
            // (on stderr, which the runner reads too, so JSON on stdout stays clean).
            if let shipgate::error::Error::Input(diagnostics) = &err
                && std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
            {
                eprint!("{}", diagnostics.workflow_annotations());
            }
            err.outcome().into()
        }
    }
}
