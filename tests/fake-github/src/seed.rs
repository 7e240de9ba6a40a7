//! The seed: the world a fake starts with (users, tokens, teams, repositories, pulls,
//! comments), as plain serde types read from YAML or JSON or built in Rust.
//!
//! This module only describes and parses; it never touches git or the server. Checking that
//! the seed makes sense (known logins, unique emails, valid timestamps) happens when `state`
//! loads it.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Everything the fake knows when it starts.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Seed {
    /// Every login the fake knows. Logins named elsewhere in the seed are added as `User`.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Tokens accepted in `Authorization: Bearer T` or `token T`.
    #[serde(default)]
    pub tokens: Vec<SeedToken>,
    /// Organisation teams, for the team-membership endpoint.
    #[serde(default)]
    pub teams: Vec<SeedTeam>,
    /// Repositories, each backed by a bare git repository.
    #[serde(default)]
    pub repos: Vec<SeedRepo>,
}

/// A GitHub account.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedUser {
    /// The login, e.g. `alice` or `github-actions[bot]`.
    pub login: String,
    /// `User` unless given.
    #[serde(default, rename = "type")]
    pub kind: UserKind,
    /// The account's verified email: commits by it are linked to the account (matched
    /// ignoring case). `<login>@users.noreply.github.com` and
    /// `<digits>+<login>@users.noreply.github.com` are linked without it.
    #[serde(default)]
    pub email: Option<String>,
}

/// The `type` GitHub reports for an account.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum UserKind {
    /// A person.
    #[default]
    User,
    /// An app or `github-actions[bot]`.
    Bot,
    /// An organisation (repository owners that are not users become one).
    Organization,
}

impl UserKind {
    /// The string GitHub puts in `user.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::User => "User",
            UserKind::Bot => "Bot",
            UserKind::Organization => "Organization",
        }
    }
}

/// An access token and whose it is.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedToken {
    /// The secret as sent by the client.
    pub token: String,
    /// The login it authenticates.
    pub login: String,
    /// A read-only token (a fork's `GITHUB_TOKEN`): every write gets 403.
    #[serde(default)]
    pub read_only: bool,
    /// What kind of token it is; when absent, an installation token if the login is seeded
    /// as a `Bot` (as a workflow's `GITHUB_TOKEN` is `github-actions[bot]`'s), else a user
    /// token.
    #[serde(default)]
    pub kind: Option<TokenKind>,
    /// An installation token's permissions by GitHub's names (`contents`, `pull_requests`,
    /// `issues`, `members`, `administration`, ...), each `read` or `write`. When empty, a
    /// workflow's default `GITHUB_TOKEN` (permissive): `write` on the repository permissions
    /// a workflow can grant, no `administration` and no organisation permission (`members`).
    /// Ignored for user tokens.
    #[serde(default)]
    pub permissions: BTreeMap<String, PermissionLevel>,
}

/// Whose authority a token carries; GitHub answers the two differently.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TokenKind {
    /// A person's token (classic or fine-grained personal access token, OAuth): the
    /// person's role decides, `GET /user` answers and repositories show `permissions`.
    User,
    /// A GitHub App installation's token, like a workflow's `GITHUB_TOKEN`: its
    /// permissions decide; no `GET /user`, no `permissions` on repositories.
    Installation,
}

/// The level of one installation permission.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PermissionLevel {
    /// Read.
    Read,
    /// Write (includes read).
    Write,
}

/// A repository's Actions setting for the `GITHUB_TOKEN` (Settings > Actions > General >
/// Workflow permissions), as `GET /repos/{o}/{r}/actions/permissions/workflow` shows it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedWorkflowPermissions {
    /// `read` or `write`: what workflows get by default.
    #[serde(default = "read_level")]
    pub default_workflow_permissions: PermissionLevel,
    /// "Allow GitHub Actions to create and approve pull requests": off by default on GitHub
    /// (new repositories of a personal account); when off, `POST .../pulls` with a
    /// `GITHUB_TOKEN` answers 403.
    #[serde(default)]
    pub can_approve_pull_request_reviews: bool,
}

