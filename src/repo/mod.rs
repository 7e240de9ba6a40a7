//! Read-only access to a local git repository, for resolving plans and reading policies.
//!
//! This type deliberately has no method that writes: the dry-run path receives a
//! [`LocalRepo`] and nothing else, so it cannot change refs, objects, the index or the work
//! tree (DESIGN 1, the dry-run law).
//!
//! Nothing here follows a symbolic link out of the checkout (DESIGN 13.4): work-tree reads
//! check every component below the repository root with `symlink_metadata`, tree entries with
//! the link mode are refused, and every read is bounded by the bytes actually read, never by
//! `stat` (which says 0 for `/proc/self/pagemap`) or by a blob header alone.
//!
//! The module is split by concern: [`refs`] resolves branches, tags and commits; [`blobs`]
//! reads files and directories of a commit as git objects; [`worktree`] reads the work tree
//! without following links; [`sources`] lets plan resolution read through either.

mod blobs;
mod refs;
mod sources;
mod worktree;

use std::path::{Component, Path, PathBuf};

use crate::diag::Diagnostic;
use crate::model::{CommitSha, RepoSlug};

pub use refs::DefaultBranch;
pub use sources::AtCommit;
pub use worktree::{check_dir_below, read_below, read_capped, symlink_refused};

/// The largest file read from a repository (notes, policies, plans).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Failures reading the repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// No repository at or above the directory.
    #[error(
        "no git repository found at or above {path}: {source}\n  = hint: run inside a clone, or pass --repo DIR"
    )]
    NotFound {
        /// Where the search started.
        path: PathBuf,
        /// git's explanation.
        source: git2::Error,
    },
    /// The repository has no work tree (bare).
    #[error("{path} is a bare repository; shipgate reads plans from a work tree")]
    Bare {
        /// The repository.
        path: PathBuf,
    },
    /// The default branch could not be determined.
    #[error(
        "cannot find the default branch: {0}\n  = hint: pass --default-branch NAME, or --policies-from-worktree to read local policies"
    )]
    NoDefaultBranch(String),
    /// A work-tree directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Worktree {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A plan, notes or policy path is a symbolic link, or lies under one (DESIGN 13.4).
    #[error("{0}")]
    Symlink(Box<Diagnostic>),
    /// A git operation failed unexpectedly.
    #[error("git: {context}: {source}")]
    Git {
        /// What shipgate was doing.
        context: String,
        /// git's explanation.
        source: git2::Error,
    },
}

fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> RepoError {
    let context = context.into();
    move |source| RepoError::Git { context, source }
}

/// Where a ref name resolved to, and from which kind of ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRef {
    /// The peeled commit.
    pub commit: CommitSha,
    /// The full ref it came from (`refs/heads/main`), or `None` for a literal sha.
    pub refname: Option<String>,
}

/// A file read from a commit or the work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// The bytes (at most [`MAX_FILE_BYTES`] were read; see `too_large`).
    pub bytes: Vec<u8>,
    /// The file is larger than [`MAX_FILE_BYTES`]; `bytes` is empty.
    pub too_large: bool,
    /// The tree entry is a symbolic link (mode 120000); `bytes` is empty.
    pub symlink: bool,
}

/// A file looked up in the work tree without following symbolic links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorktreeFile {
    /// A regular file's bytes.
    Found(Vec<u8>),
    /// A regular file larger than the limit (only the limit and one byte were read).
    TooLarge,
    /// Nothing there, or not a regular file.
    Missing,
    /// The path, or a directory on it, is a symbolic link: the part up to the link.
    Symlink(String),
}

/// A read-only handle on a git repository with a work tree.
pub struct LocalRepo {
    repo: git2::Repository,
    workdir: PathBuf,
}

impl LocalRepo {
    /// Finds the repository enclosing `start`.
    pub fn discover(start: &Path) -> Result<Self, RepoError> {
        let repo = git2::Repository::discover(start).map_err(|source| RepoError::NotFound {
            path: start.to_owned(),
            source,
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| RepoError::Bare {
                path: repo.path().to_owned(),
            })?
            .to_owned();
        Ok(Self { repo, workdir })
    }

    /// The root of the work tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The repository's git directory (`.git`), for the git CLI.
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The GitHub `owner/name` that the `origin` remote points at, when its URL has one.
    pub fn origin_slug(&self) -> Option<RepoSlug> {
        let remote = self.repo.find_remote("origin").ok()?;
        slug_from_remote_url(remote.url().ok()?)
    }
}

/// Extracts `owner/name` from an https, ssh or scp-like remote URL. Local paths and `file://`
/// URLs name no GitHub repository and give `None`.
pub fn slug_from_remote_url(url: &str) -> Option<RepoSlug> {
    let path = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        rest.split_once('/')?.1
    } else if let Some(rest) = url.strip_prefix("ssh://") {
        rest.split_once('/')?.1
    } else if !url.contains("://") && !url.starts_with('/') && !url.starts_with('.') {
        url.split_once(':')?.1
    } else {
        return None;
    };
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    RepoSlug::parse(path).ok()
}

/// `relative` as a path that stays inside the repository (not empty, not absolute, no `..`).
fn inside_relative(relative: &str) -> Option<&Path> {
    let path = Path::new(relative);
    let stays_inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    (!relative.is_empty() && stays_inside).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_github_style_urls_only() {
        let slug = |u: &str| slug_from_remote_url(u).map(|s| s.to_string());
        assert_eq!(
            slug("https://github.com/Acme/widget.git").as_deref(),
            Some("acme/widget")
        );
        assert_eq!(
            slug("git@github.com:acme/widget.git").as_deref(),
            Some("acme/widget")
        );
        assert_eq!(
            slug("ssh://git@ghe.example.com/acme/widget").as_deref(),
            Some("acme/widget")
        );
        assert_eq!(slug("/srv/git/acme/widget.git"), None);
        assert_eq!(slug("file:///srv/acme/widget"), None);
        assert_eq!(slug("../widget"), None);
    }
}
