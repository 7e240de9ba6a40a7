//! Pull request routes: create (with GitHub's duplicate, no-commits and missing-branch
//! refusals), get, and list filtered by state, head and base.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, git_failure, json, paginate, parse_body,
    require_permission, require_writable_token, required,
};
use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::gitstore::{self, Comparison};
use crate::seed::PermissionLevel;
use crate::shapes::{self, PullFacts};
use crate::state::{Caller, NewPull, Pull, Repo};

const CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
const LIST: &str = "https://docs.github.com/rest/pulls/pulls#list-pull-requests";
const GET: &str = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request";
const COMMITS: &str = "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request";

/// GitHub lists at most this many commits of a pull request.
const MAX_LISTED_COMMITS: usize = 250;

/// A branch that does not exist has no sha; GitHub keeps showing the last one, the fake
/// shows zeros.
const NO_SHA: &str = "0000000000000000000000000000000000000000";

fn facts(repo: &Repo, pull: &Pull, doc: &'static str) -> Result<PullFacts, ApiError> {
    let head = gitstore::branch_head(&repo.git_dir, &pull.head).map_err(git_failure(doc))?;
    let base = gitstore::branch_head(&repo.git_dir, &pull.base).map_err(git_failure(doc))?;
    let comparison = match (&head, &base) {
        (Some(head), Some(base)) => {
            gitstore::compare(&repo.git_dir, base, head).map_err(git_failure(doc))?
        }
        _ => Comparison::default(),
    };
    Ok(PullFacts {
        head_sha: head.unwrap_or_else(|| NO_SHA.to_owned()),
        base_sha: base.unwrap_or_else(|| NO_SHA.to_owned()),
        comparison,
    })
}

/// `head` may be `branch` or `owner:branch`; only same-repository heads are supported.
fn head_branch<'a>(repo: &Repo, head: &'a str) -> Option<&'a str> {
    match head.split_once(':') {
        Some((owner, branch)) if owner.eq_ignore_ascii_case(&repo.owner) => Some(branch),
        Some(_) => None,
        None => Some(head),
    }
}

#[derive(Deserialize)]
struct NewPullBody {
    title: Option<String>,
    head: Option<String>,
    base: Option<String>,
    body: Option<String>,
    draft: Option<bool>,
}

/// `POST /repos/{owner}/{repo}/pulls {title, head, base, body?, draft?}`. A workflow's
/// `GITHUB_TOKEN` gets 403 unless the repository allows GitHub Actions to create pull
/// requests; like every permission check, this comes before the body is validated.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    P((owner, name)): P<(String, String)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, CREATE)?;
    require_writable_token(&caller, CREATE)?;
    require_permission(&caller, "pull_requests", PermissionLevel::Write, CREATE)?;
    if caller.is_actions_token()
        && !state
            .repo(id)
            .workflow_permissions
            .can_approve_pull_request_reviews
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "GitHub Actions is not permitted to create or approve pull requests.",
            CREATE,
        ));
    }
    let new: NewPullBody = parse_body(&body, "PullRequest", CREATE)?;
    let title = required(new.title, "PullRequest", "title", CREATE)?;
    let head = required(new.head, "PullRequest", "head", CREATE)?;
    let base = required(new.base, "PullRequest", "base", CREATE)?;
    let repo = state.repo(id);
    let invalid = |field| {
        ApiError::validation(
            CREATE,
            vec![FieldError::field("PullRequest", "invalid", field)],
        )
    };
    let head = head_branch(repo, &head).ok_or_else(|| invalid("head"))?;
    let base_sha = gitstore::branch_head(&repo.git_dir, &base)
        .map_err(git_failure(CREATE))?
        .ok_or_else(|| invalid("base"))?;
    let head_sha = gitstore::branch_head(&repo.git_dir, head)
        .map_err(git_failure(CREATE))?
        .ok_or_else(|| invalid("head"))?;
    if repo.pulls.iter().any(|p| p.head == head && p.base == base) {
        let message = format!("A pull request already exists for {}:{head}.", repo.owner);
        let error = FieldError::custom("PullRequest", message);
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    let comparison =
        gitstore::compare(&repo.git_dir, &base_sha, &head_sha).map_err(git_failure(CREATE))?;
    if comparison.ahead == 0 {
        let message = format!("No commits between {base} and {head}");
        let error = FieldError::custom("PullRequest", message);
        return Err(ApiError::validation(CREATE, vec![error]));
    }
    let number = state.add_pull(
        id,
        NewPull {
            user: caller.login,
            head: head.to_owned(),
            base,
            title,
            body: new.body,
            draft: new.draft.unwrap_or(false),
        },
    );
    let repo = state.repo(id);
    let pull = state
        .pull(id, number)
        .ok_or_else(|| ApiError::internal("pull request vanished"))?;
    let facts = facts(repo, pull, CREATE)?;
    let body = shapes::pull(ctx(&app, &state), id, pull, &facts);
    Ok(created(&body))
}

