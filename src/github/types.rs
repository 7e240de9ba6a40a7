//! shipgate's own views of GitHub objects, and the wire shapes they are read from.
//!
//! The port returns these, never octocrab's models (DESIGN 11, STYLE 4): they hold only what
//! shipgate decides on, so tests and the fake need not build GitHub's full objects to use them.
//! The `Wire*` types are private deserialisation targets; unknown fields are ignored because
//! GitHub adds fields freely (strictness is for user input, not for GitHub's answers).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::approval::evaluate::Comment;
use crate::model::{CommentId, Login, PrNumber};

/// The repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoInfo {
    /// owner/name.
    pub full_name: String,
    /// The default branch.
    pub default_branch: String,
    /// Its web address.
    pub html_url: String,
    /// Whether the token may push; `None` when GitHub does not say (it reports `permissions`
    /// for user tokens, not for GitHub App installation tokens such as `GITHUB_TOKEN`).
    pub push: Option<bool>,
}

/// A git reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitRef {
    /// The full name, e.g. `refs/tags/v1.4.0`.
    pub name: String,
    /// What it points at: a commit, or a tag object for annotated tags.
    pub object_sha: String,
    /// `commit` or `tag`.
    pub object_type: String,
}

/// An annotated tag object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagObject {
    /// The tag object's own sha.
    pub sha: String,
    /// The tag name.
    pub tag: String,
    /// The message, as GitHub stores it.
    pub message: String,
    /// The tagged object's sha.
    pub object_sha: String,
    /// The tagged object's type (`commit`).
    pub object_type: String,
}

/// A GitHub release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// Release id.
    pub id: u64,
    /// The tag.
    pub tag_name: String,
    /// Title (GitHub shows the tag when empty).
    pub name: Option<String>,
    /// Notes.
    pub body: Option<String>,
    /// Draft flag.
    pub draft: bool,
    /// Prerelease flag.
    pub prerelease: bool,
    /// Web address.
    pub html_url: String,
    /// Where its assets are uploaded: GitHub's URI template, e.g.
    /// `https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`.
    pub upload_url: String,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// Its number.
    pub number: PrNumber,
    /// `open` or `closed`.
    pub state: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Draft flag.
    pub draft: bool,
    /// Head branch name.
    pub head_ref: String,
    /// Head commit.
    pub head_sha: String,
    /// Base branch name.
    pub base_ref: String,
    /// Base commit.
    pub base_sha: String,
    /// Who opened it.
    pub author: Login,
    /// Web address.
    pub html_url: String,
    /// How many commits it has (GitHub counts them all, though it lists at most 250).
    pub commits: u64,
}

impl PullRequest {
    /// Whether it is open (neither merged nor closed).
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// One commit of a pull request, with the GitHub accounts its author and committer emails
/// link to (`None` when GitHub links the email to no account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullCommit {
    /// The commit.
    pub sha: String,
    /// The account of its author email.
    pub author: Option<Login>,
    /// The account of its committer email.
    pub committer: Option<Login>,
}

/// A collaborator's permission on the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// No access.
    None,
    /// Read (and triage).
    Read,
    /// Write (and maintain).
    Write,
    /// Admin.
    Admin,
}

impl Permission {
    /// Reads GitHub's `permission` value (`admin`, `write`, `read`, `none`; legacy `maintain` and
    /// `triage` fold into write and read). Unknown values fail closed to `None`.
    pub fn from_github(text: &str) -> Self {
        match text {
            "admin" => Self::Admin,
            "write" | "maintain" => Self::Write,
            "read" | "triage" => Self::Read,
            _ => Self::None,
        }
    }
}

/// A reaction shipgate leaves on a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reaction {
    /// The approval counted.
    PlusOne,
    /// The command was refused.
    MinusOne,
    /// The command was seen (before it is processed).
    Eyes,
}

impl Reaction {
    /// GitHub's `content` value.
    pub fn content(self) -> &'static str {
        match self {
            Self::PlusOne => "+1",
            Self::MinusOne => "-1",
            Self::Eyes => "eyes",
        }
    }
}

/// A new release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRelease<'a> {
    /// The tag (must exist: shipgate never lets GitHub create it implicitly).
    pub tag_name: &'a str,
    /// Title.
    pub name: &'a str,
    /// Notes.
    pub body: &'a str,
    /// Draft flag.
    pub draft: bool,
    /// Prerelease flag.
    pub prerelease: bool,
}

/// A new pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPullRequest<'a> {
    /// Title.
    pub title: &'a str,
    /// Head branch.
    pub head: &'a str,
    /// Base branch.
    pub base: &'a str,
    /// Body.
    pub body: &'a str,
    /// Draft flag.
    pub draft: bool,
}

/// A write's result, and whether it was learnt by reading back after an ambiguous failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written<T> {
    /// What GitHub holds now.
    pub value: T,
    /// The request failed ambiguously (5xx, dropped connection) and the read-back found the effect.
    pub recovered: bool,
}

impl<T> Written<T> {
    /// The same write, its value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        Written {
            value: f(self.value),
            recovered: self.recovered,
        }
    }
}

/// What an effect left on GitHub, by the kind of operation the gate's pass carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shipped {
    /// A lightweight tag: its ref.
    Tag(GitRef),
    /// An annotated tag: its tag object.
    AnnotatedTag(TagObject),
    /// A release.
    Release(Release),
    /// A pull request.
    PullRequest(PullRequest),
}

