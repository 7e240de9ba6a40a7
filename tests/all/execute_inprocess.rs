//! The execution protocol driven in-process through its ports: the real GitHub client against
//! the fake, the real governance branch, and wrappers that fail them where a process would die
//! (a chain that stops accepting after its Nth append, an effect half that "crashes" before or
//! after its effect), with a clock chosen by the test, so that a lock's expiry is reached by
//! moving the clock, not by sleeping. One real-process crash per effect kind
//! (`SHIPGATE_TEST_CRASH_AT`) checks that a killed binary leaves what the wrappers model.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use fake_github::{Fault, FaultKind};
use shipgate::audit::append::{AppendError, AppendTarget, GitCli};
use shipgate::audit::entry::{Actor, Event};
use shipgate::audit::reason::Reason;
use shipgate::audit::state::{ApplyError, OpStatus, RunRecord, State};
use shipgate::audit::trust::{ChainTrust, VerifiedState};
use shipgate::error::Error;
use shipgate::execute::{
    ChainPort, Clock, GitChain, Ports, Propose, RunRequest, RunSelector, WallClock, execute_run,
    select_runs,
};
use shipgate::gate::Authorized;
use shipgate::github::{
    GitHubClient, GitHubEffects, GitHubError, GitHubShipper, PullRequestRefusal, Shipped, Written,
};
use shipgate::keys::{SigningKey, parse_private_key};
use shipgate::model::{RepoSlug, RunId};
use shipgate::plan::{OpKind, ResolvedPlan, check_plan, resolve_plan};
use shipgate::policy::{Policy, PolicyFile, load_policy};
use shipgate::repo::LocalRepo;
use shipgate::report::execute::{OpOutcome, TimelineEntry};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::execute_flow::{denials, execute, nothing_shipped, run_id, shipped};
use crate::github_support::{BOT, SLUG};
use crate::mint_flow::MintWorld;

/// What one executor process holds: its own view of the chain (trust starts at the genesis),
/// the policy and plan as the checkout has them, and a client of the fake GitHub.
struct Executor {
    repo: git2::Repository,
    key: SigningKey,
    target: AppendTarget,
    cli: GitCli,
    policy: Policy,
    plan: ResolvedPlan,
    slug: RepoSlug,
    client: GitHubClient,
}

impl Executor {
    fn new(world: &MintWorld) -> Self {
        let path = world.repo.path();
        let repo = git2::Repository::open(path).expect("repo");
        let key = parse_private_key(&world.audit.private_openssh, "test").expect("audit key");
        let policy = load_policy(&[PolicyFile {
            name: "policy.yaml".into(),
            bytes: std::fs::read(path.join(".shipgate/policies/policy.yaml")).expect("policy"),
        }])
        .expect("the world's policy");
        let slug = RepoSlug::parse(SLUG).expect("slug");
        let local = LocalRepo::discover(path).expect("local repo");
        let text = std::fs::read(path.join(".shipgate/plans/release.yaml")).expect("plan");
        let checked = check_plan(".shipgate/plans/release.yaml", &text).expect("plan checks");
        let plan = resolve_plan(&checked, &slug, &local).expect("plan resolves");
        let cli = GitCli::new(
            &repo,
            vec![("GIT_CONFIG_GLOBAL".into(), "/dev/null".into())],
        );
        let target = AppendTarget {
            remote: "origin".into(),
            branch: "shipgate/audit".into(),
            genesis: Event::Note {
                message: "unused: the chain exists".into(),
            },
            actor: Actor {
                login: "executor".into(),
                workflow_run: None,
                sha: None,
            },
            give_up_after: Duration::from_secs(5),
            trust: ChainTrust::new(policy.signers.clone(), None),
        };
        Self {
            repo,
            key,
            target,
            cli,
            policy,
            plan,
            slug,
            client: world.github.client(BOT),
        }
    }

