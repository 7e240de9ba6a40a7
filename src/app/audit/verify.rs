//! `audit verify`: checks the chain from its head (or `--since`) against the trusted signers
//! and the pinned genesis, and reports to the terminal, the job summary and the step outputs.
use std::io::{IsTerminal, Write};
use std::time::Instant;

use git2::{Oid, Repository};

use crate::audit::AuditError;
use crate::audit::trust::{check_branch_missing, check_pinned_genesis};
use crate::audit::verify::{
    Failure, Verified, VerifyError, VerifyOptions, check_checkpoint, is_commit, verify_chain,
    write_checkpoint, write_verified_start,
};
use crate::cli::AuditVerifyArgs;
use crate::error::{Error, Outcome};
use crate::policy::Signer;
use crate::report::escape_markdown;

use super::super::actions;
use super::signers::verification_anchor;
use super::{chain_head, open_repository};

/// `audit verify`: checks the chain from its head (or `--since`) and reports the outcome.
pub(super) fn verify(args: &AuditVerifyArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let started = Instant::now();
    let (signers, pinned) = verification_anchor(
        args.allowed_signers.as_deref(),
        args.target.repo.as_deref(),
        &args.policy,
    )?;
    let repo = open_repository(&args.target)?;
    let since = since_commit(&repo, args.since.as_deref())?;
    let head = chain_head(&repo, &args.target)?;
    let result = check_checkpoint(&repo, head).and_then(|()| match head {
        None => check_branch_missing(pinned).map(|()| Verified {
            head: None,
            entries_checked: 0,
            head_seq: None,
            root: None,
        }),
        Some(head) => verify_from(&repo, head, since, &signers, pinned),
    });
    let verified = match result {
        Ok(verified) => verified,
        Err(VerifyError::Invalid(failure)) => return Err(report_failure(args, failure, out)?),
        Err(err) => return Err(AuditError::Verify(err).into()),
    };
    if let Some(head) = verified.head {
        write_checkpoint(&repo, head).map_err(AuditError::Verify)?;
        if let Some(root) = verified.root {
            // The next command of this clone may start here (only with the same signers).
            let _ = write_verified_start(&repo, head, root, &signers);
        }
    }
    report_verified(args, &verified, started.elapsed().as_secs_f64(), out)?;
    Ok(Outcome::Clean)
}

/// The commit `--since` names, which must be a commit.
fn since_commit(repo: &Repository, since: Option<&str>) -> Result<Option<Oid>, Error> {
    let Some(text) = since else {
        return Ok(None);
    };
    let oid = repo
        .revparse_single(text)
        .map(|object| object.id())
        .map_err(|e| Error::Usage(format!("--since {text}: {}", e.message())))?;
    if !is_commit(repo, oid) {
        return Err(Error::Usage(format!("--since {text} is not a commit")));
    }
    Ok(Some(oid))
}

/// Verifies the chain from `head`, with progress on a terminal, and checks its genesis
/// against the pinned one.
fn verify_from(
    repo: &Repository,
    head: Oid,
    since: Option<Oid>,
    signers: &[Signer],
    pinned: Option<Oid>,
) -> Result<Verified, VerifyError> {
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: u64, total: u64| {
        eprint!("\rverifying {done}/{total} entries");
        if done == total {
            eprintln!();
        }
    };
    let options = VerifyOptions {
        since,
        progress: if terminal { Some(&progress) } else { None },
        ..VerifyOptions::whole_chain(signers)
    };
    let verified = verify_chain(repo, head, &options)?;
    if let Some(root) = verified.root {
        check_pinned_genesis(pinned, root)?;
    }
    Ok(verified)
}

/// Reports an integrity failure to the job summary, the step outputs and (with `--json`)
/// `out`, and returns the error to exit with.
fn report_failure(
    args: &AuditVerifyArgs,
    failure: Failure,
    out: &mut dyn Write,
) -> Result<Error, Error> {
    let code = failure.reason().code();
    actions::write_step_summary(&format!(
        "## Audit chain: INTEGRITY FAILURE\n\n`{code}` at commit `{}` (seq {}): {}\n",
        failure.commit,
        failure
            .seq
            .map_or_else(|| "?".to_owned(), |s| s.to_string()),
        escape_markdown(&failure.problem.to_string())
    ))?;
    actions::write_outputs(&[
        ("status", "failed".to_owned()),
        ("blocked-reasons", code.to_owned()),
    ])?;
    if args.json {
        let summary = serde_json::json!({
            "ok": false,
            "reason": code,
            "commit": failure.commit.to_string(),
            "seq": failure.seq,
            "problem": failure.problem.to_string(),
        });
        writeln!(out, "{summary}")?;
    }
    Ok(AuditError::Verify(VerifyError::Invalid(failure)).into())
}

/// Reports a verified (or empty) chain to the job summary, the step outputs and `out`.
fn report_verified(
    args: &AuditVerifyArgs,
    verified: &Verified,
    seconds: f64,
    out: &mut dyn Write,
) -> Result<(), Error> {
    actions::write_step_summary(&match verified.head {
        Some(head) => format!(
            "## Audit chain verified\n\n{} entries checked in {seconds:.2} s; head `{head}` (seq {}) on `{}`.\n",
            verified.entries_checked,
            verified.head_seq.unwrap_or_default(),
            escape_markdown(&args.target.branch)
        ),
        None => format!(
            "## Audit chain empty\n\nThe governance branch `{}` does not exist yet.\n",
            escape_markdown(&args.target.branch)
        ),
    })?;
    actions::write_outputs(&[
        (
            "status",
            if verified.head.is_some() {
                "verified"
            } else {
                "empty"
            }
            .to_owned(),
        ),
        ("blocked-reasons", String::new()),
    ])?;
    if args.json {
        let summary = serde_json::json!({
            "ok": true,
            "head": verified.head.map(|h| h.to_string()),
            "head_seq": verified.head_seq,
            "entries_checked": verified.entries_checked,
            "milliseconds": (seconds * 1000.0).round() as u64,
        });
        writeln!(out, "{summary}")?;
    } else {
        match verified.head {
            Some(head) => writeln!(
                out,
                "audit chain OK: {} entries checked in {seconds:.2}s, head {head} (seq {})",
                verified.entries_checked,
                verified.head_seq.unwrap_or_default()
            )?,
            None => writeln!(
                out,
                "audit chain is empty: branch {} does not exist",
                args.target.branch
            )?,
        }
    }
    Ok(())
}
