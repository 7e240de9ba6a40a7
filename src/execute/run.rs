//! One run through the protocol: the lock, each operation through the gate, its receipt
//! consumed before its effect, the effect read back and settled on the chain, the lock
//! released. See the module above for the steps and the recovery of operations in doubt.

use std::cell::Cell;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ChainPort, Clock, Ports, RunRequest};
use crate::audit::AuditError;
use crate::audit::append::AppendError;
use crate::audit::entry::Event;
use crate::audit::reason::Reason;
use crate::audit::state::{ApplyError, OpStatus, ReceiptStatus, StateAccess};
use crate::audit::trust::{VerifiedState, policy_change};
use crate::audit::view::StateView;
use crate::error::Error;
use crate::gate::{
    Authorized, Blocked, GateCode, GateContext, OperationUnderGate, check_operation,
    check_preconditions,
};
use crate::github::{GitHubEffects, GitHubRead, read_world};
use crate::model::{OpKey, PlanId, ReceiptId, RunId, random_id};
use crate::plan::{OpKind, ResolvedOperation, ResolvedPlan};
use crate::policy::format_utc;
use crate::preview::{ConflictCode, PreviewState, preview_plan};
use crate::reason::Code;
use crate::receipt::parse_receipt;
use crate::report::execute::OpOutcome;

/// Whether `run` shipped already: every one of its operations settled, by this run, as
/// succeeded or recovered. A replay of such a run changes nothing on GitHub and must not
/// change what its pull request's status comment says either (issue 17).
pub fn shipped(state: &impl StateAccess, run: &crate::audit::state::RunRecord) -> bool {
    !run.operations.is_empty()
        && run
            .operations
            .iter()
            .all(|op| settled_by(state, &run.run_id, &op.op_key))
}

/// Whether the operation `key` was settled by `run_id` as succeeded or recovered.
fn settled_by(state: &impl StateAccess, run_id: &RunId, key: &OpKey) -> bool {
    state.op(key).is_some_and(|op| {
        &op.run_id == run_id && matches!(op.status, OpStatus::Succeeded | OpStatus::Recovered)
    })
}

/// Executes one run: the lock, then each operation in plan order, then the lock released.
/// Returns each operation's outcome; an `Err` is a failure of GitHub or of the chain that left
/// the run part-way (an operation may be in doubt, which a re-run recovers).
pub async fn execute_run<R, E, C, K>(
    ports: &Ports<'_, R, E, C, K>,
    request: &RunRequest<'_>,
) -> Result<Vec<(String, OpOutcome)>, Error>
where
    R: GitHubRead,
    E: GitHubEffects,
    C: ChainPort,
    K: Clock,
{
    let genesis_policy = ports.chain.genesis_policy()?;
    let executor = Executor {
        ports,
        request,
        genesis_policy: genesis_policy.as_ref(),
        holder: random_id("exe", 12),
        released: Cell::new(false),
    };
    executor.run().await
}

struct Executor<'a, R, E, C, K> {
    ports: &'a Ports<'a, R, E, C, K>,
    request: &'a RunRequest<'a>,
    /// What the chain knows of its first policy (see `trust::policy_change`).
    genesis_policy: Option<&'a Option<String>>,
    /// This execution's name on the lock, fresh each time: two executors of one run never
    /// mistake each other's lock for their own.
    holder: String,
    /// Whether the lock's release went with the run's last entry.
    released: Cell<bool>,
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

/// How an operation that got past the gate ended.
enum Settled {
    Succeeded(Option<String>),
    Recovered,
    Failed(String, String),
}

/// The receipt a spent pass carried: what its settlement is recorded under.
struct Spent {
    run_id: RunId,
    receipt_id: ReceiptId,
}

impl Spent {
    fn of(pass: &Authorized) -> Self {
        Self {
            run_id: pass.run_id().clone(),
            receipt_id: pass.receipt_id().clone(),
        }
    }
}

