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

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, InputErrorKind};
use crate::model::{CommitSha, RepoSlug};

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

/// The refusal of a symlinked path as a diagnostic on `file` (DESIGN 13.4).
pub fn symlink_refused(file: &str, link: &str) -> Diagnostic {
    Diagnostic::whole_file(
        InputErrorKind::SymlinkRefused,
        file,
        format!("`{link}` is a symbolic link; plans, notes files and policies are read only as regular files inside the repository"),
    )
    .with_hint("replace the link with the file itself (git add the real content)")
}

/// What lies at `relative` below `root`, looked up one component at a time without
/// following links (`root` itself is trusted).
enum Lookup {
    Found(std::fs::Metadata, PathBuf),
    Missing,
    Symlink(String),
}

fn lookup_below(root: &Path, relative: &Path) -> std::io::Result<Lookup> {
    let mut full = root.to_owned();
    let mut shown = PathBuf::new();
    let mut meta = std::fs::symlink_metadata(root)?;
    for component in relative.components() {
        let name = match component {
            Component::CurDir => continue,
            Component::Normal(name) => name,
            _ => return Ok(Lookup::Missing),
        };
        if !meta.is_dir() {
            return Ok(Lookup::Missing);
        }
        full.push(name);
        shown.push(name);
        meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Missing),
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            return Ok(Lookup::Symlink(shown.to_string_lossy().replace('\\', "/")));
        }
    }
    Ok(Lookup::Found(meta, full))
}

/// Whether the directory `relative` below `root` is reachable without a symbolic link:
/// `Ok(Err(link))` names the link; a missing directory is fine (it has no files).
pub fn check_dir_below(root: &Path, relative: &Path) -> std::io::Result<Result<(), String>> {
    Ok(match lookup_below(root, relative)? {
        Lookup::Symlink(link) => Err(link),
        Lookup::Found(..) | Lookup::Missing => Ok(()),
    })
}

/// Reads the regular file `relative` below `root`: no component may be a symbolic link,
/// and at most `limit + 1` bytes are read.
pub fn read_below(root: &Path, relative: &Path, limit: u64) -> std::io::Result<WorktreeFile> {
    let (checked, full) = match lookup_below(root, relative)? {
        Lookup::Found(meta, full) if meta.is_file() => (meta, full),
        Lookup::Found(..) | Lookup::Missing => return Ok(WorktreeFile::Missing),
        Lookup::Symlink(link) => return Ok(WorktreeFile::Symlink(link)),
    };
    let file = std::fs::File::open(&full)?;
    let opened = file.metadata()?;
    // Swapped for a link between the check and the open: the opened file is another one.
    if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Ok(WorktreeFile::Symlink(
            relative.to_string_lossy().replace('\\', "/"),
        ));
    }
    read_capped(file, limit)
}

