//! What a dry-run shows: one [`DryRunReport`] built from the resolved plans and the policy's
//! decisions, rendered as text, JSON or markdown. Building the report decides nothing new; it
//! only arranges what [`crate::plan`] and [`crate::policy`] computed.

pub mod doctor;
pub mod execute;
pub mod lifecycle;
mod markdown;
pub mod mint;
pub mod replies;
pub mod shipped;
mod text;

use serde::Serialize;

pub use markdown::{escape_markdown, render_markdown};
pub use text::render_text;

use crate::model::{CommentId, PlanId, PrNumber, RepoSlug, RunId};
use crate::plan::ResolvedPlan;
use crate::policy::{Finding, OperationDecision, Requirement};
use crate::preview::{Preview, PreviewState};
use crate::reason::Code;

/// The banner atop a report and the PR status comment (DESIGN 9): what the command came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    /// Every dry-run.
    DryRun,
    /// A mint while some quorum is not met.
    AwaitingApproval,
    /// A mint once every plan of the PR is minted.
    Authorized,
    /// A mint while shipgate is halted.
    Halted,
    /// An execution where every operation shipped (or had shipped).
    Shipped,
    /// An execution where something was blocked or failed.
    Blocked,
}

impl Banner {
    /// The words shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "DRY RUN - nothing was shipped",
            Self::AwaitingApproval => "AWAITING APPROVAL",
            Self::Authorized => "AUTHORIZED",
            // The banner is the reason: the same word as the `blocked-reasons` step output.
            Self::Halted => Code::Halted.as_str(),
            Self::Shipped => "SHIPPED",
            Self::Blocked => "BLOCKED",
        }
    }

    /// The `status` step output: lower case, words joined by `-` (`awaiting-approval`).
    pub fn status(self) -> String {
        self.as_str().to_ascii_lowercase().replace(' ', "-")
    }
}

impl std::fmt::Display for Banner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Banner {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where the repository's GitHub identity came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoSource {
    /// `--repo-slug`.
    Flag,
    /// `GITHUB_REPOSITORY`.
    Environment,
    /// The `origin` remote's URL.
    OriginRemote,
    /// Nothing named one: a local placeholder, so the plan id differs from GitHub's.
    LocalPlaceholder,
}

/// Where the policy was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum PolicySource {
    /// The default branch's commit (the normal, safe source).
    DefaultBranch {
        /// Branch name.
        branch: String,
        /// The ref read (`origin/main`; `main` in a clone with no remote-tracking branch).
        read_from: String,
        /// Its commit.
        commit: String,
        /// The directory in that commit.
        dir: String,
    },
    /// The work tree (`--policies-from-worktree`): local edits, not what CI enforces.
    Worktree {
        /// The directory.
        dir: String,
    },
}

/// The policy part of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    /// Where it was read.
    pub source: PolicySource,
    /// The policy hash.
    pub hash: String,
    /// Files merged.
    pub files: Vec<String>,
    /// Presets merged.
    pub presets: Vec<String>,
}

/// The verdict on one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing blocks it; it ships once its approvals are in.
    WouldShipAfterApproval,
    /// A policy finding blocks it.
    Blocked,
}

/// One operation of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationReport {
    /// 0-based position in the plan.
    pub index: usize,
    /// tag, release, pull_request.
    pub kind: &'static str,
    /// The operation key.
    pub key: String,
    /// What it does, with pinned shas.
    pub summary: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is blocked (empty when it is not).
    pub findings: Vec<Finding>,
    /// The approvals it needs.
    pub approvals: Vec<Requirement>,
    /// How it meets GitHub's state (online dry-runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
}

/// One plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanReport {
    /// The plan file.
    pub file: String,
    /// Its display name.
    pub name: Option<String>,
    /// The plan id.
    pub plan_id: PlanId,
    /// The comment that approves it.
    pub approve_command: String,
    /// Its operations.
    pub operations: Vec<OperationReport>,
    /// The run that shipped it, when the governance branch says it shipped: it is done, and
    /// what it created on GitHub is not a conflict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped_in: Option<RunId>,
}