    fn chain(&self) -> GitChain<'_> {
        GitChain {
            repo: &self.repo,
            key: &self.key,
            target: &self.target,
            cli: &self.cli,
        }
    }

    /// The state at the remote head, verified from the genesis.
    fn state(&self) -> VerifiedState {
        self.chain()
            .verified_state()
            .expect("the chain verifies")
            .expect("a chain")
    }

    fn record(&self, run: &str) -> RunRecord {
        let verified = self.state();
        let selected = select_runs(
            verified.state(),
            &RunSelector::Run(RunId::parse(run).expect("run id")),
            WallClock.now(),
            |_| Ok(Some(self.plan.clone())),
        )
        .expect("the run");
        selected.into_iter().next().expect("one run").0
    }

    /// Executes `run` through the given effect half, chain and clock.
    fn run(
        &self,
        world: &MintWorld,
        run: &str,
        effects: &impl GitHubEffects,
        chain: &impl ChainPort,
        clock: &impl Clock,
        lock_ttl: Duration,
    ) -> Result<Vec<(String, OpOutcome)>, Error> {
        let record = self.record(run);
        let ports = Ports {
            github: &self.client,
            effects,
            chain,
            clock,
        };
        world.github.block_on(execute_run(
            &ports,
            &RunRequest {
                run: &record,
                plan: Some(&self.plan),
                repo: &self.slug,
                policy: &self.policy,
                lock_ttl,
            },
        ))
    }

    /// Executes `run` with the real effects and clock through `chain`; it must not fail.
    fn run_through(
        &self,
        world: &MintWorld,
        run: &str,
        chain: &impl ChainPort,
    ) -> Vec<(String, OpOutcome)> {
        let shipper = GitHubShipper::new(&self.client);
        self.run(
            world,
            run,
            &shipper,
            chain,
            &WallClock,
            Duration::from_secs(900),
        )
        .expect("the run executes")
    }

    /// Executes `run` with the real ports at `clock`.
    fn run_at(
        &self,
        world: &MintWorld,
        run: &str,
        clock: &impl Clock,
    ) -> Result<Vec<(String, OpOutcome)>, Error> {
        let shipper = GitHubShipper::new(&self.client);
        let chain = self.chain();
        self.run(
            world,
            run,
            &shipper,
            &chain,
            clock,
            Duration::from_secs(900),
        )
    }
}

/// A clock stopped at one instant.
struct At(OffsetDateTime);

impl Clock for At {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// Set once the executor "died": from then on nothing it does reaches the chain.
type Dead = Rc<Cell<bool>>;

fn crashed() -> AppendError {
    AppendError::Unavailable {
        attempts: 1,
        elapsed_ms: 0,
        last: "the executor died".into(),
    }
}

/// The real chain as a test drives it: it accepts `appends_left` more appends, then none (nor
/// any once `dead`); it keeps, for each append that landed, the kinds of the events it pushed;
/// with `refuse_closing`, it refuses (as the rules would) any push that carries a lock release
/// with another event.
struct TestChain<'a> {
    inner: GitChain<'a>,
    appends_left: Cell<usize>,
    dead: Dead,
    pushes: RefCell<Vec<Vec<&'static str>>>,
    refuse_closing: bool,
}

impl<'a> TestChain<'a> {
    /// The chain as it is: every append goes through.
    fn new(inner: GitChain<'a>) -> Self {
        Self {
            inner,
            appends_left: Cell::new(usize::MAX),
            dead: Dead::default(),
            pushes: RefCell::new(Vec::new()),
            refuse_closing: false,
        }
    }
}

impl ChainPort for TestChain<'_> {
    fn verified_state(&self) -> Result<Option<VerifiedState>, Error> {
        self.inner.verified_state()
    }

    fn append(
        &self,
        now: &dyn Fn() -> OffsetDateTime,
        propose: &mut Propose<'_>,
    ) -> Result<(), AppendError> {
        if self.dead.get() || self.appends_left.get() == 0 {
            self.dead.set(true);
            return Err(crashed());
        }
        self.appends_left.set(self.appends_left.get() - 1);
        let mut kinds = Vec::new();
        self.inner.append(now, &mut |state| {
            let events = propose(state)?;
            kinds = events.iter().map(Event::kind).collect();
            if self.refuse_closing && events.len() > 1 && kinds.contains(&"lock_released") {
                return Err(ApplyError {
                    reason: Reason::Locked,
                    detail: "refused by the test".into(),
                });
            }
            Ok(events)
        })?;
        self.pushes.borrow_mut().push(kinds);
        Ok(())
    }

    fn genesis_policy(&self) -> Result<Option<Option<String>>, Error> {
        self.inner.genesis_policy()
    }

    fn timeline(&self, run: &RunRecord) -> Result<Vec<TimelineEntry>, Error> {
        self.inner.timeline(run)
    }
}

