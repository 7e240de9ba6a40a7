//! The standalone binary: prints its base URL, serves, refuses non-loopback addresses.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fake_github::{FakeGitHub, Seed};

use crate::support::{REPO, fixture_repo, seed_yaml, send};

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_prints_its_base_url_and_serves_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("widget.git");
    fixture_repo(&repo);
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, seed_yaml(&repo)).unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fake-github"))
            .args(["--addr", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data"))
            .arg("--seed")
            .arg(&seed)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim_end();
    assert!(base.starts_with("http://127.0.0.1:"), "{line:?}");
    let resp = send(base, "GET", REPO, Some("Bearer t-alice"), None).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["full_name"], "acme/widget");
}

#[test]
fn a_non_loopback_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fake-github"))
        .args(["--addr", "0.0.0.0:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
    let refused = FakeGitHub::bind("0.0.0.0:0".parse().unwrap(), Seed::default(), dir.path());
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}
