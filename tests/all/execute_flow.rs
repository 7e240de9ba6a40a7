//! `shipgate execute` end to end against the fake GitHub and a bare `origin`: the full flow,
//! the attack suite (each asserting its reason code and that nothing shipped), racing
//! executors, and GitHub faults at scale. Crashes at every step, the lock and single GitHub
//! faults run in-process (`execute_inprocess`).

use std::process::Output;
use std::time::{Duration, Instant};

use fake_github::{Fault, FaultKind, SeedWorkflowPermissions};
use shipgate::audit::append::{AppendTarget, GitCli, append_all};
use shipgate::audit::entry::{Actor, Event, RunOperation};
use shipgate::audit::trust::ChainTrust;
use shipgate::keys::{generate, parse_private_key};
use shipgate::model::{OpKey, ReceiptId, RunId};
use shipgate::policy::SignerRole;
use shipgate::receipt::{Receipt, ReceiptClaims};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fixture::{assert_exit, stderr, stdout};
use crate::github_support::SLUG;
use crate::mint_flow::{MintWorld, comment_event, mint_from_event};

/// A world whose plan (tag, release, pull request) is approved by alice and bob and minted.
pub(crate) fn minted() -> (MintWorld, String) {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    let run = run_id(&world);
    (world, run)
}

pub fn run_id(world: &MintWorld) -> String {
    world
        .chain()
        .iter()
        .rev()
        .find(|e| e["event"]["type"] == "run_opened")
        .and_then(|e| e["event"]["run_id"].as_str().map(str::to_owned))
        .expect("a run")
}

pub(crate) fn execute(
    world: &MintWorld,
    run: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut args = vec!["execute", "--run", run];
    args.extend(extra);
    world.shipgate_with(&args, env)
}

/// What shipped on the fake: tags (by peeled commit), releases, pull requests.
pub(crate) fn shipped(world: &MintWorld) -> (Option<String>, usize, usize) {
    (
        world.github.peeled("refs/tags/v1.1.0"),
        world.github.fake.releases(SLUG).len(),
        world.github.fake.pulls(SLUG).len() - 1,
    )
}

pub(crate) fn nothing_shipped(world: &MintWorld) {
    assert_eq!(shipped(world), (None, 0, 0), "no effect may happen");
}

fn verify(world: &MintWorld) {
    let out = world.shipgate(&["audit", "verify"]);
    assert_exit(&out, 0);
}

pub(crate) fn blocked_with(out: &Output, code: &str) {
    assert!(
        stdout(out).contains(&format!("blocked: {code}")),
        "expected {code}:\n{}{}",
        stdout(out),
        stderr(out)
    );
}

pub(crate) fn denials(world: &MintWorld) -> Vec<String> {
    world
        .chain()
        .iter()
        .filter(|e| e["event"]["type"] == "operation_denied")
        .map(|e| e["event"]["reason"].as_str().expect("reason").to_owned())
        .collect()
}

#[test]
fn the_full_flow_dry_run_approve_mint_execute_verify() {
    let started = Instant::now();
    let world = MintWorld::new();
    let dry = world.shipgate(&["dry-run", ".shipgate/plans/release.yaml"]);
    assert_exit(&dry, 0);
    world.approve("alice");
    world.approve("bob");
    assert_eq!(world.mint().status.code(), Some(0));
    let run = run_id(&world);

    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("== SHIPPED =="), "{}", stdout(&out));
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 1, 1));
    let release = &world.github.fake.releases(SLUG)[0];
    assert_eq!(release.tag_name, "v1.1.0");
    assert_eq!(release.body.as_deref(), Some("first release"));
    let kinds = world.kinds();
    for expected in [
        "lock_acquired",
        "receipt_consumed",
        "operation_succeeded",
        "lock_released",
    ] {
        assert!(
            kinds.contains(&expected.to_owned()),
            "{expected}: {kinds:?}"
        );
    }
    assert_eq!(
        kinds.iter().filter(|k| *k == "operation_succeeded").count(),
        3
    );
    verify(&world);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a sanity bound, not the benchmark"
    );
}

