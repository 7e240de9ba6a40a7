//! `shipgate dry-run`: resolve plans, evaluate the policy, render the report.
//!
//! The dry-run law (DESIGN 1) holds by construction: this function receives a read-only
//! [`LocalRepo`] and an output stream, and GitHub only through [`GitHubConversation`], whose
//! writes are the PR's status comment and its head's `shipgate` commit status ([`check`];
//! `--no-comment` turns both off), and, when a plan
//! opens a pull request, one pull request request whose head is its base, which GitHub can
//! only refuse (how the token learns whether it may open pull requests). It holds a
//! [`crate::github::GitHubClient`], the read and conversation halves only: the effect half is
//! a separate type ([`crate::github::GitHubShipper`]) spending a gate pass, so nothing here
//! can ship.

use std::io::Write;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::runtime::Runtime;

use super::inputs::{self, PolicyRequest};
use super::{check, github};
use crate::approval::stale::stale_approvals;
use crate::cli::{DryRunArgs, Format};
use crate::diag::Diagnostics;
use crate::error::{Error, Outcome};
use crate::github::GitHubRead;
use crate::github::{GitHubClient, GitHubError};
use crate::model::{PlanId, PrNumber, RepoSlug};
use crate::plan::ResolvedPlan;
use crate::policy::{self, OperationDecision, SignerRole, format_utc};
use crate::preview::{Preview, preview_plan};
use crate::repo::LocalRepo;
use crate::report::{
    self, DryRunReport, GitHubView, PolicyReport, RepoSource, StaleApprovalNote, StatusCommentNote,
};

/// Runs a dry-run and writes the report in the requested format. With `--format json`, input
/// errors are also written to `out` as `{"mode":"dry_run","errors":[...]}`, so a machine always
/// gets JSON; the error itself still reaches the caller for the exit code and stderr.
pub fn dry_run(
    args: &DryRunArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let result = report_dry_run(args, now, out);
    if let (Format::Json, Err(Error::Input(diagnostics))) = (args.format, &result) {
        let errors = serde_json::json!({ "mode": "dry_run", "errors": diagnostics });
        writeln!(out, "{errors:#}")?;
    }
    result
}

/// The dry-run proper: read inputs, evaluate, preview on GitHub if asked, publish, render.
fn report_dry_run(
    args: &DryRunArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let at = evaluation_time(args, now)?;
    if args.github.merge_group {
        return super::merge_group::merge_group(args, at, out);
    }
    let required = args.github.online || args.github.pr.is_some();
    let mut token = github::token();
    if token.is_none() && required {
        return Err(Error::Usage(
            "--online and --pr read GitHub: set GITHUB_TOKEN (and GITHUB_API_URL for GitHub Enterprise)".to_owned(),
        ));
    }
    let repo = inputs::open_repo(args.repo.repo.as_deref())?;
    let (slug, slug_source) = inputs::repo_slug(&args.repo, &repo)?;
    let mut warnings = Vec::new();
    if token.is_some() && slug_source == RepoSource::LocalPlaceholder {
        if required {
            return Err(Error::Usage(
                "--online and --pr need the GitHub repository: pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY".to_owned(),
            ));
        }
        warnings.push(
            "GITHUB_TOKEN is set but no GitHub repository is known, so GitHub was not read; pass --repo-slug OWNER/NAME for the online preview".to_owned(),
        );
        token = None;
    }
    let (policy, policy_source) = inputs::load_policy(&repo, &PolicyRequest::from(&args.policy))?;
    let policy_changes = proposed_policy_changes(&repo, args, &policy, &mut warnings);
    let online = match token {
        Some(token) => {
            let (runtime, client) = github::connect(&slug, token)?;
            Some((client, runtime))
        }
        None => None,
    };
    // The pull request and its head, when the plans are the pull request's: the commit the
    // `shipgate` status is set on.
    let mut pull = None;
    let plans = match (args.github.pr.map(PrNumber::new), &online) {
        (Some(pr), Some((client, runtime))) if args.plans.is_empty() => {
            let (found, head) = runtime.block_on(pull_request_head(client, &repo, pr))?;
            let (_, default) = repo.default_branch(args.policy.default_branch.as_deref())?;
            let judged =
                super::mint::pull_request_plans(&repo, &slug, &policy, (&default, &head), at);
            let (plans, notes) = match judged {
                Ok(judged) => judged,
                Err(e) => return Err(fail_check(args, (client, runtime), &head, e)),
            };
            pull = Some((found, head));
            warnings.extend(notes);
            plans
                .into_iter()
                .map(|(_, plan, decisions)| (plan, decisions))
                .collect()
        }
        _ => evaluate_plans(args, &repo, &slug, &policy, at)?,
    };
    warnings.extend(setup_warnings(args, &policy, &slug, &slug_source));
    let previews = match &online {
        Some((client, runtime)) => Some(read_previews(client, runtime, &plans, &mut warnings)?),
        None => None,
    };
    let resolved: Vec<ResolvedPlan> = plans.iter().map(|(plan, _)| plan.clone()).collect();
    let mut report = DryRunReport::new(
        slug,
        slug_source,
        PolicyReport {
            source: policy_source,
            hash: policy.hash.clone(),
            files: policy.files.clone(),
            presets: policy.presets.clone(),
        },
        format_utc(at),
        warnings,
        plans,
    );
    report.policy_changes = policy_changes;
    if let (Some((client, runtime)), Some(previews)) = (&online, previews) {
        report = report_online(report, args, (client, runtime), previews, &resolved, pull)?;
    }
    publish_to_actions(&report)?;
    let rendered = match args.format {
        Format::Text => report::render_text(&report),
        Format::Markdown => report::render_markdown(&report),
        Format::Json => super::json_report(&report)?,
    };
    out.write_all(rendered.as_bytes())?;
    Ok(if report.blocked {
        Outcome::Blocked
    } else {
        Outcome::Clean
    })
}

