//! Hostile input end to end (issue 13, classes 7, 8 and 13): files that lead out of the
//! checkout through symlinks, nesting that would make the YAML parser quadratic, names that
//! pose as other refs or hide right-to-left overrides, all refused by the built binary with
//! their stable code, and the secret a symlink points at never printed.

use std::os::unix::fs::symlink;
use std::process::Output;

use git2::{Oid, Signature, Time};

use crate::fixture::{SIGNER_KEY, TestRepo, stderr, stdout};

const POLICY: &str = "\
version: 1
extends: [shipgate:two-person-release]
groups:
  release-managers: { users: [alice, bob] }
";

const SECRET: &str = "AWS_SECRET_ACCESS_KEY=hunter2-do-not-publish";

fn policy_text() -> String {
    format!(
        "{POLICY}signers:\n  - kid: mint-1\n    role: mint\n    key: {SIGNER_KEY}\n  - kid: audit-1\n    role: audit\n    key: {SIGNER_KEY}\n"
    )
}

/// The standard fixture with a committed policy on `main`.
fn governed() -> TestRepo {
    let fixture = TestRepo::standard();
    let policy = policy_text();
    fixture.commit(
        "main",
        &[(".shipgate/policies/policy.yaml", &policy)],
        "add the policy",
    );
    fixture.write(".shipgate/policies/policy.yaml", &policy);
    fixture
}

fn plan_with_notes_file(notes_file: &str) -> String {
    format!(
        "version: 1\nname: Release 1.1.0\noperations:\n  - kind: release\n    tag: v1.0.0\n    notes_file: {notes_file}\n"
    )
}

const TAG_PLAN: &str =
    "version: 1\noperations:\n  - kind: tag\n    name: v1.1.0\n    target: main\n";

fn dry_run(fixture: &TestRepo, extra: &[&str]) -> Output {
    let mut args = vec!["dry-run", "--repo-slug", "acme/widget"];
    args.extend(extra);
    fixture.shipgate(&args)
}

/// Exit 2 with `code` on stderr, and the secret nowhere in what was printed.
#[track_caller]
fn assert_refused(out: &Output, code: &str) {
    let (stdout, stderr) = (stdout(out), stderr(out));
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("error[{code}]")),
        "expected {code}:\n{stderr}"
    );
    for text in [&stdout, &stderr] {
        assert!(!text.contains("hunter2"), "the secret leaked:\n{text}");
    }
}

/// A secret outside the repository, in its own temporary directory.
fn secret_outside() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("secret.env");
    std::fs::write(&path, SECRET).expect("write the secret");
    (dir, path)
}

#[test]
fn a_plan_that_is_a_symlink_to_a_file_outside_is_refused() {
    let fixture = governed();
    let (_outside, secret) = secret_outside();
    std::fs::create_dir_all(fixture.path().join(".shipgate/plans")).expect("mkdir");
    let plan = fixture.path().join(".shipgate/plans/release.yaml");
    symlink(&secret, &plan).expect("symlink");

    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
    assert_refused(
        &fixture.shipgate(&["plan", "id", ".shipgate/plans/release.yaml"]),
        "SYMLINK_REFUSED",
    );
}

#[test]
fn a_notes_file_that_is_a_symlink_to_a_secret_is_never_published() {
    let fixture = governed();
    let (_outside, secret) = secret_outside();
    symlink(&secret, fixture.path().join("NOTES.md")).expect("symlink");
    fixture.write(
        ".shipgate/plans/release.yaml",
        &plan_with_notes_file("NOTES.md"),
    );
    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
}

