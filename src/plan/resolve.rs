//! Resolution (DESIGN 2): pins every name that can move, then computes the plan id.
//!
//! Tag targets and pull request branches become commit shas, release notes become a sha256,
//! and the plan id is the digest of the canonical JSON of `{version, repo, operations}`.
//! The repository is reached only through [`PlanSources`], so this stays a pure function.
//!
//! The file passes 600 lines only by its unit tests; the code is about 610 lines. Release
//! notes are read in [`super::notes`], what `target: merge` means in [`super::merge`].

use serde::Serialize;

use super::check::escape_for_message;
use super::merge::{Landing, TagTarget};
use super::notes::read_notes;
use super::{
    CheckedPlan, Notes, OpKind, Operation, Publish, PullRequestOp, ReleaseOp, TagOp, Target,
};
use crate::canonical::{self, sha256_prefixed};
use crate::diag::{Diagnostic, Diagnostics, InputErrorKind};
use crate::model::{CommitSha, OpKey, PlanId, RepoSlug};
use crate::yaml::{self, Document, Seg};

/// A file read for a plan (release notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceFile {
    /// The file's bytes.
    Found(Vec<u8>),
    /// No such file (or it leaves the repository).
    Missing,
    /// Larger than the reader's limit.
    TooLarge,
    /// The path, or a directory on it, is a symbolic link (named): refused, never followed.
    Symlink(String),
}

/// A failure of the underlying repository, not of the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// What resolution needs to read. Implemented over a local git repository; read-only.
pub trait PlanSources {
    /// A branch's commit (local branch first, then `origin/`).
    fn branch(&self, name: &str) -> Result<Option<CommitSha>, SourceError>;
    /// A tag's commit (annotated tags peeled).
    fn tag(&self, name: &str) -> Result<Option<CommitSha>, SourceError>;
    /// A full ref's commit (`refs/...`).
    fn full_ref(&self, name: &str) -> Result<Option<CommitSha>, SourceError>;
    /// Whether the commit exists.
    fn has_commit(&self, sha: &CommitSha) -> Result<bool, SourceError>;
    /// A repository-relative file.
    fn file(&self, path: &str) -> Result<SourceFile, SourceError>;
    /// Where the merge of the plan file `file` (which reads `content`) stands, for
    /// `target: merge` (DESIGN 13.7).
    fn landing(&self, file: &str, content: &[u8]) -> Result<Landing, SourceError>;
}

/// An operation with everything pinned. Its serialized form (without the skipped display
/// fields) is what the plan id, and later each receipt, binds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolvedOperation {
    /// A tag at a commit.
    Tag {
        /// Tag name.
        name: String,
        /// The commit it will point at, or the tree its merge carries.
        target: TagTarget,
        /// Annotated tag message (absent: lightweight tag).
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// The target as written in the plan (display only).
        #[serde(skip)]
        target_as_written: String,
    },
    /// A GitHub release for a tag.
    Release {
        /// The tag.
        tag: String,
        /// The commit the tag points at (or will, after the plan's tag operation).
        target: TagTarget,
        /// The title.
        title: String,
        /// sha256 of the notes text.
        notes_sha256: String,
        /// Draft release.
        draft: bool,
        /// Prerelease.
        prerelease: bool,
        /// When it is published; absent from the plan id when `on_create`, so plans written
        /// before the field existed keep their ids.
        #[serde(default, skip_serializing_if = "Publish::is_on_create")]
        publish: Publish,
        /// Where the notes came from (display only).
        #[serde(skip)]
        notes_source: String,
        /// The notes text (needed to ship; bound through `notes_sha256`).
        #[serde(skip)]
        notes: String,
    },
    /// A pull request between two branches.
    PullRequest {
        /// Head branch.
        head: String,
        /// Head commit.
        head_sha: CommitSha,
        /// Base branch.
        base: String,
        /// Base commit.
        base_sha: CommitSha,
        /// Title.
        title: String,
        /// Body.
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Draft.
        draft: bool,
    },
}

