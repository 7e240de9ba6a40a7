//! Work-tree reads that follow no symbolic link: every component below the repository root
//! is checked with `symlink_metadata`, and every read is bounded by the bytes actually read.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use super::{LocalRepo, MAX_FILE_BYTES, WorktreeFile, inside_relative};
use crate::diag::{Diagnostic, InputErrorKind};

/// The refusal of a symlinked path as a diagnostic on `file` (DESIGN 13.4).
pub fn symlink_refused(file: &str, link: &str) -> Diagnostic {
    Diagnostic::whole_file(
        InputErrorKind::SymlinkRefused,
        file,
        format!("`{link}` is a symbolic link; plans, notes files and policies are read only as regular files inside the repository"),
    )
    .with_hint("replace the link with the file itself (git add the real content)")
}

/// What lies at `relative` below `root`, looked up one component at a time without
/// following links (`root` itself is trusted).
enum Lookup {
    Found(std::fs::Metadata, PathBuf),
    Missing,
    Symlink(String),
}

fn lookup_below(root: &Path, relative: &Path) -> std::io::Result<Lookup> {
    let mut full = root.to_owned();
    let mut shown = PathBuf::new();
    let mut meta = std::fs::symlink_metadata(root)?;
    for component in relative.components() {
        let name = match component {
            Component::CurDir => continue,
            Component::Normal(name) => name,
            _ => return Ok(Lookup::Missing),
        };
        if !meta.is_dir() {
            return Ok(Lookup::Missing);
        }
        full.push(name);
        shown.push(name);
        meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Missing),
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            return Ok(Lookup::Symlink(shown.to_string_lossy().replace('\\', "/")));
        }
    }
    Ok(Lookup::Found(meta, full))
}

/// Whether the directory `relative` below `root` is reachable without a symbolic link:
/// `Ok(Err(link))` names the link; a missing directory is fine (it has no files).
pub fn check_dir_below(root: &Path, relative: &Path) -> std::io::Result<Result<(), String>> {
    Ok(match lookup_below(root, relative)? {
        Lookup::Symlink(link) => Err(link),
        Lookup::Found(..) | Lookup::Missing => Ok(()),
    })
}

/// Reads the regular file `relative` below `root`: no component may be a symbolic link,
/// and at most `limit + 1` bytes are read.
pub fn read_below(root: &Path, relative: &Path, limit: u64) -> std::io::Result<WorktreeFile> {
    let (checked, full) = match lookup_below(root, relative)? {
        Lookup::Found(meta, full) if meta.is_file() => (meta, full),
        Lookup::Found(..) | Lookup::Missing => return Ok(WorktreeFile::Missing),
        Lookup::Symlink(link) => return Ok(WorktreeFile::Symlink(link)),
    };
    let file = std::fs::File::open(&full)?;
    let opened = file.metadata()?;
    // Swapped for a link between the check and the open: the opened file is another one.
    if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Ok(WorktreeFile::Symlink(
            relative.to_string_lossy().replace('\\', "/"),
        ));
    }
    read_capped(file, limit)
}

/// Reads at most `limit + 1` bytes: the size is what was read, whatever `stat` claims.
pub fn read_capped(reader: impl Read, limit: u64) -> std::io::Result<WorktreeFile> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(if bytes.len() as u64 > limit {
        WorktreeFile::TooLarge
    } else {
        WorktreeFile::Found(bytes)
    })
}

impl LocalRepo {
    /// Reads a work-tree file by repository-relative path, following no symbolic link and
    /// reading at most [`MAX_FILE_BYTES`] and one byte. `Missing` when it does not exist, is
    /// not a regular file, or the path leaves the repository (absolute, or through `..`).
    pub fn read_worktree_file(&self, relative: &str) -> Result<WorktreeFile, std::io::Error> {
        let Some(path) = inside_relative(relative) else {
            return Ok(WorktreeFile::Missing);
        };
        read_below(&self.workdir, path, MAX_FILE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_by_bytes_read_not_by_stat() {
        // /dev/zero, like /proc/self/pagemap, claims a size of 0 and never ends.
        let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
        assert_eq!(
            read_capped(zero, 1024).expect("read"),
            WorktreeFile::TooLarge
        );
        assert_eq!(
            read_capped(&b"four"[..], 4).expect("read"),
            WorktreeFile::Found(b"four".to_vec())
        );
    }

    #[test]
    fn no_component_below_the_root_may_be_a_link() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("docs")).expect("mkdir");
        std::fs::write(root.path().join("docs/notes.md"), "notes").expect("write");
        std::os::unix::fs::symlink("/proc/self", root.path().join("proc")).expect("link");
        std::os::unix::fs::symlink("notes.md", root.path().join("docs/link.md")).expect("link");
        let read = |p: &str| read_below(root.path(), Path::new(p), 1024).expect("read");
        assert_eq!(
            read("docs/notes.md"),
            WorktreeFile::Found(b"notes".to_vec())
        );
        assert_eq!(read("proc/environ"), WorktreeFile::Symlink("proc".into()));
        assert_eq!(read("proc/pagemap"), WorktreeFile::Symlink("proc".into()));
        assert_eq!(
            read("docs/link.md"),
            WorktreeFile::Symlink("docs/link.md".into())
        );
        assert_eq!(read("docs"), WorktreeFile::Missing);
        assert_eq!(read("nothing"), WorktreeFile::Missing);
    }
}
