//! The preview's [`World`] read through the read half of the port: what GitHub holds of the
//! tags, branches, releases and pull requests that plans touch. The dry-run previews with it;
//! execution reads back each effect and judges an operation in doubt with it.

use std::collections::BTreeSet;

use super::{GitHubError, GitHubRead, peel_tag};
use crate::plan::{ResolvedOperation, ResolvedPlan};
use crate::preview::{TagFact, World};

/// Reads what the plans touch, in few requests: the tag and branch lists once, the recent
/// releases once, then one lookup per release not among them and one per pull request.
/// Existing annotated tags that a plan names cost one more read each (to peel them).
pub async fn read_world(
    github: &impl GitHubRead,
    plans: &[&ResolvedPlan],
) -> Result<World, GitHubError> {
    let ops: Vec<&ResolvedOperation> = plans.iter().flat_map(|p| &p.operations).collect();
    let mut world = World::default();
    let named_tags: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::Tag { name, .. } => Some(name.as_str()),
            ResolvedOperation::Release { tag, .. } => Some(tag.as_str()),
            ResolvedOperation::PullRequest { .. } => None,
        })
        .collect();
    if !named_tags.is_empty() {
        for reference in github.matching_refs("tags/").await? {
            let Some(name) = reference.name.strip_prefix("refs/tags/") else {
                continue;
            };
            if !named_tags.contains(name) {
                continue;
            }
            let fact = match peel_tag(github, &reference).await? {
                Some(tag) => TagFact {
                    commit: tag.object_sha,
                    message: Some(tag.message),
                },
                None => TagFact {
                    commit: reference.object_sha.clone(),
                    message: None,
                },
            };
            world.tags.insert(name.to_owned(), fact);
        }
    }
    let release_tags: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::Release { tag, .. } => Some(tag.as_str()),
            _ => None,
        })
        .collect();
    if !release_tags.is_empty() {
        for release in github.recent_releases().await? {
            if release_tags.contains(release.tag_name.as_str()) {
                world.releases.insert(release.tag_name.clone(), release);
            }
        }
        for tag in release_tags {
            if !world.releases.contains_key(tag)
                && let Some(release) = github.published_release(tag).await?
            {
                world.releases.insert(tag.to_owned(), release);
            }
        }
    }
    let pulls: Vec<(&str, &str)> = ops
        .iter()
        .filter_map(|op| match op {
            ResolvedOperation::PullRequest { head, base, .. } => {
                Some((head.as_str(), base.as_str()))
            }
            _ => None,
        })
        .collect();
    if !pulls.is_empty() {
        for reference in github.matching_refs("heads/").await? {
            if let Some(name) = reference.name.strip_prefix("refs/heads/") {
                world
                    .branches
                    .insert(name.to_owned(), reference.object_sha.clone());
            }
        }
        for (head, base) in pulls {
            if let Some(pull) = github.open_pull(head, base).await? {
                world.pulls.insert((head.to_owned(), base.to_owned()), pull);
            }
        }
    }
    Ok(world)
}
