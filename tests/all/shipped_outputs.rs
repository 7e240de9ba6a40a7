//! Issue 18: `shipgate execute` and `shipgate release publish` say what shipped through
//! `$GITHUB_OUTPUT`, for every exit code: `shipped` (JSON, one object per operation done) and
//! the single-release outputs.

use std::collections::BTreeMap;

use fake_github::{Fault, FaultKind};
use serde_json::Value;

use crate::execute_flow::{execute, minted};
use crate::fixture::assert_exit;
use crate::github_support::SLUG;
use crate::mint_flow::MintWorld;
use crate::publish_release::shipped as shipped_draft;

/// `name=value` lines and `name<<DELIMITER` blocks, as the runner reads them; a name written
/// twice is a failure (the runner would keep the last one silently).
fn read_outputs(world: &MintWorld) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(world.repo.path().join("outputs.txt")).expect("outputs");
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, value) = match line.split_once('=') {
            Some((name, value)) if !name.contains("<<") => (name.to_owned(), value.to_owned()),
            _ => {
                let (name, fence) = line.split_once("<<").expect("name<<DELIMITER");
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != fence).collect();
                (name.to_owned(), value.join("\n"))
            }
        };
        assert!(
            outputs.insert(name.clone(), value).is_none(),
            "{name} twice: {text}"
        );
    }
    outputs
}

fn run_with_outputs(world: &MintWorld, run: &str, extra: &[&str]) -> std::process::Output {
    let path = world.repo.path().join("outputs.txt");
    execute(
        world,
        run,
        extra,
        &[("GITHUB_OUTPUT", path.to_str().expect("utf-8"))],
    )
}

fn shipped(outputs: &BTreeMap<String, String>) -> Vec<Value> {
    let json: Value = serde_json::from_str(&outputs["shipped"]).expect("shipped is JSON");
    json.as_array().expect("an array").clone()
}

