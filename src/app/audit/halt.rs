//! `shipgate halt` and `shipgate resume`: stopping all shipping, and lifting the stop on a
//! halt admin's own request read from GitHub.
use std::io::Write;

use time::OffsetDateTime;

use crate::approval::command::MAX_REASON_CHARS;
use crate::audit::entry::Event;
use crate::audit::reason::Reason;
use crate::audit::state::{ApplyError, StateAccess};
use crate::cli::{HaltArgs, ResumeArgs};
use crate::error::{Error, Outcome};
use crate::policy::Policy;

use super::super::inputs::{self, PolicyRequest};
use super::append_operator_event;

/// `shipgate halt`: records a halt; refused (exit 1) when already halted.
pub fn halt(args: &HaltArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let reason: String = args
        .reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    if reason.trim().is_empty() {
        return Err(Error::Usage("--reason must say why shipping stops".into()));
    }
    append_operator_event(&args.append, out, |_, kid| {
        Ok(Event::Halted {
            by: operator(args.by.as_deref(), kid),
            reason: reason.clone(),
            comment_id: None,
        })
    })
}

/// `shipgate resume --comment ID`: lifts a halt on a halt admin's own request, their
/// `/shipgate resume` comment read from GitHub; refused (exit 1) when not halted or when the
/// comment is not such a request (`RESUME_NOT_AUTHORIZED`). Halting is fail-safe, so the audit
/// key alone may halt; resuming undoes a safety stop, so it takes a halt admin's own act.
pub fn resume(args: &ResumeArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let token = crate::app::github::token().ok_or_else(|| {
        Error::Usage(
            "resume reads the halt admin's `/shipgate resume` comment on GitHub: set GITHUB_TOKEN"
                .into(),
        )
    })?;
    let (repo, slug) = inputs::governed_repo(&args.append)?;
    let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(&args.append.policy))?;
    let (runtime, client) = crate::app::github::connect(&slug, token)?;
    let comment = runtime
        .block_on(crate::github::GitHubRead::comment(
            &client,
            crate::model::CommentId::new(args.comment),
        ))?
        .ok_or_else(|| {
            Error::Usage(format!(
                "{slug} has no comment {}: pass the id of a `/shipgate resume` comment",
                args.comment
            ))
        })?;
    append_operator_event(&args.append, out, |state, _| {
        let halt = state.halt();
        resume_request(&policy, &comment, halt.as_ref()).map_err(|detail| ApplyError {
            reason: Reason::ResumeNotAuthorized,
            detail,
        })
    })
}

/// The `resumed` entry a comment asks for, or why it does not: it must be a halt admin's own
/// unedited comment with a `/shipgate resume` line, written after the standing halt.
fn resume_request(
    policy: &Policy,
    comment: &crate::approval::evaluate::Comment,
    halt: Option<&crate::audit::state::HaltRecord>,
) -> Result<Event, String> {
    let id = comment.id;
    if comment.author_is_bot || !policy.halt_admins.contains(&comment.author) {
        return Err(format!(
            "comment {id} is by {}, who is not a halt admin of the policy on the default branch",
            comment.author
        ));
    }
    if comment.updated_at != comment.created_at {
        return Err(format!(
            "comment {id} was edited after it was written: ask {} for a new one",
            comment.author
        ));
    }
    let asks = crate::approval::command::parse_comment(&comment.body)
        .commands
        .iter()
        .any(|(_, command)| matches!(command, crate::approval::command::Command::Resume));
    if !asks {
        return Err(format!(
            "comment {id} has no `/shipgate resume` line of its own"
        ));
    }
    if let Some(halt) = halt {
        let since =
            OffsetDateTime::parse(&halt.since, &time::format_description::well_known::Rfc3339)
                .map_err(|_| format!("the halt's time `{}` is unreadable", halt.since))?;
        if comment.created_at < since {
            return Err(format!(
                "comment {id} was written before the halt of {}: a resume must answer the halt that stands",
                halt.since
            ));
        }
    }
    Ok(Event::Resumed {
        by: comment.author.to_string(),
        comment_id: Some(id),
    })
}

/// Who an operator's entry names: `--by`, else the workflow's actor, else the key that signs.
fn operator(by: Option<&str>, kid: &str) -> String {
    by.map(str::to_owned)
        .or_else(|| std::env::var("GITHUB_ACTOR").ok().filter(|a| !a.is_empty()))
        .unwrap_or_else(|| format!("key:{kid}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::evaluate::Comment;
    use crate::audit::state::HaltRecord;
    use crate::model::Login;
    use time::macros::datetime;

    fn policy() -> Policy {
        crate::policy::load_policy(&[crate::policy::PolicyFile {
            name: "policy.yaml".into(),
            bytes: b"version: 1\nhalt_admins: [alice]\n".to_vec(),
        }])
        .unwrap()
    }

    fn comment(at: OffsetDateTime) -> Comment {
        Comment {
            id: crate::model::CommentId::new(7),
            author: Login::parse("alice").unwrap(),
            author_is_bot: false,
            created_at: at,
            updated_at: at,
            body: "/shipgate resume\n".into(),
            thumbs: 0,
        }
    }

    #[test]
    fn a_resume_comment_written_before_the_standing_halt_does_not_lift_it() {
        let halt = HaltRecord {
            by: "alice".into(),
            reason: "incident".into(),
            since: "2026-12-03T10:00:00Z".into(),
            seq: 4,
        };
        let before = comment(datetime!(2026-12-03 09:59:59 UTC));
        assert!(resume_request(&policy(), &before, Some(&halt)).is_err());
        let after = comment(datetime!(2026-12-03 10:00:01 UTC));
        assert_eq!(
            resume_request(&policy(), &after, Some(&halt)),
            Ok(Event::Resumed {
                by: "alice".into(),
                comment_id: Some(crate::model::CommentId::new(7)),
            })
        );
    }
}
