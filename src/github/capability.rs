//! What the token may do, found out before a receipt is consumed (issue 16).
//!
//! GitHub answers a workflow's `GITHUB_TOKEN` (an installation token of `github-actions[bot]`)
//! differently from a person's token, and two differences would otherwise surface only after
//! a receipt was spent or an approval silently went uncounted:
//! - `POST /repos/{o}/{r}/pulls` is refused (403 "GitHub Actions is not permitted to create or
//!   approve pull requests.") unless the repository allows it (Settings > Actions > General >
//!   Workflow permissions). The setting itself is readable only with administration rights,
//!   which `GITHUB_TOKEN` never has, so [`GitHubClient::pull_request_refusal`] asks GitHub the
//!   only way that answers for the token in hand: a creation request that cannot create
//!   anything (head and base are the same branch, which GitHub's validation always refuses).
//!   GitHub checks permissions before it validates the body, so a 403 is the token's answer
//!   and a 422 means the token may open pull requests.
//! - Team routes need the organisation permission `members: read`; without it GitHub answers
//!   404, exactly as for a non-member. [`GitHubClient::team_readable`] reads the team itself
//!   first: if the token cannot see the team, no membership answer can be trusted.
//!
//! [`GitHubClient::workflow_permissions`] reads the setting for `shipgate doctor`, run with a
//! token that may (an administrator's); `None` when the token may not.

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{Failure, GitHubClient, encode_component};
use super::error::GitHubError;
use crate::model::TeamSlug;

/// The setting to change when GitHub refuses the workflow token pull requests.
pub const PULL_REQUEST_SETTING: &str = "Settings > Actions > General > Workflow permissions > \"Allow GitHub Actions to create and approve pull requests\"";

/// The repository's Actions workflow permissions (`GET .../actions/permissions/workflow`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowPermissions {
    /// `read` or `write`: what a workflow's `GITHUB_TOKEN` gets by default.
    pub default_workflow_permissions: String,
    /// Whether GitHub Actions may create and approve pull requests.
    pub can_approve_pull_request_reviews: bool,
}

/// Why GitHub refuses a token pull requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRefusal {
    /// The repository's Actions setting refuses them: true for every workflow's
    /// `GITHUB_TOKEN`, whatever the workflow's `permissions:`. Otherwise it is this token's
    /// own permissions (a fork's read-only token, no `pull-requests: write`), which another
    /// workflow's token may well have.
    pub by_repository_setting: bool,
    /// What GitHub said and what to change.
    pub sentence: String,
}

/// GitHub's message when the Actions setting forbids the token pull requests.
const ACTIONS_REFUSAL: &str = "GitHub Actions is not permitted to create or approve pull requests";

impl GitHubClient {
    /// Why this token may not open a pull request into `base`, or `None` if it may. Sends one
    /// `POST .../pulls` whose head is its base, which GitHub can only refuse.
    pub async fn pull_request_refusal(
        &self,
        base: &str,
    ) -> Result<Option<PullRequestRefusal>, GitHubError> {
        let what = "ask GitHub whether the token may open pull requests";
        let path = self.repo_path("/pulls");
        let probe = json!({
            "title": "shipgate: may this token open pull requests? (head = base: never created)",
            "head": base,
            "base": base,
        });
        match self.write_json::<Value>(Method::POST, &path, &probe, what).await {
            Err(Failure::Definite(GitHubError::Rejected { status: 422, .. })) => Ok(None),
            Err(Failure::Definite(GitHubError::Forbidden { message, .. })) => {
                Ok(Some(PullRequestRefusal {
                    by_repository_setting: message.contains(ACTIONS_REFUSAL),
                    sentence: refusal_sentence(&message),
                }))
            }
            Err(Failure::Definite(GitHubError::NotFound { .. })) => Ok(Some(PullRequestRefusal {
                by_repository_setting: false,
                sentence: "GitHub answers 404 to the token's pull request request: it cannot see the repository's pull requests".to_owned(),
            })),
            Err(Failure::Definite(other)) => Err(other),
            Err(Failure::Ambiguous(detail)) => Err(GitHubError::Unavailable {
                what: what.to_owned(),
                detail,
            }),
            Ok(_) => Err(GitHubError::BadResponse {
                what: what.to_owned(),
                detail: format!(
                    "GitHub accepted a pull request from {base} into itself; close it by hand"
                ),
            }),
        }
    }

    /// Whether the token can see `team` (`GET /orgs/{org}/teams/{slug}`): without that, a
    /// membership's 404 says nothing.
    pub async fn team_readable(&self, team: &TeamSlug) -> Result<bool, GitHubError> {
        let (org, slug) = team.as_str().split_once('/').unwrap_or_default();
        let path = format!(
            "/orgs/{}/teams/{}",
            encode_component(org),
            encode_component(slug)
        );
        match self
            .get_json::<Value>(&path, &format!("read team {team}"))
            .await
        {
            Ok(found) => Ok(found.is_some()),
            Err(GitHubError::Forbidden { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// The Actions workflow permissions; `None` when the token may not read them (GitHub
    /// shows them to administrators only).
    pub async fn workflow_permissions(&self) -> Result<Option<WorkflowPermissions>, GitHubError> {
        let path = self.repo_path("/actions/permissions/workflow");
        match self
            .get_json(&path, "read the Actions workflow permissions")
            .await
        {
            Ok(found) => Ok(found),
            Err(GitHubError::Forbidden { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The sentence for a 403: the setting to change when GitHub names the Actions restriction,
/// the permission to grant otherwise.
fn refusal_sentence(message: &str) -> String {
    if message.contains(ACTIONS_REFUSAL) {
        format!(
            "GitHub refuses this token pull requests ({message}); turn on {PULL_REQUEST_SETTING}, or give the action a token that may open pull requests"
        )
    } else {
        format!(
            "GitHub refuses this token pull requests ({message}); grant the workflow `pull-requests: write`, or give the action a token that may open pull requests"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actions_refusal_names_the_setting() {
        let sentence =
            refusal_sentence("GitHub Actions is not permitted to create or approve pull requests.");
        assert!(sentence.contains("Allow GitHub Actions to create and approve pull requests"));
        let other = refusal_sentence("Resource not accessible by integration");
        assert!(other.contains("pull-requests: write"), "{other}");
    }
}
