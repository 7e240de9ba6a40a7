//! The repository as plan resolution reads it ([`crate::plan::PlanSources`]): from the work
//! tree, or at one commit ([`AtCommit`]).

use super::{LocalRepo, RepoError, WorktreeFile};
use crate::model::CommitSha;

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