/// Where the effect half dies, for operations of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crash {
    /// Before the effect: nothing reaches GitHub.
    BeforeEffect,
    /// After the effect, before anything is read back or recorded.
    AfterEffect,
    /// The effect fails as GitHub refusing it would, and the executor lives on.
    Refused,
}

struct CrashingEffects<'a> {
    inner: GitHubShipper<'a>,
    kind: OpKind,
    crash: Crash,
    dead: Dead,
}

impl GitHubEffects for CrashingEffects<'_> {
    async fn pull_request_refusal(
        &self,
        base: &str,
    ) -> Result<Option<PullRequestRefusal>, GitHubError> {
        self.inner.pull_request_refusal(base).await
    }

    async fn ship(&self, pass: Authorized) -> Result<Written<Shipped>, GitHubError> {
        if pass.operation().kind() != self.kind {
            return self.inner.ship(pass).await;
        }
        let died = GitHubError::Unavailable {
            what: "ship".into(),
            detail: "the executor died".into(),
        };
        match self.crash {
            Crash::BeforeEffect => {
                self.dead.set(true);
                Err(died)
            }
            Crash::AfterEffect => {
                self.inner.ship(pass).await?;
                self.dead.set(true);
                Err(died)
            }
            Crash::Refused => Err(GitHubError::Rejected {
                what: "ship".into(),
                status: 422,
                message: "refused".into(),
            }),
        }
    }
}

/// The plan with an annotated tag (the world's plan has a lightweight one).
const ANNOTATED: &str = "version: 1\noperations:\n  - kind: tag\n    name: v1.1.0\n    target: main\n    message: Release 1.1.0\n  - kind: release\n    tag: v1.1.0\n    notes: first release\n  - kind: pull_request\n    head: feature\n    base: main\n    title: Merge the feature\n";

/// A world approved and minted, with `plan` or the default one.
fn minted_with(plan: Option<&str>) -> (MintWorld, String) {
    let world = match plan {
        Some(plan) => MintWorld::with("carol", plan),
        None => MintWorld::new(),
    };
    world.approve("alice");
    world.approve("bob");
    assert_eq!(world.mint().status.code(), Some(0));
    let run = run_id(&world);
    (world, run)
}

/// The crash points a real process has (`SHIPGATE_TEST_CRASH_AT`), modelled by the wrappers.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// After `receipt_consumed`, before the effect.
    Consumed,
    /// After the effect.
    Effect,
    /// After reading the effect back, before recording it: the chain takes no more appends.
    Readback,
}

/// Runs `run` until it dies at `point` of the operation of `kind` at `index`, at `t0`, with
/// a lock of one second; then checks what it left: the run failed, the lock still held.
fn crash(
    world: &MintWorld,
    run: &str,
    kind: OpKind,
    index: usize,
    point: Point,
    t0: OffsetDateTime,
) {
    let executor = Executor::new(world);
    let dead = Dead::default();
    let chain = TestChain {
        // The lock, then a consume and a settle per operation before this one, and its consume.
        appends_left: Cell::new(match point {
            Point::Readback => 2 + 2 * index,
            Point::Consumed | Point::Effect => usize::MAX,
        }),
        dead: dead.clone(),
        ..TestChain::new(executor.chain())
    };
    let lock = Duration::from_secs(1);
    let died = match point {
        Point::Readback => {
            let shipper = GitHubShipper::new(&executor.client);
            executor.run(world, run, &shipper, &chain, &At(t0), lock)
        }
        Point::Consumed | Point::Effect => {
            let effects = CrashingEffects {
                inner: GitHubShipper::new(&executor.client),
                kind,
                crash: match point {
                    Point::Consumed => Crash::BeforeEffect,
                    _ => Crash::AfterEffect,
                },
                dead,
            };
            executor.run(world, run, &effects, &chain, &At(t0), lock)
        }
    };
    assert!(died.is_err(), "{point:?}: the executor died: {died:?}");
    let state = executor.state();
    assert!(
        state.state().lock.as_ref().is_some_and(|l| l.run_id == run),
        "{point:?}: the dead executor still holds the lock"
    );
}

