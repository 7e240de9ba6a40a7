//! Issue 15, immutable releases: a release with `publish: after_assets` ships as a draft,
//! `shipgate release publish` publishes it once (recorded as `release_published`), and refuses,
//! recording nothing, any release its run did not ship that way. End to end against the fake
//! GitHub and a bare `origin`. The fake serves no asset uploads (uploads.github.com), so the
//! assets step of the release workflow is not part of these tests.

use crate::execute_flow::{blocked_with, execute, run_id};
use crate::fixture::{assert_exit, stdout};
use crate::github_support::SLUG;
use crate::mint_flow::MintWorld;

fn plan(publish: &str) -> String {
    format!(
        "version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
  - kind: release
    tag: v1.1.0
    notes: first release
{publish}"
    )
}

/// A world whose tag and release (with `release_fields` added) were approved, minted and
/// executed: the run id.
pub fn shipped(release_fields: &str) -> (MintWorld, String) {
    let world = MintWorld::with("carol", &plan(release_fields));
    world.approve("alice");
    world.approve("bob");
    assert_exit(&world.mint(), 0);
    let run = run_id(&world);
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    (world, run)
}

fn publish(world: &MintWorld, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["release", "publish", "--tag", "v1.1.0"];
    args.extend(extra);
    world.shipgate(&args)
}

fn published_entries(world: &MintWorld) -> usize {
    world
        .kinds()
        .iter()
        .filter(|k| *k == "release_published")
        .count()
}

#[test]
fn a_release_to_publish_after_its_assets_ships_as_a_draft_and_publish_records_it_once() {
    let (world, run) = shipped("    publish: after_assets\n");
    let release = &world.github.fake.releases(SLUG)[0];
    assert!(release.draft, "shipped as a draft: {release:?}");

    let out = publish(&world, &["--run", &run]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("published"), "{}", stdout(&out));
    let release = &world.github.fake.releases(SLUG)[0];
    assert!(!release.draft, "published: {release:?}");
    assert_eq!(release.body.as_deref(), Some("first release"));
    assert_eq!(published_entries(&world), 1);
    let entry = world
        .chain()
        .into_iter()
        .find(|e| e["event"]["type"] == "release_published")
        .expect("recorded");
    assert_eq!(entry["event"]["run_id"], run.as_str());
    assert_eq!(entry["event"]["op_key"], "release:v1.1.0");
    assert_exit(&world.shipgate(&["audit", "verify"]), 0);

    // Twice (the run found by the chain this time): already published, nothing changes.
    let again = publish(&world, &[]);
    assert_exit(&again, 0);
    assert!(
        stdout(&again).contains("already published"),
        "{}",
        stdout(&again)
    );
    assert_eq!(published_entries(&world), 1);
    assert_exit(&world.shipgate(&["audit", "verify"]), 0);
}

#[test]
fn a_release_not_approved_for_publishing_later_is_refused_and_nothing_is_recorded() {
    let (world, run) = shipped("    draft: true\n");
    let before = world.chain().len();
    let out = publish(&world, &["--run", &run]);
    assert_exit(&out, 1);
    blocked_with(&out, "RELEASE_NOT_PUBLISHABLE");
    assert!(world.github.fake.releases(SLUG)[0].draft, "still a draft");
    assert_eq!(world.chain().len(), before, "nothing recorded");
}

#[test]
fn publishing_with_a_run_that_did_not_ship_the_release_is_refused_and_nothing_is_recorded() {
    let (world, _run) = shipped("    publish: after_assets\n");
    let before = world.chain().len();
    let out = publish(&world, &["--run", "run_someoneelse"]);
    assert_exit(&out, 1);
    blocked_with(&out, "RELEASE_NOT_PUBLISHABLE");
    assert!(world.github.fake.releases(SLUG)[0].draft, "still a draft");
    assert_eq!(world.chain().len(), before, "nothing recorded");

    let other_tag = world.shipgate(&["release", "publish", "--tag", "v9.9.9"]);
    assert_exit(&other_tag, 1);
    blocked_with(&other_tag, "RELEASE_NOT_PUBLISHABLE");
    assert_eq!(world.chain().len(), before, "nothing recorded");
}
