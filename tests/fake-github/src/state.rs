//! The fake's memory: accounts, tokens, teams, repositories and what GitHub keeps outside git
//! (pull requests, releases, comments, reactions), plus the clock and the id counter.
//!
//! Git objects and refs are not here: they live in the bare repositories (`gitstore`). This
//! module knows GitHub's rules about people (roles, author association, who may edit, which
//! account an email links to) but nothing of HTTP or JSON.
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use crate::clock::{Clock, Timestamp};
use crate::gitstore;
use crate::seed::{
    PermissionLevel, Role, Seed, SeedProtection, SeedPullState, SeedRepo, SeedToken,
    SeedWorkflowPermissions, TokenKind, UserKind,
};

/// A known account.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: u64,
    pub login: String,
    pub kind: UserKind,
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    ReadWrite,
    /// A fork's `GITHUB_TOKEN`: writes answer 403.
    ReadOnly,
}

/// The authenticated account of a request.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub login: String,
    pub access: Access,
    /// `None` for a user token; an installation token's permissions otherwise.
    pub installation: Option<BTreeMap<String, PermissionLevel>>,
}

/// The login of the app behind a workflow's `GITHUB_TOKEN`: the "allow GitHub Actions to
/// create and approve pull requests" setting applies to its tokens only.
pub(crate) const ACTIONS_BOT: &str = "github-actions[bot]";

/// What a workflow's default `GITHUB_TOKEN` may write (the permissive default); it never has
/// `administration` or any organisation permission such as `members`.
const GITHUB_TOKEN_WRITES: &[&str] = &[
    "actions",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "issues",
    "packages",
    "pages",
    "pull_requests",
    "repository_projects",
    "security_events",
    "statuses",
];

impl Caller {
    /// Whether the token is an installation's (an app's, like `GITHUB_TOKEN`).
    pub(crate) fn is_installation(&self) -> bool {
        self.installation.is_some()
    }

    /// Whether the token may use `permission` at `level`: a user token always (its role
    /// decides elsewhere), an installation token when it was granted that much.
    pub(crate) fn may(&self, permission: &str, level: PermissionLevel) -> bool {
        let granted = match &self.installation {
            None => return true,
            Some(granted) => granted.get(permission).copied(),
        };
        let writable = self.access == Access::ReadWrite || level == PermissionLevel::Read;
        writable && granted.is_some_and(|g| g >= level)
    }

    /// Whether this is a workflow's `GITHUB_TOKEN` (`github-actions[bot]`'s installation).
    pub(crate) fn is_actions_token(&self) -> bool {
        self.is_installation() && self.login.eq_ignore_ascii_case(ACTIONS_BOT)
    }
}

#[derive(Clone, Debug)]
struct Token {
    login: String,
    access: Access,
    installation: Option<BTreeMap<String, PermissionLevel>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Team {
    pub id: u64,
    pub org: String,
    pub slug: String,
    members: Vec<String>,
    pending: Vec<String>,
    pub created_at: Timestamp,
}

impl Team {
    /// Whether `login` is an active member.
    pub(crate) fn has_member(&self, login: &str) -> bool {
        self.members.iter().any(|m| m.eq_ignore_ascii_case(login))
    }

    /// Whether `login` was invited and has not accepted.
    pub(crate) fn has_pending(&self, login: &str) -> bool {
        self.pending.iter().any(|m| m.eq_ignore_ascii_case(login))
    }

    /// How many active members the team has.
    pub(crate) fn members_count(&self) -> usize {
        self.members.len()
    }
}

/// Index of a repository in `State::repos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RepoId(usize);

#[derive(Clone, Debug)]
pub(crate) struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub git_dir: PathBuf,
    pub default_branch: String,
    collaborators: BTreeMap<String, Role>,
    pub pulls: Vec<Pull>,
    pub releases: Vec<Release>,
    pub protected: BTreeMap<String, SeedProtection>,
    /// Branch name to the types of the ruleset rules that apply to it (`non_fast_forward`, ...).
    pub branch_rules: BTreeMap<String, Vec<String>>,
    /// Rulesets targeting tags, in creation order.
    pub tag_rulesets: Vec<TagRuleset>,
    /// Settings > Actions > General > Workflow permissions.
    pub workflow_permissions: SeedWorkflowPermissions,
    pub created_at: Timestamp,
}

