//! Mint's side of the bot that answers (issue 18): the `eyes` reaction on the triggering
//! command as soon as it is seen, and the replies (with the command list for this repository)
//! that the status comment carries.

use crate::approval::evaluate::Comment;
use crate::error::Error;
use crate::event::CommentOnPullRequest;
use crate::github::{GitHubClient, GitHubConversation, Reaction};
use crate::policy::{Policy, Requirement};
use crate::report::replies::{Answer, Help, Replies, answers_to};

use super::PlanUnderReview;

/// Reacts `eyes` to the comment that started this run: GitHub keeps one reaction per person
/// and content, so a rerun adds nothing. Best effort: a comment deleted meanwhile still has
/// its commands carried out (its event holds them), so a failed reaction is only said on `out`.
pub(super) async fn acknowledge(
    client: &GitHubClient,
    comment: Option<&CommentOnPullRequest>,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    if let Some(comment) = comment
        && let Err(e) = client.react(comment.comment_id, Reaction::Eyes).await
    {
        writeln!(
            out,
            "could not react eyes to comment {}: {e}",
            comment.comment_id
        )?;
    }
    Ok(())
}

/// The replies the pull request's comments call for, with the command list when one asks
/// for help: the rules of `plans` (every rule of `policy` when there are none) and the halt
/// admins.
pub(super) fn replies(
    comments: &[Comment],
    policy: &Policy,
    plans: &[PlanUnderReview],
    pull_url: &str,
) -> Replies {
    let answers = answers_to(comments);
    let help = answers
        .iter()
        .any(|r| r.answer == Answer::Help)
        .then(|| help(policy, plans));
    Replies {
        answers,
        help,
        pull_url: Some(pull_url.to_owned()),
    }
}

fn help(policy: &Policy, plans: &[PlanUnderReview]) -> Help {
    let plans = if plans.is_empty() {
        let every: Vec<Requirement> = policy
            .rules
            .iter()
            .map(|rule| crate::policy::requirement(policy, rule))
            .collect();
        vec![(None, every)]
    } else {
        plans
            .iter()
            .map(|(file, plan, decisions)| {
                let mut rules: Vec<Requirement> = Vec::new();
                for r in decisions.iter().flat_map(|d| &d.requirements) {
                    if !rules.iter().any(|known| known.rule == r.rule) {
                        rules.push(r.clone());
                    }
                }
                let command = format!("/shipgate approve {}", plan.id.approval_prefix());
                (Some((file.clone(), command)), rules)
            })
            .collect()
    };
    Help {
        plans,
        halt_admins: policy.halt_admins.iter().cloned().collect(),
    }
}
