//! `audit export-signers` and the trust anchor of `audit verify`: the signers to trust (an
//! allowed-signers file or the policy's) and the genesis the policy pins.
use std::io::Write;
use std::path::Path;

use git2::Oid;

use crate::cli::{ExportSignersArgs, PolicyArgs};
use crate::error::{Error, Outcome};
use crate::keys::{allowed_signers_file, parse_allowed_signers};
use crate::policy::{Policy, Signer};
use crate::repo::RepoError;

use super::super::inputs::{self, PolicyRequest};
use super::pinned_genesis;

/// `audit export-signers`: writes the signers to trust as an allowed-signers file.
pub(super) fn export_signers(
    args: &ExportSignersArgs,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let signers = trusted_signers(
        args.allowed_signers.as_deref(),
        args.repo.as_deref(),
        &args.policy,
    )?;
    let text = allowed_signers_file(&signers);
    match &args.out {
        Some(path) => std::fs::write(path, text)?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(Outcome::Clean)
}

/// The signers to trust: an explicit allowed-signers file, or else the policy's signers, read
/// from the default branch like every policy.
pub(in crate::app) fn trusted_signers(
    file: Option<&Path>,
    repo_dir: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<Vec<Signer>, Error> {
    verification_anchor(file, repo_dir, policy).map(|(signers, _)| signers)
}

/// The signers to trust and the genesis the policy pins (none with an allowed-signers file).
pub(super) fn verification_anchor(
    file: Option<&Path>,
    repo_dir: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<(Vec<Signer>, Option<Oid>), Error> {
    if let Some(path) = file {
        return Ok((read_signers(path)?, None));
    }
    let policy = load_policy(repo_dir, policy)?;
    if policy.signers.is_empty() {
        return Err(Error::Usage(
            "the policy declares no signers: add them under `signers:`, or pass --allowed-signers FILE".into(),
        ));
    }
    let pinned = pinned_genesis(Some(&policy))?;
    Ok((policy.signers, pinned))
}

fn load_policy(repo_dir: Option<&Path>, policy: &PolicyArgs) -> Result<Policy, Error> {
    let repo = inputs::open_repo(repo_dir)?;
    Ok(inputs::load_policy(&repo, &PolicyRequest::from(policy))?.0)
}

/// What a new chain's genesis records of the policy: its hash and signer key ids. A repository
/// with no default branch or no policy yet records none; a policy that fails to load is an error.
pub(super) fn genesis_policy(
    repo_dir: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<Option<Policy>, Error> {
    match load_policy(repo_dir, policy) {
        Ok(policy) if policy.files.is_empty() => Ok(None),
        Ok(policy) => Ok(Some(policy)),
        Err(Error::Repo(RepoError::NoDefaultBranch(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_signers(path: &Path) -> Result<Vec<Signer>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(parse_allowed_signers(&text)?)
}
