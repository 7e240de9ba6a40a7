//! `shipgate doctor`: checks a repository's shipgate setup and explains each finding.
//!
//! Offline: the policy on the default branch (and whether the work tree differs), the signers
//! of both roles, the private keys given (never printed) against them, the three workflows,
//! and the governance branch on the remote, verified like `shipgate audit verify`. Online
//! (`GITHUB_TOKEN` set, see [`github`]): the token's permissions and the governance branch's
//! protection. Doctor changes nothing but the remote-tracking ref of the governance branch
//! it fetches; in particular it does not move the verify checkpoint.

mod github;

use std::io::Write;

use git2::Repository;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::audit::append::GitCli;
use crate::audit::trust::check_pinned_genesis;
use crate::audit::verify::{VerifyError, verify_from_checkpoint};
use crate::cli::{DoctorArgs, DoctorFormat, RepoArgs};
use crate::error::{Error, Outcome};
use crate::keys::{AUDIT_KEY_ENV, KeysError, MINT_KEY_ENV, load_signing_key};
use crate::policy::{Policy, SignerRole};
use crate::reason::Code;
use crate::repo::LocalRepo;
use crate::report::doctor::{DoctorReport, Finding};
use crate::scaffold::WORKFLOWS;

use super::inputs::{self, PolicyRequest};

/// A signer retiring within this many days is worth a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// Runs `shipgate doctor`.
pub fn doctor(args: &DoctorArgs, out: &mut dyn Write) -> Result<Outcome, Error> {
    let repo_args = RepoArgs {
        repo: args.repo.clone(),
        repo_slug: args.repo_slug.clone(),
    };
    let repo = inputs::open_repo(args.repo.as_deref())?;
    let now = OffsetDateTime::now_utc();
    let mut report = DoctorReport::default();

    let policy = check_policy(&repo, args, &mut report);
    if let Some(policy) = &policy {
        check_signers(policy, now, &mut report);
        check_keys(policy, args, now, &mut report);
        check_teams(policy, &mut report);
    }
    check_workflows(&repo, args, &mut report);
    check_governance_branch(&repo, args, policy.as_ref(), &mut report);
    github::check(&repo, &repo_args, args, policy.as_ref(), &mut report)?;

    super::actions::write_step_summary(&report.render_markdown())?;
    match args.format {
        DoctorFormat::Text => write!(out, "{}", report.render_text())?,
        DoctorFormat::Json => writeln!(out, "{:#}", report.render_json())?,
    }
    Ok(report.outcome())
}

/// The policy on the default branch, which is the one shipgate judges with.
fn check_policy(repo: &LocalRepo, args: &DoctorArgs, report: &mut DoctorReport) -> Option<Policy> {
    let branch = match repo.default_branch(args.default_branch.as_deref()) {
        Ok((branch, _)) => branch,
        Err(e) => {
            report.push(
                Finding::new(
                    Code::NoDefaultBranch,
                    format!("the default branch has no commit to read the policy from: {e}"),
                )
                .fix("commit the files `shipgate init` wrote, or pass --default-branch NAME"),
            );
            return None;
        }
    };
    let request = PolicyRequest {
        dir: &args.policies,
        from_worktree: false,
        default_branch: args.default_branch.as_deref(),
    };
    let worktree = worktree_policy(repo, &args.policies);
    let policy = match inputs::load_policy(repo, &request) {
        Ok((policy, _)) if policy.files.is_empty() => {
            let fix = if worktree.is_some() {
                format!("the work tree has policy files: commit them to `{branch}`")
            } else {
                "run `shipgate init`, then commit the policy".to_owned()
            };
            report.push(
                Finding::new(
                    Code::PolicyMissing,
                    format!(
                        "no policy files (*.yaml, *.yml) in {} on `{branch}`: every operation would be denied",
                        args.policies
                    ),
                )
                .fix(fix),
            );
            return None;
        }
        Ok((policy, _)) => policy,
        Err(e) => {
            report.push(
                Finding::new(
                    Code::PolicyInvalid,
                    format!("the policy on `{branch}` does not load:\n{e}"),
                )
                .fix("fix the files named above (`shipgate policy check` shows the same), and commit"),
            );
            return None;
        }
    };
    report.push(Finding::new(
        Code::PolicyOk,
        format!(
            "the policy on `{branch}` is valid: {} file(s), presets [{}], {} rule(s), hash {}",
            policy.files.len(),
            policy.presets.join(", "),
            policy.rules.len(),
            policy.hash
        ),
    ));
    match worktree {
        Some(Ok(local)) if local.hash == policy.hash => {}
        Some(Ok(_)) => report.push(
            Finding::new(
                Code::PolicyUncommitted,
                format!(
                    "the work tree's policy differs from the one on `{branch}`; shipgate uses `{branch}`'s"
                ),
            )
            .fix(format!(
                "commit the change to `{branch}` (by pull request), or discard it"
            )),
        ),
        Some(Err(e)) => report.push(
            Finding::new(
                Code::PolicyUncommitted,
                format!(
                    "the work tree's policy differs from the one on `{branch}` and does not load:\n{e}"
                ),
            )
            .fix("fix it before committing it (`shipgate policy check`)"),
        ),
        None => {}
    }
    Some(policy)
}

