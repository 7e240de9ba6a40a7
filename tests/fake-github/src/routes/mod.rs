//! The REST routes and what they share: the router, the extractors (caller, path, query),
//! body parsing, permission checks and pagination with `Link` headers.
//!
//! Each submodule owns one area of the API; a handler takes the state lock once, does its
//! work and builds its body with `shapes`. Handlers never `.await` while holding the lock.
mod actions;
mod git;
mod issues;
mod orgs;
mod pulls;
mod releases;
mod repos;
mod settings;
mod statuses;

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post, put};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::App;
use crate::error::{ApiError, FieldError, REST_DOCS};
use crate::gitstore::GitError;
use crate::seed::{PermissionLevel, Role};
use crate::shapes::Ctx;
use crate::state::{Access, Caller, RepoId, State};

/// The result of every handler.
pub(crate) type Reply = Result<Response, ApiError>;

/// All REST routes. Anything else is 501 and recorded (strict mode): GitHub's 404 there would
/// read as "absent" to a client and let a wrong path pass. Like api.github.com, the PATCH
/// endpoints also take POST (octocrab's `update_comment` sends POST).
pub(crate) fn router(app: App) -> Router {
    let repo = "/repos/{owner}/{repo}";
    Router::new()
        .route(repo, get(repos::get_repo))
        .route(
            &format!("{repo}/collaborators/{{user}}/permission"),
            get(repos::permission),
        )
        .route(&format!("{repo}/branches/{{*branch}}"), get(repos::branch))
        .route(
            &format!("{repo}/rules/branches/{{*branch}}"),
            get(repos::branch_rules),
        )
        .route(&format!("{repo}/rulesets"), get(repos::rulesets))
        .route(&format!("{repo}/rulesets/{{id}}"), get(repos::ruleset))
        .route(&format!("{repo}/commits/{{*rev}}"), get(git::get_commit))
        .route(&format!("{repo}/statuses/{{sha}}"), post(statuses::create))
        .route(&format!("{repo}/git/ref/{{*name}}"), get(git::get_ref))
        .route(
            &format!("{repo}/git/matching-refs/{{*name}}"),
            get(git::matching_refs),
        )
        .route(&format!("{repo}/git/refs"), post(git::create_ref))
        .route(
            &format!("{repo}/git/refs/{{*name}}"),
            patch(git::update_ref).post(git::update_ref),
        )
        .route(&format!("{repo}/git/tags"), post(git::create_tag))
        .route(&format!("{repo}/git/tags/{{sha}}"), get(git::get_tag))
        .route(
            &format!("{repo}/releases"),
            get(releases::list).post(releases::create),
        )
        .route(
            &format!("{repo}/releases/tags/{{*tag}}"),
            get(releases::by_tag),
        )
        .route(
            &format!("{repo}/releases/{{id}}"),
            get(releases::get).patch(releases::update),
        )
        .route(
            &format!("{repo}/pulls"),
            get(pulls::list).post(pulls::create),
        )
        .route(&format!("{repo}/pulls/{{number}}"), get(pulls::get))
        .route(&format!("{repo}/pulls/{{number}}/merge"), put(pulls::merge))
        .route(
            &format!("{repo}/pulls/{{number}}/commits"),
            get(pulls::commits),
        )
        .route(
            &format!("{repo}/issues/{{number}}/comments"),
            get(issues::list).post(issues::create),
        )
        .route(
            &format!("{repo}/issues/comments/{{id}}"),
            get(issues::get)
                .patch(issues::update)
                .post(issues::update)
                .delete(issues::delete),
        )
        .route(
            &format!("{repo}/issues/comments/{{id}}/reactions"),
            get(issues::reactions).post(issues::react),
        )
        // GitHub routes that the parameter routes above would read as a missing number.
        .route(&format!("{repo}/pulls/comments"), any(unknown_route))
        .route(&format!("{repo}/releases/latest"), any(unknown_route))
        .route(
            &format!("{repo}/releases/generate-notes"),
            any(unknown_route),
        )
        .route(
            &format!("{repo}/actions/permissions/workflow"),
            get(settings::workflow_permissions).put(settings::set_workflow_permissions),
        )
        .route(
            &format!("{repo}/actions/workflows/{{workflow}}/dispatches"),
            post(actions::dispatch),
        )
        .route("/user", get(orgs::authenticated_user))
        .route("/orgs/{org}/teams/{slug}", get(orgs::team))
        .route(
            "/orgs/{org}/teams/{slug}/memberships/{user}",
            get(orgs::membership),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
        .with_state(app)
}

/// A route the fake does not implement: recorded, and answered 501 with GitHub's error shape.
async fn unknown_route(
    axum::extract::State(app): axum::extract::State<App>,
    method: Method,
    uri: Uri,
) -> ApiError {
    unimplemented(&app, &method, &uri)
}

/// Records a request to a route the fake does not implement and returns its 501.
pub(crate) fn unimplemented(app: &App, method: &Method, uri: &Uri) -> ApiError {
    let route = format!("{method} {}", uri.path());
    app.unknown_routes().push(route.clone());
    ApiError::not_implemented(&route)
}

/// GitHub's routes below `/commits/{ref}` that the fake does not serve (`status` and
/// `statuses` it does); the fake's `/commits/{*rev}` would otherwise read `main/check-runs` as
/// a ref that does not exist.
const COMMIT_SUB_RESOURCES: &[&str] = &[
    "check-runs",
    "check-suites",
    "comments",
    "pulls",
    "branches-where-head",
];

/// Whether a `{*rev}` path tail names one of GitHub's routes below a commit.
pub(crate) fn is_commit_sub_resource(rev: &str) -> bool {
    rev.rsplit_once('/')
        .is_some_and(|(_, last)| COMMIT_SUB_RESOURCES.contains(&last))
}

/// A JSON response with this status.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    (status, Body::from(bytes)).into_response()
}

