//! Which approvals count (DESIGN 4, 13.4, 13.5), and whether each operation's quorum is met.
//!
//! Pure: the caller reads every comment (all pages), resolves team memberships through the
//! GitHub API, works out who wrote the plan from GitHub's commit data, reads the revokes
//! shipgate recorded earlier, and passes them in. An approval counts for a rule only if all
//! hold: its prefix matches the current plan id and no other plan the pull request or the
//! audit chain knows; the author is not a bot; the comment was never edited; no later command
//! of the author revoked it (commands apply in comment order, and in order within a comment),
//! nor did a revoke shipgate recorded earlier (which holds even once its comment is edited or
//! deleted); none of the author's comments was edited after it (an edit may have erased a
//! revoke); the author is in a group the rule names (as a user or a team member); the plan's
//! authorship is known; and the author is not one of the plan's authors unless the rule
//! allows self-approval. Quorum counts distinct people, per rule.
//!
//! The file passes 600 lines only by its unit tests; the code is about 480 lines.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;

use super::command::{Command, PlanIdPrefix, parse_comment};
use crate::model::{CommentId, Login, PlanId, TeamSlug};
use crate::policy::Requirement;
use crate::reason::Code;

/// A pull request comment, as read from GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// GitHub's comment id.
    pub id: CommentId,
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
    /// How many +1 and -1 reactions it carries, anyone's (GitHub's `reactions` rollup).
    pub thumbs: u64,
}

impl Comment {
    /// Written by a bot (GitHub says so, or the login is an app's `[bot]`).
    pub fn by_bot(&self) -> bool {
        self.author_is_bot || self.author.as_str().ends_with("[bot]")
    }

    /// Changed after it was written.
    pub fn edited(&self) -> bool {
        self.updated_at != self.created_at
    }
}

/// Why an approval comment does not count. Stable codes for the status comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "Code")]
pub enum Rejection {
    /// The prefix does not match the current plan id (the plan moved, or a typo).
    StalePlanId,
    /// Bots never approve.
    Bot,
    /// The comment was edited after it was written (anyone with maintain rights can edit).
    Edited,
    /// The prefix matches another plan of the pull request or of a run too (DESIGN 13.5).
    AmbiguousPrefix,
    /// Its author revoked it in a later command, or shipgate recorded such a revoke earlier.
    Revoked,
    /// One of the author's comments was edited after it: the edit may have erased a revoke.
    EditedLater,
    /// The author is in no group a matching rule names.
    NotAnApprover,
    /// The author wrote the plan, and no rule that would count them allows self-approval.
    SelfApproval,
    /// A commit touching the plan links to no GitHub account: nobody may approve it.
    AuthorUnknown,
    /// The approval is older than the policy's `approval_ttl`.
    Expired,
}

impl From<Rejection> for Code {
    fn from(value: Rejection) -> Self {
        value.reason_code()
    }
}

impl Rejection {
    /// The stable code.
    pub fn code(self) -> &'static str {
        self.reason_code().as_str()
    }

    /// Its entry in the registry of reason codes.
    pub fn reason_code(self) -> Code {
        match self {
            Self::StalePlanId => Code::StalePlanId,
            Self::Bot => Code::Bot,
            Self::Edited => Code::Edited,
            Self::AmbiguousPrefix => Code::AmbiguousPrefix,
            Self::Revoked => Code::Revoked,
            Self::EditedLater => Code::EditedLater,
            Self::NotAnApprover => Code::NotAnApprover,
            Self::SelfApproval => Code::SelfApproval,
            Self::AuthorUnknown => Code::AuthorUnknown,
            Self::Expired => Code::ApprovalExpired,
        }
    }

    /// What it means and what to do: the registry's sentence.
    pub fn why(self) -> &'static str {
        self.reason_code().sentence()
    }
}

/// The verdict on one approval command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalVerdict {
    /// The comment.
    pub comment_id: CommentId,
    /// Its author.
    pub login: Login,
    /// When it was written (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `None` when it counts toward at least one rule.
    pub rejection: Option<Rejection>,
    /// The author is in a group some rule of the plan names (a reaction informs them).
    pub approver: bool,
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