/// A repository ruleset whose target is `tag`.
#[derive(Clone, Debug)]
pub(crate) struct TagRuleset {
    pub id: u64,
    pub name: String,
    /// `conditions.ref_name.include` (`refs/tags/v*`, `~ALL`).
    pub include: Vec<String>,
    /// Rule types (`creation`, `update`, `deletion`).
    pub rules: Vec<String>,
}

impl Repo {
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Pull {
    pub id: u64,
    pub number: u64,
    pub user: String,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: Option<String>,
    pub draft: bool,
    pub created_at: Timestamp,
    pub state: PullState,
}

/// Where a pull request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PullState {
    Open,
    Closed {
        at: Timestamp,
    },
    /// Merged by `by` at `at`; `sha` is the base branch's new commit.
    Merged {
        at: Timestamp,
        sha: String,
        by: String,
    },
}

impl Pull {
    pub(crate) fn is_open(&self) -> bool {
        self.state == PullState::Open
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub author: String,
    pub created_at: Timestamp,
    pub published_at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub(crate) struct Comment {
    pub id: u64,
    pub repo: RepoId,
    pub issue: u64,
    pub user: String,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug)]
pub(crate) struct Reaction {
    pub id: u64,
    pub comment: u64,
    pub user: String,
    pub content: String,
    pub created_at: Timestamp,
}

/// A commit status: one report of one context (`shipgate`, a CI system) on one commit.
#[derive(Clone, Debug)]
pub(crate) struct CommitStatus {
    pub id: u64,
    pub repo: RepoId,
    pub sha: String,
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub context: String,
    pub creator: String,
    pub created_at: Timestamp,
}

/// The outcome of a reaction request: GitHub answers 201 for a new one, 200 for a repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reacted {
    Created(u64),
    Existing(u64),
}

/// A new release, as asked for.
pub(crate) struct NewRelease {
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub author: String,
}

/// A new pull request, as asked for.
pub(crate) struct NewPull {
    pub user: String,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: Option<String>,
    pub draft: bool,
}

/// Everything the fake remembers besides git.
#[derive(Debug)]
pub(crate) struct State {
    users: BTreeMap<String, User>,
    /// Lowercased verified email to the lowercased login it belongs to.
    emails: BTreeMap<String, String>,
    tokens: HashMap<String, Token>,
    teams: Vec<Team>,
    repos: Vec<Repo>,
    pub comments: BTreeMap<u64, Comment>,
    pub reactions: BTreeMap<u64, Reaction>,
    /// Commit statuses, oldest first.
    pub statuses: Vec<CommitStatus>,
    pub clock: Clock,
    next_id: u64,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn seed_time(text: Option<&str>, what: &str) -> io::Result<Option<Timestamp>> {
    match text {
        None => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(Some)
            .ok_or_else(|| invalid(format!("seed: {what} {text:?} is not RFC 3339"))),
    }
}

impl State {
    /// Loads a seed; repositories without a `git_dir` get an empty bare one under `data_dir`.
    pub(crate) fn load(seed: &Seed, data_dir: &Path) -> io::Result<State> {
        let mut state = State {
            users: BTreeMap::new(),
            emails: BTreeMap::new(),
            tokens: HashMap::new(),
            teams: Vec::new(),
            repos: Vec::new(),
            comments: BTreeMap::new(),
            reactions: BTreeMap::new(),
            statuses: Vec::new(),
            clock: Clock::new(),
            next_id: 1000,
        };
        for user in &seed.users {
            state.register(&user.login, user.kind);
            if let Some(email) = &user.email {
                state.link_email(email, &user.login)?;
            }
        }
        for token in &seed.tokens {
            state.load_token(token);
        }
        for team in &seed.teams {
            state.register(&team.org, UserKind::Organization);
            for member in team.members.iter().chain(&team.pending) {
                state.ensure_user(member);
            }
            let id = state.next_id();
            let created_at = state.clock.now();
            state.teams.push(Team {
                id,
                org: team.org.clone(),
                slug: team.slug.clone(),
                members: team.members.clone(),
                pending: team.pending.clone(),
                created_at,
            });
        }
        for repo in &seed.repos {
            state.load_repo(repo, data_dir)?;
        }
        Ok(state)
    }

