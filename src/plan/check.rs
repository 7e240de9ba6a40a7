//! Format rules for plans: unknown and misplaced fields, ref names, duplicate keys, counts,
//! text sizes and control characters. Every error points at its line and column.

use std::collections::HashMap;

use super::raw::{RawOperation, RawPlan};
use super::{
    CheckedPlan, Notes, OpKind, Operation, Publish, PullRequestOp, ReleaseOp, TagOp, Target,
};
use crate::diag::{Diagnostic, Diagnostics, InputErrorKind};
use crate::model::CommitSha;
use crate::refname::check_ref_name;
use crate::yaml::{self, Document, Seg};

/// Largest plan file accepted, in bytes.
pub const MAX_PLAN_BYTES: usize = 1024 * 1024;
/// Most operations in one plan (DESIGN 2).
pub const MAX_OPERATIONS: usize = 100;

/// Longest single-line text (plan name, titles), in characters.
const MAX_TITLE_CHARS: usize = 256;
/// Longest tag message, in characters.
const MAX_MESSAGE_CHARS: usize = 65_536;
/// Longest pull request body, in characters (GitHub's limit).
const MAX_BODY_CHARS: usize = 65_536;
/// Longest inline release notes, in characters (GitHub's release body limit).
pub(super) const MAX_NOTES_CHARS: usize = 125_000;

const TAG_FIELDS: &[&str] = &["name", "target", "message"];
const RELEASE_FIELDS: &[&str] = &[
    "tag",
    "title",
    "notes",
    "notes_file",
    "draft",
    "prerelease",
    "publish",
];
const PULL_REQUEST_FIELDS: &[&str] = &["head", "base", "title", "body", "draft"];

/// The `target:` keyword for the merge of the plan's pull request (DESIGN 13.7).
const MERGE_KEYWORD: &str = "merge";

/// Parses and checks a plan file. All problems found are reported together.
pub fn check_plan(file: &str, bytes: &[u8]) -> Result<CheckedPlan, Diagnostics> {
    let doc = yaml::document(file, bytes, MAX_PLAN_BYTES)?;
    let raw: RawPlan = doc.parse()?;
    let mut problems = Vec::new();

    if raw.version != 1 {
        problems.push(
            doc.error_at(
                &[Seg::Key("version")],
                InputErrorKind::UnsupportedVersion,
                format!("plan version {} is not supported; expected 1", raw.version),
            )
            .with_hint("write `version: 1`"),
        );
    }
    if let Some(name) = &raw.name
        && let Err(d) = check_name(&doc, name)
    {
        problems.push(d);
    }
    let count = raw.operations.len();
    if !(1..=MAX_OPERATIONS).contains(&count) {
        problems.push(
            doc.error_at(
                &[Seg::Key("operations")],
                InputErrorKind::OperationCount,
                format!("a plan has 1 to {MAX_OPERATIONS} operations; this one has {count}"),
            )
            .with_hint("split large releases into several plans"),
        );
        return Err(Diagnostics(problems));
    }

    let mut operations = Vec::with_capacity(count);
    let mut first_index_of_key = HashMap::new();
    for (index, raw_op) in raw.operations.iter().enumerate() {
        match check_operation(&doc, index, raw_op) {
            Ok(op) => {
                let key = op.key();
                if let Some(first) = first_index_of_key.insert(key.clone(), index) {
                    problems.push(
                        doc.error_at(
                            &[Seg::Key("operations"), Seg::Index(index)],
                            InputErrorKind::DuplicateOperation,
                            format!(
                                "operation {} has the key `{key}`, like operation {}",
                                index + 1,
                                first + 1
                            ),
                        )
                        .with_hint("an operation key appears once per plan; remove the repetition"),
                    );
                }
                operations.push(op);
            }
            Err(mut ds) => problems.append(&mut ds),
        }
    }
    if problems.is_empty() {
        Ok(CheckedPlan {
            file: file.to_owned(),
            name: raw.name,
            operations,
            source: String::from_utf8_lossy(bytes).into_owned(),
        })
    } else {
        Err(Diagnostics(problems))
    }
}

