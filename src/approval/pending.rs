//! Which `/shipgate halt`, `/shipgate resume` and `/shipgate ship` commands of a pull request's
//! comments are still to be carried out (issue 15, lost commands).
//!
//! A workflow run started by one comment can be cancelled before it starts (a newer comment's
//! run replaces a pending one in the concurrency group), so mint never acts on the triggering
//! comment alone: every run reads every comment and acts on each of these commands that the
//! chain does not record as carried out yet (`halted`, `resumed` and `ship_requested` entries
//! carry their comment's id). Approvals and revokes need nothing of the sort: every mint judges
//! them from all comments again.
//!
//! Pure: the caller reads the comments and the chain, and records what it carries out.
//! Nothing here says whether the author may give the command; that is the caller's policy
//! check, after this.

use crate::model::CommentId;
use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::command::{Command, parse_comment};
use super::evaluate::Comment;

/// The commands carried out once per comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// `/shipgate halt`.
    Halt,
    /// `/shipgate resume`.
    Resume,
    /// `/shipgate ship`.
    Ship,
}

impl Verb {
    /// The verb as written after `/shipgate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Halt => "halt",
            Self::Resume => "resume",
            Self::Ship => "ship",
        }
    }

    fn of(command: &Command) -> Option<Self> {
        match command {
            Command::Halt { .. } => Some(Self::Halt),
            Command::Resume => Some(Self::Resume),
            Command::Ship => Some(Self::Ship),
            Command::Approve(_) | Command::Revoke(_) | Command::Help => None,
        }
    }
}

/// What the chain says has happened already.
#[derive(Debug, Clone, Default)]
pub struct Handled {
    /// The comments (and which of their verbs) the chain records as carried out.
    pub done: BTreeSet<(CommentId, Verb)>,
    /// When the halt was last set or lifted: a halt or resume written before then answers a
    /// state that no longer stands, so it is stale (this also covers halts recorded before
    /// entries named their comment).
    pub halt_changed_at: Option<OffsetDateTime>,
    /// A `/shipgate ship` written before this is stale (the policy's approval window).
    pub ship_since: Option<OffsetDateTime>,
}

/// A command still to be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommand<'c> {
    /// Its comment.
    pub comment: &'c Comment,
    /// Which command.
    pub verb: Verb,
    /// The command (a halt's reason).
    pub command: Command,
}

/// The halt, resume and ship commands of `comments` not yet carried out, oldest comment first
/// and in their order within a comment. Bots' comments hold no commands; a comment's second
/// command of one verb is the first one repeated (one comment, one halt).
pub fn pending_commands<'c>(comments: &'c [Comment], handled: &Handled) -> Vec<PendingCommand<'c>> {
    let mut ordered: Vec<&Comment> = comments.iter().filter(|c| !c.by_bot()).collect();
    ordered.sort_by_key(|c| (c.created_at, c.id));
    let mut pending = Vec::new();
    for comment in ordered {
        let mut seen = BTreeSet::new();
        for (_, command) in parse_comment(&comment.body).commands {
            let Some(verb) = Verb::of(&command) else {
                continue;
            };
            if !seen.insert(verb) || handled.done.contains(&(comment.id, verb)) {
                continue;
            }
            let stale = match verb {
                Verb::Halt | Verb::Resume => handled
                    .halt_changed_at
                    .is_some_and(|changed| comment.created_at < changed),
                Verb::Ship => handled
                    .ship_since
                    .is_some_and(|since| comment.created_at < since),
            };
            if !stale {
                pending.push(PendingCommand {
                    comment,
                    verb,
                    command,
                });
            }
        }
    }
    pending
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::model::Login;

    fn comment(id: u64, minute: i64, body: &str) -> Comment {
        let at = datetime!(2026-12-03 10:00 UTC) + time::Duration::minutes(minute);
        Comment {
            id: CommentId::new(id),
            author: Login::parse("alice").expect("login"),
            author_is_bot: false,
            created_at: at,
            updated_at: at,
            body: body.into(),
            thumbs: 0,
        }
    }

    fn verbs(pending: &[PendingCommand<'_>]) -> Vec<(u64, Verb)> {
        pending
            .iter()
            .map(|p| (p.comment.id.get(), p.verb))
            .collect()
    }

    #[test]
    fn every_unrecorded_command_of_every_comment_is_pending_in_comment_order() {
        let comments = [
            comment(3, 3, "/shipgate ship"),
            comment(1, 1, "/shipgate halt incident"),
            comment(2, 2, "LGTM\n/shipgate resume\n/shipgate resume"),
            comment(4, 4, "/shipgate approve 0123456789abcdef"),
        ];
        let pending = pending_commands(&comments, &Handled::default());
        assert_eq!(
            verbs(&pending),
            [(1, Verb::Halt), (2, Verb::Resume), (3, Verb::Ship)]
        );
        assert_eq!(
            pending[0].command,
            Command::Halt {
                reason: "incident".into()
            }
        );
    }

    #[test]
    fn recorded_and_stale_commands_are_not_pending() {
        let comments = [
            comment(1, 1, "/shipgate halt old"),
            comment(2, 5, "/shipgate halt again"),
            comment(3, 6, "/shipgate ship\n/shipgate halt third"),
            comment(4, 30, "/shipgate ship"),
        ];
        let handled = Handled {
            done: BTreeSet::from([(CommentId::new(2), Verb::Halt)]),
            halt_changed_at: Some(datetime!(2026-12-03 10:04 UTC)),
            ship_since: Some(datetime!(2026-12-03 10:10 UTC)),
        };
        assert_eq!(
            verbs(&pending_commands(&comments, &handled)),
            [(3, Verb::Halt), (4, Verb::Ship)]
        );
    }

    #[test]
    fn bots_give_no_commands() {
        let mut bot = comment(1, 1, "/shipgate halt");
        bot.author_is_bot = true;
        assert!(pending_commands(&[bot], &Handled::default()).is_empty());
    }
}