#[test]
fn a_replayed_execution_of_a_shipped_run_ships_nothing_more() {
    let (world, run) = minted();
    assert_eq!(execute(&world, &run, &[], &[]).status.code(), Some(0));
    let before = shipped(&world);
    let again = execute(&world, &run, &[], &[]);
    // Issue 17: said as it is, not as a denial (the gate still refuses a consumed receipt of a
    // run that stopped part-way: `execute_inprocess`).
    assert_exit(&again, 0);
    assert!(
        stdout(&again).contains("already shipped"),
        "{}",
        stdout(&again)
    );
    assert_eq!(shipped(&world), before);
    assert!(denials(&world).is_empty());
    verify(&world);
}

#[test]
fn while_halted_nothing_executes_and_the_denial_is_recorded() {
    let (world, run) = minted();
    let halt = world.shipgate(&["halt", "--reason", "incident", "--by", "alice"]);
    assert_exit(&halt, 0);
    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "HALTED");
    nothing_shipped(&world);
    assert_eq!(denials(&world), ["HALTED"]);
}

#[test]
fn a_policy_changed_on_the_default_branch_after_minting_makes_receipts_stale() {
    let (world, run) = minted();
    let policy = std::fs::read_to_string(world.repo.path().join(".shipgate/policies/policy.yaml"))
        .expect("policy");
    world.repo.commit(
        "policy-v2",
        &[(
            ".shipgate/policies/policy.yaml",
            &format!(
                "{policy}deny:\n  - name: new\n    match: {{ refs: [nothing] }}\n    reason: x\n"
            ),
        )],
        "tighten the policy",
    );
    let out = execute(&world, &run, &["--default-branch", "policy-v2"], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "RECEIPT_STALE");
    nothing_shipped(&world);
    // The first decision under the new policy recorded the change, once, with both hashes.
    let changes: Vec<serde_json::Value> = world
        .chain()
        .into_iter()
        .filter(|e| e["event"]["type"] == "policy_changed")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let genesis = world.chain()[0]["event"]["policy_hash"].clone();
    assert_eq!(changes[0]["event"]["from"], genesis);
    assert_ne!(changes[0]["event"]["to"], genesis);
    let again = execute(&world, &run, &["--default-branch", "policy-v2"], &[]);
    assert_exit(&again, 1);
    let recorded = world
        .chain()
        .iter()
        .filter(|e| e["event"]["type"] == "policy_changed")
        .count();
    assert_eq!(recorded, 1, "recorded once");
    let verify = world.shipgate(&["audit", "verify", "--default-branch", "policy-v2"]);
    assert_exit(&verify, 0);
}

#[test]
fn a_plan_that_moved_after_approval_is_stale() {
    let (world, run) = minted();
    world.repo.commit(
        "main",
        &[("late.txt", "late\n")],
        "main moved after approval",
    );
    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "RECEIPT_STALE");
    nothing_shipped(&world);
}

#[test]
fn a_tampered_chain_blocks_everything_with_exit_4() {
    let (world, run) = minted();
    let stranger = generate("audit-1", SignerRole::Audit).expect("key");
    // shipgate itself refuses to sign with a key the policy does not trust...
    let note = world.shipgate_with(
        &["audit", "note", "sneaky"],
        &[("SHIPGATE_AUDIT_KEY", stranger.private_openssh.as_str())],
    );
    assert_exit(&note, 1);
    assert!(
        stderr(&note).contains("AUDIT_KEY_NOT_IN_FORCE"),
        "{}",
        stderr(&note)
    );
    // ...so the stranger writes the signed entry by hand and pushes it.
    let key = parse_private_key(&stranger.private_openssh, "test").expect("key");
    crate::chain_race::land_forged(
        &world,
        Event::Note {
            message: "sneaky".into(),
        },
        &[],
        Some(&key),
    );
    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 4);
    assert!(
        stdout(&out).contains("AUDIT_CHAIN_INVALID"),
        "{}",
        stdout(&out)
    );
    nothing_shipped(&world);
}

/// Appends a crafted run and its receipts (signed by `mint_key`) with the real audit key, so
/// the chain verifies and only the gate can refuse them.
pub(crate) fn craft(
    world: &MintWorld,
    mint_key: &str,
    tweak: impl Fn(&mut ReceiptClaims),
) -> String {
    let key = parse_private_key(mint_key, "test").expect("mint key");
    craft_signed(world, |mut claims| {
        tweak(&mut claims);
        claims.sign_sshsig(&key.kid, &key.key).expect("sign")
    })
}

