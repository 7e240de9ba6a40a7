//! A stateful fake of GitHub's REST API for shipgate's tests (DESIGN 11), usable by any
//! project's tests that talk to GitHub over HTTP: nothing in it knows shipgate.
//!
//! Build the world with [`Seed::new`] and its builders ([`SeedRepo::new`], [`SeedPull::new`],
//! [`SeedProtection::new`], ...), or read it from YAML or JSON with the `yaml` feature
//! ([`Seed::from_yaml_str`]); start it with [`FakeGitHub::start`]. The seed's structs are
//! `#[non_exhaustive]`, so fields can be added without breaking callers. Features: `yaml`
//! (serde_yaml) and `cli` (clap, the standalone `fake-github` binary), both on by default;
//! a library user can take `default-features = false` and only what it needs.
//!
//! It answers as GitHub does for each kind of token: a user token (its role decides, `GET
//! /user` answers, repositories show `permissions`), an installation token such as a
//! workflow's `GITHUB_TOKEN` (its permissions decide: no teams without `members: read`, no
//! pull requests from `github-actions[bot]` unless the repository's Actions setting allows
//! them), and a fork's read-only token.
//!
//! shipgate reaches it over real HTTP through octocrab, with `GITHUB_API_URL` set to
//! [`FakeGitHub::base_url`]. Git data lives in real bare repositories (the same ones the
//! tests push to and fetch from); pull requests, releases, comments and reactions live in
//! memory. Faults can be injected per request and every request is logged.
//!
//! Strict mode, always on: a request to a route the fake does not implement answers 501
//! (GitHub's error shape, naming the method and path) instead of GitHub's 404, which a client
//! would read as "absent". Such requests, and injected faults that never fired (unless
//! injected with [`FakeGitHub::inject_optional`]), are *problems*: dropping a `FakeGitHub`
//! with problems left panics (unless the thread is already panicking), so a test cannot pass
//! vacuously. [`FakeGitHub::take_problems`] reads and forgets them.
//!
//! The same control is offered over HTTP for the standalone binary (no token, not logged):
//! `POST /_fake/faults` with a fault as JSON, e.g. `{"method": "POST", "path":
//! "/repos/*/*/releases", "kind": {"status": 502}, "times": 1}` (kinds: `{"status": N}`,
//! `{"rate_limited": {"status": 429, "retry_after_secs": S}}`, `{"latency_ms": MS}`,
//! `"drop_after_effect"`, `{"status_after_effect": N}`; `times` defaults to 1;
//! `"optional": true` for a fault that may not fire), `DELETE /_fake/faults`,
//! `GET /_fake/requests` (the log as JSON) and `GET /_fake/problems` (the problems as JSON).
//!
//! Layout: `seed` (the starting world), `state` (memory and GitHub's rules about people),
//! `gitstore` (git2 on the bare repositories), `routes` (one module per API area), `shapes`
//! (GitHub's JSON objects), `error` (GitHub's error bodies), `faults`, `server` (hyper, the
//! log, the admin surface, common headers), `views` (snapshots for assertions), `clock`.
mod app;
mod clock;
mod error;
mod faults;
mod gitstore;
mod routes;
mod seed;
mod server;
mod shapes;
mod state;
mod views;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::app::{App, Shared};
use crate::state::{RepoId, State};

pub use app::LoggedRequest;
pub use faults::{Fault, FaultKind};
#[cfg(feature = "yaml")]
pub use seed::SeedError;
pub use seed::{
    PermissionLevel, Role, Seed, SeedComment, SeedProtection, SeedPull, SeedPullState, SeedRepo,
    SeedTagRuleset, SeedTeam, SeedToken, SeedUser, SeedWorkflowPermissions, TokenKind, UserKind,
};
pub use views::{CommentView, PullView, ReactionView, ReleaseView};

/// A running fake; dropping it stops the server (and removes its temporary data directory).
pub struct FakeGitHub {
    app: App,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Dropped last: the server must be stopped before its repositories go.
    _data: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGitHub")
            .field("base_url", &self.app.base)
            .finish_non_exhaustive()
    }
}

fn unknown_repo(repo: &str) -> String {
    format!("fake-github: the seed has no repository {repo:?}")
}

/// The id of `repo` (`owner/name`), which a test seeded; panics otherwise.
fn seeded_repo(state: &State, repo: &str) -> RepoId {
    state
        .repo_by_full_name(repo)
        .unwrap_or_else(|| panic!("{}", unknown_repo(repo)))
}

