//! What can go wrong talking to GitHub, as typed errors with stable reason codes.
//!
//! Every variant is an infrastructure failure (exit 3, DESIGN 9): GitHub said no, could not be
//! reached, or answered something shipgate cannot read. Callers match on variants, never on
//! message text.

use std::time::Duration;

/// A failed GitHub request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// No credentials, or GitHub rejected them (401).
    #[error(
        "GITHUB_UNAUTHORIZED: GitHub rejected the token for {what}: {message}; set GITHUB_TOKEN to a valid token"
    )]
    Unauthorized {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The token may not do this (403 that is not a rate limit), e.g. a fork PR's read-only token.
    #[error("GITHUB_FORBIDDEN: the token may not {what}: {message}")]
    Forbidden {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The repository, ref or object does not exist, or the token cannot see it (404).
    #[error("GITHUB_NOT_FOUND: {what}: not found")]
    NotFound {
        /// The request.
        what: String,
    },
    /// The thing to create exists already (422 `already_exists` / `Reference already exists`).
    #[error("GITHUB_ALREADY_EXISTS: {what}: {message}")]
    AlreadyExists {
        /// The request.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// GitHub refused the request as invalid or conflicting (409, or any other 422).
    #[error("GITHUB_REJECTED: {what}: {message}")]
    Rejected {
        /// The request.
        what: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message, with the details of its `errors` array.
        message: String,
    },
    /// A primary or secondary rate limit that did not clear within the retry budget.
    #[error("GITHUB_RATE_LIMITED: {what}: rate limited{}", retry_after.map(|d| format!(" (retry after {} s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The request.
        what: String,
        /// When GitHub said to come back, if it did.
        retry_after: Option<Duration>,
    },
    /// GitHub answered 5xx, timed out, or the connection failed, after the retries allowed.
    #[error("GITHUB_UNAVAILABLE: {what}: {detail}")]
    Unavailable {
        /// The request.
        what: String,
        /// Status or transport error.
        detail: String,
    },
    /// A write whose outcome is unknown (the request may have acted) and whose read-back could
    /// not settle it. Nothing was retried.
    #[error(
        "GITHUB_AMBIGUOUS_WRITE: {what}: {detail}; the effect may or may not exist, re-run to read the world and recover"
    )]
    Ambiguous {
        /// The request.
        what: String,
        /// The failure and the read-back's result.
        detail: String,
    },
    /// GitHub answered something shipgate cannot read.
    #[error("GITHUB_BAD_RESPONSE: {what}: {detail}")]
    BadResponse {
        /// The request.
        what: String,
        /// The decoding problem.
        detail: String,
    },
    /// A pull request with more comments than shipgate reads: approvals are never judged on
    /// part of a conversation.
    #[error(
        "TOO_MANY_COMMENTS: #{issue} has more than {limit} comments, more than shipgate reads; approvals are not judged on part of a conversation: delete spam comments, or move the plan to a new pull request"
    )]
    TooManyComments {
        /// The issue or pull request.
        issue: u64,
        /// The bound.
        limit: usize,
    },
    /// A pull request with more commits than GitHub lists (250): who wrote its plan cannot be
    /// told from all of them.
    #[error(
        "TOO_MANY_COMMITS: #{pr} has {count} commits, but GitHub lists at most {limit} of a pull request; squash its history and push again"
    )]
    TooManyCommits {
        /// The pull request.
        pr: u64,
        /// Its commits (GitHub's count, or what the listing returned).
        count: u64,
        /// GitHub's listing cap.
        limit: u64,
    },
    /// The configuration is unusable (no token, a malformed base URL or repository slug).
    #[error("GITHUB_CONFIG: {0}")]
    Config(String),
    /// The policy counts a team's approvals but the token cannot see the team, so a
    /// membership's 404 would read as "not a member": approvals are never silently uncounted.
    #[error(
        "TEAM_MEMBERSHIP_UNREADABLE: the policy counts approvals of team {team}, but the token cannot read that team (a workflow's GITHUB_TOKEN never can: it has no organization permissions); give the action a token that may read the organization's members (`members: read`), or list the team's members as users in the policy"
    )]
    TeamMembershipUnreadable {
        /// The team, `org/slug`.
        team: String,
    },
}

impl GitHubError {
    /// The stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "GITHUB_UNAUTHORIZED",
            Self::Forbidden { .. } => "GITHUB_FORBIDDEN",
            Self::NotFound { .. } => "GITHUB_NOT_FOUND",
            Self::AlreadyExists { .. } => "GITHUB_ALREADY_EXISTS",
            Self::Rejected { .. } => "GITHUB_REJECTED",
            Self::RateLimited { .. } => "GITHUB_RATE_LIMITED",
            Self::Unavailable { .. } => "GITHUB_UNAVAILABLE",
            Self::Ambiguous { .. } => "GITHUB_AMBIGUOUS_WRITE",
            Self::BadResponse { .. } => "GITHUB_BAD_RESPONSE",
            Self::TooManyComments { .. } => "TOO_MANY_COMMENTS",
            Self::TooManyCommits { .. } => "TOO_MANY_COMMITS",
            Self::Config(_) => "GITHUB_CONFIG",
            Self::TeamMembershipUnreadable { .. } => "TEAM_MEMBERSHIP_UNREADABLE",
        }
    }
}
