//! The GitHub Actions event that started a run (`GITHUB_EVENT_PATH`), reduced to what
//! `mint` needs (which pull request a comment is on, and whether to act at all) and what
//! `dry-run --merge-group` needs (the merge queue's group commit and the commit it builds on).
//!
//! Comments on plain issues, edits and deletions, and comments without a `/shipgate` line are
//! ignored quickly and successfully: a workflow runs for every comment, and most are not for us.
//! A merge group payload is checked strictly (commit ids, refs, sizes): the check it leads to
//! gates merging, so one that does not read as GitHub's is refused, never guessed at.

use serde::Deserialize;

use crate::approval::command::{Command, parse_comment};
use crate::model::{CommentId, CommitSha, Login, PrNumber, RepoSlug};
use crate::reason::Code;

/// Largest event file read (GitHub caps webhook payloads at 25 MB).
pub const MAX_EVENT_BYTES: usize = 25 * 1024 * 1024;

/// Why an event needs no work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Only newly created comments are read; edits and deletions never act.
    Action(String),
    /// The comment is on an issue, not a pull request.
    NotAPullRequest,
    /// The comment holds no `/shipgate` line.
    NoCommand,
}

impl Ignored {
    /// One line for the log.
    pub fn explain(&self) -> String {
        match self {
            Self::Action(action) => {
                format!("ignored: comment {action}, only new comments are read")
            }
            Self::NotAPullRequest => {
                "ignored: the comment is on an issue, not a pull request".into()
            }
            Self::NoCommand => "ignored: the comment has no /shipgate command".into(),
        }
    }
}

/// A new comment with a command, on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentOnPullRequest {
    /// The repository.
    pub repo: RepoSlug,
    /// The pull request number.
    pub pr: PrNumber,
    /// The comment's id.
    pub comment_id: CommentId,
    /// Its author.
    pub author: Login,
    /// The comment's commands, in order.
    pub commands: Vec<Command>,
}

/// What an `issue_comment` event asks of shipgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentEvent {
    /// Work to do.
    Act(CommentOnPullRequest),
    /// Nothing to do, and why.
    Ignore(Ignored),
}

/// Why an event file could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Larger than [`MAX_EVENT_BYTES`] (`EVENT_MALFORMED`).
    #[error(
        "{}: the event file is larger than {MAX_EVENT_BYTES} bytes",
        Code::EventMalformed
    )]
    TooLarge,
    /// Not an `issue_comment` payload (`EVENT_MALFORMED`).
    #[error("{}: not an issue_comment event payload: {}", Code::EventMalformed, .0)]
    Malformed(String),
    /// Not a `merge_group` payload as GitHub sends it (`EVENT_MALFORMED`).
    #[error("{}: not a merge_group event payload: {}", Code::EventMalformed, .0)]
    MalformedMergeGroup(String),
}

#[derive(Deserialize)]
struct Payload {
    action: String,
    issue: Issue,
    comment: CommentPayload,
    repository: Repository,
}

#[derive(Deserialize)]
struct Issue {
    number: PrNumber,
    pull_request: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CommentPayload {
    id: CommentId,
    body: Option<String>,
    user: User,
}

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

/// Reads an `issue_comment` event payload.
pub fn read_comment_event(bytes: &[u8]) -> Result<CommentEvent, EventError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge);
    }
    let payload: Payload =
        serde_json::from_slice(bytes).map_err(|e| EventError::Malformed(e.to_string()))?;
    if payload.action != "created" {
        return Ok(CommentEvent::Ignore(Ignored::Action(payload.action)));
    }
    if payload.issue.pull_request.is_none() {
        return Ok(CommentEvent::Ignore(Ignored::NotAPullRequest));
    }
    let body = payload.comment.body.unwrap_or_default();
    let parsed = parse_comment(&body);
    if parsed.commands.is_empty() && parsed.errors.is_empty() {
        return Ok(CommentEvent::Ignore(Ignored::NoCommand));
    }
    let repo = RepoSlug::parse(&payload.repository.full_name)
        .map_err(|e| EventError::Malformed(e.to_string()))?;
    let author = Login::parse(&payload.comment.user.login)
        .map_err(|e| EventError::Malformed(e.to_string()))?;
    Ok(CommentEvent::Act(CommentOnPullRequest {
        repo,
        pr: payload.issue.number,
        comment_id: payload.comment.id,
        author,
        commands: parsed.commands.into_iter().map(|(_, c)| c).collect(),
    }))
}