fn read_level() -> PermissionLevel {
    PermissionLevel::Read
}

impl Default for SeedWorkflowPermissions {
    fn default() -> Self {
        SeedWorkflowPermissions {
            default_workflow_permissions: PermissionLevel::Read,
            can_approve_pull_request_reviews: false,
        }
    }
}

impl SeedWorkflowPermissions {
    /// The setting with workflows allowed (or not) to create and approve pull requests.
    pub fn allowing_pull_requests(allowed: bool) -> Self {
        SeedWorkflowPermissions {
            can_approve_pull_request_reviews: allowed,
            ..SeedWorkflowPermissions::default()
        }
    }
}

/// A team of an organisation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedTeam {
    /// The organisation login.
    pub org: String,
    /// The team slug.
    pub slug: String,
    /// Member logins; each is an active `member`.
    #[serde(default)]
    pub members: Vec<String>,
    /// Invited logins who have not accepted: their membership's `state` is `pending`.
    #[serde(default)]
    pub pending: Vec<String>,
}

/// A repository.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedRepo {
    /// `owner/name`.
    pub full_name: String,
    /// An existing bare repository to serve; when absent an empty one is created under the
    /// data directory.
    #[serde(default)]
    pub git_dir: Option<PathBuf>,
    /// The default branch (`main` unless given).
    #[serde(default = "default_branch")]
    pub default_branch: String,
    /// Login to role: `admin`, `maintain`, `write`, `triage`, `read` (others have `none`).
    #[serde(default)]
    pub collaborators: BTreeMap<String, Role>,
    /// Pull requests that already exist (open unless their `state` says otherwise).
    #[serde(default)]
    pub pulls: Vec<SeedPull>,
    /// Issue and pull request comments that already exist.
    #[serde(default)]
    pub comments: Vec<SeedComment>,
    /// Branch name to its protection; other branches are not protected.
    #[serde(default)]
    pub protected_branches: BTreeMap<String, SeedProtection>,
    /// The Actions workflow permissions setting (GitHub's defaults when absent).
    #[serde(default)]
    pub workflow_permissions: SeedWorkflowPermissions,
    /// Branch name to the types of the ruleset rules that apply to it (`non_fast_forward`,
    /// `deletion`, ...), as `GET .../rules/branches/{branch}` reports them.
    #[serde(default)]
    pub branch_rules: BTreeMap<String, Vec<String>>,
    /// Active repository rulesets targeting tags.
    #[serde(default)]
    pub tag_rulesets: Vec<SeedTagRuleset>,
}

/// An active repository ruleset targeting tags.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedTagRuleset {
    /// Its name.
    pub name: String,
    /// `conditions.ref_name.include` (`refs/tags/v*`, `~ALL`).
    pub include: Vec<String>,
    /// Rule types (`creation`, `update`, `deletion`).
    pub rules: Vec<String>,
}

impl Default for SeedRepo {
    fn default() -> Self {
        SeedRepo {
            full_name: String::new(),
            git_dir: None,
            default_branch: default_branch(),
            collaborators: BTreeMap::new(),
            pulls: Vec::new(),
            comments: Vec::new(),
            protected_branches: BTreeMap::new(),
            workflow_permissions: SeedWorkflowPermissions::default(),
            branch_rules: BTreeMap::new(),
            tag_rulesets: Vec::new(),
        }
    }
}

impl Seed {
    /// An empty world, to build on with the methods below (or read one from YAML with the
    /// `yaml` feature).
    pub fn new() -> Seed {
        Seed::default()
    }

    /// Adds an account.
    pub fn user(mut self, login: &str, kind: UserKind) -> Seed {
        self.users.push(SeedUser {
            login: login.to_owned(),
            kind,
            email: None,
        });
        self
    }