impl ResolvedOperation {
    /// The kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Self::Tag { .. } => OpKind::Tag,
            Self::Release { .. } => OpKind::Release,
            Self::PullRequest { .. } => OpKind::PullRequest,
        }
    }

    /// The operation key (DESIGN 2).
    pub fn key(&self) -> OpKey {
        match self {
            Self::Tag { name, .. } => OpKey::tag(name),
            Self::Release { tag, .. } => OpKey::release(tag),
            Self::PullRequest { head, base, .. } => OpKey::pull_request(head, base),
        }
    }

    /// One line saying what this operation does, with its pinned shas.
    pub fn summary(&self) -> String {
        match self {
            Self::Tag {
                name,
                target,
                message,
                target_as_written,
            } => {
                let style = if message.is_some() {
                    "annotated tag"
                } else {
                    "tag"
                };
                let from = match target {
                    TagTarget::Commit(sha) if target_as_written != sha.as_str() => {
                        format!(" ({target_as_written})")
                    }
                    _ => String::new(),
                };
                format!("{style} {name} at {}{from}", target.describe())
            }
            Self::Release {
                tag,
                target,
                title,
                draft,
                prerelease,
                publish,
                notes_source,
                ..
            } => {
                let mut flags = Vec::new();
                if *draft {
                    flags.push("draft");
                }
                if *publish == Publish::AfterAssets {
                    flags.push("draft until its assets are attached");
                }
                if *prerelease {
                    flags.push("prerelease");
                }
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(", {}", flags.join(", "))
                };
                format!(
                    "release \"{title}\" for tag {tag} at {}, notes {notes_source}{flags}",
                    target.describe()
                )
            }
            Self::PullRequest {
                head,
                head_sha,
                base,
                base_sha,
                title,
                draft,
                ..
            } => {
                let draft = if *draft { "draft " } else { "" };
                format!(
                    "{draft}pull request \"{title}\": {head} ({}) into {base} ({})",
                    head_sha.short(12),
                    base_sha.short(12)
                )
            }
        }
    }
}

/// A plan with everything pinned, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPlan {
    /// The plan file.
    pub file: String,
    /// The optional display name.
    pub name: Option<String>,
    /// The repository the plan ships to.
    pub repo: RepoSlug,
    /// The pinned operations, in plan order.
    pub operations: Vec<ResolvedOperation>,
    /// The policy view of each operation (kind and ref), in plan order.
    pub checked: Vec<Operation>,
    /// `sha256:` of the canonical `{version, repo, operations}`.
    pub id: PlanId,
}

#[derive(Serialize)]
struct PlanIdInput<'a> {
    version: u32,
    repo: &'a RepoSlug,
    operations: &'a [ResolvedOperation],
}

#[cfg(test)]
impl ResolvedPlan {
    /// A plan of `acme/widget` in `p.yaml` holding `operations`, with its real id: what the
    /// unit tests of the modules that judge plans start from.
    pub(crate) fn for_tests(operations: Vec<ResolvedOperation>) -> Self {
        let repo = RepoSlug::parse("acme/widget").expect("slug");
        Self {
            file: "p.yaml".into(),
            name: None,
            id: plan_id(&repo, &operations),
            repo,
            operations,
            checked: Vec::new(),
        }
    }
}

/// Computes the plan id of pinned operations for a repository (DESIGN 2).
pub fn plan_id(repo: &RepoSlug, operations: &[ResolvedOperation]) -> PlanId {
    let text = canonical::to_canonical_json(&PlanIdInput {
        version: 1,
        repo,
        operations,
    })
    .expect("resolved operations hold only strings, booleans and integers");
    PlanId::from_digest(sha256_prefixed(text.as_bytes()))
        .expect("sha256_prefixed yields a well-formed digest")
}