/// The online half of a dry-run report: what GitHub holds, which plans shipped (from the
/// governance branch), the status comment, and for a pull request the `shipgate` check on its
/// head.
fn report_online(
    mut report: DryRunReport,
    args: &DryRunArgs,
    (client, runtime): (&GitHubClient, &Runtime),
    previews: Vec<Vec<Preview>>,
    resolved: &[ResolvedPlan],
    pull: Option<(crate::github::PullRequest, crate::model::CommitSha)>,
) -> Result<DryRunReport, Error> {
    let view = GitHubView::Online {
        api_url: github::api_url(),
        requests: client.requests_sent(),
    };
    report = report.with_previews(view, previews);
    let state = governance_state(args, &mut report.warnings);
    if let Some(state) = &state {
        let shipped = resolved
            .iter()
            .map(|plan| crate::lifecycle::shipped_by(state, plan))
            .collect();
        report = report.with_shipped(shipped);
    }
    if let Some((pull, _)) = &pull {
        let comments = runtime.block_on(client.comments(pull.number))?;
        let ids: Vec<&PlanId> = resolved.iter().map(|plan| &plan.id).collect();
        report.stale_approvals = stale_approvals(&comments, &ids)
            .into_iter()
            .map(|stale| StaleApprovalNote {
                login: stale.login.to_string(),
                prefix: stale.prefix,
                url: check::comment_url(&pull.html_url, stale.comment_id),
            })
            .collect();
    }
    finish_online(&mut report, args, (client, runtime))?;
    if let Some((pull, head)) = pull.filter(|_| !args.github.no_comment) {
        let check = check::judge(&check::of_dry_run(&report, state.as_ref()));
        let link = report
            .status_comment
            .as_ref()
            .map(|note| check::comment_url(&pull.html_url, note.comment_id));
        let posted = runtime.block_on(check::post(client, head.as_str(), &check, link))?;
        report.warnings.extend(posted);
    }
    Ok(report)
}

/// The verified state of the governance branch (`origin`, `shipgate/audit`), to tell which
/// plans shipped; `None` when there is none, with a warning when it cannot be read or verified.
fn governance_state(
    args: &DryRunArgs,
    warnings: &mut Vec<String>,
) -> Option<crate::audit::state::State> {
    let target = crate::cli::AuditTargetArgs {
        repo: args.repo.repo.clone(),
        remote: "origin".to_owned(),
        branch: crate::audit::append::DEFAULT_BRANCH.to_owned(),
    };
    match super::runs::verified_chain(&target, None, &args.policy) {
        Ok(found) => found.map(|(_, verified)| verified.state().clone()),
        Err(e) => {
            warnings.push(format!(
                "the governance branch was not read, so shipped plans are not told apart: {e}"
            ));
            None
        }
    }
}

