//! Step 8 of the checklist: the checkpoint, the last verified head recorded in
//! `.git/shipgate/checkpoint`, which the branch must still descend from (a rollback
//! otherwise), and the verification every command runs before it trusts the branch.
//!
//! Beside it, the verified start (`.git/shipgate/verified`): the last head a command of this
//! clone verified with the whole chain behind it, the chain's genesis, and a digest of the
//! signers it was verified with. The next command in the same clone starts its verification
//! there instead of at the genesis (DESIGN 13.1: from the last head verified), if the signers
//! are the same ones: a key retired since, even retroactively, makes it verify the whole chain
//! again. Like the checkpoint, the file is as trustworthy as the clone's `.git` directory; a
//! fresh clone has none and verifies everything.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use super::{Failure, Problem, Verified, VerifyError, VerifyOptions, verify_chain};
use crate::canonical::sha256_hex;
use crate::policy::Signer;

/// The checkpoint file: `.git/shipgate/checkpoint`.
pub fn checkpoint_path(repo: &Repository) -> PathBuf {
    repo.path().join("shipgate").join("checkpoint")
}

/// Step 8: the head must descend from (or be) the recorded checkpoint.
pub fn check_checkpoint(repo: &Repository, head: Option<Oid>) -> Result<(), VerifyError> {
    let path = checkpoint_path(repo);
    let Some(checkpoint) = read_checkpoint(&path)? else {
        return Ok(());
    };
    let descends = head.is_some_and(|head| {
        head == checkpoint || repo.graph_descendant_of(head, checkpoint).unwrap_or(false)
    });
    if descends {
        return Ok(());
    }
    Err(VerifyError::Invalid(Failure {
        commit: head.unwrap_or(Oid::ZERO_SHA1),
        seq: None,
        problem: Problem::Rollback { checkpoint },
    }))
}

/// Steps 8 then 1 to 7: the whole chain ending at `head`, which must still contain the
/// checkpoint, on every core. What a command checks before it trusts the branch.
pub fn verify_from_checkpoint(
    repo: &Repository,
    head: Oid,
    signers: &[Signer],
) -> Result<Verified, VerifyError> {
    check_checkpoint(repo, Some(head))?;
    verify_chain(repo, head, &VerifyOptions::whole_chain(signers))
}

fn read_checkpoint(path: &Path) -> Result<Option<Oid>, VerifyError> {
    let io = |source| VerifyError::Checkpoint {
        path: path.to_owned(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    Oid::from_str(text.trim()).map(Some).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a commit id",
        ))
    })
}

/// Records a verified head as the checkpoint.
pub fn write_checkpoint(repo: &Repository, head: Oid) -> Result<(), VerifyError> {
    write_replacing(&checkpoint_path(repo), &format!("{head}\n"))
}

/// Writes `text` to `path` through a temporary file and a rename, so readers see the old file
/// or the new one, never a part.
fn write_replacing(path: &Path, text: &str) -> Result<(), VerifyError> {
    let io = |source| VerifyError::Checkpoint {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // A temporary file of this writer's own: two processes verifying at once (two executors,
    // say) must not rename each other's file away.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = path.with_extension(format!("{}-{write}.tmp", std::process::id()));
    std::fs::write(&temporary, text).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })
}

/// The verified start file: `.git/shipgate/verified`.
pub fn verified_start_path(repo: &Repository) -> PathBuf {
    repo.path().join("shipgate").join("verified")
}

/// What identifies a set of signers: every field verification judges by, in a stable order.
fn signers_digest(signers: &[Signer]) -> String {
    let mut lines: Vec<String> = signers
        .iter()
        .map(|s| {
            let instant = |t: Option<time::OffsetDateTime>| {
                t.map_or_else(|| "-".to_owned(), |t| t.unix_timestamp_nanos().to_string())
            };
            format!(
                "{} {} {} {} {}",
                s.kid,
                s.role.as_str(),
                s.openssh_key(),
                instant(s.not_before),
                instant(s.not_after)
            )
        })
        .collect();
    lines.sort();
    sha256_hex(lines.join("\n").as_bytes())
}

/// The verified start recorded for `signers`: the head and the chain's genesis. `None` when
/// there is none, it cannot be read or parsed, or it was verified with other signers: the
/// caller then verifies from the genesis, so a doubtful file only costs time.
pub fn read_verified_start(repo: &Repository, signers: &[Signer]) -> Option<(Oid, Oid)> {
    let text = std::fs::read_to_string(verified_start_path(repo)).ok()?;
    let mut fields = text.lines().map(|line| line.split_once(' '));
    let (
        Some(Some(("head", head))),
        Some(Some(("root", root))),
        Some(Some(("signers", digest))),
        None,
    ) = (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return None;
    };
    if digest != signers_digest(signers) {
        return None;
    }
    Some((Oid::from_str(head).ok()?, Oid::from_str(root).ok()?))
}

/// Records `head`, verified with `signers` with the whole chain from `root` behind it, as the
/// verified start of the next command.
pub fn write_verified_start(
    repo: &Repository,
    head: Oid,
    root: Oid,
    signers: &[Signer],
) -> Result<(), VerifyError> {
    let text = format!(
        "head {head}\nroot {root}\nsigners {}\n",
        signers_digest(signers)
    );
    write_replacing(&verified_start_path(repo), &text)
}

/// Whether the object is a commit (for `--since` arguments).
pub fn is_commit(repo: &Repository, oid: Oid) -> bool {
    repo.odb()
        .and_then(|odb| odb.read_header(oid))
        .is_ok_and(|(_, kind)| kind == ObjectType::Commit)
}
