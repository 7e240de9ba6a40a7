//! Keys judged by the verifier's clock (issue 13, class 2; DESIGN 13.2): a retired mint key
//! cannot backdate a receipt, a receipt cannot outlive its rule's `receipt_ttl`, a key not yet
//! in force signs nothing the gate or `audit verify` accepts, and audit entry times never go
//! backwards nor run ahead of the verifier's clock.

use git2::Oid;
use shipgate::audit::entry::Entry;
use shipgate::audit::store::{ChainWriter, Tip, write_commit};
use shipgate::audit::verify::{Failure, Problem, Verified, VerifyError};
use shipgate::keys::{GeneratedKey, generate};
use shipgate::plan::OpKind;
use shipgate::policy::{PolicyFile, SignerRole, load_policy};
use shipgate::receipt::ReceiptClaims;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::audit_support::{EPOCH, LocalChain, actor, note};
use crate::execute_flow::{blocked_with, craft, denials, execute, minted, nothing_shipped};
use crate::fixture::{assert_exit, stderr, stdout};
use crate::mint_flow::MintWorld;

/// An instant `offset` from now, in whole seconds, as RFC 3339.
fn from_now(offset: Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .replace_nanosecond(0)
        .expect("time")
        .format(&Rfc3339)
        .expect("time")
}

/// Commits, on a `policy-v2` branch, the world's policy plus `extra` signer lines, and returns
/// the new policy's hash (what receipts minted under it bind).
fn policy_v2(world: &MintWorld, extra: &str) -> String {
    let path = ".shipgate/policies/policy.yaml";
    let policy = std::fs::read_to_string(world.repo.path().join(path)).expect("policy");
    let text = format!("{policy}{extra}");
    world
        .repo
        .commit("policy-v2", &[(path, &text)], "rotate keys");
    load_policy(&[PolicyFile {
        name: "policy.yaml".into(),
        bytes: text.into_bytes(),
    }])
    .expect("the new policy loads")
    .hash
}

fn signer_line(kid: &str, key: &GeneratedKey, window: &str) -> String {
    format!(
        "  - {{ kid: {kid}, role: mint, key: {}{window} }}\n",
        key.public_line
    )
}

/// A run crafted with the real audit key whose receipts, signed by `key`, bind the policy
/// `hash` and say they were issued at `issued_at` and expire at `expires_at`.
fn craft_dated(
    world: &MintWorld,
    key: &str,
    hash: &str,
    issued_at: String,
    expires_at: String,
) -> String {
    let hash = hash.to_owned();
    craft(world, key, move |c: &mut ReceiptClaims| {
        c.policy_hash = hash.clone();
        c.issued_at = issued_at.clone();
        c.expires_at = expires_at.clone();
    })
}

/// Executes the crafted run under the policy of `policy-v2` and checks that the gate refused
/// it as forged (exit 4), that the detail says why, and that nothing shipped.
fn refused_as_forged(world: &MintWorld, run: &str, why: &str) {
    let out = execute(world, run, &["--default-branch", "policy-v2"], &[]);
    assert_exit(&out, 4);
    blocked_with(&out, "RECEIPT_FORGED");
    assert!(stdout(&out).contains(why), "{why}:\n{}", stdout(&out));
    nothing_shipped(world);
    assert_eq!(denials(world), ["RECEIPT_FORGED"]);
}

#[test]
fn a_receipt_backdated_by_a_recently_retired_mint_key_is_forged_and_ships_nothing() {
    let (world, _) = minted();
    let retired = generate("mint-0", SignerRole::Mint).expect("key");
    let window = format!(", not_after: {}", from_now(-Duration::minutes(10)));
    let hash = policy_v2(&world, &signer_line("mint-0", &retired, &window));
    // Dated before the retirement, expiring within the rule's 2 h: only "in force now" stops it.
    let run = craft_dated(
        &world,
        &retired.private_openssh,
        &hash,
        from_now(-Duration::minutes(20)),
        from_now(Duration::minutes(100)),
    );
    refused_as_forged(&world, &run, "not in force now");
}

#[test]
fn a_receipt_of_a_retired_key_expiring_in_2099_is_forged_and_ships_nothing() {
    let (world, _) = minted();
    let retired = generate("mint-0", SignerRole::Mint).expect("key");
    let window = format!(", not_after: {}", from_now(-Duration::days(1)));
    let hash = policy_v2(&world, &signer_line("mint-0", &retired, &window));
    let run = craft_dated(
        &world,
        &retired.private_openssh,
        &hash,
        from_now(-Duration::days(2)),
        "2099-01-01T00:00:00Z".to_owned(),
    );
    refused_as_forged(&world, &run, "not in force now");
}

