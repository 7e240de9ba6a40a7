//! The bare repositories behind the fake: every read and write of git objects and refs.
//!
//! Each call opens the repository afresh, because the tests `git push` and `git fetch` the same
//! bare repository behind the fake's back; nothing here caches refs. Results are plain values
//! (`RefInfo`, `CommitInfo`, `TagInfo`); this module knows nothing of HTTP or JSON.
use std::path::Path;

use git2::{ErrorCode, ObjectType, Oid, Repository, RepositoryInitOptions, Signature};

use crate::clock::Timestamp;

/// What went wrong with a git operation, in GitHub's terms.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    /// The ref to create exists already.
    #[error("Reference already exists")]
    Exists,
    /// The sha names no object in the repository.
    #[error("Object does not exist")]
    NoObject,
    /// The ref name is not a valid, fully qualified name.
    #[error("Reference name is invalid")]
    InvalidName,
    /// The ref to update does not exist.
    #[error("Reference does not exist")]
    Missing,
    /// A non-forced update would lose commits.
    #[error("Update is not a fast forward")]
    NotFastForward,
    /// Anything else libgit2 reported.
    #[error(transparent)]
    Git(#[from] git2::Error),
}

/// The kind of object a ref or tag points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Commit,
    Tag,
    Tree,
    Blob,
}

impl ObjectKind {
    fn of(kind: Option<ObjectType>) -> ObjectKind {
        match kind {
            Some(ObjectType::Tag) => ObjectKind::Tag,
            Some(ObjectType::Tree) => ObjectKind::Tree,
            Some(ObjectType::Blob) => ObjectKind::Blob,
            _ => ObjectKind::Commit,
        }
    }

    /// The `type` string GitHub reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tag => "tag",
            ObjectKind::Tree => "tree",
            ObjectKind::Blob => "blob",
        }
    }

    /// The collection under `/git/` that serves such objects.
    pub(crate) fn collection(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commits",
            ObjectKind::Tag => "tags",
            ObjectKind::Tree => "trees",
            ObjectKind::Blob => "blobs",
        }
    }
}

/// A direct ref.
#[derive(Clone, Debug)]
pub(crate) struct RefInfo {
    /// Full name, `refs/heads/main`.
    pub name: String,
    pub sha: String,
    pub kind: ObjectKind,
}

/// A person and time on a commit or tag.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub name: String,
    pub email: String,
    pub when: Timestamp,
}

/// One file a commit changed, against its first parent.
#[derive(Clone, Debug)]
pub(crate) struct FileChange {
    pub path: String,
    pub status: &'static str,
    pub blob: String,
    pub additions: usize,
    pub deletions: usize,
}

/// A commit.
#[derive(Clone, Debug)]
pub(crate) struct CommitInfo {
    pub sha: String,
    pub tree: String,
    pub message: String,
    pub author: Person,
    pub committer: Person,
    pub parents: Vec<String>,
    pub files: Vec<FileChange>,
}

/// An annotated tag object.
#[derive(Clone, Debug)]
pub(crate) struct TagInfo {
    pub sha: String,
    pub tag: String,
    pub message: String,
    pub tagger: Option<Person>,
    pub target: String,
    pub target_kind: ObjectKind,
}

/// What a branch comparison found.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Comparison {
    /// Commits on head that base does not have.
    pub ahead: usize,
    pub changed_files: usize,
    pub additions: usize,
    pub deletions: usize,
}

/// Creates an empty bare repository whose HEAD is the unborn default branch.
pub(crate) fn init_bare(path: &Path, default_branch: &str) -> Result<(), GitError> {
    let mut options = RepositoryInitOptions::new();
    options.bare(true).initial_head(default_branch);
    Repository::init_opts(path, &options)?;
    Ok(())
}

fn open(path: &Path) -> Result<Repository, GitError> {
    Ok(Repository::open_bare(path)?)
}

fn parse_oid(repo: &Repository, sha: &str) -> Result<Oid, GitError> {
    let oid = Oid::from_str(sha).map_err(|_| GitError::NoObject)?;
    if sha.len() != 40 || repo.find_object(oid, None).is_err() {
        return Err(GitError::NoObject);
    }
    Ok(oid)
}

