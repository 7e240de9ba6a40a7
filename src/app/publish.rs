//! `shipgate release publish`: publishes a draft release that a run shipped with
//! `publish: after_assets`, once the release workflow has attached its assets (issue 15).
//!
//! Like every decision it builds on a verified head (DESIGN 13.1): it verifies the chain,
//! finds the run's plan (the checkout's, or its pull request's), reads the release from
//! GitHub, lets [`crate::publish::decide`] judge, publishes through the effect half with the
//! pass that judgement built, reads it back, and appends `release_published` (whose state
//! rule refuses a second one at the head it is appended to). A refusal publishes and records
//! nothing.

use std::io::Write;

use super::audit::prepare_append;
use super::execute::{find_plan, git_chain, pull_plan};
use super::{github, inputs};
use crate::audit::AuditError;
use crate::audit::entry::Event;
use crate::cli::ReleasePublishArgs;
use crate::error::{Error, Outcome};
use crate::execute::{ChainPort, Clock, RunSelector, WallClock};
use crate::github::GitHubRead;
use crate::github::GitHubShipper;
use crate::model::OpKey;
use crate::publish::{PublishDecision, PublishPass, PublishRefusal, decide};
use crate::reason::Code;
use crate::report::shipped::ShippedOp;

/// Runs `shipgate release publish`. Whatever its exit code, the step outputs say what it
/// published (issue 18): the release, or `[]`.
pub fn publish(args: &ReleasePublishArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    super::actions::with_shipped_outputs(|shipped| publish_collecting(args, shipped, out))
}

/// [`publish`], the release it published (or found published) put in `shipped`.
fn publish_collecting(
    args: &ReleasePublishArgs,
    shipped: &mut Vec<ShippedOp>,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let token = github::token()
        .ok_or_else(|| Error::Usage("release publish acts on GitHub: set GITHUB_TOKEN".into()))?;
    let append = &args.append;
    let (repo, slug) = inputs::governed_repo(append)?;
    let setup = prepare_append(append)?;
    let chain = git_chain(&setup);
    let verified = match chain.verified_state() {
        Ok(Some(verified)) => verified,
        Ok(None) => {
            return Err(Error::Usage(format!(
                "there is no governance branch {}: nothing was shipped",
                append.target.branch
            )));
        }
        Err(Error::Audit(AuditError::Verify(failure))) => {
            writeln!(
                out,
                "blocked: {} - the audit chain failed verification ({failure})",
                Code::AuditChainInvalid.as_str()
            )?;
            return Err(AuditError::Verify(failure).into());
        }
        Err(e) => return Err(e),
    };
    let state = verified.state();
    let op_key = OpKey::release(&args.tag);
    let run_id = args
        .run
        .clone()
        .or_else(|| state.ops.get(&op_key).map(|op| op.run_id.clone()));
    let Some(run_id) = run_id else {
        return refused(
            out,
            &PublishRefusal {
                code: Code::ReleaseNotPublishable,
                detail: format!("no run shipped {op_key}: the chain has no record of it"),
            },
        );
    };
    let plan = match state.runs.get(&run_id) {
        Some(run) => find_plan(&repo, &slug, run)?
            .or_else(|| pull_plan(&repo, &slug, append, &RunSelector::Run(run_id.clone()), run)),
        None => None,
    };
    let (runtime, client) = github::connect(&slug, token)?;
    let found = runtime.block_on(crate::github::find_release(&client, &args.tag))?;
    let decision = decide(state, &run_id, &args.tag, plan.as_ref(), found.as_ref());
    let (pass, published_now) = match decision {
        Err(refusal) => return refused(out, &refusal),
        Ok(PublishDecision::AlreadyPublished) => {
            if let Some(release) = &found {
                let sha = runtime.block_on(tag_commit(&client, &args.tag));
                shipped.push(ShippedOp::with_release(&run_id, release, sha));
            }
            writeln!(
                out,
                "already published: the chain records the release of {} published by run {run_id}",
                args.tag
            )?;
            super::actions::write_outputs(&[
                ("run-id", run_id.to_string()),
                ("status", "published".to_owned()),
            ])?;
            return Ok(Outcome::Clean);
        }
        Ok(PublishDecision::Record(pass)) => (pass, false),
        Ok(PublishDecision::Publish(pass)) => (pass, true),
    };
    let release = if published_now {
        let shipper = GitHubShipper::new(&client);
        Some(runtime.block_on(shipper.publish_release(&pass))?.value)
    } else {
        found
    };
    record(&chain, &pass)?;
    if let Some(release) = &release {
        let sha = runtime.block_on(tag_commit(&client, pass.tag()));
        shipped.push(ShippedOp::with_release(pass.run_id(), release, sha));
    }
    let how = if published_now {
        "published"
    } else {
        "found published on GitHub; recorded"
    };
    writeln!(
        out,
        "{how}: the release of {} (id {}) of run {}; recorded release_published",
        pass.tag(),
        pass.release_id(),
        pass.run_id()
    )?;
    super::actions::write_outputs(&[
        ("run-id", pass.run_id().to_string()),
        ("status", "published".to_owned()),
    ])?;
    Ok(Outcome::Clean)
}

/// The commit a tag points at (peeled), if GitHub can say.
async fn tag_commit(client: &crate::github::GitHubClient, tag: &str) -> Option<String> {
    let reference = client.git_ref(&format!("tags/{tag}")).await.ok()??;
    match crate::github::peel_tag(client, &reference).await.ok()? {
        Some(object) => Some(object.object_sha),
        None => Some(reference.object_sha),
    }
}

/// Reports a refusal: nothing was published or recorded.
fn refused(out: &mut dyn Write, refusal: &PublishRefusal) -> Result<Outcome, Error> {
    writeln!(
        out,
        "blocked: {} - {}",
        refusal.code.as_str(),
        refusal.detail
    )?;
    super::actions::write_outputs(&[
        ("status", "blocked".to_owned()),
        ("blocked-reasons", refusal.code.as_str().to_owned()),
    ])?;
    Ok(Outcome::Blocked)
}

/// Appends `release_published` for the pass, verified and checked against the head.
fn record(chain: &impl ChainPort, pass: &PublishPass) -> Result<(), Error> {
    let event = Event::ReleasePublished {
        run_id: pass.run_id().clone(),
        op_key: pass.op_key().clone(),
        release_id: pass.release_id(),
    };
    chain
        .append(&|| WallClock.now(), &mut |_| Ok(vec![event.clone()]))
        .map_err(AuditError::from)?;
    Ok(())
}
