//! Proof bundles: one JSON document that shows, offline, what a run shipped and on whose
//! authority (issue 6).
//!
//! A bundle holds the run's receipts and the raw commit objects of the governance branch from
//! the entry that opened the run to the last entry that mentions it. Checking it needs no
//! repository and no network, only the policy's signers:
//!
//! 1. Every commit id is the git hash of its raw object (the objects are the ones named).
//! 2. Every commit is signed by an audit key in force at its entry's time, and its message is
//!    a well-formed entry (the same per-commit checks as `shipgate audit verify`).
//! 3. The entries form one unbroken piece of the chain: each names the previous commit as its
//!    only parent and the previous entry's hash as `prev`, with contiguous `seq`.
//! 4. The first entry opens the run, for the plan and policy hash the bundle claims.
//! 5. Every receipt verifies against the policy's mint keys, belongs to the run, and is the
//!    document its `receipt_minted` entry carries.
//!
//! Pure: the shell reads the commits and the signers; this module only arranges and checks.

use serde::{Deserialize, Serialize};

use crate::audit::entry::Event;
use crate::audit::verify::{CheckedEntry, Problem, check_raw_commit};
use crate::model::RunId;
use crate::policy::Signer;
use crate::receipt::{Receipt, verify_receipt};

/// Largest bundle read, in bytes.
pub const MAX_PROOF_BYTES: usize = 16 * 1024 * 1024;

/// One commit of the governance branch, as git stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofCommit {
    /// The commit id.
    pub commit: String,
    /// The raw commit object (headers, signature, message).
    pub raw: String,
}

/// A proof bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// Always 1.
    pub version: u32,
    /// The run.
    pub run_id: RunId,
    /// Its plan id.
    pub plan_id: String,
    /// The policy hash the run was minted under.
    pub policy_hash: String,
    /// The run's receipts, in plan order.
    pub receipts: Vec<Receipt>,
    /// The governance branch from the run's opening to its last entry, oldest first.
    pub commits: Vec<ProofCommit>,
}

/// Why a bundle does not prove what it claims.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Not a bundle.
    #[error("not a proof bundle: {0}")]
    Malformed(String),
    /// Step 1.
    #[error("commit {0}: its content does not hash to its id")]
    WrongId(String),
    /// Step 2.
    #[error("commit {commit}: {problem}")]
    Commit {
        /// The commit.
        commit: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// Step 3.
    #[error("commit {0} does not follow the one before it in the chain")]
    Broken(String),
    /// Step 4.
    #[error("the first entry does not open run {0} for the claimed plan and policy")]
    NotTheRun(RunId),
    /// Step 5.
    #[error("receipt {receipt_id}: {why}")]
    Receipt {
        /// The receipt.
        receipt_id: String,
        /// Why.
        why: String,
    },
}

/// What a verified bundle shows: each entry of the run, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenRun {
    /// The run's entries (seq, summary), oldest first.
    pub entries: Vec<(u64, String)>,
    /// Receipts verified.
    pub receipts: usize,
}

/// Reads a bundle (strictly).
pub fn parse_proof(bytes: &[u8]) -> Result<Proof, ProofError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(ProofError::Malformed(format!(
            "larger than {MAX_PROOF_BYTES} bytes"
        )));
    }
    let proof: Proof =
        serde_json::from_slice(bytes).map_err(|e| ProofError::Malformed(e.to_string()))?;
    if proof.version != 1 {
        return Err(ProofError::Malformed(format!(
            "version {} (expected 1)",
            proof.version
        )));
    }
    Ok(proof)
}

/// Checks a bundle against the policy's signers (steps 1 to 5 above).
pub fn verify_proof(proof: &Proof, signers: &[Signer]) -> Result<ProvenRun, ProofError> {
    let mut sealed: Vec<CheckedEntry> = Vec::with_capacity(proof.commits.len());
    let mut previous: Option<&ProofCommit> = None;
    for commit in &proof.commits {
        // 1. The id is the content's hash.
        let id = git2::Oid::hash_object(git2::ObjectType::Commit, commit.raw.as_bytes())
            .map_err(|e| ProofError::Malformed(e.to_string()))?;
        if id.to_string() != commit.commit {
            return Err(ProofError::WrongId(commit.commit.clone()));
        }
        // 2. Signed by a trusted audit key, a well-formed entry.
        let entry = check_raw_commit(commit.raw.as_bytes(), signers).map_err(|problem| {
            ProofError::Commit {
                commit: commit.commit.clone(),
                problem,
            }
        })?;
        // 3. Follows the previous commit.
        if let (Some(before), Some(last)) = (previous, sealed.last()) {
            let parents: Vec<&str> = commit
                .raw
                .lines()
                .take_while(|l| !l.is_empty())
                .filter_map(|l| l.strip_prefix("parent "))
                .collect();
            let follows = parents == [before.commit.as_str()]
                && entry.entry.prev == last.hash
                && entry.entry.seq == last.entry.seq + 1;
            if !follows {
                return Err(ProofError::Broken(commit.commit.clone()));
            }
        }
        previous = Some(commit);
        sealed.push(entry);
    }
    // 4. The first entry opens the run.
    let opens = sealed.first().is_some_and(|first| {
        matches!(
            &first.entry.event,
            Event::RunOpened { run_id, plan_id, policy_hash, .. }
                if run_id == proof.run_id.as_str()
                    && plan_id == &proof.plan_id
                    && policy_hash == &proof.policy_hash
        )
    });
    if !opens {
        return Err(ProofError::NotTheRun(proof.run_id.clone()));
    }
    // 5. Receipts: genuine, of this run, and the ones the chain recorded.
    for receipt in &proof.receipts {
        let id = receipt.claims.receipt_id.clone();
        let fail = |why: String| ProofError::Receipt {
            receipt_id: id.to_string(),
            why,
        };
        // The run executed in the past: its key is judged at issue time, not at today's clock.
        verify_receipt(receipt, signers, None).map_err(|e| fail(e.to_string()))?;
        if receipt.claims.run_id != proof.run_id.as_str() {
            return Err(fail(format!("belongs to run {}", receipt.claims.run_id)));
        }
        let document = receipt
            .to_canonical_json()
            .map_err(|e| fail(e.to_string()))?;
        let recorded = sealed.iter().any(|s| {
            matches!(
                &s.entry.event,
                Event::ReceiptMinted { receipt_id, receipt: Some(doc), .. }
                    if receipt_id == &id && doc == &document
            )
        });
        if !recorded {
            return Err(fail(
                "no receipt_minted entry of the bundle carries it".into(),
            ));
        }
    }
    Ok(ProvenRun {
        entries: sealed
            .iter()
            .filter(|s| s.entry.event.run_id() == Some(&proof.run_id))
            .map(|s| (s.entry.seq, s.entry.summary()))
            .collect(),
        receipts: proof.receipts.len(),
    })
}
