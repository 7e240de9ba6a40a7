//! Plan ids (DESIGN 2): golden values in a fixed repository, stable across clones, sensitive
//! to everything that ships and to nothing else.

use shipgate::canonical::sha256_prefixed;
use shipgate::model::RepoSlug;
use shipgate::plan::{ResolvedPlan, check_plan, resolve_plan};
use shipgate::repo::LocalRepo;

use crate::fixture::{TestRepo, git, shipgate_in, stdout};

const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
    message: Release 1.1.0
  - kind: release
    tag: v1.1.0
    notes_file: CHANGELOG.md
  - kind: pull_request
    head: feature
    base: main
    title: Merge feature
";

/// The same plan with keys reordered, flow style, comments and different spacing.
const PLAN_REWRITTEN: &str = "\
# a comment
operations:
  - { target: main,   message: 'Release 1.1.0', name: v1.1.0, kind: tag }
  - notes_file: CHANGELOG.md
    kind: release
    tag: \"v1.1.0\"
  -   kind:   pull_request
      title: Merge feature
      base: main
      head: feature
name: Release 1.1.0
version: 1
";

fn resolve(dir: &std::path::Path, text: &str) -> ResolvedPlan {
    let repo = LocalRepo::discover(dir).expect("repo");
    let slug = RepoSlug::parse("acme/widget").expect("slug");
    let checked = check_plan("plan.yaml", text.as_bytes()).expect("valid plan");
    resolve_plan(&checked, &slug, &repo).expect("resolvable plan")
}

// The fixture's commits are deterministic, so these are the same on every machine.
const MAIN_SHA: &str = "7dbe2faf2a62dcf57f464da3ef27a51da59a9524";
const FEATURE_SHA: &str = "5f130028898d8df2b4d0d0370efacbcc43b720ad";
/// sha256 of "## 1.0.0\n- first\n" (the fixture's CHANGELOG.md), as printed by sha256sum.
const NOTES_SHA256: &str = "1d4f6d6bb4e693013a69d7c395b48129077703d24497ba028fefa64c771f5f7b";
const GOLDEN_PLAN_ID: &str =
    "sha256:7316bdc2e16a86ac9051177349dbd4d91972c889b318c7666b0e28c89b55e694";

#[test]
fn golden_plan_id_for_the_fixture_repository() {
    let fixture = TestRepo::standard();
    assert_eq!(fixture.branch_sha("main"), MAIN_SHA);
    assert_eq!(fixture.branch_sha("feature"), FEATURE_SHA);
    let plan = resolve(fixture.path(), PLAN);
    // The exact canonical JSON that is hashed: keys sorted, no whitespace, shas pinned.
    let canonical = format!(
        concat!(
            r#"{{"operations":["#,
            r#"{{"kind":"tag","message":"Release 1.1.0","name":"v1.1.0","target":"{main}"}},"#,
            r#"{{"draft":false,"kind":"release","notes_sha256":"{notes}","prerelease":false,"tag":"v1.1.0","target":"{main}","title":"v1.1.0"}},"#,
            r#"{{"base":"main","base_sha":"{main}","draft":false,"head":"feature","head_sha":"{feature}","kind":"pull_request","title":"Merge feature"}}"#,
            r#"],"repo":"acme/widget","version":1}}"#
        ),
        main = MAIN_SHA,
        feature = FEATURE_SHA,
        notes = NOTES_SHA256,
    );
    assert_eq!(plan.id.as_str(), sha256_prefixed(canonical.as_bytes()));
    assert_eq!(plan.id.as_str(), GOLDEN_PLAN_ID);
}

