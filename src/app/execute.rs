//! `shipgate execute --run RUN_ID`: the execution protocol (DESIGN 7).
//!
//! 1. Fetch the governance branch and verify it (signatures, chain, replayed state).
//! 2. Refuse if halted. 3. Take the lock (breaking an expired one, audited).
//! 4. For each operation, in plan order: the gate; `receipt_consumed` (before the effect, so a
//!    receipt can never act twice); the effect through the port's effect half, which demands
//!    the gate's [`Authorized`]; the read-back; `operation_succeeded` or `operation_failed`.
//! 5. Release the lock.
//!
//! An operation whose receipt was consumed but whose outcome was never recorded (a crash) is
//! in doubt: a re-run reads GitHub and records `operation_recovered` when the effect exists as
//! approved, performs it when it is absent, and fails it on a conflict. Every blocked operation
//! is recorded as `operation_denied` with its reason code, unless the chain cannot be written.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::audit::{AppendSetup, prepare_append};
use super::github::{self, read_world};
use super::inputs::{self, PolicyRequest};
use crate::audit::AuditError;
use crate::audit::append::{AppendError, append_all};
use crate::audit::entry::Event;
use crate::audit::reason::Reason;
use crate::audit::state::{ApplyError, OpStatus, ReceiptStatus, RunRecord, State, StateAccess};
use crate::audit::store::entries_back_to;
use crate::audit::trust::{VerifiedState, policy_change};
use crate::audit::view::StateView;
use crate::cli::{ExecuteArgs, Format};
use crate::error::{Error, Outcome};
use crate::gate::{
    Authorized, Blocked, GateCode, GateContext, OperationUnderGate, check_operation,
    check_preconditions, is_expired,
};
use crate::github::{GitHubClient, GitHubEffects, NewPullRequest, NewRelease};
use crate::model::PlanId;
use crate::plan::{ResolvedOperation, ResolvedPlan};
use crate::policy::{Policy, format_utc, parse_duration};
use crate::preview::{ConflictCode, PreviewState, preview_plan};
use crate::receipt::parse_receipt;
use crate::report::execute::{
    BLOCKED, ExecuteReport, OpOutcome, SHIPPED, TimelineEntry, render_execute_markdown,
    render_execute_text,
};

/// Runs `shipgate execute`.
pub fn execute(args: &ExecuteArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    execute_with(args, &[], out)
}