fn ref_info(repo: &Repository, name: &str) -> Result<Option<RefInfo>, GitError> {
    let reference = match repo.find_reference(name) {
        Ok(reference) => reference,
        Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::InvalidSpec => {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let Some(oid) = reference.resolve()?.target() else {
        return Ok(None);
    };
    let kind = repo.find_object(oid, None)?.kind();
    Ok(Some(RefInfo {
        name: name.to_owned(),
        sha: oid.to_string(),
        kind: ObjectKind::of(kind),
    }))
}

/// The ref with this full name, if it exists.
pub(crate) fn find_ref(path: &Path, name: &str) -> Result<Option<RefInfo>, GitError> {
    ref_info(&open(path)?, name)
}

/// Every ref whose full name starts with `prefix`, sorted by name.
pub(crate) fn matching_refs(path: &Path, prefix: &str) -> Result<Vec<RefInfo>, GitError> {
    let repo = open(path)?;
    let mut names = Vec::new();
    for reference in repo.references()? {
        let reference = reference?;
        // Refs whose names are not UTF-8 cannot be named in a URL; skip them.
        if let Ok(name) = reference.name()
            && name.starts_with(prefix)
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    let mut refs = Vec::new();
    for name in names {
        refs.extend(ref_info(&repo, &name)?);
    }
    Ok(refs)
}

/// GitHub's rule for `POST /git/refs`: fully qualified (`refs/x/y`) and valid for git.
fn check_name(name: &str) -> Result<(), GitError> {
    let qualified = name.starts_with("refs/") && name.matches('/').count() >= 2;
    if qualified && git2::Reference::is_valid_name(name) {
        Ok(())
    } else {
        Err(GitError::InvalidName)
    }
}

/// The file in a bare repository naming the pull requests whose `refs/pull/N/head` follows
/// their head branch: one `N branch` line each.
const PULL_HEADS: &str = "fake-github-pulls";

/// The post-receive hook that moves `refs/pull/N/head` when a push moves a tracked branch.
const PULL_HEADS_HOOK: &str = r#"#!/bin/sh
# The fake GitHub's: like GitHub, a push to an open pull request's head branch moves the base
# repository's refs/pull/N/head (pull requests listed in fake-github-pulls).
[ -f fake-github-pulls ] || exit 0
while read -r old new ref; do
  case "$new" in *[!0]*) ;; *) continue ;; esac
  while read -r number branch; do
    if [ "$ref" = "refs/heads/$branch" ]; then
      git update-ref "refs/pull/$number/head" "$new"
    fi
  done < fake-github-pulls
done
"#;

/// Like GitHub, keeps `refs/pull/N/head` at the head of `branch`: sets it now (when the branch
/// exists) and has every later push to the branch move it, until [`untrack_pull_head`].
pub(crate) fn track_pull_head(path: &Path, number: u64, branch: &str) -> Result<(), GitError> {
    if let Some(head) = branch_head(path, branch)? {
        let repo = open(path)?;
        let oid = parse_oid(&repo, &head)?;
        repo.reference(
            &format!("refs/pull/{number}/head"),
            oid,
            true,
            "fake-github: pull head",
        )?;
    }
    let io = |e: std::io::Error| GitError::Git(git2::Error::from_str(&e.to_string()));
    let hook = path.join("hooks").join("post-receive");
    if !hook.exists() {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::create_dir_all(path.join("hooks")).map_err(io)?;
        std::fs::write(&hook, PULL_HEADS_HOOK).map_err(io)?;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).map_err(io)?;
    }
    let mut list = std::fs::read_to_string(path.join(PULL_HEADS)).unwrap_or_default();
    list.push_str(&format!("{number} {branch}\n"));
    std::fs::write(path.join(PULL_HEADS), list).map_err(io)
}

/// Stops moving `refs/pull/N/head` with its branch (the pull request was merged or closed);
/// the ref stays where it is, as on GitHub.
pub(crate) fn untrack_pull_head(path: &Path, number: u64) -> Result<(), GitError> {
    let Ok(list) = std::fs::read_to_string(path.join(PULL_HEADS)) else {
        return Ok(());
    };
    let kept: String = list
        .lines()
        .filter(|line| line.split(' ').next() != Some(number.to_string().as_str()))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(path.join(PULL_HEADS), kept)
        .map_err(|e| GitError::Git(git2::Error::from_str(&e.to_string())))
}

