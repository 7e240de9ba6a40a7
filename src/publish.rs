//! Publishing a draft release after its assets (issue 15): the decision, pure.
//!
//! GitHub's immutable releases take no assets once published, so a plan's release with
//! `publish: after_assets` is created as a draft by `execute`, the release workflow attaches
//! its assets, and `shipgate release publish` publishes it. No new receipt is minted: the
//! approval of the operation covered publishing it. What this module decides, from the
//! verified chain state, the run's plan and the release GitHub shows, is whether that is what
//! is being asked. It reads no clock, no git and no network; only [`decide`] builds a
//! [`PublishPass`], which the effect half needs to publish.

use crate::audit::state::{OpStatus, StateAccess};
use crate::canonical::sha256_hex;
use crate::github::Release;
use crate::model::{OpKey, RunId};
use crate::plan::{Publish, ResolvedOperation, ResolvedPlan};
use crate::reason::Code;

/// Permission to publish one release of one run, or to record it published: built only by
/// [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPass {
    run_id: RunId,
    op_key: OpKey,
    tag: String,
    release_id: u64,
}

impl PublishPass {
    /// The run that shipped the draft.
    pub fn run_id(&self) -> &RunId {
        &self.run_id
    }
    /// `release:<tag>`.
    pub fn op_key(&self) -> &OpKey {
        &self.op_key
    }
    /// The tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }
    /// GitHub's id of the draft.
    pub fn release_id(&self) -> u64 {
        self.release_id
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishDecision {
    /// The draft is exactly as approved: publish it, then record `release_published`.
    Publish(PublishPass),
    /// GitHub shows the approved release published but the chain does not (a publisher
    /// stopped between the two): record it, publish nothing.
    Record(PublishPass),
    /// The chain records it published: nothing to do (publishing twice is a no-op).
    AlreadyPublished,
}

/// Why publishing is refused; nothing is published or recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRefusal {
    /// The stable reason code.
    pub code: Code,
    /// What was found, and how to go on.
    pub detail: String,
}

fn refuse(code: Code, detail: impl Into<String>) -> PublishRefusal {
    PublishRefusal {
        code,
        detail: detail.into(),
    }
}

/// Decides whether `run_id` may publish its release of `tag`.
///
/// 1. Not halted (`HALTED`).
/// 2. The chain records that this run shipped `release:<tag>` (succeeded or recovered), and
///    not that it was published already (then: [`PublishDecision::AlreadyPublished`]).
/// 3. The run's plan (the plan whose id the run binds) has that release with
///    `publish: after_assets` (`RELEASE_NOT_PUBLISHABLE` otherwise: a plain or `draft: true`
///    release was not approved for publishing).
/// 4. GitHub has the release, with the approved title, notes and prerelease flag: an edited
///    draft would publish text nobody approved (`RELEASE_DRAFT_CHANGED`). Assets may differ:
///    attaching them is the point.
pub fn decide<S: StateAccess + ?Sized>(
    state: &S,
    run_id: &RunId,
    tag: &str,
    plan: Option<&ResolvedPlan>,
    found: Option<&Release>,
) -> Result<PublishDecision, PublishRefusal> {
    // 1.
    if let Some(halt) = state.halt() {
        return Err(refuse(
            Code::Halted,
            format!("halted by {}: {}", halt.by, halt.reason),
        ));
    }
    // 2.
    let op_key = OpKey::release(tag);
    let shipped = state.op(&op_key).filter(|op| {
        &op.run_id == run_id && matches!(op.status, OpStatus::Succeeded | OpStatus::Recovered)
    });
    let Some(op) = shipped else {
        return Err(refuse(
            Code::ReleaseNotPublishable,
            format!("the chain does not record that run {run_id} shipped {op_key}"),
        ));
    };
    if op.published_seq.is_some() {
        return Ok(PublishDecision::AlreadyPublished);
    }
    // 3.
    let Some(plan) = plan else {
        return Err(refuse(
            Code::ReleaseNotPublishable,
            format!(
                "the plan of run {run_id} is not in this checkout, so what was approved for {op_key} cannot be read; run from the commit that shipped it"
            ),
        ));
    };
    let approved = plan.operations.iter().find_map(|op| match op {
        ResolvedOperation::Release {
            tag: t,
            title,
            notes_sha256,
            prerelease,
            publish,
            ..
        } if t == tag => Some((title, notes_sha256, *prerelease, *publish)),
        _ => None,
    });
    let Some((title, notes_sha256, prerelease, Publish::AfterAssets)) = approved else {
        return Err(refuse(
            Code::ReleaseNotPublishable,
            format!(
                "the approved plan of run {run_id} does not say `publish: after_assets` for the release of {tag}"
            ),
        ));
    };
    // 4.
    let Some(found) = found else {
        return Err(refuse(
            Code::ReleaseDraftChanged,
            format!("GitHub has no release of {tag}: it was deleted after it shipped"),
        ));
    };
    let body = found.body.as_deref().unwrap_or_default();
    let same = found.name.as_deref().unwrap_or(tag) == title
        && &sha256_hex(body.as_bytes()) == notes_sha256
        && found.prerelease == prerelease;
    if !same {
        return Err(refuse(
            Code::ReleaseDraftChanged,
            format!(
                "the release of {tag} on GitHub (id {}) has another title, notes or prerelease flag than approved",
                found.id
            ),
        ));
    }
    let pass = PublishPass {
        run_id: op.run_id.clone(),
        op_key: op.op_key.clone(),
        tag: tag.to_owned(),
        release_id: found.id,
    };
    Ok(if found.draft {
        PublishDecision::Publish(pass)
    } else {
        PublishDecision::Record(pass)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::state::{HaltRecord, OpRecord, State};
    use crate::model::CommitSha;

    fn plan(publish: Publish) -> ResolvedPlan {
        let operations = vec![ResolvedOperation::Release {
            tag: "v1".into(),
            target: crate::plan::TagTarget::Commit(CommitSha::parse(&"a".repeat(40)).expect("sha")),
            title: "v1".into(),
            notes_sha256: sha256_hex(b"notes"),
            draft: false,
            prerelease: false,
            publish,
            notes_source: "inline".into(),
            notes: "notes".into(),
        }];
        ResolvedPlan::for_tests(operations)
    }

    fn state(status: OpStatus, published_seq: Option<u64>) -> State {
        let mut state = State::default();
        state.ops.insert(
            OpKey::parse("release:v1").expect("op key"),
            OpRecord {
                op_key: OpKey::parse("release:v1").expect("op key"),
                run_id: RunId::parse("run_a").expect("run id"),
                receipt_id: crate::model::ReceiptId::parse("rcp_a").expect("receipt id"),
                status,
                seq: 5,
                published_seq,
            },
        );
        state
    }

    fn draft(body: &str) -> Release {
        Release {
            id: 9,
            tag_name: "v1".into(),
            name: Some("v1".into()),
            body: Some(body.into()),
            draft: true,
            prerelease: false,
            html_url: String::new(),
            upload_url: String::new(),
        }
    }

    fn run(id: &str) -> RunId {
        RunId::parse(id).expect("run id")
    }

    fn code(result: Result<PublishDecision, PublishRefusal>) -> Code {
        result.expect_err("refused").code
    }

    #[test]
    fn the_approved_draft_of_the_run_that_shipped_it_is_published() {
        let decided = decide(
            &state(OpStatus::Succeeded, None),
            &run("run_a"),
            "v1",
            Some(&plan(Publish::AfterAssets)),
            Some(&draft("notes")),
        );
        let Ok(PublishDecision::Publish(pass)) = decided else {
            panic!("{decided:?}");
        };
        assert_eq!((pass.run_id().as_str(), pass.release_id()), ("run_a", 9));
    }

    #[test]
    fn a_release_found_published_but_not_recorded_is_recorded_only() {
        let mut found = draft("notes");
        found.draft = false;
        let decided = decide(
            &state(OpStatus::Recovered, None),
            &run("run_a"),
            "v1",
            Some(&plan(Publish::AfterAssets)),
            Some(&found),
        );
        assert!(
            matches!(decided, Ok(PublishDecision::Record(_))),
            "{decided:?}"
        );
    }

    #[test]
    fn a_release_recorded_published_is_not_published_again() {
        let decided = decide(
            &state(OpStatus::Succeeded, Some(7)),
            &run("run_a"),
            "v1",
            Some(&plan(Publish::AfterAssets)),
            Some(&draft("notes")),
        );
        assert_eq!(decided, Ok(PublishDecision::AlreadyPublished));
    }

    #[test]
    fn every_release_not_approved_for_publishing_by_this_run_is_refused() {
        let ok_plan = plan(Publish::AfterAssets);
        let found = draft("notes");
        let shipped = state(OpStatus::Succeeded, None);
        let not_publishable = Code::ReleaseNotPublishable;
        // Another run, an operation in doubt or failed, no record at all.
        let cases = [
            decide(&shipped, &run("run_b"), "v1", Some(&ok_plan), Some(&found)),
            decide(
                &state(OpStatus::InDoubt, None),
                &run("run_a"),
                "v1",
                Some(&ok_plan),
                Some(&found),
            ),
            decide(
                &state(OpStatus::Failed, None),
                &run("run_a"),
                "v1",
                Some(&ok_plan),
                Some(&found),
            ),
            decide(
                &State::default(),
                &run("run_a"),
                "v1",
                Some(&ok_plan),
                Some(&found),
            ),
            // A plain release, a plan not found, another tag.
            decide(
                &shipped,
                &run("run_a"),
                "v1",
                Some(&plan(Publish::OnCreate)),
                Some(&found),
            ),
            decide(&shipped, &run("run_a"), "v1", None, Some(&found)),
            decide(&shipped, &run("run_a"), "v2", Some(&ok_plan), Some(&found)),
        ];
        for case in cases {
            assert_eq!(code(case), not_publishable);
        }
    }

    #[test]
    fn an_edited_or_deleted_draft_is_not_published() {
        let shipped = state(OpStatus::Succeeded, None);
        let ok_plan = plan(Publish::AfterAssets);
        let edited = decide(
            &shipped,
            &run("run_a"),
            "v1",
            Some(&ok_plan),
            Some(&draft("evil")),
        );
        assert_eq!(code(edited), Code::ReleaseDraftChanged);
        let mut prerelease = draft("notes");
        prerelease.prerelease = true;
        let flagged = decide(
            &shipped,
            &run("run_a"),
            "v1",
            Some(&ok_plan),
            Some(&prerelease),
        );
        assert_eq!(code(flagged), Code::ReleaseDraftChanged);
        let gone = decide(&shipped, &run("run_a"), "v1", Some(&ok_plan), None);
        assert_eq!(code(gone), Code::ReleaseDraftChanged);
    }

    #[test]
    fn nothing_is_published_while_halted() {
        let mut halted = state(OpStatus::Succeeded, None);
        halted.halt = Some(HaltRecord {
            by: "alice".into(),
            reason: "bad build".into(),
            since: "2026-12-03T00:00:00Z".into(),
            seq: 6,
        });
        let decided = decide(
            &halted,
            &run("run_a"),
            "v1",
            Some(&plan(Publish::AfterAssets)),
            Some(&draft("notes")),
        );
        assert_eq!(code(decided), Code::Halted);
    }
}