/// Resolves a checked plan against a repository: each operation in plan order, every problem
/// reported together. A merged `target: merge` resolves to the earliest commit carrying the
/// plan (the executor, which knows the approved plan id, uses [`resolve_plan_approved`]).
pub fn resolve_plan(
    plan: &CheckedPlan,
    repo: &RepoSlug,
    sources: &dyn PlanSources,
) -> Result<ResolvedPlan, Diagnostics> {
    let landing = landing_of(plan, sources)?;
    resolve_choice(plan, repo, sources, landing.as_ref(), 0)
}

/// [`resolve_plan`] for a run whose plan id is `approved`: a merged `target: merge` resolves
/// to the first commit carrying the plan whose tree gives that id (DESIGN 13.7). When none
/// does, the earliest commit's resolution is returned, whose id then differs: stale.
pub fn resolve_plan_approved(
    plan: &CheckedPlan,
    repo: &RepoSlug,
    sources: &dyn PlanSources,
    approved: &PlanId,
) -> Result<ResolvedPlan, Diagnostics> {
    let Some(landing) = landing_of(plan, sources)? else {
        return resolve_choice(plan, repo, sources, None, 0);
    };
    let mut earliest = None;
    for pick in landing.distinct_choices() {
        let resolved = resolve_choice(plan, repo, sources, Some(&landing), pick)?;
        if resolved.id == *approved {
            return Ok(resolved);
        }
        earliest.get_or_insert(resolved);
    }
    match earliest {
        Some(resolved) => Ok(resolved),
        None => resolve_choice(plan, repo, sources, Some(&landing), 0),
    }
}

/// Where the plan's merge stands, read only when a tag targets `merge`.
fn landing_of(
    plan: &CheckedPlan,
    sources: &dyn PlanSources,
) -> Result<Option<Landing>, Diagnostics> {
    let merges = plan.operations.iter().any(|op| {
        matches!(
            op,
            Operation::Tag(TagOp {
                target: Target::Merge,
                ..
            })
        )
    });
    if !merges {
        return Ok(None);
    }
    sources
        .landing(&plan.file, plan.source.as_bytes())
        .map(Some)
        .map_err(|e| {
            Diagnostics::from(Diagnostic::whole_file(
                InputErrorKind::Unreadable,
                &plan.file,
                format!("cannot read the repository: {e}"),
            ))
        })
}

/// Resolves with choice `pick` of `landing` for the merge targets.
fn resolve_choice(
    plan: &CheckedPlan,
    repo: &RepoSlug,
    sources: &dyn PlanSources,
    landing: Option<&Landing>,
    pick: usize,
) -> Result<ResolvedPlan, Diagnostics> {
    let doc = yaml::document(&plan.file, plan.source.as_bytes(), usize::MAX)?;
    let mut resolver = Resolver {
        doc: &doc,
        plan,
        sources,
        merge: landing.and_then(|l| l.target(pick)),
        problems: Vec::new(),
        resolved: Vec::with_capacity(plan.operations.len()),
    };
    for (index, op) in plan.operations.iter().enumerate() {
        match op {
            Operation::Tag(tag) => resolver.tag(index, tag),
            Operation::Release(release) => resolver.release(index, release),
            Operation::PullRequest(pr) => resolver.pull_request(index, pr),
        }
    }
    let Resolver {
        problems, resolved, ..
    } = resolver;
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let id = plan_id(repo, &resolved);
    Ok(ResolvedPlan {
        file: plan.file.clone(),
        name: plan.name.clone(),
        repo: repo.clone(),
        operations: resolved,
        checked: plan.operations.clone(),
        id,
    })
}

/// A plan being resolved: the operations resolved so far, in plan order, and the problems.
struct Resolver<'a, 'd> {
    doc: &'a Document<'d>,
    plan: &'a CheckedPlan,
    sources: &'a dyn PlanSources,
    /// What `target: merge` resolves to (none: no tag targets it).
    merge: Option<TagTarget>,
    problems: Vec<Diagnostic>,
    resolved: Vec<ResolvedOperation>,
}

impl Resolver<'_, '_> {
    fn at(index: usize, field: &'static str) -> [Seg<'static>; 3] {
        [Seg::Key("operations"), Seg::Index(index), Seg::Key(field)]
    }

