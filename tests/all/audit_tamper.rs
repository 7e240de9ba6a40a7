//! The tamper suite (DESIGN 10): every way of editing, deleting, reordering or forging audit
//! entries is caught, with the right reason and the right commit named.

use git2::{Oid, Repository};
use shipgate::audit::AuditError;
use shipgate::audit::append::{AppendError, GitCli};
use shipgate::audit::entry::Entry;
use shipgate::audit::reason::Reason;
use shipgate::audit::store::write_commit;
use shipgate::audit::verify::{
    Failure, HOLD_BYTES, Problem, VerifyError, VerifyOptions, verify_chain,
};
use shipgate::error::Error;
use shipgate::execute::{ChainPort, GitChain};
use shipgate::keys::SigningKey;
use shipgate::model::{OpKey, RunId};

use crate::audit_support::{
    LocalChain, RemoteFixture, TestClock, append_event, audit_key, git, git_env, note, target,
};

fn chain() -> LocalChain {
    LocalChain::build((1..=5).map(|i| note(&format!("note {i}"))).collect())
}

fn failure(result: Result<shipgate::audit::verify::Verified, VerifyError>) -> Failure {
    match result {
        Err(VerifyError::Invalid(failure)) => failure,
        other => panic!("expected an integrity failure, got {other:?}"),
    }
}

/// Writes `entry` as a commit on `parent` with `tree`.
fn commit(
    chain: &LocalChain,
    parent: Oid,
    tree: Oid,
    entry: Entry,
    key: Option<&SigningKey>,
) -> Oid {
    let sealed = entry.seal().expect("seal");
    write_commit(&chain.repo, &[parent], tree, &sealed, key).expect("commit")
}

/// A state tree holding a halt file that no entry recorded: what a forger commits.
fn unrecorded_halt_tree(repo: &Repository) -> Oid {
    let blob = repo.blob(b"{}\n").unwrap();
    let mut state_dir = repo.treebuilder(None).unwrap();
    state_dir.insert("halt.json", blob, 0o100644).unwrap();
    let state_oid = state_dir.write().unwrap();
    let mut root = repo.treebuilder(None).unwrap();
    root.insert("state", state_oid, 0o040000).unwrap();
    root.write().unwrap()
}

/// Re-parents the commits `from..` of the chain onto `base`, keeping their entries unchanged
/// and signing them with the trusted key (an insider rewriting history). Returns the new ids.
fn replay_onto(chain: &LocalChain, base: Oid, indexes: &[usize]) -> Vec<Oid> {
    let mut parent = base;
    let mut written = Vec::new();
    for &index in indexes {
        let sealed = chain.entry(index);
        parent = write_commit(
            &chain.repo,
            &[parent],
            chain.tree(index),
            &sealed,
            Some(&chain.key),
        )
        .expect("commit");
        written.push(parent);
    }
    written
}

#[test]
fn an_untampered_chain_verifies() {
    let chain = chain();
    let verified = chain
        .verify(
            *chain.commits.last().unwrap(),
            std::slice::from_ref(&chain.signer),
        )
        .unwrap();
    assert_eq!(verified.entries_checked, 6);
    assert_eq!(verified.head_seq, Some(5));
}

