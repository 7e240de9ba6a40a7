//! Diagnostics for mistakes in input files: what is wrong, where (file, line, column), and
//! how to fix it, rendered with the offending source line.
//!
//! Every plan and policy error becomes a [`Diagnostic`] with a stable [`InputErrorKind`], so
//! tests and machines match on the kind, never on the message text.

use std::fmt;

use serde::Serialize;

use crate::reason::Code;

/// The stable kinds of input error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "Code")]
pub enum InputErrorKind {
    /// The file could not be read.
    Unreadable,
    /// The file exceeds the size limit.
    TooLarge,
    /// The file is not UTF-8.
    InvalidUtf8,
    /// Not well-formed YAML (or several documents in one file).
    Syntax,
    /// Nesting deeper than the parser allows.
    TooDeep,
    /// Aliases expand beyond the parser's limit (an alias bomb).
    AliasLimit,
    /// A field the format does not define.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A field given twice.
    DuplicateField,
    /// A value of the wrong type (a list where a string belongs, ...).
    InvalidType,
    /// `version` is not one this shipgate reads.
    UnsupportedVersion,
    /// An operation `kind` other than tag, release, pull_request.
    UnknownKind,
    /// A field that exists, but not for this operation kind.
    FieldNotAllowed,
    /// A tag or branch name that git would refuse.
    InvalidRefName,
    /// Two operations with the same operation key.
    DuplicateOperation,
    /// Fewer than 1 or more than 100 operations.
    OperationCount,
    /// Both `notes` and `notes_file`.
    NotesConflict,
    /// Text longer than its limit.
    TextTooLong,
    /// Control characters where only printable text belongs.
    ControlCharacter,
    /// A branch, tag or commit that the repository does not have.
    UnknownRef,
    /// A notes file that does not exist or escapes the repository.
    UnknownFile,
    /// An `extends:` preset that shipgate does not ship.
    UnknownPreset,
    /// A rule names a group that no policy defines.
    UnknownGroup,
    /// A group defined twice across policy files.
    DuplicateGroup,
    /// Two signers with one key id.
    DuplicateSigner,
    /// A malformed or out-of-range duration such as `receipt_ttl`.
    InvalidDuration,
    /// A malformed RFC 3339 timestamp.
    InvalidTimestamp,
    /// A freeze window that ends before it starts.
    FreezeInverted,
    /// Two freeze windows that overlap.
    FreezeOverlap,
    /// A signer key that is not an OpenSSH Ed25519 public key.
    InvalidSignerKey,
    /// Any other value outside its allowed set (role, login, team, count, pattern, name).
    InvalidValue,
    /// No plan file was found where one was expected.
    NoPlans,
    /// A plan, notes file or policy that is a symbolic link, or lies under one (DESIGN 13.4).
    SymlinkRefused,
}

impl InputErrorKind {
    /// The kind as its stable code, e.g. `UNKNOWN_FIELD`.
    pub fn code(self) -> &'static str {
        Code::from(self).as_str()
    }
}

impl From<InputErrorKind> for Code {
    fn from(kind: InputErrorKind) -> Self {
        match kind {
            InputErrorKind::Unreadable => Code::Unreadable,
            InputErrorKind::TooLarge => Code::TooLarge,
            InputErrorKind::InvalidUtf8 => Code::InvalidUtf8,
            InputErrorKind::Syntax => Code::Syntax,
            InputErrorKind::TooDeep => Code::TooDeep,
            InputErrorKind::AliasLimit => Code::AliasLimit,
            InputErrorKind::UnknownField => Code::UnknownField,
            InputErrorKind::MissingField => Code::MissingField,
            InputErrorKind::DuplicateField => Code::DuplicateField,
            InputErrorKind::InvalidType => Code::InvalidType,
            InputErrorKind::UnsupportedVersion => Code::UnsupportedVersion,
            InputErrorKind::UnknownKind => Code::UnknownKind,
            InputErrorKind::FieldNotAllowed => Code::FieldNotAllowed,
            InputErrorKind::InvalidRefName => Code::InvalidRefName,
            InputErrorKind::DuplicateOperation => Code::DuplicateOperation,
            InputErrorKind::OperationCount => Code::OperationCount,
            InputErrorKind::NotesConflict => Code::NotesConflict,
            InputErrorKind::TextTooLong => Code::TextTooLong,
            InputErrorKind::ControlCharacter => Code::ControlCharacter,
            InputErrorKind::UnknownRef => Code::UnknownRef,
            InputErrorKind::UnknownFile => Code::UnknownFile,
            InputErrorKind::UnknownPreset => Code::UnknownPreset,
            InputErrorKind::UnknownGroup => Code::UnknownGroup,
            InputErrorKind::DuplicateGroup => Code::DuplicateGroup,
            InputErrorKind::DuplicateSigner => Code::DuplicateSigner,
            InputErrorKind::InvalidDuration => Code::InvalidDuration,
            InputErrorKind::InvalidTimestamp => Code::InvalidTimestamp,
            InputErrorKind::FreezeInverted => Code::FreezeInverted,
            InputErrorKind::FreezeOverlap => Code::FreezeOverlap,
            InputErrorKind::InvalidSignerKey => Code::InvalidSignerKey,
            InputErrorKind::InvalidValue => Code::InvalidValue,
            InputErrorKind::NoPlans => Code::NoPlans,
            InputErrorKind::SymlinkRefused => Code::SymlinkRefused,
        }
    }
}

