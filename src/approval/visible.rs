//! Which lines of a comment GitHub shows as ordinary text: the only lines that can hold a
//! command (DESIGN 4; issue 13, class 13). Pure: a line-level model of CommonMark's block
//! structure as GitHub renders comments, no I/O.
//!
//! The rule it serves: a line GitHub shows as a quote or as code never counts as a command,
//! and a line GitHub shows as text always does. So it models, line by line:
//! - line breaks as GitHub reads them: `\n`, `\r\n` and a lone `\r`;
//! - block quotes, including the lazy continuation lines of a quoted paragraph (a line right
//!   after `> text`, without a blank line, is still inside the quote);
//! - list items and their content indentation, so that a fence inside an item ends where the
//!   item ends, and code indentation is counted from the item's content;
//! - fenced code, indented code (which cannot interrupt a paragraph: an indented line right
//!   after text is more text), HTML comments, and the HTML blocks that run until a closing tag
//!   (`<pre>`, `<script>`, `<style>`, `<textarea>`);
//! - code spans that run across lines of one paragraph (a backtick run closed by the next run
//!   of the same length): a line that starts inside one is shown as code.
//!
//! It is not a full CommonMark parser (bors's parser uses pulldown-cmark; a dependency for
//! one function was rejected): it follows the spec where a command could hide or appear,
//! and its tests pin each such case.

/// A fenced code block: where its container's content starts, its character and length.
#[derive(Debug, Clone, Copy)]
struct Fence {
    container: usize,
    ch: u8,
    len: usize,
}

/// The open blocks that decide how the next line is read.
#[derive(Debug, Default)]
struct Blocks {
    /// Content columns of the open list items, innermost last.
    lists: Vec<usize>,
    fence: Option<Fence>,
    /// The closing tag of an open `<pre>`-like HTML block.
    raw_html_end: Option<&'static str>,
    html_comment: bool,
    /// The previous line was paragraph text (so this one may continue it).
    paragraph: bool,
    /// The previous line was paragraph text inside a quote (so this one may lazily continue it).
    quote_paragraph: bool,
}

/// A line of paragraph text.
#[derive(Debug, Clone, Copy)]
struct Text<'a> {
    /// The line without its leading whitespace.
    text: &'a str,
    /// It starts a paragraph (rather than continuing the one above).
    starts: bool,
    /// It could be a command line: not a list item's first line, no HTML comment in it.
    command_line: bool,
}

/// The lines GitHub shows as paragraph text, each with its 1-based number and without its
/// leading whitespace.
pub fn visible_lines(body: &str) -> Vec<(usize, &str)> {
    let mut blocks = Blocks::default();
    let lines: Vec<(usize, Option<Text<'_>>)> = split_lines(body)
        .enumerate()
        .map(|(index, line)| (index + 1, blocks.read(line)))
        .collect();
    let mut visible = Vec::new();
    let mut paragraph: Vec<(usize, Text<'_>)> = Vec::new();
    for (number, read) in lines {
        match read {
            Some(text) if !text.starts || paragraph.is_empty() => paragraph.push((number, text)),
            other => {
                visible.extend(outside_code_spans(&paragraph));
                paragraph.clear();
                paragraph.extend(other.map(|text| (number, text)));
            }
        }
    }
    visible.extend(outside_code_spans(&paragraph));
    visible
}

/// The command lines of one paragraph that do not start inside a code span.
fn outside_code_spans<'a>(paragraph: &[(usize, Text<'a>)]) -> Vec<(usize, &'a str)> {
    let joined: Vec<&str> = paragraph.iter().map(|(_, t)| t.text).collect();
    let spans = code_spans(&joined.join("\n"));
    let mut offset = 0;
    let mut visible = Vec::new();
    for (number, text) in paragraph {
        let inside = spans
            .iter()
            .any(|(start, end)| *start <= offset && offset < *end);
        if text.command_line && !inside {
            visible.push((*number, text.text));
        }
        offset += text.text.len() + 1;
    }
    visible
}

/// The byte ranges of `text` inside code spans: a run of n backticks (not escaped) opens a
/// span that the next run of exactly n backticks closes; an opener never closed is literal.
fn code_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = bytes[at..].iter().take_while(|b| **b == b'`').count();
        if len > 0 {
            runs.push((at, len));
            at += len;
        } else {
            at += 1;
        }
    }
    // Where each run length occurs, to find the next run of a length in logarithmic time.
    let mut by_len: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (index, (_, len)) in runs.iter().enumerate() {
        by_len.entry(*len).or_default().push(index);
    }
    let mut spans = Vec::new();
    let mut index = 0;
    while index < runs.len() {
        let (start, mut len) = runs[index];
        let escaped = start > 0 && bytes[start - 1] == b'\\';
        let open_end = start + len;
        if escaped {
            len -= 1;
        }
        let closer = by_len.get(&len).and_then(|same| {
            let next = same.partition_point(|i| *i <= index);
            same.get(next).copied()
        });
        match closer {
            Some(close) if len > 0 => {
                spans.push((open_end, runs[close].0));
                index = close + 1;
            }
            _ => index += 1,
        }
    }
    spans
}

