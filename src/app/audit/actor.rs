//! Who an appended entry names as its actor.
use crate::audit::entry::Actor;

pub(super) fn actor_from_environment() -> Actor {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Actor {
        login: var("GITHUB_ACTOR")
            .or_else(|| var("USER"))
            .unwrap_or_else(|| "local".into()),
        workflow_run: var("GITHUB_RUN_ID"),
        sha: var("GITHUB_SHA"),
    }
}