/// Creates a ref; never overwrites.
pub(crate) fn create_ref(path: &Path, name: &str, sha: &str) -> Result<RefInfo, GitError> {
    check_name(name)?;
    let repo = open(path)?;
    let oid = parse_oid(&repo, sha)?;
    match repo.reference(name, oid, false, "fake-github: create ref") {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::Exists => return Err(GitError::Exists),
        Err(e) => return Err(e.into()),
    }
    ref_info(&repo, name)?.ok_or(GitError::Missing)
}

fn peel_commit(repo: &Repository, oid: Oid) -> Option<Oid> {
    repo.find_object(oid, None)
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// Moves an existing ref; a non-forced move must be a fast forward. The move is a
/// compare-and-swap on the value read, so a concurrent `git push` is not overwritten.
pub(crate) fn update_ref(
    path: &Path,
    name: &str,
    sha: &str,
    force: bool,
) -> Result<RefInfo, GitError> {
    let repo = open(path)?;
    let current = ref_info(&repo, name)?.ok_or(GitError::Missing)?;
    let new = parse_oid(&repo, sha)?;
    let old = Oid::from_str(&current.sha)?;
    if !force && new != old {
        let fast_forward = match (peel_commit(&repo, old), peel_commit(&repo, new)) {
            (Some(old_commit), Some(new_commit)) => {
                new_commit == old_commit || repo.graph_descendant_of(new_commit, old_commit)?
            }
            _ => false,
        };
        if !fast_forward {
            return Err(GitError::NotFastForward);
        }
    }
    repo.reference_matching(name, new, true, old, "fake-github: update ref")?;
    ref_info(&repo, name)?.ok_or(GitError::Missing)
}

/// Writes an annotated tag object pointing at `target` (no ref is created, as on GitHub).
pub(crate) fn create_tag_object(
    path: &Path,
    tag: &str,
    message: &str,
    target: &str,
    tagger: &Person,
) -> Result<TagInfo, GitError> {
    let repo = open(path)?;
    let oid = parse_oid(&repo, target)?;
    let object = repo.find_object(oid, None)?;
    let when = git2::Time::new(tagger.when.unix(), 0);
    let signature = Signature::new(&tagger.name, &tagger.email, &when)?;
    let tag_oid = repo.tag_annotation_create(tag, &object, &signature, message)?;
    tag_info(&repo, tag_oid)?.ok_or(GitError::NoObject)
}

fn person(signature: &Signature<'_>) -> Person {
    Person {
        name: String::from_utf8_lossy(signature.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(signature.email_bytes()).into_owned(),
        when: Timestamp::from_unix(signature.when().seconds()),
    }
}

fn tag_info(repo: &Repository, oid: Oid) -> Result<Option<TagInfo>, GitError> {
    let Ok(tag) = repo.find_tag(oid) else {
        return Ok(None);
    };
    Ok(Some(TagInfo {
        sha: oid.to_string(),
        tag: String::from_utf8_lossy(tag.name_bytes()).into_owned(),
        message: String::from_utf8_lossy(tag.message_bytes().unwrap_or_default()).into_owned(),
        tagger: tag.tagger().as_ref().map(person),
        target: tag.target_id().to_string(),
        target_kind: ObjectKind::of(tag.target_type()),
    }))
}

/// The annotated tag object with this sha, if there is one.
pub(crate) fn find_tag(path: &Path, sha: &str) -> Result<Option<TagInfo>, GitError> {
    let repo = open(path)?;
    match parse_oid(&repo, sha) {
        Ok(oid) => tag_info(&repo, oid),
        Err(_) => Ok(None),
    }
}

/// Resolves a branch name, tag name, `heads/..`/`tags/..`/`refs/..` name or hex sha to a
/// commit, the way GitHub reads a `{ref}` or `target_commitish`.
fn resolve(repo: &Repository, rev: &str) -> Option<Oid> {
    let mut candidates = vec![format!("refs/heads/{rev}"), format!("refs/tags/{rev}")];
    if rev.starts_with("heads/") || rev.starts_with("tags/") {
        candidates.push(format!("refs/{rev}"));
    }
    if rev.starts_with("refs/") {
        candidates.push(rev.to_owned());
    }
    for name in candidates {
        if let Ok(commit) = repo.find_reference(&name).and_then(|r| r.peel_to_commit()) {
            return Some(commit.id());
        }
    }
    let hex = (4..=40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return None;
    }
    repo.revparse_single(rev)
        .ok()?
        .peel_to_commit()
        .ok()
        .map(|c| c.id())
}

/// The commit a branch, tag or sha names.
pub(crate) fn resolve_commit(path: &Path, rev: &str) -> Result<Option<String>, GitError> {
    Ok(resolve(&open(path)?, rev).map(|oid| oid.to_string()))
}

/// Whether the repository has no refs at all (GitHub answers 409 for its git data).
/// Not libgit2's `is_empty`, which also wants HEAD on the configured default branch.
pub(crate) fn is_empty(path: &Path) -> Result<bool, GitError> {
    Ok(open(path)?.references()?.next().is_none())
}

/// The commit a branch points at, if the branch exists.
pub(crate) fn branch_head(path: &Path, branch: &str) -> Result<Option<String>, GitError> {
    let repo = open(path)?;
    let head = repo
        .find_reference(&format!("refs/heads/{branch}"))
        .ok()
        .and_then(|r| r.peel_to_commit().ok())
        .map(|c| c.id().to_string());
    Ok(head)
}

/// A commit named by branch, tag or sha, with the files it changed.
pub(crate) fn commit(path: &Path, rev: &str) -> Result<Option<CommitInfo>, GitError> {
    let repo = open(path)?;
    let Some(oid) = resolve(&repo, rev) else {
        return Ok(None);
    };
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parent_tree = match commit.parents().next() {
        Some(parent) => Some(parent.tree()?),
        None => None,
    };
    let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)?;
    let mut files = Vec::new();
    for (index, delta) in diff.deltas().enumerate() {
        let (_, additions, deletions) = match git2::Patch::from_diff(&diff, index)? {
            Some(patch) => patch.line_stats()?,
            None => (0, 0, 0),
        };
        let file = delta.new_file();
        files.push(FileChange {
            path: file
                .path()
                .or(delta.old_file().path())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
            status: match delta.status() {
                git2::Delta::Added => "added",
                git2::Delta::Deleted => "removed",
                git2::Delta::Renamed => "renamed",
                _ => "modified",
            },
            blob: file.id().to_string(),
            additions,
            deletions,
        });
    }
    Ok(Some(CommitInfo {
        sha: oid.to_string(),
        tree: tree.id().to_string(),
        message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
        author: person(&commit.author()),
        committer: person(&commit.committer()),
        parents: commit.parent_ids().map(|p| p.to_string()).collect(),
        files,
    }))
}

/// How GitHub merges a pull request (`merge_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MergeMethod {
    /// A merge commit with the base and the head as parents.
    Merge,
    /// One commit on the base with the head's combined changes.
    Squash,
    /// Each commit of the head replayed on the base, in order.
    Rebase,
}

