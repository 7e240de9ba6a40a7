//! Pull request routes: create (with GitHub's duplicate, no-commits and missing-branch
//! refusals), get, list filtered by state, head and base, and merge (merge commit, squash or
//! rebase, written as real commits).
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    P, Params, Reply, created, ctx, find_repo, git_failure, json, paginate, parse_body,
    require_permission, require_push, require_writable_token, required,
};
use crate::app::App;
use crate::error::{ApiError, FieldError};
use crate::gitstore::{self, Comparison, MergeMethod, MergeRequest, Person};
use crate::seed::PermissionLevel;
use crate::shapes::{self, PullFacts};
use crate::state::{Caller, NewPull, Pull, PullState, Repo};

const CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
const LIST: &str = "https://docs.github.com/rest/pulls/pulls#list-pull-requests";
const GET: &str = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request";
const MERGE: &str = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request";
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
    if repo
        .pulls
        .iter()
        .any(|p| p.is_open() && p.head == head && p.base == base)
    {
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

/// `GET /repos/{owner}/{repo}/pulls?state=&head=owner:branch&base=`, newest first; `state`
/// is `open` (the default), `closed` (merged ones included) or `all`.
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
        let state_matches = match wanted_state {
            "open" => pull.is_open(),
            "closed" => !pull.is_open(),
            _ => true,
        };
        let keep = state_matches
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

#[derive(Deserialize)]
struct MergeBody {
    commit_title: Option<String>,
    commit_message: Option<String>,
    sha: Option<String>,
    merge_method: Option<String>,
}

fn not_mergeable() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Pull Request is not mergeable",
        MERGE,
    )
}

/// `PUT /repos/{owner}/{repo}/pulls/{number}/merge {commit_title?, commit_message?, sha?,
/// merge_method?}`: writes the commits GitHub writes (a merge commit, one squashed commit, or
/// the head's commits replayed) and moves the base branch. 405 when the pull request is not
/// open or its changes conflict, 409 when `sha` is not the head, 422 for an unknown method.
pub(crate) async fn merge(
    State(app): State<App>,
    caller: Caller,
    P((owner, name, number)): P<(String, String, u64)>,
    body: Bytes,
) -> Reply {
    let mut state = app.state();
    let id = find_repo(&state, &owner, &name, MERGE)?;
    require_push(&state, id, &caller, MERGE)?;
    let new: MergeBody = parse_body(&body, "PullRequest", MERGE)?;
    let method = match new.merge_method.as_deref().unwrap_or("merge") {
        "merge" => MergeMethod::Merge,
        "squash" => MergeMethod::Squash,
        "rebase" => MergeMethod::Rebase,
        _ => {
            let error = FieldError::field("PullRequest", "invalid", "merge_method");
            return Err(ApiError::validation(MERGE, vec![error]));
        }
    };
    let repo = state.repo(id);
    let pull = state
        .pull(id, number)
        .ok_or_else(|| ApiError::not_found(MERGE))?
        .clone();
    if !pull.is_open() {
        return Err(not_mergeable());
    }
    let facts = facts(repo, &pull, MERGE)?;
    if new.sha.as_deref().is_some_and(|sha| sha != facts.head_sha) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Head branch was modified. Review and try the merge again.",
            MERGE,
        ));
    }
    if facts.head_sha == NO_SHA || facts.base_sha == NO_SHA || facts.comparison.ahead == 0 {
        return Err(not_mergeable());
    }
    let title = new.commit_title.unwrap_or_else(|| match method {
        MergeMethod::Squash => format!("{} (#{number})", pull.title),
        _ => format!(
            "Merge pull request #{number} from {}/{}",
            repo.owner, pull.head
        ),
    });
    let details = new.commit_message.unwrap_or_else(|| match method {
        MergeMethod::Merge => pull.title.clone(),
        _ => String::new(),
    });
    let message = if details.is_empty() {
        title
    } else {
        format!("{title}\n\n{details}")
    };
    let now = state.clock.tick();
    let merger = Person {
        name: caller.login.clone(),
        email: format!("{}@users.noreply.github.com", caller.login),
        when: now,
    };
    let request = MergeRequest {
        method,
        message: &message,
        merger: &merger,
    };
    let git_dir = state.repo(id).git_dir.clone();
    let sha = gitstore::merge_branches(&git_dir, &pull.base, &pull.head, &request)
        .map_err(git_failure(MERGE))?
        .ok_or_else(not_mergeable)?;
    let merged = state
        .repo_mut(id)
        .pulls
        .iter_mut()
        .find(|p| p.number == number)
        .ok_or_else(|| ApiError::internal("pull request vanished"))?;
    merged.state = PullState::Merged {
        at: now,
        sha: sha.clone(),
        by: caller.login,
    };
    let _ = gitstore::untrack_pull_head(&git_dir, number);
    let body = serde_json::json!({
        "sha": sha,
        "merged": true,
        "message": "Pull Request successfully merged",
    });
    Ok(json(StatusCode::OK, &body))
}
