//! The online half of `shipgate doctor`, run when `GITHUB_TOKEN` is set: may the token push,
//! and is the governance branch protected against force pushes and deletion?
//!
//! What a token can see limits what can be checked, and the findings say so: GitHub reports a
//! repository's `permissions` to user tokens but not to GitHub App installation tokens (the
//! workflows' `GITHUB_TOKEN`), and shows classic branch protection only to administrators.
//! Ruleset rules are visible with read access, so a ruleset is the protection doctor can
//! confirm with any token.
//!
//! When the policy lets pull requests ship, doctor checks that workflows may open them (the
//! repository's Actions setting, or, when this token may not read it, GitHub's answer to this
//! token); when it names teams, that the token can read them (issue 16).

use crate::cli::{DoctorArgs, RepoArgs};
use crate::error::Error;
use crate::github::{
    BranchProtection, BranchRule, GitHubClient, GitHubError, GitHubRead, GitHubSettings,
    PULL_REQUEST_SETTING,
};
use crate::plan::OpKind;
use crate::policy::Policy;
use crate::reason::Code;
use crate::repo::LocalRepo;
use crate::report::RepoSource;
use crate::report::doctor::{DoctorReport, Finding};

use super::super::{github, inputs};

/// Runs the online checks, or says why they were skipped.
pub(super) fn check(
    repo: &LocalRepo,
    repo_args: &RepoArgs,
    args: &DoctorArgs,
    policy: Option<&Policy>,
    report: &mut DoctorReport,
) -> Result<(), Error> {
    let Some(token) = github::token() else {
        report.push(Finding::new(
            Code::GitHubNotChecked,
            "no GITHUB_TOKEN: the token's permissions and the governance branch's protection on GitHub were not checked",
        ));
        return Ok(());
    };
    let (slug, source) = inputs::repo_slug(repo_args, repo)?;
    if source == RepoSource::LocalPlaceholder {
        report.push(
            Finding::new(
                Code::GitHubRepoUnknown,
                "GITHUB_TOKEN is set but the GitHub repository is unknown, so nothing was checked on GitHub",
            )
            .fix("pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY"),
        );
        return Ok(());
    }
    let (runtime, client) = github::connect(&slug, token)?;
    runtime.block_on(async {
        if check_token(&client, args, report).await {
            check_protection(&client, &args.branch, report).await;
            check_tag_protection(&client, report).await;
            if let Some(policy) = policy {
                check_pull_requests(&client, policy, report).await;
                check_team_access(&client, policy, report).await;
            }
        }
    });
    Ok(())
}

/// When the policy lets pull requests ship: may workflows open them? The repository's Actions
/// setting when this token may read it (an administrator's), else GitHub's answer to this
/// token itself.
async fn check_pull_requests(client: &GitHubClient, policy: &Policy, report: &mut DoctorReport) {
    if policy.receipt_ttl_cap(OpKind::PullRequest).is_zero() {
        return;
    }
    let cannot = |detail: String| {
        Finding::new(Code::TokenCannotOpenPullRequest, detail).fix(format!(
            "turn on {PULL_REQUEST_SETTING}, or give the action a token that may open pull requests"
        ))
    };
    let finding = match client.workflow_permissions().await {
        Ok(Some(setting)) if setting.can_approve_pull_request_reviews => Finding::new(Code::TokenCanOpenPullRequest, "the repository allows GitHub Actions to create pull requests",
        ),
        Ok(Some(_)) => cannot(
            "the policy lets pull requests ship, but the repository does not allow GitHub Actions to create pull requests: GitHub refuses the workflows' GITHUB_TOKEN".to_owned(),
        ),
        Ok(None) => match client.repository().await {
            Ok(repository) => match client.pull_request_refusal(&repository.default_branch).await {
                Ok(None) => Finding::new(Code::TokenCanOpenPullRequest, "GitHub lets this token open pull requests",
                ),
                Ok(Some(refusal)) => cannot(refusal.sentence),
                Err(e) => failure("ask whether the token may open pull requests", &e),
            },
            Err(e) => failure("read the repository", &e),
        },
        Err(e) => failure("read the Actions workflow permissions", &e),
    };
    report.push(finding);
}

