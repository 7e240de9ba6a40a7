//! The repository as plan resolution reads it ([`crate::plan::PlanSources`]): from the work
//! tree, or at one commit ([`AtCommit`]).
//!
//! `target: merge` (DESIGN 13.7): at one commit (a pull request's head) the merge has not
//! happened and carries that commit's tree. From the work tree, a plan file that the default
//! branch carries as it reads has merged: the candidates are the first-parent commits of the
//! default branch that carry it unchanged. Otherwise (a local branch of one's own) it resolves
//! to the tree of HEAD, what the merge would carry if the branch merged as it is: a dry run
//! never fails on `merge`. In a pull request workflow's checkout HEAD is GitHub's test merge,
//! whose tree is the pull request head's exactly when the pull request is up to date.

use std::path::Path;

use super::{LocalRepo, RepoError, WorktreeFile, git};
use crate::model::{CommitSha, TreeSha};
use crate::plan::{HeadKind, LandedCommit, Landing};

impl crate::plan::PlanSources for LocalRepo {
    fn branch(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.resolve_branch(name)
            .map(|r| r.map(|r| r.commit))
            .map_err(source_error)
    }

    fn tag(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.resolve_tag(name)
            .map(|r| r.map(|r| r.commit))
            .map_err(source_error)
    }

    fn full_ref(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.resolve_full_ref(name)
            .map(|r| r.map(|r| r.commit))
            .map_err(source_error)
    }

    fn has_commit(&self, sha: &CommitSha) -> Result<bool, crate::plan::SourceError> {
        self.resolve_commit(sha)
            .map(|r| r.is_some())
            .map_err(source_error)
    }

    fn file(&self, path: &str) -> Result<crate::plan::SourceFile, crate::plan::SourceError> {
        source_file(
            path,
            self.read_worktree_file(path).map_err(|e| e.to_string()),
        )
    }

    fn landing(&self, file: &str, content: &[u8]) -> Result<Landing, crate::plan::SourceError> {
        let blob = git2::Oid::hash_object(git2::ObjectType::Blob, content)
            .map_err(git("hashing the plan file"))
            .map_err(source_error)?;
        if let Ok((_, tip)) = self.default_branch(None) {
            let landed = self.carrying(&tip, file, blob).map_err(source_error)?;
            if !landed.is_empty() {
                return Ok(Landing::Landed(landed));
            }
        }
        let head = self
            .repo
            .head()
            .and_then(|head| head.peel_to_commit())
            .map_err(git("reading HEAD (commit something first)"))
            .map_err(source_error)?;
        Ok(Landing::Unmerged {
            head: head.id().into(),
            tree: head.tree_id().into(),
            from: HeadKind::Local,
        })
    }
}

impl LocalRepo {
    /// The first-parent commits from `tip` back that carry `file` as the blob `blob`, while
    /// they do, oldest first: where the plan landed on the default branch, and what followed
    /// without changing it.
    fn carrying(
        &self,
        tip: &CommitSha,
        file: &str,
        blob: git2::Oid,
    ) -> Result<Vec<LandedCommit>, RepoError> {
        let oid = git2::Oid::from_str(tip.as_str()).map_err(git("reading the default branch"))?;
        let mut commit = self
            .repo
            .find_commit(oid)
            .map_err(git("reading the default branch"))?;
        let mut landed = Vec::new();
        loop {
            let tree = commit.tree().map_err(git("reading a commit's tree"))?;
            let carries = tree
                .get_path(Path::new(file))
                .is_ok_and(|entry| entry.id() == blob && entry.filemode() & 0o170_000 == 0o100_000);
            if !carries {
                break;
            }
            landed.push(LandedCommit {
                commit: commit.id().into(),
                tree: commit.tree_id().into(),
            });
            match commit.parent(0) {
                Ok(parent) => commit = parent,
                Err(_) => break,
            }
        }
        landed.reverse();
        Ok(landed)
    }
}

/// A repository seen at one commit: refs resolve against the repository as a whole (a plan's
/// `target: main` means the branch, as everywhere), files (a release's `notes_file`) are the
/// commit's blobs, read without a checkout (DESIGN 13.9).
pub struct AtCommit<'a> {
    /// The repository.
    pub repo: &'a LocalRepo,
    /// The commit whose files are read.
    pub commit: &'a CommitSha,
}

impl crate::plan::PlanSources for AtCommit<'_> {
    fn branch(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.repo.branch(name)
    }

    fn tag(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.repo.tag(name)
    }

    fn full_ref(&self, name: &str) -> Result<Option<CommitSha>, crate::plan::SourceError> {
        self.repo.full_ref(name)
    }

    fn has_commit(&self, sha: &CommitSha) -> Result<bool, crate::plan::SourceError> {
        self.repo.has_commit(sha)
    }

    fn file(&self, path: &str) -> Result<crate::plan::SourceFile, crate::plan::SourceError> {
        let read = self.repo.read_commit_file(self.commit, path);
        source_file(path, read.map_err(|e| e.to_string()))
    }

    /// The plan is read from a pull request's head: not merged; the merge is to carry the
    /// head's tree.
    fn landing(&self, _: &str, _: &[u8]) -> Result<Landing, crate::plan::SourceError> {
        let tree = git2::Oid::from_str(self.commit.as_str())
            .and_then(|oid| self.repo.repo.find_commit(oid))
            .map(|commit| TreeSha::from(commit.tree_id()))
            .map_err(git("reading the pull request head"))
            .map_err(source_error)?;
        Ok(Landing::Unmerged {
            head: self.commit.clone(),
            tree,
            from: HeadKind::PullRequest,
        })
    }
}

/// A read's outcome as resolution sees it.
fn source_file(
    path: &str,
    read: Result<WorktreeFile, String>,
) -> Result<crate::plan::SourceFile, crate::plan::SourceError> {
    use crate::plan::SourceFile;
    match read {
        Ok(WorktreeFile::Found(bytes)) => Ok(SourceFile::Found(bytes)),
        Ok(WorktreeFile::TooLarge) => Ok(SourceFile::TooLarge),
        Ok(WorktreeFile::Missing) => Ok(SourceFile::Missing),
        Ok(WorktreeFile::Symlink(link)) => Ok(SourceFile::Symlink(link)),
        Err(e) => Err(crate::plan::SourceError(format!("{path}: {e}"))),
    }
}

fn source_error(e: RepoError) -> crate::plan::SourceError {
    crate::plan::SourceError(e.to_string())
}