/// One operation: its kind, only the fields of that kind, then the kind's own checks
/// ([`check_tag`], [`check_release`], [`check_pull_request`]). Every problem is reported.
fn check_operation(
    doc: &Document<'_>,
    index: usize,
    raw: &RawOperation,
) -> Result<Operation, Vec<Diagnostic>> {
    let Some(kind) = OpKind::parse(&raw.kind) else {
        return Err(vec![
            doc.error_at(
                &field_at(index, "kind"),
                InputErrorKind::UnknownKind,
                format!("unknown operation kind `{}`", raw.kind),
            )
            .with_hint("use one of: tag, release, pull_request"),
        ]);
    };
    let allowed = match kind {
        OpKind::Tag => TAG_FIELDS,
        OpKind::Release => RELEASE_FIELDS,
        OpKind::PullRequest => PULL_REQUEST_FIELDS,
    };
    let mut problems: Vec<Diagnostic> = raw
        .present_fields()
        .into_iter()
        .filter(|f| !allowed.contains(f))
        .map(|f| {
            if f == "target" && raw.target.as_deref() == Some(MERGE_KEYWORD) {
                return doc
                    .error_at(
                        &field_at(index, "target"),
                        InputErrorKind::InvalidValue,
                        format!(
                            "`target: merge` is for tag operations, not a {} operation",
                            kind.as_str()
                        ),
                    )
                    .with_hint("put `target: merge` on the tag; a release of that tag follows it");
            }
            doc.error_at(
                &[Seg::Key("operations"), Seg::Index(index), Seg::KeyItself(f)],
                InputErrorKind::FieldNotAllowed,
                format!("`{f}` is not a field of a {} operation", kind.as_str()),
            )
            .with_hint(format!(
                "a {} operation has: {}",
                kind.as_str(),
                allowed.join(", ")
            ))
        })
        .collect();
    let fields = Fields {
        doc,
        index,
        kind,
        raw,
    };
    let op = match kind {
        OpKind::Tag => check_tag(&fields, &mut problems),
        OpKind::Release => check_release(&fields, &mut problems),
        OpKind::PullRequest => check_pull_request(&fields, &mut problems),
    };
    match op {
        Some(op) if problems.is_empty() => Ok(op),
        _ => Err(problems),
    }
}

/// The path of a field of operation `index`.
fn field_at(index: usize, field: &'static str) -> [Seg<'static>; 3] {
    [Seg::Key("operations"), Seg::Index(index), Seg::Key(field)]
}

/// One operation's raw fields, where they are, and its kind.
struct Fields<'a, 'd> {
    doc: &'a Document<'d>,
    index: usize,
    kind: OpKind,
    raw: &'a RawOperation,
}

impl Fields<'_, '_> {
    fn at(&self, field: &'static str) -> [Seg<'static>; 3] {
        field_at(self.index, field)
    }

    /// A field the kind requires: its value, or a problem saying it is missing.
    fn required(
        &self,
        value: &Option<String>,
        field: &'static str,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<String> {
        if value.is_none() {
            problems.push(
                self.doc
                    .error_at(
                        &[Seg::Key("operations"), Seg::Index(self.index)],
                        InputErrorKind::MissingField,
                        format!("a {} operation needs `{field}`", self.kind.as_str()),
                    )
                    .with_hint(format!("add `{field}:`")),
            );
        }
        value.clone()
    }
}

/// A tag: a valid name, a target, an optional message.
fn check_tag(f: &Fields<'_, '_>, problems: &mut Vec<Diagnostic>) -> Option<Operation> {
    let (doc, raw) = (f.doc, f.raw);
    let name = f.required(&raw.name, "name", problems);
    let target = f.required(&raw.target, "target", problems);
    let (name, target) = (name?, target?);
    push_err(problems, check_ref(doc, &f.at("name"), "tag name", &name));
    let target = parse_target(doc, &f.at("target"), &target)
        .map_err(|d| problems.push(d))
        .ok();
    if let Some(message) = &raw.message {
        push_err(
            problems,
            check_multiline(doc, &f.at("message"), "message", message, MAX_MESSAGE_CHARS),
        );
    }
    Some(Operation::Tag(TagOp {
        name,
        target: target?,
        message: raw.message.clone(),
    }))
}

/// A release: a valid tag, an optional title, notes inline or from a file (not both).
fn check_release(f: &Fields<'_, '_>, problems: &mut Vec<Diagnostic>) -> Option<Operation> {
    let (doc, raw) = (f.doc, f.raw);
    let tag = f.required(&raw.tag, "tag", problems)?;
    push_err(problems, check_ref(doc, &f.at("tag"), "tag name", &tag));
    if let Some(title) = &raw.title {
        push_err(
            problems,
            check_line(doc, &f.at("title"), "title", title, MAX_TITLE_CHARS),
        );
    }
    let notes = match (&raw.notes, &raw.notes_file) {
        (Some(_), Some(_)) => {
            problems.push(
                doc.error_at(
                    &f.at("notes_file"),
                    InputErrorKind::NotesConflict,
                    "a release has `notes` or `notes_file`, not both",
                )
                .with_hint("keep one of them"),
            );
            Notes::Empty
        }
        (Some(text), None) => {
            push_err(
                problems,
                check_multiline(doc, &f.at("notes"), "notes", text, MAX_NOTES_CHARS),
            );
            Notes::Inline(text.clone())
        }
        (None, Some(path)) => {
            push_err(problems, check_notes_path(doc, &f.at("notes_file"), path));
            Notes::File(path.clone())
        }
        (None, None) => Notes::Empty,
    };
    let draft = raw.draft.unwrap_or(false);
    let publish = check_publish(f, draft).map_err(|d| problems.push(d)).ok()?;
    Some(Operation::Release(ReleaseOp {
        title: raw.title.clone().unwrap_or_else(|| tag.clone()),
        tag,
        notes,
        draft,
        prerelease: raw.prerelease.unwrap_or(false),
        publish,
    }))
}