impl Shipped {
    /// Where to see it on GitHub (releases and pull requests have a page).
    pub fn html_url(&self) -> Option<&str> {
        match self {
            Self::Release(release) => Some(&release.html_url),
            Self::PullRequest(pull) => Some(&pull.html_url),
            Self::Tag(_) | Self::AnnotatedTag(_) => None,
        }
    }
}

// ---- wire shapes ----

#[derive(Deserialize)]
pub(super) struct WireRepo {
    pub full_name: String,
    pub default_branch: String,
    pub html_url: String,
    pub permissions: Option<WirePermissions>,
}

#[derive(Deserialize)]
pub(super) struct WirePermissions {
    pub push: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct WireObject {
    pub sha: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
pub(super) struct WireRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub object: WireObject,
}

#[derive(Deserialize)]
pub(super) struct WireTag {
    pub sha: String,
    pub tag: String,
    pub message: String,
    pub object: WireObject,
}

#[derive(Deserialize)]
pub(super) struct WireRelease {
    pub id: u64,
    pub tag_name: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub html_url: String,
    pub upload_url: String,
}

#[derive(Deserialize)]
pub(super) struct WireUser {
    pub login: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Deserialize)]
pub(super) struct WireBranchRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

#[derive(Deserialize)]
pub(super) struct WirePull {
    pub number: PrNumber,
    pub state: String,
    pub title: String,
    pub body: Option<String>,
    #[serde(default)]
    pub draft: bool,
    pub head: WireBranchRef,
    pub base: WireBranchRef,
    pub user: WireUser,
    pub html_url: String,
    #[serde(default)]
    pub commits: u64,
}

#[derive(Deserialize)]
pub(super) struct WireComment {
    pub id: CommentId,
    pub body: Option<String>,
    pub user: Option<WireUser>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default)]
    pub reactions: Option<WireReactionRollup>,
}

/// The `reactions` rollup of a comment: counts per content, not who reacted.
#[derive(Deserialize)]
pub(super) struct WireReactionRollup {
    #[serde(rename = "+1", default)]
    pub plus_one: u64,
    #[serde(rename = "-1", default)]
    pub minus_one: u64,
}

/// An account GitHub links a commit to: a user, or null or `{}` when it links none.
#[derive(Deserialize)]
pub(super) struct WireLinkedAccount {
    #[serde(default)]
    pub login: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WirePullCommit {
    pub sha: String,
    pub author: Option<WireLinkedAccount>,
    pub committer: Option<WireLinkedAccount>,
}

/// The authenticated account (`GET /user`).
#[derive(Deserialize)]
pub(super) struct WireIdentity {
    pub login: String,
}

#[derive(Deserialize)]
pub(super) struct WirePermission {
    pub permission: String,
}

#[derive(Deserialize)]
pub(super) struct WireMembership {
    pub state: String,
}

#[derive(Deserialize)]
pub(super) struct WireErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

impl From<WireRepo> for RepoInfo {
    fn from(w: WireRepo) -> Self {
        Self {
            full_name: w.full_name,
            default_branch: w.default_branch,
            html_url: w.html_url,
            push: w.permissions.and_then(|p| p.push),
        }
    }
}

impl From<WireRef> for GitRef {
    fn from(w: WireRef) -> Self {
        Self {
            name: w.name,
            object_sha: w.object.sha,
            object_type: w.object.kind,
        }
    }
}

impl From<WireTag> for TagObject {
    fn from(w: WireTag) -> Self {
        Self {
            sha: w.sha,
            tag: w.tag,
            message: w.message,
            object_sha: w.object.sha,
            object_type: w.object.kind,
        }
    }
}

impl From<WireRelease> for Release {
    fn from(w: WireRelease) -> Self {
        Self {
            id: w.id,
            tag_name: w.tag_name,
            name: w.name,
            body: w.body,
            draft: w.draft,
            prerelease: w.prerelease,
            html_url: w.html_url,
            upload_url: w.upload_url,
        }
    }
}

impl TryFrom<WirePull> for PullRequest {
    type Error = String;
    fn try_from(w: WirePull) -> Result<Self, String> {
        Ok(Self {
            number: w.number,
            state: w.state,
            title: w.title,
            body: w.body,
            draft: w.draft,
            head_ref: w.head.name,
            head_sha: w.head.sha,
            base_ref: w.base.name,
            base_sha: w.base.sha,
            author: Login::parse(&w.user.login).map_err(|e| e.to_string())?,
            html_url: w.html_url,
            commits: w.commits,
        })
    }
}

impl WireComment {
    /// A comment shipgate can judge; `None` for a deleted ("ghost") author, which never counts.
    pub(super) fn into_comment(self) -> Option<Comment> {
        let user = self.user?;
        let author = Login::parse(&user.login).ok()?;
        Some(Comment {
            id: self.id,
            author_is_bot: user.kind == "Bot" || author.as_str().ends_with("[bot]"),
            author,
            created_at: self.created_at,
            updated_at: self.updated_at,
            body: self.body.unwrap_or_default(),
            thumbs: self
                .reactions
                .map_or(0, |r| r.plus_one.saturating_add(r.minus_one)),
        })
    }
}

impl WireLinkedAccount {
    /// The linked login; an account shipgate cannot read counts as none (fail closed).
    fn login(account: Option<Self>) -> Option<Login> {
        account
            .and_then(|a| a.login)
            .and_then(|l| Login::parse(&l).ok())
    }
}

impl From<WirePullCommit> for PullCommit {
    fn from(w: WirePullCommit) -> Self {
        Self {
            sha: w.sha,
            author: WireLinkedAccount::login(w.author),
            committer: WireLinkedAccount::login(w.committer),
        }
    }
}
