//! The GitHub port (DESIGN 6, 9, 11): everything shipgate asks of or does to GitHub.
//!
//! Three halves, so that what a command may do is written in its signature:
//! - [`GitHubRead`]: reads (repository, refs, tags, releases, pulls, every page of comments,
//!   permissions, team membership). The dry-run and the verifier need nothing more.
//! - [`GitHubConversation`]: the PR conversation (status comment, reactions). It ships
//!   nothing; a dry-run on a PR uses it for its one status comment.
//! - [`GitHubEffects`]: what ships (tags, releases, pull requests). Its one method takes the
//!   gate's [`Authorized`] by value and performs the operation the pass carries, so nothing
//!   ships without a receipt, or other than approved.
//!
//! [`GitHubClient`] implements the first two over octocrab, with shipgate's own retries
//! (`client`: transport; `reads`; `conversation`), and [`GitHubSettings`], the reads of the
//! repository's settings that `shipgate doctor` checks. Only [`GitHubShipper`], a separate
//! type over a client that the executor builds, implements the effects (`effects`): the
//! dry-run holds a client, which cannot ship.

mod capability;
mod client;
mod conversation;
mod dispatch;
mod effects;
pub mod error;
mod publish;
mod reads;
pub mod retry;
pub mod settings;
pub mod types;
mod world;

pub use capability::{PULL_REQUEST_SETTING, PullRequestRefusal, WorkflowPermissions};
pub use client::{DEFAULT_API_URL, GitHubClient, GitHubConfig, MAX_COMMENTS, MAX_PULL_COMMITS};
pub use conversation::{NewStatus, StatusState};
pub use effects::GitHubShipper;
pub use error::GitHubError;
pub use retry::{RetryPolicy, RetryReport};
pub use settings::{BranchProtection, BranchRule, GitHubSettings, TagCreationRuleset};
pub use types::{
    GitRef, Permission, PullCommit, PullRequest, Reaction, Release, RepoInfo, Shipped, TagObject,
    Written,
};
pub use world::read_world;

use crate::approval::evaluate::Comment;
use crate::gate::Authorized;
use crate::model::{CommentId, Login, PrNumber, TeamSlug};

// The port is driven on a current-thread runtime (one command, one task), so its futures need
// not be `Send`; `async fn` in these traits is the plain, readable form.

/// Reads.
#[allow(async_fn_in_trait)]
pub trait GitHubRead {
    /// The repository.
    async fn repository(&self) -> Result<RepoInfo, GitHubError>;
    /// One ref, named without `refs/` (`tags/v1.0`, `heads/main`); `None` if absent.
    async fn git_ref(&self, name: &str) -> Result<Option<GitRef>, GitHubError>;
    /// Every ref whose name starts with `prefix` (without `refs/`, e.g. `tags/`).
    async fn matching_refs(&self, prefix: &str) -> Result<Vec<GitRef>, GitHubError>;
    /// An annotated tag object by its sha.
    async fn tag_object(&self, sha: &str) -> Result<Option<TagObject>, GitHubError>;
    /// The published release of a tag (GitHub's by-tag lookup does not show drafts).
    async fn published_release(&self, tag: &str) -> Result<Option<Release>, GitHubError>;
    /// The most recent releases (one page of 100), drafts included.
    async fn recent_releases(&self) -> Result<Vec<Release>, GitHubError>;
    /// The open pull request from `head` into `base`, if any.
    async fn open_pull(&self, head: &str, base: &str) -> Result<Option<PullRequest>, GitHubError>;
    /// A pull request by number.
    async fn pull(&self, number: PrNumber) -> Result<Option<PullRequest>, GitHubError>;
    /// Every comment of an issue or pull request, all pages, in GitHub's order.
    async fn comments(&self, issue: PrNumber) -> Result<Vec<Comment>, GitHubError>;
    /// One issue or pull request comment by id; `None` if it does not exist (or was deleted).
    async fn comment(&self, id: CommentId) -> Result<Option<Comment>, GitHubError>;
    /// The commits of a pull request (GitHub lists at most 250), each with the accounts its
    /// author and committer emails link to.
    async fn pull_commits(&self, number: PrNumber) -> Result<Vec<PullCommit>, GitHubError>;
    /// The account the token authenticates (`GET /user`); `None` for an installation token
    /// (`GITHUB_TOKEN`, a GitHub App's), which GitHub does not let read it.
    async fn identity(&self) -> Result<Option<Login>, GitHubError>;
    /// A user's permission on the repository (`None` for strangers).
    async fn permission(&self, login: &Login) -> Result<Permission, GitHubError>;
    /// Whether a user is an active member of a team.
    async fn team_member(&self, team: &TeamSlug, login: &Login) -> Result<bool, GitHubError>;
}