/// 201 with the created object and, as GitHub sends for a created resource, a `Location`
/// header naming its API URL (the object's `url`).
pub(crate) fn created(value: &Value) -> Response {
    let mut response = json(StatusCode::CREATED, value);
    if let Some(url) = value.get("url").and_then(Value::as_str)
        && let Ok(location) = HeaderValue::from_str(url)
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The builders' view of one locked state.
pub(crate) fn ctx<'a>(app: &'a App, state: &'a State) -> Ctx<'a> {
    Ctx {
        base: &app.base,
        state,
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    /// `Authorization: Bearer T` or `token T`; anything else is 401 Bad credentials.
    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::bad_credentials)?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or_else(ApiError::bad_credentials)?;
        let known_scheme =
            scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
        if !known_scheme {
            return Err(ApiError::bad_credentials());
        }
        app.state()
            .authenticate(token.trim())
            .ok_or_else(ApiError::bad_credentials)
    }
}

/// Path parameters; a value that does not parse (a non-numeric id) is GitHub's 404.
pub(crate) struct P<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<App> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, app)
            .await
            .map(|Path(value)| P(value))
            .map_err(|_| ApiError::not_found(REST_DOCS))
    }
}

/// The request path and its query pairs, in order; a malformed query counts as empty.
pub(crate) struct Params {
    path: String,
    pairs: Vec<(String, String)>,
}

impl FromRequestParts<App> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &App) -> Result<Self, Infallible> {
        let pairs = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        Ok(Params {
            path: parts.uri.path().to_owned(),
            pairs,
        })
    }
}

impl Params {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn number(&self, key: &str) -> Option<usize> {
        self.get(key)?.parse().ok().filter(|n| *n > 0)
    }

    fn page_url(&self, base: &str, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        pairs.push(("page", page.to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{base}{}?{query}", self.path)
    }
}

/// One page of `items` (`per_page` default 30, at most 100; `page` from 1) with GitHub's
/// `Link` header: `prev` and `first` after page 1, `next` and `last` before the last page.
pub(crate) fn paginate(app: &App, params: &Params, items: Vec<Value>) -> Response {
    let per_page = params.number("per_page").unwrap_or(30).min(100);
    let page = params.number("page").unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
    let mut links = Vec::new();
    let mut link = |page: usize, rel: &str| {
        links.push(format!(
            "<{}>; rel=\"{rel}\"",
            params.page_url(&app.base, page)
        ));
    };
    if page > 1 {
        link((page - 1).min(last), "prev");
    }
    if page < last {
        link(page + 1, "next");
        link(last, "last");
    }
    if page > 1 {
        link(1, "first");
    }
    let mut response = json(StatusCode::OK, &Value::Array(slice));
    if !links.is_empty()
        && let Ok(value) = HeaderValue::from_str(&links.join(", "))
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// Parses a JSON body into `T`: not JSON is 400 `Problems parsing JSON`, a field of the wrong
/// type is 422 `Validation Failed`. An empty body counts as `{}`.
pub(crate) fn parse_body<T: DeserializeOwned>(
    bytes: &[u8],
    resource: &'static str,
    doc: &'static str,
) -> Result<T, ApiError> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes).map_err(|_| ApiError::bad_json(doc))?
    };
    serde_json::from_value(value)
        .map_err(|e| ApiError::validation(doc, vec![FieldError::invalid(resource, e.to_string())]))
}

