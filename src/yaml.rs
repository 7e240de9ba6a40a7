//! The one place that parses YAML. serde_yaml is archived, so nothing else names it: swapping
//! it for a maintained fork touches this file only.
//!
//! Input is hostile (plan files arrive in pull requests): sizes are bounded before parsing,
//! invalid UTF-8 is reported with its offset, nesting is counted in one linear pass before
//! the parser runs ([`nesting`]: the parser is quadratic in depth), and the parser's own
//! depth and alias-expansion limits turn into [`InputErrorKind::TooDeep`] and
//! [`InputErrorKind::AliasLimit`].
//!
//! Semantic checks (a bad ref name, a duplicate operation) happen after deserializing, on
//! plain values. To still point at the right line and column, [`Document::locate`] re-reads
//! the document along a path and lets the parser report where that node starts.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::diag::{Diagnostic, InputErrorKind};

mod nesting;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// The value of a mapping key.
    Key(&'a str),
    /// A mapping key itself (for errors about the key, such as a duplicate); last in a path.
    KeyItself(&'a str),
    /// A sequence index.
    Index(usize),
}

/// The text of one YAML file and its name, for parsing and for pointing into it.
pub struct Document<'a> {
    file: &'a str,
    text: &'a str,
}

/// Checks size, encoding and nesting depth, then wraps the text.
pub fn document<'a>(
    file: &'a str,
    bytes: &'a [u8],
    max_bytes: usize,
) -> Result<Document<'a>, Diagnostic> {
    if bytes.len() > max_bytes {
        return Err(Diagnostic::whole_file(
            InputErrorKind::TooLarge,
            file,
            format!(
                "the file is {} bytes; the limit is {max_bytes}",
                bytes.len()
            ),
        )
        .with_hint("split it, or move long text into a file referenced by notes_file"));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        Diagnostic {
            kind: InputErrorKind::InvalidUtf8,
            file: file.to_owned(),
            line,
            column,
            message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            hint: Some("save the file as UTF-8".into()),
            source_line: None,
        }
    })?;
    let document = Document { file, text };
    nesting::check_nesting(text).map_err(|at| {
        let mut d = document.diagnostic(
            InputErrorKind::TooDeep,
            at.line,
            at.column,
            format!(
                "the document nests deeper than the nesting limit of {} levels",
                nesting::MAX_NESTING
            ),
        );
        d.hint = Some("plans and policies are shallow documents; remove the nesting".into());
        d
    })?;
    Ok(document)
}

