//! `/shipgate halt`, `/shipgate resume` and `/shipgate ship` for `shipgate mint`: every such
//! command in the pull request's comments that the chain does not record as carried out is
//! carried out once, whichever run sees it first (issue 15, lost commands: a run whose
//! comment was superseded in the concurrency group never starts). See [`pending_commands`].
//!
//! Halts and resumes are appended in one compare-and-swap before mint decides; ship requests
//! after it, each starting the ship workflow for the run (`workflow_dispatch`), so execution
//! happens only there, in the `shipgate-ship` environment, and then recorded with their
//! comment's id. Refusals are not recorded (anyone who can comment could fill the chain with
//! them); shipgate's -1 reaction answers them once.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::audit::AppendSetup;
use crate::approval::command::Command;
use crate::approval::evaluate::Comment;
use crate::approval::pending::{Handled, PendingCommand, Verb, pending_commands};
use crate::audit::AuditError;
use crate::audit::append::{AppendError, append_all};
use crate::audit::entry::Event;
use crate::audit::state::StateAccess;
use crate::audit::store::read_entry;
use crate::error::Error;
use crate::github::{GitHubClient, Reaction};
use crate::model::{CommentId, RunId};
use crate::policy::Policy;

/// How far before the oldest command the chain is searched for its record: an entry's time is
/// the appender's clock, which may lag GitHub's.
const CLOCK_MARGIN: Duration = Duration::from_secs(3600);

/// What shipgate answers on a command's comment, and says in the status comment.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub comment_id: CommentId,
    pub reaction: Reaction,
    pub note: String,
}

/// The halt, resume and ship commands of `comments` still to be carried out: the chain is read
/// back from its verified head to just before the oldest such command.
pub(super) fn pending<'c>(
    setup: &AppendSetup,
    policy: &Policy,
    comments: &'c [Comment],
    now: OffsetDateTime,
) -> Result<Vec<PendingCommand<'c>>, Error> {
    let mut handled = Handled {
        ship_since: Some(now - Duration::from_secs(policy.approval_ttl_secs)),
        ..Handled::default()
    };
    // How far back to read: to the oldest command that could still be pending (a ship older
    // than the approval window never is, so it does not widen the search).
    let candidates = pending_commands(comments, &handled);
    let Some(oldest) = candidates.iter().map(|p| p.comment.created_at).min() else {
        return Ok(Vec::new());
    };
    let mut cursor = setup.verified_head()?;
    let mut newest_change: Option<OffsetDateTime> = None;
    while let Some(oid) = cursor {
        let sealed = read_entry(&setup.repo, oid).map_err(AuditError::from)?;
        let at = OffsetDateTime::parse(&sealed.entry.at, &Rfc3339).map_err(|_| {
            Error::Usage(format!(
                "audit entry {} has an unreadable time",
                sealed.entry.seq
            ))
        })?;
        if at < oldest - CLOCK_MARGIN {
            break;
        }
        let (verb, comment_id) = match sealed.entry.event {
            Event::Halted { comment_id, .. } => (Some(Verb::Halt), comment_id),
            Event::Resumed { comment_id, .. } => (Some(Verb::Resume), comment_id),
            Event::ShipRequested { comment_id, .. } => (Some(Verb::Ship), Some(comment_id)),
            _ => (None, None),
        };
        if let (Some(verb), Some(id)) = (verb, comment_id) {
            handled.done.insert((id, verb));
        }
        // The newest halt or resume dates from its comment when there is one, else from
        // its entry: a command written while that run was running is not stale.
        if matches!(verb, Some(Verb::Halt | Verb::Resume)) && newest_change.is_none() {
            let written = comment_id
                .and_then(|id| comments.iter().find(|c| c.id == id))
                .map(|c| c.created_at);
            newest_change = Some(written.unwrap_or(at));
        }
        cursor = setup
            .repo
            .find_commit(oid)
            .ok()
            .and_then(|c| c.parent_id(0).ok());
    }
    handled.halt_changed_at = newest_change;
    // A ship written before the newest halt or resume asked for something the halt stopped.
    handled.ship_since = handled.ship_since.max(newest_change);
    Ok(pending_commands(comments, &handled))
}

fn answer(command: &PendingCommand<'_>, reaction: Reaction, note: String) -> Answer {
    Answer {
        comment_id: command.comment.id,
        reaction,
        note,
    }
}

/// A refusal, answered once: a comment that carries a +1 or -1 already was answered by an
/// earlier run (a refusal is re-judged by every run, since it is not recorded), so it gets
/// neither a reaction nor a line in the status comment again.
fn refuse(answers: &mut Vec<Answer>, command: &PendingCommand<'_>, note: String) {
    if command.comment.thumbs == 0 {
        answers.push(answer(command, Reaction::MinusOne, note));
    }
}