/// The pull request conversation: comments and reactions. Ships nothing.
#[allow(async_fn_in_trait)]
pub trait GitHubConversation: GitHubRead {
    /// Posts a comment; returns its id.
    async fn create_comment(&self, issue: PrNumber, body: &str) -> Result<CommentId, GitHubError>;
    /// Replaces a comment's body.
    async fn update_comment(&self, comment_id: CommentId, body: &str) -> Result<(), GitHubError>;
    /// Reacts to a comment (idempotent, as on GitHub).
    async fn react(&self, comment_id: CommentId, reaction: Reaction) -> Result<(), GitHubError>;
}

/// What ships: the one effect the gate's pass carries, the pass spent by value.
#[allow(async_fn_in_trait)]
pub trait GitHubEffects {
    /// Performs the approved operation (a tag, lightweight or annotated as approved; a release
    /// of an existing tag, never one that creates it; a pull request), settling an ambiguous
    /// failure by reading back.
    async fn ship(&self, pass: Authorized) -> Result<Written<Shipped>, GitHubError>;

    /// Why GitHub would refuse this token a pull request into `base`, or `None` if it would
    /// not: asked before a pull request operation's receipt is spent.
    async fn pull_request_refusal(
        &self,
        base: &str,
    ) -> Result<Option<PullRequestRefusal>, GitHubError>;
}

/// The tag object a ref names, if it names one (annotated tags).
pub async fn peel_tag(
    github: &impl GitHubRead,
    reference: &GitRef,
) -> Result<Option<TagObject>, GitHubError> {
    if reference.object_type != "tag" {
        return Ok(None);
    }
    github.tag_object(&reference.object_sha).await
}

/// The release of a tag, published or draft: the by-tag lookup, then the recent releases.
pub async fn find_release(
    github: &impl GitHubRead,
    tag: &str,
) -> Result<Option<Release>, GitHubError> {
    if let Some(release) = github.published_release(tag).await? {
        return Ok(Some(release));
    }
    Ok(github
        .recent_releases()
        .await?
        .into_iter()
        .find(|r| r.tag_name == tag))
}

/// The hidden marker that identifies shipgate's status comment on a PR.
pub const STATUS_MARKER: &str = "<!-- shipgate:status -->";

/// Whether the status comment was created or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new comment.
    Created(CommentId),
    /// The existing one, edited in place.
    Updated(CommentId),
}

/// The login shipgate comments as when the token cannot say (`GET /user` answers 403 for
/// installation tokens): Actions' `GITHUB_TOKEN` comments as `github-actions[bot]`. A GitHub
/// App's token comments as `<app-slug>[bot]`: set `SHIPGATE_BOT_LOGIN` to that.
pub const DEFAULT_BOT_LOGIN: &str = "github-actions[bot]";

/// Writes the one status comment of a PR (DESIGN 13.10): the comment that starts with
/// [`STATUS_MARKER`] *and* was written by `ours`, the token's own account, is edited in place;
/// otherwise a new one is created. A marker comment by anyone else is never touched (it could
/// be edited back by its author). `body` must start with the marker.
pub async fn upsert_status_comment(
    github: &impl GitHubConversation,
    issue: PrNumber,
    body: &str,
    ours: &Login,
) -> Result<Upserted, GitHubError> {
    debug_assert!(body.starts_with(STATUS_MARKER));
    let comments = github.comments(issue).await?;
    let mut mine: Vec<&Comment> = comments
        .iter()
        .filter(|c| c.body.starts_with(STATUS_MARKER) && c.author == *ours)
        .collect();
    mine.sort_by_key(|c| (c.created_at, c.id));
    match mine.first() {
        Some(existing) => {
            github.update_comment(existing.id, body).await?;
            Ok(Upserted::Updated(existing.id))
        }
        None => match github.create_comment(issue, body).await {
            Ok(id) => Ok(Upserted::Created(id)),
            Err(err @ GitHubError::Ambiguous { .. }) => {
                // Did it land? Read back rather than post a second one.
                let landed = github
                    .comments(issue)
                    .await?
                    .into_iter()
                    .find(|c| c.body == body && c.author == *ours);
                landed.map(|c| Upserted::Created(c.id)).ok_or(err)
            }
            Err(err) => Err(err),
        },
    }
}