#[test]
fn the_same_plan_has_the_same_id_in_two_clones_at_different_paths() {
    let fixture = TestRepo::standard();
    let original = resolve(fixture.path(), PLAN);
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let clone_path = elsewhere.path().join("deeper/clone");
    std::fs::create_dir_all(clone_path.parent().expect("parent")).expect("mkdir");
    git(
        elsewhere.path(),
        &[
            "clone",
            "--quiet",
            fixture.path().to_str().expect("utf-8"),
            clone_path.to_str().expect("utf-8"),
        ],
    );
    git(&clone_path, &["checkout", "--quiet", "main"]);
    let cloned = resolve(&clone_path, PLAN);
    assert_eq!(original.id, cloned.id);

    // And through the binary, which must print the id and nothing else.
    std::fs::write(clone_path.join("plan.yaml"), PLAN).expect("write plan");
    let out = shipgate_in(
        &clone_path,
        &["plan", "id", "plan.yaml", "--repo-slug", "acme/widget"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::fixture::stderr(&out)
    );
    assert_eq!(stdout(&out), format!("{}\n", original.id));
}

#[test]
fn key_order_whitespace_and_comments_do_not_change_the_id() {
    let fixture = TestRepo::standard();
    assert_eq!(
        resolve(fixture.path(), PLAN).id,
        resolve(fixture.path(), PLAN_REWRITTEN).id
    );
}

#[test]
fn a_new_commit_on_the_target_changes_the_id() {
    let fixture = TestRepo::standard();
    let before = resolve(fixture.path(), PLAN).id;
    fixture.commit("main", &[("src.txt", "more\n")], "another commit");
    assert_ne!(before, resolve(fixture.path(), PLAN).id);
}

#[test]
fn changed_release_notes_change_the_id() {
    let fixture = TestRepo::standard();
    let before = resolve(fixture.path(), PLAN).id;
    fixture.write("CHANGELOG.md", "## 1.0.0\n- first\n- and a late addition\n");
    assert_ne!(before, resolve(fixture.path(), PLAN).id);
}

#[test]
fn the_repository_and_the_display_name_are_handled_as_designed() {
    let fixture = TestRepo::standard();
    let repo = LocalRepo::discover(fixture.path()).expect("repo");
    let checked = check_plan("plan.yaml", PLAN.as_bytes()).expect("plan");
    let a = resolve_plan(
        &checked,
        &RepoSlug::parse("acme/widget").expect("slug"),
        &repo,
    )
    .expect("resolve");
    let b = resolve_plan(
        &checked,
        &RepoSlug::parse("acme/gadget").expect("slug"),
        &repo,
    )
    .expect("resolve");
    assert_ne!(a.id, b.id, "the repository is part of the id");
    let renamed = PLAN.replace("name: Release 1.1.0", "name: Something else");
    assert_eq!(
        a.id,
        resolve(fixture.path(), &renamed).id,
        "the display name is not"
    );
}

/// Issue 15: `publish` is left out of the id at its default, so plans written before it keep
/// their ids, and is bound when a release is to be published after its assets.
#[test]
fn publish_after_assets_is_bound_by_the_id_and_the_default_changes_nothing() {
    let fixture = TestRepo::standard();
    let with = |publish: &str| {
        PLAN.replace(
            "    notes_file: CHANGELOG.md\n",
            &format!("    notes_file: CHANGELOG.md\n    publish: {publish}\n"),
        )
    };
    assert_eq!(
        resolve(fixture.path(), &with("on_create")).id.as_str(),
        GOLDEN_PLAN_ID
    );
    let later = resolve(fixture.path(), &with("after_assets"));
    assert_ne!(later.id.as_str(), GOLDEN_PLAN_ID);
    let summary = later.operations[1].summary();
    assert!(summary.contains("draft until its assets"), "{summary}");

    for (bad, line) in [("soon", 11), ("after_assets\n    draft: true", 11)] {
        let err = check_plan("plan.yaml", with(bad).as_bytes()).expect_err("refused");
        assert_eq!(
            (err.0[0].kind, err.0[0].line),
            (shipgate::diag::InputErrorKind::InvalidValue, line),
            "{bad}"
        );
    }
}
