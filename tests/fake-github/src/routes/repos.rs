//! Repository routes: the repository itself, branches, their protection and the ruleset
//! rules that apply to them, and a user's permission.
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri};

use super::{P, Reply, ctx, find_repo, git_failure, json, require_admin, unimplemented};
use crate::app::App;
use crate::error::ApiError;
use crate::gitstore;
use crate::shapes;
use crate::state::Caller;

const GET_REPO: &str = "https://docs.github.com/rest/repos/repos#get-a-repository";
const GET_BRANCH: &str = "https://docs.github.com/rest/branches/branches#get-a-branch";
const GET_PROTECTION: &str =
    "https://docs.github.com/rest/branches/branch-protection#get-branch-protection";
const GET_BRANCH_RULES: &str = "https://docs.github.com/rest/repos/rules#get-rules-for-a-branch";
const GET_RULESETS: &str = "https://docs.github.com/rest/repos/rules#get-all-repository-rulesets";
const GET_RULESET: &str = "https://docs.github.com/rest/repos/rules#get-a-repository-ruleset";
const GET_PERMISSION: &str = "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user";

/// `GET /repos/{owner}/{repo}`, with the caller's `permissions` for a user token; GitHub
/// reports none to an installation token (its permissions are the installation's).
pub(crate) async fn get_repo(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
) -> Reply {
    let state = app.state();
    let repo = find_repo(&state, &owner, &name, GET_REPO)?;
    let role = (!caller.is_installation()).then(|| state.role(repo, &caller.login));
    let body = shapes::repository(ctx(&app, &state), repo, role);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /repos/{owner}/{repo}/branches/{branch}` and `.../branches/{branch}/protection`
/// (one route, because branch names contain slashes). Protection is shown to administrators
/// only: an app's token gets 403 `Resource not accessible by integration`, a user 404.
pub(crate) async fn branch(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, rest)): P<(String, String, String)>,
    uri: Uri,
) -> Reply {
    // `.../protection/required_status_checks` and the like are GitHub routes the fake lacks.
    if rest.contains("/protection/") {
        return Err(unimplemented(&app, &Method::GET, &uri));
    }
    let (branch, doc) = match rest.strip_suffix("/protection") {
        Some(branch) => (branch, GET_PROTECTION),
        None => (rest.as_str(), GET_BRANCH),
    };
    let state = app.state();
    let id = find_repo(&state, &owner, &name, doc)?;
    let repo = state.repo(id);
    let head = gitstore::branch_head(&repo.git_dir, branch).map_err(git_failure(doc))?;
    let head = head.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Branch not found", doc))?;
    if doc == GET_PROTECTION {
        require_admin(&state, id, &caller, doc)?;
        let rules = repo
            .protected
            .get(branch)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Branch not protected", doc))?;
        let body = shapes::protection(ctx(&app, &state), repo, branch, *rules);
        return Ok(json(StatusCode::OK, &body));
    }
    let commit = gitstore::commit(&repo.git_dir, &head)
        .map_err(git_failure(doc))?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "Branch not found", doc))?;
    let body = shapes::branch(ctx(&app, &state), repo, branch, &commit);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /repos/{owner}/{repo}/rules/branches/{branch}`: the active ruleset rules for a branch
/// name, which need not exist; visible with read access.
pub(crate) async fn branch_rules(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, branch)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET_BRANCH_RULES)?;
    let repo = state.repo(id);
    let rules = repo.branch_rules.get(&branch).cloned().unwrap_or_default();
    let body = shapes::branch_rules(repo, &rules);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /repos/{owner}/{repo}/rulesets`: the repository's rulesets (only tag rulesets are
/// seeded), summaries without conditions or rules; `?targets=` filters by target. Visible
/// with read access.
pub(crate) async fn rulesets(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name)): P<(String, String)>,
    Query(query): Query<RulesetQuery>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET_RULESETS)?;
    let repo = state.repo(id);
    let wanted = |target: &str| {
        query
            .targets
            .as_deref()
            .is_none_or(|t| t.split(',').any(|w| w.trim() == target))
    };
    let body: Vec<_> = repo
        .tag_rulesets
        .iter()
        .filter(|_| wanted("tag"))
        .map(|r| shapes::ruleset(ctx(&app, &state), repo, r, false))
        .collect();
    Ok(json(StatusCode::OK, &serde_json::Value::Array(body)))
}

/// `GET /repos/{owner}/{repo}/rulesets/{id}`: one ruleset with its conditions and rules.
pub(crate) async fn ruleset(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, ruleset)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET_RULESET)?;
    let repo = state.repo(id);
    let found = ruleset
        .parse::<u64>()
        .ok()
        .and_then(|wanted| repo.tag_rulesets.iter().find(|r| r.id == wanted))
        .ok_or_else(|| ApiError::not_found(GET_RULESET))?;
    let body = shapes::ruleset(ctx(&app, &state), repo, found, true);
    Ok(json(StatusCode::OK, &body))
}

/// The query of `GET .../rulesets`.
#[derive(serde::Deserialize)]
pub(crate) struct RulesetQuery {
    targets: Option<String>,
}

/// `GET /repos/{owner}/{repo}/collaborators/{user}/permission`; unknown accounts are 404.
pub(crate) async fn permission(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, login)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let repo = find_repo(&state, &owner, &name, GET_PERMISSION)?;
    let user = state
        .user(&login)
        .ok_or_else(|| ApiError::not_found(GET_PERMISSION))?;
    let role = state.role(repo, &user.login);
    let body = shapes::collaborator_permission(ctx(&app, &state), &user.login, role);
    Ok(json(StatusCode::OK, &body))
}