/// Appends a crafted run whose receipts `sign` makes from the real run's claims, with the
/// real audit key, so the chain verifies and only the gate can refuse them.
pub(crate) fn craft_signed(world: &MintWorld, sign: impl Fn(ReceiptClaims) -> Receipt) -> String {
    let real_run = run_id(world);
    let real: Vec<ReceiptClaims> = world
        .chain()
        .iter()
        .filter_map(|e| e["event"]["receipt"].as_str().map(str::to_owned))
        .map(|doc| {
            shipgate::receipt::parse_receipt(doc.as_bytes())
                .expect("receipt")
                .claims
        })
        .filter(|c| c.run_id == real_run.as_str())
        .collect();
    let run = "run_crafted".to_owned();
    let mut events = vec![Event::RunOpened {
        pr: None,
        run_id: RunId::parse(&run).expect("run id"),
        plan_id: real[0].plan_id.clone(),
        policy_hash: real[0].policy_hash.clone(),
        operations: real
            .iter()
            .map(|c| RunOperation {
                op_index: c.op_index,
                op_key: c.op_key.clone(),
            })
            .collect(),
    }];
    for (i, claims) in real.into_iter().enumerate() {
        let receipt = sign(ReceiptClaims {
            receipt_id: ReceiptId::parse(&format!("rcp_crafted{i}")).expect("receipt id"),
            run_id: RunId::parse(&run).expect("run id"),
            ..claims
        });
        let claims = &receipt.claims;
        events.push(Event::ReceiptMinted {
            receipt_id: claims.receipt_id.clone(),
            run_id: RunId::parse(&run).expect("run id"),
            op_key: claims.op_key.clone(),
            enforceable: claims.enforceable,
            expires_at: claims.expires_at.clone(),
            receipt: Some(receipt.to_canonical_json().expect("json")),
        });
    }
    append_as_auditor(world, events);
    run
}

/// Appends `events` signed with the world's real audit key, so the chain still verifies.
pub(crate) fn append_as_auditor(world: &MintWorld, events: Vec<Event>) {
    let repo = git2::Repository::open(world.repo.path()).expect("repo");
    let audit = parse_private_key(&world.audit.private_openssh, "test").expect("audit key");
    let cli = GitCli::new(
        &repo,
        vec![("GIT_CONFIG_GLOBAL".into(), "/dev/null".into())],
    );
    let target = AppendTarget {
        remote: "origin".into(),
        branch: "shipgate/audit".into(),
        genesis: Event::Note {
            message: "unused: the chain exists".into(),
        },
        actor: Actor {
            login: "tester".into(),
            workflow_run: None,
            sha: None,
        },
        give_up_after: Duration::from_secs(10),
        trust: ChainTrust::new(vec![audit.as_signer(SignerRole::Audit)], None),
    };
    append_all(
        &repo,
        &cli,
        &audit,
        &target,
        &OffsetDateTime::now_utc,
        |_| Ok(events.clone()),
    )
    .expect("append");
}

/// An RFC 3339 instant an hour ago, in whole seconds: an expiry long past.
fn an_hour_ago() -> String {
    (OffsetDateTime::now_utc() - time::Duration::hours(1))
        .replace_nanosecond(0)
        .expect("time")
        .format(&Rfc3339)
        .expect("time")
}

/// A change to a receipt's claims before it is signed.
type Tweak = Box<dyn Fn(&mut ReceiptClaims)>;

#[test]
fn the_attack_suite_blocks_each_forgery_with_its_code_and_ships_nothing() {
    let stranger = generate("mint-1", SignerRole::Mint).expect("key");
    let past = an_hour_ago();
    let cases: Vec<(&str, Tweak, Option<String>)> = vec![
        (
            "RECEIPT_FORGED",
            Box::new(|_| {}),
            Some(stranger.private_openssh.to_string()),
        ),
        (
            "RECEIPT_NOT_ENFORCEABLE",
            Box::new(|c| c.enforceable = false),
            None,
        ),
        (
            "RECEIPT_WRONG_OPERATION",
            Box::new(|c| c.op_index += 7),
            None,
        ),
        (
            "RECEIPT_EXPIRED",
            Box::new(move |c| c.expires_at = past.clone()),
            None,
        ),
    ];
    for (code, tweak, key) in cases {
        let (world, _) = minted();
        let key = key.unwrap_or_else(|| world.mint.private_openssh.to_string());
        let run = craft(&world, &key, tweak);
        let out = execute(&world, &run, &[], &[]);
        let expected_exit = if code == "RECEIPT_FORGED" { 4 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(expected_exit),
            "{code}: {}",
            stderr(&out)
        );
        blocked_with(&out, code);
        nothing_shipped(&world);
        assert_eq!(denials(&world), [code]);
    }
}

