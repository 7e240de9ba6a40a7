//! Reading the inputs every governance command shares: the repository, its GitHub identity,
//! the plans and the policy. Reads only; this module has no way to write.
//!
//! Plan and policy files are read as regular files only: no component of their path below
//! the repository root (or, outside a repository, below the directory named) may be a
//! symbolic link, and reads stop one byte past the limit (DESIGN 13.4, `SYMLINK_REFUSED`).

use std::path::{Component, Path, PathBuf};

use crate::cli::RepoArgs;
use crate::diag::{Diagnostic, Diagnostics, InputErrorKind};
use crate::error::Error;
use crate::model::{CommitSha, RepoSlug};
use crate::plan::{self, ResolvedPlan};
use crate::policy::{self, Policy, PolicyFile};
use crate::repo::{self, AtCommit, LocalRepo, RepoFile, WorktreeFile, symlink_refused};
use crate::report::{PolicySource, RepoSource};

/// Where the plans live by convention (DESIGN 2).
pub const PLANS_DIR: &str = ".shipgate/plans";

/// The bytes of the event file GitHub Actions names in `GITHUB_EVENT_PATH`; `Ok(None)` when
/// the variable is unset or empty (not run from a workflow).
pub fn event_file() -> Result<Option<Vec<u8>>, Error> {
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH").filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    std::fs::read(&path).map(Some).map_err(|e| {
        Error::Usage(format!(
            "cannot read GITHUB_EVENT_PATH {}: {e}",
            Path::new(&path).display()
        ))
    })
}

/// Opens the repository at `dir` (`--repo`), or the one enclosing the current directory.
pub fn open_repo(dir: Option<&Path>) -> Result<LocalRepo, Error> {
    let start = match dir {
        Some(dir) => dir.to_owned(),
        None => std::env::current_dir()?,
    };
    Ok(LocalRepo::discover(&start)?)
}

/// The GitHub repository the plans ship to: `--repo-slug`, then `GITHUB_REPOSITORY`, then the
/// origin remote; failing all three, `local/<directory>` (the report warns that the plan id
/// will then differ from the one CI computes).
pub fn repo_slug(args: &RepoArgs, repo: &LocalRepo) -> Result<(RepoSlug, RepoSource), Error> {
    if let Some(text) = &args.repo_slug {
        return RepoSlug::parse(text)
            .map(|s| (s, RepoSource::Flag))
            .map_err(|e| Error::Usage(format!("--repo-slug: {e}")));
    }
    if let Ok(text) = std::env::var("GITHUB_REPOSITORY")
        && !text.is_empty()
    {
        return RepoSlug::parse(&text)
            .map(|s| (s, RepoSource::Environment))
            .map_err(|e| Error::Usage(format!("GITHUB_REPOSITORY: {e}")));
    }
    if let Some(slug) = repo.origin_slug() {
        return Ok((slug, RepoSource::OriginRemote));
    }
    let dir = repo
        .workdir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sanitized: String = dir
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    let slug = RepoSlug::parse(&format!("local/{sanitized}"))
        .unwrap_or_else(|_| RepoSlug::parse("local/repository").expect("a valid literal slug"));
    Ok((slug, RepoSource::LocalPlaceholder))
}

/// The checkout and the GitHub repository of a command that writes the governance branch: a
/// local placeholder will not do, since the chain and GitHub must agree on the repository.
pub fn governed_repo(args: &crate::cli::AuditAppendArgs) -> Result<(LocalRepo, RepoSlug), Error> {
    let repo_args = RepoArgs {
        repo: args.target.repo.clone(),
        repo_slug: args.repo_slug.clone(),
    };
    let repo = open_repo(repo_args.repo.as_deref())?;
    let (slug, source) = repo_slug(&repo_args, &repo)?;
    if source == RepoSource::LocalPlaceholder {
        return Err(Error::Usage(
            "cannot tell the GitHub repository: pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY".into(),
        ));
    }
    Ok((repo, slug))
}

/// The plan files to read: those given, or every `*.yaml`/`*.yml` in `.shipgate/plans/`.
pub fn plan_paths(given: &[PathBuf], repo: &LocalRepo) -> Result<Vec<PathBuf>, Error> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let dir = repo.workdir().join(PLANS_DIR);
    let found = yaml_files_in(repo.workdir(), Path::new(PLANS_DIR))?;
    if found.is_empty() {
        return Err(Diagnostics::from(
            Diagnostic::whole_file(
                InputErrorKind::NoPlans,
                PLANS_DIR,
                format!("no plan files (*.yaml, *.yml) in {}", dir.display()),
            )
            .with_hint("write a plan there, or name plan files on the command line"),
        )
        .into());
    }
    Ok(found)
}