    /// A token: its kind defaults from its account (a bot's is an installation token), an
    /// installation token without permissions gets the default `GITHUB_TOKEN`'s.
    fn load_token(&mut self, token: &SeedToken) {
        self.ensure_user(&token.login);
        let access = if token.read_only {
            Access::ReadOnly
        } else {
            Access::ReadWrite
        };
        let is_bot = self
            .user(&token.login)
            .is_some_and(|u| u.kind == UserKind::Bot);
        let kind = token.kind.unwrap_or(if is_bot {
            TokenKind::Installation
        } else {
            TokenKind::User
        });
        let installation = (kind == TokenKind::Installation).then(|| {
            let mut granted = token.permissions.clone();
            if granted.is_empty() {
                for name in GITHUB_TOKEN_WRITES {
                    granted.insert((*name).to_owned(), PermissionLevel::Write);
                }
            }
            granted
                .entry("metadata".to_owned())
                .or_insert(PermissionLevel::Read);
            granted
        });
        let login = token.login.clone();
        self.tokens.insert(
            token.token.clone(),
            Token {
                login,
                access,
                installation,
            },
        );
    }

    fn load_repo(&mut self, seed: &SeedRepo, data_dir: &Path) -> io::Result<()> {
        let (owner, name) = seed
            .full_name
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| invalid(format!("seed: {:?} is not owner/name", seed.full_name)))?;
        if self.repo_id(owner, name).is_some() {
            return Err(invalid(format!("seed: {} appears twice", seed.full_name)));
        }
        self.register(owner, UserKind::Organization);
        let git_dir = match &seed.git_dir {
            Some(dir) => dir.clone(),
            None => {
                let dir = data_dir.join(owner).join(format!("{name}.git"));
                if !dir.exists() {
                    gitstore::init_bare(&dir, &seed.default_branch)
                        .map_err(|e| io::Error::other(format!("{}: {e}", dir.display())))?;
                }
                dir
            }
        };
        git2::Repository::open_bare(&git_dir).map_err(|e| {
            invalid(format!(
                "seed: {}: {} is not a bare repository: {e}",
                seed.full_name,
                git_dir.display()
            ))
        })?;
        let mut collaborators = BTreeMap::new();
        for (login, role) in &seed.collaborators {
            self.ensure_user(login);
            collaborators.insert(login.to_ascii_lowercase(), *role);
        }
        let id = self.next_id();
        let created_at = self.clock.now();
        self.repos.push(Repo {
            id,
            owner: owner.to_owned(),
            name: name.to_owned(),
            git_dir,
            default_branch: seed.default_branch.clone(),
            collaborators,
            pulls: Vec::new(),
            releases: Vec::new(),
            protected: seed.protected_branches.clone(),
            branch_rules: seed.branch_rules.clone(),
            tag_rulesets: Vec::new(),
            workflow_permissions: seed.workflow_permissions,
            created_at,
        });
        let repo = RepoId(self.repos.len() - 1);
        for ruleset in &seed.tag_rulesets {
            let id = self.next_id();
            self.repos[repo.0].tag_rulesets.push(TagRuleset {
                id,
                name: ruleset.name.clone(),
                include: ruleset.include.clone(),
                rules: ruleset.rules.clone(),
            });
        }
        for pull in &seed.pulls {
            if self.pull(repo, pull.number).is_some() {
                return Err(invalid(format!(
                    "seed: pull #{} appears twice",
                    pull.number
                )));
            }
            self.ensure_user(&pull.user);
            let id = self.next_id();
            let state = match pull.state {
                SeedPullState::Closed => PullState::Closed { at: created_at },
                SeedPullState::Merged => {
                    let git_dir = &self.repos[repo.0].git_dir;
                    let sha = gitstore::branch_head(git_dir, &pull.head)
                        .ok()
                        .flatten()
                        .ok_or_else(|| {
                            invalid(format!(
                                "seed: merged pull #{} needs its head branch {}",
                                pull.number, pull.head
                            ))
                        })?;
                    let by = pull.user.clone();
                    PullState::Merged {
                        at: created_at,
                        sha,
                        by,
                    }
                }
                _ => PullState::Open,
            };
            // GitHub keeps every pull request's head at refs/pull/N/head, moving with its
            // branch while it is open.
            let git_dir = &self.repos[repo.0].git_dir;
            let _ = gitstore::track_pull_head(git_dir, pull.number, &pull.head);
            if !matches!(state, PullState::Open) {
                let _ = gitstore::untrack_pull_head(git_dir, pull.number);
            }
            self.repos[repo.0].pulls.push(Pull {
                id,
                number: pull.number,
                user: pull.user.clone(),
                head: pull.head.clone(),
                base: pull.base.clone(),
                title: pull.title.clone(),
                body: pull.body.clone(),
                draft: pull.draft,
                created_at,
                state,
            });
        }
        for comment in &seed.comments {
            let created = seed_time(comment.created_at.as_deref(), "created_at")?;
            let updated = seed_time(comment.updated_at.as_deref(), "updated_at")?;
            let created = created.unwrap_or_else(|| self.clock.tick());
            let updated = updated.unwrap_or(created);
            self.clock.observe(created.max(updated));
            let times = (created, updated);
            self.insert_comment(repo, comment.issue, &comment.user, &comment.body, times);
        }
        Ok(())
    }