/// The work tree's policy, if the directory has policy files.
fn worktree_policy(repo: &LocalRepo, dir: &str) -> Option<Result<Policy, Error>> {
    let request = PolicyRequest {
        dir,
        from_worktree: true,
        default_branch: None,
    };
    match inputs::load_policy(repo, &request) {
        Ok((policy, _)) if policy.files.is_empty() => None,
        result => Some(result.map(|(policy, _)| policy)),
    }
}

/// What breaks without a signer of `role`.
fn consequence(role: SignerRole) -> &'static str {
    match role {
        SignerRole::Mint => "nothing can be minted: receipts are signed by a mint key",
        SignerRole::Audit => {
            "nothing can be recorded, so nothing is minted or executed: audit commits are signed by an audit key"
        }
    }
}

/// Both roles need a signer in force now.
fn check_signers(policy: &Policy, now: OffsetDateTime, report: &mut DoctorReport) {
    for role in [SignerRole::Mint, SignerRole::Audit] {
        let name = role.as_str();
        let consequence = consequence(role);
        let all: Vec<_> = policy.signers.iter().filter(|s| s.role == role).collect();
        let in_force: Vec<_> = all.iter().filter(|s| s.in_force_at(now)).collect();
        if all.is_empty() {
            report.push(
                Finding::new(
                    Code::SignerMissing,
                    format!("the policy has no `{name}` signer: {consequence}"),
                )
                .fix(format!(
                    "run `shipgate keys generate --kid {name}-<yyyyqN> --role {name} --out {name}.key` and add the printed entry under `signers:`"
                )),
            );
        } else if in_force.is_empty() {
            let kids: Vec<&str> = all.iter().map(|s| s.kid.as_str()).collect();
            report.push(
                Finding::new(
                    Code::SignerExpired,
                    format!(
                        "every `{name}` signer is retired (not_after has passed: {}): {consequence}",
                        kids.join(", ")
                    ),
                )
                .fix(format!(
                    "generate a new {name} key, add it under `signers:` and store it where the old one was"
                )),
            );
        } else {
            let horizon = now + time::Duration::days(EXPIRY_WARNING_DAYS);
            let lasting = in_force.iter().any(|s| s.in_force_at(horizon));
            let kids: Vec<&str> = in_force.iter().map(|s| s.kid.as_str()).collect();
            if lasting {
                report.push(Finding::new(
                    Code::SignerOk,
                    format!("`{name}` signer(s) in force: {}", kids.join(", ")),
                ));
            } else {
                report.push(
                    Finding::new(
                        Code::SignerExpiring,
                        format!(
                            "every `{name}` signer in force ({}) retires within {EXPIRY_WARNING_DAYS} days",
                            kids.join(", ")
                        ),
                    )
                    .fix(format!("add the next {name} key to `signers:` now, so the rotation has no gap")),
                );
            }
        }
    }
}

