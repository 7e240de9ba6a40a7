//! Resolving branches, tags, full refs and commit ids to commits, and finding the default
//! branch.
//!
//! One view of a branch (issue 17): a branch name resolves to the remote-tracking
//! `refs/remotes/origin/<name>` when the clone has it, and to the local branch only when it
//! has not (a developer's repository with no remote). A local `main` left behind, or moved
//! ahead, of `origin/main` would otherwise give a different plan id, or judge with an old
//! policy, than CI's fresh clone does. The local branch is never preferred: what ships is
//! what GitHub has, and a local commit that never reached GitHub cannot be tagged there.

use super::{LocalRepo, RepoError, ResolvedRef, git};
use crate::model::CommitSha;

impl LocalRepo {
    /// Resolves a branch (`origin/<name>`, else the local branch) to its commit.
    pub fn resolve_branch(&self, name: &str) -> Result<Option<ResolvedRef>, RepoError> {
        for full in [
            format!("refs/remotes/origin/{name}"),
            format!("refs/heads/{name}"),
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

    /// The default branch and its commit; see [`LocalRepo::default_branch_ref`].
    pub fn default_branch(
        &self,
        override_name: Option<&str>,
    ) -> Result<(String, CommitSha), RepoError> {
        self.default_branch_ref(override_name)
            .map(|found| (found.name, found.commit))
    }

    /// The default branch, the ref it was read from and its commit: `override_name` when
    /// given, else `origin/HEAD` if the clone knows it, else `main` or `master`. Each name
    /// resolves as [`LocalRepo::resolve_branch`] does: `origin/<name>` first.
    pub fn default_branch_ref(
        &self,
        override_name: Option<&str>,
    ) -> Result<DefaultBranch, RepoError> {
        if let Some(name) = override_name {
            return self
                .resolve_branch(name)?
                .map(|r| DefaultBranch::new(name, r))
                .ok_or_else(|| {
                    RepoError::NoDefaultBranch(format!("branch `{name}` does not exist"))
                });
        }
        if let Ok(head) = self.repo.find_reference("refs/remotes/origin/HEAD")
            && let Ok(Some(target)) = head.symbolic_target()
            && let Some(name) = target.strip_prefix("refs/remotes/origin/")
            && let Some(found) = self.resolve_branch(name)?
        {
            return Ok(DefaultBranch::new(name, found));
        }
        for name in ["main", "master"] {
            if let Some(found) = self.resolve_branch(name)? {
                return Ok(DefaultBranch::new(name, found));
            }
        }
        Err(RepoError::NoDefaultBranch(
            "no origin/HEAD, main or master".into(),
        ))
    }
}

/// The default branch as shipgate reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultBranch {
    /// The branch name (`main`).
    pub name: String,
    /// The ref it was read from, short (`origin/main`, or `main` with no remote-tracking
    /// branch).
    pub read_from: String,
    /// Its commit.
    pub commit: CommitSha,
}

impl DefaultBranch {
    fn new(name: &str, found: ResolvedRef) -> Self {
        let read_from = found
            .refname
            .as_deref()
            .map(|full| {
                full.strip_prefix("refs/remotes/")
                    .or_else(|| full.strip_prefix("refs/heads/"))
                    .unwrap_or(full)
                    .to_owned()
            })
            .unwrap_or_else(|| name.to_owned());
        Self {
            name: name.to_owned(),
            read_from,
            commit: found.commit,
        }
    }
}
