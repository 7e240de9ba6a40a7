//! The comment language (DESIGN 4): `/shipgate approve|revoke <prefix>`, `/shipgate halt
//! <reason>`, `/shipgate resume`, `/shipgate ship`.
//!
//! Rules, in the order they are applied:
//! - A comment larger than [`MAX_COMMENT_BYTES`] holds no commands (GitHub caps comments at
//!   65 536 characters, so anything larger did not come from a person).
//! - Fenced code blocks (``` or ~~~, closed by the same fence or the end of the comment),
//!   HTML comments (`<!-- ... -->`, across lines) and indented code (4+ spaces or a tab) are
//!   skipped, as are quoted lines (`>` after up to 3 spaces): a quoted or illustrated command is
//!   not a command.
//! - A command is a whole line: up to 3 spaces of indentation, then `/shipgate`, then the verb
//!   and its argument separated by spaces or tabs; trailing whitespace is ignored.
//! - `/shipgate` and the verb are case-insensitive; a plan-id prefix is 12 to 64 hex digits,
//!   optionally written `sha256:<hex>`, and is compared in lowercase.
//! - At most [`MAX_COMMANDS`] commands are read from one comment.
//!
//! Lines that start like a command but do not parse are returned as [`CommandError`]s so the
//! status comment can explain them; they never act.

use crate::model::MIN_PLAN_ID_PREFIX;

/// Largest comment body searched for commands, in bytes.
pub const MAX_COMMENT_BYTES: usize = 256 * 1024;
/// Most commands read from one comment.
pub const MAX_COMMANDS: usize = 20;
/// Longest halt reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 500;

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
}

/// Why a `/shipgate` line did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// 1-based line in the comment.
    pub line: usize,
    /// What was wrong, in words for the status comment (escape before rendering).
    pub problem: String,
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
    let mut fence: Option<(char, usize)> = None;
    let mut in_html_comment = false;
    for (index, raw_line) in body.lines().enumerate() {
        if parsed.commands.len() >= MAX_COMMANDS {
            break;
        }
        let line_no = index + 1;
        let mut line = raw_line;
        if in_html_comment {
            match line.find("-->") {
                Some(end) => {
                    in_html_comment = false;
                    line = &line[end + 3..];
                }
                None => continue,
            }
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim_start_matches(' ');
        if let Some((fence_char, fence_len)) = fence {
            let run = trimmed.chars().take_while(|c| *c == fence_char).count();
            if indent <= 3 && run >= fence_len && trimmed[run..].trim().is_empty() {
                fence = None;
            }
            continue;
        }
        if indent <= 3 {
            for fence_char in ['`', '~'] {
                let run = trimmed.chars().take_while(|c| *c == fence_char).count();
                if run >= 3 {
                    fence = Some((fence_char, run));
                }
            }
            if fence.is_some() {
                continue;
            }
        }
        if let Some(start) = line.find("<!--") {
            let after = &line[start + 4..];
            if !after.contains("-->") {
                in_html_comment = true;
            }
            // A line that opens or holds a comment is never a command line.
            continue;
        }
        if indent >= 4 || line.starts_with('\t') || trimmed.starts_with('>') {
            continue;
        }
        if let Some(result) = parse_command_line(trimmed.trim_end()) {
            match result {
                Ok(command) => parsed.commands.push((line_no, command)),
                Err(problem) => parsed.errors.push(CommandError {
                    line: line_no,
                    problem,
                }),
            }
        }
    }
    parsed
}

/// `None` when the line is not a `/shipgate` line at all.
fn parse_command_line(line: &str) -> Option<Result<Command, String>> {
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
    let prefix = |args: &[&str], verb: &str| -> Result<PlanIdPrefix, String> {
        match args {
            [one] => PlanIdPrefix::parse(one)
                .ok_or_else(|| format!("`/shipgate {verb}` needs a plan-id prefix of {MIN_PLAN_ID_PREFIX} to 64 hex digits")),
            [] => Err(format!("`/shipgate {verb}` needs a plan-id prefix")),
            _ => Err(format!("`/shipgate {verb}` takes one plan-id prefix")),
        }
    };
    Some(match verb.as_deref() {
        Some("approve") => prefix(&args, "approve").map(Command::Approve),
        Some("revoke") => prefix(&args, "revoke").map(Command::Revoke),
        Some("halt") if args.is_empty() => Err("`/shipgate halt` needs a reason".to_owned()),
        Some("halt") => Ok(Command::Halt {
            reason: clean_reason(&args.join(" ")),
        }),
        Some("resume") if args.is_empty() => Ok(Command::Resume),
        Some("ship") if args.is_empty() => Ok(Command::Ship),
        Some(verb @ ("resume" | "ship")) => Err(format!("`/shipgate {verb}` takes no argument")),
        Some(_) => Err("unknown command; use approve, revoke, halt, resume or ship".to_owned()),
        None => {
            Err("`/shipgate` needs a command: approve, revoke, halt, resume or ship".to_owned())
        }
    })
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