#[test]
fn a_receipt_minted_before_a_freeze_does_not_execute_inside_it() {
    let (world, _) = minted();
    // The freeze lands on the default branch; the receipt was minted under that very policy
    // just before the window opened (its policy hash is the frozen policy's).
    let path = ".shipgate/policies/policy.yaml";
    let policy = std::fs::read_to_string(world.repo.path().join(path)).expect("policy");
    let frozen = format!(
        "{policy}freeze:\n  - name: year-end\n    from: 2020-01-01T00:00:00Z\n    until: 2099-01-01T00:00:00Z\n"
    );
    world
        .repo
        .commit("policy-v2", &[(path, &frozen)], "year-end freeze");
    let hash = shipgate::policy::load_policy(&[shipgate::policy::PolicyFile {
        name: path.into(),
        bytes: frozen.into_bytes(),
    }])
    .expect("policy")
    .hash;
    let run = craft(&world, &world.mint.private_openssh, move |c| {
        c.policy_hash = hash.clone();
    });
    let out = execute(&world, &run, &["--default-branch", "policy-v2"], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "FROZEN");
    nothing_shipped(&world);
    assert_eq!(denials(&world), ["FROZEN"]);
}

#[test]
fn a_pull_request_head_pushed_after_approval_is_refused_before_its_receipt_is_spent() {
    let (world, run) = minted();
    // A writer pushes an unreviewed commit to the approved head branch on GitHub.
    let origin = git2::Repository::open_bare(crate::chain_race::origin(&world)).expect("origin");
    let feature = origin
        .find_branch("feature", git2::BranchType::Local)
        .expect("feature")
        .get()
        .peel_to_commit()
        .expect("commit");
    let who = git2::Signature::now("mallory", "mallory@example.com").expect("signature");
    let pushed = origin
        .commit(
            Some("refs/heads/feature"),
            &who,
            &who,
            "unreviewed",
            &feature.tree().expect("tree"),
            &[&feature],
        )
        .expect("commit");
    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "RECEIPT_STALE");
    assert!(
        stdout(&out).contains("PULL_REQUEST_HEAD_MOVED"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(&pushed.to_string()),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        world.github.fake.pulls(SLUG).len() - 1,
        0,
        "no pull request was opened"
    );
    let consumed: Vec<String> = world
        .chain()
        .iter()
        .filter(|e| e["event"]["type"] == "receipt_consumed")
        .filter_map(|e| e["event"]["op_key"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !consumed.iter().any(|k| k.starts_with("pull_request:")),
        "{consumed:?}"
    );
}

/// GitHub refuses a workflow's `GITHUB_TOKEN` pull requests unless the repository allows
/// it: execute finds out before the receipt is consumed, so the receipt stays usable once the
/// setting is changed (issue 16).
#[test]
fn a_pull_request_the_token_may_not_open_is_refused_before_its_receipt_is_consumed() {
    let (world, run) = minted();
    let fake = &world.github.fake;
    fake.set_workflow_permissions(SLUG, SeedWorkflowPermissions::allowing_pull_requests(false));
    let out = execute(&world, &run, &[], &[]);
    blocked_with(&out, "TOKEN_CANNOT_OPEN_PULL_REQUEST");
    assert_eq!(denials(&world), ["TOKEN_CANNOT_OPEN_PULL_REQUEST"]);
    let consumed = world
        .chain()
        .iter()
        .filter(|e| e["event"]["type"] == "receipt_consumed")
        .count();
    assert_eq!(consumed, 2, "the tag's and the release's receipts only");
    assert_eq!(fake.pulls(SLUG).len(), 1, "no pull request was opened");

    fake.set_workflow_permissions(SLUG, SeedWorkflowPermissions::allowing_pull_requests(true));
    let again = execute(&world, &run, &[], &[]);
    assert_exit(&again, 0);
    assert_eq!(fake.pulls(SLUG).len(), 2, "the unspent receipt ships it");
}

#[test]
fn a_run_without_a_receipt_is_refused_as_missing() {
    let (world, _) = minted();
    let plan_id = world.chain()[3]["event"]["plan_id"]
        .as_str()
        .expect("plan id")
        .to_owned();
    append_as_auditor(
        &world,
        vec![Event::RunOpened {
            pr: None,
            run_id: RunId::parse("run_bare").expect("run id"),
            plan_id,
            policy_hash: "sha256:x".into(),
            operations: vec![RunOperation {
                op_index: 0,
                op_key: OpKey::parse("tag:v1.1.0").expect("op key"),
            }],
        }],
    );
    let out = execute(&world, "run_bare", &[], &[]);
    assert_exit(&out, 1);
    blocked_with(&out, "RECEIPT_MISSING");
    nothing_shipped(&world);
}

#[test]
fn two_executors_started_together_ship_once() {
    let (world, run) = minted();
    let children: Vec<_> = (0..2)
        .map(|_| {
            world
                .command(&["execute", "--run", &run], &[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    assert!(
        codes.contains(&Some(0)),
        "{codes:?}\n{}",
        outputs
            .iter()
            .map(|o| format!("stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o)))
            .collect::<Vec<_>>()
            .join("\n----\n")
    );
    for out in outputs.iter().filter(|o| o.status.code() != Some(0)) {
        assert_exit(out, 1);
        let text = stdout(out);
        assert!(
            text.contains("LOCKED") || text.contains("RECEIPT_CONSUMED"),
            "{text}"
        );
    }
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 1, 1));
    verify(&world);
}

#[test]
fn an_unwritable_audit_branch_stops_everything_before_any_effect() {
    let (world, run) = minted();
    let hook = world.github.bare.path().join("hooks/pre-receive");
    std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("hooks dir");
    std::fs::write(&hook, "#!/bin/sh\necho 'audit branch frozen' >&2\nexit 1\n").expect("hook");
    let mut mode = std::fs::metadata(&hook).expect("hook").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&hook, mode).expect("chmod");

    let out = execute(&world, &run, &["--give-up-after", "1"], &[]);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("AUDIT_UNAVAILABLE"),
        "{}",
        stderr(&out)
    );
    nothing_shipped(&world);
}

#[test]
fn executing_by_pr_reports_shipped_with_links_and_timeline_in_the_status_comment_and_summary() {
    let (world, run) = minted();
    let summary = world.repo.path().join("summary.md");
    let out = world.shipgate_with(
        &["execute", "--pr", &world.pr.to_string()],
        &[
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
            (
                "GITHUB_OUTPUT",
                world
                    .repo
                    .path()
                    .join("outputs.txt")
                    .to_str()
                    .expect("utf-8"),
            ),
        ],
    );
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(&run), "{}", stdout(&out));
    let status = world.status_comment();
    assert!(status.contains("## SHIPPED"), "{status}");
    let base = world.github.fake.base_url();
    for link in [
        format!("[shipped](<{base}/{SLUG}/releases/tag/v1.1.0>)"),
        format!("[shipped](<{base}/{SLUG}/pull/"),
    ] {
        assert!(status.contains(&link), "{link} in {status}");
    }
    for step in [
        "run\\_opened",
        "lock\\_acquired",
        "operation\\_succeeded",
        "lock\\_released",
    ] {
        assert!(status.contains(step), "the timeline shows {step}: {status}");
    }
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(written.contains("## SHIPPED"), "{written}");
    let outputs = std::fs::read_to_string(world.repo.path().join("outputs.txt")).expect("outputs");
    assert!(outputs.contains(&format!("run-id={run}\n")), "{outputs}");
    assert!(outputs.contains("status=shipped\n"), "{outputs}");

    let replay = world.shipgate(&["execute", "--pr", &world.pr.to_string()]);
    assert_eq!(replay.status.code(), Some(0));
    assert_eq!(world.status_comment(), status, "issue 17: SHIPPED stays");
}

/// A change to a proof bundle.
type BundleTamper = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn a_proof_bundle_verifies_offline_and_any_change_to_it_is_caught() {
    let (world, run) = minted();
    assert_eq!(execute(&world, &run, &[], &[]).status.code(), Some(0));
    let export = world.shipgate(&["proof", &run, "--out", "run.proof.json"]);
    assert_exit(&export, 0);
    let verify = world.shipgate(&["proof", "verify", "run.proof.json"]);
    assert_exit(&verify, 0);
    let text = stdout(&verify);
    assert!(text.starts_with("proof OK"), "{text}");
    assert!(text.contains("3 receipts genuine"), "{text}");
    assert!(text.contains("operation_succeeded"), "{text}");

    let path = world.repo.path().join("run.proof.json");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("bundle")).expect("json");
    let tampered: Vec<(&str, BundleTamper)> = vec![
        (
            "a receipt's claims",
            Box::new(|b| b["receipts"][0]["expires_at"] = "2099-01-01T00:00:00Z".into()),
        ),
        (
            "an entry's text",
            Box::new(|b| {
                let raw = b["commits"][2]["raw"]
                    .as_str()
                    .expect("raw")
                    .replace("rcp_", "rcq_");
                b["commits"][2]["raw"] = raw.into();
            }),
        ),
        (
            "a missing entry",
            Box::new(|b| {
                b["commits"].as_array_mut().expect("commits").remove(2);
            }),
        ),
        (
            "another run claimed",
            Box::new(|b| b["run_id"] = "run_other".into()),
        ),
    ];
    for (what, tamper) in tampered {
        let mut bundle = original.clone();
        tamper(&mut bundle);
        std::fs::write(&path, bundle.to_string()).expect("write");
        let out = world.shipgate(&["proof", "verify", "run.proof.json"]);
        assert_eq!(out.status.code(), Some(4), "{what}: {}", stdout(&out));
        assert!(
            stderr(&out).contains("PROOF_INVALID"),
            "{what}: {}",
            stderr(&out)
        );
    }

    std::fs::write(&path, original.to_string()).expect("write");
    let stranger = generate("audit-1", SignerRole::Audit).expect("key");
    std::fs::write(
        world.repo.path().join("other_signers"),
        format!("audit-1 namespaces=\"git\" {}\n", stranger.public_line),
    )
    .expect("signers");
    let out = world.shipgate(&[
        "proof",
        "verify",
        "run.proof.json",
        "--allowed-signers",
        "other_signers",
    ]);
    assert_eq!(out.status.code(), Some(4), "another key: {}", stdout(&out));
}

/// `/shipgate ship` by an approver starts the ship workflow for the run (issue 15: every
/// execution happens there, in the ship environment) and records the request; by anyone else
/// it is refused. mint itself ships nothing; `execute --run`, what the ship workflow runs,
/// then ships.
#[test]
fn slash_ship_by_an_approver_starts_the_ship_workflow_and_by_anyone_else_is_refused() {
    let (world, run) = minted();
    let (event, refused) = comment_event(&world, "carol", "/shipgate ship");
    let out = mint_from_event(&world, &event);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("was not carried out"),
        "{}",
        stdout(&out)
    );
    assert_eq!(world.reaction(refused), ["eyes", "-1"]);
    let dispatched = |world: &MintWorld| {
        world
            .github
            .fake
            .requests()
            .into_iter()
            .filter(|r| {
                r.path
                    .ends_with("/actions/workflows/shipgate-ship.yml/dispatches")
            })
            .count()
    };
    assert_eq!(dispatched(&world), 0);

    let (event, accepted) = comment_event(&world, "bob", "ship it\n/shipgate ship");
    let out = mint_from_event(&world, &event);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("shipgate-ship.yml started for"),
        "{}",
        stdout(&out)
    );
    assert_eq!(world.reaction(accepted), ["eyes", "+1"]);
    assert_eq!(dispatched(&world), 1);
    assert!(world.kinds().contains(&"ship_requested".to_owned()));
    nothing_shipped(&world);

    let out = execute(&world, &run, &[], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("== SHIPPED =="), "{}", stdout(&out));
    let main = world.repo.branch_sha("main");
    assert_eq!(shipped(&world), (Some(main), 1, 1));
}

