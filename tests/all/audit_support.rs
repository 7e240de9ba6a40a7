//! Shared fixtures of the audit tests: keys, real temporary repositories (a bare remote reached
//! through git's receive-pack, and work repositories), a deterministic clock, and stock git
//! run with the host's configuration switched off.

use std::cell::Cell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use git2::{Oid, Repository};
use shipgate::audit::append::{AppendTarget, Appended, GitCli, append};
use shipgate::audit::entry::{Actor, Event, SealedEntry};
use shipgate::audit::state::{ApplyError, RUNS_FAN_OUT, State};
use shipgate::audit::store::{ChainWriter, Tip, read_entry};
use shipgate::audit::trust::ChainTrust;
use shipgate::audit::verify::{Verified, VerifyError, VerifyOptions, verify_chain};
use shipgate::audit::view::StateView;
use shipgate::keys::{SigningKey, generate, parse_private_key};
use shipgate::model::Kid;
use shipgate::policy::signer::parse_signer_key;
use shipgate::policy::{Signer, SignerRole};
use time::OffsetDateTime;

/// The environment every spawned git gets: no host or user configuration.
pub fn git_env() -> Vec<(OsString, OsString)> {
    vec![
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
    ]
}

/// Runs stock git in `dir`.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .envs(git_env())
        .args(args)
        .output()
        .expect("git runs")
}

/// A fresh audit key and the signer that trusts it.
pub fn audit_key(kid: &str) -> (SigningKey, Signer) {
    let generated = generate(kid, SignerRole::Audit).expect("key generation");
    let key = parse_private_key(&generated.private_openssh, "test").expect("key parses");
    let public = generated
        .public_line
        .rsplit_once(' ')
        .map(|(key, _)| key)
        .expect("a comment");
    let signer = Signer {
        kid: generated.kid.clone(),
        role: SignerRole::Audit,
        key: parse_signer_key(public).expect("public key"),
        not_before: None,
        not_after: None,
    };
    (key, signer)
}

/// The first instant of the test clock.
pub const EPOCH: i64 = 1_795_000_000;

/// A clock that advances one minute per reading, from [`EPOCH`].
pub struct TestClock(Cell<i64>);

impl TestClock {
    pub fn new() -> Self {
        Self(Cell::new(EPOCH))
    }

    pub fn now(&self) -> OffsetDateTime {
        let t = self.0.get();
        self.0.set(t + 60);
        OffsetDateTime::from_unix_timestamp(t).expect("valid time")
    }
}

pub fn actor() -> Actor {
    Actor {
        login: "tester".into(),
        workflow_run: None,
        sha: None,
    }
}

/// The genesis a chain starts with today: runs fan out from the start.
pub fn genesis(kid: &str) -> Event {
    Event::Genesis {
        repository: "acme/widget".into(),
        policy_hash: None,
        signer_kids: vec![Kid::parse(kid).expect("a key id")],
        state_layout: Some(RUNS_FAN_OUT),
    }
}

/// The genesis of chains started before runs fanned out (their runs lie flat).
pub fn flat_genesis(kid: &str) -> Event {
    Event::Genesis {
        repository: "acme/widget".into(),
        policy_hash: None,
        signer_kids: vec![Kid::parse(kid).expect("a key id")],
        state_layout: None,
    }
}

pub fn note(message: &str) -> Event {
    Event::Note {
        message: message.to_owned(),
    }
}

/// A chain built locally (no remote), for tamper tests.
pub struct LocalChain {
    pub _dir: tempfile::TempDir,
    pub repo: Repository,
    pub key: SigningKey,
    pub signer: Signer,
    pub commits: Vec<Oid>,
}

impl LocalChain {
    /// Genesis followed by `events`, signed by a fresh trusted key, times one minute apart.
    pub fn build(events: Vec<Event>) -> Self {
        Self::build_from(genesis("audit-1"), events)
    }

    /// [`LocalChain::build`] of a chain started before runs fanned out: its runs lie flat,
    /// written by the same rules (nothing migrates them: this writes entries directly).
    pub fn build_flat(events: Vec<Event>) -> Self {
        Self::build_from(flat_genesis("audit-1"), events)
    }

