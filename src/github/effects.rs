//! The effect half of the GitHub port: [`GitHubShipper`], the only implementation of
//! [`GitHubEffects`]. It takes nothing but the gate's [`Authorized`], by value, and performs
//! the operation the pass carries, so what ships is exactly what was approved, once per pass.
//! A read-only holder of a [`GitHubClient`] (the dry-run) has no way to ship.
//!
//! Every write is settled: after an ambiguous failure the world is read back, and an effect
//! found as approved counts as done (`recovered`), never repeated.

use http::Method;
use serde_json::json;

use super::capability::PullRequestRefusal;
use super::client::{Failure, GitHubClient};
use super::error::GitHubError;
use super::types::{
    GitRef, NewPullRequest, NewRelease, PullRequest, Release, Shipped, TagObject, WirePull,
    WireRef, WireRelease, WireTag, Written,
};
use super::{GitHubEffects, GitHubRead};
use crate::gate::Authorized;
use crate::model::CommitSha;
use crate::plan::ResolvedOperation;

/// The effect half over a [`GitHubClient`]: what execution holds, and nothing else does.
#[derive(Debug, Clone, Copy)]
pub struct GitHubShipper<'a> {
    pub(super) client: &'a GitHubClient,
}

impl<'a> GitHubShipper<'a> {
    /// Ships through `client`.
    pub fn new(client: &'a GitHubClient) -> Self {
        Self { client }
    }
}

/// The gate never passes an unmerged `target: merge` (NOT_MERGED); the effect refuses one too
/// rather than guess a commit.
fn unmerged_tag(name: &str) -> GitHubError {
    GitHubError::Rejected {
        what: format!("create tag {name}"),
        status: 422,
        message: "its `target: merge` has not merged yet".into(),
    }
}

impl GitHubEffects for GitHubShipper<'_> {
    async fn pull_request_refusal(
        &self,
        base: &str,
    ) -> Result<Option<PullRequestRefusal>, GitHubError> {
        self.client.pull_request_refusal(base).await
    }

    async fn ship(&self, pass: Authorized) -> Result<Written<Shipped>, GitHubError> {
        match pass.into_operation() {
            ResolvedOperation::Tag {
                name,
                target,
                message: None,
                ..
            } => self
                .create_tag_ref(&name, target.commit().ok_or_else(|| unmerged_tag(&name))?)
                .await
                .map(|w| w.map(Shipped::Tag)),
            ResolvedOperation::Tag {
                name,
                target,
                message: Some(message),
                ..
            } => self
                .create_annotated_tag(
                    &name,
                    &message,
                    target.commit().ok_or_else(|| unmerged_tag(&name))?,
                )
                .await
                .map(|w| w.map(Shipped::AnnotatedTag)),
            ResolvedOperation::Release {
                tag,
                title,
                notes,
                draft,
                prerelease,
                publish,
                ..
            } => {
                let release = NewRelease {
                    tag_name: &tag,
                    name: &title,
                    body: &notes,
                    draft: publish.creates_draft(draft),
                    prerelease,
                };
                self.create_release(&release)
                    .await
                    .map(|w| w.map(Shipped::Release))
            }
            ResolvedOperation::PullRequest {
                head,
                base,
                title,
                body,
                draft,
                ..
            } => {
                let pull = NewPullRequest {
                    title: &title,
                    head: &head,
                    base: &base,
                    body: body.as_deref().unwrap_or_default(),
                    draft,
                };
                self.create_pull(&pull)
                    .await
                    .map(|w| w.map(Shipped::PullRequest))
            }
        }
    }
}