impl<R, E, C, K> Executor<'_, R, E, C, K>
where
    R: GitHubRead,
    E: GitHubEffects,
    C: ChainPort,
    K: Clock,
{
    fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// Appends `events` in one push, each checked by `propose` against the head's state first.
    fn append(
        &self,
        mut propose: impl FnMut(&StateView<'_>) -> Result<Vec<Event>, ApplyError>,
    ) -> Result<(), AppendError> {
        self.ports.chain.append(&|| self.now(), &mut propose)
    }

    /// Records the denial of `op_key`, which ends the run: with the lock's release when this
    /// execution holds the lock (`holding`).
    fn deny(&self, op_key: &OpKey, blocked: &Blocked, holding: bool) -> Result<OpOutcome, Error> {
        let event = Event::OperationDenied {
            run_id: Some(self.request.run.run_id.clone()),
            op_key: op_key.clone(),
            reason: blocked.code.as_str().to_owned(),
        };
        self.record(event, holding)?;
        Ok(OpOutcome::Denied {
            code: blocked.code.as_str().to_owned(),
            detail: blocked.detail.clone(),
        })
    }

    async fn run(&self) -> Result<Vec<(String, OpOutcome)>, Error> {
        let keys: Vec<OpKey> = self
            .request
            .run
            .operations
            .iter()
            .map(|o| o.op_key.clone())
            .collect();
        let mut outcomes: Vec<(String, OpOutcome)> = Vec::new();
        let not_attempted = |from: usize, outcomes: &mut Vec<(String, OpOutcome)>| {
            for key in &keys[from..] {
                outcomes.push((key.to_string(), OpOutcome::NotAttempted));
            }
        };

        // 2. Halted? The lock.
        match self.append(|state| self.take_lock(state)) {
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
                    outcomes.push((first.to_string(), self.deny(first, &blocked, false)?));
                }
                not_attempted(1, &mut outcomes);
                return Ok(outcomes);
            }
            Err(e) => return Err(AuditError::from(e).into()),
        }

        // 3. Each operation, in plan order. Operations this run already settled are skipped
        // when it stopped part-way; a run settled throughout is a replay, which the gate
        // refuses (its receipts are consumed).
        // Judged once, and the verified state let go before the first append: a state still
        // held when the trust verifies a new head is copied whole (all runs and receipts).
        let settled: Vec<bool> = {
            let verified = self.verified_state()?;
            keys.iter()
                .map(|key| settled_by(verified.state(), &self.request.run.run_id, key))
                .collect()
        };
        let replay = settled.iter().all(|&done| done);
        for (index, key) in keys.iter().enumerate() {
            let outcome = if !replay && settled[index] {
                OpOutcome::AlreadyShipped
            } else {
                let last = index + 1 == keys.len();
                match self.operation(index, key, last).await {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        // GitHub or git failed mid-operation: the operation may be in doubt,
                        // which a re-run recovers; give the lock back so it need not wait.
                        if !self.released.get() {
                            let _ = self.release_lock();
                        }
                        return Err(error);
                    }
                }
            };
            let stop = !outcome.is_done();
            outcomes.push((key.to_string(), outcome));
            if stop {
                not_attempted(index + 1, &mut outcomes);
                break;
            }
        }

        // 4. Release the lock, unless it went with the last entry.
        if !self.released.get() {
            self.release_lock()?;
        }
        Ok(outcomes)
    }

    /// The entries that take the lock for this run at `state`'s head: refused while halted or
    /// while another run's lock is unexpired; an expired lock is broken on the record.
    fn take_lock(&self, state: &StateView<'_>) -> Result<Vec<Event>, ApplyError> {
        if let Some(halt) = state.halt() {
            return Err(ApplyError {
                reason: Reason::Halted,
                detail: format!("halted by {}: {}", halt.by, halt.reason),
            });
        }
        let at = self.now();
        let mut events: Vec<Event> =
            policy_change(state, self.genesis_policy, &self.request.policy.hash)
                .into_iter()
                .collect();
        if let Some(lock) = state.lock() {
            let expired =
                OffsetDateTime::parse(&lock.expires_at, &Rfc3339).is_ok_and(|expiry| at > expiry);
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
        let ttl =
            time::Duration::try_from(self.request.lock_ttl).unwrap_or(time::Duration::seconds(900));
        events.push(Event::LockAcquired {
            run_id: self.request.run.run_id.clone(),
            holder: Some(self.holder.clone()),
            expires_at: format_utc(at + ttl),
        });
        Ok(events)
    }

    fn release_event(&self) -> Event {
        Event::LockReleased {
            run_id: self.request.run.run_id.clone(),
            holder: Some(self.holder.clone()),
        }
    }

    fn release_lock(&self) -> Result<(), Error> {
        let release = self.release_event();
        self.append(|_| Ok(vec![release.clone()]))
            .map_err(AuditError::from)?;
        self.released.set(true);
        Ok(())
    }

    /// Appends `event`; when it is the run's last entry (`closing`), the lock's release goes in
    /// the same push, after it, as step 5 follows step 4 (one round to the remote fewer). A
    /// push the chain refuses is made again as two, so that the event and the release are
    /// judged, and refused, each on its own as before.
    fn record(&self, event: Event, closing: bool) -> Result<(), Error> {
        if closing {
            let release = self.release_event();
            match self.append(|_| Ok(vec![event.clone(), release.clone()])) {
                Ok(()) => {
                    self.released.set(true);
                    return Ok(());
                }
                Err(AppendError::Refused(_)) => {}
                Err(e) => return Err(AuditError::from(e).into()),
            }
        }
        self.append(|_| Ok(vec![event.clone()]))
            .map_err(AuditError::from)?;
        if closing {
            self.release_lock()?;
        }
        Ok(())
    }

    /// The state at the remote head, freshly fetched and verified, as the gate's preconditions
    /// take it.
    fn verified_state(&self) -> Result<VerifiedState, Error> {
        self.ports.chain.verified_state()?.ok_or_else(|| {
            Error::Usage("there is no governance branch: nothing was minted".to_owned())
        })
    }

    /// The gate for operation `index`: the preconditions on a freshly verified state, then
    /// the per-operation checks. Also says whether the operation is in doubt (its receipt
    /// consumed by this run, its outcome never recorded): recovery may act on it.
    fn gate(
        &self,
        index: usize,
        op_key: &OpKey,
    ) -> Result<(Result<Authorized, Blocked>, bool), Error> {
        let run = self.request.run;
        let verified = self.verified_state()?;
        let cleared = match check_preconditions(&verified, run.run_id.as_str(), &self.holder) {
            Ok(cleared) => cleared,
            Err(blocked) => return Ok((Err(blocked), false)),
        };
        let state = verified.state();
        let receipt_record = state
            .receipts
            .values()
            .find(|r| r.run_id == run.run_id && &r.op_key == op_key);
        let receipt = receipt_record
            .and_then(|r| r.document.as_deref())
            .and_then(|doc| parse_receipt(doc.as_bytes()).ok());
        let in_doubt = receipt_record.is_some_and(|r| {
            state.ops.get(op_key).is_some_and(|op| {
                op.status == OpStatus::InDoubt
                    && op.run_id == run.run_id
                    && op.receipt_id == r.receipt_id
            })
        });
        let consumed = receipt_record.is_some_and(|r| r.status == ReceiptStatus::Consumed);
        let key = op_key;
        let op_kind = OpKind::parse(key.kind()).unwrap_or(OpKind::Tag);
        let run_plan_id =
            PlanId::from_digest(run.plan_id.clone()).map_err(|e| Error::Usage(e.to_string()))?;
        let policy = self.request.policy;
        let pass = check_operation(
            &cleared,
            &OperationUnderGate {
                run_id: run.run_id.as_str(),
                repo: self.request.repo,
                plan_id: &run_plan_id,
                op_index: u32::try_from(index).unwrap_or(u32::MAX),
                op_kind,
                op_key: key,
            },
            &GateContext {
                receipt: receipt.as_ref(),
                signers: &policy.signers,
                receipt_ttl: policy.receipt_ttl_cap(op_kind),
                consumed: consumed && !in_doubt,
                now: self.now(),
                current_policy_hash: &policy.hash,
                current_plan: self.request.plan,
                policy,
            },
        );
        Ok((pass, in_doubt))
    }

    /// Operation `index` through the gate, its consume, effect and read-back, and its outcome
    /// recorded (with the lock's release when it ends the run: it is the `last` or it does not
    /// ship).
    async fn operation(
        &self,
        index: usize,
        op_key: &OpKey,
        last: bool,
    ) -> Result<OpOutcome, Error> {
        let (pass, in_doubt) = match self.gate(index, op_key)? {
            (Ok(pass), in_doubt) => (pass, in_doubt),
            (Err(blocked), _) => return self.deny(op_key, &blocked, true),
        };
        // The gate passed, so the plan resolved to the receipt's plan id (check 9).
        let Some(plan) = self.request.plan else {
            return self.deny(
                op_key,
                &Blocked {
                    code: GateCode::ReceiptStale,
                    detail: "no plan in the checkout resolves to the run's plan id".into(),
                },
                true,
            );
        };
        let spent = Spent::of(&pass);
        if in_doubt {
            match self.world_state(plan, index).await? {
                PreviewState::AlreadyShipped => {
                    return self.settle(op_key, &spent, Settled::Recovered, last);
                }
                PreviewState::Conflict => {
                    return self.settle(
                        op_key,
                        &spent,
                        Settled::Failed(
                            Code::Conflict.as_str().into(),
                            "what exists on GitHub differs from the approved operation".into(),
                        ),
                        last,
                    );
                }
                PreviewState::WouldCreate => {}
            }
        } else if let Some(denied) = self.consume(plan, index, op_key, &pass).await? {
            return Ok(denied);
        }
        crash_point("consumed", op_key.as_str());

        let link = match self.ports.effects.ship(pass).await {
            Ok(written) => safe_link(written.value.html_url()),
            Err(e) => {
                return self.settle(
                    op_key,
                    &spent,
                    Settled::Failed(e.code().into(), e.to_string()),
                    last,
                );
            }
        };
        crash_point("effect", op_key.as_str());

        let settled = match self.world_state(plan, index).await? {
            PreviewState::AlreadyShipped => Settled::Succeeded(link),
            _ => Settled::Failed(
                Code::ReadBackMismatch.as_str().into(),
                "the effect does not read back as approved".into(),
            ),
        };
        crash_point("readback", op_key.as_str());
        self.settle(op_key, &spent, settled, last)
    }

    /// Records `receipt_consumed` for the pass, before its effect; the denial instead when a
    /// pull request's head moved since approval or the chain refuses the consume.
    async fn consume(
        &self,
        plan: &ResolvedPlan,
        index: usize,
        op_key: &OpKey,
        pass: &Authorized,
    ) -> Result<Option<OpOutcome>, Error> {
        // The gate judged the plan in the checkout; GitHub's head branch may have moved
        // since approval. Refuse before the receipt is spent (DESIGN 13.6).
        if matches!(pass.operation(), ResolvedOperation::PullRequest { .. })
            && let Some(moved) = self.head_moved(plan, index).await?
        {
            let blocked = Blocked {
                code: GateCode::ReceiptStale,
                detail: moved,
            };
            return self.deny(op_key, &blocked, true).map(Some);
        }
        // GitHub may refuse this token pull requests (a workflow's GITHUB_TOKEN while the
        // repository does not allow it): find out before the receipt is spent.
        if let ResolvedOperation::PullRequest { base, .. } = pass.operation()
            && let Some(refusal) = self.ports.effects.pull_request_refusal(base).await?
        {
            let blocked = Blocked {
                code: GateCode::TokenCannotOpenPullRequest,
                detail: refusal.sentence,
            };
            return self.deny(op_key, &blocked, true).map(Some);
        }
        let spent = Spent::of(pass);
        let consume = Event::ReceiptConsumed {
            receipt_id: spent.receipt_id.clone(),
            run_id: spent.run_id.clone(),
            op_key: op_key.clone(),
        };
        match self.append(|_| Ok(vec![consume.clone()])) {
            Ok(()) => Ok(None),
            Err(AppendError::Refused(refusal)) => {
                let code = match refusal.reason {
                    Reason::Halted => GateCode::Halted,
                    Reason::ReceiptExpired => GateCode::ReceiptExpired,
                    _ => GateCode::ReceiptConsumed,
                };
                let blocked = Blocked {
                    code,
                    detail: refusal.detail,
                };
                self.deny(op_key, &blocked, true).map(Some)
            }
            Err(e) => Err(AuditError::from(e).into()),
        }
    }

    /// Why a pull request operation's head is no longer the approved commit on GitHub, if
    /// it is not.
    async fn head_moved(&self, plan: &ResolvedPlan, index: usize) -> Result<Option<String>, Error> {
        let world = read_world(self.ports.github, &[plan]).await?;
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
    async fn world_state(&self, plan: &ResolvedPlan, index: usize) -> Result<PreviewState, Error> {
        let world = read_world(self.ports.github, &[plan]).await?;
        let previews = preview_plan(plan, &world);
        Ok(previews
            .get(index)
            .map_or(PreviewState::Conflict, |p| p.state))
    }

    /// Records how an operation that got past the gate ended; with the lock's release when the
    /// run ends with it (`last`, or it did not ship).
    fn settle(
        &self,
        op_key: &OpKey,
        spent: &Spent,
        settled: Settled,
        last: bool,
    ) -> Result<OpOutcome, Error> {
        let (run_id, receipt_id, op_key) = (
            spent.run_id.clone(),
            spent.receipt_id.clone(),
            op_key.clone(),
        );
        let (event, outcome) = match settled {
            Settled::Succeeded(link) => (
                Event::OperationSucceeded {
                    run_id,
                    op_key,
                    receipt_id,
                },
                OpOutcome::Shipped { link },
            ),
            Settled::Recovered => (
                Event::OperationRecovered {
                    run_id,
                    op_key,
                    receipt_id,
                },
                OpOutcome::Recovered,
            ),
            Settled::Failed(code, detail) => (
                Event::OperationFailed {
                    run_id,
                    op_key,
                    receipt_id,
                    reason: code.clone(),
                },
                OpOutcome::Failed { code, detail },
            ),
        };
        let closing = last || !outcome.is_done();
        self.record(event, closing)?;
        Ok(outcome)
    }
}

/// Only a plain web address is kept: it ends up inside markdown.
fn safe_link(link: Option<&str>) -> Option<String> {
    link.filter(|l| {
        (l.starts_with("https://") || l.starts_with("http://"))
            && !l.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
    })
    .map(str::to_owned)
}
