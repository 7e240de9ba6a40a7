//! A linear pre-scan of a YAML document's nesting, run before the parser sees it (issue 13,
//! class 8). libyaml's scanner does work proportional to the nesting depth for every token,
//! so `name: [[[[...` of 80 KB took over ten seconds before its recursion limit could answer;
//! counting first refuses 1 MiB of brackets in one pass.
//!
//! It counts block nesting (indentation levels, and the `- ` entries of compact sequences on
//! one line) plus flow nesting (`[` and `{`), and skips what cannot nest: quoted scalars (only
//! where a scalar may start, so a quote inside plain text stays text), comments and block
//! scalars (`|`, `>`). Brackets inside plain text are counted and their closers uncounted,
//! which can only overestimate, by one per unbalanced bracket: real plans and policies stay
//! far below the limit. It never allocates per byte and never looks back.

/// The deepest nesting accepted. Plans and policies nest about five levels; the parser's own
/// limit is 128.
pub const MAX_NESTING: usize = 32;

/// Where the nesting first went past [`MAX_NESTING`] (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The line.
    pub line: usize,
    /// The column, in characters.
    pub column: usize,
}

/// Checks that `text` nests at most [`MAX_NESTING`] levels.
pub fn check_nesting(text: &str) -> Result<(), TooDeep> {
    let mut scan = Scan::default();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        scan.line(line).map_err(|at| TooDeep {
            line: index + 1,
            column: line[..at].chars().count() + 1,
        })?;
    }
    Ok(())
}

#[derive(Default)]
struct Scan {
    /// Columns of the open block indentation levels.
    indents: Vec<usize>,
    /// Open `[` and `{`.
    flow: usize,
    /// Inside a quoted scalar that continues on the next line (`"` or `'`).
    quote: Option<u8>,
    /// Inside a block scalar whose owner starts at this column: more indented lines are text.
    block_scalar: Option<usize>,
}

impl Scan {
    /// Scans one line; `Err(byte offset)` where the nesting passed the limit.
    fn line(&mut self, line: &str) -> Result<(), usize> {
        let bytes = line.as_bytes();
        let indent = bytes.iter().take_while(|b| **b == b' ').count();
        let blank = bytes[indent..].iter().all(|b| b.is_ascii_whitespace());
        if let Some(owner) = self.block_scalar {
            if blank || indent > owner {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let at = if self.quote.is_some() {
            match self.skip_quoted(bytes, 0) {
                Some(end) => end,
                None => return Ok(()),
            }
        } else {
            if blank || bytes[indent] == b'#' {
                return Ok(());
            }
            while self.indents.last().is_some_and(|c| *c > indent) {
                self.indents.pop();
            }
            if self.indents.last() != Some(&indent) {
                self.indents.push(indent);
                self.check(0, indent)?;
            }
            indent
        };
        self.rest(bytes, at)
    }

    /// Scans from `at` (outside any quote) to the end of the line.
    fn rest(&mut self, bytes: &[u8], mut at: usize) -> Result<(), usize> {
        let mut entries = 0;
        // Where a new node may start: a quote there opens a quoted scalar, and in block
        // context `|` or `>` there opens a block scalar owned by `owner`.
        let mut node_start = at == 0 || bytes[..at].iter().all(|b| *b == b' ');
        let mut owner = at;
        while at < bytes.len() {
            let b = bytes[at];
            let after_space = at == 0 || matches!(bytes[at - 1], b' ' | b'\t');
            match b {
                b' ' | b'\t' => {}
                b'-' | b'?' if node_start && self.flow == 0 && is_indicator(bytes, at) => {
                    entries += 1;
                    self.check(entries, at)?;
                    owner = at;
                }
                b'"' | b'\'' if node_start => {
                    self.quote = Some(b);
                    match self.skip_quoted(bytes, at + 1) {
                        Some(end) => at = end - 1,
                        None => return Ok(()),
                    }
                    node_start = false;
                }
                b'|' | b'>' if node_start && self.flow == 0 => {
                    self.block_scalar = Some(owner);
                    return Ok(());
                }
                b'#' if after_space => return Ok(()),
                b'[' | b'{' => {
                    self.flow += 1;
                    self.check(entries, at)?;
                    node_start = true;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    node_start = false;
                }
                b',' if self.flow > 0 => node_start = true,
                b':' if at + 1 == bytes.len() || matches!(bytes[at + 1], b' ' | b'\t') => {
                    node_start = true;
                }
                _ => {
                    if node_start && self.flow == 0 {
                        owner = at;
                    }
                    node_start = false;
                }
            }
            at += 1;
        }
        Ok(())
    }

    fn check(&self, entries: usize, at: usize) -> Result<(), usize> {
        if self.indents.len() + entries + self.flow > MAX_NESTING {
            Err(at)
        } else {
            Ok(())
        }
    }

    /// Skips a quoted scalar's text from `from`; `Some(offset after the closing quote)`, or
    /// `None` when it continues on the next line.
    fn skip_quoted(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        let quote = self.quote?;
        let mut at = from;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' if quote == b'"' => at += 1,
                b'\'' if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 1,
                b if b == quote => {
                    self.quote = None;
                    return Some(at + 1);
                }
                _ => {}
            }
            at += 1;
        }
        None
    }
}

