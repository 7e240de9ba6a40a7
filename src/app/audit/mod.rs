//! `shipgate audit`: log, verify, note and export-signers, and `halt`/`resume`, wiring the audit
//! core to the local repository, the remote, the clock, the environment and the terminal. One
//! module per subcommand; this one holds what they share: the repository and chain head, and
//! the setup every appending command starts from ([`prepare_append`], [`AppendSetup`]).

mod actor;
mod halt;
mod log;
mod note;
mod signers;
mod verify;

use std::io::Write;
use std::time::Duration;

use git2::{Oid, Repository};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::audit::AuditError;
use crate::audit::append::{AppendTarget, GitCli, append};
use crate::audit::entry::Event;
use crate::audit::state::ApplyError;
use crate::audit::store::git;
use crate::audit::trust::{ChainTrust, TrustError};
use crate::audit::view::StateView;
use crate::cli::{AuditAppendArgs, AuditCommand, AuditTargetArgs};
use crate::error::{Error, Outcome};
use crate::keys::{AUDIT_KEY_ENV, SigningKey, load_signing_key};
use crate::model::Kid;
use crate::policy::{Policy, SignerRole};

pub use halt::{halt, resume};
pub(super) use signers::trusted_signers;

/// Runs an `audit` subcommand.
pub fn run(command: AuditCommand, out: &mut dyn Write) -> Result<Outcome, Error> {
    match command {
        AuditCommand::Log(args) => log::log(&args, out),
        AuditCommand::Verify(args) => verify::verify(&args, out),
        AuditCommand::Note(args) => note::note(&args, out),
        AuditCommand::ExportSigners(args) => signers::export_signers(&args, out),
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
    let policy = signers::genesis_policy(args.target.repo.as_deref(), &args.policy)?;
    let kids: Vec<&str> = match &policy {
        Some(policy) => policy.signers.iter().map(|s| s.kid.as_str()).collect(),
        None => vec![key.kid.as_str()],
    };
    let signer_kids = kids
        .into_iter()
        .map(Kid::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Usage(format!("the chain's genesis names its signers: {e}")))?;
    // Every append verifies what it builds on with the policy's signers; before a policy
    // names any, the chain can only be one this key wrote.
    let trusted_signers = match &policy {
        Some(policy) if !policy.signers.is_empty() => policy.signers.clone(),
        _ => vec![key.as_signer(SignerRole::Audit)],
    };
    let pinned = pinned_genesis(policy.as_ref())?;
    let repository = repository_slug(&repo, args)?;
    let actor = actor::actor_from_environment(&repo, &repository)?;
    let target = AppendTarget {
        remote: args.target.remote.clone(),
        branch: args.target.branch.clone(),
        genesis: Event::Genesis {
            repository,
            policy_hash: policy.map(|p| p.hash),
            signer_kids,
            state_layout: Some(crate::audit::state::RUNS_FAN_OUT),
        },
        actor,
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
            let event = propose(state, key.kid.as_str())?;
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
