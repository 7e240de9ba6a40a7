//! `target: merge` (DESIGN 13.7, issue 17): a tag at the commit that lands on the default
//! branch when the plan's pull request merges.
//!
//! Approvers approve content, not a commit that does not exist yet: on the pull request the
//! target is the **tree** of the commit the plan is read from, and the plan id binds that
//! tree. After the merge, the candidates are the first-parent commits of the default branch
//! that carry the plan file as it reads now (from where it appeared, while it is unchanged),
//! and the target is the first of them whose tree is the approved one. Merge commit, squash
//! and rebase of an up-to-date pull request all produce such a commit; a pull request merged
//! behind its base does not, and no plan id then matches the receipt's: stale. Later merges
//! come after the qualifying commit, so they never make it stale.
//!
//! This module is pure: what the repository holds arrives as a [`Landing`].

use serde::Serialize;

use crate::model::{CommitSha, TreeSha};

/// Where the plan's merge stands, as the repository shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    /// Not merged yet: the plan is read from `head` (a pull request's head, or locally HEAD),
    /// whose tree the merge is to carry.
    Unmerged {
        /// The commit the plan is read from.
        head: CommitSha,
        /// Its tree.
        tree: TreeSha,
        /// What `head` is, for reports.
        from: HeadKind,
    },
    /// Merged: the first-parent commits of the default branch carrying the plan file as it
    /// reads now, oldest first (never empty).
    Landed(Vec<LandedCommit>),
}

/// What the commit of an unmerged plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// A pull request's head (mint, the dry run of a pull request).
    PullRequest,
    /// The local checkout's HEAD (a dry run on a branch of one's own: what the merge would
    /// carry if the branch merged as it is).
    Local,
}

/// A commit of the default branch and its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedCommit {
    /// The commit.
    pub commit: CommitSha,
    /// Its tree.
    pub tree: TreeSha,
}

/// What a tag (and a release of it) points at once resolved.
///
/// Serialized for the plan id as the commit sha (so plans with commit or branch targets keep
/// their ids byte for byte), or as `{"merge_tree": "<tree>"}` for `target: merge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TagTarget {
    /// A commit.
    Commit(CommitSha),
    /// The merge of the plan's pull request.
    Merge(MergeTarget),
}

/// A `target: merge` resolved: the tree approved, and the commit that carries it once merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeTarget {
    /// The tree the plan id binds.
    pub merge_tree: TreeSha,
    /// Where the merge stands (not part of the plan id).
    #[serde(skip)]
    pub state: MergeState,
}

/// Before or after the merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeState {
    /// Not merged: the tree is `head`'s.
    Unmerged {
        /// The commit read.
        head: CommitSha,
        /// What it is.
        from: HeadKind,
    },
    /// Merged at this default-branch commit, the one the tag points at.
    Landed(CommitSha),
}

impl TagTarget {
    /// The commit the tag points at; none for a merge that has not happened.
    pub fn commit(&self) -> Option<&CommitSha> {
        match self {
            Self::Commit(sha) => Some(sha),
            Self::Merge(MergeTarget {
                state: MergeState::Landed(sha),
                ..
            }) => Some(sha),
            Self::Merge(_) => None,
        }
    }

    /// The target for reports: `abc123456789`, or `merge (tree ... of the pull request head
    /// ...)` before the merge and `abc123456789 (merge, tree ...)` after it.
    pub fn describe(&self) -> String {
        match self {
            Self::Commit(sha) => sha.short(12).to_owned(),
            Self::Merge(MergeTarget {
                merge_tree,
                state: MergeState::Unmerged { head, from },
            }) => {
                let of = match from {
                    HeadKind::PullRequest => "the pull request head",
                    HeadKind::Local => "HEAD",
                };
                format!(
                    "merge (tree {} of {of} {})",
                    merge_tree.short(12),
                    head.short(12)
                )
            }
            Self::Merge(MergeTarget {
                merge_tree,
                state: MergeState::Landed(sha),
            }) => format!("{} (merge, tree {})", sha.short(12), merge_tree.short(12)),
        }
    }

    /// A merge target whose pull request has merged.
    pub fn is_landed_merge(&self) -> bool {
        matches!(
            self,
            Self::Merge(MergeTarget {
                state: MergeState::Landed(_),
                ..
            })
        )
    }

    /// A merge target whose pull request has not merged.
    pub fn is_unmerged(&self) -> bool {
        matches!(self, Self::Merge(_)) && self.commit().is_none()
    }
}

impl Landing {
    /// How many distinct targets the landing offers, each a choice for [`Self::target`]: one
    /// before the merge, one per landed commit after it.
    pub fn choices(&self) -> usize {
        match self {
            Self::Unmerged { .. } => 1,
            Self::Landed(commits) => commits.len(),
        }
    }

    /// The target of choice `pick` (0 for the earliest commit), if there is such a choice.
    pub fn target(&self, pick: usize) -> Option<TagTarget> {
        match self {
            Self::Unmerged { head, tree, from } => (pick == 0).then(|| {
                TagTarget::Merge(MergeTarget {
                    merge_tree: tree.clone(),
                    state: MergeState::Unmerged {
                        head: head.clone(),
                        from: *from,
                    },
                })
            }),
            Self::Landed(commits) => commits.get(pick).map(|landed| {
                TagTarget::Merge(MergeTarget {
                    merge_tree: landed.tree.clone(),
                    state: MergeState::Landed(landed.commit.clone()),
                })
            }),
        }
    }

    /// The choices worth resolving: the first commit of each run of equal trees (a later
    /// commit with the same tree would bind the same plan id).
    pub fn distinct_choices(&self) -> Vec<usize> {
        match self {
            Self::Unmerged { .. } => vec![0],
            Self::Landed(commits) => (0..commits.len())
                .filter(|&i| !commits[..i].iter().any(|c| c.tree == commits[i].tree))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(c: char) -> CommitSha {
        CommitSha::parse(&c.to_string().repeat(40)).unwrap()
    }

    fn tree(c: char) -> TreeSha {
        TreeSha::parse(&c.to_string().repeat(40)).unwrap()
    }

    #[test]
    fn a_commit_target_serializes_as_its_sha_and_a_merge_target_as_its_tree() {
        let sha = serde_json::to_string(&TagTarget::Commit(commit('a'))).unwrap();
        assert_eq!(sha, format!("\"{}\"", "a".repeat(40)));
        let landing = Landing::Landed(vec![LandedCommit {
            commit: commit('c'),
            tree: tree('e'),
        }]);
        let merge = serde_json::to_string(&landing.target(0).unwrap()).unwrap();
        assert_eq!(merge, format!("{{\"merge_tree\":\"{}\"}}", "e".repeat(40)));
    }

    #[test]
    fn equal_trees_are_one_choice_and_an_unmerged_target_has_no_commit() {
        let landing = Landing::Landed(vec![
            LandedCommit {
                commit: commit('1'),
                tree: tree('a'),
            },
            LandedCommit {
                commit: commit('2'),
                tree: tree('b'),
            },
            LandedCommit {
                commit: commit('3'),
                tree: tree('a'),
            },
        ]);
        assert_eq!(landing.distinct_choices(), [0, 1]);
        assert_eq!(landing.target(1).unwrap().commit(), Some(&commit('2')));
        let unmerged = Landing::Unmerged {
            head: commit('4'),
            tree: tree('d'),
            from: HeadKind::Local,
        };
        let target = unmerged.target(0).unwrap();
        assert!(target.is_unmerged());
        assert_eq!(
            target.describe(),
            "merge (tree dddddddddddd of HEAD 444444444444)"
        );
    }
}
