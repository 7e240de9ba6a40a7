//! Ship on merge (issue 17, DESIGN 13.7) end to end: a release pull request with a version bump
//! and a `target: merge` plan (tag and release), two approvals, mint, a merge on the fake
//! GitHub by each method (its real git writes the commits), then `execute --pending` in the
//! default branch's checkout. The tag lands on the merged commit carrying the approved tree;
//! a pull request merged behind its base is refused `RECEIPT_STALE`, saying what to do.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;

use shipgate::keys::allowed_signers_file;
use shipgate::policy::signer::parse_signer_key;
use shipgate::policy::{Signer, SignerRole};

use crate::fixture::{assert_exit, git, stderr, stdout};
use crate::github_support::{ALICE, SLUG};
use crate::mint_flow::MintWorld;

const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: merge
  - kind: release
    tag: v1.1.0
    notes_file: CHANGELOG.md
";

/// A release pull request of two commits: the version bump with the plan, then the changelog
/// (so a rebase lands the plan in the first of two commits); approved by two and minted.
pub(crate) fn approved_release() -> MintWorld {
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        repo.commit(
            "release-plan",
            &[
                ("VERSION", "1.1.0\n"),
                (".shipgate/plans/release.yaml", PLAN),
            ],
            "bump the version to 1.1.0 and plan its release",
        );
        repo.commit(
            "release-plan",
            &[("CHANGELOG.md", "## 1.1.0\n- shipped on merge\n")],
            "changelog for 1.1.0",
        );
    });
    // The author's checkout is the pull request's head.
    git(
        world.repo.path(),
        &["checkout", "--quiet", "-f", "release-plan"],
    );
    world.approve("alice");
    world.approve("bob");
    let minted = world.mint();
    assert_exit(&minted, 0);
    assert!(
        stdout(&minted).contains("AUTHORIZED"),
        "{}",
        stdout(&minted)
    );
    world
}

/// Merges pull request `pr` on the fake GitHub with `method`, as alice; the new base commit.
pub(crate) fn merge(world: &MintWorld, pr: u64, method: &str) -> String {
    let base = world.github.fake.base_url();
    let host = base.strip_prefix("http://").expect("http");
    let body = format!("{{\"merge_method\":\"{method}\"}}");
    let mut stream = TcpStream::connect(host).expect("connect");
    write!(
        stream,
        "PUT /repos/{SLUG}/pulls/{pr}/merge HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Accept: application/vnd.github+json\r\nUser-Agent: shipgate-tests\r\n\
         Authorization: Bearer {ALICE}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    world.github.peeled("refs/heads/main").expect("main")
}

/// The ship workflow's checkout after a push: the default branch as merged on GitHub.
pub(crate) fn check_out_main(world: &MintWorld) {
    let dir = world.repo.path();
    git(dir, &["fetch", "--quiet", "origin"]);
    git(
        dir,
        &["checkout", "--quiet", "-f", "-B", "main", "origin/main"],
    );
    git(dir, &["clean", "--quiet", "-fd"]);
}

/// Another commit lands on `branch` of GitHub (pushed from a clone).
pub(crate) fn land(world: &MintWorld, branch: &str, file: &str) {
    world
        .repo
        .commit(branch, &[(file, "other work\n")], "other work");
    git(
        world.repo.path(),
        &["push", "--quiet", "origin", &format!("{branch}:{branch}")],
    );
}

fn pending(world: &MintWorld) -> Output {
    world.shipgate(&["execute", "--pending"])
}

/// `audit verify` passes, and stock `git verify-commit` accepts the chain's head.
fn chain_verifies(world: &MintWorld) {
    assert_exit(&world.shipgate(&["audit", "verify"]), 0);
    let public = world
        .audit
        .public_line
        .rsplit_once(' ')
        .map(|(key, _)| key)
        .expect("a comment");
    let signer = Signer {
        kid: world.audit.kid.clone(),
        role: SignerRole::Audit,
        key: parse_signer_key(public).expect("public key"),
        not_before: None,
        not_after: None,
    };
    let signers = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(signers.path(), allowed_signers_file(&[signer])).expect("write");
    let head = world
        .github
        .peeled("refs/heads/shipgate/audit")
        .expect("the governance branch");
    let bare = git2::Repository::open_bare(world.github.fake.git_dir(SLUG)).expect("bare");
    let path = bare.path().to_owned();
    git(
        &path,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", signers.path().display()),
            "verify-commit",
            &head,
        ],
    );
}

/// Merges the approved release by `method` and ships it; the merged commit and the tag.
fn ships_after(method: &str) -> (MintWorld, String) {
    let world = approved_release();
    let merged = merge(&world, world.pr, method);
    check_out_main(&world);
    let out = pending(&world);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("== SHIPPED =="),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        world.github.peeled("refs/tags/v1.1.0").as_deref(),
        Some(merged.as_str()),
        "the tag is at the merged commit"
    );
    let releases = world.github.fake.releases(SLUG);
    assert_eq!(releases.len(), 1, "the release follows the tag");
    assert_eq!(
        releases[0].body.as_deref(),
        Some("## 1.1.0\n- shipped on merge\n")
    );
    chain_verifies(&world);
    (world, merged)
}