/// What to write for a merge: the method, the commit message, and who merges (the author of
/// a merge or squash commit; GitHub commits as `GitHub <noreply@github.com>`).
pub(crate) struct MergeRequest<'a> {
    pub method: MergeMethod,
    pub message: &'a str,
    pub merger: &'a Person,
}

fn signature_of(person: &Person) -> Result<Signature<'static>, GitError> {
    let when = git2::Time::new(person.when.unix(), 0);
    Ok(Signature::new(&person.name, &person.email, &when)?)
}

/// Merges branch `head` into branch `base` as GitHub does, writing real commits and moving
/// `refs/heads/<base>`; returns the new base commit (GitHub's `merge_commit_sha`), or `None`
/// when the changes conflict (nothing is written then).
pub(crate) fn merge_branches(
    path: &Path,
    base: &str,
    head: &str,
    request: &MergeRequest<'_>,
) -> Result<Option<String>, GitError> {
    let repo = open(path)?;
    let base_ref = format!("refs/heads/{base}");
    let base_commit = repo.find_reference(&base_ref)?.peel_to_commit()?;
    let head_commit = repo
        .find_reference(&format!("refs/heads/{head}"))?
        .peel_to_commit()?;
    let committer = signature_of(&Person {
        name: "GitHub".to_owned(),
        email: "noreply@github.com".to_owned(),
        when: request.merger.when,
    })?;
    let author = signature_of(request.merger)?;
    let new_head = match request.method {
        MergeMethod::Merge | MergeMethod::Squash => {
            let mut index = repo.merge_commits(&base_commit, &head_commit, None)?;
            if index.has_conflicts() {
                return Ok(None);
            }
            let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
            let parents: Vec<&git2::Commit<'_>> = match request.method {
                MergeMethod::Merge => vec![&base_commit, &head_commit],
                _ => vec![&base_commit],
            };
            repo.commit(None, &author, &committer, request.message, &tree, &parents)?
        }
        MergeMethod::Rebase => {
            let mut walk = repo.revwalk()?;
            walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
            walk.push(head_commit.id())?;
            walk.hide(base_commit.id())?;
            let mut onto = base_commit.clone();
            for oid in walk {
                let commit = repo.find_commit(oid?)?;
                let mut index = repo.cherrypick_commit(&commit, &onto, 0, None)?;
                if index.has_conflicts() {
                    return Ok(None);
                }
                let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
                let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
                let replayed = repo.commit(
                    None,
                    &commit.author(),
                    &committer,
                    &message,
                    &tree,
                    &[&onto],
                )?;
                onto = repo.find_commit(replayed)?;
            }
            onto.id()
        }
    };
    repo.reference(&base_ref, new_head, true, "merge pull request")?;
    Ok(Some(new_head.to_string()))
}