/// A required body field: absent is 422 with a `missing_field` error.
pub(crate) fn required<T>(
    value: Option<T>,
    resource: &'static str,
    field: &'static str,
    doc: &'static str,
) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::validation(
            doc,
            vec![FieldError::field(resource, "missing_field", field)],
        )
    })
}

/// The repository `owner/name`, or 404.
pub(crate) fn find_repo(
    state: &State,
    owner: &str,
    name: &str,
    doc: &'static str,
) -> Result<RepoId, ApiError> {
    state
        .repo_id(owner, name)
        .ok_or_else(|| ApiError::not_found(doc))
}

/// Any write needs a token that may write: a read-only token gets 403.
pub(crate) fn require_writable_token(caller: &Caller, doc: &'static str) -> Result<(), ApiError> {
    match caller.access {
        Access::ReadWrite => Ok(()),
        Access::ReadOnly => Err(ApiError::not_accessible(doc)),
    }
}

/// Writing git data or releases also needs push access; without it GitHub answers 404, as it
/// does for a classic token that cannot see the operation.
pub(crate) fn require_push(
    state: &State,
    repo: RepoId,
    caller: &Caller,
    doc: &'static str,
) -> Result<(), ApiError> {
    require_writable_token(caller, doc)?;
    require_permission(caller, "contents", PermissionLevel::Write, doc)?;
    if state.can_push(repo, caller) {
        Ok(())
    } else {
        Err(ApiError::not_found(doc))
    }
}

/// An installation token needs the permission the endpoint names (`pull_requests: write`,
/// `administration: read`, ...); without it GitHub answers 403 "Resource not accessible by
/// integration". A user token passes (its role decides).
pub(crate) fn require_permission(
    caller: &Caller,
    permission: &str,
    level: PermissionLevel,
    doc: &'static str,
) -> Result<(), ApiError> {
    if caller.may(permission, level) {
        Ok(())
    } else {
        Err(ApiError::not_accessible(doc))
    }
}

/// Writing comments and reactions: an installation token needs `issues: write` or (on a pull
/// request's conversation) `pull_requests: write`; GitHub accepts either.
pub(crate) fn require_conversation_write(
    caller: &Caller,
    doc: &'static str,
) -> Result<(), ApiError> {
    if caller.may("issues", PermissionLevel::Write)
        || caller.may("pull_requests", PermissionLevel::Write)
    {
        Ok(())
    } else {
        Err(ApiError::not_accessible(doc))
    }
}

/// Administration rights (what classic branch protection needs to be read): a user without
/// them gets 404, an app token GitHub's 403 "Resource not accessible by integration".
pub(crate) fn require_admin(
    state: &State,
    repo: RepoId,
    caller: &Caller,
    doc: &'static str,
) -> Result<(), ApiError> {
    if state.role(repo, &caller.login) == Role::Admin
        && caller.may("administration", PermissionLevel::Read)
    {
        return Ok(());
    }
    Err(if caller.is_installation() {
        ApiError::not_accessible(doc)
    } else {
        ApiError::not_found(doc)
    })
}

/// Maps a git failure to GitHub's answer: rule violations are 422 with GitHub's message,
/// anything else is 500.
pub(crate) fn git_failure(doc: &'static str) -> impl Fn(GitError) -> ApiError {
    move |error| match error {
        GitError::Git(e) => ApiError::internal(e),
        rule => ApiError::unprocessable(doc, rule.to_string()),
    }
}
