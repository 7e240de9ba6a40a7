//! Reads of a repository's settings, for `shipgate doctor`: whether a branch is protected,
//! classic branch protection and the ruleset rules that apply to a branch (what the token may
//! do is [`super::RepoInfo::push`]).
//!
//! Reads only, like [`super::GitHubRead`], but kept apart: nothing that ships needs them, and
//! GitHub shows some of them only to administrators (classic protection needs admin rights,
//! which the default `GITHUB_TOKEN` never has), so callers must expect "cannot see".

use serde::Deserialize;

use super::client::{GitHubClient, encode_path};
use super::error::GitHubError;

/// The parts of classic branch protection that keep a branch append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchProtection {
    /// `allow_force_pushes.enabled`.
    pub allow_force_pushes: bool,
    /// `allow_deletions.enabled`.
    pub allow_deletions: bool,
}

/// A ruleset rule that applies to a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchRule {
    /// `non_fast_forward`: force pushes are blocked.
    NonFastForward,
    /// `deletion`: deleting the branch is restricted.
    Deletion,
    /// Any other rule type, as GitHub names it.
    Other(String),
}

impl BranchRule {
    fn from_github(kind: &str) -> Self {
        match kind {
            "non_fast_forward" => Self::NonFastForward,
            "deletion" => Self::Deletion,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Reads of repository settings.
#[allow(async_fn_in_trait)]
pub trait GitHubSettings {
    /// Whether a branch is protected (`GET .../branches/{branch}`); `None` if it does not exist.
    async fn branch_protected(&self, branch: &str) -> Result<Option<bool>, GitHubError>;
    /// Classic protection (`GET .../branches/{branch}/protection`); `None` on 404, which GitHub
    /// answers both for an unprotected branch and for a token that may not see protection.
    async fn branch_protection(
        &self,
        branch: &str,
    ) -> Result<Option<BranchProtection>, GitHubError>;
    /// The active ruleset rules for a branch (`GET .../rules/branches/{branch}`); the branch
    /// need not exist. Empty when GitHub has no rulesets endpoint (older GHES: 404).
    async fn branch_rules(&self, branch: &str) -> Result<Vec<BranchRule>, GitHubError>;
}

#[derive(Deserialize)]
struct WireBranch {
    protected: bool,
}

#[derive(Deserialize)]
struct WireEnabled {
    enabled: bool,
}

#[derive(Deserialize)]
struct WireProtection {
    allow_force_pushes: Option<WireEnabled>,
    allow_deletions: Option<WireEnabled>,
}

#[derive(Deserialize)]
struct WireRule {
    #[serde(rename = "type")]
    kind: String,
}

impl GitHubSettings for GitHubClient {
    async fn branch_protected(&self, branch: &str) -> Result<Option<bool>, GitHubError> {
        let path = self.repo_path(&format!("/branches/{}", encode_path(branch)));
        let wire: Option<WireBranch> = self
            .get_json(&path, &format!("read branch {branch}"))
            .await?;
        Ok(wire.map(|b| b.protected))
    }

    async fn branch_protection(
        &self,
        branch: &str,
    ) -> Result<Option<BranchProtection>, GitHubError> {
        let path = self.repo_path(&format!("/branches/{}/protection", encode_path(branch)));
        let wire: Option<WireProtection> = self
            .get_json(&path, &format!("read the protection of branch {branch}"))
            .await?;
        // An absent toggle is GitHub's default: force pushes and deletions are not allowed.
        let enabled = |t: &Option<WireEnabled>| t.as_ref().is_some_and(|t| t.enabled);
        Ok(wire.map(|p| BranchProtection {
            allow_force_pushes: enabled(&p.allow_force_pushes),
            allow_deletions: enabled(&p.allow_deletions),
        }))
    }

    async fn branch_rules(&self, branch: &str) -> Result<Vec<BranchRule>, GitHubError> {
        let path = self.repo_path(&format!(
            "/rules/branches/{}?per_page=100",
            encode_path(branch)
        ));
        let wire: Option<Vec<WireRule>> = self
            .get_json(&path, &format!("read the rules of branch {branch}"))
            .await?;
        Ok(wire
            .unwrap_or_default()
            .iter()
            .map(|r| BranchRule::from_github(&r.kind))
            .collect())
    }
}
