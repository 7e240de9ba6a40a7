//! GitHub Actions routes: starting a workflow (`workflow_dispatch`). The fake runs no
//! workflow; the request log records each dispatch (its body names the ref and the inputs),
//! which is what a test asserts, and what a test's local runner then runs.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{P, Reply, find_repo, git_failure, parse_body, require_push, required};
use crate::app::App;
use crate::error::ApiError;
use crate::gitstore;
use crate::state::Caller;

const DISPATCH: &str =
    "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event";

#[derive(Deserialize)]
struct DispatchBody {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    inputs: Option<Map<String, Value>>,
}

/// `POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches {ref, inputs}`:
/// 204 No Content. A ref that names no branch or tag is GitHub's 422 "No ref found for";
/// more than 25 inputs, or an input that is not a string, number or boolean, is 422 too. Needs
/// a token that may write (`actions: write`; here: push access).
pub(crate) async fn dispatch(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, _workflow)): P<(String, String, String)>,
    body: Bytes,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, DISPATCH)?;
    require_push(&state, id, &caller, DISPATCH)?;
    let request: DispatchBody = parse_body(&body, "Workflow", DISPATCH)?;
    let git_ref = required(request.git_ref, "Workflow", "ref", DISPATCH)?;
    let inputs = request.inputs.unwrap_or_default();
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    if inputs.len() > 25 || !inputs.values().all(scalar) {
        return Err(ApiError::unprocessable(
            DISPATCH,
            "inputs are at most 25 strings, numbers or booleans",
        ));
    }
    let repo = state.repo(id);
    let found = gitstore::resolve_commit(&repo.git_dir, &git_ref)
        .map_err(git_failure(DISPATCH))?
        .is_some();
    if !found {
        return Err(ApiError::unprocessable(
            DISPATCH,
            format!("No ref found for: {git_ref}"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
