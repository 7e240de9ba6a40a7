//! Commit statuses: creating one (`POST /statuses/{sha}`), listing a ref's
//! (`GET /commits/{ref}/statuses`) and the combined view branch protection reads
//! (`GET /commits/{ref}/status`). The two reads live below `/commits/{*rev}`, whose handler
//! hands them here.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, git_failure, json, paginate, parse_body,
    require_permission, require_push, required,
};
use crate::app::App;
use crate::clock::Timestamp;
use crate::error::{ApiError, FieldError};
use crate::gitstore;
use crate::seed::PermissionLevel;
use crate::shapes;
use crate::state::{Caller, CommitStatus, RepoId};

const CREATE: &str = "https://docs.github.com/rest/commits/statuses#create-a-commit-status";
const LIST: &str =
    "https://docs.github.com/rest/commits/statuses#list-commit-statuses-for-a-reference";
const COMBINED: &str = "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference";

/// The states a status may have.
const STATES: &[&str] = &["error", "failure", "pending", "success"];
/// GitHub refuses a longer description (422, "description is too long").
const MAX_DESCRIPTION: usize = 140;
/// GitHub keeps at most 1 000 statuses per commit and context.
const MAX_PER_CONTEXT: usize = 1000;

#[derive(Deserialize)]
struct StatusBody {
    state: Option<String>,
    target_url: Option<String>,
    description: Option<String>,
    context: Option<String>,
}

/// `POST /repos/{owner}/{repo}/statuses/{sha} {state, target_url, description, context}`:
/// 201 with the status. Needs push access (404 without, as for other writes) and, for an
/// installation token, `statuses: write` (403). An unknown commit is 422 "No commit found for
/// SHA"; a state outside the four, a description over 140 characters, or the 1 001st status of
/// one context on one commit is 422 Validation Failed.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, sha)): P<(String, String, String)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, CREATE)?;
    require_push(&state, id, &caller, CREATE)?;
    require_permission(&caller, "statuses", PermissionLevel::Write, CREATE)?;
    let request: StatusBody = parse_body(&body, "Status", CREATE)?;
    let status_state = required(request.state, "Status", "state", CREATE)?;
    if !STATES.contains(&status_state.as_str()) {
        let error = FieldError::field("Status", "invalid", "state");
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    if request
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        let error = FieldError::custom(
            "Status",
            format!("description is too long (maximum is {MAX_DESCRIPTION} characters)"),
        );
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    let commit = commit_of(&state, id, &sha, CREATE)?;
    let context = request.context.unwrap_or_else(|| "default".to_owned());
    let same_context = state
        .commit_statuses(id, &commit)
        .into_iter()
        .filter(|s| s.context.eq_ignore_ascii_case(&context))
        .count();
    if same_context >= MAX_PER_CONTEXT {
        let error = FieldError::custom(
            "Status",
            "This SHA and context has reached the maximum number of statuses.".to_owned(),
        );
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    let status_id = state.add_status(CommitStatus {
        id: 0,
        repo: id,
        sha: commit,
        state: status_state,
        target_url: request.target_url,
        description: request.description,
        context,
        creator: caller.login.clone(),
        created_at: Timestamp::from_unix(0),
    });
    let status = state
        .statuses
        .iter()
        .find(|s| s.id == status_id)
        .ok_or_else(|| ApiError::internal("status vanished"))?;
    Ok(created(&shapes::status(ctx(&app, &state), status)))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/statuses`: every status of the commit `git_ref`
/// names, newest first, paginated (404 when it names none).
pub(crate) fn list(
    app: &App,
    caller: &Caller,
    (owner, name): (&str, &str),
    git_ref: &str,
    params: &Params,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, owner, name, LIST)?;
    require_permission(caller, "statuses", PermissionLevel::Read, LIST)?;
    let commit = commit_of(&state, id, git_ref, LIST).map_err(|_| ApiError::not_found(LIST))?;
    let items = state
        .commit_statuses(id, &commit)
        .into_iter()
        .map(|s| shapes::status(ctx(app, &state), s))
        .collect();
    Ok(paginate(app, params, items))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`: the combined status of the commit
/// `git_ref` names (404 when it names none).
pub(crate) fn combined(
    app: &App,
    caller: &Caller,
    (owner, name): (&str, &str),
    git_ref: &str,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, owner, name, COMBINED)?;
    require_permission(caller, "statuses", PermissionLevel::Read, COMBINED)?;
    let commit =
        commit_of(&state, id, git_ref, COMBINED).map_err(|_| ApiError::not_found(COMBINED))?;
    let statuses = state.commit_statuses(id, &commit);
    Ok(json(
        StatusCode::OK,
        &shapes::combined(ctx(app, &state), id, &commit, &statuses),
    ))
}

/// The full commit id `rev` (a sha, branch or tag) names, or GitHub's 422.
fn commit_of(
    state: &crate::state::State,
    id: RepoId,
    rev: &str,
    doc: &'static str,
) -> Result<String, ApiError> {
    gitstore::resolve_commit(&state.repo(id).git_dir, rev)
        .map_err(git_failure(doc))?
        .ok_or_else(|| ApiError::unprocessable(doc, format!("No commit found for SHA: {rev}")))
}