    /// Adds a token of `kind` for `login`; an installation token with no `permissions` gets
    /// the default `GITHUB_TOKEN`'s.
    pub fn token(
        mut self,
        token: &str,
        login: &str,
        kind: TokenKind,
        permissions: &[(&str, PermissionLevel)],
    ) -> Seed {
        self.tokens.push(SeedToken {
            token: token.to_owned(),
            login: login.to_owned(),
            read_only: false,
            kind: Some(kind),
            permissions: permissions
                .iter()
                .map(|(name, level)| ((*name).to_owned(), *level))
                .collect(),
        });
        self
    }

    /// Adds a team of `org` with active `members`.
    pub fn team(mut self, org: &str, slug: &str, members: &[&str]) -> Seed {
        self.teams.push(SeedTeam {
            org: org.to_owned(),
            slug: slug.to_owned(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            pending: Vec::new(),
        });
        self
    }

    /// Adds a repository.
    pub fn repo(mut self, repo: SeedRepo) -> Seed {
        self.repos.push(repo);
        self
    }
}

impl SeedRepo {
    /// A repository `owner/name` with GitHub's defaults (branch `main`, nothing else).
    pub fn new(full_name: &str) -> SeedRepo {
        SeedRepo {
            full_name: full_name.to_owned(),
            ..SeedRepo::default()
        }
    }

    /// Serves an existing bare repository.
    pub fn git_dir(mut self, dir: impl Into<PathBuf>) -> SeedRepo {
        self.git_dir = Some(dir.into());
        self
    }

    /// Gives `login` a role.
    pub fn collaborator(mut self, login: &str, role: Role) -> SeedRepo {
        self.collaborators.insert(login.to_owned(), role);
        self
    }

    /// Adds a pull request.
    pub fn pull(mut self, pull: SeedPull) -> SeedRepo {
        self.pulls.push(pull);
        self
    }

    /// Protects a branch (classic protection).
    pub fn protect(mut self, branch: &str, protection: SeedProtection) -> SeedRepo {
        self.protected_branches
            .insert(branch.to_owned(), protection);
        self
    }

    /// Sets the Actions workflow permissions.
    pub fn workflow_permissions(mut self, setting: SeedWorkflowPermissions) -> SeedRepo {
        self.workflow_permissions = setting;
        self
    }
}

impl SeedPull {
    /// An open pull request from `head` into `base` (both branches of the repository).
    pub fn new(number: u64, user: &str, head: &str, base: &str, title: &str) -> SeedPull {
        SeedPull {
            number,
            user: user.to_owned(),
            head: head.to_owned(),
            base: base.to_owned(),
            title: title.to_owned(),
            body: None,
            draft: false,
            state: SeedPullState::Open,
        }
    }

    /// Sets where it stands (closed, merged).
    pub fn state(mut self, state: SeedPullState) -> SeedPull {
        self.state = state;
        self
    }
}

impl SeedProtection {
    /// Classic protection that allows force pushes and deletion, or not.
    pub fn new(allow_force_pushes: bool, allow_deletions: bool) -> SeedProtection {
        SeedProtection {
            allow_force_pushes,
            allow_deletions,
        }
    }
}

fn default_branch() -> String {
    "main".to_owned()
}

/// A collaborator's role on a repository, as GitHub names it in `role_name`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// No access beyond the public.
    None,
    /// Read.
    Read,
    /// Triage (reported as `read` permission).
    Triage,
    /// Write.
    Write,
    /// Maintain (reported as `write` permission).
    Maintain,
    /// Admin.
    Admin,
}

impl Role {
    /// The `role_name` string.
    pub fn role_name(self) -> &'static str {
        match self {
            Role::None => "none",
            Role::Read => "read",
            Role::Triage => "triage",
            Role::Write => "write",
            Role::Maintain => "maintain",
            Role::Admin => "admin",
        }
    }

    /// The coarse `permission` string: `admin`, `write`, `read` or `none`.
    pub fn permission(self) -> &'static str {
        match self {
            Role::None => "none",
            Role::Read | Role::Triage => "read",
            Role::Write | Role::Maintain => "write",
            Role::Admin => "admin",
        }
    }

    /// Whether the role may push, create refs, tags and releases.
    pub fn can_push(self) -> bool {
        self >= Role::Write
    }
}

