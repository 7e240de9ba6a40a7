//! The comment language (DESIGN 4): `/shipgate approve|revoke <prefix>`, `/shipgate halt
//! <reason>`, `/shipgate resume`, `/shipgate ship`, `/shipgate help`.
//!
//! Rules, in the order they are applied:
//! - A comment larger than [`MAX_COMMENT_BYTES`] holds no commands (GitHub caps comments at
//!   65 536 characters, so anything larger did not come from a person).
//! - Only lines GitHub shows as paragraph text are read ([`super::visible`]): quotes (with
//!   their lazy continuation lines), fenced and indented code (also inside list items),
//!   `<pre>` blocks and HTML comments are skipped, so a quoted or illustrated command is not
//!   a command, and a line GitHub shows as text is. Lines end at `\n`, `\r\n` or a lone `\r`.
//! - A command is a whole line of text: `/shipgate`, then the verb and its argument separated
//!   by spaces or tabs; leading and trailing whitespace is ignored.
//! - `/shipgate` and the verb are case-insensitive; a plan-id prefix is 12 to 64 hex digits,
//!   optionally written `sha256:<hex>`, and is compared in lowercase.
//! - At most [`MAX_COMMANDS`] commands are read from one comment.
//!
//! Lines that start like a command but do not parse are returned as [`CommandError`]s (the
//! problem, the right form, the line quoted back bounded) so the status comment can answer
//! them; they never act.

use crate::model::MIN_PLAN_ID_PREFIX;

/// Largest comment body searched for commands, in bytes.
pub const MAX_COMMENT_BYTES: usize = 256 * 1024;
/// Most commands read from one comment.
pub const MAX_COMMANDS: usize = 20;
/// Longest halt reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest part of a malformed line kept to quote it back, in characters.
pub const MAX_QUOTED_CHARS: usize = 100;
/// Longest unknown verb compared with the known ones, in characters.
const MAX_LINE_CHARS: usize = 64;

/// A lowercase hex plan-id prefix of 12 to 64 digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlanIdPrefix(String);

impl PlanIdPrefix {
    /// Parses `abc123...` or `sha256:abc123...`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        let ok = (MIN_PLAN_ID_PREFIX..=64).contains(&hex.len())
            && hex.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self(hex.to_ascii_lowercase()))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this prefix names `plan_id`.
    pub fn matches(&self, plan_id: &crate::model::PlanId) -> bool {
        plan_id.hex().starts_with(&self.0)
    }
}

/// A command found in a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Approve the plan whose id starts with the prefix.
    Approve(PlanIdPrefix),
    /// Withdraw one's own earlier approval of that plan.
    Revoke(PlanIdPrefix),
    /// Stop all minting and execution.
    Halt {
        /// Why (free text, bounded, control characters removed).
        reason: String,
    },
    /// Lift a halt.
    Resume,
    /// Execute the approved run.
    Ship,
    /// List the commands and who may give them.
    Help,
}

/// Why a `/shipgate` line did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// 1-based line in the comment.
    pub line: usize,
    /// What was wrong, in words for the status comment (no text of the comment's).
    pub problem: String,
    /// The form of the verb it names or most likely meant, if any.
    pub form: Option<&'static str>,
    /// The line as written (control characters removed), at most [`MAX_QUOTED_CHARS`]
    /// characters: hostile, escape it before rendering.
    pub text: String,
    /// Whether `text` was cut.
    pub cut: bool,
}

/// The commands of one comment, with their lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedComment {
    /// Commands in order, with their 1-based lines.
    pub commands: Vec<(usize, Command)>,
    /// Lines that looked like commands but were malformed.
    pub errors: Vec<CommandError>,
    /// The comment was too large to read.
    pub too_large: bool,
}

/// Reads the commands of a comment body.
pub fn parse_comment(body: &str) -> ParsedComment {
    let mut parsed = ParsedComment::default();
    if body.len() > MAX_COMMENT_BYTES {
        parsed.too_large = true;
        return parsed;
    }
    for (line_no, line) in super::visible::visible_lines(body) {
        if parsed.commands.len() >= MAX_COMMANDS {
            break;
        }
        if let Some(result) = parse_command_line(line.trim_end()) {
            match result {
                Ok(command) => parsed.commands.push((line_no, command)),
                Err((problem, form)) => {
                    let (text, cut) = quoted(line);
                    parsed.errors.push(CommandError {
                        line: line_no,
                        problem,
                        form,
                        text,
                        cut,
                    });
                }
            }
        }
    }
    parsed
}

/// Every verb with the form it takes, in the order `/shipgate help` lists them.
pub const FORMS: [(&str, &str); 6] = [
    ("approve", "/shipgate approve <plan-id-prefix>"),
    ("revoke", "/shipgate revoke <plan-id-prefix>"),
    ("ship", "/shipgate ship"),
    ("halt", "/shipgate halt <reason>"),
    ("resume", "/shipgate resume"),
    ("help", "/shipgate help"),
];