/// Carries out the pending halts and resumes of halt admins of the default branch's policy, in
/// order, in one append; each entry names its comment. A resume must be pristine (an edited
/// comment may say what its author never wrote: DESIGN 13.5); a halt need not, halting is
/// fail-safe.
pub(super) fn halt_and_resume(
    setup: &AppendSetup,
    policy: &Policy,
    pending: &[PendingCommand<'_>],
    now: OffsetDateTime,
) -> Result<Vec<Answer>, Error> {
    let mut answers = Vec::new();
    let mut accepted = Vec::new();
    for command in pending.iter().filter(|p| p.verb != Verb::Ship) {
        let (verb, author) = (command.verb.as_str(), &command.comment.author);
        if !policy.halt_admins.contains(author) {
            let note = format!(
                "{author} is not a halt admin of the policy: `/shipgate {verb}` was not carried out"
            );
            refuse(&mut answers, command, note);
        } else if command.verb == Verb::Resume && command.comment.edited() {
            let note = format!(
                "{author}'s `/shipgate resume` comment was edited: write the resume in a new comment"
            );
            refuse(&mut answers, command, note);
        } else {
            accepted.push(command);
        }
    }
    if accepted.is_empty() {
        return Ok(answers);
    }
    let mut outcomes: Vec<Answer> = Vec::new();
    let appended = append_all(
        &setup.repo,
        &setup.cli,
        &setup.key,
        &setup.target,
        &|| now,
        |state| {
            outcomes.clear();
            let mut halted = state.halt().is_some();
            let mut events = Vec::new();
            for command in &accepted {
                let (author, id) = (command.comment.author.to_string(), command.comment.id);
                let verb = command.verb.as_str();
                let event = match (&command.command, halted) {
                    (Command::Halt { reason }, false) => Event::Halted {
                        by: author.clone(),
                        reason: reason.clone(),
                        comment_id: Some(id),
                    },
                    (Command::Resume, true) => Event::Resumed {
                        by: author.clone(),
                        comment_id: Some(id),
                    },
                    _ => {
                        let note = format!(
                            "`/shipgate {verb}` by {author} changes nothing: the repository is {} already",
                            if halted { "halted" } else { "not halted" }
                        );
                        refuse(&mut outcomes, command, note);
                        continue;
                    }
                };
                halted = command.verb == Verb::Halt;
                let note = format!("`/shipgate {verb}` by {author} was recorded");
                outcomes.push(answer(command, Reaction::PlusOne, note));
                events.push(event);
            }
            Ok(events)
        },
    );
    match appended {
        Ok(_) => answers.extend(outcomes),
        Err(AppendError::Refused(refusal)) => {
            for command in accepted {
                let note = format!(
                    "`/shipgate {}` by {} was refused: {}",
                    command.verb.as_str(),
                    command.comment.author,
                    refusal.reason.code()
                );
                refuse(&mut answers, command, note);
            }
        }
        Err(e) => return Err(AuditError::from(e).into()),
    }
    Ok(answers)
}

/// Where a ship request goes: the ship workflow on the default branch.
pub(super) struct ShipWorkflow<'a> {
    pub client: &'a GitHubClient,
    pub runtime: &'a tokio::runtime::Runtime,
    /// The workflow file (`shipgate-ship.yml`).
    pub file: &'a str,
    /// The branch it runs on.
    pub branch: &'a str,
}

/// What a ship request is judged against, after mint decided.
pub(super) struct ShipContext<'a> {
    /// The pull request's runs (minted now or before).
    pub runs: &'a [RunId],
    /// The repository is halted.
    pub halted: bool,
    /// Whether a login may ask: someone a rule of the plans names, as for approving.
    pub may_ship: &'a dyn Fn(&Comment) -> bool,
}

/// Carries out the pending `/shipgate ship` commands: for each, starts the ship workflow for
/// every run of the pull request, then records the request with its comment's id. Starting
/// comes first: a request that started and was not recorded is started again by a later mint,
/// and executing a run twice is harmless (single-use receipts), while one recorded but never
/// started would be lost.
pub(super) fn ship(
    setup: &AppendSetup,
    workflow: &ShipWorkflow<'_>,
    context: &ShipContext<'_>,
    pending: &[PendingCommand<'_>],
    now: OffsetDateTime,
) -> Result<Vec<Answer>, Error> {
    let mut answers = Vec::new();
    for command in pending.iter().filter(|p| p.verb == Verb::Ship) {
        let author = &command.comment.author;
        let refusal = if !(context.may_ship)(command.comment) {
            Some(format!(
                "{author} may not approve these plans, so `/shipgate ship` was not carried out"
            ))
        } else if command.comment.edited() {
            Some(format!(
                "{author}'s `/shipgate ship` comment was edited: write it in a new comment"
            ))
        } else if context.halted {
            Some(format!(
                "`/shipgate ship` by {author} was not carried out: the repository is halted"
            ))
        } else if context.runs.is_empty() {
            Some(format!(
                "`/shipgate ship` by {author} was not carried out: no run is open yet; approve the plans first"
            ))
        } else {
            None
        };
        if let Some(note) = refusal {
            refuse(&mut answers, command, note);
            continue;
        }
        for run_id in context.runs {
            workflow.runtime.block_on(workflow.client.dispatch_ship(
                workflow.file,
                workflow.branch,
                run_id.as_str(),
            ))?;
        }
        let events: Vec<Event> = context
            .runs
            .iter()
            .map(|run_id| Event::ShipRequested {
                run_id: run_id.clone(),
                by: author.to_string(),
                comment_id: command.comment.id,
            })
            .collect();
        let recorded = append_all(
            &setup.repo,
            &setup.cli,
            &setup.key,
            &setup.target,
            &|| now,
            |_| Ok(events.clone()),
        );
        let note = match recorded {
            Ok(_) => format!(
                "`/shipgate ship` by {author}: {} started for {}",
                workflow.file,
                context
                    .runs
                    .iter()
                    .map(RunId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(AppendError::Refused(refusal)) => format!(
                "`/shipgate ship` by {author}: {} started for {}, but the request was not recorded ({})",
                workflow.file,
                context
                    .runs
                    .iter()
                    .map(RunId::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                refusal.reason.code()
            ),
            Err(e) => return Err(AuditError::from(e).into()),
        };
        answers.push(answer(command, Reaction::PlusOne, note));
    }
    Ok(answers)
}
