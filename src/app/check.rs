//! The commit status `shipgate` (issue 18): the check branch protection can require so that a
//! pull request whose plans are not approved cannot merge. This module owns what the status
//! says (its state and one-line description, from each plan's standing), where it links, and
//! setting it, where a token that may not (a fork's read-only one) is a warning, not a failure.
//!
//! dry-run sets it on every push to a pull request, mint after every command; both judge the
//! same way (a plan with a run on the chain is authorized), so neither takes back what the
//! other said of the same commit.

use crate::audit::state::{State, StateAccess};
use crate::github::{GitHubClient, GitHubError, NewStatus, StatusState};
use crate::model::PlanId;
use crate::reason::Code;
use crate::report::DryRunReport;
use crate::report::mint::{MintOutcome, MintReport};

/// The status's context: the name of the check to require.
pub const CONTEXT: &str = "shipgate";

/// GitHub refuses a longer description.
const MAX_DESCRIPTION: usize = 140;

/// Where one plan stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Its receipts are minted (or it shipped).
    Authorized,
    /// It awaits approvals.
    Awaiting,
    /// Something blocks it, with the reason code.
    Blocked(Code),
}

/// What the status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Its state.
    pub state: StatusState,
    /// One line of shipgate's own words: plan id prefixes and reason codes, never text a
    /// pull request wrote.
    pub description: String,
}

/// The status of a commit whose plans stand as `plans` (none: nothing to approve). Blocked
/// wins over awaiting, awaiting over authorized.
pub fn judge(plans: &[(&PlanId, Standing)]) -> Check {
    let count = |n: usize| if n == 1 { "plan" } else { "plans" };
    let blocked: Vec<_> = plans
        .iter()
        .filter_map(|(id, s)| match s {
            Standing::Blocked(code) => Some((id, code)),
            _ => None,
        })
        .collect();
    let awaiting: Vec<_> = plans
        .iter()
        .filter(|(_, s)| *s == Standing::Awaiting)
        .map(|(id, _)| id)
        .collect();
    let (state, description) = if let Some((id, code)) = blocked.first() {
        let more = match blocked.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        (
            StatusState::Failure,
            format!("blocked: plan {} ({code}){more}", id.approval_prefix()),
        )
    } else if let Some(id) = awaiting.first() {
        (
            StatusState::Pending,
            format!(
                "awaiting approval: {} of {} {}; /shipgate approve {}",
                awaiting.len(),
                plans.len(),
                count(plans.len()),
                id.approval_prefix()
            ),
        )
    } else if plans.is_empty() {
        (
            StatusState::Success,
            "no plan in this change: nothing to approve".to_owned(),
        )
    } else {
        (
            StatusState::Success,
            format!(
                "authorized: {} {} approved, receipts minted",
                plans.len(),
                count(plans.len())
            ),
        )
    };
    Check {
        state,
        description: one_line(&description),
    }
}

/// A failure that is not a plan's: `why` is shipgate's own words.
pub fn failure(why: &str) -> Check {
    Check {
        state: StatusState::Failure,
        description: one_line(why),
    }
}

/// Where each plan of the report stands: shipped or with a run on the chain is authorized;
/// otherwise blocked by its first finding or conflict, or by a halt; otherwise awaiting
/// approval. Mint judges the same way ([`of_mint`]), so neither takes the status back.
pub fn of_dry_run<'r>(
    report: &'r DryRunReport,
    state: Option<&State>,
) -> Vec<(&'r PlanId, Standing)> {
    let runs = state.map(StateAccess::runs).unwrap_or_default();
    let halted = state.is_some_and(|s| s.halt().is_some());
    report
        .plans
        .iter()
        .map(|plan| {
            let blocked = plan.operations.iter().find_map(|op| {
                op.findings
                    .first()
                    .map(|f| f.code.into())
                    .or_else(|| op.preview.as_ref().and_then(|p| p.code).map(Code::from))
            });
            let minted = runs.iter().any(|r| r.plan_id == plan.plan_id.as_str());
            let standing = match (plan.shipped_in.is_some(), blocked) {
                (true, _) => Standing::Authorized,
                (false, Some(code)) => Standing::Blocked(code),
                (false, None) if halted => Standing::Blocked(Code::Halted),
                (false, None) if minted => Standing::Authorized,
                (false, None) => Standing::Awaiting,
            };
            (&plan.plan_id, standing)
        })
        .collect()
}

