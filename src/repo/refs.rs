//! Resolving branches, tags, full refs and commit ids to commits, and finding the default
//! branch.

use super::{LocalRepo, RepoError, ResolvedRef, git};
use crate::model::CommitSha;

impl LocalRepo {
    /// Resolves a branch (local, then `origin/`) to its commit.
    pub fn resolve_branch(&self, name: &str) -> Result<Option<ResolvedRef>, RepoError> {
        for full in [
            format!("refs/heads/{name}"),
            format!("refs/remotes/origin/{name}"),
        ] {
            if let Some(found) = self.resolve_full_ref(&full)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Resolves a tag (annotated tags are peeled) to its commit.
    pub fn resolve_tag(&self, name: &str) -> Result<Option<ResolvedRef>, RepoError> {
        self.resolve_full_ref(&format!("refs/tags/{name}"))
    }

    /// Resolves a full ref name (`refs/...`) to the commit it peels to.
    pub fn resolve_full_ref(&self, full: &str) -> Result<Option<ResolvedRef>, RepoError> {
        let reference = match self.repo.find_reference(full) {
            Ok(r) => r,
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    || e.code() == git2::ErrorCode::InvalidSpec =>
            {
                return Ok(None);
            }
            Err(e) => return Err(git(format!("reading {full}"))(e)),
        };
        let commit = reference
            .peel_to_commit()
            .map_err(git(format!("peeling {full} to a commit")))?;
        Ok(Some(ResolvedRef {
            commit: commit.id().into(),
            refname: Some(full.to_owned()),
        }))
    }

    /// Whether `sha` names a commit in this repository.
    pub fn resolve_commit(&self, sha: &CommitSha) -> Result<Option<ResolvedRef>, RepoError> {
        let oid = git2::Oid::from_str(sha.as_str()).map_err(git("parsing a commit id"))?;
        match self.repo.find_commit(oid) {
            Ok(c) => Ok(Some(ResolvedRef {
                commit: c.id().into(),
                refname: None,
            })),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git(format!("reading commit {sha}"))(e)),
        }
    }

    /// The default branch and its commit: `origin/HEAD` if the clone knows it, else the local
    /// `main` or `master`, else `override_name` when given (checked first).
    pub fn default_branch(
        &self,
        override_name: Option<&str>,
    ) -> Result<(String, CommitSha), RepoError> {
        if let Some(name) = override_name {
            return self
                .resolve_branch(name)?
                .map(|r| (name.to_owned(), r.commit))
                .ok_or_else(|| {
                    RepoError::NoDefaultBranch(format!("branch `{name}` does not exist"))
                });
        }
        if let Ok(head) = self.repo.find_reference("refs/remotes/origin/HEAD")
            && let Ok(Some(target)) = head.symbolic_target()
            && let Some(name) = target.strip_prefix("refs/remotes/origin/")
            && let Some(found) = self.resolve_branch(name)?
        {
            return Ok((name.to_owned(), found.commit));
        }
        for name in ["main", "master"] {
            if let Some(found) = self.resolve_branch(name)? {
                return Ok((name.to_owned(), found.commit));
            }
        }
        Err(RepoError::NoDefaultBranch(
            "no origin/HEAD, main or master".into(),
        ))
    }
}