/// A small deterministic generator, so a failing schedule can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn a_ten_operation_plan_under_random_5xx_ships_each_effect_once() {
    let mut plan = String::from("version: 1\noperations:\n");
    for i in 0..9 {
        plan.push_str(&format!(
            "  - kind: tag\n    name: v3.{i}.0\n    target: main\n"
        ));
    }
    plan.push_str("  - kind: release\n    tag: v3.0.0\n    notes: three\n");
    let mut completed = 0;
    for seed in [1u64, 2, 3, 4] {
        let world = MintWorld::with("carol", &plan);
        world.approve("alice");
        world.approve("bob");
        assert_eq!(world.mint().status.code(), Some(0));
        let run = run_id(&world);
        // About one request in five fails with a 5xx, before or after its effect.
        let mut rng = Lcg(seed);
        for _ in 0..10 {
            let (method, path) = match rng.next() % 4 {
                0 => ("POST", format!("/repos/{SLUG}/git/refs")),
                1 => ("POST", format!("/repos/{SLUG}/releases")),
                2 => ("GET", "/repos/*/*/git/matching-refs/tags/".to_owned()),
                _ => ("GET", format!("/repos/{SLUG}/git/ref/*/*")),
            };
            let kind = match rng.next() % 3 {
                0 => FaultKind::Status(500),
                1 => FaultKind::Status(503),
                _ => FaultKind::StatusAfterEffect(502),
            };
            // Optional: how far a run gets, and so which faults fire, is what this test varies.
            world
                .github
                .fake
                .inject_optional(Fault::new(Some(method), path, kind, 1));
        }
        // The run completes, or stops cleanly: an infrastructure failure (exit 3) leaves an
        // operation in doubt that a re-run settles; an operation that failed (exit 3, then 1
        // on a re-run: its receipt is spent) is recorded and stops the run.
        let mut last = None;
        for _ in 0..5 {
            let out = execute(&world, &run, &[], &[]);
            last = out.status.code();
            if last != Some(3) {
                break;
            }
        }
        let kinds = world.kinds();
        match last {
            Some(0) => completed += 1,
            Some(1) => assert!(
                kinds.contains(&"operation_failed".to_owned()),
                "seed {seed}: a clean stop records the failure: {kinds:?}"
            ),
            other => panic!("seed {seed}: exit {other:?}"),
        }
        let main = world.repo.branch_sha("main");
        for i in 0..9 {
            let tag = world.github.peeled(&format!("refs/tags/v3.{i}.0"));
            assert!(
                tag.is_none() || tag.as_deref() == Some(main.as_str()),
                "seed {seed}"
            );
        }
        assert!(world.github.fake.releases(SLUG).len() <= 1, "seed {seed}");
        let posts = world
            .github
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/releases") && r.status == 201)
            .count();
        assert!(
            posts <= 1,
            "seed {seed}: a release was created {posts} times"
        );
        verify(&world);
    }
    assert!(
        completed >= 1,
        "no schedule let a run complete: the faults are too dense"
    );
}