#[test]
fn edited_entry_resigned_by_an_unknown_key_is_untrusted() {
    let chain = chain();
    let (intruder, _) = audit_key("intruder");
    let mut entry = chain.entry(3).entry;
    entry.event = note("edited");
    let forged = commit(
        &chain,
        chain.commits[2],
        chain.tree(3),
        entry,
        Some(&intruder),
    );
    let failure = failure(chain.verify(forged, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, forged);
    assert_eq!(failure.reason(), Reason::ChainInvalid);
    assert!(
        matches!(failure.problem, Problem::UntrustedKey(_)),
        "{failure}"
    );
}

#[test]
fn edited_entry_left_unsigned_is_refused() {
    let chain = chain();
    let mut entry = chain.entry(3).entry;
    entry.event = note("edited");
    let forged = commit(&chain, chain.commits[2], chain.tree(3), entry, None);
    let failure = failure(chain.verify(forged, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, forged);
    assert_eq!(failure.problem, Problem::Unsigned);
}

#[test]
fn deleted_entry_shows_as_a_seq_gap_at_the_next_commit() {
    let chain = chain();
    // Entry 3 removed; 4 and 5 re-parented onto 2 and re-signed.
    let rewritten = replay_onto(&chain, chain.commits[2], &[4, 5]);
    let failure = failure(chain.verify(rewritten[1], std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, rewritten[0]);
    assert_eq!(
        failure.problem,
        Problem::SeqGap {
            previous: 2,
            found: 4
        }
    );
}

#[test]
fn swapped_entries_are_caught_at_the_first_swapped_commit() {
    let chain = chain();
    let rewritten = replay_onto(&chain, chain.commits[2], &[4, 3, 5]);
    let failure = failure(chain.verify(rewritten[2], std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, rewritten[0]);
    assert_eq!(
        failure.problem,
        Problem::SeqGap {
            previous: 2,
            found: 4
        }
    );
}

#[test]
fn a_seq_gap_is_caught() {
    let chain = chain();
    let previous = chain.entry(5);
    let entry = Entry {
        seq: 7,
        prev: previous.hash.clone(),
        event: note("skipped six"),
        ..previous.entry.clone()
    };
    let bad = commit(
        &chain,
        chain.commits[5],
        chain.tree(5),
        entry,
        Some(&chain.key),
    );
    let failure = failure(chain.verify(bad, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad);
    assert_eq!(
        failure.problem,
        Problem::SeqGap {
            previous: 5,
            found: 7
        }
    );
}

#[test]
fn a_wrong_prev_is_caught() {
    let chain = chain();
    let previous = chain.entry(5);
    let wrong = chain.entry(4).hash;
    let entry = Entry {
        seq: 6,
        prev: wrong.clone(),
        event: note("wrong prev"),
        ..previous.entry.clone()
    };
    let bad = commit(
        &chain,
        chain.commits[5],
        chain.tree(5),
        entry,
        Some(&chain.key),
    );
    let failure = failure(chain.verify(bad, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad);
    assert_eq!(
        failure.problem,
        Problem::PrevMismatch {
            expected: previous.hash,
            found: wrong
        }
    );
}

/// A signed note after the chain's last entry whose tree holds a halt no entry recorded: the
/// commit, its entry and the forged tree.
fn quietly_halted(chain: &LocalChain) -> (Oid, Entry, Oid) {
    let previous = chain.entry(5);
    let forged_tree = unrecorded_halt_tree(&chain.repo);
    let entry = Entry {
        seq: 6,
        prev: previous.hash.clone(),
        event: note("quietly halted"),
        ..previous.entry.clone()
    };
    let bad = commit(
        chain,
        chain.commits[5],
        forged_tree,
        entry.clone(),
        Some(&chain.key),
    );
    (bad, entry, forged_tree)
}

#[test]
fn a_tree_that_is_not_the_replayed_state_is_caught() {
    let chain = chain();
    let (bad, _, forged_tree) = quietly_halted(&chain);
    let failure = failure(chain.verify(bad, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad);
    assert!(
        matches!(failure.problem, Problem::TreeMismatch { found, .. } if found == forged_tree),
        "{failure}"
    );
}

/// Step 7 runs on a thread of its own, behind the rules: a bad tree must still be named before
/// a later entry that breaks another rule, whichever thread finds its problem first.
#[test]
fn a_bad_tree_is_named_before_a_later_broken_rule() {
    let chain = chain();
    let (bad, forged, forged_tree) = quietly_halted(&chain);
    // Then an entry that skips a seq, on the same tree.
    let gap = Entry {
        seq: 8,
        prev: forged.clone().seal().unwrap().hash,
        event: note("after the gap"),
        ..forged
    };
    let later = commit(&chain, bad, forged_tree, gap, Some(&chain.key));
    let failure = failure(chain.verify(later, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad, "{failure}");
    assert!(
        matches!(failure.problem, Problem::TreeMismatch { found, .. } if found == forged_tree),
        "{failure}"
    );
}

#[test]
fn a_merge_commit_is_refused() {
    let chain = chain();
    let previous = chain.entry(5);
    let entry = Entry {
        seq: 6,
        prev: previous.hash.clone(),
        event: note("merge"),
        ..previous.entry.clone()
    };
    let sealed = entry.seal().unwrap();
    let merge = write_commit(
        &chain.repo,
        &[chain.commits[5], chain.commits[2]],
        chain.tree(5),
        &sealed,
        Some(&chain.key),
    )
    .unwrap();
    let failure = failure(chain.verify(merge, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, merge);
    assert_eq!(failure.problem, Problem::MergeCommit(2));
}

#[test]
fn a_commit_signed_after_its_key_retired_is_refused() {
    let chain = chain();
    // Entries are one minute apart from EPOCH; retire the key just after entry 2.
    let mut retired = chain.signer.clone();
    retired.not_after =
        Some(time::OffsetDateTime::from_unix_timestamp(crate::audit_support::EPOCH + 150).unwrap());
    let failure = failure(chain.verify(*chain.commits.last().unwrap(), &[retired]));
    assert_eq!(failure.commit, chain.commits[3]);
    assert!(
        matches!(failure.problem, Problem::KeyRetired { ref kid, .. } if kid == "audit-1"),
        "{failure}"
    );
}

#[test]
fn an_unknown_event_type_fails_closed() {
    let chain = chain();
    let previous = chain.entry(5);
    let entry = Entry {
        seq: 6,
        prev: previous.hash.clone(),
        event: note("placeholder"),
        ..previous.entry.clone()
    };
    let sealed = entry.seal().unwrap();
    let json = sealed
        .json
        .replace(r#""type":"note""#, r#""type":"teleported""#);
    let hash = shipgate::canonical::sha256_prefixed(json.as_bytes());
    let message = format!("audit #6: note placeholder\n\n{json}\n\nShipgate-Entry: {hash}\n");
    let tree = chain.repo.find_tree(chain.tree(5)).unwrap();
    let parent = chain.repo.find_commit(chain.commits[5]).unwrap();
    let person =
        git2::Signature::new("shipgate", "audit@shipgate.invalid", &git2::Time::new(0, 0)).unwrap();
    let buffer = chain
        .repo
        .commit_create_buffer(&person, &person, &message, &tree, &[&parent])
        .unwrap();
    let content = buffer.as_str().unwrap();
    let signature = chain
        .key
        .key
        .sign("git", ssh_key::HashAlg::Sha512, content.as_bytes())
        .unwrap()
        .to_pem(ssh_key::LineEnding::LF)
        .unwrap();
    let bad = chain
        .repo
        .commit_signed(content, signature.trim_end(), None)
        .unwrap();
    let failure = failure(chain.verify(bad, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad);
    assert!(matches!(failure.problem, Problem::Entry(_)), "{failure}");
}

fn verify_with_threads(
    chain: &LocalChain,
    head: Oid,
    threads: usize,
) -> Result<shipgate::audit::verify::Verified, VerifyError> {
    verify_holding(chain, head, threads, HOLD_BYTES)
}

/// Verification with `threads` threads, the walk keeping at most `hold_bytes` of commits.
fn verify_holding(
    chain: &LocalChain,
    head: Oid,
    threads: usize,
    hold_bytes: usize,
) -> Result<shipgate::audit::verify::Verified, VerifyError> {
    verify_chain(
        &chain.repo,
        head,
        &VerifyOptions {
            signers: std::slice::from_ref(&chain.signer),
            since: None,
            threads,
            progress: None,
            hold_bytes,
            now: None,
        },
    )
}

/// Thread counts and walk budgets: every commit kept, only the first chunk kept (the rest read
/// again near the replay), and a few chunks kept.
const THREADS_AND_HOLDS: [(usize, usize); 8] = [
    (1, HOLD_BYTES),
    (1, 0),
    (2, HOLD_BYTES),
    (2, 0),
    (2, 400_000),
    (3, HOLD_BYTES),
    (8, HOLD_BYTES),
    (8, 0),
];

#[test]
fn the_first_bad_commit_is_named_whatever_the_thread_count() {
    // Long enough for the workers to decode several chunks ahead of the replay.
    let chain = LocalChain::build((1..=700).map(|i| note(&format!("note {i}"))).collect());
    let head = *chain.commits.last().unwrap();
    for (threads, hold) in THREADS_AND_HOLDS {
        let verified = verify_holding(&chain, head, threads, hold).expect("verifies");
        assert_eq!(verified.entries_checked, 701, "{threads} thread(s), {hold}");
        assert_eq!(verified.head_seq, Some(700));
    }
    // Entry 300 left unsigned and entry 650 signed by an intruder, the rest re-signed on top:
    // whichever worker finds which first, the earlier commit is the one named.
    let unsigned = commit(
        &chain,
        chain.commits[299],
        chain.tree(300),
        chain.entry(300).entry,
        None,
    );
    let middle = replay_onto(&chain, unsigned, &(301..650).collect::<Vec<_>>());
    let (intruder, _) = audit_key("intruder");
    let forged = commit(
        &chain,
        *middle.last().unwrap(),
        chain.tree(650),
        chain.entry(650).entry,
        Some(&intruder),
    );
    let tail = replay_onto(&chain, forged, &(651..=700).collect::<Vec<_>>());
    for (threads, hold) in THREADS_AND_HOLDS {
        let failure = failure(verify_holding(&chain, *tail.last().unwrap(), threads, hold));
        assert_eq!(failure.commit, unsigned, "{threads} thread(s), {hold}");
        assert_eq!(failure.problem, Problem::Unsigned);
    }
}

/// The commit for `entry` on `parent`, carrying a trusted signature over other bytes.
fn signed_over_other_bytes(chain: &LocalChain, parent: Oid, tree: Oid, entry: Entry) -> Oid {
    edited_and_signed_over_other_bytes(chain, parent, tree, entry, str::to_owned)
}

/// [`signed_over_other_bytes`], with the commit's text edited before it is signed.
fn edited_and_signed_over_other_bytes(
    chain: &LocalChain,
    parent: Oid,
    tree: Oid,
    entry: Entry,
    edit: fn(&str) -> String,
) -> Oid {
    let unsigned = commit(chain, parent, tree, entry, None);
    let odb = chain.repo.odb().unwrap();
    let object = odb.read(unsigned).unwrap();
    let content = edit(std::str::from_utf8(object.data()).unwrap());
    let signature = chain
        .key
        .key
        .sign("git", ssh_key::HashAlg::Sha512, b"some other commit")
        .unwrap()
        .to_pem(ssh_key::LineEnding::LF)
        .unwrap();
    chain
        .repo
        .commit_signed(&content, signature.trim_end(), None)
        .unwrap()
}

#[test]
fn a_signature_that_fails_in_a_batch_names_the_first_bad_commit() {
    // Signatures are checked in batches of a chunk: two bad ones in the same chunk, a good
    // chunk before them, the rest re-signed on top.
    let chain = LocalChain::build((1..=700).map(|i| note(&format!("note {i}"))).collect());
    let first_bad = signed_over_other_bytes(
        &chain,
        chain.commits[299],
        chain.tree(300),
        chain.entry(300).entry,
    );
    let middle = replay_onto(&chain, first_bad, &(301..310).collect::<Vec<_>>());
    let second_bad = signed_over_other_bytes(
        &chain,
        *middle.last().unwrap(),
        chain.tree(310),
        chain.entry(310).entry,
    );
    let tail = replay_onto(&chain, second_bad, &(311..=700).collect::<Vec<_>>());
    for threads in [1, 2, 8] {
        let failure = failure(verify_with_threads(&chain, *tail.last().unwrap(), threads));
        assert_eq!(failure.commit, first_bad, "{threads} thread(s)");
        assert!(
            matches!(failure.problem, Problem::BadSignature(_)),
            "{failure}"
        );
    }
}

#[test]
fn a_bad_signature_is_named_before_a_bad_entry_in_the_same_commit() {
    // Step 2 before step 4, even though the signature is checked after the entry in a batch:
    // the entry's JSON no longer matches its trailer, and the signature is over other bytes.
    let chain = chain();
    let previous = chain.entry(5);
    let entry = Entry {
        seq: 6,
        prev: previous.hash.clone(),
        event: note("as written"),
        ..previous.entry.clone()
    };
    let bad = edited_and_signed_over_other_bytes(
        &chain,
        chain.commits[5],
        chain.tree(5),
        entry,
        |content| content.replace(r#""message":"as written""#, r#""message":"as edited""#),
    );
    let raw = chain.repo.odb().unwrap().read(bad).unwrap().data().to_vec();
    let edited = String::from_utf8(raw).unwrap();
    assert!(edited.contains("as edited"), "the entry was edited");
    let failure = failure(chain.verify(bad, std::slice::from_ref(&chain.signer)));
    assert_eq!(failure.commit, bad);
    assert!(
        matches!(failure.problem, Problem::BadSignature(_)),
        "{failure}"
    );
}

fn opened(run_id: &str) -> shipgate::audit::entry::Event {
    shipgate::audit::entry::Event::RunOpened {
        pr: None,
        run_id: RunId::parse(run_id).expect("run id"),
        plan_id: format!("sha256:{}", "a".repeat(64)),
        policy_hash: "sha256:p".into(),
        operations: vec![shipgate::audit::entry::RunOperation {
            op_index: 0,
            op_key: OpKey::parse(&format!("tag:{run_id}")).expect("op key"),
        }],
    }
}

#[test]
fn a_large_directory_that_is_not_the_replayed_state_is_caught_whatever_the_thread_count() {
    // Enough runs for `state/runs/` to pass the size from which worker threads hash it.
    // A chain of the flat layout: fanned out, no state directory grows that large.
    let chain = LocalChain::build_flat((0..520).map(|i| opened(&format!("run_{i:04}"))).collect());
    let head = *chain.commits.last().unwrap();
    for threads in [1, 2, 8] {
        let verified = verify_with_threads(&chain, head, threads).expect("verifies");
        assert_eq!(verified.entries_checked, 521, "{threads} thread(s)");
    }
    // Entry 500 opens run_0499 and also slips in a run file no entry wrote.
    let blob = chain.repo.blob(b"{}\n").unwrap();
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert("state/runs/run_zzzz.json", blob, git2::FileMode::Blob);
    let honest = chain.repo.find_tree(chain.tree(500)).unwrap();
    let forged_tree = update.create_updated(&chain.repo, &honest).unwrap();
    let forged = commit(
        &chain,
        chain.commits[499],
        forged_tree,
        chain.entry(500).entry,
        Some(&chain.key),
    );
    let tail = replay_onto(&chain, forged, &(501..=520).collect::<Vec<_>>());
    let head = *tail.last().unwrap();
    let expected = Problem::TreeMismatch {
        expected: chain.tree(500),
        found: forged_tree,
    };
    for threads in [1, 2, 8] {
        let failure = failure(verify_with_threads(&chain, head, threads));
        assert_eq!(failure.commit, forged, "{threads} thread(s)");
        assert_eq!(failure.problem, expected, "{threads} thread(s)");
    }
}

/// The text of `commit` with its headers rearranged by `edit`, written as a new commit.
fn rewritten(chain: &LocalChain, commit: Oid, edit: impl Fn(&str) -> String) -> Oid {
    let odb = chain.repo.odb().unwrap();
    let text = String::from_utf8(odb.read(commit).unwrap().data().to_vec()).unwrap();
    odb.write(git2::ObjectType::Commit, edit(&text).as_bytes())
        .unwrap()
}

#[test]
fn a_parent_header_out_of_place_is_a_malformed_commit() {
    // Git writes `tree`, then the parents; one written with the parent after the author is
    // not read as the chain's continuation but named as malformed.
    let chain = chain();
    let last = *chain.commits.last().unwrap();
    let moved = rewritten(&chain, last, |text| {
        let mut lines: Vec<&str> = text.split('\n').collect();
        assert!(lines[1].starts_with("parent ") && lines[2].starts_with("author "));
        lines.swap(1, 2);
        lines.join("\n")
    });
    for threads in [1, 2] {
        let failure = failure(verify_with_threads(&chain, moved, threads));
        assert_eq!(failure.commit, moved, "{threads} thread(s)");
        assert_eq!(
            failure.problem,
            Problem::MalformedCommit("a parent header after other headers".into())
        );
    }
    let doubled = rewritten(&chain, last, |text| {
        let tree = text.lines().next().unwrap().to_owned();
        text.replacen('\n', &format!("\n{tree}\n"), 1)
    });
    let found = failure(verify_with_threads(&chain, doubled, 2));
    assert_eq!(found.commit, doubled);
    assert_eq!(
        found.problem,
        Problem::MalformedCommit("a second or misplaced tree header".into())
    );
    // A parent the walk cannot follow ends the line there: the commit is named, not taken
    // for a first commit.
    let garbled = rewritten(&chain, last, |text| {
        let parent = text.lines().nth(1).unwrap().to_owned();
        text.replacen(&parent, "parent not-a-commit-id", 1)
    });
    let found = failure(verify_with_threads(&chain, garbled, 2));
    assert_eq!(found.commit, garbled);
    assert_eq!(
        found.problem,
        Problem::MalformedCommit("bad parent id".into())
    );
}

#[test]
fn a_branch_pointing_at_something_else_than_a_commit_is_refused() {
    let chain = chain();
    let blob = chain.repo.blob(b"not a commit").unwrap();
    for threads in [1, 2] {
        let failure = failure(verify_with_threads(&chain, blob, threads));
        assert_eq!(failure.commit, blob);
        assert_eq!(
            failure.problem,
            Problem::MalformedCommit("a blob, not a commit".into())
        );
    }
}

/// A chain long enough that its first verification spreads over the worker threads' chunks,
/// pushed to a bare remote with entry `DEEP` tampered by `tamper` (given the chain and the
/// commit before it; it returns the forged commit) and every later entry replayed on top,
/// signed by the trusted key. Returns the remote, the chain and the forged commit.
fn remote_with_a_deep_tamper(
    tamper: impl Fn(&LocalChain, Oid) -> Oid,
) -> (RemoteFixture, LocalChain, Oid) {
    let chain = LocalChain::build((1..=LONG).map(|i| note(&format!("note {i}"))).collect());
    let forged = tamper(&chain, chain.commits[DEEP - 1]);
    let later: Vec<usize> = (DEEP + 1..=LONG).collect();
    let head = *replay_onto(&chain, forged, &later)
        .last()
        .expect("later entries");
    let remote = RemoteFixture::new();
    let remote_path = remote.remote();
    let pushed = git(
        chain.repo.path(),
        &[
            "push",
            "--quiet",
            remote_path.to_str().expect("utf-8 path"),
            &format!("{head}:refs/heads/shipgate/audit"),
        ],
    );
    assert!(pushed.status.success(), "{pushed:?}");
    (remote, chain, forged)
}

/// Entries of [`remote_with_a_deep_tamper`]'s chain after the genesis, and the tampered one.
const LONG: usize = 700;
const DEEP: usize = 333;

/// What a fresh clone's first append and the executor's first read of the chain say about
/// the remote: both verify the whole chain before deciding anything.
fn first_decisions(remote: &RemoteFixture, chain: &LocalChain) -> [Failure; 2] {
    let before = remote.head();
    let appender = remote.work("appender");
    let appended = append_event(&appender, &chain.key, &TestClock::new(), |_| {
        Ok(note("decided on a forged chain"))
    });
    let append_failure = match appended {
        Err(AppendError::Untrusted(e)) => match *e {
            VerifyError::Invalid(failure) => failure,
            other => panic!("expected an integrity failure, got {other:?}"),
        },
        other => panic!("the append must be refused, got {other:?}"),
    };
    let executor = remote.work("executor");
    let target = target(&chain.key, &[]);
    let cli = GitCli::new(&executor, git_env());
    let port = GitChain {
        repo: &executor,
        key: &chain.key,
        target: &target,
        cli: &cli,
    };
    let read_failure = match port.verified_state() {
        Err(Error::Audit(AuditError::Verify(VerifyError::Invalid(failure)))) => failure,
        other => panic!("the executor must refuse the chain, got {other:?}"),
    };
    assert_eq!(remote.head(), before, "nothing was appended");
    [append_failure, read_failure]
}

#[test]
fn a_fresh_clone_refuses_an_entry_signed_by_an_unknown_key_deep_in_the_chain() {
    let (intruder, _) = audit_key("intruder");
    let (remote, chain, forged) = remote_with_a_deep_tamper(|chain, parent| {
        let mut entry = chain.entry(DEEP).entry;
        entry.event = note("edited");
        commit(chain, parent, chain.tree(DEEP), entry, Some(&intruder))
    });
    for failure in first_decisions(&remote, &chain) {
        assert_eq!(failure.commit, forged);
        assert_eq!(failure.reason(), Reason::ChainInvalid);
        assert!(
            matches!(failure.problem, Problem::UntrustedKey(_)),
            "{failure}"
        );
    }
}

#[test]
fn a_fresh_clone_refuses_a_tree_that_is_not_the_replayed_state_deep_in_the_chain() {
    let (remote, chain, forged) = remote_with_a_deep_tamper(|chain, parent| {
        // A halt file the entries never recorded, signed by the trusted key.
        let forged_tree = unrecorded_halt_tree(&chain.repo);
        commit(
            chain,
            parent,
            forged_tree,
            chain.entry(DEEP).entry,
            Some(&chain.key),
        )
    });
    for failure in first_decisions(&remote, &chain) {
        assert_eq!(failure.commit, forged);
        assert!(
            matches!(failure.problem, Problem::TreeMismatch { .. }),
            "{failure}"
        );
    }
}
