//! The effect half's one write outside the gate: publishing a draft release that its run
//! shipped with `publish: after_assets` (issue 15). It takes the [`PublishPass`] that only
//! [`crate::publish::decide`] builds, and sends `draft: false` and nothing else, so the title,
//! notes and flags GitHub publishes are the approved ones the decision compared.

use http::Method;
use serde_json::json;

use super::GitHubRead;
use super::effects::GitHubShipper;
use super::error::GitHubError;
use super::types::{Release, WireRelease, Written};
use crate::publish::PublishPass;

impl GitHubShipper<'_> {
    /// Publishes the draft the pass names, settling an ambiguous failure by reading the
    /// release back (publishing is idempotent: a draft still found is published again), then
    /// reads it back by its tag, which finds published releases only.
    pub async fn publish_release(
        &self,
        pass: &PublishPass,
    ) -> Result<Written<Release>, GitHubError> {
        let written = self.send_publish(pass).await?;
        let back = self.client.published_release(pass.tag()).await?;
        match back {
            Some(release) if release.id == pass.release_id() => Ok(written),
            _ => Err(GitHubError::BadResponse {
                what: format!("publish the release of {}", pass.tag()),
                detail:
                    "GitHub accepted `draft: false` but the tag's published release is not this one"
                        .into(),
            }),
        }
    }

    async fn send_publish(&self, pass: &PublishPass) -> Result<Written<Release>, GitHubError> {
        let what = format!("publish the release of {}", pass.tag());
        let path = self
            .client
            .repo_path(&format!("/releases/{}", pass.release_id()));
        let body = json!({ "draft": false });
        self.client
            .write_settled(
                &what,
                async || {
                    self.client
                        .write_json::<WireRelease>(Method::PATCH, &path, &body, &what)
                        .await
                        .map(Release::from)
                },
                async || {
                    Ok(super::find_release(self.client, pass.tag())
                        .await?
                        .filter(|r| r.id == pass.release_id() && !r.draft))
                },
                |found| !found.draft,
            )
            .await
    }
}
