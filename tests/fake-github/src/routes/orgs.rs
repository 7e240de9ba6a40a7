//! Account and organisation routes: the authenticated user, team membership.
use axum::extract::State;
use axum::http::StatusCode;

use super::{P, Reply, ctx, json};
use crate::app::App;
use crate::error::ApiError;
use crate::seed::UserKind;
use crate::shapes;
use crate::state::Caller;

const GET_USER: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";

const GET_MEMBERSHIP: &str =
    "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user";

/// `GET /orgs/{org}/teams/{slug}/memberships/{user}`: 200 for a member, else 404.
pub(crate) async fn membership(
    State(app): State<App>,
    _caller: Caller,
    P((org, slug, login)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let team = state
        .team(&org, &slug)
        .filter(|team| team.has_member(&login))
        .ok_or_else(|| ApiError::not_found(GET_MEMBERSHIP))?;
    let login = state
        .user(&login)
        .map_or(login.clone(), |u| u.login.clone());
    let body = shapes::team_membership(ctx(&app, &state), team, &login);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /user`: the account of a user token. An installation token (a bot account's, like
/// `GITHUB_TOKEN`) may not ask: GitHub answers 403 "Resource not accessible by integration".
pub(crate) async fn authenticated_user(State(app): State<App>, caller: Caller) -> Reply {
    let state = app.state();
    if state
        .user(&caller.login)
        .is_some_and(|u| u.kind == UserKind::Bot)
    {
        return Err(ApiError::not_accessible(GET_USER));
    }
    let body = shapes::private_user(ctx(&app, &state), &caller.login);
    Ok(json(StatusCode::OK, &body))
}
