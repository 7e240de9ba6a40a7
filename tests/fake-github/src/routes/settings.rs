//! Repository settings routes: the Actions workflow permissions of the `GITHUB_TOKEN`
//! (`default_workflow_permissions`, "allow GitHub Actions to create and approve pull
//! requests"), which decide whether a workflow may open pull requests.
//!
//! GitHub lets administrators read and change them: a user token needs the admin role, an
//! installation token `administration: read` (to read) or `write` (to change), which a
//! workflow's `GITHUB_TOKEN` never has, so it gets 403 "Resource not accessible by
//! integration".
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{P, Reply, find_repo, json, parse_body, require_permission, require_writable_token};
use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::seed::{PermissionLevel, Role};
use crate::state::{Caller, RepoId, State as FakeState};

const GET: &str = "https://docs.github.com/rest/actions/permissions#get-default-workflow-permissions-for-a-repository";
const SET: &str = "https://docs.github.com/rest/actions/permissions#set-default-workflow-permissions-for-a-repository";

/// An administrator (with, for an installation token, `administration` at `level`); others
/// get 403, as GitHub answers these endpoints.
fn require_repo_admin(
    state: &FakeState,
    repo: RepoId,
    caller: &Caller,
    level: PermissionLevel,
    doc: &'static str,
) -> Result<(), ApiError> {
    require_permission(caller, "administration", level, doc)?;
    if state.role(repo, &caller.login) == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Must have admin rights to Repository.",
            doc,
        ))
    }
}

fn level_name(level: PermissionLevel) -> &'static str {
    match level {
        PermissionLevel::Read => "read",
        PermissionLevel::Write => "write",
    }
}

/// `GET /repos/{owner}/{repo}/actions/permissions/workflow`.
pub(crate) async fn workflow_permissions(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET)?;
    require_repo_admin(&state, id, &caller, PermissionLevel::Read, GET)?;
    let setting = state.repo(id).workflow_permissions;
    let body = serde_json::json!({
        "default_workflow_permissions": level_name(setting.default_workflow_permissions),
        "can_approve_pull_request_reviews": setting.can_approve_pull_request_reviews,
    });
    Ok(json(StatusCode::OK, &body))
}

#[derive(Deserialize)]
struct SetBody {
    default_workflow_permissions: Option<String>,
    can_approve_pull_request_reviews: Option<bool>,
}

/// `PUT /repos/{owner}/{repo}/actions/permissions/workflow`: 204; fields left out keep their
/// value, a permission other than `read`/`write` is 422.
pub(crate) async fn set_workflow_permissions(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, SET)?;
    require_writable_token(&caller, SET)?;
    require_repo_admin(&state, id, &caller, PermissionLevel::Write, SET)?;
    let new: SetBody = parse_body(&body, "WorkflowPermissions", SET)?;
    let level = match new.default_workflow_permissions.as_deref() {
        None => None,
        Some("read") => Some(PermissionLevel::Read),
        Some("write") => Some(PermissionLevel::Write),
        Some(_) => {
            let error = FieldError::field(
                "WorkflowPermissions",
                "invalid",
                "default_workflow_permissions",
            );
            return Err(ApiError::validation(SET, vec![error]));
        }
    };
    let setting = &mut state.repo_mut(id).workflow_permissions;
    if let Some(level) = level {
        setting.default_workflow_permissions = level;
    }
    if let Some(allowed) = new.can_approve_pull_request_reviews {
        setting.can_approve_pull_request_reviews = allowed;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