impl Document<'_> {
    /// The file name used in diagnostics.
    pub fn file(&self) -> &str {
        self.file
    }

    /// Deserializes the whole document into `T`, mapping parser errors to diagnostics.
    ///
    /// The document is first walked without allocating, to bound what aliases expand to:
    /// serde_yaml limits alias jumps, but one large anchored string aliased many times would
    /// still allocate gigabytes once deserialized into `String`s.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        let mut budget = ExpansionBudget { nodes: 0, bytes: 0 };
        let walk = (&mut budget).deserialize(serde_yaml::Deserializer::from_str(self.text));
        if let Err(e) = walk {
            return Err(if budget.exceeded() {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let mut d = self.diagnostic(
                    InputErrorKind::AliasLimit,
                    line,
                    column,
                    format!("the document expands to more than {MAX_EXPANDED_NODES} nodes or {MAX_EXPANDED_BYTES} bytes of text"),
                );
                d.hint = Some("do not use YAML anchors and aliases to repeat content".into());
                d
            } else {
                self.diagnose_parser_error(&e)
            });
        }
        serde_yaml::from_str(self.text).map_err(|e| self.diagnose_parser_error(&e))
    }

    /// A diagnostic of `kind` pointing at the node found at `path` (or at the deepest prefix
    /// of it that exists).
    pub fn error_at(
        &self,
        path: &[Seg<'_>],
        kind: InputErrorKind,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column) = self.locate(path);
        self.diagnostic(kind, line, column, message.into())
    }

    /// Line and column (1-based) where the node at `path` starts; for a path that does not
    /// exist, the deepest existing prefix; (1, 1) for the empty path.
    pub fn locate(&self, path: &[Seg<'_>]) -> (usize, usize) {
        if let Some((Seg::KeyItself(key), parent)) = path.split_last() {
            let (line, column) = self.locate(parent);
            return self
                .find_block_key(line, column, key)
                .unwrap_or((line, column));
        }
        for len in (1..=path.len()).rev() {
            let hit = Cell::new(false);
            let seed = Locator {
                path: &path[..len],
                hit: &hit,
            };
            let deserializer = serde_yaml::Deserializer::from_str(self.text);
            if let Err(e) = seed.deserialize(deserializer)
                && hit.get()
                && let Some(loc) = e.location()
            {
                return (loc.line(), loc.column());
            }
        }
        (1, 1)
    }

    /// Finds `key:` in the block mapping that starts at (`line`, `column`): keys of a block
    /// mapping start in the mapping's column, and the mapping ends at the first line indented
    /// less. Flow mappings (`{a: 1}`) are not searched; the caller falls back to the mapping.
    fn find_block_key(&self, line: usize, column: usize, key: &str) -> Option<(usize, usize)> {
        let indent = column.checked_sub(1)?;
        for (offset, text) in self.text.lines().skip(line.checked_sub(1)?).enumerate() {
            let blank_or_comment = text.trim().is_empty() || text.trim_start().starts_with('#');
            let (Some(head), rest) = (text.get(..indent), text.get(indent..).unwrap_or("")) else {
                if blank_or_comment {
                    continue;
                }
                return None;
            };
            let inside = offset == 0 || head.chars().all(|c| c == ' ');
            if !inside {
                if blank_or_comment {
                    continue;
                }
                return None;
            }
            if rest
                .strip_prefix(key)
                .is_some_and(|after| after.trim_start().starts_with(':'))
            {
                return Some((line + offset, column));
            }
        }
        None
    }

    fn diagnostic(
        &self,
        kind: InputErrorKind,
        line: usize,
        column: usize,
        message: String,
    ) -> Diagnostic {
        Diagnostic {
            kind,
            file: self.file.to_owned(),
            line,
            column,
            message,
            hint: None,
            source_line: self
                .text
                .lines()
                .nth(line.saturating_sub(1))
                .map(str::to_owned),
        }
    }

    fn diagnose_parser_error(&self, e: &serde_yaml::Error) -> Diagnostic {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let message = e.to_string();
        // serde_yaml's error is opaque: its kind is only in its message, which serde and
        // unsafe-libyaml word in fixed ways. This is the one place that reads it.
        let (kind, hint) = classify(&message);
        let message = strip_location_suffix(&message);
        let mut d = self.diagnostic(kind, line, column, message);
        d.hint = hint.map(str::to_owned);
        d
    }
}

/// Messages look like `unknown field ...` or, below the root, `operations[0]: unknown field ...`.
fn classify(message: &str) -> (InputErrorKind, Option<&'static str>) {
    let m = message;
    if m.contains("unknown field `") {
        (
            InputErrorKind::UnknownField,
            Some("remove the field or fix its spelling; the expected fields are listed above"),
        )
    } else if m.contains("missing field `") {
        (InputErrorKind::MissingField, Some("add the field"))
    } else if m.contains("duplicate field `") || m.contains("duplicate entry") {
        (InputErrorKind::DuplicateField, Some("give each field once"))
    } else if m.contains("invalid type: ") || m.contains("invalid length ") {
        (
            InputErrorKind::InvalidType,
            Some("check the value's type against the format in the README"),
        )
    } else if m.contains("invalid value: ") || m.contains("unknown variant `") {
        (InputErrorKind::InvalidValue, None)
    } else if m.contains("recursion limit exceeded") {
        (
            InputErrorKind::TooDeep,
            Some("plans and policies are shallow documents; remove the nesting"),
        )
    } else if m.contains("repetition limit exceeded") {
        (
            InputErrorKind::AliasLimit,
            Some("do not use YAML aliases that expand into large documents"),
        )
    } else {
        (
            InputErrorKind::Syntax,
            Some("check the indentation and quoting near this position"),
        )
    }
}