/// `-` or `?` followed by a space, a tab or the end of the line: a block entry or key.
fn is_indicator(bytes: &[u8], at: usize) -> bool {
    matches!(bytes.get(at + 1), None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_megabyte_of_brackets_is_refused_at_the_first_bracket_past_the_limit() {
        let text = format!("version: 1\nname: {}", "[".repeat(1 << 20));
        // One block level (column 0), so the 32nd bracket is one too many.
        assert_eq!(
            check_nesting(&text),
            Err(TooDeep {
                line: 2,
                column: 7 + MAX_NESTING - 1
            })
        );
    }

    #[test]
    fn compact_sequences_and_deep_indentation_count() {
        assert!(check_nesting(&"- ".repeat(100)).is_err());
        let stairs: String = (0..100)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(check_nesting(&stairs).is_err());
    }

    #[test]
    fn quoted_scalars_comments_and_block_scalars_do_not_nest() {
        let many = "[".repeat(200);
        for text in [
            format!("name: \"{many}\"\n"),
            format!("name: '{many}'' {many}'\n"),
            format!("name: \"a\n  {many}\"\n"),
            format!("name: x # {many}\n"),
            format!("notes: |\n  {many}\n  more\nversion: 1\n"),
            format!("- body: >-\n    {many}\n  title: t\n"),
            format!("title: Fix {}\n", "[x] ".repeat(100)),
        ] {
            assert_eq!(check_nesting(&text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_quote_inside_flow_text_does_not_hide_brackets() {
        let text = format!("name: [a \"{}", "[".repeat(100));
        assert!(check_nesting(&text).is_err());
        let text = format!("notes: |\n  x\nname: {}", "[".repeat(100));
        assert!(check_nesting(&text).is_err());
    }

    #[test]
    fn ordinary_plans_and_policies_pass() {
        let plan = "version: 1\nname: Release 1.4.0 [beta]\noperations:\n  - kind: tag\n    name: v1.4.0\n    target: main\n    message: \"it's [done]\"\n  - kind: release\n    tag: v1.4.0\n    notes: |\n      - [x] done\n      - {y}\n    draft: false\n";
        assert_eq!(check_nesting(plan), Ok(()));
        let policy = "version: 1\ngroups:\n  rm: { users: [alice, bob], teams: [acme/release] }\nrules:\n  - match: { kinds: [tag, release], refs: [\"v*\"] }\n    require:\n      - { group: rm, count: 2 }\n";
        assert_eq!(check_nesting(policy), Ok(()));
    }
}
