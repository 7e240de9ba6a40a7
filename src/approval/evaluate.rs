//! Which approvals count (DESIGN 4), and whether each operation's quorum is met.
//!
//! Pure: the caller reads every comment (all pages), resolves team memberships through the
//! GitHub API, and passes them in. An approval counts for a rule only if all hold: its prefix
//! matches the current plan id; the author is not a bot; the comment was never edited; the
//! author did not revoke it in a later comment; the author is in a group the rule names (as a
//! user or a team member); and the author is not one of the plan's authors unless the rule
//! allows self-approval. Quorum counts distinct people, per rule.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;

use super::command::{Command, parse_comment};
use crate::model::{Login, PlanId, TeamSlug};
use crate::policy::Requirement;

/// A pull request comment, as read from GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// GitHub's comment id.
    pub id: u64,
    /// Its author.
    pub author: Login,
    /// GitHub says the author is a bot (`type: Bot`).
    pub author_is_bot: bool,
    /// When it was written.
    pub created_at: OffsetDateTime,
    /// When it was last changed (equal to `created_at` if never edited).
    pub updated_at: OffsetDateTime,
    /// The markdown body.
    pub body: String,
}

/// Why an approval comment does not count. Stable codes for the status comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rejection {
    /// The prefix does not match the current plan id (the plan moved, or a typo).
    StalePlanId,
    /// Bots never approve.
    Bot,
    /// The comment was edited after it was written (anyone with maintain rights can edit).
    Edited,
    /// Its author revoked it in a later comment.
    Revoked,
    /// The author is in no group a matching rule names.
    NotAnApprover,
    /// The author wrote the plan, and no rule that would count them allows self-approval.
    SelfApproval,
}

impl Rejection {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::StalePlanId => "STALE_PLAN_ID",
            Self::Bot => "BOT",
            Self::Edited => "EDITED",
            Self::Revoked => "REVOKED",
            Self::NotAnApprover => "NOT_AN_APPROVER",
            Self::SelfApproval => "SELF_APPROVAL",
        }
    }

    /// The sentence shown beside a rejected approval.
    pub fn why(self) -> &'static str {
        match self {
            Self::StalePlanId => {
                "it names a plan id that is not the current one; approve the current plan id"
            }
            Self::Bot => "bots cannot approve",
            Self::Edited => "the comment was edited; post a new comment instead",
            Self::Revoked => "its author revoked it",
            Self::NotAnApprover => "the author is not in a group that may approve these operations",
            Self::SelfApproval => "the plan's author cannot approve their own plan",
        }
    }
}

/// The verdict on one approval command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalVerdict {
    /// The comment.
    pub comment_id: u64,
    /// Its author.
    pub login: Login,
    /// When it was written (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `None` when it counts toward at least one rule.
    pub rejection: Option<Rejection>,
}

/// The tally of one rule for one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTally {
    /// The rule's name.
    pub rule: String,
    /// Distinct approvers needed.
    pub required: u32,
    /// Distinct approvers counted.
    pub approvers: BTreeSet<Login>,
}

impl RuleTally {
    /// Whether the rule's quorum is met.
    pub fn is_met(&self) -> bool {
        self.approvers.len() >= self.required as usize
    }
}

/// The approvals of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutcome {
    /// Each approval command, in comment order.
    pub verdicts: Vec<ApprovalVerdict>,
    /// Per operation, per rule.
    pub tallies: Vec<Vec<RuleTally>>,
}

impl ApprovalOutcome {
    /// Every rule of every operation has its quorum (an operation no rule matches never does).
    pub fn quorum_met(&self) -> bool {
        self.tallies
            .iter()
            .all(|rules| !rules.is_empty() && rules.iter().all(RuleTally::is_met))
    }
}

/// What the evaluation needs besides the comments.
pub struct ApprovalContext<'a> {
    /// The current plan id.
    pub plan_id: &'a PlanId,
    /// The plan's authors: the PR author and the author of the plan file's last commit.
    pub plan_authors: &'a BTreeSet<Login>,
    /// Per operation, the policy's requirements.
    pub requirements: &'a [Vec<Requirement>],
    /// The teams each commenter belongs to (only the teams the policy names need be resolved).
    pub team_memberships: &'a BTreeMap<Login, BTreeSet<TeamSlug>>,
}