/// The form of `verb`, if it is one.
fn form_of(verb: &str) -> Option<&'static str> {
    FORMS
        .iter()
        .find(|(v, _)| *v == verb)
        .map(|(_, form)| *form)
}

/// The verb a mistyped `word` most likely meant: one at most two edits away.
fn closest_verb(word: &str) -> Option<&'static str> {
    FORMS
        .iter()
        .map(|(verb, _)| (edit_distance(word, verb), *verb))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, verb)| verb)
}

/// Levenshtein distance, over at most [`MAX_LINE_CHARS`] characters of `a`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().take(MAX_LINE_CHARS).enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Why a plan-id prefix written as `text` does not parse.
fn prefix_problem(text: &str) -> String {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        "the plan-id prefix is not hexadecimal (0-9, a-f)".to_owned()
    } else if hex.len() < MIN_PLAN_ID_PREFIX {
        format!(
            "the plan-id prefix is too short: it takes at least {MIN_PLAN_ID_PREFIX} hex digits"
        )
    } else {
        "the plan-id prefix is too long: a plan id has 64 hex digits".to_owned()
    }
}

/// A malformed command's problem, and the form of the verb it names (if it names one).
type Malformed = (String, Option<&'static str>);

/// `None` when the line is not a `/shipgate` line at all.
fn parse_command_line(line: &str) -> Option<Result<Command, Malformed>> {
    const WORD: &str = "/shipgate";
    let head = line.get(..WORD.len())?;
    if !head.eq_ignore_ascii_case(WORD) {
        return None;
    }
    let rest = &line[WORD.len()..];
    // "/shipgateX" is another word, not our command.
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut words = rest.split([' ', '\t']).filter(|w| !w.is_empty());
    let verb = words.next().map(str::to_ascii_lowercase);
    let args: Vec<&str> = words.collect();
    let wrong = |problem: String, verb: &str| Err((problem, form_of(verb)));
    let prefix = |args: &[&str], verb: &str| match args {
        [one] => PlanIdPrefix::parse(one).ok_or_else(|| (prefix_problem(one), form_of(verb))),
        [] => Err(("a plan-id prefix is missing".to_owned(), form_of(verb))),
        _ => Err((
            "it takes one plan-id prefix, nothing more".to_owned(),
            form_of(verb),
        )),
    };
    Some(match verb.as_deref() {
        Some("approve") => prefix(&args, "approve").map(Command::Approve),
        Some("revoke") => prefix(&args, "revoke").map(Command::Revoke),
        Some("halt") if args.is_empty() => wrong("a halt needs a reason".to_owned(), "halt"),
        Some("halt") => Ok(Command::Halt {
            reason: clean_reason(&args.join(" ")),
        }),
        Some("resume") if args.is_empty() => Ok(Command::Resume),
        Some("ship") if args.is_empty() => Ok(Command::Ship),
        Some("help") if args.is_empty() => Ok(Command::Help),
        Some(verb @ ("resume" | "ship" | "help")) => wrong("it takes no argument".to_owned(), verb),
        Some(other) => match closest_verb(other) {
            Some(meant) => wrong(format!("unknown command; did you mean {meant}?"), meant),
            None => Err(("unknown command".to_owned(), None)),
        },
        None => Err(("a command is missing after /shipgate".to_owned(), None)),
    })
}

/// The line as written, for quoting in a reply: control characters removed, at most
/// [`MAX_QUOTED_CHARS`] characters, and whether it was cut.
fn quoted(line: &str) -> (String, bool) {
    let mut chars = line.trim().chars().filter(|c| !c.is_control());
    let text: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    (text, chars.next().is_some())
}

fn clean_reason(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef";

    fn commands(body: &str) -> Vec<Command> {
        parse_comment(body)
            .commands
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    fn approve(p: &str) -> Command {
        Command::Approve(PlanIdPrefix::parse(p).unwrap())
    }

    #[test]
    fn reads_each_verb_on_its_own_line() {
        let body = format!(
            "LGTM!\n/shipgate approve {ID}\n/shipgate revoke sha256:{ID}\n/shipgate halt  bad   build\n/shipgate resume\n/shipgate ship\n"
        );
        assert_eq!(
            commands(&body),
            vec![
                approve(ID),
                Command::Revoke(PlanIdPrefix::parse(ID).unwrap()),
                Command::Halt {
                    reason: "bad build".into()
                },
                Command::Resume,
                Command::Ship
            ]
        );
    }

    #[test]
    fn case_and_surrounding_whitespace_are_forgiven() {
        assert_eq!(
            commands(&format!("   /ShipGate APPROVE {}  \t", ID.to_uppercase())),
            vec![approve(ID)]
        );
    }

    #[test]
    fn quotes_code_blocks_indented_code_and_html_comments_are_not_commands() {
        for body in [
            format!("> /shipgate approve {ID}"),
            format!("  >  /shipgate approve {ID}"),
            format!("```\n/shipgate approve {ID}\n```"),
            format!("~~~~sh\n/shipgate approve {ID}\n~~~~"),
            format!("```\nunclosed fence\n/shipgate approve {ID}"),
            format!("    /shipgate approve {ID}"),
            format!("\t/shipgate approve {ID}"),
            format!("<!--\n/shipgate approve {ID}\n-->"),
            format!("<!-- /shipgate approve {ID} -->"),
            format!("text /shipgate approve {ID}"),
            format!("`/shipgate approve {ID}`"),
        ] {
            assert_eq!(commands(&body), vec![], "{body:?}");
        }
    }

    #[test]
    fn a_lazy_continuation_line_of_a_quote_is_quoted() {
        // GitHub shows the second line inside the quote: no blank line ended it.
        assert_eq!(
            commands(&format!("> I said\n/shipgate approve {ID}")),
            vec![]
        );
        assert_eq!(
            commands(&format!("> I said\n\n/shipgate approve {ID}")),
            vec![approve(ID)]
        );
    }

    #[test]
    fn a_fence_inside_a_list_item_is_code_until_the_item_ends() {
        // The fence is indented three columns into the item: its lines are code.
        let code = format!("- steps:\n\n     ```\n  /shipgate approve {ID}\n     ```");
        assert_eq!(commands(&code), vec![]);
        // A line left of the item's content ends the item, and its fence: visible text.
        let visible = format!("- example:\n  ```\n/shipgate revoke {ID}");
        assert_eq!(
            commands(&visible),
            vec![Command::Revoke(PlanIdPrefix::parse(ID).unwrap())]
        );
    }

    #[test]
    fn a_pre_block_is_code_until_its_closing_tag() {
        let body = format!("<pre>\nexample\n\n/shipgate approve {ID}\n</pre>");
        assert_eq!(commands(&body), vec![]);
        let body = format!("<PRE class=x>\n/shipgate approve {ID}\n</pre>\n/shipgate ship");
        assert_eq!(commands(&body), vec![Command::Ship]);
    }

    #[test]
    fn a_lone_carriage_return_breaks_the_line() {
        // GitHub shows the revoke on a line of its own: it must count.
        assert_eq!(
            commands(&format!("changed my mind\r/shipgate revoke {ID}")),
            vec![Command::Revoke(PlanIdPrefix::parse(ID).unwrap())]
        );
        assert_eq!(
            commands(&format!("```\r/shipgate approve {ID}\r```")),
            vec![]
        );
    }

    #[test]
    fn a_code_span_across_lines_is_code() {
        assert_eq!(
            commands(&format!("type `\n/shipgate approve {ID}\n` to approve")),
            vec![]
        );
    }

    #[test]
    fn indented_text_after_a_paragraph_is_text_not_code() {
        assert_eq!(
            commands(&format!("revoking:\n    /shipgate revoke {ID}")),
            vec![Command::Revoke(PlanIdPrefix::parse(ID).unwrap())]
        );
    }

    #[test]
    fn a_command_after_a_closed_block_counts() {
        let body = format!("```\nexample\n```\n<!-- hidden -->\n/shipgate approve {ID}");
        assert_eq!(commands(&body), vec![approve(ID)]);
        let body = format!("<!--\nhidden\n--> \n/shipgate approve {ID}");
        assert_eq!(commands(&body), vec![approve(ID)]);
    }

    #[test]
    fn malformed_commands_are_explained_not_executed() {
        let parsed = parse_comment(
            "/shipgate approve abc\n/shipgate approve\n/shipgate deploy\n/shipgate\n/shipgate ship now\n/shipgate halt",
        );
        assert!(parsed.commands.is_empty());
        assert_eq!(
            parsed.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert!(
            parse_comment("/shipgateapprove 0123456789ab")
                .errors
                .is_empty(),
            "another word entirely"
        );
    }

    #[test]
    fn prefixes_need_twelve_hex_digits() {
        assert!(PlanIdPrefix::parse("0123456789a").is_none());
        assert!(PlanIdPrefix::parse("0123456789ag").is_none());
        assert!(PlanIdPrefix::parse(&"a".repeat(65)).is_none());
        assert_eq!(
            PlanIdPrefix::parse("sha256:ABCDEF012345").unwrap().as_str(),
            "abcdef012345"
        );
    }

    #[test]
    fn halt_reasons_are_bounded_and_stripped_of_control_characters() {
        let body = format!("/shipgate halt {}\u{1b}[31m", "x".repeat(1000));
        match &commands(&body)[0] {
            Command::Halt { reason } => {
                assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
                assert!(!reason.contains('\u{1b}'));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn huge_comments_are_bounded() {
        let many = format!("/shipgate approve {ID}\n").repeat(1000);
        assert_eq!(parse_comment(&many).commands.len(), MAX_COMMANDS);
        let megabyte = format!("{}\n/shipgate approve {ID}", "a".repeat(1 << 20));
        let parsed = parse_comment(&megabyte);
        assert!(parsed.too_large && parsed.commands.is_empty());
        // Just under the limit: read in full, linearly.
        let big = format!(
            "{}\n/shipgate approve {ID}",
            "word ".repeat((MAX_COMMENT_BYTES - 64) / 5)
        );
        assert_eq!(commands(&big), vec![approve(ID)]);
    }
}