    fn build_from(first: Event, events: Vec<Event>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init_bare(dir.path().join("chain.git")).expect("init");
        let (key, signer) = audit_key("audit-1");
        let clock = TestClock::new();
        let mut commits = Vec::new();
        {
            let writer_repo = Repository::open(repo.path()).expect("open");
            let odb = writer_repo.odb().expect("odb");
            let mut writer = ChainWriter::new(&writer_repo, &odb, &key).expect("writer");
            let mut state = State::default();
            let mut tip: Option<Tip> = None;
            for event in std::iter::once(first).chain(events) {
                let next = writer
                    .append(tip.as_ref(), &mut state, &actor(), clock.now(), event)
                    .expect("append");
                commits.push(next.commit);
                tip = Some(next);
            }
            writer.flush().expect("flush");
        }
        Self {
            _dir: dir,
            repo,
            key,
            signer,
            commits,
        }
    }

    pub fn entry(&self, index: usize) -> SealedEntry {
        read_entry(&self.repo, self.commits[index]).expect("entry")
    }

    pub fn tree(&self, index: usize) -> Oid {
        self.repo
            .find_commit(self.commits[index])
            .expect("commit")
            .tree_id()
    }

    pub fn verify(&self, head: Oid, signers: &[Signer]) -> Result<Verified, VerifyError> {
        verify_chain(
            &self.repo,
            head,
            &VerifyOptions {
                threads: 2,
                ..VerifyOptions::whole_chain(signers)
            },
        )
    }
}

/// A bare remote plus work repositories cloned from nothing, reached through the git CLI.
pub struct RemoteFixture {
    pub dir: tempfile::TempDir,
}

impl RemoteFixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = git(dir.path(), &["init", "--quiet", "--bare", "remote.git"]);
        assert!(out.status.success());
        Self { dir }
    }

    pub fn remote(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    /// A new work repository whose `origin` is the bare remote.
    pub fn work(&self, name: &str) -> Repository {
        let path = self.dir.path().join(name);
        let repo = Repository::init(&path).expect("init work");
        repo.remote("origin", self.remote().to_str().expect("utf-8 path"))
            .expect("add origin");
        repo
    }

    pub fn remote_repo(&self) -> Repository {
        Repository::open_bare(self.remote()).expect("open remote")
    }

    pub fn head(&self) -> Oid {
        self.remote_repo()
            .refname_to_id("refs/heads/shipgate/audit")
            .expect("branch exists")
    }
}

/// Where `key` appends: the test remote's governance branch, trusting `signers` (the key
/// alone when empty) for what it builds on.
pub fn target(key: &SigningKey, signers: &[Signer]) -> AppendTarget {
    let signers = if signers.is_empty() {
        vec![key.as_signer(SignerRole::Audit)]
    } else {
        signers.to_vec()
    };
    AppendTarget {
        remote: "origin".into(),
        branch: "shipgate/audit".into(),
        genesis: genesis(key.kid.as_str()),
        actor: actor(),
        give_up_after: Duration::from_secs(20),
        trust: ChainTrust::new(signers, None),
    }
}

/// Appends one event through the compare-and-swap path.
pub fn append_event(
    repo: &Repository,
    key: &SigningKey,
    clock: &TestClock,
    mut propose: impl FnMut(&StateView<'_>) -> Result<Event, ApplyError>,
) -> Result<Appended, shipgate::audit::append::AppendError> {
    let cli = GitCli::new(repo, git_env());
    append(
        repo,
        &cli,
        key,
        &target(key, &[]),
        &|| clock.now(),
        &mut propose,
    )
}

/// The first-parent line of `head`, oldest first.
pub fn first_parent_line(repo: &Repository, head: Oid) -> Vec<Oid> {
    let mut line = Vec::new();
    let mut cursor = Some(head);
    while let Some(oid) = cursor {
        line.push(oid);
        cursor = repo.find_commit(oid).expect("commit").parent_id(0).ok();
    }
    line.reverse();
    line
}