/// Whether GitHub's state was consulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum GitHubView {
    /// No token: only the local repository was read.
    LocalOnly,
    /// GitHub was read (never written, except a PR's status comment).
    Online {
        /// The API it was read from.
        api_url: String,
        /// Requests made.
        requests: usize,
    },
}

/// The status comment a dry-run on a PR wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusCommentNote {
    /// The pull request.
    pub pr: PrNumber,
    /// `created` or `updated`.
    pub action: &'static str,
    /// The comment's id.
    pub comment_id: CommentId,
}

impl StatusCommentNote {
    /// Describes an upsert on `pr`.
    pub fn new(pr: PrNumber, upserted: crate::github::Upserted) -> Self {
        let (action, comment_id) = match upserted {
            crate::github::Upserted::Created(id) => ("created", id),
            crate::github::Upserted::Updated(id) => ("updated", id),
        };
        Self {
            pr,
            action,
            comment_id,
        }
    }
}

/// A whole dry-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRunReport {
    /// Always `dry_run`.
    pub mode: &'static str,
    /// [`Banner::DryRun`].
    pub banner: Banner,
    /// The repository the plans ship to.
    pub repository: RepoSlug,
    /// Where that name came from.
    pub repository_source: RepoSource,
    /// The policy used.
    pub policy: PolicyReport,
    /// Whether the preview is local only or GitHub was consulted.
    pub github: GitHubView,
    /// The instant freezes were evaluated at.
    pub evaluated_at: String,
    /// Warnings that do not block (missing signers, local placeholders).
    pub warnings: Vec<String>,
    /// The plans.
    pub plans: Vec<PlanReport>,
    /// Whether any operation would be blocked.
    pub blocked: bool,
    /// The PR status comment written, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_comment: Option<StatusCommentNote>,
    /// How the work tree's policy (a pull request's) differs from the default branch's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy_changes: Vec<String>,
    /// Approvals on the pull request that name no plan of it now (a push changed the id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale_approvals: Vec<StaleApprovalNote>,
}

/// An approval a push made stale, as the status comment lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleApprovalNote {
    /// Who approved.
    pub login: String,
    /// The plan-id prefix approved.
    pub prefix: String,
    /// The approving comment's URL.
    pub url: String,
}

impl DryRunReport {
    /// Arranges resolved plans and their decisions into a report.
    pub fn new(
        repository: RepoSlug,
        repository_source: RepoSource,
        policy: PolicyReport,
        evaluated_at: String,
        warnings: Vec<String>,
        plans: Vec<(ResolvedPlan, Vec<OperationDecision>)>,
    ) -> Self {
        let plans: Vec<PlanReport> = plans
            .into_iter()
            .map(|(plan, decisions)| PlanReport {
                approve_command: format!("/shipgate approve {}", plan.id.approval_prefix()),
                operations: plan
                    .operations
                    .iter()
                    .zip(decisions)
                    .enumerate()
                    .map(|(index, (op, decision))| OperationReport {
                        index,
                        kind: op.kind().as_str(),
                        key: op.key().to_string(),
                        summary: op.summary(),
                        verdict: if decision.is_allowed() {
                            Verdict::WouldShipAfterApproval
                        } else {
                            Verdict::Blocked
                        },
                        findings: decision.findings,
                        approvals: decision.requirements,
                        preview: None,
                    })
                    .collect(),
                file: plan.file,
                name: plan.name,
                plan_id: plan.id,
                shipped_in: None,
            })
            .collect();
        let blocked = plans
            .iter()
            .flat_map(|p| &p.operations)
            .any(|o| o.verdict == Verdict::Blocked);
        Self {
            mode: "dry_run",
            banner: Banner::DryRun,
            repository,
            repository_source,
            policy,
            github: GitHubView::LocalOnly,
            evaluated_at,
            warnings,
            plans,
            blocked,
            status_comment: None,
            policy_changes: Vec::new(),
            stale_approvals: Vec::new(),
        }
    }