/// The private keys given (flag or environment) must be the policy's signers of their role.
fn check_keys(policy: &Policy, args: &DoctorArgs, now: OffsetDateTime, report: &mut DoctorReport) {
    for (role, file, env) in [
        (SignerRole::Mint, args.mint_key.as_deref(), MINT_KEY_ENV),
        (SignerRole::Audit, args.audit_key.as_deref(), AUDIT_KEY_ENV),
    ] {
        let name = role.as_str();
        let env_text = std::env::var(env)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(Zeroizing::new);
        let key = match load_signing_key(role, file, env_text) {
            Ok(key) => key,
            Err(KeysError::Missing { .. }) => {
                report.push(Finding::new(
                    Code::KeyNotGiven,
                    format!(
                        "no {name} private key to check ({env} unset, no --{name}-key): in GitHub Actions it is an environment secret doctor cannot see from here"
                    ),
                ));
                continue;
            }
            Err(e) => {
                report.push(
                    Finding::new(Code::KeyUnusable, format!("the {name} key: {e}"))
                        .fix(format!(
                            "use the unencrypted Ed25519 key file `shipgate keys generate --role {name}` wrote"
                        )),
                );
                continue;
            }
        };
        let public = key.key.public_key();
        let same_key = policy
            .signers
            .iter()
            .find(|s| s.role == role && s.key.key_data() == public.key_data());
        let finding = match same_key {
            None => Finding::new(
                Code::KeyMismatch,
                format!(
                    "the {name} key `{}` is not a `{name}` signer of the policy: what it signs would not verify",
                    key.kid
                ),
            )
            .fix(format!(
                "store the key whose public half is in the policy, or add this key's entry under `signers:` (its public line: `ssh-keygen -y -f {name}.key`)"
            )),
            Some(signer) if signer.kid != key.kid => Finding::new(
                Code::KeyMismatch,
                format!(
                    "the {name} key's id is `{}` but the policy names its public key `{}`",
                    key.kid, signer.kid
                ),
            )
            .fix("the key id is the private key's comment: regenerate the key, or use the id the key carries in the policy"),
            Some(signer) if !signer.in_force_at(now) => Finding::new(
                Code::KeyRetired,
                format!("the {name} key `{}` is retired in the policy (not_after has passed)", key.kid),
            )
            .fix(format!("store the current {name} key instead")),
            Some(signer) => Finding::new(
                Code::KeyMatches,
                format!("the {name} key given is the policy's signer `{}`", signer.kid),
            ),
        };
        report.push(finding);
    }
}

/// Teams are resolved through GitHub, which the default token cannot do.
fn check_teams(policy: &Policy, report: &mut DoctorReport) {
    let has_teams = policy.groups.values().any(|g| !g.teams.is_empty());
    if has_teams {
        report.push(
            Finding::new(
                Code::TeamsNeedToken,
                "the policy names teams: counting a team member's approval reads the team's membership, which the default GITHUB_TOKEN cannot",
            )
            .fix("pass the approve workflow a token that may read the organization's members (the action's `token` input), or list users instead"),
        );
    }
}

/// The three workflows, as the default branch has them (GitHub runs that copy).
fn check_workflows(repo: &LocalRepo, args: &DoctorArgs, report: &mut DoctorReport) {
    let committed: Vec<String> = repo
        .default_branch(args.default_branch.as_deref())
        .ok()
        .and_then(|(_, commit)| repo.files_in_commit_dir(&commit, ".github/workflows").ok())
        .map(|files| files.into_iter().map(|f| f.path).collect())
        .unwrap_or_default();
    for (path, _) in WORKFLOWS {
        let in_worktree = repo.workdir().join(path).is_file();
        let finding = if committed.iter().any(|c| c == path) {
            Finding::new(
                Code::WorkflowPresent,
                format!("{path} is on the default branch"),
            )
        } else if in_worktree {
            Finding::new(
                Code::WorkflowUncommitted,
                format!("{path} is in the work tree but not on the default branch, whose copy GitHub runs"),
            )
            .fix("commit it to the default branch")
        } else {
            Finding::new(
                Code::WorkflowMissing,
                format!("{path} is missing: {}", workflow_role(path)),
            )
            .fix("run `shipgate init --force` to write the workflows again (it also rewrites the policy), or restore the file")
        };
        report.push(finding);
    }
}

