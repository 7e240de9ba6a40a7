//! pull-request (also served by the list endpoint, of which pull-request-simple is a subset).
use serde_json::{Value, json};

use super::{Ctx, merged, node_id, repository, user};
use crate::gitstore::Comparison;
use crate::state::{Pull, PullState, RepoId};

/// What git says about a pull request's branches right now.
#[derive(Clone, Debug)]
pub(crate) struct PullFacts {
    pub head_sha: String,
    pub base_sha: String,
    pub comparison: Comparison,
}

/// pull-request.
pub(crate) fn pull(ctx: Ctx<'_>, repo_id: RepoId, pull: &Pull, facts: &PullFacts) -> Value {
    let repo = ctx.state.repo(repo_id);
    let api = ctx.api(repo);
    let html = format!("{}/pull/{}", ctx.html(repo), pull.number);
    let n = pull.number;
    let issue = format!("{api}/issues/{n}");
    let comments = ctx.state.issue_comments(repo_id, n).len();
    let time = pull.created_at.to_string();
    let (closed_at, merged_at, merge_commit_sha, merged_by) = match &pull.state {
        PullState::Open => (None, None, None, None),
        PullState::Closed { at } => (Some(at.to_string()), None, None, None),
        PullState::Merged { at, sha, by } => (
            Some(at.to_string()),
            Some(at.to_string()),
            Some(sha.clone()),
            Some(user(ctx, by)),
        ),
    };
    let open = pull.is_open();
    let side = |branch: &str, sha: &str| {
        json!({
            "label": format!("{}:{branch}", repo.owner),
            "ref": branch,
            "sha": sha,
            "user": user(ctx, &repo.owner),
            "repo": repository(ctx, repo_id, None),
        })
    };
    let links = [
        ("self", format!("{api}/pulls/{n}")),
        ("html", html.clone()),
        ("issue", issue.clone()),
        ("comments", format!("{issue}/comments")),
        ("review_comments", format!("{api}/pulls/{n}/comments")),
        ("review_comment", format!("{api}/pulls/comments{{/number}}")),
        ("commits", format!("{api}/pulls/{n}/commits")),
        ("statuses", format!("{api}/statuses/{}", facts.head_sha)),
    ];
    let links: serde_json::Map<String, Value> = links
        .into_iter()
        .map(|(rel, href)| (rel.to_owned(), json!({ "href": href })))
        .collect();
    let urls = json!({
        "url": format!("{api}/pulls/{n}"),
        "id": pull.id,
        "node_id": node_id("PullRequest", pull.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": issue,
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue}/comments"),
        "statuses_url": format!("{api}/statuses/{}", facts.head_sha),
    });
    let state = json!({
        "number": n,
        "state": if open { "open" } else { "closed" },
        "locked": false,
        "title": pull.title,
        "user": user(ctx, &pull.user),
        "body": pull.body,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": time.clone(),
        "updated_at": closed_at.clone().unwrap_or(time),
        "closed_at": closed_at,
        "merged_at": merged_at,
        "merge_commit_sha": merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(&pull.head, &facts.head_sha),
        "base": side(&pull.base, &facts.base_sha),
        "author_association": ctx.state.author_association(repo_id, &pull.user),
        "auto_merge": null,
        "draft": pull.draft,
        "merged": merged_at.is_some(),
        // GitHub computes mergeability of open pull requests only.
        "mergeable": open.then_some(true),
        "rebaseable": open.then_some(true),
        "mergeable_state": if open { "clean" } else { "unknown" },
        "merged_by": merged_by,
        "comments": comments,
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": facts.comparison.ahead,
        "additions": facts.comparison.additions,
        "deletions": facts.comparison.deletions,
        "changed_files": facts.comparison.changed_files,
    });
    merged([urls, state, json!({ "_links": links })])
}
