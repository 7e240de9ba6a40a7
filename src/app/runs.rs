//! `shipgate runs`: the plans awaiting approval, and the runs on the verified governance
//! branch, newest first, each with its state ([`crate::lifecycle`]) and its pull request; and the verified chain state that `runs`
//! and `receipt show` read without the audit key.

use crate::model::PrNumber;
use std::io::Write;
use std::path::Path;

use git2::Repository;

use super::inputs::{self, PolicyRequest};
use crate::audit::AuditError;
use crate::audit::state::State;
use crate::audit::trust::{ChainTrust, VerifiedState};
use crate::cli::{AuditTargetArgs, Format, PolicyArgs, RepoArgs, RunsArgs};
use crate::error::{Error, Outcome};
use crate::lifecycle::{awaiting_approval, run_state};
use crate::report::lifecycle::{AwaitingRow, RunRow, RunsReport, render_runs_text};

/// Runs `shipgate runs`.
pub fn runs(args: &RunsArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    if args.format == Format::Markdown {
        return Err(Error::Usage(
            "shipgate runs prints --format text or --format json".into(),
        ));
    }
    let verified = verified_chain(&args.target, args.allowed_signers.as_deref(), &args.policy)?;
    let no_chain = State::default();
    let state = verified.as_ref().map_or(&no_chain, |(_, v)| v.state());
    let local = inputs::open_repo(args.target.repo.as_deref())?;
    let repo_args = RepoArgs {
        repo: args.target.repo.clone(),
        repo_slug: args.repo_slug.clone(),
    };
    let (slug, _) = inputs::repo_slug(&repo_args, &local)?;
    let checkout = super::execute::checkout_plans(&local, &slug, state);
    let now = super::now_whole_seconds();
    let mut rows: Vec<RunRow> = state
        .runs
        .values()
        .filter(|run| args.pr.is_none() || run.pr == args.pr.map(PrNumber::new))
        .map(|run| {
            let judged = run_state(state, run, now, &checkout);
            RunRow {
                run_id: run.run_id.clone(),
                plan_id: run.plan_id.clone(),
                pr: run.pr,
                seq: run.seq,
                detail: judged.explain(run),
                state: judged,
            }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.seq));
    let report = RunsReport {
        mode: "runs",
        runs: rows,
        awaiting_approval: awaiting_rows(args, &local, &slug, state)?,
    };
    let rendered = match args.format {
        Format::Json => super::json_report(&report)?,
        Format::Text | Format::Markdown => render_runs_text(&report),
    };
    out.write_all(rendered.as_bytes())?;
    Ok(Outcome::Clean)
}

/// The plans awaiting approval: with `--pr N`, those pull request N adds or changes (read
/// from its head as git objects, as mint reads them); else those in the checkout.
fn awaiting_rows(
    args: &RunsArgs,
    local: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    state: &State,
) -> Result<Vec<AwaitingRow>, Error> {
    let pr = args.pr.map(PrNumber::new);
    let plans = match pr {
        Some(pr) => {
            let (_, base) = local.default_branch(args.policy.default_branch.as_deref())?;
            super::pull_head::pull_plans(local, &args.target.remote, slug, pr, &base)
        }
        None => super::execute::checkout_plans(local, slug, &State::default()),
    };
    Ok(awaiting_approval(state, &plans)
        .into_iter()
        .map(|plan| AwaitingRow {
            file: plan.file.clone(),
            plan_id: plan.id.to_string(),
            pr,
            approve_command: format!("/shipgate approve {}", plan.id.approval_prefix()),
        })
        .collect())
}

/// The governance branch `target` names, fetched and verified with the signers of
/// `allowed_signers` (else the policy's, with the genesis it pins); `None` when there is no
/// such branch. A chain that does not verify is an error, never a state to read.
pub(super) fn verified_chain(
    target: &AuditTargetArgs,
    allowed_signers: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<Option<(Repository, VerifiedState)>, Error> {
    let repo = super::audit::open_repository(target)?;
    let Some(head) = super::audit::chain_head(&repo, target)? else {
        return Ok(None);
    };
    let (signers, pinned) = match allowed_signers {
        Some(file) => (
            super::audit::trusted_signers(Some(file), target.repo.as_deref(), policy)?,
            None,
        ),
        None => {
            let repo = inputs::open_repo(target.repo.as_deref())?;
            let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(policy))?;
            if policy.signers.is_empty() {
                return Err(Error::Usage(
                    "the policy declares no signers: add them under `signers:`, or pass --allowed-signers FILE".into(),
                ));
            }
            let pinned = super::audit::pinned_genesis(Some(&policy))?;
            (policy.signers, pinned)
        }
    };
    let trust = ChainTrust::new(signers, pinned);
    trust
        .verify(&repo, Some(head))
        .map_err(AuditError::Verify)?;
    Ok(trust.verified_state().map(|verified| (repo, verified)))
}