#[test]
fn pending_executes_every_run_with_unused_receipts_once_and_then_idles() {
    let (world, run) = minted();
    let summary = world.repo.path().join("summary.md");
    let outputs = world.repo.path().join("outputs.txt");
    let actions_env = [
        ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
        ("GITHUB_OUTPUT", outputs.to_str().expect("utf-8")),
    ];
    let out = world.shipgate_with(&["execute", "--pending"], &actions_env);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("== SHIPPED =="), "{}", stdout(&out));
    assert_eq!(shipped(&world).1, 1, "the release shipped");
    let written = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(written.contains(&format!("run-id={run}\n")), "{written}");
    assert!(written.contains("status=shipped\n"), "{written}");

    std::fs::remove_file(&outputs).expect("reset outputs");
    let again = world.shipgate_with(&["execute", "--pending"], &actions_env);
    assert_exit(&again, 0);
    assert!(
        stdout(&again).contains("no run is pending"),
        "{}",
        stdout(&again)
    );
    let written = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(
        written.starts_with("status=idle\nshipped=[]\n"),
        "{written}"
    );
    assert_eq!(
        world
            .kinds()
            .iter()
            .filter(|k| *k == "operation_succeeded")
            .count(),
        3,
        "nothing executed twice"
    );
    verify(&world);
}

#[test]
fn pending_leaves_runs_whose_receipts_are_used_or_expired() {
    let (world, run) = minted();
    assert_exit(&execute(&world, &run, &[], &[]), 0);
    let before = shipped(&world);
    let past = an_hour_ago();
    craft(&world, &world.mint.private_openssh, move |c| {
        c.expires_at = past.clone()
    });
    let out = world.shipgate(&["execute", "--pending"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("no run is pending"),
        "{}",
        stdout(&out)
    );
    assert_eq!(shipped(&world), before);
    assert!(denials(&world).is_empty(), "{:?}", denials(&world));
}

#[test]
fn pending_waits_for_a_plan_that_has_not_reached_the_checkout() {
    let (world, _) = minted();
    std::fs::remove_file(world.repo.path().join(".shipgate/plans/release.yaml")).expect("rm");
    let out = world.shipgate(&["execute", "--pending"]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("no run is pending"),
        "{}",
        stdout(&out)
    );
    nothing_shipped(&world);
}