/// A pull request that exists at start.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedPull {
    /// The pull request number.
    pub number: u64,
    /// Its author.
    pub user: String,
    /// The head branch (in the same repository).
    pub head: String,
    /// The base branch.
    pub base: String,
    /// The title.
    pub title: String,
    /// The description.
    #[serde(default)]
    pub body: Option<String>,
    /// Whether it is a draft.
    #[serde(default)]
    pub draft: bool,
    /// `open` unless given; a `merged` one's `merge_commit_sha` is its head branch's commit.
    #[serde(default)]
    pub state: SeedPullState,
}

/// Where a seeded pull request stands.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SeedPullState {
    /// Open.
    #[default]
    Open,
    /// Closed without merging.
    Closed,
    /// Merged (and closed).
    Merged,
}

/// A comment that exists at start.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedComment {
    /// The issue or pull request number.
    pub issue: u64,
    /// Its author.
    pub user: String,
    /// Its markdown body.
    pub body: String,
    /// RFC 3339; the fake's clock when absent.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339; `created_at` when absent.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The parts of branch protection the fake reports.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedProtection {
    /// Whether force pushes are allowed.
    #[serde(default)]
    pub allow_force_pushes: bool,
    /// Whether deleting the branch is allowed.
    #[serde(default)]
    pub allow_deletions: bool,
}

/// Why a seed could not be read.
#[cfg(feature = "yaml")]
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed {path}: {source}")]
    Read {
        /// The seed file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a valid seed.
    #[error("invalid seed: {0}")]
    Parse(#[from] serde_yaml::Error),
}

#[cfg(feature = "yaml")]
impl Seed {
    /// Parses a seed from YAML (JSON is accepted too: it is YAML).
    pub fn from_yaml_str(text: &str) -> Result<Seed, SeedError> {
        Ok(serde_yaml::from_str(text)?)
    }

    /// Reads and parses a seed file, YAML or JSON.
    pub fn from_path(path: &std::path::Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        Seed::from_yaml_str(&text)
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;

    #[test]
    fn the_documented_seed_parses() {
        let seed = Seed::from_yaml_str(
            r#"
users:
  - { login: alice, email: alice@example.com }
  - { login: "github-actions[bot]", type: Bot }
tokens:
  - { token: t-alice, login: alice }
  - { token: t-fork, login: "github-actions[bot]", read_only: true }
teams:
  - { org: acme, slug: release, members: [bob, carol] }
repos:
  - full_name: acme/widget
    default_branch: main
    collaborators: { alice: admin, bob: write, carol: read }
    pulls: [ { number: 7, user: alice, head: release/1.0, base: main, title: Release, body: "" } ]
    comments: [ { issue: 7, user: bob, body: "/shipgate approve abc", created_at: "2026-11-20T10:00:00Z", updated_at: "2026-11-20T10:00:00Z" } ]
    protected_branches: { main: { allow_force_pushes: false } }
"#,
        )
        .unwrap();
        assert_eq!(seed.users[0].email.as_deref(), Some("alice@example.com"));
        assert_eq!(seed.users[1].kind, UserKind::Bot);
        assert!(seed.users[1].email.is_none());
        assert!(seed.tokens[1].read_only);
        assert_eq!(seed.repos[0].collaborators["bob"], Role::Write);
        assert_eq!(seed.repos[0].pulls[0].body.as_deref(), Some(""));
        assert!(seed.repos[0].git_dir.is_none());
    }

    #[test]
    fn an_unknown_role_is_rejected() {
        let err = Seed::from_yaml_str("repos: [{full_name: a/b, collaborators: {x: owner}}]");
        assert!(matches!(err, Err(SeedError::Parse(_))));
    }

    #[test]
    fn roles_map_to_coarse_permissions() {
        assert_eq!(Role::Maintain.permission(), "write");
        assert_eq!(Role::Triage.permission(), "read");
        assert!(Role::Write.can_push() && !Role::Triage.can_push());
    }
}
