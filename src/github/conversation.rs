//! The conversation half of the GitHub port over [`GitHubClient`]: comments and reactions on
//! a pull request. It ships nothing.

use crate::model::{CommentId, PrNumber};
use http::Method;
use serde_json::json;

use super::GitHubConversation;
use super::client::{Failure, GitHubClient};
use super::error::GitHubError;
use super::types::{Reaction, WireComment};

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