#[test]
fn links_into_proc_are_refused_without_being_read() {
    let fixture = governed();
    // /proc/self/environ would echo the environment in a parse error; /proc/self/pagemap
    // claims a size of 0 and would be read until memory ran out.
    symlink("/proc/self/environ", fixture.path().join("ENV.md")).expect("symlink");
    symlink("/proc/self/pagemap", fixture.path().join("PAGES.md")).expect("symlink");
    let plan = fixture.path().join(".shipgate/plans/release.yaml");
    std::fs::create_dir_all(plan.parent().expect("dir")).expect("mkdir");
    symlink("/proc/self/environ", &plan).expect("symlink");
    let env = [("LEAKED_TOKEN", "hunter2")];
    let args = ["dry-run", "--repo-slug", "acme/widget"];
    assert_refused(
        &crate::fixture::shipgate_in_env(fixture.path(), &args, &env),
        "SYMLINK_REFUSED",
    );
    for notes in ["ENV.md", "PAGES.md"] {
        std::fs::remove_file(&plan).expect("rm");
        std::fs::write(&plan, plan_with_notes_file(notes)).expect("plan");
        assert_refused(
            &crate::fixture::shipgate_in_env(fixture.path(), &args, &env),
            "SYMLINK_REFUSED",
        );
    }
}

#[test]
fn a_notes_file_behind_a_symlinked_directory_is_refused() {
    let fixture = governed();
    let (outside, _secret) = secret_outside();
    symlink(outside.path(), fixture.path().join("docs")).expect("symlink");
    fixture.write(
        ".shipgate/plans/release.yaml",
        &plan_with_notes_file("docs/secret.env"),
    );
    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
}

#[test]
fn a_symlinked_plans_directory_is_refused() {
    let fixture = governed();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("release.yaml"), TAG_PLAN).expect("plan");
    std::fs::write(outside.path().join("secret.yaml"), SECRET).expect("secret");
    std::fs::create_dir_all(fixture.path().join(".shipgate")).expect("mkdir");
    symlink(outside.path(), fixture.path().join(".shipgate/plans")).expect("symlink");
    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
}

#[test]
fn a_policy_symlink_in_the_work_tree_is_refused() {
    let fixture = governed();
    let (_outside, secret) = secret_outside();
    fixture.write(".shipgate/plans/release.yaml", TAG_PLAN);
    symlink(
        &secret,
        fixture.path().join(".shipgate/policies/extra.yaml"),
    )
    .expect("symlink");
    assert_refused(
        &dry_run(&fixture, &["--policies-from-worktree"]),
        "SYMLINK_REFUSED",
    );
    assert_refused(
        &fixture.shipgate(&["policy", "check", ".shipgate/policies"]),
        "SYMLINK_REFUSED",
    );
}

#[test]
fn a_symlinked_policy_directory_in_the_work_tree_is_refused() {
    let fixture = governed();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("policy.yaml"), policy_text()).expect("policy");
    fixture.write(".shipgate/plans/release.yaml", TAG_PLAN);
    std::fs::remove_dir_all(fixture.path().join(".shipgate/policies")).expect("rm");
    symlink(outside.path(), fixture.path().join(".shipgate/policies")).expect("symlink");
    assert_refused(
        &dry_run(&fixture, &["--policies-from-worktree"]),
        "SYMLINK_REFUSED",
    );
}

/// Commits a symlink entry (mode 120000) at `path` pointing at `target` on `main`.
fn commit_symlink(fixture: &TestRepo, dir: &str, name: &str, target: &str) -> Oid {
    commit_symlink_on(fixture, "main", dir, name, target)
}

