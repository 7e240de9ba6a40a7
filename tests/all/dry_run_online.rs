//! `shipgate dry-run` with a token, against the fake GitHub: the preview of each operation
//! (absent, already shipped, conflicting), the status comment upserted in place with hostile
//! text escaped, the request budget, and that nothing but that comment is written.

use std::process::{Command, Output};

use crate::fixture::{SIGNER_KEY, TestRepo, assert_exit, stderr, stdout};
use crate::github_support::{BOT, GitHubWorld, READ_ONLY, SLUG, statuses_set};

fn policy() -> String {
    format!(
        "version: 1
groups:
  maintainers: {{ users: [alice, bob] }}
rules:
  - name: everything needs one maintainer
    match: {{ kinds: [tag, release, pull_request] }}
    approvals: {{ required: 1, from: [maintainers] }}
signers:
  - {{ kid: mint-1, role: mint, key: {SIGNER_KEY} }}
  - {{ kid: audit-1, role: audit, key: {SIGNER_KEY} }}
"
    )
}

const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
  - kind: release
    tag: v1.1.0
    notes_file: CHANGELOG.md
  - kind: pull_request
    head: feature
    base: main
    title: Merge the feature
";

/// The standard fixture with a committed policy and `plan` in the work tree.
fn governed(plan: &str) -> TestRepo {
    let fixture = TestRepo::standard();
    let policy = policy();
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", &policy)],
        "add the policy",
    );
    fixture.write(".shipgate/policies/policy.yaml", &policy);
    fixture.write(".shipgate/plans/release.yaml", plan);
    fixture
}

/// Commits `plan` on `feature`, the head of the tests' pull requests: with `--pr` the dry-run
/// reads the plans a pull request adds or changes at its head, as mint does.
fn on_the_pull_request(repo: &TestRepo, plan: &str) {
    repo.commit(
        "feature",
        &[(".shipgate/plans/release.yaml", plan)],
        "the pull request's plan",
    );
}

/// The repository governed with `plan` on main, `pr_plan` on `feature`, and alice's pull
/// request of `feature` open on the fake.
fn plan_pull_request(plan: &str, pr_plan: &str) -> (TestRepo, GitHubWorld, u64) {
    let repo = governed(plan);
    on_the_pull_request(&repo, pr_plan);
    let world = GitHubWorld::new(&repo);
    let pr = world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "plan");
    (repo, world, pr)
}

fn online(repo: &TestRepo, world: &GitHubWorld, extra: &[&str]) -> Output {
    online_as(BOT, repo, world, extra)
}

fn online_as(token: &str, repo: &TestRepo, world: &GitHubWorld, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args([
            "dry-run",
            "--repo-slug",
            SLUG,
            "--at",
            "2026-11-23T12:00:00Z",
        ])
        .args(extra)
        .current_dir(repo.path())
        .env_remove("GITHUB_REPOSITORY")
        .env("GITHUB_TOKEN", token)
        .env("GITHUB_API_URL", world.fake.base_url())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run shipgate")
}

