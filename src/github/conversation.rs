//! The conversation half of the GitHub port over [`GitHubClient`]: comments and reactions on
//! a pull request, and the commit status `shipgate` on its head (issue 18). It ships nothing.

use crate::model::{CommentId, PrNumber};
use http::Method;
use serde_json::json;

use super::GitHubConversation;
use super::client::{Failure, GitHubClient};
use super::error::GitHubError;
use super::types::{Reaction, WireComment};

/// The state of a commit status, as GitHub names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// Waiting on something (an approval).
    Pending,
    /// Nothing holds the commit back.
    Success,
    /// Something blocks it.
    Failure,
}

impl StatusState {
    /// GitHub's name: `pending`, `success`, `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// A commit status to set: its state, `context` (the check's name branch protection
/// requires), one-line description (GitHub refuses more than 140 characters) and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatus<'a> {
    /// The state.
    pub state: StatusState,
    /// The check's name.
    pub context: &'a str,
    /// One line.
    pub description: &'a str,
    /// Where it links to, if anywhere.
    pub target_url: Option<&'a str>,
}

impl GitHubClient {
    /// Sets a commit status on `sha` (`POST /statuses/{sha}`). GitHub keeps the newest status
    /// of each context, so repeating one after an ambiguous failure changes nothing.
    pub async fn set_status(&self, sha: &str, status: &NewStatus<'_>) -> Result<(), GitHubError> {
        let what = format!("set the {} status of {sha}", status.context);
        let path = self.repo_path(&format!("/statuses/{sha}"));
        let mut body = json!({
            "state": status.state.as_str(),
            "context": status.context,
            "description": status.description,
        });
        if let Some(url) = status.target_url {
            body["target_url"] = json!(url);
        }
        self.write_idempotent(Method::POST, &path, &body, &what)
            .await
    }
}

impl GitHubConversation for GitHubClient {
    async fn create_comment(&self, issue: PrNumber, body: &str) -> Result<CommentId, GitHubError> {
        let what = format!("comment on #{issue}");
        let path = self.repo_path(&format!("/issues/{issue}/comments"));
        match self
            .write_json::<WireComment>(Method::POST, &path, &json!({ "body": body }), &what)
            .await
        {
            Ok(comment) => Ok(comment.id),
            Err(Failure::Definite(e)) => Err(e),
            Err(Failure::Ambiguous(detail)) => Err(GitHubError::Ambiguous { what, detail }),
        }
    }

    async fn update_comment(&self, comment_id: CommentId, body: &str) -> Result<(), GitHubError> {
        let what = format!("update comment {comment_id}");
        let path = self.repo_path(&format!("/issues/comments/{comment_id}"));
        // Setting a body is idempotent: repeating it after an ambiguous failure cannot duplicate.
        self.write_idempotent(Method::PATCH, &path, &json!({ "body": body }), &what)
            .await
    }

    async fn react(&self, comment_id: CommentId, reaction: Reaction) -> Result<(), GitHubError> {
        let what = format!("react {} to comment {comment_id}", reaction.content());
        let path = self.repo_path(&format!("/issues/comments/{comment_id}/reactions"));
        // GitHub keeps one reaction per person and content: repeating one is idempotent.
        let body = json!({ "content": reaction.content() });
        self.write_idempotent(Method::POST, &path, &body, &what)
            .await
    }
}