#[test]
fn a_merge_commit_of_an_up_to_date_release_pull_request_ships_the_tag_and_release() {
    let (world, merged) = ships_after("merge");
    let repo = git2::Repository::open(world.repo.path()).expect("repo");
    let commit = repo
        .find_commit(git2::Oid::from_str(&merged).expect("sha"))
        .expect("merged commit");
    assert_eq!(commit.parent_count(), 2, "a merge commit");
}

#[test]
fn a_squash_merge_ships_the_tag_at_the_squashed_commit() {
    let (world, merged) = ships_after("squash");
    let repo = git2::Repository::open(world.repo.path()).expect("repo");
    let commit = repo
        .find_commit(git2::Oid::from_str(&merged).expect("sha"))
        .expect("merged commit");
    assert_eq!(commit.parent_count(), 1, "one squashed commit");
}

#[test]
fn a_rebase_merge_ships_the_tag_at_the_last_commit_though_the_plan_landed_in_the_first() {
    let (world, merged) = ships_after("rebase");
    let repo = git2::Repository::open(world.repo.path()).expect("repo");
    let tip = repo
        .find_commit(git2::Oid::from_str(&merged).expect("sha"))
        .expect("merged commit");
    let first = tip.parent(0).expect("the replayed first commit");
    assert!(
        first
            .tree()
            .expect("tree")
            .get_path(std::path::Path::new(".shipgate/plans/release.yaml"))
            .is_ok(),
        "the plan landed in the first replayed commit"
    );
}

#[test]
fn a_release_pull_request_merged_behind_its_base_is_stale_and_says_what_to_do() {
    let world = approved_release();
    land(&world, "main", "OTHER.md");
    merge(&world, world.pr, "merge");
    check_out_main(&world);
    let out = pending(&world);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("blocked: RECEIPT_STALE"), "{text}");
    assert!(
        text.contains("the merged content differs from what was approved"),
        "{text}"
    );
    let status = world.status_comment();
    assert!(
        status.contains("the merged content differs from what was approved")
            && status.contains("require branches to be up to date before merging")
            && status.contains("approve the plan again on a new pull request"),
        "{status}"
    );
    assert_eq!(world.github.peeled("refs/tags/v1.1.0"), None, "no tag");
    assert!(world.github.fake.releases(SLUG).is_empty(), "no release");
    chain_verifies(&world);
}

#[test]
fn a_later_merge_of_another_pull_request_does_not_make_the_release_stale() {
    let world = approved_release();
    let merged = merge(&world, world.pr, "merge");
    land(&world, "other-work", "OTHER.md");
    let other = world
        .github
        .fake
        .open_pull(SLUG, "dave", "other-work", "main", "Other work");
    let later = merge(&world, other, "squash");
    assert_ne!(later, merged);
    check_out_main(&world);
    let out = pending(&world);
    assert_exit(&out, 0);
    assert_eq!(
        world.github.peeled("refs/tags/v1.1.0").as_deref(),
        Some(merged.as_str()),
        "the tag is at the release's merge, not at the later one"
    );
    assert_eq!(world.github.fake.releases(SLUG).len(), 1);
}

#[test]
fn shipping_before_the_merge_is_refused_not_merged_and_the_receipt_waits_for_it() {
    let world = approved_release();
    let run = crate::execute_flow::run_id(&world);
    let out = crate::execute_flow::execute(&world, &run, &[], &[]);
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("blocked: NOT_MERGED"),
        "{}",
        stdout(&out)
    );
    assert_eq!(world.github.peeled("refs/tags/v1.1.0"), None, "no tag");
    let merged = merge(&world, world.pr, "squash");
    check_out_main(&world);
    assert_exit(&pending(&world), 0);
    assert_eq!(
        world.github.peeled("refs/tags/v1.1.0").as_deref(),
        Some(merged.as_str())
    );
}

#[test]
fn the_dry_run_of_a_pull_request_behind_its_base_shows_the_plan_id_mint_mints() {
    let world = approved_release();
    let minted_id = world
        .chain()
        .iter()
        .rev()
        .find(|e| e["event"]["type"] == "run_opened")
        .and_then(|e| e["event"]["plan_id"].as_str().map(str::to_owned))
        .expect("a run");
    land(&world, "main", "OTHER");
    // The plan workflow's checkout: GitHub's test merge of the head into the moved base, whose
    // tree is not the head's.
    let dir = world.repo.path();
    git(
        dir,
        &["checkout", "--quiet", "-f", "-B", "test-merge", "main"],
    );
    git(
        dir,
        &[
            "-c",
            "user.name=GitHub",
            "-c",
            "user.email=noreply@github.com",
            "merge",
            "--quiet",
            "--no-ff",
            "--no-edit",
            "release-plan",
        ],
    );
    let pr = world.pr.to_string();
    let out = world.shipgate(&["dry-run", "--pr", &pr, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        report["plans"][0]["plan_id"],
        minted_id.as_str(),
        "{report}"
    );
}
