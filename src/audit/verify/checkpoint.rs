//! Step 8 of the checklist: the checkpoint, the last verified head recorded in
//! `.git/shipgate/checkpoint`, which the branch must still descend from (a rollback
//! otherwise), and the verification every command runs before it trusts the branch.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use super::{Failure, Problem, Verified, VerifyError, VerifyOptions, verify_chain};
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

/// Records a verified head as the checkpoint (written to a temporary file, then renamed).
pub fn write_checkpoint(repo: &Repository, head: Oid) -> Result<(), VerifyError> {
    let path = checkpoint_path(repo);
    let io = |source| VerifyError::Checkpoint {
        path: path.clone(),
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
    std::fs::write(&temporary, format!("{head}\n")).map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })
}

/// Whether the object is a commit (for `--since` arguments).
pub fn is_commit(repo: &Repository, oid: Oid) -> bool {
    repo.odb()
        .and_then(|odb| odb.read_header(oid))
        .is_ok_and(|(_, kind)| kind == ObjectType::Commit)
}