/// The time the policy is evaluated at: `--at`, or now to the second.
fn evaluation_time(args: &DryRunArgs, now: OffsetDateTime) -> Result<OffsetDateTime, Error> {
    Ok(match &args.at {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
            Error::Usage(format!(
                "--at `{text}` is not an RFC 3339 timestamp ({e}); write e.g. 2026-12-24T12:00:00Z"
            ))
        })?,
        None => now.replace_nanosecond(0).unwrap_or(now),
    })
}

/// Loads every plan and evaluates the policy on it; all plans' problems are reported at once.
fn evaluate_plans(
    args: &DryRunArgs,
    repo: &LocalRepo,
    slug: &RepoSlug,
    policy: &policy::Policy,
    at: OffsetDateTime,
) -> Result<Vec<(ResolvedPlan, Vec<OperationDecision>)>, Error> {
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for path in inputs::plan_paths(&args.plans, repo)? {
        match inputs::load_plan(&path, repo, slug) {
            Ok(plan) => {
                let decisions = policy::evaluate(policy, &plan.checked, at);
                plans.push((plan, decisions));
            }
            Err(Diagnostics(mut ds)) => problems.append(&mut ds),
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems).into());
    }
    Ok(plans)
}

/// On a pull request (`--pr`), the pull request and the commit its plans are read from, as
/// mint reads them: the head GitHub names, as git objects (fetched from `origin` as
/// `refs/pull/N/head` when the clone lacks it). Not the checkout: a pull request workflow
/// checks out GitHub's test merge, whose tree is not the head's once the base moved on, and a
/// `target: merge` plan binds the head's tree (DESIGN 13.7), so the dry-run shows the plan id
/// approvers approve and mint mints.
async fn pull_request_head(
    client: &crate::github::GitHubClient,
    repo: &LocalRepo,
    pr: PrNumber,
) -> Result<(crate::github::PullRequest, crate::model::CommitSha), Error> {
    use crate::github::GitHubRead;
    let pull = client.pull(pr).await?.ok_or_else(|| {
        Error::Usage(format!(
            "pull request #{pr} does not exist in this repository: check --pr"
        ))
    })?;
    let head = super::pull_head::pull_head(repo, "origin", pr, &pull.head_sha)?;
    Ok((pull, head))
}

/// A pull request whose plans do not load fails its `shipgate` check (unless `--no-comment`
/// asks for no write), then the dry-run fails with `error`, which says why. Setting the check
/// is best effort: when it cannot be set, the check stays unset, which holds the pull request
/// back as well, and `error` is still the one to report.
fn fail_check(
    args: &DryRunArgs,
    (client, runtime): (&GitHubClient, &Runtime),
    head: &crate::model::CommitSha,
    error: Error,
) -> Error {
    if !args.github.no_comment {
        let check = check::failure("a plan of this pull request does not load: see the run");
        let _unset_holds_back = runtime.block_on(check::post(client, head.as_str(), &check, None));
    }
    error
}

/// Warnings about the set-up: a placeholder repository, no policy files, a missing signer.
fn setup_warnings(
    args: &DryRunArgs,
    policy: &policy::Policy,
    slug: &RepoSlug,
    slug_source: &RepoSource,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if *slug_source == RepoSource::LocalPlaceholder {
        warnings.push(format!(
            "no GitHub repository is known, so plan ids use the placeholder {slug}; pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY to see the ids CI will compute"
        ));
    }
    if policy.files.is_empty() {
        warnings.push(format!(
            "no policy files were found in {}; every operation is denied",
            args.policy.policies
        ));
    }
    for (role, what) in [
        (SignerRole::Mint, "receipts cannot be minted"),
        (SignerRole::Audit, "the audit chain cannot be written"),
    ] {
        if !policy.files.is_empty() && !policy.has_signer(role) {
            warnings.push(format!(
                "the policy has no `{}` signer: {what}",
                role.as_str()
            ));
        }
    }
    warnings
}