/// Splits at `\r\n`, `\n` or a lone `\r`, as CommonMark (and so GitHub) does.
fn split_lines(body: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(body);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]).filter(|r| !r.is_empty());
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

impl Blocks {
    /// Reads one line; `Some(text)` when GitHub shows it as a line of paragraph text.
    fn read<'a>(&mut self, mut line: &'a str) -> Option<Text<'a>> {
        if self.html_comment {
            let end = line.find("-->")?;
            self.html_comment = false;
            line = &line[end + 3..];
        }
        let (indent, rest) = indentation(line);
        let blank = rest.trim().is_empty();
        if let Some(fence) = self.fence {
            if blank {
                return None;
            }
            if indent >= fence.container {
                if indent - fence.container <= 3 && closes(rest, fence) {
                    self.fence = None;
                }
                return None;
            }
            // The list item holding the fence ended, and the fence with it.
            self.fence = None;
        }
        if let Some(end) = self.raw_html_end {
            if contains_ignore_case(line, end) {
                self.raw_html_end = None;
            }
            return None;
        }
        if blank {
            self.paragraph = false;
            self.quote_paragraph = false;
            return None;
        }
        let container = self
            .lists
            .iter()
            .rev()
            .find(|w| **w <= indent)
            .copied()
            .unwrap_or(0);
        let starts_block = indent - container <= 3 && starts_block(rest);
        if self.quote_paragraph {
            if !starts_block {
                return None;
            }
            self.quote_paragraph = false;
        }
        if self.paragraph && !starts_block {
            return Some(self.paragraph_line(rest, false));
        }
        self.paragraph = false;
        while self.lists.last().is_some_and(|w| *w > indent) {
            self.lists.pop();
        }
        if indent - container >= 4 {
            return None;
        }
        self.open(rest, container)
    }

    /// A line that starts blocks at `container`'s content column: quotes, list items, fences,
    /// HTML blocks, headings and breaks are never command lines; anything else is text.
    fn open<'a>(&mut self, mut rest: &'a str, mut container: usize) -> Option<Text<'a>> {
        let mut in_list_item = false;
        loop {
            if let Some(quoted) = rest.strip_prefix('>') {
                let quoted = quoted.trim_start();
                self.quote_paragraph = !quoted.is_empty() && fence_opener(quoted).is_none();
                return None;
            }
            if thematic_break(rest) || atx_heading(rest) {
                return None;
            }
            if let Some(marker) = list_marker(rest) {
                container += marker.width;
                self.lists.push(container);
                if marker.code_or_empty {
                    return None;
                }
                rest = marker.content;
                in_list_item = true;
                continue;
            }
            if let Some((ch, len)) = fence_opener(rest) {
                self.fence = Some(Fence { container, ch, len });
                return None;
            }
            if let Some(end) = raw_html_start(rest) {
                if !contains_ignore_case(&rest[1..], end) {
                    self.raw_html_end = Some(end);
                }
                return None;
            }
            let text = self.paragraph_line(rest, true);
            // A bulleted `- /shipgate ...` is list text, not a command line.
            return Some(Text {
                command_line: text.command_line && !in_list_item,
                ..text
            });
        }
    }

    /// Paragraph text; a line that opens or holds an HTML comment is never a command line.
    fn paragraph_line<'a>(&mut self, rest: &'a str, starts: bool) -> Text<'a> {
        self.paragraph = true;
        let comment = rest.find("<!--");
        if let Some(start) = comment {
            self.html_comment = !rest[start + 4..].contains("-->");
        }
        Text {
            text: rest.trim_start(),
            starts,
            command_line: comment.is_none(),
        }
    }
}

/// Leading whitespace in columns (tabs to the next multiple of 4), and the rest of the line.
fn indentation(line: &str) -> (usize, &str) {
    let mut columns = 0;
    for (at, byte) in line.bytes().enumerate() {
        match byte {
            b' ' => columns += 1,
            b'\t' => columns += 4 - columns % 4,
            _ => return (columns, &line[at..]),
        }
    }
    (columns, "")
}

/// Whether a line (at most 3 columns into its container) starts a block that interrupts a
/// paragraph, so it cannot be a lazy continuation line.
fn starts_block(rest: &str) -> bool {
    rest.starts_with('>')
        || rest.starts_with("<!--")
        || fence_opener(rest).is_some()
        || thematic_break(rest)
        || atx_heading(rest)
        || raw_html_start(rest).is_some()
        || list_marker(rest).is_some_and(|m| m.interrupts)
}