impl FakeGitHub {
    /// Starts the server on 127.0.0.1 with an ephemeral port, in a background thread with its
    /// own tokio runtime, so sync tests and tests that spawn the shipgate binary can both use
    /// it. Repositories without a `git_dir` are created in a temporary directory it owns.
    pub fn start(seed: Seed) -> io::Result<FakeGitHub> {
        let data = tempfile::tempdir()?;
        let path = data.path().to_owned();
        let mut fake = FakeGitHub::launch(ephemeral(), seed, &path)?;
        fake._data = Some(data);
        Ok(fake)
    }

    /// Like [`FakeGitHub::start`], with new bare repositories created under `data_dir`
    /// (which is kept).
    pub fn start_with_data(seed: Seed, data_dir: impl AsRef<Path>) -> io::Result<FakeGitHub> {
        FakeGitHub::launch(ephemeral(), seed, data_dir.as_ref())
    }

    /// Serves on a given loopback address (the binary's `--addr`); any other address is
    /// refused with `InvalidInput`, because the fake accepts any seeded token.
    pub fn bind(
        addr: SocketAddr,
        seed: Seed,
        data_dir: impl AsRef<Path>,
    ) -> io::Result<FakeGitHub> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("fake-github serves on loopback addresses only, not {addr}"),
            ));
        }
        FakeGitHub::launch(addr, seed, data_dir.as_ref())
    }

    fn launch(addr: SocketAddr, seed: Seed, data_dir: &Path) -> io::Result<FakeGitHub> {
        std::fs::create_dir_all(data_dir)?;
        let state = State::load(&seed, data_dir)?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Shared::new(state, base);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let (shutdown, stopped) = oneshot::channel();
        let server_app = app.clone();
        let thread = std::thread::Builder::new()
            .name("fake-github".into())
            .spawn(move || runtime.block_on(server::serve(listener, server_app, stopped)))?;
        Ok(FakeGitHub {
            app,
            shutdown: Some(shutdown),
            thread: Some(thread),
            _data: None,
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.app.base.clone()
    }

    /// Queues a fault rule (after the ones already queued) that must fire all its `times`
    /// before the fake is dropped.
    pub fn inject(&self, fault: Fault) {
        self.app.faults().push(fault, false);
    }

    /// Queues a fault rule that may legitimately fire fewer than its `times` (or never), e.g.
    /// when the test does not decide how far a run gets.
    pub fn inject_optional(&self, fault: Fault) {
        self.app.faults().push(fault, true);
    }

    /// What makes a test vacuous, as sentences: each request that hit a route the fake does
    /// not implement, and each fault injected with [`FakeGitHub::inject`] that still has
    /// times to fire. Returns them and forgets them (the unspent faults are removed).
    pub fn take_problems(&self) -> Vec<String> {
        self.app.problems(true)
    }

    /// Panics listing the problems (see [`FakeGitHub::take_problems`]) if there are any.
    pub fn assert_clean(&self) {
        let problems = self.take_problems();
        assert!(
            problems.is_empty(),
            "fake-github (strict mode) found {} problem(s):\n- {}",
            problems.len(),
            problems.join("\n- ")
        );
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.app.faults().clear();
    }

    /// Every request served so far (admin requests excluded), oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.log().clone()
    }

    /// How many requests were served so far (admin requests excluded).
    pub fn request_count(&self) -> usize {
        self.app.log().len()
    }

    /// Forgets the logged requests.
    pub fn clear_log(&self) {
        self.app.log().clear();
    }

    /// Adds a comment by `login` on issue or pull request `issue` of `repo` (`owner/name`),
    /// written now; returns its id.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn add_comment(&self, repo: &str, issue: u64, login: &str, body: &str) -> u64 {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        state.add_comment(id, issue, login, body)
    }

    /// Replaces a comment's body, moving its `updated_at` past every earlier write.
    ///
    /// # Panics
    /// If there is no such comment.
    pub fn edit_comment(&self, comment_id: u64, body: &str) {
        let edited = self.app.state().edit_comment(comment_id, body);
        assert!(edited, "fake-github: there is no comment {comment_id}");
    }

    /// Deletes a comment (and its reactions), as its author or a maintainer can on GitHub.
    ///
    /// # Panics
    /// If there is no such comment.
    pub fn delete_comment(&self, comment_id: u64) {
        let deleted = self.app.state().delete_comment(comment_id);
        assert!(deleted, "fake-github: there is no comment {comment_id}");
    }

    /// The comments of an issue or pull request, oldest first.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn comments(&self, repo: &str, issue: u64) -> Vec<CommentView> {
        views::comments(&self.app.state(), repo, issue)
            .unwrap_or_else(|| panic!("{}", unknown_repo(repo)))
    }

    /// The reactions on a comment, oldest first.
    pub fn reactions(&self, comment_id: u64) -> Vec<ReactionView> {
        views::reactions(&self.app.state(), comment_id)
    }

    /// The releases of a repository, oldest first.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn releases(&self, repo: &str) -> Vec<ReleaseView> {
        views::releases(&self.app.state(), repo).unwrap_or_else(|| panic!("{}", unknown_repo(repo)))
    }

    /// The pull requests of a repository, oldest first.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn pulls(&self, repo: &str) -> Vec<PullView> {
        views::pulls(&self.app.state(), repo).unwrap_or_else(|| panic!("{}", unknown_repo(repo)))
    }

    /// Opens a pull request directly (no branch checks); returns its number.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn open_pull(&self, repo: &str, login: &str, head: &str, base: &str, title: &str) -> u64 {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        let new = state::NewPull {
            user: login.to_owned(),
            head: head.to_owned(),
            base: base.to_owned(),
            title: title.to_owned(),
            body: None,
            draft: false,
        };
        state.add_pull(id, new)
    }

    /// Sets a branch's classic protection, or removes it (`None`).
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn protect_branch(&self, repo: &str, branch: &str, protection: Option<SeedProtection>) {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        let protected = &mut state.repo_mut(id).protected;
        match protection {
            Some(rules) => protected.insert(branch.to_owned(), rules),
            None => protected.remove(branch),
        };
    }

    /// Sets the ruleset rules that apply to a branch name, by GitHub's rule types
    /// (`non_fast_forward` blocks force pushes, `deletion` restricts deletion).
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn set_branch_rules(&self, repo: &str, branch: &str, rule_types: &[&str]) {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        state.repo_mut(id).branch_rules.insert(
            branch.to_owned(),
            rule_types.iter().map(|t| (*t).to_owned()).collect(),
        );
    }

    /// Adds an active repository ruleset targeting tags whose names match `include`
    /// (`refs/tags/v*`, `~ALL`), with rules of the given types (`creation`, `update`,
    /// `deletion`); returns its id.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn add_tag_ruleset(&self, repo: &str, name: &str, include: &[&str], rules: &[&str]) -> u64 {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        let ruleset = state.next_id();
        state.repo_mut(id).tag_rulesets.push(state::TagRuleset {
            id: ruleset,
            name: name.to_owned(),
            include: include.iter().map(|t| (*t).to_owned()).collect(),
            rules: rules.iter().map(|t| (*t).to_owned()).collect(),
        });
        ruleset
    }

    /// Sets the repository's Actions workflow permissions (Settings > Actions > General), as
    /// an administrator would.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn set_workflow_permissions(&self, repo: &str, setting: SeedWorkflowPermissions) {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        state.repo_mut(id).workflow_permissions = setting;
    }

    /// The repository's Actions workflow permissions.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn workflow_permissions(&self, repo: &str) -> SeedWorkflowPermissions {
        let state = self.app.state();
        let id = seeded_repo(&state, repo);
        state.repo(id).workflow_permissions
    }

    /// Marks pull request `number` merged by `by`, the base branch's new commit being `sha`,
    /// directly: the test moves the base branch itself, as a merge would.
    ///
    /// # Panics
    /// If the seed has no such repository or pull request.
    pub fn mark_merged(&self, repo: &str, number: u64, sha: &str, by: &str) {
        let mut state = self.app.state();
        let id = seeded_repo(&state, repo);
        let at = state.clock.tick();
        let pull = state
            .repo_mut(id)
            .pulls
            .iter_mut()
            .find(|p| p.number == number)
            .unwrap_or_else(|| panic!("no pull request #{number} in {repo}"));
        pull.state = state::PullState::Merged {
            at,
            sha: sha.to_owned(),
            by: by.to_owned(),
        };
        let git_dir = state.repo(id).git_dir.clone();
        let _ = crate::gitstore::untrack_pull_head(&git_dir, number);
    }

    /// The bare repository behind `repo`.
    ///
    /// # Panics
    /// If the seed has no such repository.
    pub fn git_dir(&self, repo: &str) -> PathBuf {
        let state = self.app.state();
        let id = seeded_repo(&state, repo);
        state.repo(id).git_dir.clone()
    }
}

fn ephemeral() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
}

impl Drop for FakeGitHub {
    /// Stops the server, then enforces strict mode: panics listing the problems left (see
    /// [`FakeGitHub::take_problems`]), unless the thread is already panicking.
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if !std::thread::panicking() {
            self.assert_clean();
        }
    }
}
