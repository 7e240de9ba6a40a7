//! What can go wrong talking to GitHub, as typed errors with stable reason codes.
//!
//! Every variant is an infrastructure failure (exit 3, DESIGN 9): GitHub said no, could not be
//! reached, or answered something shipgate cannot read. Callers match on variants, never on
//! message text.

use crate::model::PrNumber;
use std::time::Duration;

use crate::reason::Code;

/// A failed GitHub request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// No credentials, or GitHub rejected them (401).
    #[error(
        "{}: GitHub rejected the token for {what}: {message}; set GITHUB_TOKEN to a valid token",
        Code::GitHubUnauthorized
    )]
    Unauthorized {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The token may not do this (403 that is not a rate limit), e.g. a fork PR's read-only token.
    #[error("{}: the token may not {what}: {message}", Code::GitHubForbidden)]
    Forbidden {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The repository, ref or object does not exist, or the token cannot see it (404).
    #[error("{}: {what}: not found", Code::GitHubNotFound)]
    NotFound {
        /// The request.
        what: String,
    },
    /// The thing to create exists already (422 `already_exists` / `Reference already exists`).
    #[error("{}: {what}: {message}", Code::GitHubAlreadyExists)]
    AlreadyExists {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// GitHub refused the request as invalid or conflicting (409, or any other 422).
    #[error("{}: {what}: {message}", Code::GitHubRejected)]
    Rejected {
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message, with the details of its `errors` array.
        message: String,
    },
    /// A primary or secondary rate limit that did not clear within the retry budget.
    #[error("{}: {what}: rate limited{}", Code::GitHubRateLimited, retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The request.
        what: String,
        /// When GitHub said to come back, if it did.
        retry_after: Option<Duration>,
    },
    /// GitHub answered 5xx, timed out, or the connection failed, after the retries allowed.
    #[error("{}: {what}: {detail}", Code::GitHubUnavailable)]
    Unavailable {
        /// The request.
        what: String,
        /// Status or transport error.
        detail: String,
    },
    /// A write whose outcome is unknown (the request may have acted) and whose read-back could
    /// not settle it. Nothing was retried.
    #[error(
        "{}: {what}: {detail}; the effect may or may not exist, re-run to read the world and recover",
        Code::GitHubAmbiguousWrite
    )]
    Ambiguous {
        /// The request.
        what: String,
        /// The failure and the read-back's result.
        detail: String,
    },
    /// GitHub answered something shipgate cannot read.
    #[error("{}: {what}: {detail}", Code::GitHubBadResponse)]
    BadResponse {
        /// The request.
        what: String,
        /// The decoding problem.
        detail: String,
    },
    /// A pull request with more comments than shipgate reads: approvals are never judged on
    /// part of a conversation.
    #[error(
        "{}: #{issue} has more than {limit} comments, more than shipgate reads; approvals are not judged on part of a conversation: delete spam comments, or move the plan to a new pull request",
        Code::TooManyComments
    )]
    TooManyComments {
        /// The issue or pull request.
        issue: PrNumber,
        /// The bound.
        limit: usize,
    },
    /// A pull request with more commits than GitHub lists (250): who wrote its plan cannot be
    /// told from all of them.
    #[error(
        "{}: #{pr} has {count} commits, but GitHub lists at most {limit} of a pull request; squash its history and push again",
        Code::TooManyCommits
    )]
    TooManyCommits {
        /// The pull request.
        pr: PrNumber,
        /// Its commits (GitHub's count, or what the listing returned).
        count: u64,
        /// GitHub's listing cap.
        limit: u64,
    },
    /// The configuration is unusable (no token, a malformed base URL or repository slug).
    #[error("{}: {}", Code::GitHubConfig, .0)]
    Config(String),
    /// The policy counts a team's approvals but the token cannot see the team, so a
    /// membership's 404 would read as "not a member": approvals are never silently uncounted.
    #[error(
        "{}: the policy counts approvals of team {team}, but the token cannot read that team (a workflow's GITHUB_TOKEN never can: it has no organization permissions); give the action a token that may read the organization's members (`members: read`), or list the team's members as users in the policy",
        Code::TeamMembershipUnreadable
    )]
    TeamMembershipUnreadable {
        /// The team, `org/slug`.
        team: String,
    },
}

impl GitHubError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(&self) -> Code {
        match self {
            Self::Unauthorized { .. } => Code::GitHubUnauthorized,
            Self::Forbidden { .. } => Code::GitHubForbidden,
            Self::NotFound { .. } => Code::GitHubNotFound,
            Self::AlreadyExists { .. } => Code::GitHubAlreadyExists,
            Self::Rejected { .. } => Code::GitHubRejected,
            Self::RateLimited { .. } => Code::GitHubRateLimited,
            Self::Unavailable { .. } => Code::GitHubUnavailable,
            Self::Ambiguous { .. } => Code::GitHubAmbiguousWrite,
            Self::BadResponse { .. } => Code::GitHubBadResponse,
            Self::TooManyComments { .. } => Code::TooManyComments,
            Self::TooManyCommits { .. } => Code::TooManyCommits,
            Self::TeamMembershipUnreadable { .. } => Code::TeamMembershipUnreadable,
            Self::Config(_) => Code::GitHubConfig,
        }
    }
}
