//! Commit statuses: `status` (as created and listed) and `combined-commit-status`.
use serde_json::{Value, json};

use super::{Ctx, node_id, repository, user};
use crate::state::{CommitStatus, RepoId};

/// The fields a status has everywhere; the combined view lists statuses without `creator`.
fn simple(ctx: Ctx<'_>, status: &CommitStatus) -> Value {
    let repo = ctx.state.repo(status.repo);
    let creator = ctx.user_record(&status.creator);
    json!({
        "url": format!("{}/statuses/{}", ctx.api(repo), status.sha),
        "avatar_url": format!("{}/avatars/u/{}?v=4", ctx.base, creator.id),
        "id": status.id,
        "node_id": node_id("StatusContext", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": status.created_at.to_string(),
        "updated_at": status.created_at.to_string(),
    })
}

/// status: what `POST /statuses/{sha}` answers and `GET /commits/{ref}/statuses` lists.
pub(crate) fn status(ctx: Ctx<'_>, status: &CommitStatus) -> Value {
    let mut value = simple(ctx, status);
    value["creator"] = user(ctx, &status.creator);
    value
}

/// combined-commit-status of `sha`: the newest status of each context (`statuses` newest
/// first, as the state keeps them) and the state GitHub derives from them: `failure` if any
/// is `error` or `failure`, else `pending` if there is none or any is `pending`, else
/// `success`.
pub(crate) fn combined(
    ctx: Ctx<'_>,
    repo_id: RepoId,
    sha: &str,
    statuses: &[&CommitStatus],
) -> Value {
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for status in statuses {
        if !latest
            .iter()
            .any(|seen| seen.context.eq_ignore_ascii_case(&status.context))
        {
            latest.push(status);
        }
    }
    let any = |states: &[&str]| latest.iter().any(|s| states.contains(&s.state.as_str()));
    let state = if any(&["error", "failure"]) {
        "failure"
    } else if latest.is_empty() || any(&["pending"]) {
        "pending"
    } else {
        "success"
    };
    let api = ctx.api(ctx.state.repo(repo_id));
    json!({
        "state": state,
        "statuses": latest.iter().map(|s| simple(ctx, s)).collect::<Vec<_>>(),
        "sha": sha,
        "total_count": latest.len(),
        "repository": repository(ctx, repo_id, None),
        "commit_url": format!("{api}/commits/{sha}"),
        "url": format!("{api}/commits/{sha}/status"),
    })
}