/// [`commit_symlink`] on `branch` (which starts at `main` when it does not exist yet).
fn commit_symlink_on(fixture: &TestRepo, branch: &str, dir: &str, name: &str, target: &str) -> Oid {
    let repo = &fixture.repo;
    let refname = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&refname)
        .or_else(|_| repo.find_reference("refs/heads/main"))
        .and_then(|r| r.peel_to_commit())
        .expect("main");
    let root = parent.tree().expect("tree");
    let link = repo.blob(target.as_bytes()).expect("blob");
    let sub = root
        .get_path(std::path::Path::new(dir))
        .ok()
        .map(|e| repo.find_tree(e.id()).expect("subtree"));
    let mut builder = repo.treebuilder(sub.as_ref()).expect("builder");
    builder.insert(name, link, 0o120000).expect("insert link");
    let mut sub_id = builder.write().expect("write");
    let parts: Vec<&str> = dir.split('/').collect();
    for depth in (0..parts.len()).rev() {
        let parent_path = parts[..depth].join("/");
        let parent_tree = if parent_path.is_empty() {
            Some(root.clone())
        } else {
            root.get_path(std::path::Path::new(&parent_path))
                .ok()
                .map(|e| repo.find_tree(e.id()).expect("tree"))
        };
        let mut builder = repo.treebuilder(parent_tree.as_ref()).expect("builder");
        builder
            .insert(parts[depth], sub_id, 0o040000)
            .expect("insert tree");
        sub_id = builder.write().expect("write");
    }
    let tree = repo.find_tree(sub_id).expect("tree");
    let sig = Signature::new(
        "Fixture",
        "fixture@example.com",
        &Time::new(1_767_300_000, 0),
    )
    .expect("sig");
    repo.commit(Some(&refname), &sig, &sig, "a symlink", &tree, &[&parent])
        .expect("commit")
}

#[test]
fn a_policy_symlink_committed_on_the_default_branch_is_refused() {
    let fixture = governed();
    fixture.write(".shipgate/plans/release.yaml", TAG_PLAN);
    commit_symlink(
        &fixture,
        ".shipgate/policies",
        "extra.yaml",
        "/proc/self/environ",
    );
    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
}

#[test]
fn a_committed_symlink_policy_directory_is_refused() {
    let fixture = TestRepo::standard();
    fixture.write(".shipgate/plans/release.yaml", TAG_PLAN);
    commit_symlink(&fixture, ".shipgate", "policies", "/etc");
    assert_refused(&dry_run(&fixture, &[]), "SYMLINK_REFUSED");
}

#[test]
fn a_megabyte_of_brackets_is_refused_with_its_position_and_the_limit() {
    let fixture = governed();
    let mut plan = String::from("version: 1\nname: ");
    plan.push_str(&"[".repeat(1024 * 1024 - plan.len()));
    let path = fixture.write(".shipgate/plans/deep.yaml", &plan);
    let out = fixture.shipgate(&["plan", "id", path.to_str().expect("utf-8")]);
    assert_refused(&out, "TOO_DEEP");
    let text = stderr(&out);
    assert!(text.contains(".shipgate/plans/deep.yaml:2:"), "{text}");
    assert!(text.contains("nesting limit"), "{text}");
}

#[test]
fn a_tag_named_like_a_full_ref_is_refused_with_a_hint() {
    let fixture = governed();
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\noperations:\n  - kind: tag\n    name: refs/heads/main\n    target: main\n",
    );
    let out = dry_run(&fixture, &[]);
    assert_refused(&out, "INVALID_REF_NAME");
    assert!(stderr(&out).contains("refs/"), "{}", stderr(&out));
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\noperations:\n  - kind: pull_request\n    head: refs/heads/x\n    base: main\n    title: t\n",
    );
    assert_refused(&dry_run(&fixture, &[]), "INVALID_REF_NAME");
}

#[test]
fn bidi_overrides_and_zero_width_characters_are_refused_in_names() {
    let fixture = governed();
    for (field, plan) in [
        (
            "name",
            "version: 1\nname: \"Release \\u202Egnp.exe\"\noperations:\n  - kind: tag\n    name: v1.1.0\n    target: main\n",
        ),
        (
            "tag",
            "version: 1\noperations:\n  - kind: tag\n    name: \"v1.1.0\\u200B\"\n    target: main\n",
        ),
        (
            "branch",
            "version: 1\noperations:\n  - kind: pull_request\n    head: \"release\\u2066x\"\n    base: main\n    title: t\n",
        ),
    ] {
        fixture.write(".shipgate/plans/release.yaml", plan);
        let out = dry_run(&fixture, &[]);
        assert_eq!(out.status.code(), Some(2), "{field}: {}", stderr(&out));
        let text = stderr(&out);
        for hidden in ['\u{202E}', '\u{200B}', '\u{2066}'] {
            assert!(!text.contains(hidden), "{field}: echoed raw: {text}");
        }
    }
}