    /// Adds the online preview: one list per plan, one preview per operation. A conflict with
    /// GitHub's state blocks its operation like a policy finding would.
    pub fn with_previews(mut self, github: GitHubView, previews: Vec<Vec<Preview>>) -> Self {
        for (plan, plan_previews) in self.plans.iter_mut().zip(previews) {
            for (op, preview) in plan.operations.iter_mut().zip(plan_previews) {
                if preview.state == PreviewState::Conflict {
                    op.verdict = Verdict::Blocked;
                }
                op.preview = Some(preview);
            }
        }
        self.github = github;
        self.recount_blocked();
        self
    }

    /// Marks the plans that shipped, one entry per plan (the run that shipped it, if one did):
    /// each operation is `shipped in run_...`, and nothing of the plan blocks.
    pub fn with_shipped(mut self, shipped: Vec<Option<RunId>>) -> Self {
        for (plan, run) in self.plans.iter_mut().zip(shipped) {
            let Some(run) = run else { continue };
            for op in &mut plan.operations {
                op.verdict = Verdict::WouldShipAfterApproval;
                op.findings.clear();
                op.preview = Some(Preview {
                    state: PreviewState::AlreadyShipped,
                    code: None,
                    detail: format!("shipped in {run}"),
                });
            }
            plan.shipped_in = Some(run);
        }
        self.recount_blocked();
        self
    }

    fn recount_blocked(&mut self) {
        self.blocked = self
            .plans
            .iter()
            .flat_map(|p| &p.operations)
            .any(|o| o.verdict == Verdict::Blocked);
    }
}

/// "would create", "already shipped" or "conflict: CODE", and what was found.
fn describe_preview(preview: &Preview) -> String {
    let state = match (preview.state, preview.code) {
        (PreviewState::WouldCreate, _) => "would create".to_owned(),
        (PreviewState::AlreadyShipped, _) => "already shipped".to_owned(),
        (PreviewState::Conflict, Some(code)) => format!("blocked: {}", code.as_str()),
        (PreviewState::Conflict, None) => "blocked".to_owned(),
    };
    format!("{state} ({})", preview.detail)
}

/// How a markdown report opens a plan: its name (or file), escaped, and its id.
fn plan_heading_markdown(name: Option<&str>, file: &str, plan_id: &PlanId) -> String {
    let name = escape_markdown(name.unwrap_or(file));
    format!("\n### Plan {name}\n\nPlan id: `{plan_id}`\n\n")
}

fn github_line(view: &GitHubView) -> String {
    match view {
        GitHubView::LocalOnly => {
            "not consulted (no GITHUB_TOKEN): the preview is local only".to_owned()
        }
        GitHubView::Online { api_url, requests } => {
            format!("read {api_url} ({requests} requests); the preview reflects GitHub now")
        }
    }
}

/// "2 of release-managers (alice, bob; teams acme/release)".
fn describe_requirement(r: &Requirement) -> String {
    let mut who: Vec<String> = r.users.iter().map(ToString::to_string).collect();
    if !r.teams.is_empty() {
        who.push(format!(
            "teams {}",
            r.teams
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let selfish = if r.self_approval {
        "; the author may approve"
    } else {
        "; not the plan's author"
    };
    format!(
        "{} of {} ({}){selfish}",
        r.required,
        r.groups.join(", "),
        who.join(", ")
    )
}

pub(crate) fn policy_source_line(source: &PolicySource) -> String {
    match source {
        PolicySource::DefaultBranch {
            branch,
            read_from,
            commit,
            dir,
        } => format!(
            "{dir} from {read_from} at {} (default branch {branch})",
            &commit[..commit.len().min(12)]
        ),
        PolicySource::Worktree { dir } => format!(
            "{dir} in the work tree (--policies-from-worktree: local edits, not what CI enforces)"
        ),
    }
}
