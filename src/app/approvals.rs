//! What `shipgate mint` judges approvals on (DESIGN 13.4, 13.5), besides the comments: who
//! wrote each plan, from GitHub's commit data for every commit of the pull request; the team
//! memberships of the approvers; the revokes recorded on the chain (and one in the triggering
//! event whose comment is gone). It reads GitHub and the audit state, then hands everything to
//! the pure [`evaluate_approvals`]; it records nothing itself.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::approval::command::Command;
use crate::approval::evaluate::{
    ApprovalContext, ApprovalOutcome, Authorship, Comment, Revoke, evaluate_approvals,
};
use crate::audit::entry::Event;
use crate::audit::state::StateAccess;
use crate::error::Error;
use crate::event::CommentOnPullRequest;
use crate::github::{GitHubClient, GitHubError, GitHubRead, MAX_PULL_COMMITS, PullRequest};
use crate::model::{CommentId, CommitSha, Login, PlanId, TeamSlug};
use crate::plan::{Notes, Operation, ResolvedPlan};
use crate::policy::OperationDecision;
use crate::repo::LocalRepo;

/// What the approvals of the plans are judged on, besides the audit state.
pub(super) struct Judged<'a> {
    /// Every comment of the pull request.
    pub(super) comments: &'a [Comment],
    /// Per plan, who wrote it.
    pub(super) authorships: &'a [Authorship],
    /// The teams of the approvers.
    pub(super) memberships: &'a BTreeMap<Login, BTreeSet<TeamSlug>>,
    /// The comment whose event started this mint, if one did.
    pub(super) trigger: Option<&'a CommentOnPullRequest>,
    /// How long an approval counts (the policy's `approval_ttl`).
    pub(super) approval_ttl_secs: u64,
}

/// Judges the approvals of plan `index` against the state, and returns the revokes it saw that
/// the chain does not hold yet, as entries to record (DESIGN 13.5).
pub(super) fn judge(
    judged: &Judged<'_>,
    index: usize,
    plan: &ResolvedPlan,
    decisions: &[OperationDecision],
    known_ids: &[PlanId],
    state: &dyn StateAccess,
    now: OffsetDateTime,
) -> (ApprovalOutcome, Vec<Event>) {
    let recorded = state.revokes(plan.id.as_str());
    let is_recorded = |comment_id: CommentId| {
        recorded
            .as_ref()
            .is_some_and(|r| r.revokes.iter().any(|m| m.comment_id == comment_id))
    };
    let mut revokes: Vec<Revoke> = recorded
        .iter()
        .flat_map(|r| &r.revokes)
        .filter_map(|mark| {
            Some(Revoke {
                login: Login::parse(&mark.login).ok()?,
                at: OffsetDateTime::parse(&mark.written_at, &Rfc3339).ok()?,
                comment_id: mark.comment_id,
            })
        })
        .collect();
    let deleted_trigger = judged
        .trigger
        .and_then(|t| deleted_trigger_revoke(t, judged.comments, &plan.id, now));
    revokes.extend(deleted_trigger.clone());
    let requirements: Vec<_> = decisions.iter().map(|d| d.requirements.clone()).collect();
    let approval = evaluate_approvals(
        judged.comments,
        &ApprovalContext {
            plan_id: &plan.id,
            other_plan_ids: known_ids,
            authorship: &judged.authorships[index],
            recorded_revokes: &revokes,
            requirements: &requirements,
            team_memberships: judged.memberships,
            approvals_since: now
                - time::Duration::seconds(
                    i64::try_from(judged.approval_ttl_secs).unwrap_or(i64::MAX / 2),
                ),
        },
    );
    let events = approval
        .revokes
        .iter()
        .chain(deleted_trigger.iter())
        .filter(|r| !is_recorded(r.comment_id))
        .map(|r| Event::ApprovalRevoked {
            plan_id: plan.id.to_string(),
            login: r.login.to_string(),
            comment_id: r.comment_id,
            written_at: crate::policy::format_utc(r.at),
        })
        .collect();
    (approval, events)
}

/// The revoke of `plan_id` in the comment whose event started this mint, when that comment
/// is gone from the conversation already (deleted before mint read it): the event still holds
/// what it said. GitHub's comment ids grow with time, so it is dated as the newest comment
/// written before it (or `now`), and withdraws every earlier approval of its author.
fn deleted_trigger_revoke(
    trigger: &CommentOnPullRequest,
    comments: &[Comment],
    plan_id: &PlanId,
    now: OffsetDateTime,
) -> Option<Revoke> {
    if comments.iter().any(|c| c.id == trigger.comment_id)
        || trigger.author.as_str().ends_with("[bot]")
    {
        return None;
    }
    let last_about_plan = trigger.commands.iter().rev().find(|c| match c {
        Command::Approve(prefix) | Command::Revoke(prefix) => prefix.matches(plan_id),
        _ => false,
    });
    let at = comments
        .iter()
        .filter(|c| c.id < trigger.comment_id)
        .map(|c| c.created_at)
        .max()
        .unwrap_or(now);
    matches!(last_about_plan, Some(Command::Revoke(_))).then(|| Revoke {
        login: trigger.author.clone(),
        at,
        comment_id: trigger.comment_id,
    })
}

