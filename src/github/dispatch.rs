//! Starting a workflow (`POST /repos/{owner}/{repo}/actions/workflows/{file}/dispatches`):
//! a `/shipgate ship` comment starts the ship workflow with the run id as its input, so the
//! run executes in that workflow's job and environment (`shipgate-ship`, with its required
//! reviewers and wait timers), never inside the approve job (issue 15).
//!
//! It ships nothing itself: the dispatched job executes only what the gate authorizes.

use serde_json::json;

use super::client::{GitHubClient, encode_component};
use super::error::GitHubError;

impl GitHubClient {
    /// Starts `workflow` (a file name under `.github/workflows/`) on `git_ref` (a branch),
    /// with `run-id` as its one input. GitHub answers `204 No Content`. A dispatch that may
    /// or may not have happened is sent once more: executing a run twice is harmless, since
    /// its receipts are single-use and the second execution finds them consumed.
    pub async fn dispatch_ship(
        &self,
        workflow: &str,
        git_ref: &str,
        run_id: &str,
    ) -> Result<(), GitHubError> {
        let what = format!("start {workflow} for {run_id}");
        let path = self.repo_path(&format!(
            "/actions/workflows/{}/dispatches",
            encode_component(workflow)
        ));
        let body = json!({ "ref": git_ref, "inputs": { "run-id": run_id } });
        self.post_no_content(&path, &body, &what, 2).await
    }
}
