//! JSON builders: GitHub's full response objects, field for field as api.github.com sends
//! them (the OpenAPI schemas' `required` lists, checked by the contract test), with every URL
//! on the fake's base URL.
//!
//! Builders read the state and git results they are given; they never change anything and
//! never decide a status code.
mod git;
mod issues;
mod pulls;
mod releases;
mod repos;
mod statuses;

use base64::Engine;
use serde_json::{Value, json};

use crate::seed::{Role, UserKind};
use crate::state::{Repo, State, User};

pub(crate) use git::{commit, commit_item, git_ref, git_tag};
pub(crate) use issues::{comment, reaction};
pub(crate) use pulls::{PullFacts, pull};
pub(crate) use releases::release;
pub(crate) use repos::{
    branch, branch_rules, collaborator_permission, protection, repository, ruleset, team_full,
    team_membership,
};
pub(crate) use statuses::{combined, status};

/// What builders need: the base URL and the state (to look up users).
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub base: &'a str,
    pub state: &'a State,
}

impl Ctx<'_> {
    /// `{base}/repos/{owner}/{name}`.
    fn api(&self, repo: &Repo) -> String {
        format!("{}/repos/{}/{}", self.base, repo.owner, repo.name)
    }

    /// `{base}/{owner}/{name}`, the web page.
    fn html(&self, repo: &Repo) -> String {
        format!("{}/{}/{}", self.base, repo.owner, repo.name)
    }

    fn user_record(&self, login: &str) -> User {
        self.state.user(login).cloned().unwrap_or(User {
            id: 0,
            login: login.to_owned(),
            kind: UserKind::User,
        })
    }
}

/// A GraphQL-style node id, `base64("<kind>:<id>")`.
fn node_id(kind: &str, id: impl std::fmt::Display) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}:{id}"))
}

/// A login as GitHub writes it in a URL path: `[` and `]` (of `name[bot]`) percent-encoded.
fn login_path(login: &str) -> String {
    login.replace('[', "%5B").replace(']', "%5D")
}

/// simple-user. A bot's `html_url` is its app's page (`{base}/apps/github-actions` for
/// `github-actions[bot]`), and its API URLs encode the brackets, as GitHub writes them.
pub(crate) fn user(ctx: Ctx<'_>, login: &str) -> Value {
    let user = ctx.user_record(login);
    let api = format!("{}/users/{}", ctx.base, login_path(&user.login));
    let html_url = match user.login.strip_suffix("[bot]") {
        Some(app) if user.kind == UserKind::Bot => format!("{}/apps/{app}", ctx.base),
        _ => format!("{}/{}", ctx.base, user.login),
    };
    json!({
        "login": user.login,
        "id": user.id,
        "node_id": node_id(user.kind.as_str(), user.id),
        "avatar_url": format!("{}/avatars/u/{}?v=4", ctx.base, user.id),
        "gravatar_id": "",
        "url": api,
        "html_url": html_url,
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": user.kind.as_str(),
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// One JSON object from several (later keys win); `json!` cannot take GitHub's largest
/// objects in one piece within the default recursion limit.
fn merged<const N: usize>(parts: [Value; N]) -> Value {
    let mut object = serde_json::Map::new();
    for part in parts {
        if let Value::Object(map) = part {
            object.extend(map);
        }
    }
    Value::Object(object)
}

/// The `permissions` object of a repository or collaborator.
fn permissions(role: Role) -> Value {
    json!({
        "admin": role >= Role::Admin,
        "maintain": role >= Role::Maintain,
        "push": role >= Role::Write,
        "triage": role >= Role::Triage,
        // Every repository of the fake is public.
        "pull": true,
    })
}

/// private-user: the account a user token authenticates (`GET /user`).
pub(crate) fn private_user(ctx: Ctx<'_>, login: &str) -> Value {
    let zero = 0;
    merged([
        user(ctx, login),
        json!({
            "user_view_type": "private",
            "name": null, "company": null, "blog": "", "location": null, "email": null,
            "hireable": null, "bio": null, "public_repos": zero, "public_gists": zero,
            "followers": zero, "following": zero,
            "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
            "private_gists": zero, "total_private_repos": zero, "owned_private_repos": zero,
            "disk_usage": zero, "collaborators": zero, "two_factor_authentication": true,
        }),
    ])
}
