//! Reaching GitHub from a command: the client from the environment, a runtime to drive it, and
//! the status comment.

use octocrab::secrecy::SecretString;

use crate::error::Error;
use crate::github::{
    DEFAULT_API_URL, DEFAULT_BOT_LOGIN, GitHubClient, GitHubConfig, GitHubConversation,
    GitHubError, GitHubRead, PullRequestRefusal, RetryPolicy, STATUS_MARKER, Upserted,
    upsert_status_comment,
};
use crate::model::{Login, PrNumber, RepoSlug};
use crate::plan::{ResolvedOperation, ResolvedPlan};

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
    pr: PrNumber,
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
