//! Files of a commit read as git objects, never checked out (DESIGN 13.9): a directory's
//! files, the plans a pull request changed, one file by path, and whether a commit wrote a
//! path. Links are refused and blobs are bounded by [`MAX_FILE_BYTES`] before they load.

use std::path::Path;

use super::{
    LocalRepo, MAX_FILE_BYTES, RepoError, RepoFile, WorktreeFile, git, inside_relative,
    read_capped, symlink_refused,
};
use crate::model::CommitSha;

impl LocalRepo {
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

    /// The `*.yaml`/`*.yml` files directly in `dir` at commit `head` that differ from the
    /// same path at the merge base of `base` and `head` (added, or changed): the plans a pull
    /// request proposes, read as git objects so nothing of the pull request is ever a file on
    /// disk (DESIGN 13.9). Against the merge base, not `base` itself, so a plan that changed on
    /// `base` after the pull request branched is not the pull request's (issue 17); without a
    /// merge base (unrelated histories) against `base`. Sorted. A link is listed as changed
    /// (with `symlink` set), so that reading it refuses it (`SYMLINK_REFUSED`).
    pub fn changed_yaml_files(
        &self,
        base: &CommitSha,
        head: &CommitSha,
        dir: &str,
    ) -> Result<Vec<RepoFile>, RepoError> {
        let since = self.merge_base(base, head)?;
        let at_base = self.files_in_commit_dir(&since, dir)?;
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

    /// The best common ancestor of `base` and `head`, or `base` when they share no history.
    fn merge_base(&self, base: &CommitSha, head: &CommitSha) -> Result<CommitSha, RepoError> {
        let oid =
            |sha: &CommitSha| git2::Oid::from_str(sha.as_str()).map_err(git("parsing a commit id"));
        match self.repo.merge_base(oid(base)?, oid(head)?) {
            Ok(found) => Ok(CommitSha::from(found)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(base.clone()),
            Err(e) => Err(git("finding the merge base")(e)),
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