#[test]
fn a_receipt_outliving_its_rules_receipt_ttl_is_forged_and_ships_nothing() {
    let (world, _) = minted();
    // The policy's only rule gives receipts 2 h; this one, by the current key, lasts 3 h.
    let hash = policy_v2(&world, "");
    let key = world.mint.private_openssh.to_string();
    let run = craft_dated(
        &world,
        &key,
        &hash,
        from_now(-Duration::minutes(1)),
        from_now(Duration::minutes(179)),
    );
    refused_as_forged(&world, &run, "receipt_ttl");
}

#[test]
fn a_receipt_lasting_past_thirty_days_is_forged_under_any_policy() {
    let (world, _) = minted();
    let hash = policy_v2(&world, "");
    let key = world.mint.private_openssh.to_string();
    let run = craft_dated(
        &world,
        &key,
        &hash,
        from_now(-Duration::minutes(1)),
        "2099-01-01T00:00:00Z".to_owned(),
    );
    refused_as_forged(&world, &run, "30 days");
}

#[test]
fn a_mint_key_not_yet_in_force_signs_nothing_that_ships() {
    let (world, _) = minted();
    let next = generate("mint-next", SignerRole::Mint).expect("key");
    let window = format!(", not_before: {}", from_now(Duration::days(1)));
    let hash = policy_v2(&world, &signer_line("mint-next", &next, &window));
    let run = craft(&world, &next.private_openssh, |c: &mut ReceiptClaims| {
        c.policy_hash = hash.clone();
    });
    refused_as_forged(&world, &run, "not in force");
}

#[test]
fn an_audit_key_not_yet_in_force_signs_nothing_that_verifies() {
    let (world, _) = minted();
    let path = ".shipgate/policies/policy.yaml";
    let policy = std::fs::read_to_string(world.repo.path().join(path)).expect("policy");
    let audit_entry = format!("key: {} }}", world.audit.public_line);
    let delayed = policy.replace(
        &audit_entry,
        &format!(
            "key: {}, not_before: {} }}",
            world.audit.public_line,
            from_now(Duration::days(1))
        ),
    );
    assert_ne!(delayed, policy, "the audit signer line was found");
    world
        .repo
        .commit("policy-v2", &[(path, &delayed)], "delay the audit key");
    let out = world.shipgate(&["audit", "verify", "--default-branch", "policy-v2"]);
    assert_exit(&out, 4);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("AUDIT_CHAIN_INVALID") && said.contains("not in force"),
        "{said}"
    );
}

fn five_notes() -> LocalChain {
    LocalChain::build((1..=5).map(|i| note(&format!("note {i}"))).collect())
}

fn failure(result: Result<Verified, VerifyError>) -> Failure {
    match result {
        Err(VerifyError::Invalid(failure)) => failure,
        other => panic!("expected an integrity failure, got {other:?}"),
    }
}

/// Appends to the chain, signed by its trusted key, a note entry dated `at`.
fn append_note_at(chain: &LocalChain, at: OffsetDateTime) -> Oid {
    let previous = chain.entry(5);
    let entry = Entry {
        seq: 6,
        prev: previous.hash.clone(),
        at: shipgate::audit::entry::format_entry_time(at),
        event: note("dated by hand"),
        ..previous.entry.clone()
    };
    let sealed = entry.seal().expect("seal");
    write_commit(
        &chain.repo,
        &[chain.commits[5]],
        chain.tree(5),
        &sealed,
        Some(&chain.key),
    )
    .expect("commit")
}

