//! Interop with stock git: every commit shipgate writes (through the compare-and-swap path,
//! with every kind of state change) passes `git verify-commit` with an allowed-signers file
//! exported by shipgate, and fails once that file names another key.

use std::sync::Barrier;

use shipgate::audit::entry::{Event, RunOperation};
use shipgate::audit::reason::Reason;
use shipgate::audit::state::{ApplyError, ReceiptStatus, StateAccess};
use shipgate::audit::verify::{VerifyOptions, verify_chain};
use shipgate::keys::allowed_signers_file;
use shipgate::model::{CommentId, OpKey, ReceiptId, RunId};

use crate::audit_support::{
    RemoteFixture, TestClock, append_event, audit_key, first_parent_line, git, note,
};

fn lifecycle() -> Vec<Event> {
    let run = || RunId::parse("run_1").expect("run id");
    let op = || OpKey::parse("tag:v1.4.0").expect("op key");
    let receipt = || ReceiptId::parse("rcp_1").expect("receipt id");
    vec![
        note("chain opened for tests"),
        Event::ApprovalRecorded {
            plan_id: "sha256:ab".into(),
            login: "alice".into(),
            comment_id: CommentId::new(7),
        },
        Event::RunOpened {
            pr: None,
            run_id: run(),
            plan_id: "sha256:ab".into(),
            policy_hash: "sha256:cd".into(),
            operations: vec![RunOperation {
                op_index: 0,
                op_key: op(),
            }],
        },
        Event::ReceiptMinted {
            receipt_id: receipt(),
            run_id: run(),
            op_key: op(),
            enforceable: true,
            expires_at: "2099-01-01T00:00:00Z".into(),
            receipt: None,
        },
        Event::LockAcquired {
            holder: None,
            run_id: run(),
            expires_at: "2099-01-01T00:00:00Z".into(),
        },
        Event::ReceiptConsumed {
            receipt_id: receipt(),
            run_id: run(),
            op_key: op(),
        },
        Event::OperationSucceeded {
            run_id: run(),
            op_key: op(),
            receipt_id: receipt(),
        },
        Event::LockReleased {
            run_id: run(),
            holder: None,
        },
        Event::ShipRequested {
            run_id: run(),
            by: "bob".into(),
            comment_id: CommentId::new(40),
        },
        Event::Halted {
            by: "alice".into(),
            reason: "incident".into(),
            comment_id: Some(CommentId::new(41)),
        },
        Event::Resumed {
            by: "alice".into(),
            comment_id: Some(CommentId::new(42)),
        },
    ]
}

#[test]
fn stock_git_verifies_every_commit_and_rejects_another_key() {
    let fixture = RemoteFixture::new();
    let work = fixture.work("work");
    let (key, signer) = audit_key("audit-1");
    let clock = TestClock::new();
    for event in lifecycle() {
        append_event(&work, &key, &clock, |_| Ok(event.clone())).expect("append");
    }
    let head = fixture.head();
    let commits = first_parent_line(&fixture.remote_repo(), head);
    assert_eq!(commits.len(), 12);

    let signers_path = fixture.dir.path().join("allowed_signers");
    std::fs::write(
        &signers_path,
        allowed_signers_file(std::slice::from_ref(&signer)),
    )
    .unwrap();
    let (_, stranger) = audit_key("audit-1");
    let wrong_path = fixture.dir.path().join("wrong_signers");
    std::fs::write(&wrong_path, allowed_signers_file(&[stranger])).unwrap();
    let verify_commit = |signers: &std::path::Path, commit: &git2::Oid| {
        git(
            &fixture.remote(),
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
                "verify-commit",
                &commit.to_string(),
            ],
        )
    };
    for commit in &commits {
        let good = verify_commit(&signers_path, commit);
        assert!(
            good.status.success(),
            "{commit}: {}",
            String::from_utf8_lossy(&good.stderr)
        );
        assert!(
            !verify_commit(&wrong_path, commit).status.success(),
            "{commit}"
        );
    }

    // shipgate agrees, and the remote's object store is sound.
    let verified = verify_chain(
        &fixture.remote_repo(),
        head,
        &VerifyOptions {
            threads: 2,
            ..VerifyOptions::whole_chain(std::slice::from_ref(&signer))
        },
    )
    .expect("verifies");
    assert_eq!(verified.entries_checked, 12);
    assert!(
        git(&fixture.remote(), &["fsck", "--strict"])
            .status
            .success()
    );
    // The work repository holds packs, not loose objects.
    let loose = std::fs::read_dir(work.path().join("objects"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().len() == 2)
        .count();
    assert_eq!(loose, 0, "loose object directories in the work repository");
}

#[test]
fn two_writers_racing_to_consume_one_receipt_exactly_one_wins() {
    let fixture = RemoteFixture::new();
    let (key, _) = audit_key("audit-1");
    let setup = fixture.work("setup");
    let clock = TestClock::new();
    for event in lifecycle().into_iter().take(4) {
        append_event(&setup, &key, &clock, |_| Ok(event.clone())).expect("append");
    }
    // Both writers fetch, see the receipt unconsumed, and only then push: one push must lose.
    let both_checked = Barrier::new(2);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let writers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let work = fixture.work(name);
                let key = &key;
                let both_checked = &both_checked;
                scope.spawn(move || {
                    let clock = TestClock::new();
                    let mut first_check = true;
                    append_event(&work, key, &clock, |state| {
                        let receipt = state
                            .receipt(
                                &shipgate::model::ReceiptId::parse("rcp_1").expect("receipt id"),
                            )
                            .expect("minted");
                        let unconsumed = receipt.status == ReceiptStatus::Minted;
                        if std::mem::take(&mut first_check) {
                            both_checked.wait();
                        }
                        if !unconsumed {
                            return Err(ApplyError {
                                reason: Reason::ReceiptConsumed,
                                detail: "rcp_1 was consumed by another run".into(),
                            });
                        }
                        Ok(Event::ReceiptConsumed {
                            receipt_id: ReceiptId::parse("rcp_1").expect("receipt id"),
                            run_id: RunId::parse("run_1").expect("run id"),
                            op_key: OpKey::parse("tag:v1.4.0").expect("op key"),
                        })
                    })
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let winners = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(winners, 1, "{outcomes:?}");
    let loser = outcomes.into_iter().find_map(Result::err).unwrap();
    assert_eq!(loser.reason(), Reason::ReceiptConsumed, "{loser}");
    assert_eq!(loser.reason().code(), "RECEIPT_CONSUMED");
    assert_eq!(
        first_parent_line(&fixture.remote_repo(), fixture.head()).len(),
        6
    );
}