/// Evaluates every approval command in `comments` (any order; they are sorted by time).
pub fn evaluate_approvals(comments: &[Comment], ctx: &ApprovalContext<'_>) -> ApprovalOutcome {
    let mut ordered: Vec<&Comment> = comments.iter().collect();
    ordered.sort_by_key(|c| (c.created_at, c.id));

    // Pass 1: the last revoke of the current plan by each author, by position in time.
    let mut last_revoke: BTreeMap<&Login, usize> = BTreeMap::new();
    let mut approvals: Vec<(usize, &Comment, bool)> = Vec::new();
    for (position, comment) in ordered.iter().enumerate() {
        for (_, command) in parse_comment(&comment.body).commands {
            match command {
                Command::Approve(prefix) => {
                    approvals.push((position, comment, prefix.matches(ctx.plan_id)))
                }
                Command::Revoke(prefix)
                    if prefix.matches(ctx.plan_id) && !comment.author_is_bot =>
                {
                    last_revoke.insert(&comment.author, position);
                }
                _ => {}
            }
        }
    }

    // Pass 2: each approval's own validity, then whom it counts for.
    let mut tallies: Vec<Vec<RuleTally>> = ctx
        .requirements
        .iter()
        .map(|rules| {
            rules
                .iter()
                .map(|r| RuleTally {
                    rule: r.rule.clone(),
                    required: r.required,
                    approvers: BTreeSet::new(),
                })
                .collect()
        })
        .collect();
    let mut verdicts = Vec::with_capacity(approvals.len());
    for (position, comment, matches_plan) in approvals {
        let is_bot = comment.author_is_bot || comment.author.as_str().ends_with("[bot]");
        let own_problem = if !matches_plan {
            Some(Rejection::StalePlanId)
        } else if is_bot {
            Some(Rejection::Bot)
        } else if comment.updated_at != comment.created_at {
            Some(Rejection::Edited)
        } else if last_revoke
            .get(&comment.author)
            .is_some_and(|revoked_at| *revoked_at > position)
        {
            Some(Rejection::Revoked)
        } else {
            None
        };
        let rejection = match own_problem {
            Some(problem) => Some(problem),
            None => count(comment, ctx, &mut tallies),
        };
        verdicts.push(ApprovalVerdict {
            comment_id: comment.id,
            login: comment.author.clone(),
            at: comment.created_at,
            rejection,
        });
    }
    ApprovalOutcome { verdicts, tallies }
}