/// The commits of `head` that `base` does not have (both commit shas), oldest first, as
/// GitHub lists a pull request's commits.
pub(crate) fn commits_between(
    path: &Path,
    base: &str,
    head: &str,
) -> Result<Vec<String>, GitError> {
    let repo = open(path)?;
    let mut walk = repo.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(Oid::from_str(head)?)?;
    walk.hide(Oid::from_str(base)?)?;
    walk.map(|oid| Ok(oid?.to_string())).collect()
}

/// How far `head` is ahead of `base` (both commit shas) and what it changes.
pub(crate) fn compare(path: &Path, base: &str, head: &str) -> Result<Comparison, GitError> {
    let repo = open(path)?;
    let base = Oid::from_str(base)?;
    let head = Oid::from_str(head)?;
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    walk.hide(base)?;
    let ahead = walk.count();
    let merge_base = repo.merge_base(base, head).unwrap_or(base);
    let old = repo.find_commit(merge_base)?.tree()?;
    let new = repo.find_commit(head)?.tree()?;
    let stats = repo
        .diff_tree_to_tree(Some(&old), Some(&new), None)?
        .stats()?;
    Ok(Comparison {
        ahead,
        changed_files: stats.files_changed(),
        additions: stats.insertions(),
        deletions: stats.deletions(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_two_commits() -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        init_bare(dir.path(), "main").unwrap();
        let repo = Repository::open_bare(dir.path()).unwrap();
        let sig = Signature::new("T", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
        let mut builder = repo.treebuilder(None).unwrap();
        let blob = repo.blob(b"one\n").unwrap();
        builder.insert("a.txt", blob, 0o100644).unwrap();
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let first = repo
            .commit(Some("refs/heads/main"), &sig, &sig, "first", &tree, &[])
            .unwrap();
        let parent = repo.find_commit(first).unwrap();
        let second = repo
            .commit(
                Some("refs/heads/main"),
                &sig,
                &sig,
                "second",
                &tree,
                &[&parent],
            )
            .unwrap();
        (dir, first.to_string(), second.to_string())
    }

    #[test]
    fn refs_are_created_once_and_moved_forward_only() {
        let (dir, first, second) = repo_with_two_commits();
        let path = dir.path();
        create_ref(path, "refs/heads/feature", &first).unwrap();
        assert!(matches!(
            create_ref(path, "refs/heads/feature", &first),
            Err(GitError::Exists)
        ));
        assert!(matches!(
            create_ref(path, "heads/x", &first),
            Err(GitError::InvalidName)
        ));
        assert!(matches!(
            create_ref(path, "refs/heads/y", &"0".repeat(40)),
            Err(GitError::NoObject)
        ));
        update_ref(path, "refs/heads/feature", &second, false).unwrap();
        assert!(matches!(
            update_ref(path, "refs/heads/feature", &first, false),
            Err(GitError::NotFastForward)
        ));
        let moved = update_ref(path, "refs/heads/feature", &first, true).unwrap();
        assert_eq!(moved.sha, first);
    }

    #[test]
    fn revisions_resolve_like_github() {
        let (dir, first, second) = repo_with_two_commits();
        let path = dir.path();
        assert_eq!(resolve_commit(path, "main").unwrap(), Some(second.clone()));
        assert_eq!(resolve_commit(path, &first[..7]).unwrap(), Some(first));
        assert_eq!(resolve_commit(path, "main~1").unwrap(), None);
        let info = commit(path, "heads/main").unwrap().unwrap();
        assert_eq!(info.message, "second");
        assert!(info.files.is_empty());
    }
}
