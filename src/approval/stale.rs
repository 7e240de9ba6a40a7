//! Approvals that a push made stale (issue 18): an approval names a plan-id prefix, and once a
//! push changes a plan (its operations, its notes, or the tree a `target: merge` binds), no plan
//! of the pull request has that id any more. The dry-run lists them in the status comment so
//! that approvers know to approve the new id, instead of wondering why the quorum fell.

use super::command::{Command, parse_comment};
use super::evaluate::Comment;
use crate::model::{CommentId, Login, PlanId};

/// At most this many stale approvals are listed (the newest).
pub const MAX_STALE_APPROVALS: usize = 10;

/// One approval whose prefix names no plan of the pull request now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleApproval {
    /// Who approved.
    pub login: Login,
    /// The prefix they approved (hex, checked by the parser).
    pub prefix: String,
    /// The comment that approved.
    pub comment_id: CommentId,
}

/// The approvals in `comments` whose prefix matches none of `plan_ids`, newest last, without
/// those their author revoked later or repeated, and never a bot's (bots cannot approve).
pub fn stale_approvals(comments: &[Comment], plan_ids: &[&PlanId]) -> Vec<StaleApproval> {
    let mut stale: Vec<StaleApproval> = Vec::new();
    for comment in comments.iter().filter(|c| !c.by_bot()) {
        for (_, command) in parse_comment(&comment.body).commands {
            match command {
                Command::Approve(prefix) if !plan_ids.iter().any(|id| prefix.matches(id)) => {
                    stale.retain(|s| !(s.login == comment.author && s.prefix == prefix.as_str()));
                    stale.push(StaleApproval {
                        login: comment.author.clone(),
                        prefix: prefix.as_str().to_owned(),
                        comment_id: comment.id,
                    });
                }
                Command::Revoke(prefix) => {
                    stale.retain(|s| !(s.login == comment.author && s.prefix == prefix.as_str()));
                }
                _ => {}
            }
        }
    }
    let skip = stale.len().saturating_sub(MAX_STALE_APPROVALS);
    stale.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn comment(id: u64, author: &str, body: &str) -> Comment {
        Comment {
            id: CommentId::new(id),
            author: Login::parse(author).expect("login"),
            author_is_bot: false,
            created_at: datetime!(2026-12-04 10:00 UTC),
            updated_at: datetime!(2026-12-04 10:00 UTC),
            body: body.to_owned(),
            thumbs: 0,
        }
    }

    #[test]
    fn approvals_of_an_id_no_plan_has_are_stale_unless_revoked_and_never_twice() {
        let current = PlanId::from_digest(format!("sha256:{}", "ab".repeat(32))).expect("plan id");
        let old = "cd".repeat(6);
        let comments = [
            comment(1, "alice", &format!("/shipgate approve {old}")),
            comment(2, "bob", &format!("/shipgate approve {old}")),
            comment(3, "carol", &format!("/shipgate approve {}", "ab".repeat(6))),
            comment(4, "bob", &format!("/shipgate revoke {old}")),
            comment(5, "alice", &format!("/shipgate approve {old}\nlooks good")),
            comment(6, "ci[bot]", &format!("/shipgate approve {old}")),
        ];
        let stale = stale_approvals(&comments, &[&current]);
        assert_eq!(
            stale,
            [StaleApproval {
                login: Login::parse("alice").expect("login"),
                prefix: old,
                comment_id: CommentId::new(5),
            }]
        );
    }

    #[test]
    fn only_the_newest_are_listed() {
        let current = PlanId::from_digest(format!("sha256:{}", "ab".repeat(32))).expect("plan id");
        let comments: Vec<Comment> = (0..15)
            .map(|n| {
                comment(
                    n,
                    &format!("user{n}"),
                    &format!("/shipgate approve {}", "cd".repeat(6)),
                )
            })
            .collect();
        let stale = stale_approvals(&comments, &[&current]);
        assert_eq!(stale.len(), MAX_STALE_APPROVALS);
        assert_eq!(stale[0].comment_id, CommentId::new(5));
    }
}
