//! Shipgate's answers to `/shipgate help` and to malformed commands, threaded into the status
//! comment as a "Replies" section (issue 18): the last [`MAX_REPLIES`] answers, each naming
//! the comment it answers, and the command list once when one of them asked for it.

use std::fmt::Write;

use serde::Serialize;

use super::escape_markdown;
use crate::approval::command::{FORMS, parse_comment};
use crate::approval::evaluate::Comment;
use crate::model::{CommentId, Login};
use crate::policy::Requirement;

/// Most answers kept in the status comment.
pub const MAX_REPLIES: usize = 5;

/// What one answer says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// `/shipgate help`: see the command list.
    Help,
    /// A `/shipgate` line that did not parse.
    Malformed {
        /// The line, bounded, control characters removed (hostile: quoted in a code span).
        text: String,
        /// Whether `text` was cut.
        cut: bool,
        /// What was wrong (shipgate's words).
        problem: String,
        /// The right form, if the verb is known or guessed.
        form: Option<&'static str>,
    },
}

/// One answer to one comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The comment answered.
    pub comment_id: CommentId,
    /// Its author.
    pub author: Login,
    /// The answer.
    pub answer: Answer,
}

/// A plan's file and approve command (`None`: every rule of the policy), and its rules.
pub type HelpPlan = (Option<(String, String)>, Vec<Requirement>);

/// Who may approve the plans (or every rule, when the pull request has none) and who may halt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Help {
    /// Per plan file (`None`: every rule of the policy), its approve command and its rules.
    pub plans: Vec<HelpPlan>,
    /// The policy's halt admins.
    pub halt_admins: Vec<Login>,
}

/// The replies of a status comment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Replies {
    /// The last answers, oldest first.
    pub answers: Vec<Reply>,
    /// The command list, when an answer asks for it.
    pub help: Option<Help>,
    /// The pull request's web address, to link each answered comment.
    #[serde(skip)]
    pub pull_url: Option<String>,
}

impl Replies {
    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

/// The answers the comments call for, oldest first, the last [`MAX_REPLIES`]: one per
/// `/shipgate help` and per malformed line of people's comments (bots are never answered).
pub fn answers_to(comments: &[Comment]) -> Vec<Reply> {
    let mut answers = Vec::new();
    for comment in comments.iter().filter(|c| !c.by_bot()) {
        let parsed = parse_comment(&comment.body);
        let reply = |answer| Reply {
            comment_id: comment.id,
            author: comment.author.clone(),
            answer,
        };
        let mut lines: Vec<(usize, Answer)> = parsed
            .commands
            .iter()
            .filter(|(_, c)| *c == crate::approval::command::Command::Help)
            .map(|(line, _)| (*line, Answer::Help))
            .chain(parsed.errors.into_iter().map(|e| {
                let answer = Answer::Malformed {
                    text: e.text,
                    cut: e.cut,
                    problem: e.problem,
                    form: e.form,
                };
                (e.line, answer)
            }))
            .collect();
        lines.sort_by_key(|(line, _)| *line);
        answers.extend(lines.into_iter().map(|(_, answer)| reply(answer)));
    }
    let skip = answers.len().saturating_sub(MAX_REPLIES);
    answers.split_off(skip)
}

/// `text` as an inline code span nothing in it can close: fenced by one backtick more than
/// its longest run, padded with spaces; invisible characters shown escaped.
pub fn code_span(text: &str) -> String {
    let shown = crate::invisible::show(text);
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {shown} {fence}")
}

/// A link to the comment, or its id when the pull request's address is not a plain URL.
fn comment_link(pull_url: Option<&str>, id: CommentId) -> String {
    let plain = |u: &&str| {
        (u.starts_with("https://") || u.starts_with("http://"))
            && !u.contains([' ', '(', ')', '<', '>', '"', '\'', '[', ']', '`'])
    };
    match pull_url.filter(|u| plain(u)) {
        Some(url) => format!("[comment {id}]({url}#issuecomment-{id})"),
        None => format!("comment {id}"),
    }
}

/// The "Replies" section (empty when there is nothing to answer).
pub fn render_replies_markdown(replies: &Replies) -> String {
    let mut out = String::new();
    if replies.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n### Replies\n");
    for reply in &replies.answers {
        let to = format!(
            "To {} by {}",
            comment_link(replies.pull_url.as_deref(), reply.comment_id),
            escape_markdown(reply.author.as_str())
        );
        match &reply.answer {
            Answer::Help => {
                let _ = writeln!(out, "- {to}: the commands are listed below.");
            }
            Answer::Malformed {
                text,
                cut,
                problem,
                form,
            } => {
                let right = match form {
                    Some(form) => format!("write {}", code_span(form)),
                    None => format!("comment {} for the commands", code_span("/shipgate help")),
                };
                let _ = writeln!(
                    out,
                    "- {to}: {}{} was not carried out: {}; {right}.",
                    code_span(text),
                    if *cut { "…" } else { "" },
                    escape_markdown(problem),
                );
            }
        }
    }
    if let Some(help) = &replies.help {
        out.push_str(&render_help_markdown(help));
    }
    out
}

fn describe(r: &Requirement) -> String {
    let mut who: Vec<String> = r.users.iter().map(ToString::to_string).collect();
    who.extend(r.teams.iter().map(|t| format!("team {t}")));
    format!(
        "\"{}\" needs {} of {} ({}){}",
        r.rule,
        r.required,
        r.groups.join(", "),
        who.join(", "),
        if r.self_approval {
            ""
        } else {
            ", not the plan's author"
        }
    )
}

/// The command list: every form, who may approve which plan, who may halt.
fn render_help_markdown(help: &Help) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n### Commands\n");
    let _ = writeln!(out, "| Command | Who |");
    let _ = writeln!(out, "|---|---|");
    for (verb, form) in FORMS {
        let who = match verb {
            "approve" | "ship" => "an approver (below)",
            "revoke" => "whoever approved",
            "halt" | "resume" => "a halt admin",
            _ => "anyone",
        };
        let _ = writeln!(out, "| {} | {who} |", code_span(form));
    }
    let _ = writeln!(out, "\nWho may approve:\n");
    for (plan, rules) in &help.plans {
        let what = match plan {
            Some((file, command)) => {
                format!("{} ({})", escape_markdown(file), code_span(command))
            }
            None => "any plan (this pull request has none), by rule".to_owned(),
        };
        let rules: Vec<String> = rules
            .iter()
            .map(|r| escape_markdown(&describe(r)))
            .collect();
        let _ = writeln!(out, "- {what}: {}", rules.join("; "));
    }
    let admins: Vec<String> = help
        .halt_admins
        .iter()
        .map(|l| escape_markdown(l.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "\nWho may halt and resume: {}.",
        if admins.is_empty() {
            "nobody (the policy names no halt admins)".to_owned()
        } else {
            admins.join(", ")
        }
    );
    out
}