fn workflow_role(path: &str) -> &'static str {
    if path.ends_with("plan.yml") {
        "pull requests adding plans get no dry-run and no status comment"
    } else if path.ends_with("approve.yml") {
        "approval comments are never counted, so nothing is minted"
    } else {
        "merged plans are never executed"
    }
}

/// The governance branch on the remote, fetched and verified.
fn check_governance_branch(
    local: &LocalRepo,
    args: &DoctorArgs,
    policy: Option<&Policy>,
    report: &mut DoctorReport,
) {
    let branch = &args.branch;
    let repo = match Repository::discover(local.workdir()) {
        Ok(repo) => repo,
        Err(e) => {
            report.push(Finding::new(
                Code::GitUnreachable,
                format!("cannot open the repository: {}", e.message()),
            ));
            return;
        }
    };
    if repo.find_remote(&args.remote).is_err() {
        report.push(
            Finding::new(
                Code::GovernanceNotChecked,
                format!(
                    "no remote `{}`: the governance branch `{branch}` lives there, so it was not checked",
                    args.remote
                ),
            )
            .fix("run doctor in a clone of the GitHub repository, or pass --remote NAME"),
        );
        return;
    }
    let head = match GitCli::new(&repo, Vec::new()).fetch(&repo, &args.remote, branch) {
        Ok(Some(head)) => head,
        Ok(None) => {
            report.push(
                Finding::new(
                    Code::GovernanceBranchMissing,
                    format!(
                        "`{}` has no branch `{branch}` yet: the first mint (or `shipgate audit note`) creates it",
                        args.remote
                    ),
                )
                .fix("nothing to do; to start the chain now: `shipgate audit note 'shipgate adopted' --audit-key audit.key`"),
            );
            return;
        }
        Err(e) => {
            report.push(Finding::new(
                Code::GitUnreachable,
                format!("cannot fetch `{branch}`: {e}"),
            ));
            return;
        }
    };
    let signers = policy.map(|p| p.signers.as_slice()).unwrap_or_default();
    if !signers.iter().any(|s| s.role == SignerRole::Audit) {
        report.push(Finding::new(
            Code::GovernanceNotVerified,
            format!("`{branch}` exists but the policy has no audit signer to verify it with"),
        ));
        return;
    }
    // The policy loaded, so its `audit.genesis` is a well-formed commit id.
    let pinned = super::audit::pinned_genesis(policy).unwrap_or_default();
    let result = verify_from_checkpoint(&repo, head, signers).and_then(|verified| {
        if let Some(root) = verified.root {
            check_pinned_genesis(pinned, root)?;
        }
        Ok(verified)
    });
    if let (Ok(verified), None) = (&result, pinned)
        && let Some(root) = verified.root
    {
        report.push(
            Finding::new(
                Code::AuditGenesisUnpinned,
                format!("the policy does not pin `{branch}`'s genesis commit {root}: a fresh clone (every CI job) cannot tell a deleted and restarted branch from the original"),
            )
            .fix(format!("add to a policy file on the default branch:\n  audit:\n    genesis: {root}")),
        );
    }
    let finding = match result {
        Ok(verified) => Finding::new(
            Code::GovernanceBranchOk,
            format!(
                "`{branch}` verifies: {} entries, head {head} (seq {})",
                verified.entries_checked,
                verified.head_seq.unwrap_or_default()
            ),
        ),
        Err(VerifyError::Invalid(failure)) => Finding::new(
            Code::GovernanceBranchInvalid,
            format!("`{branch}` fails verification: {failure}"),
        )
        .fix("nothing will mint or execute on this chain: find out who wrote the bad commit (`shipgate audit log`, `git log --show-signature`) before anything else; never force-push over it"),
        Err(e) => Finding::new(
            Code::GitUnreachable,
            format!("cannot read `{branch}` to verify it: {e}"),
        ),
    };
    report.push(finding);
}