/// Who wrote each plan (DESIGN 13.4), from GitHub's commit data: the pull request's author,
/// and the accounts GitHub links to the author and the committer of every commit of the pull
/// request that writes the plan file or its notes files. A commit linked to no account makes
/// the plan [`Authorship::Unknown`].
pub(super) async fn plan_authorships(
    client: &GitHubClient,
    repo: &LocalRepo,
    pull: &PullRequest,
    plans: &[(String, ResolvedPlan, Vec<OperationDecision>)],
) -> Result<Vec<Authorship>, Error> {
    let limit = MAX_PULL_COMMITS as u64;
    let too_many = |count| GitHubError::TooManyCommits {
        pr: pull.number,
        count,
        limit,
    };
    if pull.commits > limit {
        return Err(too_many(pull.commits).into());
    }
    let commits = client.pull_commits(pull.number).await?;
    if commits.len() as u64 != pull.commits || !commits.iter().any(|c| c.sha == pull.head_sha) {
        return Err(Error::Usage(format!(
            "#{} changed while mint read it (GitHub listed {} of its {} commits, head {}): re-run mint",
            pull.number,
            commits.len(),
            pull.commits,
            pull.head_sha
        )));
    }
    let mut authorships = Vec::with_capacity(plans.len());
    for (file, plan, _) in plans {
        let mut paths = vec![file.clone()];
        paths.extend(plan.checked.iter().filter_map(|op| match op {
            Operation::Release(release) => match &release.notes {
                Notes::File(path) => Some(path.clone()),
                _ => None,
            },
            _ => None,
        }));
        let mut authors = BTreeSet::from([pull.author.clone()]);
        let mut unknown = None;
        for commit in &commits {
            let sha = CommitSha::parse(&commit.sha).map_err(|e| GitHubError::BadResponse {
                what: format!("list the commits of #{}", pull.number),
                detail: e.to_string(),
            })?;
            if !repo.commit_touches(&sha, &paths)? {
                continue;
            }
            match (&commit.author, &commit.committer) {
                (Some(author), Some(committer)) => {
                    authors.insert(author.clone());
                    authors.insert(committer.clone());
                }
                _ => {
                    unknown = Some(commit.sha.clone());
                    break;
                }
            }
        }
        authorships.push(match unknown {
            Some(commit) => Authorship::Unknown { commit },
            None => Authorship::Known { authors },
        });
    }
    Ok(authorships)
}

/// The teams the policy names, for each author of an approval of one of the plans: only those
/// are asked. Each team is read first: a token that cannot see it (a workflow's
/// `GITHUB_TOKEN`) gets 404 for members too, so that is `TEAM_MEMBERSHIP_UNREADABLE`, never an
/// approval silently left uncounted.
pub(super) async fn team_memberships(
    github: &GitHubClient,
    comments: &[Comment],
    plans: &[(String, ResolvedPlan, Vec<OperationDecision>)],
) -> Result<BTreeMap<Login, BTreeSet<TeamSlug>>, Error> {
    let teams: BTreeSet<&TeamSlug> = plans
        .iter()
        .flat_map(|(_, _, decisions)| decisions)
        .flat_map(|d| &d.requirements)
        .flat_map(|r| &r.teams)
        .collect();
    let approvers: BTreeSet<&Login> = comments
        .iter()
        .filter(|c| !c.author_is_bot)
        .filter(|c| {
            crate::approval::command::parse_comment(&c.body)
                .commands
                .iter()
                .any(|(_, cmd)| match cmd {
                    // Only approvals of these plans need a membership (junk costs nothing).
                    Command::Approve(prefix) => plans.iter().any(|(_, p, _)| prefix.matches(&p.id)),
                    _ => false,
                })
        })
        .map(|c| &c.author)
        .collect();
    let mut memberships: BTreeMap<Login, BTreeSet<TeamSlug>> = BTreeMap::new();
    if !approvers.is_empty() {
        for team in &teams {
            if !github.team_readable(team).await? {
                return Err(GitHubError::TeamMembershipUnreadable {
                    team: team.to_string(),
                }
                .into());
            }
        }
    }
    for login in approvers {
        for team in &teams {
            if github.team_member(team, login).await? {
                memberships
                    .entry(login.clone())
                    .or_default()
                    .insert((*team).clone());
            }
        }
    }
    Ok(memberships)
}
