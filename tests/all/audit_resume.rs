//! A command verifies the chain from where the clone's last verification stopped (DESIGN
//! 13.1: from the last head verified), not from the genesis every time, and only while it
//! trusts the same signers: a key retired since, even retroactively, makes it verify the
//! whole chain again.

use shipgate::audit::trust::ChainTrust;
use shipgate::audit::verify::{Problem, VerifyError, verified_start_path};
use time::OffsetDateTime;

use crate::audit_support::{EPOCH, LocalChain, note};

fn chain_of_notes(count: usize) -> LocalChain {
    LocalChain::build((0..count).map(|i| note(&format!("note {i}"))).collect())
}

#[test]
fn a_second_command_in_the_same_clone_checks_only_the_entries_after_the_first_ones_head() {
    let chain = chain_of_notes(10);
    let signers = vec![chain.signer.clone()];

    let first = ChainTrust::new(signers.clone(), None);
    assert_eq!(
        first.verify(&chain.repo, Some(chain.commits[5])).unwrap(),
        6
    );

    let second = ChainTrust::new(signers.clone(), None);
    assert_eq!(
        second.verify(&chain.repo, Some(chain.commits[10])).unwrap(),
        5,
        "entries 6 to 10 only"
    );
    assert_eq!(
        second.root(),
        Some(chain.commits[0]),
        "the genesis is still known"
    );
    assert_eq!(second.genesis_policy(&chain.repo).unwrap(), Some(None));
    let state = second.verified_state().unwrap();
    assert_eq!(state.head(), chain.commits[10]);

    // A third command starts at the second one's head.
    let third = ChainTrust::new(signers, None);
    assert_eq!(
        third.verify(&chain.repo, Some(chain.commits[10])).unwrap(),
        0
    );
}

#[test]
fn a_key_retired_after_the_last_verification_makes_the_next_command_verify_the_whole_chain() {
    let chain = chain_of_notes(10);
    let trusted = ChainTrust::new(vec![chain.signer.clone()], None);
    assert_eq!(
        trusted
            .verify(&chain.repo, Some(chain.commits[10]))
            .unwrap(),
        11
    );

    // The key is found to have leaked and is retired back to before entry 4 (times are one
    // minute apart from EPOCH): everything it signed later no longer counts.
    let mut retired = chain.signer.clone();
    retired.not_after = Some(OffsetDateTime::from_unix_timestamp(EPOCH + 3 * 60 + 30).unwrap());
    let judged = ChainTrust::new(vec![retired], None).verify(&chain.repo, Some(chain.commits[10]));
    match judged {
        Err(VerifyError::Invalid(failure)) => {
            assert!(
                matches!(failure.problem, Problem::KeyRetired { .. }),
                "{failure:?}"
            );
            assert_eq!(
                failure.commit, chain.commits[4],
                "the first entry after the retirement"
            );
        }
        other => panic!("expected the retired key to be refused, got {other:?}"),
    }
}

#[test]
fn a_recorded_start_under_another_pinned_genesis_or_unreadable_is_not_used() {
    let chain = chain_of_notes(6);
    let signers = vec![chain.signer.clone()];
    ChainTrust::new(signers.clone(), None)
        .verify(&chain.repo, Some(chain.commits[3]))
        .unwrap();

    let pinned_elsewhere = ChainTrust::new(signers.clone(), Some(chain.commits[1]));
    let refused = pinned_elsewhere.verify(&chain.repo, Some(chain.commits[6]));
    assert!(
        matches!(&refused, Err(VerifyError::Invalid(f)) if matches!(f.problem, Problem::GenesisNotPinned { .. })),
        "{refused:?}"
    );

    std::fs::write(verified_start_path(&chain.repo), "head nonsense\n").unwrap();
    let fresh = ChainTrust::new(signers, None);
    assert_eq!(
        fresh.verify(&chain.repo, Some(chain.commits[6])).unwrap(),
        7,
        "an unreadable record costs a whole verification, nothing else"
    );
}
