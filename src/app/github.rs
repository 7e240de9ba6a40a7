//! Reaching GitHub from a command: the client from the environment, a runtime to drive it, and
//! the dry-run's reads (the preview's [`World`]) and its one write (the status comment).

use std::collections::BTreeSet;

use octocrab::secrecy::SecretString;

use crate::error::Error;
use crate::github::{
    DEFAULT_API_URL, DEFAULT_BOT_LOGIN, GitHubClient, GitHubConfig, GitHubConversation,
    GitHubError, GitHubRead, PullRequestRefusal, RetryPolicy, STATUS_MARKER, Upserted, peel_tag,
    upsert_status_comment,
};
use crate::model::{Login, RepoSlug};
use crate::plan::{ResolvedOperation, ResolvedPlan};
use crate::preview::{TagFact, World};

/// The API base URL: `GITHUB_API_URL`, or api.github.com.
pub fn api_url() -> String {
    std::env::var("GITHUB_API_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
}

/// The token from `GITHUB_TOKEN`, if one is set.
pub fn token() -> Option<SecretString> {
    std::env::var("GITHUB_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| SecretString::from(t.trim().to_owned()))
}

/// A client for `repo` with the token given, and the single-threaded runtime that drives it
/// (one command drives one conversation with GitHub). The client is built inside the runtime,
/// as its HTTP stack needs.
pub fn connect(
    repo: &RepoSlug,
    token: SecretString,
) -> Result<(tokio::runtime::Runtime, GitHubClient), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)?;
    let client = {
        let _entered = runtime.enter();
        GitHubClient::new(GitHubConfig {
            api_url: api_url(),
            token,
            repo: repo.clone(),
            retry: RetryPolicy::default(),
        })?
    };
    Ok((runtime, client))
}

/// Reads what the plans touch, in few requests: the tag and branch lists once, the recent
/// releases once, then one lookup per release not among them and one per pull request.
/// Existing annotated tags that a plan names cost one more read each (to peel them).
pub async fn read_world(
    github: &impl GitHubRead,
    plans: &[&ResolvedPlan],
) -> Result<World, GitHubError> {
    let ops: Vec<&ResolvedOperation> = plans.iter().flat_map(|p| &p.operations).collect();
    let mut world = World::default();
    let named_tags: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::Tag { name, .. } => Some(name.as_str()),
            ResolvedOperation::Release { tag, .. } => Some(tag.as_str()),
            ResolvedOperation::PullRequest { .. } => None,
        })
        .collect();
    if !named_tags.is_empty() {
        for reference in github.matching_refs("tags/").await? {
            let Some(name) = reference.name.strip_prefix("refs/tags/") else {
                continue;
            };
            if !named_tags.contains(name) {
                continue;
            }
            let fact = match peel_tag(github, &reference).await? {
                Some(tag) => TagFact {
                    commit: tag.object_sha,
                    message: Some(tag.message),
                },
                None => TagFact {
                    commit: reference.object_sha.clone(),
                    message: None,
                },
            };
            world.tags.insert(name.to_owned(), fact);
        }
    }
    let release_tags: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::Release { tag, .. } => Some(tag.as_str()),
            _ => None,
        })
        .collect();
    if !release_tags.is_empty() {
        for release in github.recent_releases().await? {
            if release_tags.contains(release.tag_name.as_str()) {
                world.releases.insert(release.tag_name.clone(), release);
            }
        }
        for tag in release_tags {
            if !world.releases.contains_key(tag)
                && let Some(release) = github.published_release(tag).await?
            {
                world.releases.insert(tag.to_owned(), release);
            }
        }
    }
    let pulls: Vec<(&str, &str)> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::PullRequest { head, base, .. } => {
                Some((head.as_str(), base.as_str()))
            }
            _ => None,
        })
        .collect();
    if !pulls.is_empty() {
        for reference in github.matching_refs("heads/").await? {
            if let Some(name) = reference.name.strip_prefix("refs/heads/") {
                world
                    .branches
                    .insert(name.to_owned(), reference.object_sha.clone());
            }
        }
        for (head, base) in pulls {
            if let Some(pull) = github.open_pull(head, base).await? {
                world.pulls.insert((head.to_owned(), base.to_owned()), pull);
            }
        }
    }
    Ok(world)
}

/// Why the token may not open the plans' pull requests, if GitHub refuses it them: asked
/// only when a plan has a pull request operation, with one creation request GitHub must
/// refuse (see [`GitHubClient::pull_request_refusal`]).
pub async fn pull_request_refusal(
    github: &GitHubClient,
    plans: &[&ResolvedPlan],
) -> Result<Option<PullRequestRefusal>, GitHubError> {
    let base = plans
        .iter()
        .flat_map(|p| &p.operations)
        .find_map(|op| match op {
            ResolvedOperation::PullRequest { base, .. } => Some(base.as_str()),
            _ => None,
        });
    match base {
        Some(base) => github.pull_request_refusal(base).await,
        None => Ok(None),
    }
}

/// Upserts the PR's status comment with `markdown` under the hidden marker, as the token's
/// own account (DESIGN 13.10: a marker comment anyone else wrote is not ours).
pub async fn post_status(
    github: &impl GitHubConversation,
    pr: u64,
    markdown: &str,
) -> Result<Upserted, GitHubError> {
    let body = format!("{STATUS_MARKER}\n{markdown}");
    let ours = own_login(github).await?;
    upsert_status_comment(github, pr, &body, &ours).await
}

/// Where to name the login an installation token comments as (a GitHub App's `<slug>[bot]`).
pub const BOT_LOGIN_ENV: &str = "SHIPGATE_BOT_LOGIN";

/// The account the token comments as: what `GET /user` says for a user token; for an
/// installation token, which may not ask, `SHIPGATE_BOT_LOGIN`, else `github-actions[bot]`
/// (Actions' `GITHUB_TOKEN`).
pub async fn own_login(github: &impl GitHubRead) -> Result<Login, GitHubError> {
    if let Some(login) = github.identity().await? {
        return Ok(login);
    }
    let configured = std::env::var(BOT_LOGIN_ENV)
        .ok()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    let text = configured.as_deref().unwrap_or(DEFAULT_BOT_LOGIN);
    Login::parse(text).map_err(|e| {
        GitHubError::Config(format!(
            "{BOT_LOGIN_ENV} `{text}` is not a GitHub login ({e}); set it to the login the token comments as, e.g. `my-app[bot]`"
        ))
    })
}
