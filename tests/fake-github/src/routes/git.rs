//! Git data routes: refs, annotated tag objects and commits, served from the bare repository.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, git_failure, is_commit_sub_resource, json,
    parse_body, require_push, required, unimplemented,
};
use crate::app::App;
use crate::clock::Timestamp;
use crate::error::{ApiError, FieldError};
use crate::gitstore::{self, Person};
use crate::shapes;
use crate::state::{Caller, Repo};

const GET_REF: &str = "https://docs.github.com/rest/git/refs#get-a-reference";
const MATCHING_REFS: &str = "https://docs.github.com/rest/git/refs#list-matching-references";
const CREATE_REF: &str = "https://docs.github.com/rest/git/refs#create-a-reference";
const UPDATE_REF: &str = "https://docs.github.com/rest/git/refs#update-a-reference";
const CREATE_TAG: &str = "https://docs.github.com/rest/git/tags#create-a-tag-object";
const GET_TAG: &str = "https://docs.github.com/rest/git/tags#get-a-tag";
const GET_COMMIT: &str = "https://docs.github.com/rest/commits/commits#get-a-commit";

/// GitHub answers 409 for the git data of a repository without any commit.
fn not_empty(repo: &Repo, doc: &'static str) -> Result<(), ApiError> {
    if gitstore::is_empty(&repo.git_dir).map_err(git_failure(doc))? {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "Git Repository is empty.",
            doc,
        ))
    } else {
        Ok(())
    }
}

/// `GET /repos/{owner}/{repo}/git/ref/{ref}`, e.g. `heads/main`.
pub(crate) async fn get_ref(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, short)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let repo = state.repo(find_repo(&state, &owner, &name, GET_REF)?);
    not_empty(repo, GET_REF)?;
    let info = gitstore::find_ref(&repo.git_dir, &format!("refs/{short}"))
        .map_err(git_failure(GET_REF))?
        .ok_or_else(|| ApiError::not_found(GET_REF))?;
    Ok(json(
        StatusCode::OK,
        &shapes::git_ref(ctx(&app, &state), repo, &info),
    ))
}

/// `GET /repos/{owner}/{repo}/git/matching-refs/{ref}`: every ref starting with `refs/{ref}`.
pub(crate) async fn matching_refs(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, prefix)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let repo = state.repo(find_repo(&state, &owner, &name, MATCHING_REFS)?);
    not_empty(repo, MATCHING_REFS)?;
    let refs = gitstore::matching_refs(&repo.git_dir, &format!("refs/{prefix}"))
        .map_err(git_failure(MATCHING_REFS))?;
    let items: Vec<_> = refs
        .iter()
        .map(|info| shapes::git_ref(ctx(&app, &state), repo, info))
        .collect();
    Ok(json(StatusCode::OK, &serde_json::Value::Array(items)))
}

#[derive(Deserialize)]
struct NewRef {
    #[serde(rename = "ref")]
    name: Option<String>,
    sha: Option<String>,
}

/// `POST /repos/{owner}/{repo}/git/refs {ref, sha}`: 201, or 422 `Reference already exists`,
/// `Object does not exist`, `Reference name is invalid`.
pub(crate) async fn create_ref(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    body: Bytes,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, CREATE_REF)?;
    require_push(&state, id, &caller, CREATE_REF)?;
    let new: NewRef = parse_body(&body, "Reference", CREATE_REF)?;
    let ref_name = required(new.name, "Reference", "ref", CREATE_REF)?;
    let sha = required(new.sha, "Reference", "sha", CREATE_REF)?;
    let repo = state.repo(id);
    let info =
        gitstore::create_ref(&repo.git_dir, &ref_name, &sha).map_err(git_failure(CREATE_REF))?;
    Ok(created(&shapes::git_ref(ctx(&app, &state), repo, &info)))
}

#[derive(Deserialize)]
struct RefUpdate {
    sha: Option<String>,
    force: Option<bool>,
}

/// `PATCH /repos/{owner}/{repo}/git/refs/{ref} {sha, force}`: fast-forward only unless
/// forced (422 `Update is not a fast forward`); 422 `Reference does not exist`.
pub(crate) async fn update_ref(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, short)): P<(String, String, String)>,
    body: Bytes,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, UPDATE_REF)?;
    require_push(&state, id, &caller, UPDATE_REF)?;
    let update: RefUpdate = parse_body(&body, "Reference", UPDATE_REF)?;
    let sha = required(update.sha, "Reference", "sha", UPDATE_REF)?;
    let repo = state.repo(id);
    let force = update.force.unwrap_or(false);
    let info = gitstore::update_ref(&repo.git_dir, &format!("refs/{short}"), &sha, force)
        .map_err(git_failure(UPDATE_REF))?;
    Ok(json(
        StatusCode::OK,
        &shapes::git_ref(ctx(&app, &state), repo, &info),
    ))
}

