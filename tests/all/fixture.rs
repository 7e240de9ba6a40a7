//! Real temporary git repositories with deterministic commits (fixed author, fixed clock), so
//! commit shas and therefore plan ids are the same on every machine.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::{Oid, Repository, Signature, Time};

/// The repository every resolution test starts from.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    clock: Cell<i64>,
}

impl TestRepo {
    /// An empty repository whose HEAD is `main`.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        Self {
            dir,
            repo,
            clock: Cell::new(1_767_225_600),
        }
    }

    /// The standard fixture: `main` with a README and CHANGELOG, tag `v1.0.0` on it, and a
    /// `feature` branch one commit ahead; the work tree holds main's files.
    pub fn standard() -> Self {
        let repo = Self::empty();
        let first = repo.commit(
            "main",
            &[
                ("README.md", "# widget\n"),
                ("CHANGELOG.md", "## 1.0.0\n- first\n"),
            ],
            "initial",
        );
        repo.tag("v1.0.0", first);
        repo.commit("feature", &[("feature.txt", "new\n")], "feature work");
        repo.write("README.md", "# widget\n");
        repo.write("CHANGELOG.md", "## 1.0.0\n- first\n");
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a work-tree file (not committed).
    pub fn write(&self, path: &str, content: &str) -> PathBuf {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&full, content).expect("write");
        full
    }

    /// Commits `files` on top of `branch` (created from `main`, or as a root commit when the
    /// repository is empty), touching only objects and the branch ref.
    pub fn commit(&self, branch: &str, files: &[(&str, &str)], message: &str) -> Oid {
        let fixture = ("Fixture", "fixture@example.com");
        self.commit_as(branch, files, message, fixture, fixture)
    }

    /// [`TestRepo::commit`] with the author and committer given as (name, email).
    pub fn commit_as(
        &self,
        branch: &str,
        files: &[(&str, &str)],
        message: &str,
        author: (&str, &str),
        committer: (&str, &str),
    ) -> Oid {
        let refname = format!("refs/heads/{branch}");
        let parent = self
            .repo
            .find_reference(&refname)
            .or_else(|_| self.repo.find_reference("refs/heads/main"))
            .ok()
            .and_then(|r| r.peel_to_commit().ok());
        let mut tree = parent.as_ref().map(|c| c.tree().expect("tree").id());
        for (path, content) in files {
            let blob = self.repo.blob(content.as_bytes()).expect("blob");
            tree = Some(self.insert(tree, &path.split('/').collect::<Vec<_>>(), blob));
        }
        let tree = self
            .repo
            .find_tree(tree.expect("at least one file"))
            .expect("tree");
        let when = self.clock.get();
        self.clock.set(when + 60);
        let time = Time::new(when, 0);
        let author = Signature::new(author.0, author.1, &time).expect("signature");
        let committer = Signature::new(committer.0, committer.1, &time).expect("signature");
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let oid = self
            .repo
            .commit(None, &author, &committer, message, &tree, &parents)
            .expect("commit");
        self.repo
            .reference(&refname, oid, true, "fixture")
            .expect("ref");
        oid
    }

    fn insert(&self, base: Option<Oid>, path: &[&str], blob: Oid) -> Oid {
        let base_tree = base.map(|id| self.repo.find_tree(id).expect("tree"));
        let mut builder = self
            .repo
            .treebuilder(base_tree.as_ref())
            .expect("treebuilder");
        if let [name] = path {
            builder.insert(name, blob, 0o100644).expect("insert blob");
        } else {
            let existing = base_tree
                .as_ref()
                .and_then(|t| t.get_name(path[0]).map(|e| e.id()));
            let sub = self.insert(existing, &path[1..], blob);
            builder.insert(path[0], sub, 0o040000).expect("insert tree");
        }
        builder.write().expect("write tree")
    }

    /// A lightweight tag.
    pub fn tag(&self, name: &str, target: Oid) {
        self.repo
            .reference(&format!("refs/tags/{name}"), target, true, "fixture")
            .expect("tag");
    }

    /// The commit a branch points at.
    pub fn branch_sha(&self, branch: &str) -> String {
        self.repo
            .find_reference(&format!("refs/heads/{branch}"))
            .expect("branch")
            .peel_to_commit()
            .expect("commit")
            .id()
            .to_string()
    }

    /// Runs the shipgate binary in this repository with a clean environment.
    pub fn shipgate(&self, args: &[&str]) -> Output {
        shipgate_in(self.path(), args)
    }
}

/// Runs the shipgate binary in `dir`, with no GitHub variables or keys and git's global config
/// off.
pub fn shipgate_in(dir: &Path, args: &[&str]) -> Output {
    shipgate_in_env(dir, args, &[])
}

/// Who acts in the tests' shipgate processes (`GITHUB_ACTOR`, as in Actions): every audit
/// entry names its actor, and a machine without a git identity must not fail the suite.
pub const TEST_ACTOR: &str = "shipgate-tests";

/// [`shipgate_in`], then the variables of `env`.
pub fn shipgate_in_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SHIPGATE_MINT_KEY")
        .env_remove("SHIPGATE_AUDIT_KEY")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTOR", TEST_ACTOR)
        .envs(env.iter().copied())
        .output()
        .expect("run shipgate")
}

/// Asserts a process exited with `code`, showing what it printed when it did not.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// Runs stock git in `dir` with the host's configuration switched off.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A public key that parses (its private half is not kept anywhere).
pub const SIGNER_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOgnkcx95G1v293WqLxR7c492iCF9kGL1xQUA8YHgfIZ";
