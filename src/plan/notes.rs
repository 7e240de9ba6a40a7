//! Release notes as resolution reads them: a `notes_file` of the repository, refused when
//! missing, a symbolic link, too large or not UTF-8, each with what to do about it.

use super::check::{MAX_NOTES_CHARS, escape_for_message};
use super::resolve::{PlanSources, SourceFile};
use crate::diag::InputErrorKind;

/// The text of `path`, or the kind of problem, its message and its hint.
pub(super) fn read_notes(
    sources: &dyn PlanSources,
    path: &str,
) -> Result<String, (InputErrorKind, String, String)> {
    let missing = || {
        (
            InputErrorKind::UnknownFile,
            format!("notes_file `{}` does not exist", escape_for_message(path)),
            "commit the file, or fix the path (relative to the repository root)".to_owned(),
        )
    };
    let bytes = match sources.file(path) {
        Ok(SourceFile::Found(bytes)) => bytes,
        Ok(SourceFile::Missing) => return Err(missing()),
        Ok(SourceFile::Symlink(link)) => {
            return Err((
                InputErrorKind::SymlinkRefused,
                format!(
                    "notes_file `{}`: `{}` is a symbolic link; notes are read only from regular files inside the repository",
                    escape_for_message(path),
                    escape_for_message(&link)
                ),
                "commit the notes themselves, not a link to them".to_owned(),
            ));
        }
        Ok(SourceFile::TooLarge) => {
            return Err((
                InputErrorKind::TooLarge,
                format!("notes_file `{path}` is too large"),
                format!("release notes are limited to {MAX_NOTES_CHARS} characters"),
            ));
        }
        Err(e) => {
            return Err((
                InputErrorKind::Unreadable,
                format!("cannot read notes_file `{path}`: {e}"),
                "check the file's permissions".to_owned(),
            ));
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        (
            InputErrorKind::InvalidUtf8,
            format!("notes_file `{path}` is not UTF-8"),
            "save it as UTF-8".to_owned(),
        )
    })?;
    let chars = text.chars().count();
    if chars > MAX_NOTES_CHARS {
        return Err((
            InputErrorKind::TextTooLong,
            format!("notes_file `{path}` has {chars} characters"),
            format!("release notes are limited to {MAX_NOTES_CHARS} characters"),
        ));
    }
    Ok(text)
}
