//! The chain as far as this process has verified it (DESIGN 13.1 and 13.3).
//!
//! Every decision and every append builds on a head verified incrementally from the last head
//! this process verified: [`ChainTrust::verify`] is called with each head fetched, and only a
//! head that descends from the trusted one and whose new entries pass every check of
//! `verify` (signatures by audit keys in force, chain, rules, replayed state) becomes trusted.
//! Verifying once and then trusting fetched trees would let a writer without any key land an
//! unsigned entry between the check and the decision.
//!
//! The first head is verified from the verified start an earlier command of this clone
//! recorded with the same signers, or else from the genesis; it must still contain the
//! checkpoint of an earlier verification of this clone and start at the genesis the policy
//! pins, if it pins one. A missing branch is refused once anything proves a chain existed (a trusted head, a
//! checkpoint or a pin): a new genesis would silently start the record over.

use std::sync::{Arc, Mutex};

use git2::{Oid, Repository};

use super::entry::Event;
use super::state::{State, StateAccess};
use super::store::{StoreError, read_entry};
use super::verify::{
    Failure, Problem, TrustedHead, VerifyError, check_checkpoint, checkpoint_path,
    read_verified_start, trusted_head_at, verify_extension, write_checkpoint, write_verified_start,
};

/// A chain whose genesis is `root` must start where the policy pins it, if it pins.
pub fn check_pinned_genesis(pinned: Option<Oid>, root: Oid) -> Result<(), VerifyError> {
    match pinned {
        Some(pinned) if pinned != root => Err(VerifyError::Invalid(Failure {
            commit: root,
            seq: Some(0),
            problem: Problem::GenesisNotPinned { pinned },
        })),
        _ => Ok(()),
    }
}

/// A missing branch is fine only if nothing proves a chain existed: `known` is such a proof.
pub fn check_branch_missing(known: Option<Oid>) -> Result<(), VerifyError> {
    match known {
        None => Ok(()),
        Some(known) => Err(VerifyError::Invalid(Failure {
            commit: Oid::ZERO_SHA1,
            seq: None,
            problem: Problem::BranchMissing { known },
        })),
    }
}
use crate::policy::Signer;

/// Why a fetched head could not be trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The remote could not be fetched (worth retrying).
    #[error("{0}")]
    Fetch(String),
    /// The head does not verify.
    #[error(transparent)]
    Verify(VerifyError),
}

/// The state at a head this process verified: what the gate's preconditions take, so that a
/// [`crate::gate::Cleared`] proves the chain was verified. Only [`ChainTrust`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedState {
    head: Oid,
    /// Shared with the trusted head: taking a verified state copies nothing.
    state: Arc<State>,
}

impl VerifiedState {
    /// The verified head.
    pub fn head(&self) -> Oid {
        self.head
    }

    /// The replayed state at it.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// A state the gate's unit tests pretend was verified.
    #[cfg(test)]
    pub(crate) fn for_tests(head: Oid, state: State) -> Self {
        Self {
            head,
            state: Arc::new(state),
        }
    }
}

/// The signers a chain is verified with, the pinned genesis, and the last verified head.
#[derive(Debug)]
pub struct ChainTrust {
    signers: Vec<Signer>,
    pinned_genesis: Option<Oid>,
    trusted: Mutex<Option<TrustedHead>>,
}

impl Clone for ChainTrust {
    fn clone(&self) -> Self {
        Self {
            signers: self.signers.clone(),
            pinned_genesis: self.pinned_genesis,
            trusted: Mutex::new(self.trusted_head()),
        }
    }
}

impl ChainTrust {
    /// Trust nothing yet; verify with `signers` (only `audit` ones count) and require the
    /// chain to start at `pinned_genesis` when the policy names one.
    pub fn new(signers: Vec<Signer>, pinned_genesis: Option<Oid>) -> Self {
        Self {
            signers,
            pinned_genesis,
            trusted: Mutex::new(None),
        }
    }

    /// The signers verification trusts.
    pub fn signers(&self) -> &[Signer] {
        &self.signers
    }

