//! The audit actor is the GitHub login that acts (issue 17): `GITHUB_ACTOR` in Actions, else
//! the token's login (`GET /user`; an installation token may not ask, so the next source
//! speaks), else `git config user.name`; never a made-up `local`. With none known, the
//! append is refused with how to name one, and nothing is written.

use std::process::Output;

use crate::fixture::{assert_exit, stderr};
use crate::github_support::{ALICE, BOT};
use crate::mint_flow::MintWorld;

/// Appends a note as a terminal would: no `GITHUB_ACTOR`, the token given, and git's
/// configuration only the repository's own (an empty home, no system file).
fn note(world: &MintWorld, token: &str, env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().expect("temp dir");
    let home_path = home.path().display().to_string();
    let base = [
        ("GITHUB_TOKEN", token),
        ("HOME", home_path.as_str()),
        ("XDG_CONFIG_HOME", home_path.as_str()),
    ];
    world
        .command(&["audit", "note", "who am I"], &base)
        .env_remove("GITHUB_ACTOR")
        .envs(env.iter().copied())
        .output()
        .expect("run shipgate")
}

fn last_actor(world: &MintWorld) -> String {
    let chain = world.chain();
    let last = chain.last().expect("an entry");
    assert_eq!(last["event"]["type"], "note", "{last}");
    last["actor"]["login"].as_str().expect("a login").to_owned()
}

#[test]
fn in_actions_the_actor_is_github_actor() {
    let world = MintWorld::new();
    let out = note(&world, BOT, &[("GITHUB_ACTOR", "octo-releaser")]);
    assert_exit(&out, 0);
    assert_eq!(last_actor(&world), "octo-releaser");
}

#[test]
fn from_a_terminal_a_user_token_names_its_own_login() {
    let world = MintWorld::new();
    let out = note(&world, ALICE, &[]);
    assert_exit(&out, 0);
    assert_eq!(last_actor(&world), "alice");
}

#[test]
fn an_installation_token_may_not_ask_so_git_user_name_names_the_actor() {
    let world = MintWorld::new();
    let set = std::process::Command::new("git")
        .current_dir(world.repo.path())
        .args(["config", "user.name", "Dana Dev"])
        .output()
        .expect("git runs");
    assert!(set.status.success());
    let out = note(&world, BOT, &[]);
    assert_exit(&out, 0);
    assert_eq!(last_actor(&world), "Dana Dev");
}

#[test]
fn with_no_source_the_append_is_refused_and_says_how_to_name_the_actor() {
    let world = MintWorld::new();
    let before = world.chain().len();
    let out = note(&world, BOT, &[]);
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("GITHUB_ACTOR"), "{text}");
    assert!(text.contains("git config user.name"), "{text}");
    assert_eq!(world.chain().len(), before, "nothing is appended");
}