/// Reads at most `limit + 1` bytes: the size is what was read, whatever `stat` claims.
pub fn read_capped(reader: impl Read, limit: u64) -> std::io::Result<WorktreeFile> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(if bytes.len() as u64 > limit {
        WorktreeFile::TooLarge
    } else {
        WorktreeFile::Found(bytes)
    })
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

    /// The files directly inside `dir` (repository-relative) at `commit`, sorted by name.
    /// Symbolic links are listed with `symlink` set and no content; a `dir` that is a link, or
    /// lies under one, is refused. Blob sizes are read from the object header first, so a
    /// large blob is never loaded.
    pub fn files_in_commit_dir(
        &self,
        commit: &CommitSha,
        dir: &str,
    ) -> Result<Vec<RepoFile>, RepoError> {
        let oid = git2::Oid::from_str(commit.as_str()).map_err(git("parsing a commit id"))?;
        let mut tree = self
            .repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(git(format!("reading commit {commit}")))?;
        let dir = dir.trim_matches('/');
        let mut walked = String::new();
        for name in dir.split('/').filter(|n| !n.is_empty() && *n != ".") {
            walked = if walked.is_empty() {
                name.to_owned()
            } else {
                format!("{walked}/{name}")
            };
            let (mode, kind, id) = match tree.get_name(name) {
                Some(entry) => (entry.filemode(), entry.kind(), entry.id()),
                None => return Ok(Vec::new()),
            };
            if mode == i32::from(git2::FileMode::Link) {
                let file = format!("{dir}@{commit}");
                return Err(RepoError::Symlink(Box::new(symlink_refused(
                    &file, &walked,
                ))));
            }
            if kind != Some(git2::ObjectType::Tree) {
                return Ok(Vec::new());
            }
            tree = self
                .repo
                .find_tree(id)
                .map_err(git(format!("reading {walked} at {commit}")))?;
        }
        let mut files = Vec::new();
        for entry in tree.iter() {
            if entry.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            let Ok(name) = entry.name() else { continue };
            let path = format!("{dir}/{name}");
            let symlink = entry.filemode() == i32::from(git2::FileMode::Link);
            let (bytes, too_large) = if symlink {
                (Vec::new(), false)
            } else {
                self.bounded_blob(entry.id(), &path)?
            };
            files.push(RepoFile {
                path,
                bytes,
                too_large,
                symlink,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// A blob's bytes when its header says it is at most [`MAX_FILE_BYTES`], checked again
    /// on the bytes loaded; `(empty, true)` when larger.
    fn bounded_blob(&self, id: git2::Oid, path: &str) -> Result<(Vec<u8>, bool), RepoError> {
        let odb = self
            .repo
            .odb()
            .map_err(git("opening the object database"))?;
        let (size, _) = odb
            .read_header(id)
            .map_err(git(format!("reading the size of {path}")))?;
        if size as u64 > MAX_FILE_BYTES {
            return Ok((Vec::new(), true));
        }
        let blob = self
            .repo
            .find_blob(id)
            .map_err(git(format!("reading {path}")))?;
        match read_capped(blob.content(), MAX_FILE_BYTES) {
            Ok(WorktreeFile::Found(bytes)) => Ok((bytes, false)),
            _ => Ok((Vec::new(), true)),
        }
    }

    /// Reads a work-tree file by repository-relative path, following no symbolic link and
    /// reading at most [`MAX_FILE_BYTES`] and one byte. `Missing` when it does not exist, is
    /// not a regular file, or the path leaves the repository (absolute, or through `..`).
    pub fn read_worktree_file(&self, relative: &str) -> Result<WorktreeFile, std::io::Error> {
        let Some(path) = inside_relative(relative) else {
            return Ok(WorktreeFile::Missing);
        };
        read_below(&self.workdir, path, MAX_FILE_BYTES)
    }

    /// The `*.yaml`/`*.yml` files directly in `dir` at commit `head` that differ from the
    /// same path at `base` (added, or changed): the plans a pull request proposes, read as git
    /// objects so nothing of the pull request is ever a file on disk (DESIGN 13.9). Sorted. A
    /// link is listed as changed (with `symlink` set), so that reading it refuses it
    /// (`SYMLINK_REFUSED`).
    pub fn changed_yaml_files(
        &self,
        base: &CommitSha,
        head: &CommitSha,
        dir: &str,
    ) -> Result<Vec<RepoFile>, RepoError> {
        let at_base = self.files_in_commit_dir(base, dir)?;
        let changed = self
            .files_in_commit_dir(head, dir)?
            .into_iter()
            .filter(|f| f.path.ends_with(".yaml") || f.path.ends_with(".yml"))
            .filter(|f| {
                !at_base.iter().any(|b| {
                    b.path == f.path
                        && !b.symlink
                        && !f.symlink
                        && !b.too_large
                        && !f.too_large
                        && b.bytes == f.bytes
                })
            })
            .collect();
        Ok(changed)
    }

    /// Reads the file at repository-relative `relative` in `commit` as a git object: no
    /// component may be a symbolic link (the part up to the link is named), and a blob larger
    /// than [`MAX_FILE_BYTES`] is never loaded. `Missing` when there is no such blob, or the
    /// path leaves the repository (absolute, or through `..`).
    pub fn read_commit_file(
        &self,
        commit: &CommitSha,
        relative: &str,
    ) -> Result<WorktreeFile, RepoError> {
        if inside_relative(relative).is_none() {
            return Ok(WorktreeFile::Missing);
        }
        let oid = git2::Oid::from_str(commit.as_str()).map_err(git("parsing a commit id"))?;
        let mut tree = self
            .repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(git(format!("reading commit {commit}")))?;
        let names: Vec<&str> = relative
            .split('/')
            .filter(|n| !n.is_empty() && *n != ".")
            .collect();
        let mut walked = String::new();
        for (index, name) in names.iter().enumerate() {
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(name);
            let Some((mode, kind, id)) = tree
                .get_name(name)
                .map(|e| (e.filemode(), e.kind(), e.id()))
            else {
                return Ok(WorktreeFile::Missing);
            };
            if mode == i32::from(git2::FileMode::Link) {
                return Ok(WorktreeFile::Symlink(walked));
            }
            let last = index + 1 == names.len();
            match (kind, last) {
                (Some(git2::ObjectType::Blob), true) => {
                    let (bytes, too_large) = self.bounded_blob(id, &walked)?;
                    return Ok(if too_large {
                        WorktreeFile::TooLarge
                    } else {
                        WorktreeFile::Found(bytes)
                    });
                }
                (Some(git2::ObjectType::Tree), false) => {
                    tree = self
                        .repo
                        .find_tree(id)
                        .map_err(git(format!("reading {walked} at {commit}")))?;
                }
                _ => return Ok(WorktreeFile::Missing),
            }
        }
        Ok(WorktreeFile::Missing)
    }

    /// The repository's git directory (`.git`), for the git CLI.
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Whether commit `sha` wrote any of `paths` (DESIGN 13.4): its entry there (blob and
    /// mode) differs from every parent's, or it has no parent and holds the path. A merge that
    /// takes a file unchanged from one side did not write it; the commit that did is listed
    /// too. A commit missing from the repository is an error, never "did not touch".
    pub fn commit_touches(&self, sha: &CommitSha, paths: &[String]) -> Result<bool, RepoError> {
        let git = |context: String| move |source| RepoError::Git { context, source };
        let oid = git2::Oid::from_str(sha.as_str()).map_err(git(format!("parse {sha}")))?;
        let commit = self.repo.find_commit(oid).map_err(git(format!(
            "read commit {sha} (fetch the pull request's head)"
        )))?;
        let entry_at = |commit: &git2::Commit<'_>, path: &str| {
            let tree = commit
                .tree()
                .map_err(git(format!("read the tree of {sha}")))?;
            match tree.get_path(Path::new(path)) {
                Ok(entry) => Ok(Some((entry.id(), entry.filemode()))),
                Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
                Err(source) => Err(RepoError::Git {
                    context: format!("look up {path} in {sha}"),
                    source,
                }),
            }
        };
        let parents: Vec<git2::Commit<'_>> = commit.parents().collect();
        for path in paths {
            let here = entry_at(&commit, path)?;
            let mut same_as_a_parent = false;
            for parent in &parents {
                same_as_a_parent |= entry_at(parent, path)? == here;
            }
            let written = if parents.is_empty() {
                here.is_some()
            } else {
                !same_as_a_parent
            };
            if written {
                return Ok(true);
            }
        }
        Ok(false)
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
    fn reads_are_bounded_by_bytes_read_not_by_stat() {
        // /dev/zero, like /proc/self/pagemap, claims a size of 0 and never ends.
        let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
        assert_eq!(
            read_capped(zero, 1024).expect("read"),
            WorktreeFile::TooLarge
        );
        assert_eq!(
            read_capped(&b"four"[..], 4).expect("read"),
            WorktreeFile::Found(b"four".to_vec())
        );
    }

    #[test]
    fn no_component_below_the_root_may_be_a_link() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("docs")).expect("mkdir");
        std::fs::write(root.path().join("docs/notes.md"), "notes").expect("write");
        std::os::unix::fs::symlink("/proc/self", root.path().join("proc")).expect("link");
        std::os::unix::fs::symlink("notes.md", root.path().join("docs/link.md")).expect("link");
        let read = |p: &str| read_below(root.path(), Path::new(p), 1024).expect("read");
        assert_eq!(
            read("docs/notes.md"),
            WorktreeFile::Found(b"notes".to_vec())
        );
        assert_eq!(read("proc/environ"), WorktreeFile::Symlink("proc".into()));
        assert_eq!(read("proc/pagemap"), WorktreeFile::Symlink("proc".into()));
        assert_eq!(
            read("docs/link.md"),
            WorktreeFile::Symlink("docs/link.md".into())
        );
        assert_eq!(read("docs"), WorktreeFile::Missing);
        assert_eq!(read("nothing"), WorktreeFile::Missing);
    }

    #[test]
    fn commit_reads_refuse_links_on_the_path_and_never_leave_the_tree() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        let blob = |bytes: &[u8]| repo.blob(bytes).expect("blob");
        let mut docs = repo.treebuilder(None).expect("builder");
        docs.insert("notes.md", blob(b"notes"), 0o100644)
            .expect("notes");
        docs.insert("link.md", blob(b"notes.md"), 0o120000)
            .expect("link");
        let docs = docs.write().expect("docs");
        let mut root = repo.treebuilder(None).expect("builder");
        root.insert("docs", docs, 0o040000).expect("docs");
        root.insert("proc", blob(b"/proc/self"), 0o120000)
            .expect("proc");
        let tree = repo.find_tree(root.write().expect("root")).expect("tree");
        let sig = git2::Signature::now("t", "t@example.com").expect("signature");
        let commit = repo
            .commit(Some("HEAD"), &sig, &sig, "files", &tree, &[])
            .expect("commit");
        let local = LocalRepo::discover(dir.path()).expect("repo");
        let commit = CommitSha::from(commit);
        let read = |p: &str| local.read_commit_file(&commit, p).expect("read");
        assert_eq!(
            read("docs/notes.md"),
            WorktreeFile::Found(b"notes".to_vec())
        );
        assert_eq!(read("./docs/notes.md"), read("docs/notes.md"));
        assert_eq!(read("proc/environ"), WorktreeFile::Symlink("proc".into()));
        assert_eq!(
            read("docs/link.md"),
            WorktreeFile::Symlink("docs/link.md".into())
        );
        for outside in ["../docs/notes.md", "/etc/passwd", "docs", "nothing", ""] {
            assert_eq!(read(outside), WorktreeFile::Missing, "{outside}");
        }
    }

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