/// The `*.yaml`/`*.yml` files directly in `relative` below `root`. The directory must be
/// reachable without a symbolic link, and a YAML entry that is a link is refused, not
/// skipped: leaving out a policy file could weaken the policy.
fn yaml_files_in(root: &Path, relative: &Path) -> Result<Vec<PathBuf>, Error> {
    let shown = relative.display().to_string();
    if let Err(link) = repo::check_dir_below(root, relative)? {
        return Err(Diagnostics::from(symlink_refused(&shown, &link)).into());
    }
    let dir = root.join(relative);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        let kind = entry.file_type()?;
        if is_yaml && kind.is_symlink() {
            let link = relative.join(entry.file_name());
            let link = link.display().to_string();
            return Err(Diagnostics::from(symlink_refused(&link, &link)).into());
        }
        if is_yaml && kind.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Splits `path` into a directory trusted as it is and the part below it, every component of
/// which is checked for links: below the repository root when the path lies inside it; else
/// below the current directory for a relative path; else below the file's own directory.
fn confine(path: &Path, repo: Option<&LocalRepo>) -> (PathBuf, PathBuf) {
    let plain = |p: &Path| {
        p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = cwd.join(path);
    if let Some(repo) = repo {
        let root = repo.workdir();
        let roots = [
            root.to_owned(),
            std::fs::canonicalize(root).unwrap_or_default(),
        ];
        for root in roots {
            if let Ok(rest) = absolute.strip_prefix(&root)
                && let Some(rest) = normalize_below(&root, rest)
            {
                return (root, rest);
            }
        }
    }
    if path.is_relative() && plain(path) {
        return (cwd, path.to_owned());
    }
    let name = path.file_name().map(PathBuf::from).unwrap_or_default();
    let parent = path.parent().map(Path::to_owned).unwrap_or_default();
    (parent, name)
}

/// `rest` (below `root`) with `.` and `..` resolved by name, which is what the file system
/// does too as long as no component a `..` steps back over is a link. When one is, `rest` is
/// returned as it is, so the component-wise check meets the link and refuses it. `None` when
/// `rest` climbs above `root`.
fn normalize_below(root: &Path, rest: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for component in rest.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(name) => normal.push(name),
            Component::ParentDir => {
                let stepped_over = std::fs::symlink_metadata(root.join(&normal));
                if stepped_over.is_ok_and(|m| m.file_type().is_symlink()) {
                    return Some(rest.to_owned());
                }
                if !normal.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(normal)
}

/// A name for `path` in messages: relative to the repository root when inside it. Links are
/// not resolved: a name never reveals where a link points.
pub fn display_name(path: &Path, repo: &LocalRepo) -> String {
    let (root, rest) = confine(path, Some(repo));
    let inside =
        root == repo.workdir() || std::fs::canonicalize(repo.workdir()).is_ok_and(|r| r == root);
    if inside {
        rest.to_string_lossy().replace('\\', "/")
    } else {
        path.display().to_string()
    }
}

/// Reads, checks and resolves one plan file. Files larger than the plan limit are refused
/// without being read whole.
pub fn load_plan(
    path: &Path,
    repo: &LocalRepo,
    slug: &RepoSlug,
) -> Result<ResolvedPlan, Diagnostics> {
    load_plan_for(path, repo, slug, None)
}

/// [`load_plan`] for a run whose plan id is `approved` (when given): a merged `target: merge`
/// resolves to the commit carrying the approved content, if one does (DESIGN 13.7).
pub fn load_plan_for(
    path: &Path,
    repo: &LocalRepo,
    slug: &RepoSlug,
    approved: Option<&crate::model::PlanId>,
) -> Result<ResolvedPlan, Diagnostics> {
    let name = display_name(path, repo);
    let bytes = read_bounded(path, Some(repo), plan::MAX_PLAN_BYTES)
        .map_err(|d| Diagnostics::from(d.named(&name)))?;
    let checked = plan::check_plan(&name, &bytes)?;
    match approved {
        Some(approved) => plan::resolve_plan_approved(&checked, slug, repo, approved),
        None => plan::resolve_plan(&checked, slug, repo),
    }
}

/// Reads, checks and resolves one plan of a pull request from its head commit `head`, as git
/// objects: the plan file `file` (found by [`LocalRepo::changed_yaml_files`]) and any
/// `notes_file` are blobs of `head`, never files on disk (DESIGN 13.9). The file is named by
/// its repository path, so messages and the plan id are those of a checkout of `head`.
pub fn load_plan_at(
    file: &RepoFile,
    head: &CommitSha,
    repo: &LocalRepo,
    slug: &RepoSlug,
) -> Result<ResolvedPlan, Diagnostics> {
    let failure =
        |kind, message: String| Diagnostics::from(ReadFailure { kind, message }.named(&file.path));
    if file.symlink {
        return Err(Diagnostics::from(symlink_refused(&file.path, &file.path)));
    }
    if file.too_large || file.bytes.len() > plan::MAX_PLAN_BYTES {
        return Err(failure(
            InputErrorKind::TooLarge,
            format!(
                "the file is larger than the limit of {} bytes",
                plan::MAX_PLAN_BYTES
            ),
        ));
    }
    let checked = plan::check_plan(&file.path, &file.bytes)?;
    plan::resolve_plan(&checked, slug, &AtCommit { repo, commit: head })
}

struct ReadFailure {
    kind: InputErrorKind,
    message: String,
}

impl ReadFailure {
    fn named(self, name: &str) -> Diagnostic {
        let hint = match self.kind {
            InputErrorKind::TooLarge => "plans are small; move long text into a notes_file",
            InputErrorKind::SymlinkRefused => {
                "replace the link with the file itself (git add the real content)"
            }
            _ => "check the path",
        };
        Diagnostic::whole_file(self.kind, name, self.message).with_hint(hint)
    }
}

/// Reads at most `limit + 1` bytes of a regular file reached without a symbolic link, so a
/// huge file (or `/proc` behind a link) costs nothing to refuse.
fn read_bounded(
    path: &Path,
    repo: Option<&LocalRepo>,
    limit: usize,
) -> Result<Vec<u8>, ReadFailure> {
    let unreadable = |e: std::io::Error| ReadFailure {
        kind: InputErrorKind::Unreadable,
        message: format!("cannot read {}: {e}", path.display()),
    };
    let (root, relative) = confine(path, repo);
    match repo::read_below(&root, &relative, limit as u64).map_err(unreadable)? {
        WorktreeFile::Found(bytes) => Ok(bytes),
        WorktreeFile::TooLarge => Err(ReadFailure {
            kind: InputErrorKind::TooLarge,
            message: format!("the file is larger than the limit of {limit} bytes"),
        }),
        WorktreeFile::Missing => Err(ReadFailure {
            kind: InputErrorKind::Unreadable,
            message: format!("cannot read {}: not a regular file", path.display()),
        }),
        WorktreeFile::Symlink(link) => Err(ReadFailure {
            kind: InputErrorKind::SymlinkRefused,
            message: format!(
                "`{link}` is a symbolic link; plans and policies are read only as regular files"
            ),
        }),
    }
}

/// How to find the policy.
pub struct PolicyRequest<'a> {
    /// Repository-relative directory (or a filesystem path with `from_worktree`).
    pub dir: &'a str,
    /// Read the work tree instead of the default branch.
    pub from_worktree: bool,
    /// Override for the default branch.
    pub default_branch: Option<&'a str>,
}

impl<'a> From<&'a crate::cli::PolicyArgs> for PolicyRequest<'a> {
    fn from(args: &'a crate::cli::PolicyArgs) -> Self {
        Self {
            dir: &args.policies,
            from_worktree: args.policies_from_worktree,
            default_branch: args.default_branch.as_deref(),
        }
    }
}

/// Loads the policy: by default from the default branch's commit, never from the work tree
/// or a pull request's head, so a change cannot weaken the policy that judges it (DESIGN 3).
pub fn load_policy(
    repo: &LocalRepo,
    request: &PolicyRequest<'_>,
) -> Result<(Policy, PolicySource), Error> {
    let (files, source) = if request.from_worktree {
        let dir = Path::new(request.dir);
        let dir = if dir.is_absolute() {
            dir.to_owned()
        } else {
            repo.workdir().join(dir)
        };
        (
            read_policy_dir_in(&dir, Some(repo))?,
            PolicySource::Worktree {
                dir: request.dir.to_owned(),
            },
        )
    } else {
        let branch = repo.default_branch_ref(request.default_branch)?;
        let files = repo
            .files_in_commit_dir(&branch.commit, request.dir)?
            .into_iter()
            .filter(|f| f.path.ends_with(".yaml") || f.path.ends_with(".yml"))
            .map(|f| {
                let name = format!("{}@{}", f.path, branch.read_from);
                if f.symlink {
                    Err(symlink_refused(&name, &f.path))
                } else if f.too_large {
                    Err(Diagnostic::whole_file(
                        InputErrorKind::TooLarge,
                        &name,
                        "the policy file is larger than 1 MiB",
                    ))
                } else {
                    Ok(PolicyFile {
                        name,
                        bytes: f.bytes,
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(Diagnostics::from)?;
        (
            files,
            PolicySource::DefaultBranch {
                commit: branch.commit.to_string(),
                read_from: branch.read_from,
                branch: branch.name,
                dir: request.dir.to_owned(),
            },
        )
    };
    Ok((policy::load_policy(&files)?, source))
}

/// Reads every `*.yaml`/`*.yml` file of a policy directory on disk.
pub fn read_policy_dir(dir: &Path) -> Result<Vec<PolicyFile>, Error> {
    read_policy_dir_in(dir, None)
}

fn read_policy_dir_in(dir: &Path, repo: Option<&LocalRepo>) -> Result<Vec<PolicyFile>, Error> {
    let (root, relative) = confine(dir, repo);
    let mut files = Vec::new();
    for path in yaml_files_in(&root, &relative)? {
        let name = path.display().to_string();
        let bytes = read_bounded(&path, repo, policy::MAX_POLICY_BYTES)
            .map_err(|f| Diagnostics::from(f.named(&name)))?;
        files.push(PolicyFile { name, bytes });
    }
    Ok(files)
}
