//! Read-only snapshots of the fake's state for tests to assert on.
//!
//! Plain public structs copied out under the lock, so a test never holds the fake's lock.
use crate::state::{Comment, Pull, Reaction, Release, State};

/// An issue or pull request comment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommentView {
    /// The comment id.
    pub id: u64,
    /// Its author.
    pub login: String,
    /// Its markdown body.
    pub body: String,
    /// GitHub's format, e.g. `2026-11-20T10:00:00Z`.
    pub created_at: String,
    /// GitHub's format; later than `created_at` once edited.
    pub updated_at: String,
}

/// A reaction on a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReactionView {
    /// Who reacted.
    pub login: String,
    /// `+1`, `-1`, `laugh`, `confused`, `heart`, `hooray`, `rocket` or `eyes`.
    pub content: String,
}

/// A release.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReleaseView {
    /// The release id.
    pub id: u64,
    /// Its tag.
    pub tag_name: String,
    /// Its title, if one was given.
    pub name: Option<String>,
    /// Its notes, if any were given.
    pub body: Option<String>,
    /// Whether it is a draft.
    pub draft: bool,
    /// Whether it is a prerelease.
    pub prerelease: bool,
    /// The branch or sha it was created from (the default branch when not given).
    pub target_commitish: String,
}

/// A pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullView {
    /// Its number.
    pub number: u64,
    /// The head branch.
    pub head: String,
    /// The base branch.
    pub base: String,
    /// Its title.
    pub title: String,
    /// Its description, if one was given.
    pub body: Option<String>,
    /// Whether it is a draft.
    pub draft: bool,
    /// Its author.
    pub login: String,
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        CommentView {
            id: c.id,
            login: c.user.clone(),
            body: c.body.clone(),
            created_at: c.created_at.to_string(),
            updated_at: c.updated_at.to_string(),
        }
    }
}

impl From<&Reaction> for ReactionView {
    fn from(r: &Reaction) -> Self {
        ReactionView {
            login: r.user.clone(),
            content: r.content.clone(),
        }
    }
}

impl From<&Release> for ReleaseView {
    fn from(r: &Release) -> Self {
        ReleaseView {
            id: r.id,
            tag_name: r.tag_name.clone(),
            name: r.name.clone(),
            body: r.body.clone(),
            draft: r.draft,
            prerelease: r.prerelease,
            target_commitish: r.target_commitish.clone(),
        }
    }
}

impl From<&Pull> for PullView {
    fn from(p: &Pull) -> Self {
        PullView {
            number: p.number,
            head: p.head.clone(),
            base: p.base.clone(),
            title: p.title.clone(),
            body: p.body.clone(),
            draft: p.draft,
            login: p.user.clone(),
        }
    }
}

/// Snapshots of one repository's data, by `owner/name`; `None` for an unknown repository.
pub(crate) fn comments(state: &State, repo: &str, issue: u64) -> Option<Vec<CommentView>> {
    let id = state.repo_by_full_name(repo)?;
    Some(
        state
            .issue_comments(id, issue)
            .into_iter()
            .map(CommentView::from)
            .collect(),
    )
}

pub(crate) fn releases(state: &State, repo: &str) -> Option<Vec<ReleaseView>> {
    let id = state.repo_by_full_name(repo)?;
    Some(
        state
            .repo(id)
            .releases
            .iter()
            .map(ReleaseView::from)
            .collect(),
    )
}

pub(crate) fn pulls(state: &State, repo: &str) -> Option<Vec<PullView>> {
    let id = state.repo_by_full_name(repo)?;
    Some(state.repo(id).pulls.iter().map(PullView::from).collect())
}

pub(crate) fn reactions(state: &State, comment: u64) -> Vec<ReactionView> {
    state
        .comment_reactions(comment)
        .into_iter()
        .map(ReactionView::from)
        .collect()
}