fn fence_opener(rest: &str) -> Option<(u8, usize)> {
    [b'`', b'~'].into_iter().find_map(|ch| {
        let len = rest.bytes().take_while(|b| *b == ch).count();
        let info = &rest[len..];
        (len >= 3 && !(ch == b'`' && info.contains('`'))).then_some((ch, len))
    })
}

fn closes(rest: &str, fence: Fence) -> bool {
    let len = rest.bytes().take_while(|b| *b == fence.ch).count();
    len >= fence.len && rest[len..].trim().is_empty()
}

fn thematic_break(rest: &str) -> bool {
    let marks: Vec<u8> = rest
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t'))
        .collect();
    marks.len() >= 3
        && matches!(marks[0], b'*' | b'-' | b'_')
        && marks.iter().all(|b| *b == marks[0])
}

fn atx_heading(rest: &str) -> bool {
    let hashes = rest.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&hashes)
        && rest[hashes..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
}

/// The HTML blocks that end at a closing tag rather than a blank line (CommonMark type 1):
/// GitHub shows `<pre>` as code and strips the others. Returns the closing tag.
fn raw_html_start(rest: &str) -> Option<&'static str> {
    let tag = rest.strip_prefix('<')?;
    [
        ("pre", "</pre>"),
        ("script", "</script>"),
        ("style", "</style>"),
        ("textarea", "</textarea>"),
    ]
    .into_iter()
    .find(|(name, _)| {
        tag.get(..name.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(name))
            && tag[name.len()..]
                .chars()
                .next()
                .is_none_or(|c| c == '>' || c.is_whitespace())
    })
    .map(|(_, end)| end)
}

fn contains_ignore_case(text: &str, needle: &str) -> bool {
    text.to_ascii_lowercase().contains(needle)
}

/// A list item's marker (`-`, `*`, `+`, `1.`, `1)`) at the start of a line.
struct ListMarker<'a> {
    /// Columns from the marker to the item's content.
    width: usize,
    /// The item's first line of content.
    content: &'a str,
    /// The item starts with indented code, or is empty: no text on this line.
    code_or_empty: bool,
    /// The marker may interrupt a paragraph (it has content; an ordered one starts at 1).
    interrupts: bool,
}

fn list_marker(rest: &str) -> Option<ListMarker<'_>> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (marker_len, ordered_from_one) = match rest.as_bytes().first()? {
        b'-' | b'*' | b'+' => (1, true),
        _ if (1..=9).contains(&digits)
            && matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) =>
        {
            (digits + 1, rest[..digits].trim_start_matches('0') == "1")
        }
        _ => return None,
    };
    let after = &rest[marker_len..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let (spaces, content) = indentation(after);
    let empty = content.trim().is_empty();
    let code_or_empty = empty || spaces >= 5;
    let width = marker_len + if code_or_empty { 1 } else { spaces };
    Some(ListMarker {
        width,
        content,
        code_or_empty,
        interrupts: !empty && ordered_from_one,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<&str> {
        visible_lines(body).into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn lines_break_at_lf_crlf_and_a_lone_cr() {
        assert_eq!(
            visible_lines("a\rb\r\nc\nd"),
            vec![(1, "a"), (2, "b"), (3, "c"), (4, "d")]
        );
    }

    #[test]
    fn a_quoted_paragraph_continues_lazily_until_a_blank_line() {
        assert_eq!(texts("> quoted\nstill quoted\n\nvisible"), vec!["visible"]);
        assert_eq!(texts(">\nvisible"), vec!["visible"]);
        assert_eq!(texts("> quoted\n# heading\nvisible"), vec!["visible"]);
    }

    #[test]
    fn a_code_span_across_lines_hides_the_lines_it_covers() {
        assert_eq!(
            texts("run `\n/shipgate x\n` to approve"),
            vec!["run `", "` to approve"]
        );
        assert_eq!(texts("- run ``\n/shipgate x\n``"), vec!["``"]);
        // Never closed, or closed by a run of another length: the backticks are literal.
        assert_eq!(
            texts("costs `5\n/shipgate x"),
            vec!["costs `5", "/shipgate x"]
        );
        assert_eq!(texts("``a`\n/shipgate x"), vec!["``a`", "/shipgate x"]);
        assert_eq!(
            texts("\\`a\n/shipgate x\n`"),
            vec!["\\`a", "/shipgate x", "`"]
        );
        // A span cannot cross a blank line: the paragraph ended.
        assert_eq!(
            texts("a `\n\n/shipgate x\n`"),
            vec!["a `", "/shipgate x", "`"]
        );
    }

    #[test]
    fn code_indentation_counts_from_the_list_item_and_never_interrupts_text() {
        assert_eq!(texts("10. item\n\n    text"), vec!["text"]);
        assert_eq!(texts("- item\n\n      code"), Vec::<&str>::new());
        assert_eq!(texts("text\n    more text"), vec!["text", "more text"]);
    }
}
