//! `audit log`: the chain's entries from its head back, as text lines or JSON.
use std::io::Write;

use crate::audit::AuditError;
use crate::audit::store::{git, read_entry};
use crate::cli::{AuditLogArgs, LogFormat};
use crate::error::{Error, Outcome};

use super::{chain_head, open_repository};

/// `audit log`: prints the entries from the head back, up to `--limit`.
pub(super) fn log(args: &AuditLogArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let repo = open_repository(&args.target)?;
    let mut cursor = chain_head(&repo, &args.target)?;
    let mut shown = 0;
    while let Some(oid) = cursor {
        if args.limit.is_some_and(|limit| shown >= limit) {
            break;
        }
        let sealed = read_entry(&repo, oid).map_err(AuditError::from)?;
        match args.format {
            LogFormat::Json => {
                let entry: serde_json::Value =
                    serde_json::from_str(&sealed.json).map_err(|e| Error::Usage(e.to_string()))?;
                let line = serde_json::json!({"commit": oid.to_string(), "hash": sealed.hash, "entry": entry});
                writeln!(out, "{line}")?;
            }
            LogFormat::Text => writeln!(
                out,
                "{} {} {:.10} {}",
                sealed.entry.at,
                sealed.entry.actor.login,
                oid.to_string(),
                sealed.entry.summary()
            )?,
        }
        shown += 1;
        cursor = repo
            .find_commit(oid)
            .map_err(|e| AuditError::Store(git("read audit commit")(e)))?
            .parent_id(0)
            .ok();
    }
    Ok(Outcome::Clean)
}
