//! `shipgate proof RUN_ID` and `shipgate proof verify FILE`: gathering a run's bundle from the
//! governance branch, and checking one offline (see [`crate::proof`]).

use std::io::Write;

use git2::{Oid, Repository};

use super::audit::{chain_head, open_repository, trusted_signers};
use crate::audit::AuditError;
use crate::audit::store::{entries_back_to, read_state};
use crate::cli::{ProofArgs, ProofCommand};
use crate::error::{Error, Outcome};
use crate::model::RunId;
use crate::proof::{Proof, ProofCommit, parse_proof, verify_proof};
use crate::receipt::{Receipt, parse_receipt};

/// Runs `shipgate proof`.
pub fn proof(args: &ProofArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    match (&args.command, &args.run) {
        (
            Some(ProofCommand::Verify {
                file,
                allowed_signers,
                repo,
                policy,
            }),
            _,
        ) => {
            let signers = trusted_signers(allowed_signers.as_deref(), repo.as_deref(), policy)?;
            let bytes = std::fs::read(file)
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
            let bundle = parse_proof(&bytes)?;
            let proven = verify_proof(&bundle, &signers)?;
            writeln!(
                out,
                "proof OK: run {} of plan {} under policy {}",
                bundle.run_id, bundle.plan_id, bundle.policy_hash
            )?;
            writeln!(
                out,
                "  {} receipts genuine, {} chain entries signed and linked",
                proven.receipts,
                bundle.commits.len()
            )?;
            for (seq, summary) in proven.entries {
                writeln!(out, "  seq {seq}: {summary}")?;
            }
            Ok(Outcome::Clean)
        }
        (None, Some(run)) => {
            let bundle = gather(args, run)?;
            let text = serde_json::to_string_pretty(&bundle)
                .map_err(|e| Error::Usage(e.to_string()))?
                + "\n";
            match &args.out {
                Some(path) => {
                    std::fs::write(path, text)?;
                    writeln!(out, "wrote the proof of {run} to {}", path.display())?;
                }
                None => out.write_all(text.as_bytes())?,
            }
            Ok(Outcome::Clean)
        }
        (None, None) => Err(Error::Usage(
            "name a run (shipgate proof RUN_ID) or verify a bundle (shipgate proof verify FILE)"
                .into(),
        )),
    }
}

fn raw_commit(repo: &Repository, oid: Oid) -> Result<String, Error> {
    let odb = repo
        .odb()
        .map_err(|e| Error::Usage(format!("cannot read the object database: {e}")))?;
    let object = odb
        .read(oid)
        .map_err(|e| Error::Usage(format!("cannot read commit {oid}: {e}")))?;
    String::from_utf8(object.data().to_vec())
        .map_err(|_| Error::Usage(format!("commit {oid} is not UTF-8 text")))
}

/// The run's receipts and the commits from its opening to its last entry.
fn gather(args: &ProofArgs, run_id: &RunId) -> Result<Proof, Error> {
    let repo = open_repository(&args.target)?;
    let head = chain_head(&repo, &args.target)?.ok_or_else(|| {
        Error::Usage(format!(
            "there is no governance branch {}",
            args.target.branch
        ))
    })?;
    let state = read_state(&repo, head).map_err(AuditError::from)?;
    let run = state
        .runs
        .get(run_id)
        .ok_or_else(|| Error::Usage(format!("no run `{run_id}` on the governance branch")))?;
    let mut receipts: Vec<Receipt> = state
        .receipts
        .values()
        .filter(|r| &r.run_id == run_id)
        .filter_map(|r| r.document.as_deref())
        .map(|doc| parse_receipt(doc.as_bytes()))
        .collect::<Result<_, _>>()?;
    receipts.sort_by_key(|r| r.claims.op_index);

    // From the run's opening to its last entry (the ones after it are left out).
    let entries = entries_back_to(&repo, head, run.seq).map_err(AuditError::from)?;
    let last = entries
        .iter()
        .position(|(_, sealed)| sealed.entry.event.run_id() == Some(run_id))
        .unwrap_or(entries.len());
    let commits = entries[last..]
        .iter()
        .rev()
        .map(|(oid, _)| {
            Ok(ProofCommit {
                commit: oid.to_string(),
                raw: raw_commit(&repo, *oid)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Proof {
        version: 1,
        run_id: run_id.clone(),
        plan_id: run.plan_id.clone(),
        policy_hash: run.policy_hash.clone(),
        receipts,
        commits,
    })
}