    fn trusted_head(&self) -> Option<TrustedHead> {
        self.trusted
            .lock()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |t| t.clone())
    }

    /// Verifies `head` (the branch's head as just fetched; `None`: no branch) from the last
    /// trusted head, and trusts it when it passes; returns the number of entries checked. On
    /// failure nothing stays trusted: the next call verifies the whole chain again.
    pub fn verify(&self, repo: &Repository, head: Option<Oid>) -> Result<u64, VerifyError> {
        let mut trusted = self
            .trusted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(head) = head else {
            return self
                .refuse_missing_branch(repo, trusted.as_ref())
                .map(|()| 0);
        };
        let resumed = trusted.is_some();
        let start = match trusted.take() {
            Some(start) => Some(start),
            None => {
                check_checkpoint(repo, Some(head))?;
                self.verified_start(repo, head)
            }
        };
        let from = start.as_ref().map(|t| t.commit);
        let extended = match verify_extension(repo, start, head, &self.signers) {
            // A recorded start that is not on the chain's line: the whole chain says why.
            Err(VerifyError::SinceNotOnChain(_)) if !resumed => {
                verify_extension(repo, None, head, &self.signers)
            }
            other => other,
        };
        let (verified, checked) = extended.map_err(|e| match e {
            VerifyError::SinceNotOnChain(checkpoint) => VerifyError::Invalid(Failure {
                commit: head,
                seq: None,
                problem: Problem::Rollback { checkpoint },
            }),
            other => other,
        })?;
        if let Some(root) = verified.root {
            check_pinned_genesis(self.pinned_genesis, root)?;
        }
        if from != Some(head) {
            write_checkpoint(repo, head)?;
            if let Some(root) = verified.root {
                // Only saves the next command time: one that finds no usable file verifies
                // from the genesis.
                let _ = write_verified_start(repo, head, root, &self.signers);
            }
        }
        *trusted = Some(verified);
        Ok(checked)
    }

    /// Where this process may start verifying `head`: the verified start recorded with these
    /// signers, if `head` is it or descends from it and it begins at the pinned genesis.
    fn verified_start(&self, repo: &Repository, head: Oid) -> Option<TrustedHead> {
        let (start, root) = read_verified_start(repo, &self.signers)?;
        if self.pinned_genesis.is_some_and(|pinned| pinned != root) {
            return None;
        }
        let on_line = start == head || repo.graph_descendant_of(head, start).ok()?;
        if !on_line {
            return None;
        }
        trusted_head_at(repo, start, Some(root)).ok()
    }

    /// Fetches the head with `fetch` and verifies it. A head behind the checkpoint is fetched
    /// and verified once more before it counts as a rollback: another process of this clone
    /// may have pushed, and checkpointed, between our fetch and our check.
    pub fn verify_fetched(
        &self,
        repo: &Repository,
        fetch: &mut dyn FnMut() -> Result<Option<Oid>, String>,
    ) -> Result<Option<Oid>, TrustError> {
        let head = fetch().map_err(TrustError::Fetch)?;
        match self.verify(repo, head) {
            Err(VerifyError::Invalid(failure))
                if matches!(failure.problem, Problem::Rollback { .. }) =>
            {
                let again = fetch().map_err(TrustError::Fetch)?;
                self.verify(repo, again).map_err(TrustError::Verify)?;
                Ok(again)
            }
            Err(e) => Err(TrustError::Verify(e)),
            Ok(_) => Ok(head),
        }
    }

    /// The trusted head and its state, once a chain was verified.
    pub fn verified_state(&self) -> Option<VerifiedState> {
        self.trusted_head().map(|t| VerifiedState {
            head: t.commit,
            state: t.state,
        })
    }

    /// The chain's genesis commit, once the whole chain was verified.
    pub fn root(&self) -> Option<Oid> {
        self.trusted_head().and_then(|t| t.root)
    }

    /// What the chain knows of its policy before any `policy_changed`: `None` when no chain
    /// was verified from its genesis (none exists yet), else the genesis's policy hash.
    pub fn genesis_policy(&self, repo: &Repository) -> Result<Option<Option<String>>, StoreError> {
        let Some(root) = self.root() else {
            return Ok(None);
        };
        match read_entry(repo, root)?.entry.event {
            Event::Genesis { policy_hash, .. } => Ok(Some(policy_hash)),
            _ => Ok(Some(None)),
        }
    }

    /// The trusted head's commit, if a chain was verified.
    pub fn head(&self) -> Option<Oid> {
        self.trusted_head().map(|t| t.commit)
    }

    fn refuse_missing_branch(
        &self,
        repo: &Repository,
        trusted: Option<&TrustedHead>,
    ) -> Result<(), VerifyError> {
        let existed = trusted
            .map(|t| t.commit)
            .or(self.pinned_genesis)
            .or_else(|| {
                std::fs::read_to_string(checkpoint_path(repo))
                    .ok()
                    .and_then(|text| Oid::from_str(text.trim()).ok())
            });
        check_branch_missing(existed)
    }
}

/// The `policy_changed` entry a decision taken under the policy `current` must record first,
/// when the chain knows another hash: the last `policy_changed`'s, or else the genesis's
/// (`genesis_policy`; `None` when the chain does not exist yet and its genesis will name it).
pub fn policy_change(
    state: &dyn StateAccess,
    genesis_policy: Option<&Option<String>>,
    current: &str,
) -> Option<Event> {
    let genesis = genesis_policy?;
    let known = state.policy().map(|p| p.hash).or_else(|| genesis.clone());
    (known.as_deref() != Some(current)).then(|| Event::PolicyChanged {
        from: known,
        to: current.to_owned(),
    })
}
