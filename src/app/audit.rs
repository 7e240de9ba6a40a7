//! `shipgate audit`: log, verify, note and export-signers, wiring the audit core to the local
//! repository, the remote, the clock, the environment and the terminal.
//!
//! The file passes 600 lines by a little: about 620 lines of code (one small function per
//! subcommand step) and a few unit tests, kept together as the one audit shell.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::approval::command::MAX_REASON_CHARS;
use crate::audit::AuditError;
use crate::audit::append::{AppendTarget, GitCli, append};
use crate::audit::entry::{Actor, Event};
use crate::audit::reason::Reason;
use crate::audit::state::{ApplyError, StateAccess};
use crate::audit::store::{git, read_entry};
use crate::audit::trust::{ChainTrust, TrustError, check_branch_missing, check_pinned_genesis};
use crate::audit::verify::{
    Failure, Verified, VerifyError, VerifyOptions, check_checkpoint, is_commit, verify_chain,
    write_checkpoint,
};
use crate::audit::view::StateView;
use crate::cli::{
    AuditAppendArgs, AuditCommand, AuditLogArgs, AuditNoteArgs, AuditTargetArgs, AuditVerifyArgs,
    HaltArgs, LogFormat, PolicyArgs, ResumeArgs,
};
use crate::error::{Error, Outcome};
use crate::keys::{
    AUDIT_KEY_ENV, SigningKey, allowed_signers_file, load_signing_key, parse_allowed_signers,
};
use crate::policy::{Policy, Signer, SignerRole};
use crate::repo::RepoError;
use crate::report::escape_markdown;

use super::inputs::{self, PolicyRequest};

/// Runs an `audit` subcommand.
pub fn run(command: AuditCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    match command {
        AuditCommand::Log(args) => log(&args, out),
        AuditCommand::Verify(args) => verify(&args, out),
        AuditCommand::Note(args) => note(&args, out),
        AuditCommand::ExportSigners(args) => {
            let signers = trusted_signers(
                args.allowed_signers.as_deref(),
                args.repo.as_deref(),
                &args.policy,
            )?;
            let text = allowed_signers_file(&signers);
            match &args.out {
                Some(path) => std::fs::write(path, text)?,
                None => out.write_all(text.as_bytes())?,
            }
            Ok(Outcome::Clean)
        }
    }
}

pub(super) fn open_repository(target: &AuditTargetArgs) -> Result<Repository, Error> {
    let start = match &target.repo {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    Repository::discover(&start).map_err(|e| {
        Error::Usage(format!(
            "{} is not in a git repository: {}",
            start.display(),
            e.message()
        ))
    })
}

/// The chain head: fetched from the remote when the repository has it, else the local branch.
pub(super) fn chain_head(
    repo: &Repository,
    target: &AuditTargetArgs,
) -> Result<Option<Oid>, Error> {
    if repo.find_remote(&target.remote).is_ok() {
        let cli = GitCli::new(repo, Vec::new());
        return cli
            .fetch(repo, &target.remote, &target.branch)
            .map_err(|e| Error::Audit(AuditError::Fetch(e)));
    }
    match repo.refname_to_id(&format!("refs/heads/{}", target.branch)) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(AuditError::Store(git("read the governance branch")(e)).into()),
    }
}

