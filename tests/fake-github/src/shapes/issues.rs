//! Conversation objects: issue-comment and reaction.
use serde_json::{Value, json};

use super::{Ctx, node_id, user};
use crate::state::{Comment, Reaction};

/// issue-comment, with the reaction rollup GitHub includes.
pub(crate) fn comment(ctx: Ctx<'_>, comment: &Comment) -> Value {
    let repo = ctx.state.repo(comment.repo);
    let api = ctx.api(repo);
    let kind = if ctx.state.pull(comment.repo, comment.issue).is_some() {
        "pull"
    } else {
        "issues"
    };
    let reactions = ctx.state.comment_reactions(comment.id);
    let count = |content: &str| reactions.iter().filter(|r| r.content == content).count();
    json!({
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": format!("{api}/issues/comments/{}", comment.id),
        "html_url": format!(
            "{}/{kind}/{}#issuecomment-{}",
            ctx.html(repo), comment.issue, comment.id
        ),
        "body": comment.body,
        "user": user(ctx, &comment.user),
        "created_at": comment.created_at.to_string(),
        "updated_at": comment.updated_at.to_string(),
        "issue_url": format!("{api}/issues/{}", comment.issue),
        "author_association": ctx.state.author_association(comment.repo, &comment.user),
        "performed_via_github_app": null,
        "reactions": {
            "url": format!("{api}/issues/comments/{}/reactions", comment.id),
            "total_count": reactions.len(),
            "+1": count("+1"),
            "-1": count("-1"),
            "laugh": count("laugh"),
            "hooray": count("hooray"),
            "confused": count("confused"),
            "heart": count("heart"),
            "rocket": count("rocket"),
            "eyes": count("eyes"),
        },
        "pin": null,
        "minimized": null,
    })
}

/// reaction.
pub(crate) fn reaction(ctx: Ctx<'_>, reaction: &Reaction) -> Value {
    json!({
        "id": reaction.id,
        "node_id": node_id("Reaction", reaction.id),
        "user": user(ctx, &reaction.user),
        "content": reaction.content,
        "created_at": reaction.created_at.to_string(),
    })
}