/// Longest ref a merge group payload may name (git allows longer; GitHub's are far shorter).
const MAX_REF_BYTES: usize = 255;

/// A merge queue's group (`merge_group`, `checks_requested`): what its `shipgate` check judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeGroup {
    /// The group's commit: the base with the queued pull requests merged, where the check goes.
    pub head_sha: CommitSha,
    /// The commit the group builds on (the base branch, or the group ahead in the queue).
    pub base_sha: CommitSha,
    /// The group's ref, `refs/heads/gh-readonly-queue/<base>/pr-<n>-<sha>`.
    pub head_ref: String,
    /// The branch it merges into, `refs/heads/<base>`.
    pub base_ref: String,
}

impl MergeGroup {
    /// The pull request the group's ref names (the last one queued), when it reads as GitHub
    /// names it: `.../pr-<n>-<sha>`.
    pub fn pull_request(&self) -> Option<PrNumber> {
        let last = self.head_ref.rsplit('/').next()?;
        let (number, _) = last.strip_prefix("pr-")?.split_once('-')?;
        let digits = !number.is_empty() && number.len() <= 19;
        (digits && number.bytes().all(|b| b.is_ascii_digit()))
            .then(|| number.parse().ok().map(PrNumber::new))
            .flatten()
    }
}

/// What a `merge_group` event asks of shipgate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeGroupEvent {
    /// A group whose checks are requested.
    Check(MergeGroup),
    /// Another action (`destroyed`): nothing to check, with the action's name.
    Ignore(String),
}

#[derive(Deserialize)]
struct MergeGroupPayload {
    action: String,
    merge_group: Option<MergeGroupFields>,
}

#[derive(Deserialize)]
struct MergeGroupFields {
    head_sha: String,
    base_sha: String,
    head_ref: String,
    base_ref: String,
}

/// Reads a `merge_group` event payload: a group whose checks are requested must name two
/// commit ids and two branch refs; anything else is [`EventError::MalformedMergeGroup`].
pub fn read_merge_group_event(bytes: &[u8]) -> Result<MergeGroupEvent, EventError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge);
    }
    let malformed = |why: String| EventError::MalformedMergeGroup(why);
    let payload: MergeGroupPayload =
        serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
    if payload.action != "checks_requested" {
        let shown: String = payload.action.chars().take(40).collect();
        return Ok(MergeGroupEvent::Ignore(crate::invisible::show(&shown)));
    }
    let group = payload
        .merge_group
        .ok_or_else(|| malformed("it has no `merge_group`".into()))?;
    let sha = |name: &str, text: &str| {
        CommitSha::parse(text).map_err(|_| malformed(format!("`{name}` is not a 40-hex commit id")))
    };
    let branch = |name: &str, text: String| {
        let plain = text.len() <= MAX_REF_BYTES
            && text.len() > "refs/heads/".len()
            && text.starts_with("refs/heads/")
            && !text.chars().any(|c| c.is_control() || c.is_whitespace());
        if plain {
            Ok(text)
        } else {
            Err(malformed(format!(
                "`{name}` is not a refs/heads/ ref of at most {MAX_REF_BYTES} bytes"
            )))
        }
    };
    Ok(MergeGroupEvent::Check(MergeGroup {
        head_sha: sha("head_sha", &group.head_sha)?,
        base_sha: sha("base_sha", &group.base_sha)?,
        head_ref: branch("head_ref", group.head_ref)?,
        base_ref: branch("base_ref", group.base_ref)?,
    }))
}