/// A revoke of the plan: read from a comment now, or recorded on the audit chain by an
/// earlier mint. Approvals by `login` written up to its comment no longer count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Revoke {
    /// Who revoked.
    pub login: Login,
    /// When the revoking comment was written (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The revoking comment.
    pub comment_id: CommentId,
}

impl Revoke {
    /// Whether this revoke withdraws an approval written at `at` in comment `comment_id`.
    fn covers(&self, login: &Login, at: OffsetDateTime, comment_id: CommentId) -> bool {
        self.login == *login && (at, comment_id) <= (self.at, self.comment_id)
    }
}

/// Who wrote a plan, as far as approving it goes (DESIGN 13.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Authorship {
    /// The accounts that may never approve it unless a rule allows self-approval: the pull
    /// request's author and the accounts GitHub links to the author and the committer of every
    /// commit of the pull request that touches the plan or its notes.
    Known {
        /// Those accounts.
        authors: BTreeSet<Login>,
    },
    /// A commit touching the plan or its notes is linked to no GitHub account: nobody can
    /// tell who wrote it, so no approval counts (`AUTHOR_UNKNOWN`).
    Unknown {
        /// That commit.
        commit: String,
    },
}

/// The approvals of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalOutcome {
    /// Each approval command, in comment order.
    pub verdicts: Vec<ApprovalVerdict>,
    /// Per operation, per rule.
    pub tallies: Vec<Vec<RuleTally>>,
    /// Why no approval can count at all, if something stands in the way.
    pub blocked: Option<Rejection>,
    /// The revokes of this plan read from the comments (a comment's last command about the
    /// plan revokes it), for recording on the chain so that they outlive their comments.
    pub revokes: Vec<Revoke>,
}

impl ApprovalOutcome {
    /// Nothing blocks the plan and every rule of every operation has its quorum (an operation
    /// no rule matches never does).
    pub fn quorum_met(&self) -> bool {
        self.blocked.is_none()
            && self
                .tallies
                .iter()
                .all(|rules| !rules.is_empty() && rules.iter().all(RuleTally::is_met))
    }
}

/// What the evaluation needs besides the comments.
pub struct ApprovalContext<'a> {
    /// The current plan id.
    pub plan_id: &'a PlanId,
    /// Every other plan id a prefix could name: the pull request's other plans and the plans
    /// of the chain's runs. A prefix matching one of them too approves nothing.
    pub other_plan_ids: &'a [PlanId],
    /// Who wrote the plan.
    pub authorship: &'a Authorship,
    /// Revokes of this plan recorded on the chain by earlier mints.
    pub recorded_revokes: &'a [Revoke],
    /// Per operation, the policy's requirements.
    pub requirements: &'a [Vec<Requirement>],
    /// The teams each commenter belongs to (only the teams the policy names need be resolved).
    pub team_memberships: &'a BTreeMap<Login, BTreeSet<TeamSlug>>,
    /// Approvals written before this instant have expired (now minus the policy's
    /// `approval_ttl`).
    pub approvals_since: OffsetDateTime,
}

/// What a prefix names, from this plan's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    /// This plan and no other.
    ThisPlan,
    /// This plan and another one.
    Ambiguous,
    /// Not this plan.
    Other,
}

impl ApprovalContext<'_> {
    fn named(&self, prefix: &PlanIdPrefix) -> Named {
        if !prefix.matches(self.plan_id) {
            Named::Other
        } else if self
            .other_plan_ids
            .iter()
            .any(|other| other != self.plan_id && prefix.matches(other))
        {
            Named::Ambiguous
        } else {
            Named::ThisPlan
        }
    }

    /// Whether `login` is in a group some rule of the plan names.
    fn is_approver(&self, login: &Login) -> bool {
        let teams = self.team_memberships.get(login);
        self.requirements.iter().flatten().any(|rule| {
            rule.users.contains(login)
                || rule
                    .teams
                    .iter()
                    .any(|t| teams.is_some_and(|mine| mine.contains(t)))
        })
    }
}