#[test]
fn bidi_overrides_in_text_are_shown_escaped_in_the_status_comment() {
    let fixture = governed();
    fixture.write(
        ".shipgate/plans/release.yaml",
        "version: 1\noperations:\n  - kind: pull_request\n    head: feature\n    base: main\n    title: \"Fix \\u202Etxt.exe\\u200B\"\n",
    );
    let out = dry_run(&fixture, &["--format", "markdown"]);
    let text = stdout(&out);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    assert!(
        !text.contains('\u{202E}') && !text.contains('\u{200B}'),
        "{text}"
    );
    assert!(text.contains("u{202E}"), "{text}");
    let out = dry_run(&fixture, &[]);
    assert!(!stdout(&out).contains('\u{202E}'), "{}", stdout(&out));
}

#[test]
fn mint_refuses_symlinked_plans_and_notes_and_records_nothing() {
    use crate::github_support::SLUG;
    use crate::mint_flow::MintWorld;

    // The pull request's head commit holds the links: mint reads it as git objects.
    let (_outside, secret) = secret_outside();
    let secret = secret.display().to_string();
    let plan = plan_with_notes_file("docs/NOTES.md");
    let notes_link = MintWorld::with_history("carol", &plan, |repo| {
        repo.commit(
            "release-plan",
            &[(".shipgate/plans/release.yaml", &plan)],
            "plan",
        );
        commit_symlink_on(repo, "release-plan", "docs", "NOTES.md", &secret);
    });
    let plan_link = MintWorld::with_history("carol", &plan, |repo| {
        commit_symlink_on(
            repo,
            "release-plan",
            ".shipgate/plans",
            "release.yaml",
            &secret,
        );
    });
    for world in [notes_link, plan_link] {
        world
            .github
            .fake
            .add_comment(SLUG, world.pr, "alice", "/shipgate approve 0123456789ab");
        assert_refused(&world.mint(), "SYMLINK_REFUSED");
        assert!(world.kinds().is_empty(), "{:?}", world.kinds());
        assert!(!world.status_comment().contains("hunter2"));
    }
}

/// Pieces of markdown that open and close blocks, for the comment parser's fuzzing.
const MARKDOWN: &[&str] = &[
    "/shipgate approve 0123456789ab",
    "/shipgate revoke 0123456789ab",
    "> ",
    ">",
    "- ",
    "10. ",
    "    ",
    "\t",
    "```",
    "~~~",
    "<pre>",
    "</pre>",
    "<!--",
    "-->",
    "# ",
    "---",
    "text",
    "é",
    "\u{202E}",
    "\n",
    "\r",
    "\r\n",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

    #[test]
    fn markdown_shaped_comments_never_panic_the_command_parser(
        parts in proptest::collection::vec(proptest::sample::select(MARKDOWN), 0..40)
    ) {
        let body = parts.concat();
        let parsed = shipgate::approval::command::parse_comment(&body);
        let lines = body.split(['\n', '\r']).count();
        for (line, _) in &parsed.commands {
            proptest::prop_assert!(*line >= 1 && *line <= lines, "line {line} of {lines}");
        }
    }
}

#[test]
fn a_plan_path_that_steps_back_over_a_link_is_refused() {
    let fixture = governed();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(outside.path().join("plans")).expect("mkdir");
    std::fs::write(outside.path().join("plans/x.yaml"), TAG_PLAN).expect("plan");
    symlink(outside.path().join("plans"), fixture.path().join("lnk")).expect("symlink");
    fixture.write(".shipgate/plans/x.yaml", TAG_PLAN);
    assert_refused(
        &fixture.shipgate(&["plan", "id", "lnk/../plans/x.yaml"]),
        "SYMLINK_REFUSED",
    );
    // Without a link on the way, `..` is only a longer name for a file in the repository.
    let out = fixture.shipgate(&[
        "plan",
        "id",
        "--repo-slug",
        "acme/widget",
        ".shipgate/../.shipgate/plans/x.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