/// A second past the expiry of the lock the chain records.
fn past_the_lock(executor: &Executor) -> OffsetDateTime {
    let verified = executor.state();
    let lock = verified.state().lock.as_ref().expect("a lock");
    OffsetDateTime::parse(&lock.expires_at, &Rfc3339).expect("time") + time::Duration::seconds(1)
}

/// After a crash, a new executor whose clock is past the lock's expiry breaks it, recovers or
/// performs the operation in doubt, and the run ships exactly once.
fn recover(world: &MintWorld, run: &str, key: &str, point: Point) {
    let executor = Executor::new(world);
    let outcomes = executor
        .run_at(world, run, &At(past_the_lock(&executor)))
        .expect("the re-run completes");
    assert!(
        outcomes.iter().all(|(_, o)| o.is_done()),
        "{point:?}@{key}: {outcomes:?}"
    );
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(world), (Some(main), 1, 1), "{point:?}@{key}");
    let verified = executor.state();
    let state: &State = verified.state();
    let recovered = state
        .ops
        .values()
        .filter(|op| op.status == OpStatus::Recovered)
        .count();
    assert_eq!(
        recovered,
        usize::from(!matches!(point, Point::Consumed)),
        "{point:?}@{key}"
    );
    let expected = match point {
        Point::Consumed => OpStatus::Succeeded,
        Point::Effect | Point::Readback => OpStatus::Recovered,
    };
    assert_eq!(state.ops[key].status, expected, "{point:?}@{key}");
    assert!(state.lock.is_none(), "the lock was released");
}

/// Crashes at every step of operation `key` (of `kind`, at `index`), then recovers.
fn crash_at_every_step_of(key: &str, kind: OpKind, index: usize, plan: Option<&str>) {
    for point in [Point::Consumed, Point::Effect, Point::Readback] {
        let (world, run) = minted_with(plan);
        let t0 = WallClock.now();
        crash(&world, &run, kind, index, point, t0);
        recover(&world, &run, key, point);
    }
}

#[test]
fn a_crash_at_any_step_of_a_tag_is_recovered_exactly_once() {
    crash_at_every_step_of("tag:v1.1.0", OpKind::Tag, 0, None);
}

#[test]
fn a_crash_at_any_step_of_an_annotated_tag_is_recovered_exactly_once() {
    crash_at_every_step_of("tag:v1.1.0", OpKind::Tag, 0, Some(ANNOTATED));
}

#[test]
fn a_crash_at_any_step_of_a_release_is_recovered_exactly_once() {
    crash_at_every_step_of("release:v1.1.0", OpKind::Release, 1, None);
}

#[test]
fn a_crash_at_any_step_of_a_pull_request_is_recovered_exactly_once() {
    crash_at_every_step_of("pull_request:feature->main", OpKind::PullRequest, 2, None);
}

/// A real process killed right after an effect (one per effect kind), then recovered by an
/// executor whose clock is past the lock: the binary's crash leaves what the wrappers model.
fn killed_after_the_effect_of(key: &str) {
    let (world, run) = minted_with(None);
    let killed = execute(
        &world,
        &run,
        &["--lock-ttl", "1s"],
        &[("SHIPGATE_TEST_CRASH_AT", &format!("effect@{key}"))],
    );
    assert_ne!(killed.status.code(), Some(0), "effect@{key}: killed");
    recover(&world, &run, key, Point::Effect);
}

#[test]
fn a_tag_whose_executor_was_killed_after_the_effect_is_recovered() {
    killed_after_the_effect_of("tag:v1.1.0");
}

#[test]
fn a_release_whose_executor_was_killed_after_the_effect_is_recovered() {
    killed_after_the_effect_of("release:v1.1.0");
}

#[test]
fn a_pull_request_whose_executor_was_killed_after_the_effect_is_recovered() {
    killed_after_the_effect_of("pull_request:feature->main");
}

