//! `audit note`: a free-text operator entry.
use std::io::Write;

use crate::audit::entry::Event;
use crate::cli::AuditNoteArgs;
use crate::error::{Error, Outcome};

use super::append_operator_event;

/// `audit note`: appends the message as a `note` entry.
pub(super) fn note(args: &AuditNoteArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let message = args.message.clone();
    append_operator_event(&args.append, out, |_, _| {
        Ok(Event::Note {
            message: message.clone(),
        })
    })
}
