//! Issue comment routes (list with pagination, create, get, edit) and their reactions.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, json, paginate, parse_body,
    require_conversation_write, require_writable_token, required,
};
use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::shapes;
use crate::state::{Caller, Comment, Reacted, RepoId, State as FakeState};

const LIST: &str = "https://docs.github.com/rest/issues/comments#list-issue-comments";
const CREATE: &str = "https://docs.github.com/rest/issues/comments#create-an-issue-comment";
const GET: &str = "https://docs.github.com/rest/issues/comments#get-an-issue-comment";
const UPDATE: &str = "https://docs.github.com/rest/issues/comments#update-an-issue-comment";
const DELETE: &str = "https://docs.github.com/rest/issues/comments#delete-an-issue-comment";
const REACTIONS: &str =
    "https://docs.github.com/rest/reactions/reactions#list-reactions-for-an-issue-comment";
const REACT: &str =
    "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment";

/// The reaction contents GitHub accepts.
const CONTENTS: [&str; 8] = [
    "+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes",
];

fn comment_in<'a>(
    state: &'a FakeState,
    repo: RepoId,
    id: u64,
    doc: &'static str,
) -> Result<&'a Comment, ApiError> {
    state
        .comments
        .get(&id)
        .filter(|c| c.repo == repo)
        .ok_or_else(|| ApiError::not_found(doc))
}

#[derive(Deserialize)]
struct CommentBody {
    body: Option<String>,
}

/// `GET /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=`, oldest first.
pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, issue)): P<(String, String, u64)>,
    params: Params,
) -> Reply {
    let state = app.state();
    let repo = find_repo(&state, &owner, &name, LIST)?;
    if !state.issue_exists(repo, issue) {
        return Err(ApiError::not_found(LIST));
    }
    let items = state
        .issue_comments(repo, issue)
        .into_iter()
        .map(|c| shapes::comment(ctx(&app, &state), c))
        .collect();
    Ok(paginate(&app, &params, items))
}

/// `POST /repos/{owner}/{repo}/issues/{number}/comments {body}`.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, issue)): P<(String, String, u64)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let repo = find_repo(&state, &owner, &name, CREATE)?;
    require_writable_token(&caller, CREATE)?;
    require_conversation_write(&caller, CREATE)?;
    if !state.issue_exists(repo, issue) {
        return Err(ApiError::not_found(CREATE));
    }
    let new: CommentBody = parse_body(&body, "IssueComment", CREATE)?;
    let text = required(new.body, "IssueComment", "body", CREATE)?;
    let id = state.add_comment(repo, issue, &caller.login, &text);
    let comment = comment_in(&state, repo, id, CREATE)?;
    let body = shapes::comment(ctx(&app, &state), comment);
    Ok(created(&body))
}

/// `GET /repos/{owner}/{repo}/issues/comments/{id}`.
pub(crate) async fn get(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, id)): P<(String, String, u64)>,
) -> Reply {
    let state = app.state();
    let repo = find_repo(&state, &owner, &name, GET)?;
    let comment = comment_in(&state, repo, id, GET)?;
    Ok(json(
        StatusCode::OK,
        &shapes::comment(ctx(&app, &state), comment),
    ))
}

/// `PATCH /repos/{owner}/{repo}/issues/comments/{id} {body}`: the author or a pusher may
/// edit (others get 404); `updated_at` moves forward.
pub(crate) async fn update(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, id)): P<(String, String, u64)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let repo = find_repo(&state, &owner, &name, UPDATE)?;
    require_writable_token(&caller, UPDATE)?;
    require_conversation_write(&caller, UPDATE)?;
    let comment = comment_in(&state, repo, id, UPDATE)?;
    if !state.may_edit(comment, &caller.login) {
        return Err(ApiError::not_found(UPDATE));
    }
    let new: CommentBody = parse_body(&body, "IssueComment", UPDATE)?;
    let text = required(new.body, "IssueComment", "body", UPDATE)?;
    state.edit_comment(id, &text);
    let comment = comment_in(&state, repo, id, UPDATE)?;
    Ok(json(
        StatusCode::OK,
        &shapes::comment(ctx(&app, &state), comment),
    ))
}

/// `DELETE /repos/{owner}/{repo}/issues/comments/{id}`: the author or a pusher may delete
/// (others get 404); 204, and the comment and its reactions are gone.
pub(crate) async fn delete(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, id)): P<(String, String, u64)>,
) -> Reply {
    let mut state = app.state();
    let repo = find_repo(&state, &owner, &name, DELETE)?;
    require_writable_token(&caller, DELETE)?;
    require_conversation_write(&caller, DELETE)?;
    let comment = comment_in(&state, repo, id, DELETE)?;
    if !state.may_edit(comment, &caller.login) {
        return Err(ApiError::not_found(DELETE));
    }
    state.delete_comment(id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /repos/{owner}/{repo}/issues/comments/{id}/reactions`, paginated.
pub(crate) async fn reactions(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, id)): P<(String, String, u64)>,
    params: Params,
) -> Reply {
    let state = app.state();
    let repo = find_repo(&state, &owner, &name, REACTIONS)?;
    comment_in(&state, repo, id, REACTIONS)?;
    let items = state
        .comment_reactions(id)
        .into_iter()
        .map(|r| shapes::reaction(ctx(&app, &state), r))
        .collect();
    Ok(paginate(&app, &params, items))
}

#[derive(Deserialize)]
struct ReactionBody {
    content: Option<String>,
}

/// `POST /repos/{owner}/{repo}/issues/comments/{id}/reactions {content}`: 201 for a new
/// reaction, 200 with the existing one when this user already reacted so.
pub(crate) async fn react(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, id)): P<(String, String, u64)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let repo = find_repo(&state, &owner, &name, REACT)?;
    require_writable_token(&caller, REACT)?;
    require_conversation_write(&caller, REACT)?;
    comment_in(&state, repo, id, REACT)?;
    let new: ReactionBody = parse_body(&body, "Reaction", REACT)?;
    let content = required(new.content, "Reaction", "content", REACT)?;
    if !CONTENTS.contains(&content.as_str()) {
        let error = FieldError::field("Reaction", "invalid", "content");
        return Err(ApiError::validation(REACT, vec![error]));
    }
    let (status, reaction_id) = match state.react(id, &caller.login, &content) {
        Reacted::Created(id) => (StatusCode::CREATED, id),
        Reacted::Existing(id) => (StatusCode::OK, id),
    };
    let reaction = state
        .reactions
        .get(&reaction_id)
        .ok_or_else(|| ApiError::internal("reaction vanished"))?;
    Ok(json(status, &shapes::reaction(ctx(&app, &state), reaction)))
}