#[test]
fn execute_outputs_each_shipped_operation_with_githubs_own_facts() {
    let (world, run) = minted();
    let out = run_with_outputs(&world, &run, &[]);
    assert_exit(&out, 0);
    let outputs = read_outputs(&world);
    let ops = shipped(&outputs);
    let kinds: Vec<&str> = ops
        .iter()
        .map(|o| o["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["tag", "release", "pull_request"]);
    let main = world.repo.branch_sha("main");
    let base = world.github.fake.base_url();
    let release = &world.github.fake.releases(SLUG)[0];
    let (tag, rel, pr) = (&ops[0], &ops[1], &ops[2]);
    assert_eq!(tag["key"], "tag:v1.1.0");
    assert_eq!(tag["sha"], main.as_str());
    assert_eq!(tag["release_id"], Value::Null);
    assert_eq!(rel["tag"], "v1.1.0");
    assert_eq!(rel["sha"], main.as_str());
    assert_eq!(rel["release_id"], release.id);
    assert_eq!(rel["run_id"], run.as_str());
    assert_eq!(
        rel["html_url"],
        format!("{base}/{SLUG}/releases/tag/v1.1.0").as_str()
    );
    assert_eq!(
        rel["upload_url"],
        format!(
            "{base}/repos/{SLUG}/releases/{}/assets{{?name,label}}",
            release.id
        )
        .as_str()
    );
    let number = pr["pr_number"].as_u64().expect("a pull request number");
    assert_eq!(
        pr["pr_url"],
        format!("{base}/{SLUG}/pull/{number}").as_str()
    );
    assert_eq!(pr["tag"], Value::Null);
    assert_eq!(outputs["tag"], "v1.1.0");
    assert_eq!(outputs["release-id"], release.id.to_string());
    assert_eq!(
        outputs["release-url"],
        rel["html_url"].as_str().expect("url")
    );
    assert_eq!(
        outputs["upload-url"],
        rel["upload_url"].as_str().expect("url")
    );
    assert_eq!(outputs["status"], "shipped");

    // A replay ships nothing new but still says what the run shipped.
    std::fs::remove_file(world.repo.path().join("outputs.txt")).expect("reset");
    assert_exit(&run_with_outputs(&world, &run, &[]), 0);
    assert_eq!(shipped(&read_outputs(&world)), ops);
}

#[test]
fn a_failed_execute_outputs_what_shipped_before_the_failure() {
    let (world, run) = minted();
    world.github.fake.inject_optional(Fault::new(
        Some("POST"),
        "/repos/*/*/releases",
        FaultKind::Status(500),
        50,
    ));
    let out = run_with_outputs(&world, &run, &["--give-up-after", "1"]);
    assert_exit(&out, 3);
    let outputs = read_outputs(&world);
    let ops = shipped(&outputs);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["key"], "tag:v1.1.0");
    for name in ["tag", "release-id", "release-url", "upload-url"] {
        assert_eq!(outputs[name], "", "{name}: no release shipped");
    }
}

#[test]
fn an_execute_that_ships_nothing_outputs_an_empty_list() {
    let world = MintWorld::new();
    let path = world.repo.path().join("outputs.txt");
    let out = world.shipgate_with(
        &["execute", "--pending"],
        &[("GITHUB_OUTPUT", path.to_str().expect("utf-8"))],
    );
    let outputs = read_outputs(&world);
    assert_eq!(outputs["shipped"], "[]", "exit {:?}", out.status.code());
    assert_eq!(outputs["tag"], "");
}

/// GitHub Enterprise Server: every link shipgate prints, comments and outputs is GitHub's own
/// answer from `GITHUB_API_URL` (here the fake, on a host that is not github.com), and nothing
/// falls back to github.com even with `GITHUB_SERVER_URL` naming another server.
#[test]
fn no_link_names_github_com_on_an_enterprise_host() {
    let (world, run) = minted();
    let outputs = world.repo.path().join("outputs.txt");
    let summary = world.repo.path().join("summary.md");
    let out = execute(
        &world,
        &run,
        &[],
        &[
            ("GITHUB_OUTPUT", outputs.to_str().expect("utf-8")),
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
            ("GITHUB_SERVER_URL", "http://ghe.invalid"),
        ],
    );
    assert_exit(&out, 0);
    let base = world.github.fake.base_url();
    let written = [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(&outputs).expect("outputs"),
        std::fs::read_to_string(&summary).expect("summary"),
        world.status_comment(),
    ];
    for text in &written {
        assert!(!text.contains("github.com"), "{text}");
    }
    assert!(written[1].contains(&format!("{base}/{SLUG}/releases/tag/v1.1.0")));
    assert!(written[3].contains(&format!("{base}/{SLUG}/pull/")));
}

/// `release publish` (a draft shipped with `publish: after_assets`) leaves the same outputs:
/// the release it published, again when it finds it published, and `[]` when it refuses.
#[test]
fn release_publish_outputs_the_published_release_and_a_refusal_outputs_nothing_shipped() {
    let (world, run) = shipped_draft("    publish: after_assets\n");
    let path = world.repo.path().join("outputs.txt");
    let publish = |tag: &str| {
        std::fs::remove_file(&path).ok();
        let out = world.shipgate_with(
            &["release", "publish", "--tag", tag],
            &[("GITHUB_OUTPUT", path.to_str().expect("utf-8"))],
        );
        (out, read_outputs(&world))
    };
    let (out, outputs) = publish("v1.1.0");
    assert_exit(&out, 0);
    let release = &world.github.fake.releases(SLUG)[0];
    assert!(!release.draft, "published");
    let ops = shipped(&outputs);
    let [op] = ops.as_slice() else {
        panic!("one release: {ops:?}");
    };
    let base = world.github.fake.base_url();
    assert_eq!(op["kind"], "release");
    assert_eq!(op["key"], "release:v1.1.0");
    assert_eq!(op["run_id"], run.as_str());
    assert_eq!(op["tag"], "v1.1.0");
    assert_eq!(op["sha"], world.repo.branch_sha("main").as_str());
    assert_eq!(op["release_id"], release.id);
    assert_eq!(
        op["html_url"],
        format!("{base}/{SLUG}/releases/tag/v1.1.0").as_str()
    );
    assert_eq!(outputs["tag"], "v1.1.0");
    assert_eq!(outputs["release-id"], release.id.to_string());
    assert_eq!(
        outputs["release-url"],
        op["html_url"].as_str().expect("url")
    );
    assert_eq!(
        outputs["upload-url"],
        op["upload_url"].as_str().expect("url")
    );
    assert_eq!(outputs["status"], "published");
    assert_eq!(outputs["run-id"], run);

    let (again, outputs) = publish("v1.1.0");
    assert_exit(&again, 0);
    assert_eq!(shipped(&outputs), ops, "found published: the same release");

    let (refused, outputs) = publish("v9.9.9");
    assert_exit(&refused, 1);
    assert_eq!(outputs["shipped"], "[]");
    assert_eq!(outputs["tag"], "");
    assert_eq!(outputs["status"], "blocked");
}
