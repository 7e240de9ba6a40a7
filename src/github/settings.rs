//! Reads of a repository's settings, for `shipgate doctor`: whether a branch is protected,
//! classic branch protection, the ruleset rules that apply to a branch, and the tag rulesets
//! that restrict who may create tags (what the token may do is [`super::RepoInfo::push`]).
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

/// An active ruleset that restricts creating the tags it targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCreationRuleset {
    /// Its name.
    pub name: String,
    /// The tag name patterns it targets (`refs/tags/v*`, `~ALL`).
    pub include: Vec<String>,
}

/// Rulesets read at most: more is no repository's configuration.
const MAX_RULESETS: usize = 50;

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
    /// The active tag rulesets (the repository's and its organization's) with a `creation`
    /// rule: without one, anyone who can push may tag around shipgate.
    async fn tag_creation_rulesets(&self) -> Result<Vec<TagCreationRuleset>, GitHubError>;
}

#[derive(Deserialize)]
struct WireRulesetSummary {
    id: u64,
    #[serde(default)]
    target: Option<String>,
    enforcement: String,
}

#[derive(Deserialize)]
struct WireRuleset {
    name: String,
    #[serde(default)]
    conditions: Option<WireConditions>,
    #[serde(default)]
    rules: Vec<WireRule>,
}

#[derive(Deserialize)]
struct WireConditions {
    #[serde(default)]
    ref_name: Option<WireRefName>,
}

#[derive(Deserialize)]
struct WireRefName {
    #[serde(default)]
    include: Vec<String>,
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
    async fn tag_creation_rulesets(&self) -> Result<Vec<TagCreationRuleset>, GitHubError> {
        let path = self.repo_path("/rulesets?targets=tag&includes_parents=true&per_page=100");
        let list: Option<Vec<WireRulesetSummary>> = self
            .get_json(&path, "read the repository's rulesets")
            .await?;
        let mut found = Vec::new();
        let active_tags = list.unwrap_or_default().into_iter().filter(|r| {
            r.enforcement == "active" && r.target.as_deref().is_none_or(|t| t == "tag")
        });
        for summary in active_tags.take(MAX_RULESETS) {
            let what = format!("read ruleset {}", summary.id);
            let path = self.repo_path(&format!("/rulesets/{}", summary.id));
            let Some(ruleset) = self.get_json::<WireRuleset>(&path, &what).await? else {
                continue;
            };
            if ruleset.rules.iter().any(|r| r.kind == "creation") {
                found.push(TagCreationRuleset {
                    name: ruleset.name,
                    include: ruleset
                        .conditions
                        .and_then(|c| c.ref_name)
                        .map(|r| r.include)
                        .unwrap_or_default(),
                });
            }
        }
        Ok(found)
    }

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