/// The run's last entry and the lock's release go to the remote in one push (each push pays
/// the remote's connectivity check, tens of milliseconds on a long chain, more on GitHub),
/// still in the protocol's order: the last outcome, then the release.
#[test]
fn the_last_outcome_and_the_lock_release_go_in_one_push() {
    let (world, run) = minted_with(None);
    let executor = Executor::new(&world);
    let chain = TestChain::new(executor.chain());
    let outcomes = executor.run_through(&world, &run, &chain);
    assert!(outcomes.iter().all(|(_, o)| o.is_done()), "{outcomes:?}");
    let mut expected = vec![vec!["lock_acquired"]];
    for _ in 1..outcomes.len() {
        expected.push(vec!["receipt_consumed"]);
        expected.push(vec!["operation_succeeded"]);
    }
    expected.push(vec!["receipt_consumed"]);
    expected.push(vec!["operation_succeeded", "lock_released"]);
    assert_eq!(*chain.pushes.borrow(), expected);
    shipped(&world);

    // Run again, it is a replay: its first operation is denied, and the denial, which ends the
    // run, takes the release with it.
    chain.pushes.borrow_mut().clear();
    let again = executor.run_through(&world, &run, &chain);
    assert!(
        matches!(&again[0].1, OpOutcome::Denied { code, .. } if code == "RECEIPT_CONSUMED"),
        "{again:?}"
    );
    assert_eq!(
        *chain.pushes.borrow(),
        [
            vec!["lock_acquired"],
            vec!["operation_denied", "lock_released"]
        ]
    );
}

/// A closing push the chain refuses is made again as two: the outcome is recorded on its own,
/// then the release, as before the two shared a push.
#[test]
fn a_refused_closing_push_records_the_outcome_then_the_release_on_their_own() {
    let (world, run) = minted_with(None);
    let executor = Executor::new(&world);
    let chain = TestChain {
        refuse_closing: true,
        ..TestChain::new(executor.chain())
    };
    let outcomes = executor.run_through(&world, &run, &chain);
    assert!(outcomes.iter().all(|(_, o)| o.is_done()), "{outcomes:?}");
    let pushes = chain.pushes.borrow();
    assert_eq!(
        pushes[pushes.len() - 2..],
        [vec!["operation_succeeded"], vec!["lock_released"]]
    );
    shipped(&world);
}

#[test]
fn a_second_executor_is_locked_out_while_the_lock_holds() {
    let (world, run) = minted_with(None);
    let t0 = WallClock.now();
    crash(&world, &run, OpKind::Tag, 0, Point::Consumed, t0);
    let executor = Executor::new(&world);
    let outcomes = executor
        .run_at(&world, &run, &At(t0))
        .expect("a denial, recorded");
    match &outcomes[0].1 {
        OpOutcome::Denied { code, detail } => {
            assert_eq!(code, "LOCKED");
            assert!(detail.contains(&run), "names the holder: {detail}");
        }
        other => panic!("expected LOCKED, got {other:?}"),
    }
    assert!(
        outcomes[1..]
            .iter()
            .all(|(_, o)| *o == OpOutcome::NotAttempted)
    );
    assert_eq!(denials(&world), ["LOCKED"]);
    nothing_shipped(&world);
}

/// The first executor's lock lasts two minutes; the second executor's clock is one minute
/// later (locked out), then three (it breaks the lock). Entries stay within the five minutes
/// ahead of the wall clock that verification tolerates.
#[test]
fn an_expired_lock_is_broken_on_the_record_and_the_run_completes() {
    let (world, run) = minted_with(None);
    let t0 = WallClock.now();
    let first = Executor::new(&world);
    let dead = Dead::default();
    let effects = CrashingEffects {
        inner: GitHubShipper::new(&first.client),
        kind: OpKind::Tag,
        crash: Crash::BeforeEffect,
        dead: dead.clone(),
    };
    let chain = TestChain {
        dead,
        ..TestChain::new(first.chain())
    };
    let died = first.run(
        &world,
        &run,
        &effects,
        &chain,
        &At(t0),
        Duration::from_secs(120),
    );
    assert!(died.is_err());

    let second = Executor::new(&world);
    let within = second
        .run_at(&world, &run, &At(t0 + time::Duration::minutes(1)))
        .expect("a denial");
    assert!(matches!(&within[0].1, OpOutcome::Denied { code, .. } if code == "LOCKED"));
    let outcomes = second
        .run_at(&world, &run, &At(t0 + time::Duration::minutes(3)))
        .expect("the run completes");
    assert!(outcomes.iter().all(|(_, o)| o.is_done()), "{outcomes:?}");
    assert!(world.kinds().contains(&"lock_broken".to_owned()));
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 1, 1));
}