    fn register(&mut self, login: &str, kind: UserKind) {
        if !self.users.contains_key(&login.to_ascii_lowercase()) {
            let id = self.next_id();
            let user = User {
                id,
                login: login.to_owned(),
                kind,
            };
            self.users.insert(login.to_ascii_lowercase(), user);
        }
    }

    /// Gives a login a verified email; on GitHub an email belongs to one account only.
    fn link_email(&mut self, email: &str, login: &str) -> io::Result<()> {
        let login = login.to_ascii_lowercase();
        let owner = self
            .emails
            .entry(email.to_ascii_lowercase())
            .or_insert_with(|| login.clone());
        if *owner == login {
            Ok(())
        } else {
            Err(invalid(format!(
                "seed: email {email:?} belongs to both {owner} and {login}"
            )))
        }
    }

    /// Makes a login known (as a `User`) if it is not yet.
    pub(crate) fn ensure_user(&mut self, login: &str) {
        self.register(login, UserKind::User);
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn user(&self, login: &str) -> Option<&User> {
        self.users.get(&login.to_ascii_lowercase())
    }

    /// The account GitHub links a commit's author or committer email to, ignoring case: the
    /// one with that verified email, else the user or bot a noreply address names
    /// (`<login>@users.noreply.github.com` or `<digits>+<login>@users.noreply.github.com`).
    pub(crate) fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.to_ascii_lowercase();
        if let Some(login) = self.emails.get(&email) {
            return self.users.get(login);
        }
        let local = email.strip_suffix("@users.noreply.github.com")?;
        let login = match local.split_once('+') {
            None => local,
            Some((id, login)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => login,
            Some(_) => return None,
        };
        self.user(login)
            .filter(|user| user.kind != UserKind::Organization)
    }

    /// The caller a token authenticates.
    pub(crate) fn authenticate(&self, token: &str) -> Option<Caller> {
        self.tokens.get(token).map(|t| Caller {
            login: t.login.clone(),
            access: t.access,
            installation: t.installation.clone(),
        })
    }

    pub(crate) fn repo_id(&self, owner: &str, name: &str) -> Option<RepoId> {
        self.repos
            .iter()
            .position(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
            .map(RepoId)
    }

    /// Looks up `owner/name`.
    pub(crate) fn repo_by_full_name(&self, full_name: &str) -> Option<RepoId> {
        let (owner, name) = full_name.split_once('/')?;
        self.repo_id(owner, name)
    }

    pub(crate) fn repo(&self, id: RepoId) -> &Repo {
        &self.repos[id.0]
    }

    pub(crate) fn repo_mut(&mut self, id: RepoId) -> &mut Repo {
        &mut self.repos[id.0]
    }

    /// A login's role: the owner of a user-owned repository is admin.
    pub(crate) fn role(&self, repo: RepoId, login: &str) -> Role {
        let repo = self.repo(repo);
        if repo.owner.eq_ignore_ascii_case(login) {
            return Role::Admin;
        }
        repo.collaborators
            .get(&login.to_ascii_lowercase())
            .copied()
            .unwrap_or(Role::None)
    }

    /// Whether a caller has push access: for a user token a role that may push, for an
    /// installation token (an app installed on the repository, no collaborator) `contents:
    /// write` on a token that may write.
    pub(crate) fn can_push(&self, repo: RepoId, caller: &Caller) -> bool {
        if caller.is_installation() {
            caller.may("contents", PermissionLevel::Write)
        } else {
            self.role(repo, &caller.login).can_push() && caller.access == Access::ReadWrite
        }
    }

    /// GitHub's `author_association` of a login on a repository.
    pub(crate) fn author_association(&self, repo: RepoId, login: &str) -> &'static str {
        let owner = &self.repo(repo).owner;
        if owner.eq_ignore_ascii_case(login) {
            "OWNER"
        } else if self
            .teams
            .iter()
            .any(|t| t.org.eq_ignore_ascii_case(owner) && t.has_member(login))
        {
            "MEMBER"
        } else if self.role(repo, login) > Role::None {
            "COLLABORATOR"
        } else {
            "NONE"
        }
    }

    pub(crate) fn team(&self, org: &str, slug: &str) -> Option<&Team> {
        self.teams
            .iter()
            .find(|t| t.org.eq_ignore_ascii_case(org) && t.slug.eq_ignore_ascii_case(slug))
    }

    pub(crate) fn pull(&self, repo: RepoId, number: u64) -> Option<&Pull> {
        self.repo(repo).pulls.iter().find(|p| p.number == number)
    }

    /// An issue "exists" when a pull request has its number or it has comments: the fake
    /// keeps no issues of its own.
    pub(crate) fn issue_exists(&self, repo: RepoId, number: u64) -> bool {
        self.pull(repo, number).is_some()
            || self
                .comments
                .values()
                .any(|c| c.repo == repo && c.issue == number)
    }

    /// Comments on one issue, oldest first.
    pub(crate) fn issue_comments(&self, repo: RepoId, issue: u64) -> Vec<&Comment> {
        self.comments
            .values()
            .filter(|c| c.repo == repo && c.issue == issue)
            .collect()
    }

    /// Adds a comment written now.
    pub(crate) fn add_comment(&mut self, repo: RepoId, issue: u64, login: &str, body: &str) -> u64 {
        let now = self.clock.tick();
        self.insert_comment(repo, issue, login, body, (now, now))
    }

    fn insert_comment(
        &mut self,
        repo: RepoId,
        issue: u64,
        login: &str,
        body: &str,
        (created_at, updated_at): (Timestamp, Timestamp),
    ) -> u64 {
        self.ensure_user(login);
        let id = self.next_id();
        let comment = Comment {
            id,
            repo,
            issue,
            user: login.to_owned(),
            body: body.to_owned(),
            created_at,
            updated_at,
        };
        self.comments.insert(id, comment);
        id
    }

    /// Replaces a comment's body and bumps `updated_at`; false when there is no such comment.
    pub(crate) fn edit_comment(&mut self, id: u64, body: &str) -> bool {
        let now = self.clock.tick();
        match self.comments.get_mut(&id) {
            Some(comment) => {
                comment.body = body.to_owned();
                comment.updated_at = now;
                true
            }
            None => false,
        }
    }

    /// Removes a comment and its reactions; false when there is no such comment.
    pub(crate) fn delete_comment(&mut self, id: u64) -> bool {
        self.reactions.retain(|_, r| r.comment != id);
        self.comments.remove(&id).is_some()
    }

    /// May `login` edit this comment? Its author, or anyone with push access.
    pub(crate) fn may_edit(&self, comment: &Comment, login: &str) -> bool {
        comment.user.eq_ignore_ascii_case(login) || self.role(comment.repo, login).can_push()
    }

    /// Records a commit status written now; returns its id.
    pub(crate) fn add_status(&mut self, mut status: CommitStatus) -> u64 {
        status.id = self.next_id();
        status.created_at = self.clock.tick();
        let id = status.id;
        self.statuses.push(status);
        id
    }

    /// The statuses of one commit, newest first (GitHub's order).
    pub(crate) fn commit_statuses(&self, repo: RepoId, sha: &str) -> Vec<&CommitStatus> {
        self.statuses
            .iter()
            .rev()
            .filter(|s| s.repo == repo && s.sha == sha)
            .collect()
    }

    /// Adds a reaction unless the same user already reacted with the same content.
    pub(crate) fn react(&mut self, comment: u64, login: &str, content: &str) -> Reacted {
        let existing = self.reactions.values().find(|r| {
            r.comment == comment && r.user.eq_ignore_ascii_case(login) && r.content == content
        });
        if let Some(existing) = existing {
            return Reacted::Existing(existing.id);
        }
        let id = self.next_id();
        let created_at = self.clock.tick();
        let reaction = Reaction {
            id,
            comment,
            user: login.to_owned(),
            content: content.to_owned(),
            created_at,
        };
        self.reactions.insert(id, reaction);
        Reacted::Created(id)
    }

    pub(crate) fn comment_reactions(&self, comment: u64) -> Vec<&Reaction> {
        self.reactions
            .values()
            .filter(|r| r.comment == comment)
            .collect()
    }

    /// Records a release and returns it.
    pub(crate) fn add_release(&mut self, repo: RepoId, new: NewRelease) -> Release {
        let id = self.next_id();
        let now = self.clock.tick();
        let release = Release {
            id,
            tag_name: new.tag_name,
            target_commitish: new.target_commitish,
            name: new.name,
            body: new.body,
            draft: new.draft,
            prerelease: new.prerelease,
            author: new.author,
            created_at: now,
            published_at: (!new.draft).then_some(now),
        };
        self.repo_mut(repo).releases.push(release.clone());
        release
    }

    /// Opens a pull request with the next free issue number.
    pub(crate) fn add_pull(&mut self, repo: RepoId, new: NewPull) -> u64 {
        self.ensure_user(&new.user);
        let highest_pull = self.repo(repo).pulls.iter().map(|p| p.number).max();
        let highest_issue = self
            .comments
            .values()
            .filter(|c| c.repo == repo)
            .map(|c| c.issue)
            .max();
        let number = highest_pull.max(highest_issue).unwrap_or(0) + 1;
        let id = self.next_id();
        let created_at = self.clock.tick();
        // Like GitHub, the base repository keeps the pull request's head at refs/pull/N/head,
        // which is what a workflow checks out for an issue_comment on the pull request.
        let _ = gitstore::track_pull_head(&self.repo(repo).git_dir, number, &new.head);
        self.repo_mut(repo).pulls.push(Pull {
            id,
            number,
            user: new.user,
            head: new.head,
            base: new.base,
            title: new.title,
            body: new.body,
            draft: new.draft,
            created_at,
            state: PullState::Open,
        });
        number
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;

    fn state() -> (tempfile::TempDir, State) {
        let seed = Seed::from_yaml_str(
            r#"
users: [{ login: alice, email: Alice@Example.com }, { login: "ci[bot]", type: Bot }]
tokens: [{ token: t, login: alice }]
teams: [{ org: acme, slug: release, members: [Bob] }]
repos:
  - full_name: acme/widget
    collaborators: { alice: admin, carol: read }
    comments: [{ issue: 3, user: bob, body: hi, created_at: "2030-01-01T00:00:00Z" }]
"#,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let state = State::load(&seed, dir.path()).unwrap();
        (dir, state)
    }

    #[test]
    fn association_and_roles_follow_github() {
        let (_dir, state) = state();
        let repo = state.repo_id("ACME", "Widget").unwrap();
        assert_eq!(state.author_association(repo, "acme"), "OWNER");
        assert_eq!(state.author_association(repo, "bob"), "MEMBER");
        assert_eq!(state.author_association(repo, "carol"), "COLLABORATOR");
        assert_eq!(state.author_association(repo, "ci[bot]"), "NONE");
        assert_eq!(state.role(repo, "Alice"), Role::Admin);
        assert_eq!(state.user("acme").unwrap().kind, UserKind::Organization);
    }

    #[test]
    fn writes_after_a_future_seeded_comment_come_later() {
        let (_dir, mut state) = state();
        let repo = state.repo_id("acme", "widget").unwrap();
        let seeded = state.issue_comments(repo, 3)[0].created_at;
        let id = state.add_comment(repo, 3, "alice", "later");
        assert!(state.comments[&id].created_at > seeded);
        assert_eq!(state.add_pull(repo, new_pull()), 4);
    }

    #[test]
    fn a_reaction_is_recorded_once_per_user_and_content() {
        let (_dir, mut state) = state();
        let first = state.react(9, "alice", "+1");
        let Reacted::Created(id) = first else {
            panic!("{first:?}")
        };
        assert_eq!(state.react(9, "ALICE", "+1"), Reacted::Existing(id));
        assert!(matches!(state.react(9, "alice", "-1"), Reacted::Created(_)));
        assert_eq!(state.comment_reactions(9).len(), 2);
    }

    #[test]
    fn a_bad_full_name_or_timestamp_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad_name = Seed::from_yaml_str("repos: [{ full_name: widget }]").unwrap();
        assert!(State::load(&bad_name, dir.path()).is_err());
        let bad_time = Seed::from_yaml_str(
            "repos: [{ full_name: a/b, comments: [{issue: 1, user: x, body: y, created_at: soon}] }]",
        )
        .unwrap();
        assert!(State::load(&bad_time, dir.path()).is_err());
    }

    #[test]
    fn emails_link_to_accounts_as_on_github() {
        let (_dir, state) = state();
        let login = |email: &str| state.user_by_email(email).map(|u| u.login.as_str());
        assert_eq!(login("alice@EXAMPLE.com"), Some("alice"));
        assert_eq!(login("Alice@users.noreply.github.com"), Some("alice"));
        assert_eq!(
            login("123+ci[bot]@users.noreply.github.com"),
            Some("ci[bot]")
        );
        assert_eq!(login("bob@users.noreply.github.com"), Some("Bob"));
        // An organisation authors nothing; a login must be known; the prefix is digits only.
        assert_eq!(login("acme@users.noreply.github.com"), None);
        assert_eq!(login("mallory@users.noreply.github.com"), None);
        assert_eq!(login("x1+alice@users.noreply.github.com"), None);
        assert_eq!(login("+alice@users.noreply.github.com"), None);
        assert_eq!(login("bob@example.com"), None);
    }

    #[test]
    fn an_email_of_two_accounts_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let seed = Seed::from_yaml_str(
            "users: [{ login: a, email: x@example.com }, { login: b, email: X@example.com }]",
        )
        .unwrap();
        let err = State::load(&seed, dir.path()).unwrap_err();
        assert!(err.to_string().contains("belongs to both a and b"), "{err}");
    }

    fn new_pull() -> NewPull {
        NewPull {
            user: "alice".into(),
            head: "h".into(),
            base: "main".into(),
            title: "t".into(),
            body: None,
            draft: false,
        }
    }
}
