//! Compare-and-swap appends to the governance branch of a remote (DESIGN 8).
//!
//! Every attempt fetches the branch, verifies the fetched head from the last verified one
//! ([`ChainTrust`]: nothing is decided or built on an unverified entry), re-runs the caller's
//! check against the state at the remote head (a [`StateView`]: only the records the check and
//! the entries look at are read),
//! builds the entry on that head and pushes it without force through git's own
//! `receive-pack` (the `git` command line): libgit2's local transport force-writes refs, so it
//! is never used here. A push is rejected either by an error exit or by a `!` status line of
//! `git push --porcelain`; both mean "someone appended first": fetch, re-check, retry with
//! jittered backoff, and give up with `AUDIT_UNAVAILABLE` after a bounded time. An append to a
//! chain whose runs still lie flat writes a `state_migrated` entry first (DESIGN 13.8).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use ssh_key::rand_core::{OsRng, RngCore};
use time::OffsetDateTime;

use super::entry::{Actor, Event};
use super::reason::Reason;
use super::state::{ApplyError, RUNS_FAN_OUT, StateAccess};
use super::store::{ChainWriter, StoreError, Tip, git, read_tip};
use super::trust::{ChainTrust, TrustError};
use super::verify::{VerifyError, write_checkpoint};
use super::view::StateView;
use crate::keys::SigningKey;
use crate::policy::SignerRole;
use crate::reason::Code;

/// The default governance branch.
pub const DEFAULT_BRANCH: &str = "shipgate/audit";
/// The default remote.
pub const DEFAULT_REMOTE: &str = "origin";

/// Why an append did not land.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The caller's check or the state rules refused the entry at the current head.
    #[error("{}: {}", .0.reason.code(), .0.detail)]
    Refused(ApplyError),
    /// The branch could not be written in time.
    #[error(
        "{}: gave up after {attempts} attempt(s) in {elapsed_ms} ms: {last}",
        Code::AuditUnavailable
    )]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed_ms: u128,
        /// The last failure.
        last: String,
    },
    /// The head to build on does not verify from the last verified head: nothing is decided
    /// or appended on it.
    #[error("nothing was appended: {0}")]
    Untrusted(Box<VerifyError>),
    /// The chain's objects could not be built or read.
    #[error(transparent)]
    Store(StoreError),
}

impl AppendError {
    /// The stable reason code.
    pub fn reason(&self) -> Reason {
        match self {
            Self::Refused(refusal) => refusal.reason,
            Self::Untrusted(untrusted) => match untrusted.as_ref() {
                VerifyError::Invalid(failure) => failure.reason(),
                _ => Reason::Unavailable,
            },
            Self::Unavailable { .. } | Self::Store(_) => Reason::Unavailable,
        }
    }
}

impl From<StoreError> for AppendError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Refused(refusal) => Self::Refused(refusal),
            other => Self::Store(other),
        }
    }
}

/// How to run stock `git` against the local repository.
#[derive(Debug, Clone)]
pub struct GitCli {
    git_dir: PathBuf,
    env: Vec<(OsString, OsString)>,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The ref moved to our commit.
    Pushed,
    /// The remote refused: someone else appended first.
    Rejected(String),
    /// No answer about the ref (network, permissions, missing remote).
    Failed(String),
}