/// `GET /repos/{owner}/{repo}/pulls?state=&head=owner:branch&base=`, newest first. Every
/// pull request of the fake is open.
pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name)): P<(String, String)>,
    params: Params,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, LIST)?;
    let repo = state.repo(id);
    let wanted_state = params.get("state").unwrap_or("open");
    if !["open", "closed", "all"].contains(&wanted_state) {
        let error = FieldError::field("PullRequest", "invalid", "state");
        return Err(ApiError::validation(LIST, vec![error]));
    }
    let head = params.get("head").map(|h| head_branch(repo, h));
    let base = params.get("base");
    let mut items = Vec::new();
    for pull in repo.pulls.iter().rev() {
        let keep = wanted_state != "closed"
            && head.is_none_or(|h| h == Some(pull.head.as_str()))
            && base.is_none_or(|b| b == pull.base);
        if keep {
            let facts = facts(repo, pull, LIST)?;
            items.push(shapes::pull(ctx(&app, &state), id, pull, &facts));
        }
    }
    Ok(paginate(&app, &params, items))
}

/// `GET /repos/{owner}/{repo}/pulls/{number}`.
pub(crate) async fn get(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, number)): P<(String, String, u64)>,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, GET)?;
    let pull = state
        .pull(id, number)
        .ok_or_else(|| ApiError::not_found(GET))?;
    let facts = facts(state.repo(id), pull, GET)?;
    let body = shapes::pull(ctx(&app, &state), id, pull, &facts);
    Ok(json(StatusCode::OK, &body))
}

/// `GET /repos/{owner}/{repo}/pulls/{number}/commits`, oldest first, at most 250 (as GitHub),
/// paginated. `author` and `committer` are the accounts the emails link to, null otherwise.
pub(crate) async fn commits(
    State(app): State<App>,
    _caller: Caller,
    P((owner, name, number)): P<(String, String, u64)>,
    params: Params,
) -> Reply {
    let state = app.state();
    let id = find_repo(&state, &owner, &name, COMMITS)?;
    let pull = state
        .pull(id, number)
        .ok_or_else(|| ApiError::not_found(COMMITS))?;
    let repo = state.repo(id);
    let facts = facts(repo, pull, COMMITS)?;
    let shas = if facts.head_sha == NO_SHA || facts.base_sha == NO_SHA {
        Vec::new()
    } else {
        gitstore::commits_between(&repo.git_dir, &facts.base_sha, &facts.head_sha)
            .map_err(git_failure(COMMITS))?
    };
    let mut items = Vec::new();
    for sha in shas.iter().take(MAX_LISTED_COMMITS) {
        let info = gitstore::commit(&repo.git_dir, sha)
            .map_err(git_failure(COMMITS))?
            .ok_or_else(|| ApiError::internal("a listed commit vanished"))?;
        items.push(shapes::commit_item(ctx(&app, &state), repo, &info));
    }
    Ok(paginate(&app, &params, items))
}