/// Reads what the plans would touch on GitHub and previews every operation against it.
fn read_previews(
    client: &GitHubClient,
    runtime: &Runtime,
    plans: &[(ResolvedPlan, Vec<OperationDecision>)],
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<Preview>>, Error> {
    let resolved: Vec<_> = plans.iter().map(|(plan, _)| plan).collect();
    let mut world = runtime.block_on(crate::github::read_world(client, &resolved))?;
    match runtime.block_on(github::pull_request_refusal(client, &resolved))? {
        // The repository refuses every workflow token: execution would be refused too.
        Some(refusal) if refusal.by_repository_setting => {
            world.pull_request_refusal = Some(refusal.sentence);
        }
        // Only this token may not (a fork's read-only one): the token that executes
        // is another workflow's, so this says nothing about execution.
        Some(refusal) => warnings.push(format!(
            "whether the executing token may open the plans' pull requests was not checked: {}",
            refusal.sentence
        )),
        None => {}
    }
    Ok(resolved.iter().map(|p| preview_plan(p, &world)).collect())
}

/// After an online preview: warns about a slow GitHub and upserts the PR's status comment.
fn finish_online(
    report: &mut DryRunReport,
    args: &DryRunArgs,
    (client, runtime): (&GitHubClient, &Runtime),
) -> Result<(), Error> {
    let waits = client.retry_report();
    if waits.retries + waits.rate_limited > 0 {
        report.warnings.push(format!(
            "GitHub was slow to answer: {} retries after errors, {} after rate limits, {:.1} s waited",
            waits.retries,
            waits.rate_limited,
            waits.waited.as_secs_f64()
        ));
    }
    if let Some(pr) = args
        .github
        .pr
        .map(PrNumber::new)
        .filter(|_| !args.github.no_comment)
    {
        let markdown = report::render_markdown(report);
        match runtime.block_on(github::post_status(client, pr, &markdown)) {
            Ok(upserted) => report.status_comment = Some(StatusCommentNote::new(pr, upserted)),
            // A fork's pull request gets a read-only token: the report still reaches the
            // job summary and stdout, so a missing comment is not worth failing the check.
            Err(GitHubError::Forbidden { message, .. }) => report.warnings.push(format!(
                "the status comment on #{pr} was not written: the token may not comment ({message}); pull requests from forks get a read-only token, so the report is in the job summary only"
            )),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// Writes the job summary and the step outputs (`plan-id`, `status`, `blocked-reasons`).
fn publish_to_actions(report: &DryRunReport) -> Result<(), Error> {
    super::actions::write_step_summary(&report::render_markdown(report))?;
    let mut reasons: Vec<&str> = report
        .plans
        .iter()
        .flat_map(|p| &p.operations)
        .flat_map(|o| {
            o.findings
                .iter()
                .map(|f| f.code.as_str())
                .chain(o.preview.as_ref().and_then(|p| p.code).map(|c| c.as_str()))
        })
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    super::actions::write_outputs(&[
        (
            "plan-id",
            super::actions::space_separated(report.plans.iter().map(|p| &p.plan_id)),
        ),
        (
            "status",
            if report.blocked { "blocked" } else { "clean" }.to_owned(),
        ),
        ("blocked-reasons", reasons.join(",")),
    ])?;
    Ok(())
}

/// How the work tree's policy (on a pull request: the pull request's) differs from the default
/// branch's that judges it, so a new signer or approver is seen before it is merged. A work
/// tree policy that does not load is a warning here: the default branch's still judges.
fn proposed_policy_changes(
    repo: &LocalRepo,
    args: &DryRunArgs,
    judging: &policy::Policy,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    if args.policy.policies_from_worktree {
        return Vec::new();
    }
    let request = PolicyRequest {
        from_worktree: true,
        ..PolicyRequest::from(&args.policy)
    };
    match inputs::load_policy(repo, &request) {
        Ok((proposed, _)) if !proposed.files.is_empty() && proposed.hash != judging.hash => {
            policy::diff::diff(judging, &proposed)
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            warnings.push(format!(
                "the policy in the work tree does not load, so its changes cannot be shown: {e}"
            ));
            Vec::new()
        }
    }
}
