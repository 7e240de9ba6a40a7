//! Release routes: create (making the tag when it is missing), update (publishing a draft),
//! get by id or tag, list.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, git_failure, json, paginate, parse_body,
    require_push, required,
};
use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::gitstore;
use crate::shapes;
use crate::state::{Caller, NewRelease};

const CREATE: &str = "https://docs.github.com/rest/releases/releases#create-a-release";
const LIST: &str = "https://docs.github.com/rest/releases/releases#list-releases";
const BY_TAG: &str = "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name";
const GET: &str = "https://docs.github.com/rest/releases/releases#get-a-release";
const UPDATE: &str = "https://docs.github.com/rest/releases/releases#update-a-release";

#[derive(Deserialize)]
struct NewReleaseBody {
    tag_name: Option<String>,
    target_commitish: Option<String>,
    name: Option<String>,
    body: Option<String>,
    draft: Option<bool>,
    prerelease: Option<bool>,
}

fn invalid(field: &'static str) -> ApiError {
    ApiError::validation(CREATE, vec![FieldError::field("Release", "invalid", field)])
}

/// `POST /repos/{owner}/{repo}/releases`. A duplicate tag is 422 `already_exists`; a
/// published release whose tag is missing creates it as a lightweight tag at
/// `target_commitish` (default: the default branch), as GitHub does.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, CREATE)?;
    require_push(&state, id, &caller, CREATE)?;
    let new: NewReleaseBody = parse_body(&body, "Release", CREATE)?;
    let tag = required(new.tag_name, "Release", "tag_name", CREATE)?;
    let repo = state.repo(id);
    if repo.releases.iter().any(|r| r.tag_name == tag) {
        let error = FieldError::field("Release", "already_exists", "tag_name");
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    let tag_ref = format!("refs/tags/{tag}");
    if tag.is_empty() || !git2::Reference::is_valid_name(&tag_ref) {
        return Err(invalid("tag_name"));
    }
    let target = new
        .target_commitish
        .unwrap_or_else(|| repo.default_branch.clone());
    let draft = new.draft.unwrap_or(false);
    let tag_exists = gitstore::find_ref(&repo.git_dir, &tag_ref)
        .map_err(git_failure(CREATE))?
        .is_some();
    if !tag_exists && !draft {
        let sha = gitstore::resolve_commit(&repo.git_dir, &target)
            .map_err(git_failure(CREATE))?
            .ok_or_else(|| invalid("target_commitish"))?;
        gitstore::create_ref(&repo.git_dir, &tag_ref, &sha).map_err(git_failure(CREATE))?;
    }
    let release = state.add_release(
        id,
        NewRelease {
            tag_name: tag,
            target_commitish: target,
            name: new.name,
            body: new.body,
            draft,
            prerelease: new.prerelease.unwrap_or(false),
            author: caller.login,
        },
    );
    let body = shapes::release(ctx(&app, &state), id, &release);
    Ok(created(&body))
}

/// `GET /repos/{owner}/{repo}/releases`, newest first, paginated. Draft releases are listed
/// only for callers with push access, as on GitHub.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    params: Params,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, LIST)?;
    let sees_drafts = state.can_push(id, &caller);
    let items = state
        .repo(id)
        .releases
        .iter()
        .rev()
        .filter(|r| sees_drafts || !r.draft)
        .map(|r| shapes::release(ctx(&app, &state), id, r))
        .collect();
    Ok(paginate(&app, &params, items))
}

/// `GET /repos/{owner}/{repo}/releases/tags/{tag}`: published releases only (drafts are
/// not found by tag on GitHub).
pub(crate) async fn by_tag(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, tag)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, BY_TAG)?;
    let release = state
        .repo(id)
        .releases
        .iter()
        .find(|r| r.tag_name == tag && !r.draft)
        .ok_or_else(|| ApiError::not_found(BY_TAG))?;
    let body = shapes::release(ctx(&app, &state), id, release);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /repos/{owner}/{repo}/releases/{id}`: a draft is 404 without push access.
pub(crate) async fn get(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, release_id)): P<(String, String, u64)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET)?;
    let sees_drafts = state.can_push(id, &caller);
    let release = state
        .repo(id)
        .releases
        .iter()
        .find(|r| r.id == release_id && (sees_drafts || !r.draft))
        .ok_or_else(|| ApiError::not_found(GET))?;
    let body = shapes::release(ctx(&app, &state), id, release);
    Ok(json(StatusCode::OK, &body))
}

#[derive(Deserialize)]
struct ReleaseUpdateBody {
    name: Option<String>,
    body: Option<String>,
    draft: Option<bool>,
    prerelease: Option<bool>,
}

/// `PATCH /repos/{owner}/{repo}/releases/{id}`: changes the fields sent. Publishing a draft
/// (`draft: false`) stamps `published_at` and, as GitHub does, creates a missing tag at
/// `target_commitish`. A published release never becomes a draft again here (immutable
/// releases forbid it; GitHub answers 422).
pub(crate) async fn update(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, release_id)): P<(String, String, u64)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, UPDATE)?;
    require_push(&state, id, &caller, UPDATE)?;
    let change: ReleaseUpdateBody = parse_body(&body, "Release", UPDATE)?;
    let repo = state.repo(id);
    let index = repo
        .releases
        .iter()
        .position(|r| r.id == release_id)
        .ok_or_else(|| ApiError::not_found(UPDATE))?;
    let current = repo.releases[index].clone();
    if change.draft == Some(true) && !current.draft {
        let error = FieldError::field("Release", "invalid", "draft");
        return Err(ApiError::validation(UPDATE, vec![error]));
    }
    let publishing = current.draft && change.draft == Some(false);
    if publishing {
        let tag_ref = format!("refs/tags/{}", current.tag_name);
        let tag_exists = gitstore::find_ref(&repo.git_dir, &tag_ref)
            .map_err(git_failure(UPDATE))?
            .is_some();
        if !tag_exists {
            let sha = gitstore::resolve_commit(&repo.git_dir, &current.target_commitish)
                .map_err(git_failure(UPDATE))?
                .ok_or_else(|| invalid("target_commitish"))?;
            gitstore::create_ref(&repo.git_dir, &tag_ref, &sha).map_err(git_failure(UPDATE))?;
        }
    }
    let now = state.clock.tick();
    let release = &mut state.repo_mut(id).releases[index];
    if let Some(name) = change.name {
        release.name = Some(name);
    }
    if let Some(body) = change.body {
        release.body = Some(body);
    }
    if let Some(prerelease) = change.prerelease {
        release.prerelease = prerelease;
    }
    if publishing {
        release.draft = false;
        release.published_at = Some(now);
    }
    let release = release.clone();
    let body = shapes::release(ctx(&app, &state), id, &release);
    Ok(json(StatusCode::OK, &body))
}
