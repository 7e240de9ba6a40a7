//! Who an appended entry names as its actor: the GitHub login that acts. In Actions that is
//! `GITHUB_ACTOR`; from a terminal, the login of the token's account (`GET /user`, which an
//! installation token may not ask), else `git config user.name`. Never a made-up name: when
//! none is known, the command stops and says how to name one.

use git2::Repository;

use crate::audit::entry::Actor;
use crate::error::Error;
use crate::github::GitHubRead;
use crate::model::RepoSlug;

/// The actor of the entries this command appends, for the governed repository `slug`.
pub(super) fn actor_from_environment(repo: &Repository, slug: &str) -> Result<Actor, Error> {
    let login = choose_login(
        env_var("GITHUB_ACTOR"),
        || token_login(slug),
        || git_user_name(repo),
    )?;
    Ok(Actor {
        login,
        workflow_run: env_var("GITHUB_RUN_ID"),
        sha: env_var("GITHUB_SHA"),
    })
}

/// The first known of the workflow's actor, the token's login and git's user name.
fn choose_login(
    github_actor: Option<String>,
    token_login: impl FnOnce() -> Option<String>,
    git_user_name: impl FnOnce() -> Option<String>,
) -> Result<String, Error> {
    github_actor
        .or_else(token_login)
        .or_else(git_user_name)
        .ok_or_else(|| {
            Error::Usage(
                "cannot tell who acts, and every audit entry names its actor: set GITHUB_ACTOR to your GitHub login, set GITHUB_TOKEN to a token of your account, or set `git config user.name`".into(),
            )
        })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The login of `GITHUB_TOKEN`'s account; `None` without a token, for an installation token
/// (GitHub answers 403 "Resource not accessible by integration") or when GitHub cannot be
/// asked, which is said on stderr: the next source names the actor then.
fn token_login(slug: &str) -> Option<String> {
    let token = crate::app::github::token()?;
    let slug = RepoSlug::parse(slug).ok()?;
    let asked = crate::app::github::connect(&slug, token)
        .and_then(|(runtime, client)| Ok(runtime.block_on(client.identity())?));
    match asked {
        Ok(login) => login.map(|l| l.to_string()),
        Err(e) => {
            eprintln!("note: could not read the token's login for the audit actor: {e}");
            None
        }
    }
}

/// `git config user.name` as the repository sees it (its own, the global and system files).
fn git_user_name(repo: &Repository) -> Option<String> {
    let name = repo.config().ok()?.get_string("user.name").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> impl FnOnce() -> Option<String> + '_ {
        move || Some(name.to_owned())
    }

    fn unknown() -> Option<String> {
        None
    }

    #[test]
    fn the_workflow_actor_comes_first_then_the_token_login_then_git() {
        let all = choose_login(Some("octo".into()), known("tok"), known("Git Name"));
        assert_eq!(all.ok().as_deref(), Some("octo"));
        let token = choose_login(None, known("tok"), known("Git Name"));
        assert_eq!(token.ok().as_deref(), Some("tok"));
        let git = choose_login(None, unknown, known("Git Name"));
        assert_eq!(git.ok().as_deref(), Some("Git Name"));
    }

    #[test]
    fn with_no_source_the_actor_is_an_error_that_says_how_to_name_one() {
        match choose_login(None, unknown, unknown) {
            Err(Error::Usage(text)) => {
                assert!(text.contains("GITHUB_ACTOR"), "{text}");
                assert!(text.contains("git config user.name"), "{text}");
                assert!(!text.contains("local"), "{text}");
            }
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
}
