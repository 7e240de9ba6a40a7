//! Plans (DESIGN 2): what to ship.
//!
//! A plan file goes through three stages, each a type: [`raw`] (as written), [`CheckedPlan`]
//! (every rule of the format holds), and [`ResolvedPlan`] (every moving name pinned to a sha
//! or digest, with its plan id). This module is pure: resolution reads the repository only
//! through the [`PlanSources`] trait.

mod check;
mod merge;
mod notes;
mod raw;
mod resolve;

pub use check::{MAX_OPERATIONS, MAX_PLAN_BYTES, check_plan};
pub use merge::{HeadKind, LandedCommit, Landing, MergeState, MergeTarget, TagTarget};
pub use resolve::{
    PlanSources, ResolvedOperation, ResolvedPlan, SourceError, SourceFile, plan_id, resolve_plan,
    resolve_plan_approved,
};

use serde::Serialize;

use crate::model::{CommitSha, OpKey};

/// The kinds of operation a plan can contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A git tag.
    Tag,
    /// A GitHub release.
    Release,
    /// A pull request.
    PullRequest,
}

impl OpKind {
    /// Parses the `kind:` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tag" => Some(Self::Tag),
            "release" => Some(Self::Release),
            "pull_request" => Some(Self::PullRequest),
            _ => None,
        }
    }

    /// The kind as written in plans and policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tag => "tag",
            Self::Release => "release",
            Self::PullRequest => "pull_request",
        }
    }
}

/// What a tag points at, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A full commit sha.
    Commit(CommitSha),
    /// A branch or tag name, or a full ref (`refs/...`).
    Ref(String),
    /// `merge`: the commit that lands on the default branch when the plan's pull request
    /// merges (DESIGN 13.7). A branch named `merge` is written `refs/heads/merge`.
    Merge,
}

/// Where a release's notes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notes {
    /// No notes: the release body is empty.
    Empty,
    /// Inline text.
    Inline(String),
    /// A repository-relative file.
    File(String),
}

/// A tag operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOp {
    /// The tag name.
    pub name: String,
    /// What it points at.
    pub target: Target,
    /// Present for an annotated tag.
    pub message: Option<String>,
}

/// A release operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseOp {
    /// The tag the release is for.
    pub tag: String,
    /// The title (defaults to the tag).
    pub title: String,
    /// The release notes.
    pub notes: Notes,
    /// Create as a draft.
    pub draft: bool,
    /// Mark as a prerelease.
    pub prerelease: bool,
    /// When it is published.
    pub publish: Publish,
}

/// When a release is published (issue 15): GitHub's immutable releases take no assets once
/// published, so a release with assets is created as a draft and published after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Publish {
    /// As it is created (a `draft: true` release then stays a draft).
    #[default]
    OnCreate,
    /// Created as a draft; `shipgate release publish` publishes it once the release workflow
    /// has attached its assets, and records that on the chain. The approval covers both.
    AfterAssets,
}

impl Publish {
    /// The value as a plan writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnCreate => "on_create",
            Self::AfterAssets => "after_assets",
        }
    }

    /// True for the default, which the plan id leaves out so that plans written before the
    /// field existed keep their ids.
    pub fn is_on_create(&self) -> bool {
        *self == Self::OnCreate
    }

    /// Whether the release is created as a draft.
    pub fn creates_draft(self, draft: bool) -> bool {
        draft || self == Self::AfterAssets
    }

    /// Whether a release GitHub shows as `found_draft` is in a state the plan approved: an
    /// `after_assets` release is a draft until published, then published.
    pub fn accepts(self, draft: bool, found_draft: bool) -> bool {
        match self {
            Self::OnCreate => found_draft == draft,
            Self::AfterAssets => true,
        }
    }
}

/// A pull request operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestOp {
    /// The branch with the changes.
    pub head: String,
    /// The branch to merge into.
    pub base: String,
    /// The title.
    pub title: String,
    /// The description.
    pub body: Option<String>,
    /// Open as a draft.
    pub draft: bool,
}

/// A checked operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// See [`TagOp`].
    Tag(TagOp),
    /// See [`ReleaseOp`].
    Release(ReleaseOp),
    /// See [`PullRequestOp`].
    PullRequest(PullRequestOp),
}

impl Operation {
    /// The operation's kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Self::Tag(_) => OpKind::Tag,
            Self::Release(_) => OpKind::Release,
            Self::PullRequest(_) => OpKind::PullRequest,
        }
    }

    /// The logical request key (DESIGN 2).
    pub fn key(&self) -> OpKey {
        match self {
            Self::Tag(t) => OpKey::tag(&t.name),
            Self::Release(r) => OpKey::release(&r.tag),
            Self::PullRequest(p) => OpKey::pull_request(&p.head, &p.base),
        }
    }

    /// The ref that policy `refs:` patterns match: the tag for tags and releases, the base
    /// branch (where the change lands) for pull requests.
    pub fn policy_ref(&self) -> &str {
        match self {
            Self::Tag(t) => &t.name,
            Self::Release(r) => &r.tag,
            Self::PullRequest(p) => &p.base,
        }
    }
}

/// A plan whose every format rule holds. It keeps its source text so that later errors
/// (resolution) can still point at a line and column.
#[derive(Debug, Clone)]
pub struct CheckedPlan {
    /// The file name used in messages.
    pub file: String,
    /// The optional display name.
    pub name: Option<String>,
    /// The operations, in plan order.
    pub operations: Vec<Operation>,
    source: String,
}