/// The signers to trust: an explicit allowed-signers file, or else the policy's signers, read
/// from the default branch like every policy.
pub(super) fn trusted_signers(
    file: Option<&Path>,
    repo_dir: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<Vec<Signer>, Error> {
    verification_anchor(file, repo_dir, policy).map(|(signers, _)| signers)
}

/// The signers to trust and the genesis the policy pins (none with an allowed-signers file).
fn verification_anchor(
    file: Option<&Path>,
    repo_dir: Option<&Path>,
    policy: &PolicyArgs,
) -> Result<(Vec<Signer>, Option<Oid>), Error> {
    if let Some(path) = file {
        return Ok((read_signers(path)?, None));
    }
    let policy = load_policy(repo_dir, policy)?;
    if policy.signers.is_empty() {
        return Err(Error::Usage(
            "the policy declares no signers: add them under `signers:`, or pass --allowed-signers FILE".into(),
        ));
    }
    let pinned = pinned_genesis(Some(&policy))?;
    Ok((policy.signers, pinned))
}

fn load_policy(repo_dir: Option<&Path>, policy: &PolicyArgs) -> Result<Policy, Error> {
    let repo = inputs::open_repo(repo_dir)?;
    Ok(inputs::load_policy(&repo, &PolicyRequest::from(policy))?.0)
}

/// What a new chain's genesis records of the policy: its hash and signer key ids. A repository
/// with no default branch or no policy yet records none; a policy that fails to load is an error.
fn genesis_policy(repo_dir: Option<&Path>, policy: &PolicyArgs) -> Result<Option<Policy>, Error> {
    match load_policy(repo_dir, policy) {
        Ok(policy) if policy.files.is_empty() => Ok(None),
        Ok(policy) => Ok(Some(policy)),
        Err(Error::Repo(RepoError::NoDefaultBranch(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_signers(path: &Path) -> Result<Vec<Signer>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(parse_allowed_signers(&text)?)
}

fn log(args: &AuditLogArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
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

/// `audit verify`: checks the chain from its head (or `--since`) and reports the outcome.
fn verify(args: &AuditVerifyArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let started = Instant::now();
    let (signers, pinned) = verification_anchor(
        args.allowed_signers.as_deref(),
        args.target.repo.as_deref(),
        &args.policy,
    )?;
    let repo = open_repository(&args.target)?;
    let since = since_commit(&repo, args.since.as_deref())?;
    let head = chain_head(&repo, &args.target)?;
    let result = check_checkpoint(&repo, head).and_then(|()| match head {
        None => check_branch_missing(pinned).map(|()| Verified {
            head: None,
            entries_checked: 0,
            head_seq: None,
            root: None,
        }),
        Some(head) => verify_from(&repo, head, since, &signers, pinned),
    });
    let verified = match result {
        Ok(verified) => verified,
        Err(VerifyError::Invalid(failure)) => return Err(report_failure(args, failure, out)?),
        Err(err) => return Err(AuditError::Verify(err).into()),
    };
    if let Some(head) = verified.head {
        write_checkpoint(&repo, head).map_err(AuditError::Verify)?;
    }
    report_verified(args, &verified, started.elapsed().as_secs_f64(), out)?;
    Ok(Outcome::Clean)
}

/// The commit `--since` names, which must be a commit.
fn since_commit(repo: &Repository, since: Option<&str>) -> Result<Option<Oid>, Error> {
    let Some(text) = since else {
        return Ok(None);
    };
    let oid = repo
        .revparse_single(text)
        .map(|object| object.id())
        .map_err(|e| Error::Usage(format!("--since {text}: {}", e.message())))?;
    if !is_commit(repo, oid) {
        return Err(Error::Usage(format!("--since {text} is not a commit")));
    }
    Ok(Some(oid))
}

/// Verifies the chain from `head`, with progress on a terminal, and checks its genesis
/// against the pinned one.
fn verify_from(
    repo: &Repository,
    head: Oid,
    since: Option<Oid>,
    signers: &[Signer],
    pinned: Option<Oid>,
) -> Result<Verified, VerifyError> {
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: u64, total: u64| {
        eprint!("\rverifying {done}/{total} entries");
        if done == total {
            eprintln!();
        }
    };
    let options = VerifyOptions {
        since,
        progress: if terminal { Some(&progress) } else { None },
        ..VerifyOptions::whole_chain(signers)
    };
    let verified = verify_chain(repo, head, &options)?;
    if let Some(root) = verified.root {
        check_pinned_genesis(pinned, root)?;
    }
    Ok(verified)
}

/// Reports an integrity failure to the job summary, the step outputs and (with `--json`)
/// `out`, and returns the error to exit with.
fn report_failure(
    args: &AuditVerifyArgs,
    failure: Failure,
    out: &mut dyn Write,
) -> Result<Error, Error> {
    let code = failure.reason().code();
    super::actions::write_step_summary(&format!(
        "## Audit chain: INTEGRITY FAILURE\n\n`{code}` at commit `{}` (seq {}): {}\n",
        failure.commit,
        failure
            .seq
            .map_or_else(|| "?".to_owned(), |s| s.to_string()),
        escape_markdown(&failure.problem.to_string())
    ))?;
    super::actions::write_outputs(&[
        ("status", "failed".to_owned()),
        ("blocked-reasons", code.to_owned()),
    ])?;
    if args.json {
        let summary = serde_json::json!({
            "ok": false,
            "reason": code,
            "commit": failure.commit.to_string(),
            "seq": failure.seq,
            "problem": failure.problem.to_string(),
        });
        writeln!(out, "{summary}")?;
    }
    Ok(AuditError::Verify(VerifyError::Invalid(failure)).into())
}

/// Reports a verified (or empty) chain to the job summary, the step outputs and `out`.
fn report_verified(
    args: &AuditVerifyArgs,
    verified: &Verified,
    seconds: f64,
    out: &mut dyn Write,
) -> Result<(), Error> {
    super::actions::write_step_summary(&match verified.head {
        Some(head) => format!(
            "## Audit chain verified\n\n{} entries checked in {seconds:.2} s; head `{head}` (seq {}) on `{}`.\n",
            verified.entries_checked,
            verified.head_seq.unwrap_or_default(),
            escape_markdown(&args.target.branch)
        ),
        None => format!(
            "## Audit chain empty\n\nThe governance branch `{}` does not exist yet.\n",
            escape_markdown(&args.target.branch)
        ),
    })?;
    super::actions::write_outputs(&[
        (
            "status",
            if verified.head.is_some() {
                "verified"
            } else {
                "empty"
            }
            .to_owned(),
        ),
        ("blocked-reasons", String::new()),
    ])?;
    if args.json {
        let summary = serde_json::json!({
            "ok": true,
            "head": verified.head.map(|h| h.to_string()),
            "head_seq": verified.head_seq,
            "entries_checked": verified.entries_checked,
            "milliseconds": (seconds * 1000.0).round() as u64,
        });
        writeln!(out, "{summary}")?;
    } else {
        match verified.head {
            Some(head) => writeln!(
                out,
                "audit chain OK: {} entries checked in {seconds:.2}s, head {head} (seq {})",
                verified.entries_checked,
                verified.head_seq.unwrap_or_default()
            )?,
            None => writeln!(
                out,
                "audit chain is empty: branch {} does not exist",
                args.target.branch
            )?,
        }
    }
    Ok(())
}

fn actor_from_environment() -> Actor {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Actor {
        login: var("GITHUB_ACTOR")
            .or_else(|| var("USER"))
            .unwrap_or_else(|| "local".into()),
        workflow_run: var("GITHUB_RUN_ID"),
        sha: var("GITHUB_SHA"),
    }
}

fn repository_slug(repo: &Repository, args: &AuditAppendArgs) -> Result<String, Error> {
    if let Some(text) = &args.repo_slug {
        return crate::model::RepoSlug::parse(text)
            .map(|slug| slug.to_string())
            .map_err(|e| Error::Usage(format!("--repo-slug: {e}")));
    }
    if let Ok(text) = std::env::var("GITHUB_REPOSITORY")
        && !text.is_empty()
    {
        return crate::model::RepoSlug::parse(&text)
            .map(|slug| slug.to_string())
            .map_err(|e| Error::Usage(format!("GITHUB_REPOSITORY: {e}")));
    }
    let from_remote = repo
        .find_remote(&args.target.remote)
        .ok()
        .and_then(|remote| {
            remote
                .url()
                .ok()
                .and_then(crate::repo::slug_from_remote_url)
        });
    from_remote.map(|slug| slug.to_string()).ok_or_else(|| {
        Error::Usage("cannot tell the governed repository: pass --repo-slug OWNER/NAME or set GITHUB_REPOSITORY".into())
    })
}

fn note(args: &AuditNoteArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let message = args.message.clone();
    append_operator_event(&args.append, out, |_, _| {
        Ok(Event::Note {
            message: message.clone(),
        })
    })
}

/// `shipgate halt`: records a halt; refused (exit 1) when already halted.
pub fn halt(args: &HaltArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let reason: String = args
        .reason
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REASON_CHARS)
        .collect();
    if reason.trim().is_empty() {
        return Err(Error::Usage("--reason must say why shipping stops".into()));
    }
    append_operator_event(&args.append, out, |_, kid| {
        Ok(Event::Halted {
            by: operator(args.by.as_deref(), kid),
            reason: reason.clone(),
            comment_id: None,
        })
    })
}

/// `shipgate resume --comment ID`: lifts a halt on a halt admin's own request, their
/// `/shipgate resume` comment read from GitHub; refused (exit 1) when not halted or when the
/// comment is not such a request (`RESUME_NOT_AUTHORIZED`). Halting is fail-safe, so the audit
/// key alone may halt; resuming undoes a safety stop, so it takes a halt admin's own act.
pub fn resume(args: &ResumeArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let token = crate::app::github::token().ok_or_else(|| {
        Error::Usage(
            "resume reads the halt admin's `/shipgate resume` comment on GitHub: set GITHUB_TOKEN"
                .into(),
        )
    })?;
    let (repo, slug) = inputs::governed_repo(&args.append)?;
    let (policy, _) = inputs::load_policy(&repo, &PolicyRequest::from(&args.append.policy))?;
    let (runtime, client) = crate::app::github::connect(&slug, token)?;
    let comment = runtime
        .block_on(crate::github::GitHubRead::comment(&client, args.comment))?
        .ok_or_else(|| {
            Error::Usage(format!(
                "{slug} has no comment {}: pass the id of a `/shipgate resume` comment",
                args.comment
            ))
        })?;
    append_operator_event(&args.append, out, |state, _| {
        let halt = state.halt();
        resume_request(&policy, &comment, halt.as_ref()).map_err(|detail| ApplyError {
            reason: Reason::ResumeNotAuthorized,
            detail,
        })
    })
}

/// The `resumed` entry a comment asks for, or why it does not: it must be a halt admin's own
/// unedited comment with a `/shipgate resume` line, written after the standing halt.
fn resume_request(
    policy: &Policy,
    comment: &crate::approval::evaluate::Comment,
    halt: Option<&crate::audit::state::HaltRecord>,
) -> Result<Event, String> {
    let id = comment.id;
    if comment.author_is_bot || !policy.halt_admins.contains(&comment.author) {
        return Err(format!(
            "comment {id} is by {}, who is not a halt admin of the policy on the default branch",
            comment.author
        ));
    }
    if comment.updated_at != comment.created_at {
        return Err(format!(
            "comment {id} was edited after it was written: ask {} for a new one",
            comment.author
        ));
    }
    let asks = crate::approval::command::parse_comment(&comment.body)
        .commands
        .iter()
        .any(|(_, command)| matches!(command, crate::approval::command::Command::Resume));
    if !asks {
        return Err(format!(
            "comment {id} has no `/shipgate resume` line of its own"
        ));
    }
    if let Some(halt) = halt {
        let since =
            OffsetDateTime::parse(&halt.since, &time::format_description::well_known::Rfc3339)
                .map_err(|_| format!("the halt's time `{}` is unreadable", halt.since))?;
        if comment.created_at < since {
            return Err(format!(
                "comment {id} was written before the halt of {}: a resume must answer the halt that stands",
                halt.since
            ));
        }
    }
    Ok(Event::Resumed {
        by: comment.author.to_string(),
        comment_id: Some(id),
    })
}

/// Who an operator's entry names: `--by`, else the workflow's actor, else the key that signs.
fn operator(by: Option<&str>, kid: &str) -> String {
    by.map(str::to_owned)
        .or_else(|| std::env::var("GITHUB_ACTOR").ok().filter(|a| !a.is_empty()))
        .unwrap_or_else(|| format!("key:{kid}"))
}

/// What every command that appends to the chain needs: the local repository, the audit key,
/// where to append (with the genesis a new chain starts with) and stock git to push with.
pub(super) struct AppendSetup {
    pub repo: Repository,
    pub key: SigningKey,
    pub target: AppendTarget,
    pub cli: GitCli,
}

impl AppendSetup {
    /// Fetches the governance branch and verifies its head from the last verified one;
    /// `None` when the branch does not exist (and never did, as far as anything shows).
    pub fn verified_head(&self) -> Result<Option<Oid>, Error> {
        let fetched = self.target.trust.verify_fetched(&self.repo, &mut || {
            self.cli
                .fetch(&self.repo, &self.target.remote, &self.target.branch)
        });
        match fetched {
            Ok(head) => Ok(head),
            Err(TrustError::Fetch(e)) => Err(AuditError::Fetch(e).into()),
            Err(TrustError::Verify(e)) => Err(AuditError::Verify(e).into()),
        }
    }
}

/// The genesis commit the policy pins (`audit.genesis`), if any.
pub(super) fn pinned_genesis(policy: Option<&Policy>) -> Result<Option<Oid>, Error> {
    policy
        .and_then(|p| p.genesis.as_deref())
        .map(|text| {
            Oid::from_str(text)
                .map_err(|e| Error::Usage(format!("audit.genesis `{text}`: {}", e.message())))
        })
        .transpose()
}

/// Loads the audit key and the repository and checks the remote exists.
pub(super) fn prepare_append(args: &AuditAppendArgs) -> Result<AppendSetup, Error> {
    let env_key = std::env::var(AUDIT_KEY_ENV).ok().map(Zeroizing::new);
    let key = load_signing_key(SignerRole::Audit, args.audit_key.as_deref(), env_key)?;
    let repo = open_repository(&args.target)?;
    if repo.find_remote(&args.target.remote).is_err() {
        return Err(Error::Usage(format!(
            "no remote `{}`: audit entries are appended to a remote (pass --remote)",
            args.target.remote
        )));
    }
    let policy = genesis_policy(args.target.repo.as_deref(), &args.policy)?;
    let signer_kids = match &policy {
        Some(policy) => policy.signers.iter().map(|s| s.kid.clone()).collect(),
        None => vec![key.kid.clone()],
    };
    // Every append verifies what it builds on with the policy's signers; before a policy
    // names any, the chain can only be one this key wrote.
    let trusted_signers = match &policy {
        Some(policy) if !policy.signers.is_empty() => policy.signers.clone(),
        _ => vec![key.as_signer(SignerRole::Audit)],
    };
    let pinned = pinned_genesis(policy.as_ref())?;
    let target = AppendTarget {
        remote: args.target.remote.clone(),
        branch: args.target.branch.clone(),
        genesis: Event::Genesis {
            repository: repository_slug(&repo, args)?,
            policy_hash: policy.map(|p| p.hash),
            signer_kids,
            state_layout: Some(crate::audit::state::RUNS_FAN_OUT),
        },
        actor: actor_from_environment(),
        give_up_after: Duration::from_secs(args.give_up_after),
        trust: ChainTrust::new(trusted_signers, pinned),
    };
    let cli = GitCli::new(&repo, Vec::new());
    Ok(AppendSetup {
        repo,
        key,
        target,
        cli,
    })
}

/// Appends one operator event, signed with the audit key, creating the chain if needed.
/// `propose` sees the state at the verified head and the signing key's id; it and the state
/// rules decide whether the event is allowed (a second halt, a resume without a halt: exit 1).
fn append_operator_event(
    args: &AuditAppendArgs,
    out: &mut dyn Write,
    propose: impl Fn(&StateView<'_>, &str) -> Result<Event, ApplyError>,
) -> Result<Outcome, Error> {
    let AppendSetup {
        repo,
        key,
        target,
        cli,
    } = prepare_append(args)?;
    let mut proposed = None;
    let appended = append(
        &repo,
        &cli,
        &key,
        &target,
        &OffsetDateTime::now_utc,
        |state| {
            let event = propose(state, &key.kid)?;
            proposed = Some(event.kind());
            Ok(event)
        },
    )
    .map_err(AuditError::from)?;
    writeln!(
        out,
        "appended {} as seq {} ({}; {} attempt(s){})",
        proposed.unwrap_or("an entry"),
        appended.tip.seq,
        appended.tip.commit,
        appended.attempts,
        if appended.created_genesis {
            ", new chain"
        } else {
            ""
        }
    )?;
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::evaluate::Comment;
    use crate::audit::state::HaltRecord;
    use crate::model::Login;
    use time::macros::datetime;

    fn policy() -> Policy {
        crate::policy::load_policy(&[crate::policy::PolicyFile {
            name: "policy.yaml".into(),
            bytes: b"version: 1\nhalt_admins: [alice]\n".to_vec(),
        }])
        .unwrap()
    }

    fn comment(at: OffsetDateTime) -> Comment {
        Comment {
            id: 7,
            author: Login::parse("alice").unwrap(),
            author_is_bot: false,
            created_at: at,
            updated_at: at,
            body: "/shipgate resume\n".into(),
            thumbs: 0,
        }
    }

    #[test]
    fn a_resume_comment_written_before_the_standing_halt_does_not_lift_it() {
        let halt = HaltRecord {
            by: "alice".into(),
            reason: "incident".into(),
            since: "2026-12-03T10:00:00Z".into(),
            seq: 4,
        };
        let before = comment(datetime!(2026-12-03 09:59:59 UTC));
        assert!(resume_request(&policy(), &before, Some(&halt)).is_err());
        let after = comment(datetime!(2026-12-03 10:00:01 UTC));
        assert_eq!(
            resume_request(&policy(), &after, Some(&halt)),
            Ok(Event::Resumed {
                by: "alice".into(),
                comment_id: Some(7),
            })
        );
    }
}
