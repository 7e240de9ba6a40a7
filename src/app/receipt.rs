//! `shipgate receipt show|verify|export-payload`, for receipt files or receipts named by id
//! (read from the state of the governance branch).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::audit::{chain_head, open_repository};
use super::inputs::{self, PolicyRequest};
use super::runs::verified_chain;
use crate::audit::AuditError;
use crate::audit::state::ReceiptStatus;
use crate::audit::store::{entries_back_to, read_state};
use crate::cli::{
    AuditTargetArgs, Format, POLICIES_DIR, PolicyArgs, ReceiptCommand, ReceiptSourceArgs,
};
use crate::error::{Error, Outcome};
use crate::model::ReceiptId;
use crate::receipt::{MAX_RECEIPT_BYTES, Receipt, parse_receipt, verify_receipt};

/// Runs one receipt subcommand.
pub fn receipt(command: &ReceiptCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    match command {
        ReceiptCommand::Show {
            receipt,
            format,
            source,
        } => {
            let receipt = load(receipt, None, source)?;
            let consumption = consumption(&receipt, source);
            match format {
                Format::Json => {
                    let mut value =
                        serde_json::to_value(&receipt).map_err(|e| Error::Usage(e.to_string()))?;
                    if let serde_json::Value::Object(fields) = &mut value {
                        fields.insert(
                            "consumption".to_owned(),
                            serde_json::to_value(&consumption)
                                .map_err(|e| Error::Usage(e.to_string()))?,
                        );
                    }
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&value)
                            .map_err(|e| Error::Usage(e.to_string()))?
                    )?;
                }
                Format::Text | Format::Markdown => {
                    describe(&receipt, out)?;
                    writeln!(out, "  consumed:   {}", consumption.describe())?;
                }
            }
            Ok(Outcome::Clean)
        }
        ReceiptCommand::Verify {
            receipt,
            source,
            repo: repo_args,
            policy: policy_args,
        } => {
            let receipt = load(receipt, repo_args.repo.as_deref(), source)?;
            let repo = inputs::open_repo(repo_args.repo.as_deref())?;
            let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(policy_args))?;
            // Judged now, as the gate would: a key retired since the receipt's issue time fails.
            let verified =
                verify_receipt(&receipt, &policy.signers, Some(super::now_whole_seconds()))?;
            writeln!(
                out,
                "genuine: signed by `{}` ({}) under policy {}",
                verified.kid(),
                receipt.signature.alg.as_str(),
                policy.hash
            )?;
            describe(&receipt, out)?;
            writeln!(
                out,
                "note: expiry, consumption and staleness are checked by the gate at execution"
            )?;
            Ok(Outcome::Clean)
        }
        ReceiptCommand::ExportPayload {
            receipt,
            source,
            out: payload_out,
            signature_out,
        } => {
            let receipt = load(receipt, None, source)?;
            let payload = receipt
                .signed_payload()
                .map_err(|e| Error::Usage(e.to_string()))?;
            std::fs::write(payload_out, &payload)?;
            if let Some(path) = signature_out {
                let armored = receipt.armored_signature().ok_or_else(|| {
                    Error::Usage(format!(
                        "a {} receipt has no SSH signature to export",
                        receipt.signature.alg.as_str()
                    ))
                })?;
                std::fs::write(path, armored)?;
            }
            writeln!(
                out,
                "wrote {} bytes of signed payload to {}",
                payload.len(),
                payload_out.display()
            )?;
            Ok(Outcome::Clean)
        }
    }
}

/// A receipt from a file, or, when no such file exists and the argument is a receipt id, from
/// the state of the governance branch (fetched from the remote when the repository has it).
fn load(
    argument: &str,
    repo_dir: Option<&Path>,
    source: &ReceiptSourceArgs,
) -> Result<Receipt, Error> {
    let path = Path::new(argument);
    if path.exists() || !argument.starts_with("rcp_") {
        return read(path);
    }
    let target = AuditTargetArgs {
        repo: repo_dir.map(Path::to_path_buf),
        remote: source.remote.clone(),
        branch: source.branch.clone(),
    };
    let repo = open_repository(&target)?;
    let head = chain_head(&repo, &target)?.ok_or_else(|| {
        Error::Usage(format!(
            "no receipt file `{argument}`, and there is no governance branch {} to look the id up in",
            source.branch
        ))
    })?;
    let state = read_state(&repo, head).map_err(AuditError::from)?;
    let document = ReceiptId::parse(argument)
        .ok()
        .and_then(|id| state.receipts.get(&id))
        .and_then(|r| r.document.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{} holds no receipt `{argument}` (and there is no such file)",
                source.branch
            ))
        })?;
    Ok(parse_receipt(document.as_bytes())?)
}