/// The one request a dry-run sends that is not a read or its status comment: a pull request
/// from the base into itself, which GitHub can only refuse (422 when the token may open pull
/// requests, 403 when not), to learn whether the token may (issue 16).
fn is_probe(request: &fake_github::LoggedRequest) -> bool {
    request.method == "POST"
        && request.path == format!("/repos/{SLUG}/pulls")
        && [403, 422].contains(&request.status)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

fn previews(report: &serde_json::Value) -> Vec<(String, String)> {
    report["plans"][0]["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            let preview = &op["preview"];
            let code = preview["code"].as_str().unwrap_or("-");
            (
                preview["state"].as_str().expect("state").to_owned(),
                code.to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_fresh_plan_would_create_everything_within_n_plus_3_requests() {
    let repo = governed(PLAN);
    let world = GitHubWorld::new(&repo);
    let out = online(&repo, &world, &["--format", "json"]);
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(
        previews(&report),
        [
            ("would_create".to_owned(), "-".to_owned()),
            ("would_create".to_owned(), "-".to_owned()),
            ("would_create".to_owned(), "-".to_owned()),
        ]
    );
    assert_eq!(report["github"]["mode"], "online");
    let requests = world.fake.requests();
    assert!(
        requests.len() <= 3 + 4,
        "a 3-operation plan made {} requests: {:#?}",
        requests.len(),
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(report["github"]["requests"], requests.len());
    assert_eq!(requests.iter().filter(|r| is_probe(r)).count(), 1);
    assert!(
        requests.iter().all(|r| r.method == "GET" || is_probe(r)),
        "reads only, and the probe that cannot create"
    );
    assert_eq!(world.fake.pulls(SLUG).len(), 0, "the probe created nothing");
}

/// A fork's read-only token may not open pull requests, but the token that executes is
/// another workflow's: the dry-run warns that it could not tell instead of blocking the plan.
#[test]
fn a_forks_read_only_token_warns_instead_of_blocking_a_pull_request() {
    let repo = governed(PLAN);
    let world = GitHubWorld::new(&repo);
    let out = online_as(READ_ONLY, &repo, &world, &["--format", "json"]);
    let report = json(&out);
    assert_eq!(
        previews(&report)[2],
        ("would_create".to_owned(), "-".to_owned())
    );
    assert!(
        report["warnings"].to_string().contains("was not checked"),
        "{}",
        report["warnings"]
    );
}

/// A workflow's `GITHUB_TOKEN` may not open pull requests unless the repository allows it:
/// the dry-run says so, naming the setting, before anyone approves (issue 16).
#[test]
fn a_pull_request_the_workflow_token_may_not_open_is_reported_with_the_setting_to_change() {
    let repo = governed(PLAN);
    let world = GitHubWorld::new(&repo);
    world.fake.set_workflow_permissions(
        SLUG,
        fake_github::SeedWorkflowPermissions::allowing_pull_requests(false),
    );
    let out = online(&repo, &world, &["--format", "json"]);
    let report = json(&out);
    assert_eq!(
        previews(&report)[2],
        (
            "conflict".to_owned(),
            "TOKEN_CANNOT_OPEN_PULL_REQUEST".to_owned()
        )
    );
    let detail = report["plans"][0]["operations"][2]["preview"]["detail"].to_string();
    assert!(
        detail.contains("Allow GitHub Actions to create and approve pull requests"),
        "{detail}"
    );
    assert_eq!(world.fake.pulls(SLUG).len(), 0);
}

#[test]
fn what_already_exists_as_planned_is_already_shipped() {
    let repo = governed(PLAN);
    let world = GitHubWorld::new(&repo);
    let main = repo.branch_sha("main");
    let bare = git2::Repository::open_bare(world.bare.path()).expect("bare");
    bare.reference(
        "refs/tags/v1.1.0",
        git2::Oid::from_str(&main).expect("oid"),
        false,
        "test",
    )
    .expect("tag");
    world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "Merge the feature");
    let out = online(&repo, &world, &["--format", "json"]);
    assert_exit(&out, 0);
    assert_eq!(
        previews(&json(&out)),
        [
            ("already_shipped".to_owned(), "-".to_owned()),
            ("would_create".to_owned(), "-".to_owned()),
            ("already_shipped".to_owned(), "-".to_owned()),
        ]
    );
}

#[test]
fn a_tag_at_another_commit_and_a_missing_branch_block_with_their_codes() {
    let plan = PLAN.replace("head: feature", "head: gone");
    let repo = governed(&plan);
    repo.commit("gone", &[("gone.txt", "x\n")], "a local-only branch");
    let world = GitHubWorld::new(&repo);
    let bare = git2::Repository::open_bare(world.bare.path()).expect("bare");
    bare.find_reference("refs/heads/gone")
        .expect("cloned")
        .delete()
        .expect("delete");
    let feature = git2::Oid::from_str(&repo.branch_sha("feature")).expect("oid");
    bare.reference("refs/tags/v1.1.0", feature, false, "test")
        .expect("tag");

    let out = online(&repo, &world, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "blocked: {}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        previews(&report),
        [
            ("conflict".to_owned(), "CONFLICT_TAG_EXISTS".to_owned()),
            ("would_create".to_owned(), "-".to_owned()),
            ("conflict".to_owned(), "BRANCH_MISSING".to_owned()),
        ]
    );
    let text = online(&repo, &world, &[]);
    let text = stdout(&text);
    assert!(
        text.contains("verdict: blocked: CONFLICT_TAG_EXISTS"),
        "{text}"
    );
}

#[test]
fn the_status_comment_is_one_comment_updated_in_place_with_hostile_text_escaped() {
    let hostile = "\
version: 1
name: \"<img src=x onerror=alert(1)> @everyone [click](http://evil) **bold**\"
operations:
  - kind: pull_request
    head: \"x<b>@admins</b>\"
    base: main
    title: \"</table><script>alert(1)</script> @org/team\"
";
    let repo = governed(hostile);
    repo.commit("x<b>@admins</b>", &[("x.txt", "x\n")], "hostile branch");
    on_the_pull_request(&repo, hostile);
    let world = GitHubWorld::new(&repo);
    let pr = world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "plan");
    for _ in 0..3 {
        let out = online(&repo, &world, &["--pr", &pr.to_string()]);
        assert_exit(&out, 0);
    }
    let comments = world.fake.comments(SLUG, pr);
    assert_eq!(comments.len(), 1, "one status comment after three dry-runs");
    let body = &comments[0].body;
    assert!(body.starts_with("<!-- shipgate:status -->"), "{body}");
    assert!(body.contains("DRY RUN - nothing was shipped"));
    assert!(body.contains("/shipgate approve "));
    for injected in [
        "<img",
        "<script",
        "</table>",
        "<b>",
        "@everyone",
        "@admins",
        "@org",
        "[click](http",
        "**bold",
    ] {
        assert!(
            !body.contains(injected),
            "{injected} reached the comment:\n{body}"
        );
    }
    let writes: Vec<String> = world
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !is_probe(r) && !r.path.contains("/statuses/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes.len(), 3, "one comment write per dry-run: {writes:?}");
    assert!(writes[0].starts_with(&format!("POST /repos/{SLUG}/issues/{pr}/comments")));
    assert!(
        writes[1..]
            .iter()
            .all(|w| w.starts_with(&format!("PATCH /repos/{SLUG}/issues/comments/")))
    );

    let quiet = online(&repo, &world, &["--pr", &pr.to_string(), "--no-comment"]);
    assert_exit(&quiet, 0);
    assert_eq!(
        world
            .fake
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && !is_probe(r))
            .count(),
        6,
        "--no-comment writes nothing (three comment writes and three statuses before)"
    );
}

#[test]
fn a_read_only_token_from_a_fork_gets_the_report_without_a_comment() {
    let plan =
        "version: 1\nname: Tag\noperations:\n  - { kind: tag, name: v1.1.0, target: main }\n";
    let (repo, world, pr) = plan_pull_request(plan, plan);
    let out = online_as(READ_ONLY, &repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("the token may not comment"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("would create"), "{}", stdout(&out));
    assert!(world.fake.comments(SLUG, pr).is_empty());
    assert!(
        stdout(&out).contains("commit status") && stdout(&out).contains("was not set"),
        "{}",
        stdout(&out)
    );
    assert!(statuses_set(&world).is_empty());
}

/// The `shipgate` check of one dry-run of a pull request of `feature`: the one status set,
/// on the pull request's head.
fn check_of(repo: &TestRepo, world: &GitHubWorld) -> serde_json::Value {
    let set = statuses_set(world);
    let [(sha, check)] = set.as_slice() else {
        panic!("one status per dry-run: {set:?}");
    };
    assert_eq!(sha, &repo.branch_sha("feature"), "on the head, not on main");
    assert_eq!(check["context"], "shipgate");
    let description = check["description"].as_str().expect("a description");
    assert!(description.chars().count() <= 140 && !description.contains('\n'));
    check.clone()
}

#[test]
fn a_plan_awaiting_approval_makes_the_shipgate_check_pending_with_a_link_to_the_comment() {
    let plan =
        "version: 1\nname: Tag\noperations:\n  - { kind: tag, name: v1.1.0, target: main }\n";
    let (repo, world, pr) = plan_pull_request(plan, plan);
    let out = online(&repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 0);
    let check = check_of(&repo, &world);
    assert_eq!(check["state"], "pending", "{check}");
    assert!(
        check["description"]
            .as_str()
            .is_some_and(|d| d.contains("/shipgate approve ")),
        "{check}"
    );
    let comment = world.fake.comments(SLUG, pr)[0].id;
    assert!(
        check["target_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/pull/{pr}#issuecomment-{comment}"))),
        "{check}"
    );
}

#[test]
fn a_pull_request_without_plans_gets_a_successful_shipgate_check_at_once() {
    let repo = governed(PLAN);
    let world = GitHubWorld::new(&repo);
    let pr = world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "no plan");
    let out = online(&repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 0);
    assert_eq!(check_of(&repo, &world)["state"], "success");
}

#[test]
fn a_blocked_plan_fails_the_shipgate_check_naming_the_reason_code() {
    let plan =
        "version: 1\nname: Tag\noperations:\n  - { kind: tag, name: v1.1.0, target: main }\n";
    let repo = governed(plan);
    on_the_pull_request(&repo, plan);
    let world = GitHubWorld::new(&repo);
    let bare = git2::Repository::open_bare(world.bare.path()).expect("bare");
    let feature = git2::Oid::from_str(&repo.branch_sha("feature")).expect("oid");
    bare.reference("refs/tags/v1.1.0", feature, false, "test")
        .expect("tag");
    let pr = world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "plan");
    let out = online(&repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 1);
    let check = check_of(&repo, &world);
    assert_eq!(check["state"], "failure", "{check}");
    assert!(
        check["description"]
            .to_string()
            .contains("CONFLICT_TAG_EXISTS"),
        "{check}"
    );
}