    fn repo_failure(&self, e: SourceError) -> Diagnostic {
        Diagnostic::whole_file(
            InputErrorKind::Unreadable,
            &self.plan.file,
            format!("cannot read the repository: {e}"),
        )
    }

    /// A tag's target: a commit of the repository, a full ref, or a branch or tag (not both).
    fn tag(&mut self, index: usize, tag: &TagOp) {
        let (doc, sources) = (self.doc, self.sources);
        let written = match &tag.target {
            Target::Commit(sha) => sha.to_string(),
            Target::Ref(name) => name.clone(),
            Target::Merge => "merge".to_owned(),
        };
        let found = match &tag.target {
            Target::Merge => {
                self.merge_tag(index, tag, written);
                return;
            }
            Target::Commit(sha) => sources
                .has_commit(sha)
                .map(|ok| ok.then(|| sha.clone()))
                .map_err(Ambiguity::Source),
            Target::Ref(name) if name.starts_with("refs/") => {
                sources.full_ref(name).map_err(Ambiguity::Source)
            }
            Target::Ref(name) => resolve_branch_or_tag(sources, name),
        };
        let at = Self::at(index, "target");
        match found {
            Ok(Some(commit)) => self.resolved.push(ResolvedOperation::Tag {
                name: tag.name.clone(),
                target: TagTarget::Commit(commit),
                message: tag.message.clone(),
                target_as_written: written,
            }),
            Ok(None) => self.problems.push(
                doc.error_at(
                    &at,
                    InputErrorKind::UnknownRef,
                    format!("target `{}` is not a branch, tag or commit of this repository", escape_for_message(&written)),
                )
                .with_hint("fetch it (git fetch origin), or use a full commit sha"),
            ),
            Err(Ambiguity::Both { branch, tag: tagged }) => self.problems.push(
                doc.error_at(
                    &at,
                    InputErrorKind::UnknownRef,
                    format!("target `{written}` is ambiguous: a branch ({branch}) and a tag ({tagged}) have that name"),
                )
                .with_hint(format!("write refs/heads/{written} or refs/tags/{written}")),
            ),
            Err(Ambiguity::Source(e)) => {
                let failure = self.repo_failure(e);
                self.problems.push(failure);
            }
        }
    }

    /// A `target: merge` tag: the tree approved, and the commit carrying it once merged.
    fn merge_tag(&mut self, index: usize, tag: &TagOp, written: String) {
        match self.merge.clone() {
            Some(target) => self.resolved.push(ResolvedOperation::Tag {
                name: tag.name.clone(),
                target,
                message: tag.message.clone(),
                target_as_written: written,
            }),
            None => self.problems.push(
                self.doc
                    .error_at(
                        &Self::at(index, "target"),
                        InputErrorKind::UnknownRef,
                        "cannot tell which commit carries the merge of this plan",
                    )
                    .with_hint("fetch the default branch (git fetch origin) and retry"),
            ),
        }
    }

    /// A release's tag (from an earlier tag operation of this plan, or already in the
    /// repository) and its notes.
    fn release(&mut self, index: usize, release: &ReleaseOp) {
        let target = self.release_target(index, release);
        let notes = match &release.notes {
            Notes::Empty => Ok((String::new(), "empty".to_owned())),
            Notes::Inline(text) => Ok((text.clone(), "inline".to_owned())),
            Notes::File(path) => read_notes(self.sources, path)
                .map(|text| (text, path.clone()))
                .map_err(|(kind, message, hint)| {
                    self.doc
                        .error_at(&Self::at(index, "notes_file"), kind, message)
                        .with_hint(hint)
                }),
        };
        match (target, notes) {
            (Some(target), Ok((notes, notes_source))) => {
                self.resolved.push(ResolvedOperation::Release {
                    tag: release.tag.clone(),
                    target,
                    title: release.title.clone(),
                    notes_sha256: crate::canonical::sha256_hex(notes.as_bytes()),
                    draft: release.draft,
                    prerelease: release.prerelease,
                    publish: release.publish,
                    notes_source,
                    notes,
                })
            }
            (_, Err(d)) => self.problems.push(d),
            (None, Ok(_)) => {}
        }
    }