#[derive(Deserialize)]
struct NewTag {
    tag: Option<String>,
    message: Option<String>,
    object: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    tagger: Option<Tagger>,
}

#[derive(Deserialize)]
struct Tagger {
    name: String,
    email: String,
    date: Option<String>,
}

/// `POST /repos/{owner}/{repo}/git/tags {tag, message, object, type, tagger?}`: writes an
/// annotated tag object (no ref) and answers 201 with it. Without a tagger, the caller tags.
pub(crate) async fn create_tag(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, CREATE_TAG)?;
    require_push(&state, id, &caller, CREATE_TAG)?;
    let new: NewTag = parse_body(&body, "Tag", CREATE_TAG)?;
    let tag = required(new.tag, "Tag", "tag", CREATE_TAG)?;
    let message = required(new.message, "Tag", "message", CREATE_TAG)?;
    let object = required(new.object, "Tag", "object", CREATE_TAG)?;
    let kind = required(new.kind, "Tag", "type", CREATE_TAG)?;
    let invalid =
        |field| ApiError::validation(CREATE_TAG, vec![FieldError::field("Tag", "invalid", field)]);
    // GitHub's enum is commit, tree, blob: a tag of a tag is refused.
    if !["commit", "tree", "blob"].contains(&kind.as_str()) {
        return Err(invalid("type"));
    }
    let now = state.clock.tick();
    let tagger = match new.tagger {
        Some(t) => Person {
            when: match t.date {
                Some(date) => Timestamp::parse(&date).ok_or_else(|| invalid("tagger"))?,
                None => now,
            },
            name: t.name,
            email: t.email,
        },
        None => Person {
            name: caller.login.clone(),
            email: format!("{}@users.noreply.github.com", caller.login),
            when: now,
        },
    };
    let repo = state.repo(id);
    let info = gitstore::create_tag_object(&repo.git_dir, &tag, &message, &object, &tagger)
        .map_err(git_failure(CREATE_TAG))?;
    Ok(created(&shapes::git_tag(ctx(&app, &state), repo, &info)))
}

/// `GET /repos/{owner}/{repo}/git/tags/{sha}`.
pub(crate) async fn get_tag(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, sha)): P<(String, String, String)>,
) -> Reply {
    let state = app.state();
    let repo = state.repo(find_repo(&state, &owner, &name, GET_TAG)?);
    let info = gitstore::find_tag(&repo.git_dir, &sha)
        .map_err(git_failure(GET_TAG))?
        .ok_or_else(|| ApiError::not_found(GET_TAG))?;
    Ok(json(
        StatusCode::OK,
        &shapes::git_tag(ctx(&app, &state), repo, &info),
    ))
}

/// `GET /repos/{owner}/{repo}/commits/{ref}` for a sha, branch or tag; an unknown one is
/// GitHub's 422 `No commit found for SHA: {ref}`.
pub(crate) async fn get_commit(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, rev)): P<(String, String, String)>,
    uri: Uri,
    params: Params,
) -> Reply {
    if let Some(git_ref) = rev.strip_suffix("/status") {
        return super::statuses::combined(&app, &caller, (&owner, &name), git_ref);
    }
    if let Some(git_ref) = rev.strip_suffix("/statuses") {
        return super::statuses::list(&app, &caller, (&owner, &name), git_ref, &params);
    }
    if is_commit_sub_resource(&rev) {
        return Err(unimplemented(&app, &Method::GET, &uri));
    }
    let state = app.state();
    let repo = state.repo(find_repo(&state, &owner, &name, GET_COMMIT)?);
    not_empty(repo, GET_COMMIT)?;
    let info = gitstore::commit(&repo.git_dir, &rev)
        .map_err(git_failure(GET_COMMIT))?
        .ok_or_else(|| {
            ApiError::unprocessable(GET_COMMIT, format!("No commit found for SHA: {rev}"))
        })?;
    Ok(json(
        StatusCode::OK,
        &shapes::commit(ctx(&app, &state), repo, &info),
    ))
}