#[test]
fn a_plan_that_does_not_load_fails_the_shipgate_check() {
    let (repo, world, pr) =
        plan_pull_request(PLAN, "version: 1\noperations: [ { kind: nonsense } ]\n");
    let out = online(&repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 2);
    assert_eq!(check_of(&repo, &world)["state"], "failure");
}

#[test]
fn online_without_a_token_is_a_usage_error_and_github_errors_exit_3() {
    let repo = governed(PLAN);
    let out = repo.shipgate(&["dry-run", "--repo-slug", SLUG, "--online"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("GITHUB_TOKEN"), "{}", stderr(&out));

    let world = GitHubWorld::new(&repo);
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args(["dry-run", "--repo-slug", SLUG])
        .current_dir(repo.path())
        .env("GITHUB_TOKEN", "not-a-token")
        .env("GITHUB_API_URL", world.fake.base_url())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run");
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("GITHUB_UNAUTHORIZED"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_token_without_a_known_repository_falls_back_to_the_local_preview() {
    let repo = governed(PLAN);
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args(["dry-run", "--format", "json"])
        .current_dir(repo.path())
        .env_remove("GITHUB_REPOSITORY")
        .env("GITHUB_TOKEN", "a-token")
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run");
    assert_exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["github"]["mode"], "local_only");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("GitHub was not read"), "{warnings}");

    let required = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args(["dry-run", "--online"])
        .current_dir(repo.path())
        .env_remove("GITHUB_REPOSITORY")
        .env("GITHUB_TOKEN", "a-token")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run");
    assert_exit(&required, 2);
}

#[test]
fn in_actions_the_report_goes_to_the_job_summary_and_the_outputs_to_github_output() {
    let repo = governed(PLAN);
    let summary = repo.path().join("summary.md");
    let outputs = repo.path().join("outputs.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .args([
            "dry-run",
            "--repo-slug",
            SLUG,
            "--at",
            "2026-12-24T12:00:00Z",
        ])
        .current_dir(repo.path())
        .env_remove("GITHUB_TOKEN")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run");
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        written.starts_with("## DRY RUN - nothing was shipped"),
        "{written}"
    );
    let outputs = std::fs::read_to_string(&outputs).expect("outputs");
    let plan_id = stdout(&out)
        .lines()
        .find_map(|l| l.trim().strip_prefix("id: ").map(str::to_owned))
        .expect("the plan id in the report");
    assert!(
        outputs.contains(&format!("plan-id={plan_id}\n")),
        "{outputs}"
    );
    assert!(outputs.contains("status=clean\n"), "{outputs}");
    assert!(outputs.contains("blocked-reasons=\n"), "{outputs}");
}

