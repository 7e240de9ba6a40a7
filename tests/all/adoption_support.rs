//! A repository adopted the way the README tells a maintainer to: `shipgate init`, two keys
//! generated with `shipgate keys generate`, their signer entries pasted into the policy, and
//! everything committed with stock git. Optionally served by the fake GitHub, with the
//! governance branch started by `shipgate audit note`.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::fixture::{TestRepo, assert_exit, git, shipgate_in, shipgate_in_env, stdout};
use crate::github_support::{GitHubWorld, SLUG};

/// An adopted repository and its two private key files.
pub struct Adopted {
    pub repo: TestRepo,
    pub keys: tempfile::TempDir,
}

impl Adopted {
    /// `main` with a README, then init (three release managers), keys, signers, committed.
    pub fn new() -> Self {
        Self::with_init(&[
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--approver",
            "carol",
        ])
    }

    /// `main` with a README, then `shipgate init` with `args`, keys, signers, committed.
    pub fn with_init(args: &[&str]) -> Self {
        let adopted = Self::initialised(args);
        let mint = adopted.generate("mint-test", "mint");
        let audit = adopted.generate("audit-test", "audit");
        adopted.append_to_policy(&format!("signers:\n{mint}{audit}"));
        adopted.commit_all("Adopt shipgate");
        adopted
    }

    /// `main` with a README, then `shipgate init` with `args`; nothing committed after init.
    pub fn initialised(args: &[&str]) -> Self {
        let repo = TestRepo::empty();
        repo.write("README.md", "# widget\n");
        let adopted = Self {
            repo,
            keys: tempfile::tempdir().expect("temp dir"),
        };
        adopted.commit_all("initial");
        let mut init = vec!["init"];
        init.extend_from_slice(args);
        let out = adopted.shipgate(&init);
        assert_exit(&out, 0);
        adopted
    }

    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// A key file of the keys directory.
    pub fn key(&self, name: &str) -> PathBuf {
        self.keys.path().join(name)
    }

    /// Generates `<kid>.key` in the keys directory; returns its signer entry (without the
    /// `signers:` line), ready to paste under `signers:`.
    pub fn generate(&self, kid: &str, role: &str) -> String {
        let file = self.key(&format!("{role}.key"));
        let out = self.shipgate(&[
            "keys",
            "generate",
            "--kid",
            kid,
            "--role",
            role,
            "--out",
            file.to_str().expect("utf-8 path"),
        ]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        text.split_once("signers:\n")
            .map(|(_, entry)| entry.to_owned())
            .expect("a signers entry")
    }

    /// Appends text to the policy file in the work tree.
    pub fn append_to_policy(&self, text: &str) {
        let path = self.path().join(".shipgate/policies/policy.yaml");
        let mut policy = std::fs::read_to_string(&path).expect("policy");
        policy.push_str(text);
        std::fs::write(path, policy).expect("write policy");
    }

    /// Stages everything and commits it on the current branch with stock git.
    pub fn commit_all(&self, message: &str) {
        git(self.path(), &["add", "-A"]);
        git(
            self.path(),
            &[
                "-c",
                "user.name=Fixture",
                "-c",
                "user.email=fixture@example.com",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "--quiet",
                "-m",
                message,
            ],
        );
    }

    /// Runs shipgate here with the clean test environment.
    pub fn shipgate(&self, args: &[&str]) -> Output {
        shipgate_in(self.path(), args)
    }

    /// Runs shipgate here with extra environment variables.
    pub fn shipgate_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        shipgate_in_env(self.path(), args, env)
    }

    /// Serves the repository from the fake GitHub (a bare clone, which becomes `origin`).
    pub fn serve(&self) -> GitHubWorld {
        GitHubWorld::new_as_origin(&self.repo)
    }

    /// Starts the governance branch on `origin` with a signed note.
    pub fn start_chain(&self) {
        let audit = self.key("audit.key");
        let out = self.shipgate(&[
            "audit",
            "note",
            "shipgate adopted",
            "--repo-slug",
            SLUG,
            "--audit-key",
            audit.to_str().expect("utf-8"),
        ]);
        assert_exit(&out, 0);
    }

    /// `shipgate doctor --format json` with both keys, and `env`; the exit code and findings.
    pub fn doctor(&self, env: &[(&str, &str)]) -> (Option<i32>, Vec<(String, String)>) {
        let mint = self.key("mint.key");
        let audit = self.key("audit.key");
        let out = self.shipgate_env(
            &[
                "doctor",
                "--format",
                "json",
                "--mint-key",
                mint.to_str().expect("utf-8"),
                "--audit-key",
                audit.to_str().expect("utf-8"),
            ],
            env,
        );
        findings(&out)
    }
}

impl Adopted {
    /// [`Adopted::doctor`] against the fake GitHub of `world`, with `token`.
    pub fn doctor_online(
        &self,
        world: &GitHubWorld,
        token: &str,
    ) -> (Option<i32>, Vec<(String, String)>) {
        self.doctor(&online(&world.fake.base_url(), token))
    }
}

/// The exit code and the `(code, severity)` of every finding of a JSON doctor report.
pub fn findings(out: &Output) -> (Option<i32>, Vec<(String, String)>) {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}):\n{}\n{}",
            stdout(out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["severity"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (out.status.code(), findings)
}

/// The environment that points shipgate at a fake GitHub (`url`) with `token`.
pub fn online<'a>(url: &'a str, token: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("GITHUB_TOKEN", token),
        ("GITHUB_API_URL", url),
        ("GITHUB_REPOSITORY", SLUG),
    ]
}

/// A scratch repository whose default branch is main, after `shipgate init` with two
/// approvers and `extra` arguments.
pub fn init_scaffold(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch repository");
    git(dir.path(), &["init", "--quiet", "--initial-branch=main"]);
    let args = [
        &["init", "--approver", "alice", "--approver", "bob"][..],
        extra,
    ]
    .concat();
    assert_exit(&shipgate_in(dir.path(), &args), 0);
    dir
}