/// [`execute`], finding each run's plan among `known` before the checkout's: `/shipgate ship`
/// passes the pull request's plans, which mint read from its head commit as git objects (the
/// approve workflow's checkout is the default branch's, DESIGN 13.9).
pub(super) fn execute_with(
    args: &ExecuteArgs,
    known: &[ResolvedPlan],
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let lock_ttl = parse_duration(&args.lock_ttl).map_err(|why| {
        Error::Usage(format!(
            "--lock-ttl `{}`: {why}; write e.g. 15m",
            args.lock_ttl
        ))
    })?;
    let token = github::token()
        .ok_or_else(|| Error::Usage("execute acts on GitHub: set GITHUB_TOKEN".into()))?;
    let (repo, slug) = inputs::governed_repo(&args.append)?;
    if args.append.policy.policies_from_worktree {
        return Err(Error::Usage(
            "execute always reads the policy from the default branch".into(),
        ));
    }
    let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(&args.append.policy))?;
    let setup = prepare_append(&args.append)?;

    // 1. Fetch and verify; every later decision and append verifies again from this head.
    let verified = match setup.verified_head() {
        Ok(head) => head,
        Err(Error::Audit(AuditError::Verify(failure))) => {
            writeln!(
                out,
                "blocked: {} - {} ({failure})",
                GateCode::AuditChainInvalid.as_str(),
                GateCode::AuditChainInvalid.why()
            )?;
            return Err(AuditError::Verify(failure).into());
        }
        Err(e) => return Err(e),
    };
    let (Some(_), Some(verified)) = (verified, setup.target.trust.verified_state()) else {
        return Err(Error::Usage(format!(
            "there is no governance branch {}: nothing was minted",
            args.append.target.branch
        )));
    };
    let state = verified.state();
    let genesis_policy = setup
        .target
        .trust
        .genesis_policy(&setup.repo)
        .map_err(AuditError::from)?;
    let runs = select_runs(state, args, (&repo, &slug), known)?;
    if runs.is_empty() {
        writeln!(
            out,
            "no run is pending: none has an unused, unexpired receipt and its plan in this checkout"
        )?;
        super::actions::write_outputs(&[("status", "idle".to_owned())])?;
        return Ok(Outcome::Clean);
    }

    let (runtime, client) = github::connect(&slug, token)?;
    let mut reports = Vec::new();
    let mut code = Outcome::Clean;
    for (run, plan) in &runs {
        let mut executor = Executor {
            setup: &setup,
            policy: &policy,
            run,
            genesis_policy: genesis_policy.as_ref(),
            plan: plan.as_ref(),
            client: &client,
            runtime: &runtime,
            lock_ttl: Duration::from_secs(lock_ttl),
        };
        let outcomes = executor.run()?;
        code = code.max(outcome_code(&outcomes));
        let report = ExecuteReport::new(
            run.run_id.clone(),
            run.plan_id.clone(),
            outcomes,
            timeline(&setup, run)?,
        );
        let markdown = render_execute_markdown(&report);
        if let Some(pr) = run.pr {
            runtime.block_on(github::post_status(&client, pr, &markdown))?;
        }
        super::actions::write_step_summary(&markdown)?;
        let rendered = match args.format {
            Format::Text => render_execute_text(&report),
            Format::Markdown => markdown,
            Format::Json => super::json_report(&report)?,
        };
        out.write_all(rendered.as_bytes())?;
        reports.push(report);
    }
    let reasons: Vec<&str> = reports
        .iter()
        .flat_map(|r| &r.operations)
        .filter_map(|(_, o)| match o {
            OpOutcome::Denied { code, .. } | OpOutcome::Failed { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .collect();
    // One word for the whole command, however many runs it executed.
    let status = if reports.iter().all(|r| r.banner == SHIPPED) {
        SHIPPED
    } else {
        BLOCKED
    };
    super::actions::write_outputs(&[
        (
            "plan-id",
            super::actions::space_separated(reports.iter().map(|r| &r.plan_id)),
        ),
        (
            "run-id",
            super::actions::space_separated(reports.iter().map(|r| &r.run_id)),
        ),
        ("status", status.to_ascii_lowercase()),
        ("blocked-reasons", reasons.join(",")),
    ])?;
    Ok(code)
}

/// The run's entries, oldest first, read from the governance branch's head back to the
/// entry that opened the run.
fn timeline(setup: &AppendSetup, run: &RunRecord) -> Result<Vec<TimelineEntry>, Error> {
    let Some(head) = setup.verified_head()? else {
        return Ok(Vec::new());
    };
    let entries = entries_back_to(&setup.repo, head, run.seq).map_err(AuditError::from)?;
    Ok(entries
        .into_iter()
        .rev()
        .filter(|(_, sealed)| sealed.entry.event.run_id() == Some(run.run_id.as_str()))
        .map(|(_, sealed)| TimelineEntry {
            at: sealed.entry.at.clone(),
            seq: sealed.entry.seq,
            summary: sealed.entry.summary(),
        })
        .collect())
}

/// The runs to execute, each with its plan from the checkout (none: the plan moved: stale):
/// the one named by `--run`, the latest one minted for `--pr`, or, with `--pending`, every run
/// that still has work, oldest first.
fn select_runs(
    state: &State,
    args: &ExecuteArgs,
    (repo, slug): (&crate::repo::LocalRepo, &crate::model::RepoSlug),
    known: &[ResolvedPlan],
) -> Result<Vec<(RunRecord, Option<ResolvedPlan>)>, Error> {
    let runs: Vec<RunRecord> =
        match (&args.run, args.pr) {
            (Some(run), _) => {
                vec![state.runs.get(run).cloned().ok_or_else(|| {
                    Error::Usage(format!("no run `{run}` on the governance branch"))
                })?]
            }
            (None, Some(pr)) => vec![
                state
                    .runs
                    .values()
                    .filter(|r| r.pr == Some(pr))
                    .max_by_key(|r| r.seq)
                    .cloned()
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "no run was minted for pull request #{pr}: approve and mint it first"
                        ))
                    })?,
            ],
            (None, None) if args.pending => {
                let with_work = runs_with_work(state, super::now_whole_seconds());
                let mut pending: Vec<RunRecord> = state
                    .runs
                    .values()
                    .filter(|r| with_work.contains(r.run_id.as_str()))
                    .cloned()
                    .collect();
                pending.sort_by_key(|r| r.seq);
                pending
            }
            (None, None) => {
                return Err(Error::Usage(
                    "pass --run RUN_ID, --pr N or --pending".into(),
                ));
            }
        };
    let mut with_plans = Vec::new();
    for run in runs {
        let plan = match known.iter().find(|p| p.id.as_str() == run.plan_id) {
            Some(plan) => Some(plan.clone()),
            None => find_plan(repo, slug, &run)?.or_else(|| pull_plan(repo, slug, args, &run)),
        };
        // A pending run whose plan is not in the checkout has not reached this branch yet
        // (or moved on): it waits for `--run`, rather than being denied on every push.
        if plan.is_some() || !args.pending {
            with_plans.push((run, plan));
        }
    }
    Ok(with_plans)
}

