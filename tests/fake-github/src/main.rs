//! `fake-github --addr 127.0.0.1:0 --data DIR [--seed FILE]`: runs the fake standalone,
//! prints its base URL on one line of stdout and serves until killed.
//!
//! Only argument handling lives here; the library does the rest (and refuses a
//! non-loopback address).
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fake_github::{FakeGitHub, Seed};

/// A stateful fake of GitHub's REST API, backed by bare git repositories.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Loopback address to serve on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Directory for the bare repositories the seed does not provide.
    #[arg(long)]
    data: PathBuf,
    /// Seed file (YAML or JSON); an empty world without one.
    #[arg(long)]
    seed: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = match &args.seed {
        Some(path) => match Seed::from_path(path) {
            Ok(seed) => seed,
            Err(e) => {
                eprintln!("fake-github: {e}");
                return ExitCode::from(2);
            }
        },
        None => Seed::default(),
    };
    let fake = match FakeGitHub::bind(args.addr, seed, &args.data) {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("fake-github: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "{}", fake.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(3);
    }
    loop {
        std::thread::park();
    }
}