/// serde_yaml appends " at line L column C"; the diagnostic shows the position itself.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// Most nodes a document may expand to (aliases included). Plans and policies are far smaller.
const MAX_EXPANDED_NODES: usize = 100_000;
/// Most scalar text a document may expand to (aliases included), in bytes.
const MAX_EXPANDED_BYTES: usize = 8 * 1024 * 1024;

/// Visits every node, counting nodes and scalar bytes; scalars are borrowed, never copied.
struct ExpansionBudget {
    nodes: usize,
    bytes: usize,
}

impl ExpansionBudget {
    fn exceeded(&self) -> bool {
        self.nodes > MAX_EXPANDED_NODES || self.bytes > MAX_EXPANDED_BYTES
    }

    fn charge<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        self.nodes += 1;
        self.bytes += bytes;
        if self.exceeded() {
            Err(E::custom("expansion budget exceeded"))
        } else {
            Ok(())
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut ExpansionBudget {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut ExpansionBudget {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.charge(0)?;
        while map.next_key_seed(&mut *self)?.is_some() {
            map.next_value_seed(&mut *self)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.charge(0)?;
        while seq.next_element_seed(&mut *self)?.is_some() {}
        Ok(())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.charge(text.len())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.charge(0)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// Walks a document along `path` and fails on purpose at the target node: serde_yaml attaches
/// the node's position to the error, which is all we want from it.
struct Locator<'p, 'k> {
    path: &'p [Seg<'k>],
    /// Set when the error was raised at the target, not by the parser.
    hit: &'p Cell<bool>,
}

#[derive(Debug)]
struct Found;

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("found")
    }
}

impl Locator<'_, '_> {
    fn found<E: de::Error>(&self) -> E {
        self.hit.set(true);
        E::custom(Found)
    }
}

impl<'de> DeserializeSeed<'de> for Locator<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Locator<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.path.split_first() else {
            return Err(self.found());
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if key.as_str() == Some(*want) {
                map.next_value_seed(Locator {
                    path: rest,
                    hit: self.hit,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.path.split_first() else {
            return Err(self.found());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        if seq
            .next_element_seed(Locator {
                path: rest,
                hit: self.hit,
            })?
            .is_some()
        {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl Locator<'_, '_> {
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(self.found())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "version: 1\noperations:\n  - kind: tag\n    name: v1\n  - kind: release\n    tag: v1\n";

    #[test]
    fn locates_keys_and_indices() {
        let doc = document("p.yaml", TEXT.as_bytes(), 1 << 20).unwrap();
        assert_eq!(doc.locate(&[Seg::Key("version")]), (1, 10));
        assert_eq!(
            doc.locate(&[Seg::Key("operations"), Seg::Index(1), Seg::Key("tag")]),
            (6, 10)
        );
        assert_eq!(doc.locate(&[Seg::Key("operations"), Seg::Index(0)]), (3, 5));
        // A missing leaf falls back to its parent.
        assert_eq!(
            doc.locate(&[Seg::Key("operations"), Seg::Index(0), Seg::Key("nope")]),
            (3, 5)
        );
    }

    #[test]
    fn unknown_fields_are_classified_with_position() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Only {
            version: u32,
        }
        let doc = document("p.yaml", b"version: 1\nnmae: x\n", 1 << 20).unwrap();
        let err = doc.parse::<Only>().unwrap_err();
        assert_eq!(
            (err.kind, err.line, err.column),
            (InputErrorKind::UnknownField, 2, 1)
        );
        assert!(!err.message.contains(" at line "), "{}", err.message);
    }

    #[test]
    fn oversize_and_non_utf8_are_refused_before_parsing() {
        assert_eq!(
            document("p", &[b'a'; 11], 10).err().unwrap().kind,
            InputErrorKind::TooLarge
        );
        let err = document("p", b"a: 1\nb: \xff\n", 100).err().unwrap();
        assert_eq!(
            (err.kind, err.line, err.column),
            (InputErrorKind::InvalidUtf8, 2, 4)
        );
    }
}