/// Where each plan of mint's report stands, judged as [`of_dry_run`] judges: a policy finding
/// or refusal blocks, a run minted now or before is authorized, else it awaits approval.
pub fn of_mint(report: &MintReport) -> Vec<(&PlanId, Standing)> {
    report
        .plans
        .iter()
        .map(|plan| {
            let finding = plan
                .operations
                .iter()
                .flat_map(|op| &op.findings)
                .find_map(|f| Code::parse(f));
            let standing = match (&plan.outcome, finding) {
                (MintOutcome::Halted { .. }, _) => Standing::Blocked(Code::Halted),
                (MintOutcome::Unapprovable { reason, .. }, _) => {
                    Standing::Blocked(Code::parse(reason).unwrap_or(Code::AuthorUnknown))
                }
                (_, Some(code)) => Standing::Blocked(code),
                (MintOutcome::Minted { .. } | MintOutcome::AlreadyMinted { .. }, None) => {
                    Standing::Authorized
                }
                (MintOutcome::AwaitingApproval, None) => Standing::Awaiting,
            };
            (&plan.plan_id, standing)
        })
        .collect()
}

/// At most [`MAX_DESCRIPTION`] characters on one line.
fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX_DESCRIPTION {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_DESCRIPTION - 3).collect();
    cut.push_str("...");
    cut
}

/// The workflow run this process is part of
/// (`GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`), when Actions says.
pub fn workflow_run_url() -> Option<String> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let server = var("GITHUB_SERVER_URL")?;
    let repository = var("GITHUB_REPOSITORY")?;
    let run = var("GITHUB_RUN_ID").filter(|r| r.bytes().all(|b| b.is_ascii_digit()))?;
    Some(format!(
        "{}/{repository}/actions/runs/{run}",
        server.trim_end_matches('/')
    ))
}

/// The web address of the status comment: GitHub's address of the pull request (`html_url`)
/// and the comment's anchor, as GitHub links an issue comment.
pub fn comment_url(pull_url: &str, comment: crate::model::CommentId) -> String {
    format!("{pull_url}#issuecomment-{comment}")
}

/// Sets `check` on `sha`, linking to `link` (else the workflow run). A token that may not
/// (403: a fork's pull request gets a read-only token) is a warning returned for the report:
/// the required check then stays unset, which holds the pull request back.
pub async fn post(
    client: &GitHubClient,
    sha: &str,
    check: &Check,
    link: Option<String>,
) -> Result<Option<String>, GitHubError> {
    let target_url = link.or_else(workflow_run_url);
    let status = NewStatus {
        state: check.state,
        context: CONTEXT,
        description: &check.description,
        target_url: target_url.as_deref(),
    };
    match client.set_status(sha, &status).await {
        Ok(()) => Ok(None),
        Err(GitHubError::Forbidden { message, .. }) => Ok(Some(format!(
            "the `{CONTEXT}` commit status of {} was not set: the token may not ({message}); pull requests from forks get a read-only token, so a required `{CONTEXT}` check stays unset there",
            sha.get(..12).unwrap_or(sha)
        ))),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(hex: char) -> PlanId {
        PlanId::from_digest(format!("sha256:{}", hex.to_string().repeat(64))).expect("plan id")
    }

    #[test]
    fn blocked_wins_over_awaiting_and_awaiting_over_authorized() {
        let (a, b, c) = (id('a'), id('b'), id('c'));
        let all = [
            (&a, Standing::Authorized),
            (&b, Standing::Awaiting),
            (&c, Standing::Blocked(Code::Halted)),
        ];
        let check = judge(&all);
        assert_eq!(check.state, StatusState::Failure);
        assert!(
            check.description.contains(Code::Halted.as_str()),
            "{check:?}"
        );
        let check = judge(&all[..2]);
        assert_eq!(check.state, StatusState::Pending);
        assert!(
            check
                .description
                .contains("1 of 2 plans; /shipgate approve "),
            "{check:?}"
        );
        assert_eq!(judge(&all[..1]).state, StatusState::Success);
        assert_eq!(judge(&[]).state, StatusState::Success);
    }

    #[test]
    fn the_description_is_one_line_within_githubs_limit() {
        let long = failure(&format!("a\nb{}", "x".repeat(400)));
        assert_eq!(long.description.chars().count(), MAX_DESCRIPTION);
        assert!(!long.description.contains('\n'));
        assert!(long.description.ends_with("..."));
    }
}
