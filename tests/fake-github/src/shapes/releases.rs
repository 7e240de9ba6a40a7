//! release.
use serde_json::{Value, json};

use super::{Ctx, node_id, user};
use crate::state::{Release, RepoId};

/// release (no assets: the fake does not take uploads).
pub(crate) fn release(ctx: Ctx<'_>, repo: RepoId, release: &Release) -> Value {
    let repo = ctx.state.repo(repo);
    let api = ctx.api(repo);
    let url = format!("{api}/releases/{}", release.id);
    let tag = &release.tag_name;
    json!({
        "url": url,
        "html_url": format!("{}/releases/tag/{tag}", ctx.html(repo)),
        "assets_url": format!("{url}/assets"),
        "upload_url": format!("{url}/assets{{?name,label}}"),
        "tarball_url": format!("{api}/tarball/{tag}"),
        "zipball_url": format!("{api}/zipball/{tag}"),
        "id": release.id,
        "node_id": node_id("Release", release.id),
        "tag_name": tag,
        "target_commitish": release.target_commitish,
        "name": release.name,
        "body": release.body,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "immutable": false,
        "created_at": release.created_at.to_string(),
        "published_at": release.published_at.map(|t| t.to_string()),
        "author": user(ctx, &release.author),
        "assets": [],
    })
}