/// One approve command, where it stands in the conversation.
struct Approve<'c> {
    /// (comment position in time, command position in the comment).
    position: (usize, usize),
    comment: &'c Comment,
    named: Named,
}

/// Evaluates every approval command in `comments` (any order; they are sorted by time).
pub fn evaluate_approvals(comments: &[Comment], ctx: &ApprovalContext<'_>) -> ApprovalOutcome {
    let mut ordered: Vec<&Comment> = comments.iter().collect();
    ordered.sort_by_key(|c| (c.created_at, c.id));
    let last_edit = last_edits(&ordered);
    let commands = read_commands(&ordered, ctx);

    // Pass 2: each approval's own validity, then whom it counts for.
    let mut tallies = empty_tallies(ctx);
    let blocked = match ctx.authorship {
        Authorship::Known { .. } => None,
        Authorship::Unknown { .. } => Some(Rejection::AuthorUnknown),
    };
    let mut verdicts = Vec::with_capacity(commands.approvals.len());
    for approve in &commands.approvals {
        let comment = approve.comment;
        let author = &comment.author;
        let rejection = match own_problem(approve, ctx, &commands.last_revoke, &last_edit) {
            Some(problem) => Some(problem),
            None => blocked.or_else(|| count(comment, ctx, &mut tallies)),
        };
        verdicts.push(ApprovalVerdict {
            comment_id: comment.id,
            login: author.clone(),
            at: comment.created_at,
            rejection,
            approver: ctx.is_approver(author),
        });
    }
    ApprovalOutcome {
        verdicts,
        tallies,
        blocked,
        revokes: commands.revokes,
    }
}

/// DESIGN 13.5: the latest edit of each author's comments; approvals up to it are lost.
fn last_edits<'c>(ordered: &[&'c Comment]) -> BTreeMap<&'c Login, OffsetDateTime> {
    let mut last_edit: BTreeMap<&Login, OffsetDateTime> = BTreeMap::new();
    for comment in ordered.iter().filter(|c| c.edited()) {
        let latest = last_edit
            .entry(&comment.author)
            .or_insert(comment.updated_at);
        *latest = (*latest).max(comment.updated_at);
    }
    last_edit
}

/// The commands of the conversation, read in order (pass 1).
struct Commands<'c> {
    /// The position of each author's last revoke of this plan.
    last_revoke: BTreeMap<&'c Login, (usize, usize)>,
    /// Every approve command, in order.
    approvals: Vec<Approve<'c>>,
    /// The comments that leave this plan revoked by their author.
    revokes: Vec<Revoke>,
}

/// Pass 1: every command in order; the last revoke of this plan by each author.
fn read_commands<'c>(ordered: &[&'c Comment], ctx: &ApprovalContext<'_>) -> Commands<'c> {
    let mut last_revoke: BTreeMap<&Login, (usize, usize)> = BTreeMap::new();
    let mut approvals: Vec<Approve<'_>> = Vec::new();
    let mut revokes = Vec::new();
    for (index, comment) in ordered.iter().copied().enumerate() {
        let mut revokes_here = false;
        for (command_index, (_, command)) in parse_comment(&comment.body)
            .commands
            .into_iter()
            .enumerate()
        {
            let position = (index, command_index);
            match command {
                Command::Approve(prefix) => {
                    let named = ctx.named(&prefix);
                    if named == Named::ThisPlan && !comment.edited() && !comment.by_bot() {
                        revokes_here = false;
                    }
                    approvals.push(Approve {
                        position,
                        comment,
                        named,
                    });
                }
                Command::Revoke(prefix) if prefix.matches(ctx.plan_id) && !comment.by_bot() => {
                    last_revoke.insert(&comment.author, position);
                    revokes_here = true;
                }
                _ => {}
            }
        }
        if revokes_here {
            revokes.push(Revoke {
                login: comment.author.clone(),
                at: comment.created_at,
                comment_id: comment.id,
            });
        }
    }
    Commands {
        last_revoke,
        approvals,
        revokes,
    }
}