/// Adds a valid approval to every rule it may count for; says why when it counts for none.
fn count(
    comment: &Comment,
    ctx: &ApprovalContext<'_>,
    tallies: &mut [Vec<RuleTally>],
) -> Option<Rejection> {
    let no_teams = BTreeSet::new();
    let teams = ctx
        .team_memberships
        .get(&comment.author)
        .unwrap_or(&no_teams);
    let is_author = ctx.plan_authors.contains(&comment.author);
    let (mut counted, mut eligible_somewhere) = (false, false);
    for (rules, op_tallies) in ctx.requirements.iter().zip(tallies.iter_mut()) {
        for (rule, tally) in rules.iter().zip(op_tallies.iter_mut()) {
            let eligible = rule.users.contains(&comment.author)
                || rule.teams.iter().any(|t| teams.contains(t));
            if !eligible {
                continue;
            }
            eligible_somewhere = true;
            if is_author && !rule.self_approval {
                continue;
            }
            tally.approvers.insert(comment.author.clone());
            counted = true;
        }
    }
    match (counted, eligible_somewhere) {
        (true, _) => None,
        (false, true) => Some(Rejection::SelfApproval),
        (false, false) => Some(Rejection::NotAnApprover),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn login(s: &str) -> Login {
        Login::parse(s).unwrap()
    }

    fn plan_id() -> PlanId {
        PlanId::from_digest(format!("sha256:{}", "0123456789abcdef".repeat(4))).unwrap()
    }

    fn comment(id: u64, author: &str, minute: i64, body: &str) -> Comment {
        let at = datetime!(2026-11-23 10:00 UTC) + time::Duration::minutes(minute);
        Comment {
            id,
            author: login(author),
            author_is_bot: false,
            created_at: at,
            updated_at: at,
            body: body.into(),
        }
    }

    fn rule(
        name: &str,
        required: u32,
        users: &[&str],
        teams: &[&str],
        self_approval: bool,
    ) -> Requirement {
        Requirement {
            rule: name.into(),
            required,
            groups: vec!["g".into()],
            users: users.iter().map(|u| login(u)).collect(),
            teams: teams.iter().map(|t| TeamSlug::parse(t).unwrap()).collect(),
            self_approval,
            receipt_ttl_secs: 3600,
        }
    }

    const APPROVE: &str = "/shipgate approve 0123456789ab";
    const REVOKE: &str = "/shipgate revoke 0123456789ab";

    struct Case {
        requirements: Vec<Vec<Requirement>>,
        authors: BTreeSet<Login>,
        teams: BTreeMap<Login, BTreeSet<TeamSlug>>,
    }

    impl Case {
        fn two_of(users: &[&str]) -> Self {
            Self {
                requirements: vec![vec![rule("two", 2, users, &[], false)]],
                authors: [login("carol")].into(),
                teams: BTreeMap::new(),
            }
        }

        fn run(&self, comments: &[Comment]) -> ApprovalOutcome {
            let id = plan_id();
            let ctx = ApprovalContext {
                plan_id: &id,
                plan_authors: &self.authors,
                requirements: &self.requirements,
                team_memberships: &self.teams,
            };
            evaluate_approvals(comments, &ctx)
        }
    }

    fn rejections(outcome: &ApprovalOutcome) -> Vec<Option<Rejection>> {
        outcome.verdicts.iter().map(|v| v.rejection).collect()
    }

    #[test]
    fn two_distinct_approvers_meet_a_quorum_of_two() {
        let case = Case::two_of(&["alice", "bob"]);
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "Bob", 1, APPROVE),
        ]);
        assert!(out.quorum_met());
        assert_eq!(rejections(&out), vec![None, None]);
        let short = case.run(&[comment(1, "alice", 0, APPROVE)]);
        assert!(!short.quorum_met());
    }

    #[test]
    fn the_same_person_twice_counts_once() {
        let out = Case::two_of(&["alice", "bob"]).run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "ALICE", 1, APPROVE),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(out.tallies[0][0].approvers.len(), 1);
    }

    #[test]
    fn the_plan_author_does_not_count_unless_allowed() {
        let case = Case::two_of(&["alice", "carol"]);
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "carol", 1, APPROVE),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(rejections(&out), vec![None, Some(Rejection::SelfApproval)]);
        let solo = Case {
            requirements: vec![vec![rule("solo", 1, &["carol"], &[], true)]],
            ..Case::two_of(&[])
        };
        assert!(solo.run(&[comment(1, "carol", 0, APPROVE)]).quorum_met());
    }

    #[test]
    fn bots_edits_outsiders_and_stale_ids_are_rejected_with_reasons() {
        let case = Case::two_of(&["alice", "bob", "renovate[bot]", "dave"]);
        let mut bot = comment(1, "dave", 0, APPROVE);
        bot.author_is_bot = true;
        let mut edited = comment(2, "alice", 1, APPROVE);
        edited.updated_at += time::Duration::minutes(5);
        let out = case.run(&[
            bot,
            edited,
            comment(3, "renovate[bot]", 2, APPROVE),
            comment(4, "mallory", 3, APPROVE),
            comment(5, "bob", 4, "/shipgate approve ffffffffffff"),
        ]);
        assert_eq!(
            rejections(&out),
            vec![
                Some(Rejection::Bot),
                Some(Rejection::Edited),
                Some(Rejection::Bot),
                Some(Rejection::NotAnApprover),
                Some(Rejection::StalePlanId)
            ]
        );
        assert!(out.tallies[0][0].approvers.is_empty());
    }

    #[test]
    fn a_later_revoke_cancels_and_a_later_approval_restores() {
        let case = Case::two_of(&["alice", "bob"]);
        let revoked = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
            comment(3, "alice", 2, REVOKE),
        ]);
        assert!(!revoked.quorum_met());
        assert_eq!(rejections(&revoked), vec![Some(Rejection::Revoked), None]);
        let again = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(3, "alice", 2, REVOKE),
            comment(4, "alice", 3, APPROVE),
            comment(2, "bob", 1, APPROVE),
        ]);
        assert!(again.quorum_met());
        // Someone else's revoke does nothing to alice's approval.
        let other = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
            comment(3, "bob", 2, REVOKE),
        ]);
        assert_eq!(rejections(&other), vec![None, Some(Rejection::Revoked)]);
    }

    #[test]
    fn team_members_count_for_rules_naming_their_team() {
        let mut case = Case {
            requirements: vec![vec![rule("team", 1, &[], &["acme/release"], false)]],
            ..Case::two_of(&[])
        };
        case.teams.insert(
            login("erin"),
            [TeamSlug::parse("acme/release").unwrap()].into(),
        );
        assert!(case.run(&[comment(1, "erin", 0, APPROVE)]).quorum_met());
        assert!(!case.run(&[comment(1, "frank", 0, APPROVE)]).quorum_met());
    }

    #[test]
    fn quoted_or_fenced_approvals_do_not_count() {
        let case = Case::two_of(&["alice", "bob"]);
        let quoted = format!("> {APPROVE}\nagreed with alice");
        let fenced = format!("```\n{APPROVE}\n```");
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, &quoted),
            comment(3, "bob", 2, &fenced),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(out.verdicts.len(), 1);
    }

    #[test]
    fn every_rule_of_every_operation_must_be_met() {
        let case = Case {
            requirements: vec![
                vec![rule("a", 1, &["alice"], &[], false)],
                vec![
                    rule("a", 1, &["alice"], &[], false),
                    rule("b", 1, &["bob"], &[], false),
                ],
            ],
            ..Case::two_of(&[])
        };
        assert!(!case.run(&[comment(1, "alice", 0, APPROVE)]).quorum_met());
        assert!(
            case.run(&[
                comment(1, "alice", 0, APPROVE),
                comment(2, "bob", 1, APPROVE)
            ])
            .quorum_met()
        );
        let unmatched = Case {
            requirements: vec![vec![]],
            ..Case::two_of(&[])
        };
        assert!(
            !unmatched
                .run(&[comment(1, "alice", 0, APPROVE)])
                .quorum_met(),
            "an operation no rule matches never reaches quorum"
        );
    }
}
