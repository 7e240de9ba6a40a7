//! What people see of the command line itself: examples in every subcommand's help, shell
//! completions and the man page generated from the same definitions.

use clap::CommandFactory;
use shipgate::cli::Cli;

use crate::fixture::{TestRepo, stdout};

/// Every command a person can run, with its full name.
fn leaves(command: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
    let name = format!("{prefix} {}", command.get_name()).trim().to_owned();
    let children: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    // Leaves, and commands that also run on their own (`shipgate proof RUN_ID`).
    if children.is_empty() || command.get_arguments().any(|a| a.is_positional()) {
        out.push((name.clone(), command.clone()));
    }
    for child in children {
        leaves(child, &name, out);
    }
}

#[test]
fn every_subcommand_shows_an_example_in_its_help() {
    let mut all = Vec::new();
    leaves(&Cli::command(), "", &mut all);
    assert!(all.len() >= 19, "{} commands", all.len());
    let missing: Vec<&str> = all
        .iter()
        .filter(|(_, c)| {
            !c.get_after_help()
                .is_some_and(|h| h.to_string().contains("Example"))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(missing.is_empty(), "no example in the help of {missing:?}");
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let fixture = TestRepo::empty();
    let bash = fixture.shipgate(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = stdout(&bash);
    for command in [
        "dry-run",
        "mint",
        "execute",
        "proof",
        "audit",
        "receipt",
        "completions",
    ] {
        assert!(script.contains(command), "bash completion lacks {command}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = fixture.shipgate(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(stdout(&out).contains("shipgate"), "{shell}");
    }
    assert_eq!(
        fixture.shipgate(&["completions", "tcsh"]).status.code(),
        Some(2)
    );

    let man = fixture.shipgate(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.contains(".TH shipgate 1"), "{page}");
    assert!(
        page.contains("execute"),
        "the man page lists the subcommands"
    );
}

#[test]
fn in_a_workflow_plan_errors_become_annotations_on_their_line() {
    let fixture = TestRepo::standard();
    fixture.write(
        ".shipgate/plans/bad.yaml",
        "version: 1\noperations:\n  - kind: tag\n    nmae: v1\n",
    );
    let run = |actions: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"));
        command
            .args(["dry-run", "--policies-from-worktree"])
            .current_dir(fixture.path())
            .env_remove("GITHUB_TOKEN")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        if actions {
            command.env("GITHUB_ACTIONS", "true");
        } else {
            command.env_remove("GITHUB_ACTIONS");
        }
        command.output().expect("run")
    };
    let out = run(true);
    assert_eq!(out.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        errors.contains("::error file=.shipgate/plans/bad.yaml,line=4,col=5,title="),
        "{errors}"
    );
    let quiet = run(false);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("::error"));
}

#[test]
fn no_color_turns_off_every_escape_even_when_colour_is_forced() {
    let run = |no_color: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"));
        command
            .args(["dry-run", "--no-such-flag"])
            .env("CLICOLOR_FORCE", "1")
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        let out = command.output().expect("run shipgate");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        run(false).contains('\u{1b}'),
        "forced colour shows escapes (the control)"
    );
    let plain = run(true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("--no-such-flag"), "{plain}");
}

/// A run id on the command line is checked where it is read (issue 14): text that is no run id
/// is a usage error naming the rule, before any repository, token or chain is looked at.
#[test]
fn a_run_argument_that_is_no_run_id_is_refused_by_the_parser() {
    let fixture = TestRepo::empty();
    for args in [
        &["execute", "--run", "../state"][..],
        &["release", "publish", "--tag", "v1", "--run", "run_a b"],
        &["proof", "rcp_1"],
    ] {
        let out = fixture.shipgate(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = crate::fixture::stderr(&out);
        assert!(err.contains("is not a valid run id"), "{args:?}: {err}");
    }
}
