//! A pull request's head commit as git objects in the local repository, never as a checkout
//! (DESIGN 13.9): mint reads the plans from these objects, so nothing of the pull request is
//! ever a file on disk where a tool (rustup's `rust-toolchain.toml`, cargo's
//! `.cargo/config.toml`, a git hook) could pick it up beside the keys.
//!
//! Only fetches: it never checks anything out, and writes no ref but
//! `refs/shipgate/pull/<N>`. mint reads the head GitHub names; execute (the ship workflow,
//! started by `/shipgate ship`) reads the plans of a run's pull request the same way.

use std::process::Command;

use crate::error::Error;
use crate::model::{CommitSha, PrNumber};
use crate::repo::LocalRepo;

/// The commit GitHub names as pull request `pr`'s head (`head_sha`), present in `repo`: used
/// as it is when the clone has it already (a local `shipgate mint --pr N`), else fetched from
/// `remote` as `+refs/pull/<pr>/head:refs/shipgate/pull/<pr>` with stock git, which uses the
/// credentials the checkout configured. A head that is still missing afterwards (the pull
/// request moved meanwhile) is an error: the next comment mints.
pub fn pull_head(
    repo: &LocalRepo,
    remote: &str,
    pr: PrNumber,
    head_sha: &str,
) -> Result<CommitSha, Error> {
    let head = CommitSha::parse(head_sha).map_err(|e| {
        Error::Usage(format!(
            "GitHub names `{head_sha}` as #{pr}'s head, which is not a commit id: {e}"
        ))
    })?;
    if repo.resolve_commit(&head)?.is_some() {
        return Ok(head);
    }
    fetch_pull(repo, remote, pr)?;
    match repo.resolve_commit(&head)? {
        Some(_) => Ok(head),
        None => Err(Error::Usage(format!(
            "#{pr}'s head {head} is not in refs/pull/{pr}/head of `{remote}`: the pull request moved while minting; the next comment mints again"
        ))),
    }
}

/// The plans pull request `pr` adds or changes against `base`, read from its head as `remote`
/// has it now (`refs/pull/<pr>/head`) as git objects: how the ship workflow, whose checkout is
/// the default branch's, finds the plan of a run a `/shipgate ship` comment asked for before
/// the merge. Each plan is checked as mint checks it; one that does not load is left out (the
/// run then finds no plan: stale), and so is everything when the fetch fails.
pub fn pull_plans(
    repo: &LocalRepo,
    remote: &str,
    slug: &crate::model::RepoSlug,
    pr: PrNumber,
    base: &CommitSha,
) -> Vec<crate::plan::ResolvedPlan> {
    if fetch_pull(repo, remote, pr).is_err() {
        return Vec::new();
    }
    let Ok(Some(head)) = repo.resolve_full_ref(&format!("refs/shipgate/pull/{pr}")) else {
        return Vec::new();
    };
    repo.changed_yaml_files(base, &head.commit, super::inputs::PLANS_DIR)
        .unwrap_or_default()
        .iter()
        .filter_map(|file| super::inputs::load_plan_at(file, &head.commit, repo, slug).ok())
        .collect()
}

/// Fetches `+refs/pull/<pr>/head:refs/shipgate/pull/<pr>` from `remote` with stock git.
fn fetch_pull(repo: &LocalRepo, remote: &str, pr: PrNumber) -> Result<(), Error> {
    let refspec = format!("+refs/pull/{pr}/head:refs/shipgate/pull/{pr}");
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(repo.git_dir())
        .env("GIT_TERMINAL_PROMPT", "0")
        .args(["-c", "fetch.writeCommitGraph=false"])
        .args([
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-recurse-submodules",
        ])
        .arg(remote)
        .arg(&refspec)
        .output()
        .map_err(|e| Error::Usage(format!("cannot run git fetch: {e}")))?;
    if !output.status.success() {
        return Err(Error::Usage(format!(
            "cannot fetch #{pr}'s head from `{remote}` ({refspec}): {}\n  = hint: run mint in a clone whose `{remote}` remote is the GitHub repository",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}