/// Per operation, per rule, a tally with no approvers yet.
fn empty_tallies(ctx: &ApprovalContext<'_>) -> Vec<Vec<RuleTally>> {
    ctx.requirements
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
        .collect()
}

/// Why an approval does not count on its own, whatever the rules: the first that applies of
/// stale plan id, bot, edited, expired, ambiguous prefix, revoked, edited later.
fn own_problem(
    approve: &Approve<'_>,
    ctx: &ApprovalContext<'_>,
    last_revoke: &BTreeMap<&Login, (usize, usize)>,
    last_edit: &BTreeMap<&Login, OffsetDateTime>,
) -> Option<Rejection> {
    let comment = approve.comment;
    let author = &comment.author;
    if approve.named == Named::Other {
        Some(Rejection::StalePlanId)
    } else if comment.by_bot() {
        Some(Rejection::Bot)
    } else if comment.edited() {
        Some(Rejection::Edited)
    } else if comment.created_at < ctx.approvals_since {
        Some(Rejection::Expired)
    } else if approve.named == Named::Ambiguous {
        Some(Rejection::AmbiguousPrefix)
    } else if last_revoke
        .get(author)
        .is_some_and(|revoked| *revoked > approve.position)
        || ctx
            .recorded_revokes
            .iter()
            .any(|r| r.covers(author, comment.created_at, comment.id))
    {
        Some(Rejection::Revoked)
    } else if last_edit
        .get(author)
        .is_some_and(|edited| *edited >= comment.created_at)
    {
        Some(Rejection::EditedLater)
    } else {
        None
    }
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
    let is_author = match ctx.authorship {
        Authorship::Known { authors } => authors.contains(&comment.author),
        Authorship::Unknown { .. } => return Some(Rejection::AuthorUnknown),
    };
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
            id: CommentId::new(id),
            author: login(author),
            author_is_bot: false,
            created_at: at,
            updated_at: at,
            body: body.into(),
            thumbs: 0,
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
        authorship: Authorship,
        teams: BTreeMap<Login, BTreeSet<TeamSlug>>,
        other_plan_ids: Vec<PlanId>,
        recorded_revokes: Vec<Revoke>,
        approvals_since: OffsetDateTime,
    }

    impl Case {
        fn two_of(users: &[&str]) -> Self {
            Self {
                requirements: vec![vec![rule("two", 2, users, &[], false)]],
                authorship: Authorship::Known {
                    authors: [login("carol")].into(),
                },
                teams: BTreeMap::new(),
                other_plan_ids: Vec::new(),
                recorded_revokes: Vec::new(),
                approvals_since: datetime!(2026-11-01 00:00 UTC),
            }
        }

        fn run(&self, comments: &[Comment]) -> ApprovalOutcome {
            let id = plan_id();
            let ctx = ApprovalContext {
                plan_id: &id,
                other_plan_ids: &self.other_plan_ids,
                authorship: &self.authorship,
                recorded_revokes: &self.recorded_revokes,
                requirements: &self.requirements,
                team_memberships: &self.teams,
                approvals_since: self.approvals_since,
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

    fn twin_plan_id() -> PlanId {
        // Shares the 12-hex prefix of `plan_id()` (a birthday search finds such a pair).
        PlanId::from_digest(format!("sha256:0123456789ab{}", "f".repeat(52))).unwrap()
    }

    #[test]
    fn a_prefix_matching_two_plans_approves_neither() {
        let mut case = Case::two_of(&["alice", "bob"]);
        case.other_plan_ids = vec![twin_plan_id()];
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(
            rejections(&out),
            vec![
                Some(Rejection::AmbiguousPrefix),
                Some(Rejection::AmbiguousPrefix)
            ]
        );
        // A longer prefix tells them apart; the plan's own id among the others is no twin.
        let long = format!("/shipgate approve {}", &plan_id().hex()[..20]);
        case.other_plan_ids.push(plan_id());
        let out = case.run(&[comment(1, "alice", 0, &long), comment(2, "bob", 1, &long)]);
        assert!(out.quorum_met());
    }

    #[test]
    fn a_revoke_after_an_approval_in_the_same_comment_holds() {
        let case = Case::two_of(&["alice", "bob"]);
        let both = format!("{APPROVE}\n{REVOKE}");
        let out = case.run(&[comment(1, "alice", 0, &both), comment(2, "bob", 1, APPROVE)]);
        assert!(!out.quorum_met());
        assert_eq!(rejections(&out), vec![Some(Rejection::Revoked), None]);
        assert_eq!(
            out.revokes.len(),
            1,
            "recorded so that it outlives the comment"
        );
        // Commands apply in order: a revoke followed by an approval approves.
        let again = format!("{REVOKE}\n{APPROVE}");
        let out = case.run(&[
            comment(1, "alice", 0, &again),
            comment(2, "bob", 1, APPROVE),
        ]);
        assert!(out.quorum_met());
        assert!(out.revokes.is_empty());
    }

    #[test]
    fn an_edit_after_an_approval_withdraws_it_until_a_new_approval() {
        let case = Case::two_of(&["alice", "bob"]);
        // Someone edits alice's revoke into harmless text: her approval does not come back.
        let mut erased = comment(3, "alice", 2, "thanks");
        erased.updated_at += time::Duration::minutes(5);
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
            erased.clone(),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(rejections(&out), vec![Some(Rejection::EditedLater), None]);
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
            erased,
            comment(4, "alice", 9, APPROVE),
        ]);
        assert!(
            out.quorum_met(),
            "a new comment after the edit approves again"
        );
    }

    #[test]
    fn a_recorded_revoke_holds_once_its_comment_is_deleted() {
        let mut case = Case::two_of(&["alice", "bob"]);
        let at = datetime!(2026-11-23 10:02 UTC);
        case.recorded_revokes = vec![Revoke {
            login: login("alice"),
            at,
            comment_id: CommentId::new(3),
        }];
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(rejections(&out), vec![Some(Rejection::Revoked), None]);
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
            comment(4, "alice", 3, APPROVE),
        ]);
        assert!(out.quorum_met(), "approving again after the revoke counts");
    }

    #[test]
    fn an_approval_older_than_the_approval_ttl_no_longer_counts() {
        let mut case = Case::two_of(&["alice", "bob"]);
        let id = plan_id();
        let prefix = &id.as_str()["sha256:".len().."sha256:".len() + 12];
        let approvals = [
            comment(1, "alice", 0, &format!("/shipgate approve {prefix}")),
            comment(2, "bob", 30, &format!("/shipgate approve {prefix}")),
        ];
        assert!(case.run(&approvals).quorum_met());
        // Alice's approval was written at 10:00; approvals from before 10:10 have expired.
        case.approvals_since = datetime!(2026-11-23 10:10 UTC);
        let out = case.run(&approvals);
        assert!(!out.quorum_met());
        assert_eq!(out.verdicts[0].rejection, Some(Rejection::Expired));
        assert_eq!(out.verdicts[1].rejection, None);
    }

    #[test]
    fn an_unknown_author_blocks_every_approval() {
        let mut case = Case::two_of(&["alice", "bob"]);
        case.authorship = Authorship::Unknown {
            commit: "c0ffee".into(),
        };
        let out = case.run(&[
            comment(1, "alice", 0, APPROVE),
            comment(2, "bob", 1, APPROVE),
        ]);
        assert!(!out.quorum_met());
        assert_eq!(out.blocked, Some(Rejection::AuthorUnknown));
        assert_eq!(
            rejections(&out),
            vec![
                Some(Rejection::AuthorUnknown),
                Some(Rejection::AuthorUnknown)
            ]
        );
    }
}