impl GitHubShipper<'_> {
    /// A lightweight tag: `refs/tags/<name>` at `target`.
    async fn create_tag_ref(
        &self,
        name: &str,
        target: &CommitSha,
    ) -> Result<Written<GitRef>, GitHubError> {
        let what = format!("create tag {name}");
        self.create_ref_settled(&what, name, target.as_str(), "commit")
            .await
    }

    /// An annotated tag: a tag object for `target` with `message`, and its ref.
    async fn create_annotated_tag(
        &self,
        name: &str,
        message: &str,
        target: &CommitSha,
    ) -> Result<Written<TagObject>, GitHubError> {
        let what = format!("create annotated tag {name}");
        let body = json!({
            "tag": name, "message": message, "object": target.as_str(), "type": "commit"
        });
        // The tag object alone is invisible (no ref names it), so an ambiguous failure here has
        // no effect worth reading back: it is reported, and a re-run makes a fresh object.
        let object: TagObject = match self
            .client
            .write_json::<WireTag>(
                Method::POST,
                &self.client.repo_path("/git/tags"),
                &body,
                &what,
            )
            .await
        {
            Ok(wire) => wire.into(),
            Err(Failure::Definite(e)) => return Err(e),
            Err(Failure::Ambiguous(detail)) => {
                return Err(GitHubError::Ambiguous { what, detail });
            }
        };
        let written = self
            .create_ref_settled(&what, name, &object.sha, "tag")
            .await?;
        if written.recovered {
            // The ref found may name an earlier attempt's object: report that one.
            let found = super::peel_tag(self.client, &written.value).await?;
            return found
                .filter(|t| t.object_sha == target.as_str() && t.tag == name)
                .map(|value| Written {
                    value,
                    recovered: true,
                })
                .ok_or(GitHubError::AlreadyExists {
                    what,
                    message: "the tag exists but does not carry the approved commit".to_owned(),
                });
        }
        Ok(Written {
            value: object,
            recovered: false,
        })
    }

    /// A release of an existing tag (never one that creates its tag).
    async fn create_release(
        &self,
        release: &NewRelease<'_>,
    ) -> Result<Written<Release>, GitHubError> {
        let what = format!("create the release of {}", release.tag_name);
        // Never let GitHub create the tag implicitly from `target_commitish`: the tag must exist.
        if self
            .client
            .git_ref(&format!("tags/{}", release.tag_name))
            .await?
            .is_none()
        {
            return Err(GitHubError::Rejected {
                what,
                status: 0,
                message: format!(
                    "tag {} does not exist on GitHub; shipgate never lets a release create its tag",
                    release.tag_name
                ),
            });
        }
        let body = json!({
            "tag_name": release.tag_name, "name": release.name, "body": release.body,
            "draft": release.draft, "prerelease": release.prerelease,
        });
        let path = self.client.repo_path("/releases");
        self.client
            .write_settled(
                &what,
                async || {
                    self.client
                        .write_json::<WireRelease>(Method::POST, &path, &body, &what)
                        .await
                        .map(Release::from)
                },
                async || super::find_release(self.client, release.tag_name).await,
                |found| {
                    found.name.as_deref().unwrap_or_default() == release.name
                        && found.body.as_deref().unwrap_or_default() == release.body
                        && found.draft == release.draft
                        && found.prerelease == release.prerelease
                },
            )
            .await
    }

    /// A pull request.
    async fn create_pull(
        &self,
        pull: &NewPullRequest<'_>,
    ) -> Result<Written<PullRequest>, GitHubError> {
        let what = format!("open the pull request {} -> {}", pull.head, pull.base);
        let body = json!({
            "title": pull.title, "head": pull.head, "base": pull.base,
            "body": pull.body, "draft": pull.draft,
        });
        let path = self.client.repo_path("/pulls");
        self.client
            .write_settled(
                &what,
                async || {
                    let wire = self
                        .client
                        .write_json::<WirePull>(Method::POST, &path, &body, &what)
                        .await?;
                    PullRequest::try_from(wire).map_err(|detail| {
                        Failure::Definite(GitHubError::BadResponse {
                            what: what.clone(),
                            detail,
                        })
                    })
                },
                async || self.client.open_pull(pull.head, pull.base).await,
                |found| found.title == pull.title,
            )
            .await
    }

    /// Creates `refs/tags/<name>` at `sha`, settling ambiguous failures by reading the ref.
    async fn create_ref_settled(
        &self,
        what: &str,
        name: &str,
        sha: &str,
        object_type: &str,
    ) -> Result<Written<GitRef>, GitHubError> {
        let full = format!("refs/tags/{name}");
        let body = json!({ "ref": full, "sha": sha });
        let path = self.client.repo_path("/git/refs");
        self.client
            .write_settled(
                what,
                async || {
                    self.client
                        .write_json::<WireRef>(Method::POST, &path, &body, what)
                        .await
                        .map(GitRef::from)
                },
                async || self.client.git_ref(&format!("tags/{name}")).await,
                |found| match object_type {
                    // An annotated tag retried after an ambiguous failure names a new tag object;
                    // the caller peels it and compares the tagged commit.
                    "tag" => found.object_type == "tag",
                    _ => found.object_sha == sha && found.object_type == object_type,
                },
            )
            .await
    }
}