/// Every team the policy names must be readable by the token, or its members' approvals
/// could not be counted.
async fn check_team_access(client: &GitHubClient, policy: &Policy, report: &mut DoctorReport) {
    let teams: std::collections::BTreeSet<_> =
        policy.groups.values().flat_map(|g| &g.teams).collect();
    for team in teams {
        report.push(match client.team_readable(team).await {
            Ok(true) => Finding::new(Code::TeamReadable, format!("the token can read team {team}"),
            ),
            Ok(false) => Finding::new(Code::TeamMembershipUnreadable, format!("the policy counts approvals of team {team}, but the token cannot read that team"),
            )
            .fix("give the action a token that may read the organization's members (`members: read`), or list the team's members as users"),
            Err(e) => failure(&format!("read team {team}"), &e),
        });
    }
}

/// A failed request as a finding: an unreachable GitHub is exit 3, a refusal a problem.
fn failure(what: &str, err: &GitHubError) -> Finding {
    match err {
        GitHubError::Unavailable { .. }
        | GitHubError::RateLimited { .. }
        | GitHubError::BadResponse { .. }
        | GitHubError::Ambiguous { .. } => {
            Finding::new(Code::GitHubUnreachable, format!("cannot {what}: {err}"))
        }
        GitHubError::Unauthorized { .. } => {
            Finding::new(Code::TokenRejected, format!("cannot {what}: {err}"))
                .fix("set GITHUB_TOKEN to a valid token")
        }
        _ => Finding::new(Code::GitHubRefused, format!("cannot {what}: {err}")).fix(
            "check GITHUB_REPOSITORY (or --repo-slug) and that the token may read the repository",
        ),
    }
}

/// Reads the repository; false when that failed (nothing else can be checked then).
async fn check_token(
    client: &impl GitHubRead,
    args: &DoctorArgs,
    report: &mut DoctorReport,
) -> bool {
    let repository = match client.repository().await {
        Ok(repository) => repository,
        Err(e) => {
            report.push(failure("read the repository", &e));
            return false;
        }
    };
    report.push(match repository.push {
        Some(true) => Finding::new(
            Code::TokenCanPush,
            "the token may push (GitHub reports `permissions.push`)",
        ),
        Some(false) => Finding::new(
            Code::TokenCannotPush,
            "the token may not push to the repository: it could not append to the governance branch or ship anything",
        )
        .fix("use a token with write access (in workflows, `permissions: contents: write`, as the workflows shipgate init writes declare)"),
        None => Finding::new(
            Code::TokenPermissionsUnknown,
            "GitHub does not report this token's permissions (it does not for GitHub App installation tokens such as a workflow's GITHUB_TOKEN); the workflows grant what they need in their `permissions:`",
        ),
    });
    if let Some(local) = &args.default_branch
        && *local != repository.default_branch
    {
        report.push(
            Finding::new(
                Code::DefaultBranchDiffers,
                format!(
                    "--default-branch is `{local}` but GitHub's default branch is `{}`",
                    repository.default_branch
                ),
            )
            .fix("policies are read from GitHub's default branch in CI: check the one you meant"),
        );
    }
    true
}

