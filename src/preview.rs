//! The online preview: how each operation of a resolved plan meets the state of GitHub.
//!
//! Pure: the shell reads GitHub into a [`World`] (a handful of requests for the whole
//! dry-run), and [`preview_plan`] decides, per operation, whether it would be created, has
//! already shipped exactly as planned, or conflicts with what exists (a stable reason code).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::canonical::sha256_hex;
use crate::github::{PullRequest, Release};
use crate::model::CommitSha;
use crate::plan::ResolvedPlan;
use crate::plan::{Publish, ResolvedOperation, TagTarget};
use crate::reason::Code;

/// A tag on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFact {
    /// The commit it points at (peeled).
    pub commit: String,
    /// The message of an annotated tag; `None` for a lightweight one.
    pub message: Option<String>,
}

/// What GitHub holds that the plans touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct World {
    /// Tags by name.
    pub tags: BTreeMap<String, TagFact>,
    /// Branches by name, with their head commits.
    pub branches: BTreeMap<String, String>,
    /// Releases by tag.
    pub releases: BTreeMap<String, Release>,
    /// Open pull requests by (head, base).
    pub pulls: BTreeMap<(String, String), PullRequest>,
    /// Why the token may not open pull requests, if GitHub refuses it them.
    pub pull_request_refusal: Option<String>,
}

/// Whether an operation would act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewState {
    /// Nothing exists yet: execution would create it.
    WouldCreate,
    /// It exists exactly as planned: execution would record it, not repeat it.
    AlreadyShipped,
    /// Something different exists, or a prerequisite is missing: execution would be blocked.
    Conflict,
}

/// Why an operation conflicts with GitHub's state. Stable codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "Code")]
pub enum ConflictCode {
    /// The tag exists at another commit.
    ConflictTagExists,
    /// A release of the tag exists with other title, notes or flags.
    ConflictReleaseExists,
    /// An open pull request for the branches exists with another title.
    ConflictPullRequestExists,
    /// The release's tag is neither on GitHub nor created by an earlier tag operation.
    ReleaseTagMissing,
    /// A pull request's head or base branch is not on GitHub.
    BranchMissing,
    /// A pull request's head branch (or the open pull request) is at another commit than the
    /// approved one: it would ship commits nobody reviewed.
    PullRequestHeadMoved,
    /// GitHub refuses this token pull requests (a workflow's `GITHUB_TOKEN` while the
    /// repository does not allow GitHub Actions to create them).
    TokenCannotOpenPullRequest,
}

impl From<ConflictCode> for Code {
    fn from(value: ConflictCode) -> Self {
        value.reason_code()
    }
}

impl ConflictCode {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(self) -> Code {
        match self {
            Self::ConflictTagExists => Code::ConflictTagExists,
            Self::ConflictReleaseExists => Code::ConflictReleaseExists,
            Self::ConflictPullRequestExists => Code::ConflictPullRequestExists,
            Self::ReleaseTagMissing => Code::ReleaseTagMissing,
            Self::BranchMissing => Code::BranchMissing,
            Self::PullRequestHeadMoved => Code::PullRequestHeadMoved,
            Self::TokenCannotOpenPullRequest => Code::TokenCannotOpenPullRequest,
        }
    }

    /// What it means and what to do: the registry's sentence.
    pub fn why(self) -> &'static str {
        self.reason_code().sentence()
    }
}

/// One operation's preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The outcome.
    pub state: PreviewState,
    /// Set for conflicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<ConflictCode>,
    /// What was found.
    pub detail: String,
}

impl Preview {
    fn create(detail: impl Into<String>) -> Self {
        Self {
            state: PreviewState::WouldCreate,
            code: None,
            detail: detail.into(),
        }
    }

    fn shipped(detail: impl Into<String>) -> Self {
        Self {
            state: PreviewState::AlreadyShipped,
            code: None,
            detail: detail.into(),
        }
    }

    fn conflict(code: ConflictCode, detail: impl Into<String>) -> Self {
        Self {
            state: PreviewState::Conflict,
            code: Some(code),
            detail: detail.into(),
        }
    }
}

/// Previews each operation of `plan`, in order.
pub fn preview_plan(plan: &ResolvedPlan, world: &World) -> Vec<Preview> {
    let mut tags_made_earlier: BTreeSet<&str> = BTreeSet::new();
    plan.operations
        .iter()
        .map(|op| {
            let preview = preview_operation(op, world, &tags_made_earlier);
            if let ResolvedOperation::Tag { name, .. } = op {
                tags_made_earlier.insert(name);
            }
            preview
        })
        .collect()
}