/// The chain stops taking appends right after the lock: the consume cannot be recorded, so
/// no effect happens, and a later executor finds the receipts unspent.
#[test]
fn a_chain_that_fails_before_the_consume_stops_everything_before_any_effect() {
    let (world, run) = minted_with(None);
    let t0 = WallClock.now();
    let executor = Executor::new(&world);
    let chain = TestChain {
        appends_left: Cell::new(1),
        ..TestChain::new(executor.chain())
    };
    let shipper = GitHubShipper::new(&executor.client);
    let failed = executor.run(
        &world,
        &run,
        &shipper,
        &chain,
        &At(t0),
        Duration::from_secs(1),
    );
    match failed {
        Err(error) => assert!(error.to_string().contains("AUDIT_UNAVAILABLE"), "{error}"),
        Ok(outcomes) => panic!("expected AUDIT_UNAVAILABLE, got {outcomes:?}"),
    }
    nothing_shipped(&world);
    let outcomes = Executor::new(&world)
        .run_at(&world, &run, &At(t0 + time::Duration::seconds(3)))
        .expect("the re-run completes");
    assert!(outcomes.iter().all(|(_, o)| o.is_done()), "{outcomes:?}");
}

/// GitHub refuses the release: it is recorded as failed with GitHub's code, the pull request
/// after it is not attempted, and the lock is given back.
#[test]
fn a_refused_effect_is_recorded_failed_and_stops_the_run() {
    let (world, run) = minted_with(None);
    let executor = Executor::new(&world);
    let effects = CrashingEffects {
        inner: GitHubShipper::new(&executor.client),
        kind: OpKind::Release,
        crash: Crash::Refused,
        dead: Dead::default(),
    };
    let chain = executor.chain();
    let outcomes = executor
        .run(
            &world,
            &run,
            &effects,
            &chain,
            &WallClock,
            Duration::from_secs(900),
        )
        .expect("recorded");
    assert!(outcomes[0].1.is_done());
    assert!(
        matches!(&outcomes[1].1, OpOutcome::Failed { code, .. } if code == "GITHUB_REJECTED"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2].1, OpOutcome::NotAttempted);
    let verified = executor.state();
    assert!(verified.state().lock.is_none(), "the lock was released");
    assert_eq!(
        verified.state().ops["release:v1.1.0"].status,
        OpStatus::Failed
    );
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 0, 0));
}

/// GitHub answers 502 after creating the release, rate-limits the pull request once and fails
/// the tag list twice: the client's retries and read-backs settle each, nothing is duplicated.
#[test]
fn github_faults_during_execution_never_duplicate_an_effect() {
    let (world, run) = minted_with(None);
    let fake = &world.github.fake;
    fake.inject(Fault::new(
        Some("POST"),
        format!("/repos/{SLUG}/releases"),
        FaultKind::StatusAfterEffect(502),
        1,
    ));
    fake.inject(Fault::new(
        Some("POST"),
        format!("/repos/{SLUG}/pulls"),
        FaultKind::RateLimited {
            status: 429,
            retry_after_secs: 0,
        },
        1,
    ));
    fake.inject(Fault::new(
        Some("GET"),
        "/repos/*/*/git/matching-refs/tags/",
        FaultKind::Status(503),
        2,
    ));
    let executor = Executor::new(&world);
    let outcomes = executor
        .run_at(&world, &run, &WallClock)
        .expect("the run completes");
    assert!(outcomes.iter().all(|(_, o)| o.is_done()), "{outcomes:?}");
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 1, 1));
    assert!(executor.state().state().lock.is_none());
}
