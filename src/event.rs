//! The GitHub Actions event that started a run (`GITHUB_EVENT_PATH`), reduced to what
//! `mint` needs: which pull request a comment is on, and whether to act at all.
//!
//! Comments on plain issues, edits and deletions, and comments without a `/shipgate` line are
//! ignored quickly and successfully: a workflow runs for every comment, and most are not for us.

use serde::Deserialize;

use crate::approval::command::{Command, parse_comment};
use crate::model::{CommentId, Login, PrNumber, RepoSlug};

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
    /// Larger than [`MAX_EVENT_BYTES`].
    #[error("the event file is larger than {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    /// Not an `issue_comment` payload.
    #[error("not an issue_comment event payload: {0}")]
    Malformed(String),
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