impl GitCli {
    /// `git --git-dir=<repo's git dir>`, with extra environment (tests switch off the host's
    /// configuration with `GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`).
    pub fn new(repo: &Repository, env: Vec<(OsString, OsString)>) -> Self {
        Self {
            git_dir: repo.path().to_owned(),
            env,
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("git");
        command
            .arg("--git-dir")
            .arg(&self.git_dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Fetches `branch` of `remote` into `refs/remotes/<remote>/<branch>`, forced and pruned,
    /// so the local view always equals the remote (a rollback shows up to the checkpoint).
    /// Returns the remote head, or `None` when the remote has no such branch.
    pub fn fetch(
        &self,
        repo: &Repository,
        remote: &str,
        branch: &str,
    ) -> Result<Option<Oid>, String> {
        // A glob refspec, because an exact one fails when the branch does not exist yet, and
        // telling that apart from a network failure would mean matching error text.
        let refspec = format!("+refs/heads/{branch}*:refs/remotes/{remote}/{branch}*");
        let output = self
            .command()
            .args(["-c", "fetch.writeCommitGraph=false"])
            .args([
                "fetch",
                "--quiet",
                "--prune",
                "--no-tags",
                "--no-write-fetch-head",
            ])
            .arg(remote)
            .arg(refspec)
            .output()
            .map_err(|e| format!("cannot run git fetch: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git fetch {remote} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        tracking_head(repo, remote, branch).map_err(|e| e.to_string())
    }

    /// Pushes `commit` (whose new objects are in the `staged` objects directory) to `branch`
    /// without force and reads the per-ref status.
    pub fn push(&self, remote: &str, commit: Oid, branch: &str, staged: &Path) -> PushOutcome {
        let target = format!("refs/heads/{branch}");
        let output = match self
            .command()
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", staged)
            .args(["push", "--porcelain", "--no-verify", remote])
            .arg(format!("{commit}:{target}"))
            .output()
        {
            Ok(output) => output,
            Err(e) => return PushOutcome::Failed(format!("cannot run git push: {e}")),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        match parse_push_status(&stdout, &target) {
            Some(PushStatus::Rejected(summary)) => PushOutcome::Rejected(summary),
            Some(PushStatus::Updated) if output.status.success() => PushOutcome::Pushed,
            _ => PushOutcome::Failed(format!(
                "git push {remote} exited with {}: {}",
                output.status,
                stderr.trim()
            )),
        }
    }
}

/// The remote-tracking head of the branch, if any.
pub fn tracking_head(
    repo: &Repository,
    remote: &str,
    branch: &str,
) -> Result<Option<Oid>, StoreError> {
    let name = format!("refs/remotes/{remote}/{branch}");
    match repo.refname_to_id(&name) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(git(format!("read {name}"))(e)),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum PushStatus {
    Updated,
    Rejected(String),
}

/// Reads the status line of `target` from `git push --porcelain` output:
/// `<flag>\t<from>:<to>\t<summary>`, where `!` is a rejection.
fn parse_push_status(stdout: &str, target: &str) -> Option<PushStatus> {
    stdout.lines().find_map(|line| {
        let mut fields = line.splitn(3, '\t');
        let flag = fields.next()?;
        let refs = fields.next()?;
        let summary = fields.next().unwrap_or("").to_owned();
        if refs.rsplit_once(':').map(|(_, to)| to) != Some(target) {
            return None;
        }
        match flag {
            "!" => Some(PushStatus::Rejected(summary)),
            " " | "*" | "+" | "=" | "-" => Some(PushStatus::Updated),
            _ => None,
        }
    })
}

/// Where and how to append.
#[derive(Debug, Clone)]
pub struct AppendTarget {
    /// The remote name.
    pub remote: String,
    /// The governance branch.
    pub branch: String,
    /// The genesis event written when the branch does not exist yet.
    pub genesis: Event,
    /// Who is appending.
    pub actor: Actor,
    /// The last verified head, which every attempt verifies the fetched head from.
    pub trust: ChainTrust,
    /// Give up with `AUDIT_UNAVAILABLE` after this long.
    pub give_up_after: Duration,
}

/// What landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The new head.
    pub tip: Tip,
    /// Attempts it took.
    pub attempts: u32,
    /// True when this append also wrote the genesis entry.
    pub created_genesis: bool,
}

/// Appends one entry with compare-and-swap. `propose` sees the state at the current remote
/// head on every attempt and returns the event to append, or the refusal that stops it (a
/// receipt the winner just consumed stays consumed: the loser gets `RECEIPT_CONSUMED`).
pub fn append<F>(
    repo: &Repository,
    git_cli: &GitCli,
    key: &SigningKey,
    target: &AppendTarget,
    clock: &dyn Fn() -> OffsetDateTime,
    mut propose: F,
) -> Result<Appended, AppendError>
where
    F: FnMut(&StateView<'_>) -> Result<Event, ApplyError>,
{
    let appended = append_all(repo, git_cli, key, target, clock, |state| {
        propose(state).map(|event| vec![event])
    })?;
    Ok(appended.expect("a proposed event always appends"))
}

/// Appends several entries in one push, all or none, with compare-and-swap: `propose` sees the
/// state at the current remote head on every attempt and returns the events (each checked
/// against the state its predecessors leave), or the refusal that stops them. An empty list
/// writes nothing (not even a genesis entry) and gives `None`.
pub fn append_all<F>(
    repo: &Repository,
    git_cli: &GitCli,
    key: &SigningKey,
    target: &AppendTarget,
    clock: &dyn Fn() -> OffsetDateTime,
    mut propose: F,
) -> Result<Option<Appended>, AppendError>
where
    F: FnMut(&StateView<'_>) -> Result<Vec<Event>, ApplyError>,
{
    let started = Instant::now();
    check_key_in_force(key, target, clock())?;
    // A private handle: the in-memory object backend must not outlive this append on the
    // caller's handle, where later writes would silently stay in memory.
    let repo = &Repository::open(repo.path()).map_err(git("open repository"))?;
    let odb = repo.odb().map_err(git("open object database"))?;
    let mut writer = ChainWriter::new(repo, &odb, key)?;
    let mut cached: Option<(Oid, StateView<'_>)> = None;
    let mut unconfirmed: Option<Unconfirmed> = None;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let round = Instant::now();
        let failure = match attempt(
            repo,
            git_cli,
            &mut writer,
            target,
            clock,
            &mut propose,
            (&mut cached, &mut unconfirmed),
        )? {
            Ok(mut appended) => {
                if let Some(appended) = &mut appended {
                    appended.attempts = attempts;
                }
                return Ok(appended);
            }
            Err(failure) => failure,
        };
        let elapsed = started.elapsed();
        if elapsed >= target.give_up_after {
            return Err(AppendError::Unavailable {
                attempts,
                elapsed_ms: elapsed.as_millis(),
                last: failure,
            });
        }
        let wait = backoff(attempts, round.elapsed(), OsRng.next_u64());
        std::thread::sleep(wait.min(target.give_up_after - elapsed));
    }
}

/// Refuses to sign with a key the trusted signers do not list as an `audit` key in force at
/// `now`: a retired key must not extend the chain, not even with an entry dated in the past.
fn check_key_in_force(
    key: &SigningKey,
    target: &AppendTarget,
    now: OffsetDateTime,
) -> Result<(), AppendError> {
    let public = key.key.public_key();
    let in_force = target.trust.signers().iter().any(|signer| {
        signer.role == SignerRole::Audit
            && signer.key.key_data() == public.key_data()
            && signer.in_force_at(now)
    });
    if in_force {
        return Ok(());
    }
    Err(AppendError::Refused(ApplyError {
        reason: Reason::KeyNotInForce,
        detail: format!(
            "the audit key `{}` is not an `audit` signer in force now in the policy on the default branch",
            key.kid
        ),
    }))
}

/// Jittered exponential backoff after a lost race, in units of the attempt that lost: a
/// random wait in [0, cap], cap = the round's duration (at least [`BACKOFF_UNIT`]) times
/// 2^attempt, at most [`BACKOFF_CAP`]. A loser that comes back sooner than the others' rounds
/// take (fetch, verify, build, push: tens of milliseconds alone, several times that when
/// writers share the machine) mostly collides again: a fixed 20 ms first window left 8
/// writers on 2 cores at 3 push attempts per entry. Scaled by the round, the losers of one
/// race spread over a window several rounds wide and take turns.
fn backoff(attempt: u32, round: Duration, random: u64) -> Duration {
    let unit = round.max(BACKOFF_UNIT);
    let cap = unit.saturating_mul(1 << attempt.min(6)).min(BACKOFF_CAP);
    let cap_us = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(random % (cap_us + 1))
}

/// The least a round counts for in [`backoff`].
const BACKOFF_UNIT: Duration = Duration::from_millis(10);
/// The longest wait between two attempts.
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// A push that failed without a verdict on the ref (no per-ref status): it may have landed.
struct Unconfirmed {
    tip: Tip,
    created_genesis: bool,
}

/// One fetch, check, build and push. The outer `Result` is fatal; the inner `Err` is a failure
/// worth retrying (rejected or failed push, unreachable remote). A push that failed without
/// saying whether the ref moved is looked for on the next fetch: if the branch holds it, it
/// landed, and proposing again would append the same events twice.
fn attempt<'r, F>(
    repo: &'r Repository,
    git_cli: &GitCli,
    writer: &mut ChainWriter<'_>,
    target: &AppendTarget,
    clock: &dyn Fn() -> OffsetDateTime,
    propose: &mut F,
    (cached, unconfirmed): (&mut Option<(Oid, StateView<'r>)>, &mut Option<Unconfirmed>),
) -> Result<Result<Option<Appended>, String>, AppendError>
where
    F: FnMut(&StateView<'_>) -> Result<Vec<Event>, ApplyError>,
{
    let fetched = target.trust.verify_fetched(repo, &mut || {
        git_cli.fetch(repo, &target.remote, &target.branch)
    });
    let head = match fetched {
        Ok(head) => head,
        Err(TrustError::Fetch(failure)) => return Ok(Err(failure)),
        Err(TrustError::Verify(e)) => return Err(AppendError::Untrusted(Box::new(e))),
    };
    if let Some(landed) = landed_earlier(repo, head, unconfirmed) {
        *cached = None;
        return Ok(Ok(Some(landed)));
    }
    let tip = head.map(|commit| read_tip(repo, commit)).transpose()?;
    // The state only changes when the tree does; notes leave it alone.
    let mut state = match (&tip, cached.take()) {
        (Some(t), Some((tree, state))) if tree == t.tree => state,
        (tip, _) => StateView::new(repo, tip.as_ref().map(|t| t.commit))?,
    };
    // Every use of the view is followed by its check: a record that failed to load must stop
    // the append, not pass for an absent one.
    let proposed = propose(&state);
    state.check()?;
    let events = proposed.map_err(AppendError::Refused)?;
    if events.is_empty() {
        if let Some(tip) = &tip {
            *cached = Some((tip.tree, state));
        }
        return Ok(Ok(None));
    }
    let created_genesis = tip.is_none();
    let new_tip = write_entries(writer, &mut state, target, clock, tip, events)?;
    push_entries(
        repo,
        git_cli,
        writer,
        target,
        Unconfirmed {
            tip: new_tip,
            created_genesis,
        },
        state,
        (cached, unconfirmed),
    )
}

/// The append a push that seemed to fail made after all: the fetched `head` is its tip or
/// descends from it. Takes the unconfirmed append either way.
fn landed_earlier(
    repo: &Repository,
    head: Option<Oid>,
    unconfirmed: &mut Option<Unconfirmed>,
) -> Option<Appended> {
    let (pending, head) = (unconfirmed.take()?, head?);
    if head != pending.tip.commit
        && !repo
            .graph_descendant_of(head, pending.tip.commit)
            .unwrap_or(false)
    {
        return None;
    }
    let _ = write_checkpoint(repo, pending.tip.commit);
    Some(Appended {
        tip: pending.tip,
        attempts: 0,
        created_genesis: pending.created_genesis,
    })
}

/// Writes the entries on `tip` (the genesis first on an empty chain, then a migration the
/// chain still needs, then `events`), checking the view after each; returns the new tip.
fn write_entries(
    writer: &mut ChainWriter<'_>,
    state: &mut StateView<'_>,
    target: &AppendTarget,
    clock: &dyn Fn() -> OffsetDateTime,
    tip: Option<Tip>,
    events: Vec<Event>,
) -> Result<Tip, AppendError> {
    let mut new_tip = match tip {
        Some(tip) => tip,
        None => {
            let genesis = target.genesis.clone();
            let written = writer.append(None, state, &target.actor, clock(), genesis);
            state.check()?;
            written?
        }
    };
    // A chain started before runs fanned out moves them first (DESIGN 13.8), in the same push.
    let migrate = state.layout().is_none().then_some(Event::StateMigrated {
        layout: RUNS_FAN_OUT,
    });
    state.check()?;
    for event in migrate.into_iter().chain(events) {
        let written = writer.append(Some(&new_tip), state, &target.actor, clock(), event);
        state.check()?;
        new_tip = written?;
    }
    Ok(new_tip)
}

/// Stages the new entries and pushes them. Pushed: adopts them, moves the remote-tracking
/// ref and caches the state; failed: remembers `built` as unconfirmed for the next attempt.
fn push_entries<'r>(
    repo: &'r Repository,
    git_cli: &GitCli,
    writer: &mut ChainWriter<'_>,
    target: &AppendTarget,
    built: Unconfirmed,
    state: StateView<'r>,
    (cached, unconfirmed): (&mut Option<(Oid, StateView<'r>)>, &mut Option<Unconfirmed>),
) -> Result<Result<Option<Appended>, String>, AppendError> {
    let Unconfirmed {
        tip: new_tip,
        created_genesis,
    } = built;
    // Unique per process and commit, so concurrent writers in one repository never collide.
    let staging = repo.path().join("shipgate").join(format!(
        "outgoing-{}-{}",
        std::process::id(),
        new_tip.commit
    ));
    let staged = writer.stage(&staging)?;
    match git_cli.push(
        &target.remote,
        new_tip.commit,
        &target.branch,
        staged.objects_dir(),
    ) {
        PushOutcome::Pushed => {
            staged.adopt(repo)?;
            repo.reference(
                &format!("refs/remotes/{}/{}", target.remote, target.branch),
                new_tip.commit,
                true,
                "shipgate audit append",
            )
            .map_err(git("update remote-tracking ref"))?;
            // What this process built on a verified head is the newest head it knows to be
            // genuine: a later rollback past it is caught even by a command that starts fresh.
            // The entry landed either way, so a checkpoint that cannot be written is no error.
            let _ = write_checkpoint(repo, new_tip.commit);
            *cached = Some((new_tip.tree, state));
            Ok(Ok(Some(Appended {
                tip: new_tip,
                attempts: 0,
                created_genesis,
            })))
        }
        PushOutcome::Rejected(why) => Ok(Err(format!("push rejected: {why}"))),
        PushOutcome::Failed(why) => {
            *unconfirmed = Some(Unconfirmed {
                tip: new_tip,
                created_genesis,
            });
            Ok(Err(why))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_rejections_and_updates_are_told_apart() {
        let target = "refs/heads/shipgate/audit";
        let rejected = "To /tmp/remote.git\n!\tabc:refs/heads/shipgate/audit\t[rejected] (fetch first)\nDone\n";
        assert_eq!(
            parse_push_status(rejected, target),
            Some(PushStatus::Rejected("[rejected] (fetch first)".into()))
        );
        let created = "To /tmp/remote.git\n*\tabc:refs/heads/shipgate/audit\t[new branch]\nDone\n";
        assert_eq!(
            parse_push_status(created, target),
            Some(PushStatus::Updated)
        );
        let other_ref = "To /tmp/remote.git\n \tabc:refs/heads/main\tx..y\nDone\n";
        assert_eq!(parse_push_status(other_ref, target), None);
    }

    #[test]
    fn backoff_grows_with_the_round_and_stays_within_its_cap() {
        let round = Duration::from_millis(40);
        for attempt in 1..20 {
            let cap = (round * (1 << attempt.min(6))).min(BACKOFF_CAP);
            assert!(backoff(attempt, round, u64::MAX) <= cap);
            assert_eq!(backoff(attempt, round, 0), Duration::ZERO);
        }
        // The whole window is used: a random draw near its top waits near the cap.
        let top = u64::try_from((round * 2).as_micros()).unwrap();
        assert_eq!(backoff(1, round, top), round * 2);
        // A round faster than the unit counts as the unit.
        assert!(backoff(1, Duration::ZERO, u64::MAX) <= BACKOFF_UNIT * 2);
        assert!(backoff(40, Duration::from_secs(5), u64::MAX) <= BACKOFF_CAP);
    }
}
