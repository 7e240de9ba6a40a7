//! `shipgate init`: writes the files [`crate::scaffold`] renders into a repository and prints
//! the key-setup steps. It asks nothing, and it never overwrites a file unless told to
//! (`--force`): when any file exists it names them all and writes none.

use std::io::Write;
use std::path::Path;

use time::OffsetDateTime;

use crate::cli::InitArgs;
use crate::cli::init::PresetArg;
use crate::error::{Error, Outcome};
use crate::repo::LocalRepo;
use crate::scaffold::{
    ActionRef, BranchName, KeyIds, Preset, Scaffold, ScaffoldError, TokenSource, parse_logins,
    parse_teams,
};

/// Runs `shipgate init`.
pub fn init(args: &InitArgs, now: OffsetDateTime, out: &mut dyn Write) -> Result<Outcome, Error> {
    let repo = super::inputs::open_repo(args.repo.as_deref())?;
    let scaffold = scaffold(args, &repo, now).map_err(|e| Error::Usage(e.to_string()))?;
    let files = scaffold.files().map_err(|e| Error::Usage(e.to_string()))?;
    let root = repo.workdir();

    let existing: Vec<&str> = files
        .iter()
        .map(|f| f.path)
        .filter(|path| root.join(path).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() && !args.force {
        return Err(Error::Usage(format!(
            "refusing to overwrite {} existing file(s): {}; nothing was written (pass --force to overwrite them)",
            existing.len(),
            existing.join(", ")
        )));
    }
    for file in &files {
        write_file(root, file.path, &file.contents)?;
    }

    writeln!(
        out,
        "shipgate init: wrote {} file(s) in {}",
        files.len(),
        root.display()
    )?;
    for file in &files {
        let note = if existing.contains(&file.path) {
            " (overwritten)"
        } else {
            ""
        };
        writeln!(out, "  {}{note}", file.path)?;
    }
    writeln!(
        out,
        "\npolicy: extends {}; {}: {}; halt admins: {}",
        scaffold.preset.extends_name(),
        scaffold.preset.group(),
        members(&scaffold),
        scaffold
            .halt_admins
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "workflows: uses {}, ship on pushes to {}",
        scaffold.action.as_str(),
        scaffold.default_branch.as_str()
    )?;
    if scaffold.preset == Preset::TwoPersonRelease && scaffold.approvers.len() == 2 {
        writeln!(
            out,
            "note: a plan's author never counts, so with two release managers a plan one of them \
             writes cannot reach its quorum of two; name a third with --approver if they write plans"
        )?;
    }
    if !scaffold.teams.is_empty() {
        writeln!(
            out,
            "note: team membership is read from GitHub; the default GITHUB_TOKEN cannot read it, \
             so give the approve workflow a token that can (the action's `token` input)"
        )?;
    }
    writeln!(out)?;
    write!(out, "{}", scaffold.next_steps())?;
    Ok(Outcome::Clean)
}

fn members(scaffold: &Scaffold) -> String {
    scaffold
        .approvers
        .iter()
        .map(|l| l.as_str().to_owned())
        .chain(scaffold.teams.iter().map(|t| format!("team {t}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every flag into a [`Scaffold`].
fn scaffold(
    args: &InitArgs,
    repo: &LocalRepo,
    now: OffsetDateTime,
) -> Result<Scaffold, ScaffoldError> {
    let approvers = parse_logins("approver", &args.approvers)?;
    let teams = parse_teams(&args.teams)?;
    let halt_admins = if args.halt_admins.is_empty() {
        approvers.clone()
    } else {
        parse_logins("halt-admin", &args.halt_admins)?
    };
    let action = match &args.action {
        Some(text) => ActionRef::parse(text)?,
        None => ActionRef::default_for_version(env!("CARGO_PKG_VERSION")),
    };
    let default_branch = match &args.default_branch {
        Some(name) => BranchName::parse(name)?,
        // Detected as the dry-run does; a repository without commits yet gets `main`.
        None => match repo.default_branch(None) {
            Ok((name, _)) => BranchName::parse(&name)?,
            Err(_) => BranchName::parse("main")?,
        },
    };
    Ok(Scaffold {
        preset: match args.preset {
            PresetArg::TwoPersonRelease => Preset::TwoPersonRelease,
            PresetArg::SoloMaintainer => Preset::SoloMaintainer,
        },
        approvers,
        teams,
        halt_admins,
        action,
        default_branch,
        kids: KeyIds::for_quarter(now),
        token: if args.app_token {
            TokenSource::GitHubApp
        } else {
            TokenSource::WorkflowToken
        },
    })
}

fn write_file(root: &Path, relative: &str, contents: &str) -> Result<(), Error> {
    let path = root.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A symlink in the way is replaced, not followed: init writes inside the repository only.
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        std::fs::remove_file(&path)?;
    }
    std::fs::write(&path, contents)?;
    Ok(())
}