/// A release's `publish`: `on_create` (the default) or `after_assets`, which a release that
/// stays a draft (`draft: true`) cannot have.
fn check_publish(f: &Fields<'_, '_>, draft: bool) -> Result<Publish, Diagnostic> {
    let publish = match f.raw.publish.as_deref() {
        None | Some("on_create") => Publish::OnCreate,
        Some("after_assets") => Publish::AfterAssets,
        Some(other) => {
            return Err(f
                .doc
                .error_at(
                    &f.at("publish"),
                    InputErrorKind::InvalidValue,
                    format!(
                        "`publish` is `on_create` or `after_assets`, not `{}`",
                        escape_for_message(other)
                    ),
                )
                .with_hint("write `publish: after_assets` to attach assets before publishing"));
        }
    };
    if draft && publish == Publish::AfterAssets {
        return Err(f
            .doc
            .error_at(
                &f.at("publish"),
                InputErrorKind::InvalidValue,
                "`publish: after_assets` publishes the draft later; `draft: true` keeps it a draft",
            )
            .with_hint("keep one of them"));
    }
    Ok(publish)
}

/// A pull request: two different valid branches, a title, an optional body.
fn check_pull_request(f: &Fields<'_, '_>, problems: &mut Vec<Diagnostic>) -> Option<Operation> {
    let (doc, raw) = (f.doc, f.raw);
    let head = f.required(&raw.head, "head", problems);
    let base = f.required(&raw.base, "base", problems);
    let title = f.required(&raw.title, "title", problems);
    let (head, base, title) = (head?, base?, title?);
    push_err(
        problems,
        check_ref(doc, &f.at("head"), "branch name", &head),
    );
    push_err(
        problems,
        check_ref(doc, &f.at("base"), "branch name", &base),
    );
    if head == base {
        problems.push(
            doc.error_at(
                &f.at("base"),
                InputErrorKind::InvalidValue,
                "`head` and `base` are the same branch",
            )
            .with_hint("a pull request merges one branch into another"),
        );
    }
    push_err(
        problems,
        check_line(doc, &f.at("title"), "title", &title, MAX_TITLE_CHARS),
    );
    if let Some(body) = &raw.body {
        push_err(
            problems,
            check_multiline(doc, &f.at("body"), "body", body, MAX_BODY_CHARS),
        );
    }
    Some(Operation::PullRequest(PullRequestOp {
        head,
        base,
        title,
        body: raw.body.clone(),
        draft: raw.draft.unwrap_or(false),
    }))
}

fn push_err(problems: &mut Vec<Diagnostic>, result: Result<(), Diagnostic>) {
    if let Err(d) = result {
        problems.push(d);
    }
}

fn check_ref(
    doc: &Document<'_>,
    path: &[Seg<'_>],
    what: &str,
    name: &str,
) -> Result<(), Diagnostic> {
    check_ref_name(name).map_err(|why| {
        doc.error_at(
            path,
            InputErrorKind::InvalidRefName,
            format!(
                "`{}` is not a valid {what}: {why}",
                escape_for_message(name)
            ),
        )
        .with_hint("names follow `git check-ref-format` (e.g. v1.4.0, release/1.4)")
    })
}

fn parse_target(doc: &Document<'_>, path: &[Seg<'_>], text: &str) -> Result<Target, Diagnostic> {
    // `merge` is a keyword (DESIGN 13.7): a branch of that name is `refs/heads/merge`.
    if text == MERGE_KEYWORD {
        return Ok(Target::Merge);
    }
    if let Ok(sha) = CommitSha::parse(text) {
        return Ok(Target::Commit(sha));
    }
    let name = text.strip_prefix("refs/").unwrap_or(text);
    check_ref_name(name).map_err(|why| {
        doc.error_at(
            path,
            InputErrorKind::InvalidRefName,
            format!(
                "target `{}` is not a branch, tag or commit: {why}",
                escape_for_message(text)
            ),
        )
        .with_hint(
            "use `merge` (the merge of this pull request), a branch (main), a tag (v1.3.0) or a full 40-hex commit sha",
        )
    })?;
    Ok(Target::Ref(text.to_owned()))
}

