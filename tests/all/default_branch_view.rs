//! Issue 17, one view of the default branch: plans and the policy resolve against
//! `origin/<default>` when the clone has it, so a local `main` behind, ahead of or diverged
//! from it gives the same plan id and the same policy; the reports name the ref and commit
//! read. A clone with no remote-tracking branch still reads its local `main`.

use git2::Oid;

use crate::fixture::{TestRepo, assert_exit, stdout};

const POLICY: &str = "\
version: 1
extends: [shipgate:two-person-release]
groups:
  release-managers: { users: [alice, bob] }
";

/// What a local commit ahead of `origin/main` says instead: a weaker policy.
const LOCAL_POLICY: &str = "\
version: 1
extends: [shipgate:two-person-release]
groups:
  release-managers: { users: [alice, bob, mallory] }
";

const PLAN: &str = "\
version: 1
operations:
  - kind: tag
    name: v1.1.0
    target: main
";

/// A repository whose `origin/main` is two commits past the standard `main` (the policy,
/// then a changelog entry); returns it, the commit before the tip, and the tip.
fn world() -> (TestRepo, Oid, Oid) {
    let repo = TestRepo::standard();
    let before = repo.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", POLICY)],
        "the policy",
    );
    let tip = repo.commit("main", &[("CHANGELOG.md", "## 1.1.0\n")], "1.1.0");
    repo.repo
        .reference("refs/remotes/origin/main", tip, true, "a fetch")
        .expect("origin/main");
    repo.write(".shipgate/plans/release.yaml", PLAN);
    (repo, before, tip)
}

fn set_local_main(repo: &TestRepo, to: Oid) {
    repo.repo
        .reference("refs/heads/main", to, true, "move local main")
        .expect("move main");
}

/// The plan id, the policy hash and the policy's source line of the dry-run.
fn view(repo: &TestRepo) -> (String, String, serde_json::Value) {
    let id = repo.shipgate(&[
        "plan",
        "id",
        ".shipgate/plans/release.yaml",
        "--repo-slug",
        "acme/widget",
    ]);
    assert_exit(&id, 0);
    let dry = repo.shipgate(&[
        "dry-run",
        "--repo-slug",
        "acme/widget",
        "--format",
        "json",
        "--at",
        "2026-06-01T00:00:00Z",
    ]);
    assert_exit(&dry, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&dry)).expect("json");
    (
        stdout(&id).trim().to_owned(),
        report["policy"]["hash"].as_str().expect("hash").to_owned(),
        report["policy"]["source"].clone(),
    )
}

#[test]
fn a_local_main_behind_ahead_of_or_diverged_from_origin_gives_origins_plan_id_and_policy() {
    let (repo, before, tip) = world();
    let expected = view(&repo);
    set_local_main(&repo, before);
    assert_eq!(view(&repo), expected, "local main behind origin/main");
    assert_eq!(expected.2["read_from"], "origin/main", "{}", expected.2);
    assert_eq!(expected.2["commit"], tip.to_string());

    repo.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", LOCAL_POLICY)],
        "a local policy change",
    );
    repo.commit("main", &[("CHANGELOG.md", "## 9.9.9\n")], "ahead");
    assert_eq!(
        view(&repo),
        expected,
        "local main diverged from origin/main"
    );

    set_local_main(&repo, tip);
    repo.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", LOCAL_POLICY)],
        "a local policy change on top",
    );
    assert_eq!(view(&repo), expected, "local main ahead of origin/main");

    let text = repo.shipgate(&[
        "dry-run",
        "--repo-slug",
        "acme/widget",
        "--at",
        "2026-06-01T00:00:00Z",
    ]);
    let short = &tip.to_string()[..12];
    assert!(
        stdout(&text).contains(&format!(
            ".shipgate/policies from origin/main at {short} (default branch main)"
        )),
        "the report names the ref and commit read:\n{}",
        stdout(&text)
    );
}

#[test]
fn a_clone_without_a_remote_tracking_branch_reads_its_local_main() {
    let (repo, _, tip) = world();
    repo.repo
        .find_reference("refs/remotes/origin/main")
        .expect("origin/main")
        .delete()
        .expect("delete origin/main");
    let (_, _, source) = view(&repo);
    assert_eq!(source["read_from"], "main", "{source}");
    assert_eq!(source["commit"], tip.to_string());

    // Moving local main is what a developer's dry-run then follows.
    let local = repo.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", LOCAL_POLICY)],
        "a local policy change",
    );
    let (_, _, source) = view(&repo);
    assert_eq!(source["commit"], local.to_string(), "{source}");
}

#[test]
fn default_branch_override_still_names_the_branch_read() {
    let (repo, _, tip) = world();
    let trunk = repo.commit(
        "trunk",
        &[(".shipgate/policies/policy.yaml", LOCAL_POLICY)],
        "trunk's policy",
    );
    let dry = repo.shipgate(&[
        "dry-run",
        "--repo-slug",
        "acme/widget",
        "--format",
        "json",
        "--default-branch",
        "trunk",
        "--at",
        "2026-06-01T00:00:00Z",
    ]);
    assert_exit(&dry, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&dry)).expect("json");
    assert_eq!(report["policy"]["source"]["read_from"], "trunk");
    assert_eq!(report["policy"]["source"]["commit"], trunk.to_string());
    assert_ne!(trunk, tip);
}
