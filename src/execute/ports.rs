//! What the execution protocol acts through besides GitHub: the audit chain (verified state
//! reads and compare-and-swap appends) and the clock. The real chain is [`GitChain`], over
//! [`AppendTarget`] and its [`crate::audit::trust::ChainTrust`]; the real clock is
//! [`WallClock`]. Tests wrap or replace them (a chain that fails its Nth append, a clock past a
//! lock's expiry) and run the protocol in-process.

use git2::Repository;
use time::OffsetDateTime;

use crate::audit::AuditError;
use crate::audit::append::{AppendError, AppendTarget, GitCli, append_all};
use crate::audit::entry::Event;
use crate::audit::state::{ApplyError, RunRecord};
use crate::audit::store::entries_back_to;
use crate::audit::trust::{TrustError, VerifiedState};
use crate::audit::view::StateView;
use crate::error::Error;
use crate::keys::SigningKey;
use crate::report::execute::TimelineEntry;

/// What a caller proposes to append, judged against the state at the head it builds on.
pub type Propose<'p> = dyn FnMut(&StateView<'_>) -> Result<Vec<Event>, ApplyError> + 'p;

/// The audit chain as execution uses it.
pub trait ChainPort {
    /// Fetches the governance branch and verifies its head from the last verified one: the
    /// state there (`None`: the branch does not exist). An invalid chain is
    /// `Error::Audit(AuditError::Verify(..))`.
    fn verified_state(&self) -> Result<Option<VerifiedState>, Error>;

    /// Appends the events `propose` returns for the state at the remote head, in one push,
    /// with compare-and-swap, dated by `now`.
    fn append(
        &self,
        now: &dyn Fn() -> OffsetDateTime,
        propose: &mut Propose<'_>,
    ) -> Result<(), AppendError>;

    /// What the chain knows of its first policy (see [`crate::audit::trust::policy_change`]).
    fn genesis_policy(&self) -> Result<Option<Option<String>>, Error>;

    /// The run's entries, oldest first.
    fn timeline(&self, run: &RunRecord) -> Result<Vec<TimelineEntry>, Error>;
}

/// The clock the protocol judges locks and receipts by, and dates entries with.
pub trait Clock {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock, in whole seconds (entries and receipts carry whole seconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// The governance branch of a remote, appended to with stock git and verified from the last
/// verified head on every read and append.
pub struct GitChain<'a> {
    /// The local repository (objects are built here, the branch is fetched here).
    pub repo: &'a Repository,
    /// The audit key entries are signed with.
    pub key: &'a SigningKey,
    /// Where to append, and the trust every fetched head is verified with.
    pub target: &'a AppendTarget,
    /// Stock git, which pushes.
    pub cli: &'a GitCli,
}

impl ChainPort for GitChain<'_> {
    fn verified_state(&self) -> Result<Option<VerifiedState>, Error> {
        let fetched = self.target.trust.verify_fetched(self.repo, &mut || {
            self.cli
                .fetch(self.repo, &self.target.remote, &self.target.branch)
        });
        match fetched {
            Ok(head) => Ok(head.and_then(|_| self.target.trust.verified_state())),
            Err(TrustError::Fetch(e)) => Err(AuditError::Fetch(e).into()),
            Err(TrustError::Verify(e)) => Err(AuditError::Verify(e).into()),
        }
    }

    fn append(
        &self,
        now: &dyn Fn() -> OffsetDateTime,
        propose: &mut Propose<'_>,
    ) -> Result<(), AppendError> {
        append_all(self.repo, self.cli, self.key, self.target, now, propose).map(|_| ())
    }

    fn genesis_policy(&self) -> Result<Option<Option<String>>, Error> {
        Ok(self
            .target
            .trust
            .genesis_policy(self.repo)
            .map_err(AuditError::from)?)
    }

    fn timeline(&self, run: &RunRecord) -> Result<Vec<TimelineEntry>, Error> {
        let Some(head) = self.verified_state()?.map(|v| v.head()) else {
            return Ok(Vec::new());
        };
        let entries = entries_back_to(self.repo, head, run.seq).map_err(AuditError::from)?;
        Ok(entries
            .into_iter()
            .rev()
            .filter(|(_, sealed)| sealed.entry.event.run_id() == Some(&run.run_id))
            .map(|(_, sealed)| TimelineEntry {
                at: sealed.entry.at.clone(),
                seq: sealed.entry.seq,
                summary: sealed.entry.summary(),
            })
            .collect())
    }
}