/// Whether a receipt was consumed, as the verified governance branch says; when no verified
/// branch can be read, that it could not tell (never that it is unused).
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Consumption {
    /// The entry `seq` consumed it.
    Consumed {
        /// The consuming entry.
        seq: u64,
        /// Its time.
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// Minted and not consumed.
    Unused,
    /// The verified branch does not record it.
    NotRecorded,
    /// No verified branch could be read.
    Unknown {
        /// Why.
        why: String,
    },
}

impl Consumption {
    fn describe(&self) -> String {
        match self {
            Self::Consumed { seq, at } => match at {
                Some(at) => format!("yes, by entry seq {seq} at {at}"),
                None => format!("yes, by entry seq {seq}"),
            },
            Self::Unused => "no: the verified governance branch records it unused".to_owned(),
            Self::NotRecorded => {
                "unknown: the verified governance branch does not record this receipt".to_owned()
            }
            Self::Unknown { why } => {
                format!("unknown: could not read a verified governance branch ({why})")
            }
        }
    }
}

/// [`Consumption`] of `receipt` on the governance branch `source` names, verified with the
/// policy's signers.
fn consumption(receipt: &Receipt, source: &ReceiptSourceArgs) -> Consumption {
    let target = AuditTargetArgs {
        repo: None,
        remote: source.remote.clone(),
        branch: source.branch.clone(),
    };
    let policy = PolicyArgs {
        policies: POLICIES_DIR.to_owned(),
        policies_from_worktree: false,
        default_branch: None,
    };
    let (repo, verified) = match verified_chain(&target, None, &policy) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Consumption::Unknown {
                why: format!("there is no governance branch {}", source.branch),
            };
        }
        Err(e) => return Consumption::Unknown { why: e.to_string() },
    };
    let Some(record) = verified.state().receipts.get(&receipt.claims.receipt_id) else {
        return Consumption::NotRecorded;
    };
    match (record.status, record.consumed_seq) {
        (ReceiptStatus::Consumed, Some(seq)) => {
            let at = entries_back_to(&repo, verified.head(), seq)
                .ok()
                .and_then(|entries| {
                    entries
                        .into_iter()
                        .find(|(_, sealed)| sealed.entry.seq == seq)
                        .map(|(_, sealed)| sealed.entry.at)
                });
            Consumption::Consumed { seq, at }
        }
        (ReceiptStatus::Consumed, None) => Consumption::Unknown {
            why: "the branch records it consumed without the consuming entry".to_owned(),
        },
        (ReceiptStatus::Minted, _) => Consumption::Unused,
    }
}

fn read(file: &Path) -> Result<Receipt, Error> {
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
    if meta.len() > MAX_RECEIPT_BYTES as u64 {
        return Err(Error::Usage(format!(
            "{} is larger than a receipt can be ({MAX_RECEIPT_BYTES} bytes)",
            file.display()
        )));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
    Ok(parse_receipt(&bytes)?)
}

fn describe(receipt: &Receipt, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &receipt.claims;
    writeln!(
        out,
        "receipt {} for {} (operation {} of run {})",
        c.receipt_id,
        c.op_key,
        c.op_index + 1,
        c.run_id
    )?;
    writeln!(out, "  repository: {}", c.repo)?;
    writeln!(out, "  plan:       {}", c.plan_id)?;
    writeln!(out, "  policy:     {}", c.policy_hash)?;
    writeln!(
        out,
        "  issued:     {}  expires: {}",
        c.issued_at, c.expires_at
    )?;
    writeln!(
        out,
        "  enforceable: {}",
        if c.enforceable {
            "yes"
        } else {
            "no (advisory)"
        }
    )?;
    for f in &c.findings {
        writeln!(out, "  finding: {} {}", f.code, f.message)?;
    }
    for a in &c.approvals {
        writeln!(
            out,
            "  approved by {} (comment {}, {})",
            a.login, a.comment_id, a.at
        )?;
    }
    writeln!(
        out,
        "  signature: {} by key `{}`",
        receipt.signature.alg.as_str(),
        receipt.signature.kid
    )
}
