//! Account and organisation routes: the authenticated user, a team, team membership.
//!
//! Teams are organisation data: an installation token sees them only with the organisation
//! permission `members: read`, which a workflow's `GITHUB_TOKEN` never has. GitHub documents
//! 200 and 404 only for both team routes, so a team the token cannot see is 404, exactly like
//! a team that does not exist or a user who is not a member.
use axum::extract::State;
use axum::http::StatusCode;

use super::{P, Reply, ctx, json};
use crate::app::App;
use crate::error::ApiError;
use crate::seed::{PermissionLevel, UserKind};
use crate::shapes;
use crate::state::{Caller, State as FakeState, Team};

const GET_USER: &str = "https://docs.github.com/rest/users/users#get-the-authenticated-user";

const GET_MEMBERSHIP: &str =
    "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user";

const GET_TEAM: &str = "https://docs.github.com/rest/teams/teams#get-a-team-by-name";

/// The team, if it exists and the caller may see it (an installation token needs
/// `members: read`).
fn visible_team<'a>(
    state: &'a FakeState,
    caller: &Caller,
    org: &str,
    slug: &str,
) -> Option<&'a Team> {
    state
        .team(org, slug)
        .filter(|_| caller.may("members", PermissionLevel::Read))
}

/// `GET /orgs/{org}/teams/{slug}`: team-full, or 404.
pub(crate) async fn team(
    State(app): State<App>,
    caller: Caller,
    P((org, slug)): P<(String, String)>,
) -> Reply {
    let state = app.state();
    let team =
        visible_team(&state, &caller, &org, &slug).ok_or_else(|| ApiError::not_found(GET_TEAM))?;
    let body = shapes::team_full(ctx(&app, &state), team);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /orgs/{org}/teams/{slug}/memberships/{user}`: 200 for an active (`state: active`) or
/// invited (`state: pending`) member, else 404.
pub(crate) async fn membership(
    State(app): State<App>,
    caller: Caller,
    P((org, slug, login)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let team = visible_team(&state, &caller, &org, &slug)
        .ok_or_else(|| ApiError::not_found(GET_MEMBERSHIP))?;
    let pending = team.has_pending(&login);
    if !pending && !team.has_member(&login) {
        return Err(ApiError::not_found(GET_MEMBERSHIP));
    }
    let login = state
        .user(&login)
        .map_or(login.clone(), |u| u.login.clone());
    let body = shapes::team_membership(ctx(&app, &state), team, &login, pending);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /user`: the account of a user token. An installation token (a bot account's, like
/// `GITHUB_TOKEN`) may not ask: GitHub answers 403 "Resource not accessible by integration".
pub(crate) async fn authenticated_user(State(app): State<App>, caller: Caller) -> Reply {
    let state = app.state();
    let is_bot = state
        .user(&caller.login)
        .is_some_and(|u| u.kind == UserKind::Bot);
    if caller.is_installation() || is_bot {
        return Err(ApiError::not_accessible(GET_USER));
    }
    let body = shapes::private_user(ctx(&app, &state), &caller.login);
    Ok(json(StatusCode::OK, &body))
}