/// One problem in one input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable kind.
    pub kind: InputErrorKind,
    /// The file as the user named it (or as found).
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column; 0 when the problem concerns the whole file.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The source line at fault, for rendering.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A problem with a whole file (no position).
    pub fn whole_file(kind: InputErrorKind, file: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            file: file.to_owned(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column`, or just the file when there is no position.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.kind.code(), self.message)?;
        writeln!(f, "  --> {}", self.location())?;
        if let Some(source) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let (shown, caret) = excerpt(source, self.column);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{number} | {shown}")?;
            if let Some(caret) = caret {
                writeln!(f, "{pad} | {}^", " ".repeat(caret))?;
            }
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Longest part of a source line echoed, in characters.
const MAX_ECHO_CHARS: usize = 120;

/// The part of `source` around `column` worth echoing (a 1 MiB line is not), with control,
/// bidi and zero-width characters escaped so the echo can neither drive the terminal nor
/// read differently from the file; and the caret's offset, when the echo kept its columns.
fn excerpt(source: &str, column: usize) -> (String, Option<usize>) {
    let at = column.saturating_sub(1);
    let start = at.saturating_sub(MAX_ECHO_CHARS / 2);
    let window: String = source.chars().skip(start).take(MAX_ECHO_CHARS).collect();
    let more = source.chars().nth(start + MAX_ECHO_CHARS).is_some();
    let shown = crate::invisible::show(&window);
    let (lead, caret_base) = if start > 0 { ("...", 3) } else { ("", 0) };
    let tail = if more { "..." } else { "" };
    let caret = (shown == window).then_some(caret_base + at - start);
    (format!("{lead}{shown}{tail}"), caret)
}

/// One or more diagnostics, reported together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// One GitHub Actions `::error` workflow command per problem, so each shows as an
    /// annotation on its file and line. Property values and the message are escaped as the
    /// runner expects (`%`, line breaks, and in properties `:` and `,`), so input text cannot
    /// end the command early or start another one.
    pub fn workflow_annotations(&self) -> String {
        fn data(text: &str) -> String {
            text.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        }
        fn property(text: &str) -> String {
            data(text).replace(':', "%3A").replace(',', "%2C")
        }
        self.0
            .iter()
            .map(|d| {
                let mut properties = vec![format!("file={}", property(&d.file))];
                if d.line > 0 {
                    properties.push(format!("line={}", d.line));
                    properties.push(format!("col={}", d.column));
                }
                properties.push(format!("title={}", property(d.kind.code())));
                let message = match &d.hint {
                    Some(hint) => format!("{} (hint: {hint})", d.message),
                    None => d.message.clone(),
                };
                format!("::error {}::{}\n", properties.join(","), data(&message))
            })
            .collect()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_annotations_point_at_the_line_and_cannot_be_broken_out_of() {
        let hostile = Diagnostics(vec![
            Diagnostic {
                kind: InputErrorKind::UnknownField,
                file: ".shipgate/plans/a,b:c.yaml".into(),
                line: 3,
                column: 5,
                message: "unknown field `x`\n::error::forged 100%".into(),
                hint: Some("remove it".into()),
                source_line: None,
            },
            Diagnostic::whole_file(InputErrorKind::TooLarge, "big.yaml", "too large"),
        ]);
        let text = hostile.workflow_annotations();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=.shipgate/plans/a%2Cb%3Ac.yaml,line=3,col=5,title=UNKNOWN_FIELD::unknown field `x`%0A::error::forged 100%25 (hint: remove it)"
        );
        assert!(
            lines[1].starts_with("::error file=big.yaml,title="),
            "{}",
            lines[1]
        );
        assert_eq!(lines.len(), 2, "one line per problem: {text}");
    }

    #[test]
    fn renders_location_source_caret_and_hint() {
        let d = Diagnostic {
            kind: InputErrorKind::UnknownField,
            file: "plan.yaml".into(),
            line: 3,
            column: 5,
            message: "unknown field `nmae`".into(),
            hint: Some("did you mean `name`?".into()),
            source_line: Some("  - nmae: x".into()),
        };
        let text = d.to_string();
        assert_eq!(
            text,
            "error[UNKNOWN_FIELD]: unknown field `nmae`\n  --> plan.yaml:3:5\n  |\n3 |   - nmae: x\n  |     ^\n  = hint: did you mean `name`?\n"
        );
    }

    #[test]
    fn control_characters_in_source_are_escaped() {
        let mut d = Diagnostic::whole_file(InputErrorKind::ControlCharacter, "p.yaml", "bad");
        d.line = 1;
        d.column = 1;
        d.source_line = Some("title: \u{1b}[31mred \u{202E}gnp.exe".into());
        let text = d.to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202E}'),
            "{text}"
        );
        assert!(text.contains("\\u{202E}"), "{text}");
    }

    #[test]
    fn a_long_source_line_is_echoed_around_the_column() {
        let mut d = Diagnostic::whole_file(InputErrorKind::TooDeep, "p.yaml", "deep");
        d.line = 2;
        d.column = 5000;
        d.source_line = Some("[".repeat(1 << 20));
        let text = d.to_string();
        assert!(text.len() < 400, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3].find('^'),
            lines[2].find("...[").map(|i| i + 3 + 60)
        );
    }
}
