//! Git data objects: git-ref, git-tag and commit.
use serde_json::{Value, json};

use super::{Ctx, node_id, user};
use crate::gitstore::{CommitInfo, Person, RefInfo, TagInfo};
use crate::state::Repo;

fn unsigned() -> Value {
    json!({
        "verified": false,
        "reason": "unsigned",
        "signature": null,
        "payload": null,
        "verified_at": null,
    })
}

fn person(person: &Person) -> Value {
    json!({
        "name": person.name,
        "email": person.email,
        "date": person.when.to_string(),
    })
}

/// The account GitHub links a commit's author or committer to by email (simple-user), or
/// null when the email belongs to none.
fn account(ctx: Ctx<'_>, person: &Person) -> Value {
    ctx.state
        .user_by_email(&person.email)
        .map_or(Value::Null, |account| user(ctx, &account.login))
}

/// git-ref.
pub(crate) fn git_ref(ctx: Ctx<'_>, repo: &Repo, info: &RefInfo) -> Value {
    let api = ctx.api(repo);
    let short = info.name.strip_prefix("refs/").unwrap_or(&info.name);
    json!({
        "ref": info.name,
        "node_id": node_id("Ref", format!("{}:{}", repo.id, info.name)),
        "url": format!("{api}/git/refs/{short}"),
        "object": {
            "sha": info.sha,
            "type": info.kind.as_str(),
            "url": format!("{api}/git/{}/{}", info.kind.collection(), info.sha),
        },
    })
}

/// git-tag (an annotated tag object).
pub(crate) fn git_tag(ctx: Ctx<'_>, repo: &Repo, info: &TagInfo) -> Value {
    let api = ctx.api(repo);
    let tagger = info
        .tagger
        .as_ref()
        .map_or_else(|| json!({"name": "", "email": "", "date": ""}), person);
    json!({
        "node_id": node_id("Tag", &info.sha),
        "sha": info.sha,
        "url": format!("{api}/git/tags/{}", info.sha),
        "tagger": tagger,
        "object": {
            "sha": info.target,
            "type": info.target_kind.as_str(),
            "url": format!("{api}/git/{}/{}", info.target_kind.collection(), info.target),
        },
        "tag": info.tag,
        "message": info.message,
        "verification": unsigned(),
    })
}

/// commit (the REST "get a commit" object, with stats and files against the first parent).
/// `author` and `committer` at the top level are the GitHub accounts their emails link to
/// (`State::user_by_email`), null for an email of no account.
pub(crate) fn commit(ctx: Ctx<'_>, repo: &Repo, info: &CommitInfo) -> Value {
    let api = ctx.api(repo);
    let html = ctx.html(repo);
    let sha = &info.sha;
    let additions: usize = info.files.iter().map(|f| f.additions).sum();
    let deletions: usize = info.files.iter().map(|f| f.deletions).sum();
    let parents: Vec<Value> = info
        .parents
        .iter()
        .map(|p| {
            json!({
                "sha": p,
                "url": format!("{api}/commits/{p}"),
                "html_url": format!("{html}/commit/{p}"),
            })
        })
        .collect();
    let files: Vec<Value> = info
        .files
        .iter()
        .map(|f| {
            json!({
                "sha": f.blob,
                "filename": f.path,
                "status": f.status,
                "additions": f.additions,
                "deletions": f.deletions,
                "changes": f.additions + f.deletions,
                "blob_url": format!("{html}/blob/{sha}/{}", f.path),
                "raw_url": format!("{html}/raw/{sha}/{}", f.path),
                "contents_url": format!("{api}/contents/{}?ref={sha}", f.path),
            })
        })
        .collect();
    json!({
        "sha": sha,
        "node_id": node_id("Commit", sha),
        "commit": {
            "author": person(&info.author),
            "committer": person(&info.committer),
            "message": info.message,
            "tree": {"sha": info.tree, "url": format!("{api}/git/trees/{}", info.tree)},
            "url": format!("{api}/git/commits/{sha}"),
            "comment_count": 0,
            "verification": unsigned(),
        },
        "url": format!("{api}/commits/{sha}"),
        "html_url": format!("{html}/commit/{sha}"),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "author": account(ctx, &info.author),
        "committer": account(ctx, &info.committer),
        "parents": parents,
        "stats": {"total": additions + deletions, "additions": additions, "deletions": deletions},
        "files": files,
    })
}

/// One commit of a pull request's commit list: the commit object without `stats` and
/// `files`, which only the single-commit endpoint returns.
pub(crate) fn commit_item(ctx: Ctx<'_>, repo: &Repo, info: &CommitInfo) -> Value {
    let mut value = commit(ctx, repo, info);
    if let Value::Object(map) = &mut value {
        map.remove("stats");
        map.remove("files");
    }
    value
}