#[test]
fn an_entry_dated_before_its_predecessor_is_refused() {
    let chain = five_notes();
    // Entries are a minute apart from EPOCH; entry 5 is at EPOCH + 300 s.
    let backdated = OffsetDateTime::from_unix_timestamp(EPOCH + 60).expect("time");
    let head = append_note_at(&chain, backdated);
    let failure = failure(chain.verify(head, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, head);
    assert!(
        matches!(failure.problem, Problem::TimeWentBackwards { .. }),
        "{failure}"
    );
    assert_eq!(failure.reason().code(), "AUDIT_CHAIN_INVALID");
    // The same instant as the predecessor is fine: time stands still, it does not go back.
    let same = append_note_at(
        &chain,
        OffsetDateTime::from_unix_timestamp(EPOCH + 300).expect("time"),
    );
    assert!(
        chain
            .verify(same, std::slice::from_ref(&chain.signer))
            .is_ok()
    );
}

#[test]
fn an_entry_dated_more_than_five_minutes_ahead_of_the_verifier_is_refused() {
    let chain = five_notes();
    let ahead = append_note_at(&chain, OffsetDateTime::now_utc() + Duration::hours(1));
    let failure = failure(chain.verify(ahead, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, ahead);
    assert!(
        matches!(failure.problem, Problem::InTheFuture { .. }),
        "{failure}"
    );
    let slightly = append_note_at(&chain, OffsetDateTime::now_utc() + Duration::minutes(4));
    assert!(
        chain
            .verify(slightly, std::slice::from_ref(&chain.signer))
            .is_ok()
    );
}

#[test]
fn the_writer_never_dates_an_entry_before_the_previous_one() {
    let chain = five_notes();
    let repo = git2::Repository::open(chain.repo.path()).expect("open");
    let odb = repo.odb().expect("odb");
    let mut writer = ChainWriter::new(&repo, &odb, &chain.key).expect("writer");
    let mut state = shipgate::audit::store::read_state(&repo, chain.commits[5]).expect("state");
    let tip: Tip = shipgate::audit::store::read_tip(&repo, chain.commits[5]).expect("tip");
    // A clock an hour behind the chain's last entry.
    let behind =
        OffsetDateTime::from_unix_timestamp(EPOCH + 300).expect("time") - Duration::hours(1);
    let next = writer
        .append(Some(&tip), &mut state, &actor(), behind, note("late clock"))
        .expect("append");
    let again = writer
        .append(
            Some(&next),
            &mut state,
            &actor(),
            behind,
            note("still late"),
        )
        .expect("append");
    writer.flush().expect("flush");
    let at = |oid: Oid| {
        shipgate::audit::store::read_entry(&repo, oid)
            .expect("entry")
            .entry
            .at
    };
    assert_eq!(at(next.commit), at(chain.commits[5]));
    assert_eq!(at(again.commit), at(chain.commits[5]));
    assert!(
        chain
            .verify(again.commit, std::slice::from_ref(&chain.signer))
            .is_ok()
    );
}

#[test]
fn the_gate_holds_a_kind_to_the_largest_receipt_ttl_of_the_rules_that_can_match_it() {
    let policy = load_policy(&[PolicyFile {
        name: "policy.yaml".into(),
        bytes: b"version: 1
groups:
  rm: { users: [alice] }
rules:
  - name: tags
    match: { kinds: [tag], refs: [\"v*\"] }
    approvals: { required: 1, from: [rm] }
    receipt_ttl: 2h
  - name: stable tags
    match: { kinds: [tag], refs: [stable] }
    approvals: { required: 1, from: [rm] }
    receipt_ttl: 30d
  - name: releases
    match: { kinds: [release] }
    approvals: { required: 1, from: [rm] }
    receipt_ttl: 90s
"
        .to_vec(),
    }])
    .expect("policy");
    assert_eq!(policy.receipt_ttl_cap(OpKind::Tag), Duration::days(30));
    assert_eq!(
        policy.receipt_ttl_cap(OpKind::Release),
        Duration::seconds(90)
    );
    // No rule can match a pull request: nothing of that kind is minted, nothing passes.
    assert_eq!(policy.receipt_ttl_cap(OpKind::PullRequest), Duration::ZERO);
}

#[test]
fn a_retired_audit_key_appends_nothing_not_even_backdated() {
    let world = MintWorld::new();
    assert_exit(&world.shipgate(&["audit", "note", "the chain starts"]), 0);
    // The policy retires audit-1 a minute ago (a second audit key takes over).
    let path = ".shipgate/policies/policy.yaml";
    let policy = std::fs::read_to_string(world.repo.path().join(path)).expect("policy");
    let next = generate("audit-2", SignerRole::Audit).expect("key");
    let retired = policy.replace(
        &format!("{{ kid: audit-1, role: audit, key: {} }}", world.audit.public_line),
        &format!(
            "{{ kid: audit-1, role: audit, key: {}, not_after: {} }}\n  - {{ kid: audit-2, role: audit, key: {} }}",
            world.audit.public_line,
            from_now(-Duration::minutes(1)),
            next.public_line
        ),
    );
    assert_ne!(retired, policy);
    world
        .repo
        .commit("policy-v2", &[(path, &retired)], "retire audit-1");
    let before = world.chain().len();
    let out = world.shipgate(&["audit", "note", "late", "--default-branch", "policy-v2"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("AUDIT_KEY_NOT_IN_FORCE"),
        "{}",
        stderr(&out)
    );
    assert_eq!(world.chain().len(), before, "nothing was appended");
}