    /// The commit a release's tag names: the target of an earlier tag operation of this plan,
    /// or the existing tag. A tag operation later in the plan is an ordering problem.
    fn release_target(&mut self, index: usize, release: &ReleaseOp) -> Option<TagTarget> {
        let operations = &self.plan.operations;
        let from_plan = operations[..index]
            .iter()
            .position(|o| matches!(o, Operation::Tag(t) if t.name == release.tag));
        let later_tag_op = operations[index + 1..]
            .iter()
            .any(|o| matches!(o, Operation::Tag(t) if t.name == release.tag));
        let at = Self::at(index, "tag");
        if let Some(tag_index) = from_plan {
            return match self.resolved.get(tag_index) {
                Some(ResolvedOperation::Tag { target, .. }) => Some(target.clone()),
                _ => None,
            };
        }
        if later_tag_op {
            self.problems.push(
                self.doc
                    .error_at(
                        &at,
                        InputErrorKind::InvalidValue,
                        format!(
                            "the release for `{}` comes before the operation that creates its tag",
                            release.tag
                        ),
                    )
                    .with_hint("move the tag operation above the release"),
            );
            return None;
        }
        match self.sources.tag(&release.tag) {
            Ok(Some(sha)) => Some(TagTarget::Commit(sha)),
            Ok(None) => {
                self.problems.push(
                    self.doc.error_at(&at, InputErrorKind::UnknownRef, format!("tag `{}` does not exist and no operation of this plan creates it", release.tag))
                        .with_hint("add a tag operation before the release, or fetch the tag (git fetch --tags)"),
                );
                None
            }
            Err(e) => {
                let failure = self.repo_failure(e);
                self.problems.push(failure);
                None
            }
        }
    }

    /// A pull request's head and base: existing branches.
    fn pull_request(&mut self, index: usize, pr: &PullRequestOp) {
        let head_sha = self.branch(index, "head", &pr.head);
        let base_sha = self.branch(index, "base", &pr.base);
        if let (Some(head_sha), Some(base_sha)) = (head_sha, base_sha) {
            self.resolved.push(ResolvedOperation::PullRequest {
                head: pr.head.clone(),
                head_sha,
                base: pr.base.clone(),
                base_sha,
                title: pr.title.clone(),
                body: pr.body.clone(),
                draft: pr.draft,
            });
        }
    }

    fn branch(&mut self, index: usize, field: &'static str, name: &str) -> Option<CommitSha> {
        match self.sources.branch(name) {
            Ok(Some(sha)) => Some(sha),
            Ok(None) => {
                self.problems.push(
                    self.doc
                        .error_at(
                            &Self::at(index, field),
                            InputErrorKind::UnknownRef,
                            format!("branch `{name}` does not exist in this repository"),
                        )
                        .with_hint(format!("push or fetch it first (git fetch origin {name})")),
                );
                None
            }
            Err(e) => {
                let failure = self.repo_failure(e);
                self.problems.push(failure);
                None
            }
        }
    }
}

enum Ambiguity {
    Source(SourceError),
    Both { branch: String, tag: String },
}