/// The runs that still have something to do: an operation in doubt (to recover), or an
/// enforceable receipt that is unused and that the gate would not call expired at `now`.
fn runs_with_work(state: &State, now: OffsetDateTime) -> HashSet<&str> {
    let in_doubt = state
        .ops
        .values()
        .filter(|op| op.status == OpStatus::InDoubt)
        .map(|op| op.run_id.as_str());
    let usable = state
        .receipts
        .values()
        .filter(|receipt| {
            receipt.enforceable
                && receipt.status == ReceiptStatus::Minted
                && OffsetDateTime::parse(&receipt.expires_at, &Rfc3339)
                    .is_ok_and(|at| !is_expired(now, at))
        })
        .map(|receipt| receipt.run_id.as_str());
    in_doubt.chain(usable).collect()
}

/// The plan in the checkout whose id is the run's, if any (none: the plan moved: stale).
fn find_plan(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    run: &RunRecord,
) -> Result<Option<ResolvedPlan>, Error> {
    for path in inputs::plan_paths(&[], repo).unwrap_or_default() {
        if let Ok(plan) = inputs::load_plan(&path, repo, slug)
            && plan.id.as_str() == run.plan_id
        {
            return Ok(Some(plan));
        }
    }
    Ok(None)
}

/// A run named by `--run` whose plan is its pull request's, not yet merged: the ship workflow
/// started by `/shipgate ship` reads it from the pull request's head as git objects (issue 15).
fn pull_plan(
    repo: &crate::repo::LocalRepo,
    slug: &crate::model::RepoSlug,
    args: &ExecuteArgs,
    run: &RunRecord,
) -> Option<ResolvedPlan> {
    let pr = run.pr.filter(|_| args.run.is_some())?;
    let (_, base) = repo
        .default_branch(args.append.policy.default_branch.as_deref())
        .ok()?;
    super::pull_head::pull_plans(repo, &args.append.target.remote, slug, pr, &base)
        .into_iter()
        .find(|plan| plan.id.as_str() == run.plan_id)
}

fn outcome_code(outcomes: &[(String, OpOutcome)]) -> Outcome {
    let mut code = Outcome::Clean;
    for (_, outcome) in outcomes {
        match outcome {
            OpOutcome::Denied { code: reason, .. }
                if reason == GateCode::ReceiptForged.as_str() =>
            {
                return Outcome::Integrity;
            }
            OpOutcome::Denied { .. } => code = Outcome::Blocked,
            OpOutcome::Failed { .. } => code = Outcome::Infrastructure,
            _ => {}
        }
    }
    code
}