/// Whether a tag ruleset restricts who may create tags: shipgate governs the tags it creates,
/// and only GitHub can stop a writer from pushing a tag around it.
async fn check_tag_protection(client: &impl GitHubSettings, report: &mut DoctorReport) {
    let how = "Settings > Rules > Rulesets > New tag ruleset: target `v*` (or all tags), rule \"Restrict creations\", and the shipgate workflow's identity as the only bypass";
    match client.tag_creation_rulesets().await {
        Ok(rulesets) if rulesets.is_empty() => report.push(
            Finding::new(
                Code::TagsUnprotected,
                "no active tag ruleset restricts creating tags: anyone who can push can tag around shipgate with `git push`",
            )
            .fix(how),
        ),
        Ok(rulesets) => report.push(Finding::new(
            Code::TagsProtected,
            format!(
                "tag creation is restricted by {}",
                rulesets
                    .iter()
                    .map(|r| format!("`{}` ({})", r.name, r.include.join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Err(e) => report.push(failure("read the tag rulesets", &e)),
    }
}

/// Classic branch protection as the token sees it.
enum Classic {
    /// The branch is protected, but the token may not read how.
    Unreadable,
    /// No classic protection applies (the branch is unprotected, or not created yet).
    Unprotected,
    /// Classic protection the token may read.
    Protected(BranchProtection),
}

/// Whether the governance branch refuses force pushes and deletion, through a ruleset or
/// classic protection.
async fn check_protection(client: &impl GitHubSettings, branch: &str, report: &mut DoctorReport) {
    let rules = match client.branch_rules(branch).await {
        Ok(rules) => rules,
        Err(e) => {
            report.push(failure(&format!("read the rules of `{branch}`"), &e));
            return;
        }
    };
    let by_rule_force = rules.contains(&BranchRule::NonFastForward);
    let by_rule_delete = rules.contains(&BranchRule::Deletion);
    let protected = match client.branch_protected(branch).await {
        Ok(protected) => protected,
        Err(e) => {
            report.push(failure(&format!("read branch `{branch}`"), &e));
            return;
        }
    };
    let classic = match protected {
        // GitHub answers 404 (or 403 to an app token) to whoever may not see protection.
        Some(true) => match client.branch_protection(branch).await {
            Ok(Some(found)) => Classic::Protected(found),
            Ok(None) | Err(GitHubError::Forbidden { .. }) => Classic::Unreadable,
            Err(e) => {
                report.push(failure(&format!("read the protection of `{branch}`"), &e));
                return;
            }
        },
        // Unprotected, or not created yet: no classic protection applies to it now.
        Some(false) | None => Classic::Unprotected,
    };
    let force_blocked =
        by_rule_force || matches!(classic, Classic::Protected(p) if !p.allow_force_pushes);
    let delete_blocked =
        by_rule_delete || matches!(classic, Classic::Protected(p) if !p.allow_deletions);
    if force_blocked && delete_blocked {
        report.push(Finding::new(
            Code::BranchProtected,
            format!("`{branch}` refuses force pushes and deletion on GitHub"),
        ));
        return;
    }
    let how = format!(
        "Settings > Rules > Rulesets > New branch ruleset targeting `{branch}`, with \"Restrict deletions\" and \"Block force pushes\""
    );
    match classic {
        Classic::Unreadable => report.push(
            Finding::new(
                Code::ProtectionUnreadable,
                format!(
                    "`{branch}` is protected, but this token may not read how (classic branch protection is shown to administrators only) and no ruleset covers {}",
                    missing(force_blocked, delete_blocked)
                ),
            )
            .fix(format!("check in Settings > Branches that force pushes and deletions are off, or use a ruleset, which any token can read: {how}")),
        ),
        Classic::Unprotected if rules.is_empty() => report.push(
            Finding::new(
                Code::BranchUnprotected,
                format!(
                    "`{branch}` is not protected: anyone who may push could rewrite or delete the audit chain (a rollback is only caught against a checkpoint)"
                ),
            )
            .fix(how),
        ),
        Classic::Unprotected | Classic::Protected(_) => {
            if !force_blocked {
                report.push(
                    Finding::new(
                        Code::ForcePushAllowed,
                        format!("`{branch}` allows force pushes: the audit chain could be rewritten"),
                    )
                    .fix(format!("turn off \"Allow force pushes\" for `{branch}`, or {how}")),
                );
            }
            if !delete_blocked {
                report.push(
                    Finding::new(
                        Code::DeletionAllowed,
                        format!("`{branch}` may be deleted: the audit chain could be lost"),
                    )
                    .fix(format!("turn off \"Allow deletions\" for `{branch}`, or {how}")),
                );
            }
        }
    }
}

fn missing(force_blocked: bool, delete_blocked: bool) -> &'static str {
    match (force_blocked, delete_blocked) {
        (false, false) => "force pushes or deletion",
        (false, true) => "force pushes",
        _ => "deletion",
    }
}