fn describe_tag(message: Option<&str>) -> &'static str {
    match message {
        Some(_) => "an annotated tag with another message",
        None => "a lightweight tag",
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Previews one operation; `tags_made_earlier` are the plan's tags before it.
fn preview_operation(
    op: &ResolvedOperation,
    world: &World,
    tags_made_earlier: &BTreeSet<&str>,
) -> Preview {
    match op {
        ResolvedOperation::Tag {
            name,
            target,
            message,
            ..
        } => preview_tag(world, name, target, message.as_deref()),
        ResolvedOperation::Release {
            tag,
            title,
            notes_sha256,
            draft,
            prerelease,
            publish,
            ..
        } => preview_release(
            world,
            tags_made_earlier,
            tag,
            title,
            notes_sha256,
            (*draft, *prerelease, *publish),
        ),
        ResolvedOperation::PullRequest {
            head,
            head_sha,
            base,
            title,
            ..
        } => preview_pull_request(world, head, head_sha, base, title),
    }
}

/// A tag: new, already there at the planned commit with the planned message, or a conflict.
fn preview_tag(world: &World, name: &str, target: &TagTarget, message: Option<&str>) -> Preview {
    match world.tags.get(name) {
        None => Preview::create(format!("tag {name} does not exist yet")),
        // Before its merge, a `target: merge` tag has no commit: any existing tag conflicts.
        Some(found) if Some(found.commit.as_str()) != target.commit().map(CommitSha::as_str) => {
            Preview::conflict(
                ConflictCode::ConflictTagExists,
                format!(
                    "tag {name} exists at {}, the plan wants {}",
                    short(&found.commit),
                    target.describe()
                ),
            )
        }
        // GitHub stores an annotated tag's message as given; git may add a final newline.
        Some(found)
            if found.message.as_deref().map(str::trim_end) != message.map(str::trim_end) =>
        {
            Preview::conflict(
                ConflictCode::ConflictTagExists,
                format!(
                    "tag {name} points at {} but is {} where the plan wants {}",
                    short(&found.commit),
                    describe_tag(found.message.as_deref()),
                    describe_tag(message)
                ),
            )
        }
        Some(found) => Preview::shipped(format!(
            "tag {name} already points at {}",
            short(&found.commit)
        )),
    }
}

/// A release: new (its tag exists or an earlier operation makes it), shipped, or a conflict.
/// The last argument holds the planned draft and prerelease flags.
fn preview_release(
    world: &World,
    tags_made_earlier: &BTreeSet<&str>,
    tag: &str,
    title: &str,
    notes_sha256: &str,
    (draft, prerelease, publish): (bool, bool, Publish),
) -> Preview {
    match world.releases.get(tag) {
        Some(found) => {
            let body = found.body.as_deref().unwrap_or_default();
            let same = found.name.as_deref().unwrap_or(tag) == title
                && sha256_hex(body.as_bytes()) == notes_sha256
                && publish.accepts(draft, found.draft)
                && found.prerelease == prerelease;
            if same {
                Preview::shipped(format!("the release of {tag} exists as planned"))
            } else {
                Preview::conflict(
                    ConflictCode::ConflictReleaseExists,
                    format!("a release of {tag} exists with other title, notes or flags"),
                )
            }
        }
        None if world.tags.contains_key(tag) || tags_made_earlier.contains(tag) => {
            Preview::create(format!("no release of {tag} yet"))
        }
        None => Preview::conflict(
            ConflictCode::ReleaseTagMissing,
            format!("tag {tag} is not on GitHub and the plan does not create it first"),
        ),
    }
}

/// A pull request: both branches must exist, the head must be where it was approved, and an
/// open one from head to base must have the planned title.
fn preview_pull_request(
    world: &World,
    head: &str,
    head_sha: &CommitSha,
    base: &str,
    title: &str,
) -> Preview {
    let missing: Vec<&str> = [head, base]
        .into_iter()
        .filter(|b| !world.branches.contains_key(*b))
        .collect();
    if !missing.is_empty() {
        return Preview::conflict(
            ConflictCode::BranchMissing,
            format!("not on GitHub: branch {}", missing.join(", branch ")),
        );
    }
    let approved = head_sha.as_str();
    match world.pulls.get(&(head.to_owned(), base.to_owned())) {
        Some(found) if found.title == title && found.head_sha != approved => Preview::conflict(
            ConflictCode::PullRequestHeadMoved,
            format!(
                "pull request #{} {head} -> {base} is open at {}, approved at {approved}",
                found.number, found.head_sha
            ),
        ),
        Some(found) if found.title == title => Preview::shipped(format!(
            "pull request #{} {head} -> {base} is open",
            found.number
        )),
        None if world.branches.get(head).map(String::as_str) != Some(approved) => {
            Preview::conflict(
                ConflictCode::PullRequestHeadMoved,
                format!(
                    "branch {head} is at {} on GitHub, approved at {approved}",
                    world.branches.get(head).map_or("?", String::as_str)
                ),
            )
        }
        None => match &world.pull_request_refusal {
            Some(refusal) => {
                Preview::conflict(ConflictCode::TokenCannotOpenPullRequest, refusal.clone())
            }
            None => Preview::create(format!("no open pull request {head} -> {base} yet")),
        },
        Some(found) => Preview::conflict(
            ConflictCode::ConflictPullRequestExists,
            format!(
                "pull request #{} {head} -> {base} is open with another title",
                found.number
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CommitSha;

    fn plan(message: Option<&str>) -> ResolvedPlan {
        let operations = vec![ResolvedOperation::Tag {
            name: "v1".into(),
            target: crate::plan::TagTarget::Commit(CommitSha::parse(&"a".repeat(40)).expect("sha")),
            message: message.map(str::to_owned),
            target_as_written: "main".into(),
        }];
        ResolvedPlan::for_tests(operations)
    }

    fn pull_request_plan() -> ResolvedPlan {
        let mut resolved = plan(None);
        resolved.operations = vec![ResolvedOperation::PullRequest {
            head: "feature".into(),
            head_sha: CommitSha::parse(&"a".repeat(40)).expect("sha"),
            base: "main".into(),
            base_sha: CommitSha::parse(&"b".repeat(40)).expect("sha"),
            title: "Merge".into(),
            body: None,
            draft: false,
        }];
        resolved
    }

    fn with_head(branch_at: char, open_at: Option<char>) -> World {
        let mut world = World::default();
        world
            .branches
            .insert("feature".into(), branch_at.to_string().repeat(40));
        world.branches.insert("main".into(), "b".repeat(40));
        if let Some(at) = open_at {
            world.pulls.insert(
                ("feature".into(), "main".into()),
                PullRequest {
                    number: crate::model::PrNumber::new(7),
                    state: "open".into(),
                    title: "Merge".into(),
                    body: None,
                    draft: false,
                    head_ref: "feature".into(),
                    head_sha: at.to_string().repeat(40),
                    base_ref: "main".into(),
                    base_sha: "b".repeat(40),
                    author: crate::model::Login::parse("bot").expect("login"),
                    html_url: "https://github.com/acme/widget/pull/7".into(),
                    commits: 1,
                },
            );
        }
        world
    }

    #[test]
    fn a_pull_request_ships_only_from_the_approved_head() {
        let planned = pull_request_plan();
        let moved = (
            PreviewState::Conflict,
            Some(ConflictCode::PullRequestHeadMoved),
        );
        assert_eq!(
            state(&planned, &with_head('a', None)),
            (PreviewState::WouldCreate, None)
        );
        assert_eq!(state(&planned, &with_head('c', None)), moved);
        assert_eq!(
            state(&planned, &with_head('a', Some('a'))),
            (PreviewState::AlreadyShipped, None)
        );
        // Opened, then the branch moved under it: the read-back refuses it.
        assert_eq!(state(&planned, &with_head('c', Some('c'))), moved);
    }

    fn with_tag(commit: char, message: Option<&str>) -> World {
        let mut world = World::default();
        world.tags.insert(
            "v1".into(),
            TagFact {
                commit: commit.to_string().repeat(40),
                message: message.map(str::to_owned),
            },
        );
        world
    }

    fn state(plan: &ResolvedPlan, world: &World) -> (PreviewState, Option<ConflictCode>) {
        let preview = &preview_plan(plan, world)[0];
        (preview.state, preview.code)
    }

    #[test]
    fn a_tag_is_shipped_only_at_the_commit_and_with_the_message_planned() {
        let annotated = plan(Some("Release 1"));
        let lightweight = plan(None);
        let conflict = (
            PreviewState::Conflict,
            Some(ConflictCode::ConflictTagExists),
        );
        let shipped = (PreviewState::AlreadyShipped, None);
        assert_eq!(
            state(&annotated, &World::default()).0,
            PreviewState::WouldCreate
        );
        assert_eq!(
            state(&annotated, &with_tag('a', Some("Release 1\n"))),
            shipped
        );
        assert_eq!(
            state(&annotated, &with_tag('a', Some("Release 2"))),
            conflict
        );
        assert_eq!(state(&annotated, &with_tag('a', None)), conflict);
        assert_eq!(
            state(&annotated, &with_tag('b', Some("Release 1"))),
            conflict
        );
        assert_eq!(state(&lightweight, &with_tag('a', None)), shipped);
        assert_eq!(state(&lightweight, &with_tag('a', Some("x"))), conflict);
    }
}