struct Executor<'a> {
    setup: &'a AppendSetup,
    policy: &'a Policy,
    /// What the chain knows of its first policy (see `trust::policy_change`).
    genesis_policy: Option<&'a Option<String>>,
    run: &'a RunRecord,
    plan: Option<&'a ResolvedPlan>,
    client: &'a GitHubClient,
    runtime: &'a tokio::runtime::Runtime,
    lock_ttl: Duration,
}

/// A point where crash tests kill the executor: `SHIPGATE_TEST_CRASH_AT=<point>` or
/// `<point>@<op key>`. Compiled into debug builds only: a release binary ignores it.
fn crash_point(point: &str, op_key: &str) {
    #[cfg(debug_assertions)]
    if let Ok(wanted) = std::env::var("SHIPGATE_TEST_CRASH_AT") {
        let (wanted_point, wanted_op) = wanted
            .split_once('@')
            .map_or((wanted.as_str(), None), |(p, o)| (p, Some(o)));
        if wanted_point == point && wanted_op.is_none_or(|o| o == op_key) {
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (point, op_key);
}

impl Executor<'_> {
    /// Appends `events` in one push, each checked by `check` against the head's state first.
    fn append(
        &self,
        mut propose: impl FnMut(&StateView<'_>) -> Result<Vec<Event>, ApplyError>,
    ) -> Result<(), AppendError> {
        append_all(
            &self.setup.repo,
            &self.setup.cli,
            &self.setup.key,
            &self.setup.target,
            &super::now_whole_seconds,
            &mut propose,
        )
        .map(|_| ())
    }

    fn deny(&self, op_key: &str, blocked: &Blocked) -> Result<OpOutcome, Error> {
        let event = Event::OperationDenied {
            run_id: Some(self.run.run_id.clone()),
            op_key: op_key.to_owned(),
            reason: blocked.code.as_str().to_owned(),
        };
        self.append(|_| Ok(vec![event.clone()]))
            .map_err(AuditError::from)?;
        Ok(OpOutcome::Denied {
            code: blocked.code.as_str().to_owned(),
            detail: blocked.detail.clone(),
        })
    }

    fn run(&mut self) -> Result<Vec<(String, OpOutcome)>, Error> {
        let keys: Vec<String> = self
            .run
            .operations
            .iter()
            .map(|o| o.op_key.clone())
            .collect();
        let mut outcomes: Vec<(String, OpOutcome)> = Vec::new();
        let not_attempted = |from: usize, outcomes: &mut Vec<(String, OpOutcome)>| {
            for key in &keys[from..] {
                outcomes.push((key.clone(), OpOutcome::NotAttempted));
            }
        };

        // 2. Halted? 3. The lock.
        let run_id = self.run.run_id.clone();
        let ttl = time::Duration::seconds(i64::try_from(self.lock_ttl.as_secs()).unwrap_or(900));
        let locked = self.append(|state| {
            if let Some(halt) = state.halt() {
                return Err(ApplyError {
                    reason: Reason::Halted,
                    detail: format!("halted by {}: {}", halt.by, halt.reason),
                });
            }
            let at = super::now_whole_seconds();
            let mut events: Vec<Event> =
                policy_change(state, self.genesis_policy, &self.policy.hash)
                    .into_iter()
                    .collect();
            if let Some(lock) = state.lock() {
                let expired = OffsetDateTime::parse(&lock.expires_at, &Rfc3339)
                    .is_ok_and(|expiry| at > expiry);
                if !expired {
                    return Err(ApplyError {
                        reason: Reason::Locked,
                        detail: format!(
                            "held by run {} since {} until {}",
                            lock.run_id, lock.acquired_at, lock.expires_at
                        ),
                    });
                }
                events.push(Event::LockBroken {
                    run_id: lock.run_id.clone(),
                    reason: format!("expired at {}", lock.expires_at),
                });
            }
            events.push(Event::LockAcquired {
                run_id: run_id.clone(),
                expires_at: format_utc(at + ttl),
            });
            Ok(events)
        });
        match locked {
            Ok(()) => {}
            Err(AppendError::Refused(refusal)) => {
                let code = match refusal.reason {
                    Reason::Halted => GateCode::Halted,
                    _ => GateCode::Locked,
                };
                let blocked = Blocked {
                    code,
                    detail: refusal.detail,
                };
                if let Some(first) = keys.first() {
                    outcomes.push((first.clone(), self.deny(first, &blocked)?));
                }
                not_attempted(1, &mut outcomes);
                return Ok(outcomes);
            }
            Err(e) => return Err(AuditError::from(e).into()),
        }

        // 4. Each operation, in plan order. Operations this run already settled are skipped
        // when it stopped part-way; a run settled throughout is a replay, which the gate
        // refuses (its receipts are consumed).
        let verified = self.verified_state()?;
        let state = verified.state();
        let settled = |key: &String| {
            state.ops.get(key).is_some_and(|op| {
                op.run_id == self.run.run_id
                    && matches!(op.status, OpStatus::Succeeded | OpStatus::Recovered)
            })
        };
        let replay = keys.iter().all(settled);
        for (index, key) in keys.iter().enumerate() {
            let outcome = if !replay && settled(key) {
                OpOutcome::AlreadyShipped
            } else {
                match self.operation(index, key) {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        // GitHub or git failed mid-operation: the operation may be in doubt,
                        // which a re-run recovers; give the lock back so it need not wait.
                        let _ = self.release_lock();
                        return Err(error);
                    }
                }
            };
            let stop = !outcome.is_done();
            outcomes.push((key.clone(), outcome));
            if stop {
                not_attempted(index + 1, &mut outcomes);
                break;
            }
        }

        // 5. Release the lock.
        self.release_lock()?;
        Ok(outcomes)
    }

    fn release_lock(&self) -> Result<(), Error> {
        let run_id = self.run.run_id.clone();
        self.append(|_| {
            Ok(vec![Event::LockReleased {
                run_id: run_id.clone(),
            }])
        })
        .map_err(|e| AuditError::from(e).into())
    }

    /// The state at the remote head, freshly fetched and verified, as the gate's preconditions
    /// take it.
    fn verified_state(&self) -> Result<VerifiedState, Error> {
        self.setup.verified_head()?;
        self.setup.target.trust.verified_state().ok_or_else(|| {
            Error::Usage(format!(
                "there is no governance branch {}: nothing was minted",
                self.setup.target.branch
            ))
        })
    }

    fn operation(&mut self, index: usize, op_key: &str) -> Result<OpOutcome, Error> {
        let verified = self.verified_state()?;
        // The global preconditions, on the state just verified: no halt, our lock.
        let cleared = match check_preconditions(&verified, &self.run.run_id) {
            Ok(cleared) => cleared,
            Err(blocked) => return self.deny(op_key, &blocked),
        };
        let state = verified.state();
        let receipt_record = state
            .receipts
            .values()
            .find(|r| r.run_id == self.run.run_id && r.op_key == op_key);
        let receipt = receipt_record
            .and_then(|r| r.document.as_deref())
            .and_then(|doc| parse_receipt(doc.as_bytes()).ok());
        // In doubt: consumed by this run, outcome never recorded. The receipt belongs to this
        // run, so recovery may act on it; anything else consumed stays consumed.
        let in_doubt = receipt_record.is_some_and(|r| {
            state.ops.get(op_key).is_some_and(|op| {
                op.status == OpStatus::InDoubt
                    && op.run_id == self.run.run_id
                    && op.receipt_id == r.receipt_id
            })
        });
        let consumed = receipt_record.is_some_and(|r| r.status == ReceiptStatus::Consumed);
        let stale_id = PlanId::from_digest(format!("sha256:{}", "0".repeat(64)))
            .expect("a well-formed placeholder id");
        let current_plan_id = self.plan.map_or(&stale_id, |p| &p.id);
        let key = crate::model::OpKey::parse(op_key).ok_or_else(|| {
            Error::Usage(format!(
                "run {} records a malformed operation key `{op_key}`",
                self.run.run_id
            ))
        })?;
        let op_kind = crate::plan::OpKind::parse(key.kind()).unwrap_or(crate::plan::OpKind::Tag);
        let run_plan_id = PlanId::from_digest(self.run.plan_id.clone())
            .map_err(|e| Error::Usage(e.to_string()))?;
        let gate = check_operation(
            &cleared,
            &OperationUnderGate {
                run_id: &self.run.run_id,
                repo: self.client.repo(),
                plan_id: &run_plan_id,
                op_index: u32::try_from(index).unwrap_or(u32::MAX),
                op_kind,
                op_key: &key,
            },
            &GateContext {
                receipt: receipt.as_ref(),
                signers: &self.policy.signers,
                hmac_keys: &[],
                receipt_ttl: self.policy.receipt_ttl_cap(op_kind),
                consumed: consumed && !in_doubt,
                now: super::now_whole_seconds(),
                current_policy_hash: &self.policy.hash,
                current_plan_id,
                policy: self.policy,
            },
        );
        let pass = match gate {
            Ok(pass) => pass,
            Err(blocked) => return self.deny(op_key, &blocked),
        };
        let Some(plan) = self.plan else {
            // The gate's check 9 already refuses this; kept as a second lock on the door.
            return self.deny(
                op_key,
                &Blocked {
                    code: GateCode::ReceiptStale,
                    detail: "no plan in the checkout resolves to the run's plan id".into(),
                },
            );
        };
        let op = &plan.operations[index];

        if in_doubt {
            match self.world_state(plan, index)? {
                PreviewState::AlreadyShipped => {
                    return self.settle(op_key, &pass, Settled::Recovered);
                }
                PreviewState::Conflict => {
                    return self.settle(
                        op_key,
                        &pass,
                        Settled::Failed(
                            "CONFLICT".into(),
                            "what exists on GitHub differs from the approved operation".into(),
                        ),
                    );
                }
                PreviewState::WouldCreate => {}
            }
        } else {
            // The gate judged the plan in the checkout; GitHub's head branch may have moved
            // since approval. Refuse before the receipt is spent (DESIGN 13.6).
            if matches!(op, ResolvedOperation::PullRequest { .. })
                && let Some(moved) = self.head_moved(plan, index)?
            {
                return self.deny(
                    op_key,
                    &Blocked {
                        code: GateCode::ReceiptStale,
                        detail: moved,
                    },
                );
            }
            let consume = Event::ReceiptConsumed {
                receipt_id: pass.receipt_id().to_owned(),
                run_id: pass.run_id().to_owned(),
                op_key: op_key.to_owned(),
            };
            match self.append(|_| Ok(vec![consume.clone()])) {
                Ok(()) => {}
                Err(AppendError::Refused(refusal)) => {
                    let code = match refusal.reason {
                        Reason::Halted => GateCode::Halted,
                        Reason::ReceiptExpired => GateCode::ReceiptExpired,
                        _ => GateCode::ReceiptConsumed,
                    };
                    return self.deny(
                        op_key,
                        &Blocked {
                            code,
                            detail: refusal.detail,
                        },
                    );
                }
                Err(e) => return Err(AuditError::from(e).into()),
            }
        }
        crash_point("consumed", op_key);

        let link = match self.runtime.block_on(self.effect(&pass, op)) {
            Ok(link) => link,
            Err(e) => {
                return self.settle(
                    op_key,
                    &pass,
                    Settled::Failed(e.code().into(), e.to_string()),
                );
            }
        };
        crash_point("effect", op_key);

        let settled = match self.world_state(plan, index)? {
            PreviewState::AlreadyShipped => Settled::Succeeded(link),
            _ => Settled::Failed(
                "READ_BACK_MISMATCH".into(),
                "the effect does not read back as approved".into(),
            ),
        };
        crash_point("readback", op_key);
        self.settle(op_key, &pass, settled)
    }

    /// Why a pull request operation's head is no longer the approved commit on GitHub, if
    /// it is not.
    fn head_moved(&self, plan: &ResolvedPlan, index: usize) -> Result<Option<String>, Error> {
        let world = self.runtime.block_on(read_world(self.client, &[plan]))?;
        Ok(preview_plan(plan, &world)
            .into_iter()
            .nth(index)
            .filter(|p| p.code == Some(ConflictCode::PullRequestHeadMoved))
            .map(|p| {
                format!(
                    "{}: {}",
                    ConflictCode::PullRequestHeadMoved.as_str(),
                    p.detail
                )
            }))
    }

    /// How GitHub holds operation `index` now, judged like the dry-run's preview.
    fn world_state(&self, plan: &ResolvedPlan, index: usize) -> Result<PreviewState, Error> {
        let world = self.runtime.block_on(read_world(self.client, &[plan]))?;
        let previews = preview_plan(plan, &world);
        Ok(previews
            .get(index)
            .map_or(PreviewState::Conflict, |p| p.state))
    }

    /// Performs the operation's effect; returns where to see it (releases, pull requests).
    async fn effect(
        &self,
        pass: &Authorized,
        op: &ResolvedOperation,
    ) -> Result<Option<String>, crate::github::GitHubError> {
        let link = match op {
            ResolvedOperation::Tag {
                name,
                target,
                message: None,
                ..
            } => {
                self.client.create_tag_ref(pass, name, target).await?;
                None
            }
            ResolvedOperation::Tag {
                name,
                target,
                message: Some(message),
                ..
            } => {
                self.client
                    .create_annotated_tag(pass, name, message, target)
                    .await?;
                None
            }
            ResolvedOperation::Release {
                tag,
                title,
                notes,
                draft,
                prerelease,
                ..
            } => {
                let release = NewRelease {
                    tag_name: tag,
                    name: title,
                    body: notes,
                    draft: *draft,
                    prerelease: *prerelease,
                };
                let written = self.client.create_release(pass, &release).await?;
                Some(written.value.html_url)
            }
            ResolvedOperation::PullRequest {
                head,
                base,
                title,
                body,
                draft,
                ..
            } => {
                let pull = NewPullRequest {
                    title,
                    head,
                    base,
                    body: body.as_deref().unwrap_or_default(),
                    draft: *draft,
                };
                let written = self.client.create_pull(pass, &pull).await?;
                Some(written.value.html_url)
            }
        };
        // Only a plain web address is kept: it ends up inside markdown.
        Ok(link.filter(|l| {
            (l.starts_with("https://") || l.starts_with("http://"))
                && !l.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
        }))
    }

    fn settle(
        &self,
        op_key: &str,
        pass: &Authorized,
        settled: Settled,
    ) -> Result<OpOutcome, Error> {
        let (event, outcome) = match settled {
            Settled::Succeeded(link) => (
                Event::OperationSucceeded {
                    run_id: pass.run_id().to_owned(),
                    op_key: op_key.to_owned(),
                    receipt_id: pass.receipt_id().to_owned(),
                },
                OpOutcome::Shipped { link },
            ),
            Settled::Recovered => (
                Event::OperationRecovered {
                    run_id: pass.run_id().to_owned(),
                    op_key: op_key.to_owned(),
                    receipt_id: pass.receipt_id().to_owned(),
                },
                OpOutcome::Recovered,
            ),
            Settled::Failed(code, detail) => (
                Event::OperationFailed {
                    run_id: pass.run_id().to_owned(),
                    op_key: op_key.to_owned(),
                    receipt_id: pass.receipt_id().to_owned(),
                    reason: code.clone(),
                },
                OpOutcome::Failed { code, detail },
            ),
        };
        self.append(|_| Ok(vec![event.clone()]))
            .map_err(AuditError::from)?;
        Ok(outcome)
    }
}

enum Settled {
    Succeeded(Option<String>),
    Recovered,
    Failed(String, String),
}
