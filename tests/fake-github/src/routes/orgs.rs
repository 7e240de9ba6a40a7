//! Organisation routes: team membership.
use axum::extract::State;
use axum::http::StatusCode;

use super::{P, Reply, ctx, json};
use crate::app::App;
use crate::error::ApiError;
use crate::shapes;
use crate::state::Caller;

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