fn check_line(
    doc: &Document<'_>,
    path: &[Seg<'_>],
    what: &str,
    text: &str,
    max_chars: usize,
) -> Result<(), Diagnostic> {
    check_length(doc, path, what, text, max_chars)?;
    if text.chars().any(char::is_control) {
        return Err(doc
            .error_at(
                path,
                InputErrorKind::ControlCharacter,
                format!("`{what}` contains control characters or line breaks"),
            )
            .with_hint("keep it to one line of printable text"));
    }
    if text.trim().is_empty() {
        return Err(doc
            .error_at(
                path,
                InputErrorKind::InvalidValue,
                format!("`{what}` is empty"),
            )
            .with_hint("write some text or omit the field"));
    }
    Ok(())
}

/// The plan's name is what approvers recognise it by: beyond a title's rules, it may hold no
/// invisible or direction-changing character (issue 13, class 13). Titles and other text may
/// (right-to-left languages need the marks) and are shown escaped instead.
fn check_name(doc: &Document<'_>, name: &str) -> Result<(), Diagnostic> {
    let path = [Seg::Key("name")];
    check_line(doc, &path, "name", name, MAX_TITLE_CHARS)?;
    match name.chars().find(|c| crate::invisible::is_invisible(*c)) {
        Some(c) => Err(doc
            .error_at(
                &path,
                InputErrorKind::ControlCharacter,
                format!(
                    "`name` contains the invisible or direction-changing character {}",
                    crate::invisible::escaped(c)
                ),
            )
            .with_hint("remove it: a plan's name must read as it is")),
        None => Ok(()),
    }
}

fn check_multiline(
    doc: &Document<'_>,
    path: &[Seg<'_>],
    what: &str,
    text: &str,
    max_chars: usize,
) -> Result<(), Diagnostic> {
    check_length(doc, path, what, text, max_chars)?;
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(doc
            .error_at(
                path,
                InputErrorKind::ControlCharacter,
                format!("`{what}` contains control characters"),
            )
            .with_hint("only printable text, tabs and line breaks are allowed"));
    }
    Ok(())
}

fn check_length(
    doc: &Document<'_>,
    path: &[Seg<'_>],
    what: &str,
    text: &str,
    max_chars: usize,
) -> Result<(), Diagnostic> {
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(doc
            .error_at(
                path,
                InputErrorKind::TextTooLong,
                format!("`{what}` is {chars} characters; the limit is {max_chars}"),
            )
            .with_hint("shorten it"));
    }
    Ok(())
}

fn check_notes_path(doc: &Document<'_>, path: &[Seg<'_>], file: &str) -> Result<(), Diagnostic> {
    let p = std::path::Path::new(file);
    let inside = !file.is_empty()
        && p.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
    if inside && !file.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(doc
            .error_at(
                path,
                InputErrorKind::UnknownFile,
                format!(
                    "notes_file `{}` must be a relative path inside the repository",
                    escape_for_message(file)
                ),
            )
            .with_hint("write it relative to the repository root, e.g. CHANGELOG.md"))
    }
}

/// Plan text echoed in a message is escaped so it cannot drive a terminal or hide what it
/// says (control, bidi and zero-width characters are shown as `\u{...}`).
pub(super) fn escape_for_message(text: &str) -> String {
    const SHOWN: usize = 80;
    let shown: String = text.chars().take(SHOWN).collect();
    let escaped = crate::invisible::show(&shown);
    if text.chars().count() > SHOWN {
        format!("{escaped}...")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(operations: &str) -> Vec<String> {
        let text = format!("version: 1\noperations:\n{operations}");
        match check_plan("p.yaml", text.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(d) => d.0.into_iter().map(|d| d.message).collect(),
        }
    }

    #[test]
    fn merge_is_a_tag_target_keyword_and_refs_heads_merge_the_branch() {
        let plan = check_plan(
            "p.yaml",
            b"version: 1\noperations:\n  - { kind: tag, name: v1, target: merge }\n  - { kind: tag, name: v2, target: refs/heads/merge }\n",
        )
        .unwrap();
        let targets: Vec<&Target> = plan
            .operations
            .iter()
            .filter_map(|op| match op {
                Operation::Tag(tag) => Some(&tag.target),
                _ => None,
            })
            .collect();
        assert_eq!(
            targets,
            [&Target::Merge, &Target::Ref("refs/heads/merge".into())]
        );
    }

    #[test]
    fn target_merge_on_a_release_or_pull_request_is_an_invalid_value() {
        assert_eq!(
            messages("  - { kind: release, tag: v1, target: merge }\n"),
            ["`target: merge` is for tag operations, not a release operation"]
        );
        assert_eq!(
            messages("  - { kind: pull_request, head: a, base: b, title: t, target: merge }\n"),
            ["`target: merge` is for tag operations, not a pull_request operation"]
        );
    }
}