fn resolve_branch_or_tag(
    sources: &dyn PlanSources,
    name: &str,
) -> Result<Option<CommitSha>, Ambiguity> {
    let branch = sources.branch(name).map_err(Ambiguity::Source)?;
    let tag = sources.tag(name).map_err(Ambiguity::Source)?;
    match (branch, tag) {
        (Some(b), Some(t)) if b != t => Err(Ambiguity::Both {
            branch: b.short(12).to_owned(),
            tag: t.short(12).to_owned(),
        }),
        (Some(b), _) => Ok(Some(b)),
        (None, t) => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TreeSha;
    use crate::plan::check_plan;

    /// A repository of branches `main` and `both`, tags `v1.0` and `both`.
    struct Sources;

    fn sha(c: char) -> CommitSha {
        CommitSha::parse(&c.to_string().repeat(40)).unwrap()
    }

    impl PlanSources for Sources {
        fn branch(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Ok(matches!(name, "main" | "both").then(|| sha('a')))
        }
        fn tag(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Ok(matches!(name, "v1.0" | "both").then(|| sha('b')))
        }
        fn full_ref(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Ok((name == "refs/heads/main").then(|| sha('a')))
        }
        fn has_commit(&self, commit: &CommitSha) -> Result<bool, SourceError> {
            Ok(*commit == sha('c'))
        }
        fn file(&self, _: &str) -> Result<SourceFile, SourceError> {
            Ok(SourceFile::Missing)
        }
        fn landing(&self, _: &str, _: &[u8]) -> Result<Landing, SourceError> {
            Ok(Landing::Unmerged {
                head: sha('d'),
                tree: TreeSha::parse(&"e".repeat(40)).unwrap(),
                from: crate::plan::HeadKind::PullRequest,
            })
        }
    }

    fn resolve(operations: &str) -> Result<ResolvedPlan, Vec<(usize, String)>> {
        let text = format!("version: 1\noperations:\n{operations}");
        let checked = check_plan("p.yaml", text.as_bytes()).unwrap();
        let repo = RepoSlug::parse("acme/widget").unwrap();
        resolve_plan(&checked, &repo, &Sources)
            .map_err(|d| d.0.into_iter().map(|d| (d.line, d.message)).collect())
    }

    #[test]
    fn targets_resolve_to_commits_and_a_release_takes_its_tag_from_the_plan() {
        let plan = resolve(
            "  - { kind: tag, name: v2.0, target: refs/heads/main }\n  - { kind: tag, name: v2.1, target: cccccccccccccccccccccccccccccccccccccccc }\n  - { kind: release, tag: v2.1 }\n  - { kind: release, tag: v1.0 }\n  - { kind: pull_request, head: both, base: main, title: t }\n",
        )
        .unwrap();
        let targets: Vec<&CommitSha> = plan
            .operations
            .iter()
            .filter_map(|op| match op {
                ResolvedOperation::Tag { target, .. }
                | ResolvedOperation::Release { target, .. } => target.commit(),
                ResolvedOperation::PullRequest { head_sha, .. } => Some(head_sha),
            })
            .collect();
        assert_eq!(
            targets,
            [&sha('a'), &sha('c'), &sha('c'), &sha('b'), &sha('a')]
        );
    }

    /// [`Sources`] whose plan merged as `landing` says.
    struct Merged(Landing);

    impl PlanSources for Merged {
        fn branch(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Sources.branch(name)
        }
        fn tag(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Sources.tag(name)
        }
        fn full_ref(&self, name: &str) -> Result<Option<CommitSha>, SourceError> {
            Sources.full_ref(name)
        }
        fn has_commit(&self, commit: &CommitSha) -> Result<bool, SourceError> {
            Sources.has_commit(commit)
        }
        fn file(&self, path: &str) -> Result<SourceFile, SourceError> {
            Sources.file(path)
        }
        fn landing(&self, _: &str, _: &[u8]) -> Result<Landing, SourceError> {
            Ok(self.0.clone())
        }
    }

    const MERGE_PLAN: &str = "version: 1\noperations:\n  - { kind: tag, name: v2.0, target: merge }\n  - { kind: release, tag: v2.0 }\n";

    fn tree(c: char) -> TreeSha {
        TreeSha::parse(&c.to_string().repeat(40)).unwrap()
    }

    fn landed(commits: &[(char, char)]) -> Merged {
        Merged(Landing::Landed(
            commits
                .iter()
                .map(|&(c, t)| crate::plan::LandedCommit {
                    commit: sha(c),
                    tree: tree(t),
                })
                .collect(),
        ))
    }

    fn merge_plan(sources: &dyn PlanSources, approved: Option<&PlanId>) -> ResolvedPlan {
        let checked = check_plan("p.yaml", MERGE_PLAN.as_bytes()).unwrap();
        let repo = RepoSlug::parse("acme/widget").unwrap();
        match approved {
            Some(id) => resolve_plan_approved(&checked, &repo, sources, id).unwrap(),
            None => resolve_plan(&checked, &repo, sources).unwrap(),
        }
    }

    fn tag_commit(plan: &ResolvedPlan) -> Option<&CommitSha> {
        match &plan.operations[0] {
            ResolvedOperation::Tag { target, .. } => target.commit(),
            _ => None,
        }
    }

    #[test]
    fn a_merge_target_binds_the_head_tree_and_its_release_follows_it() {
        let plan = merge_plan(&Sources, None);
        let id_input = canonical::to_canonical_json(&plan.operations).unwrap();
        let tree = "e".repeat(40);
        assert!(
            id_input.contains(&format!("\"target\":{{\"merge_tree\":\"{tree}\"}}")),
            "{id_input}"
        );
        assert_eq!(
            id_input.matches("merge_tree").count(),
            2,
            "the release binds the tag's tree too"
        );
        assert_eq!(tag_commit(&plan), None, "nothing to tag before the merge");
        assert_eq!(
            plan.operations[1].summary(),
            "release \"v2.0\" for tag v2.0 at merge (tree eeeeeeeeeeee of the pull request head dddddddddddd), notes empty"
        );
    }

    #[test]
    fn after_the_merge_the_commit_carrying_the_approved_tree_is_tagged() {
        // Approved on the pull request: its head's tree is `b`.
        let approved = merge_plan(
            &Merged(Landing::Unmerged {
                head: sha('9'),
                tree: tree('b'),
                from: crate::plan::HeadKind::PullRequest,
            }),
            None,
        )
        .id;
        // Rebased: the plan landed in `1` (tree a), the pull request's last commit is `2`
        // (tree b), a later merge made `3`.
        let merged = landed(&[('1', 'a'), ('2', 'b'), ('3', 'c')]);
        let plan = merge_plan(&merged, Some(&approved));
        assert_eq!(plan.id, approved);
        assert_eq!(tag_commit(&plan), Some(&sha('2')));
        match &plan.operations[1] {
            ResolvedOperation::Release { target, .. } => {
                assert_eq!(target.commit(), Some(&sha('2')))
            }
            other => panic!("{other:?}"),
        }
        // Without the approved id, the earliest commit carrying the plan.
        assert_eq!(tag_commit(&merge_plan(&merged, None)), Some(&sha('1')));
    }

    #[test]
    fn a_merge_without_the_approved_tree_resolves_to_another_id() {
        let approved = merge_plan(&landed(&[('2', 'b')]), None).id;
        // Merged behind its base: the merge commit's tree also holds the base's new commit.
        let plan = merge_plan(&landed(&[('4', 'd'), ('5', 'f')]), Some(&approved));
        assert_ne!(plan.id, approved, "stale");
        assert_eq!(tag_commit(&plan), Some(&sha('4')));
    }

    #[test]
    fn every_unresolvable_operation_is_reported_at_its_line() {
        let problems = resolve(
            "  - { kind: tag, name: v3, target: nowhere }\n  - { kind: tag, name: v4, target: both }\n  - { kind: release, tag: v5 }\n  - { kind: tag, name: v5, target: main }\n  - { kind: release, tag: v6 }\n  - { kind: pull_request, head: gone, base: main, title: t }\n",
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                (
                    3,
                    "target `nowhere` is not a branch, tag or commit of this repository".into()
                ),
                (
                    4,
                    "target `both` is ambiguous: a branch (aaaaaaaaaaaa) and a tag (bbbbbbbbbbbb) have that name".into()
                ),
                (
                    5,
                    "the release for `v5` comes before the operation that creates its tag".into()
                ),
                (
                    7,
                    "tag `v6` does not exist and no operation of this plan creates it".into()
                ),
                (
                    8,
                    "branch `gone` does not exist in this repository".into()
                ),
            ]
        );
    }
}