#[test]
fn a_pull_request_that_changes_the_policy_shows_what_changes_in_its_status_comment() {
    let repo = governed(PLAN);
    // The pull request adds a mint signer of its own, an approver, and lowers nothing else.
    let weaker = policy()
        .replace("[alice, bob]", "[alice, bob, mallory]")
        .replace(
            "signers:\n",
            &format!("signers:\n  - {{ kid: mint-mallory, role: mint, key: {SIGNER_KEY} }}\n"),
        );
    repo.write(".shipgate/policies/policy.yaml", &weaker);
    on_the_pull_request(&repo, PLAN);
    let world = GitHubWorld::new(&repo);
    let pr = world
        .fake
        .open_pull(SLUG, "mallory", "feature", "main", "plan");
    // (Exit 1: the plan's own pull request operation conflicts with this open one.)
    let out = online(&repo, &world, &["--pr", &pr.to_string()]);
    assert_exit(&out, 1);
    // Markdown-escaped text, read without its escapes.
    let body = world.fake.comments(SLUG, pr)[0].body.replace('\\', "");
    assert!(
        body.contains("Policy changes in this pull request"),
        "{body}"
    );
    assert!(body.contains("mint signer mint-mallory added"), "{body}");
    assert!(
        body.contains("group &quot;maintainers&quot; changed"),
        "{body}"
    );
    assert!(body.contains("mallory"), "{body}");
    // The policy that judges is still the default branch's.
    let report = json(&online(&repo, &world, &["--format", "json"]));
    assert_eq!(
        report["policy_changes"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    // Without a change, nothing is said.
    repo.write(".shipgate/policies/policy.yaml", &policy());
    let report = json(&online(&repo, &world, &["--format", "json"]));
    assert!(report.get("policy_changes").is_none(), "{report}");
}

/// Issue 18, fresh status: a push that changes the plan changes its id, and the status comment
/// names the approvals of the old id that no longer count (not the ones of the current id).
#[test]
fn a_push_that_changes_the_plan_names_the_approvals_that_became_stale() {
    let plan =
        "version: 1\nname: Tag\noperations:\n  - { kind: tag, name: v1.1.0, target: main }\n";
    let (repo, world, pr) = plan_pull_request(plan, plan);
    let pr_arg = pr.to_string();
    let first = online(&repo, &world, &["--pr", &pr_arg, "--format", "json"]);
    assert_exit(&first, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&first)).expect("json");
    let plan_id = report["plans"][0]["plan_id"].as_str().expect("plan id");
    let prefix = &plan_id["sha256:".len().."sha256:".len() + 12];
    world
        .fake
        .add_comment(SLUG, pr, "bob", &format!("/shipgate approve {prefix}"));
    let approved = online(&repo, &world, &["--pr", &pr_arg]);
    assert_exit(&approved, 0);
    let comments = world.fake.comments(SLUG, pr);
    assert!(
        comments
            .iter()
            .all(|c| !c.body.contains("Approvals that no longer count")),
        "an approval of the current id is not stale"
    );

    on_the_pull_request(&repo, &plan.replace("v1.1.0", "v1.2.0"));
    let pushed = crate::fixture::git(
        repo.path(),
        &[
            "push",
            "--quiet",
            "--force",
            world.bare.path().to_str().expect("utf-8"),
            "feature",
        ],
    );
    assert!(pushed.status.success(), "{}", stderr(&pushed));
    let after = online(&repo, &world, &["--pr", &pr_arg]);
    assert_exit(&after, 0);
    let bodies: Vec<String> = world
        .fake
        .comments(SLUG, pr)
        .into_iter()
        .filter(|c| c.login != "bob")
        .map(|c| c.body)
        .collect();
    let [body] = bodies.as_slice() else {
        panic!("one status comment, updated in place: {bodies:?}");
    };
    assert!(
        body.contains("### Approvals that no longer count"),
        "{body}"
    );
    assert!(
        body.contains(&format!("**bob** approved `{prefix}`")),
        "{body}"
    );
    assert!(
        !body.contains(&format!("/shipgate approve {prefix}\n")),
        "{body}"
    );
}
