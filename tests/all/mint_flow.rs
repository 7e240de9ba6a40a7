//! `shipgate mint` end to end: a pull request adding a plan, approval comments on the fake
//! GitHub, and the audit chain on a bare `origin` reached through git's receive-pack.

use std::process::{Command, Output};

use shipgate::keys::{GeneratedKey, generate};
use shipgate::policy::SignerRole;

use crate::fixture::{TestRepo, assert_exit, stderr, stdout};
use crate::github_support::{APP, APP_LOGIN, BOT, GitHubWorld, SLUG, statuses_set};

pub(crate) const PLAN: &str = "\
version: 1
name: Release 1.1.0
operations:
  - kind: tag
    name: v1.1.0
    target: main
  - kind: release
    tag: v1.1.0
    notes: first release
  - kind: pull_request
    head: feature
    base: main
    title: Merge the feature
";

/// A repository whose default branch holds a policy (two of alice, bob and erin approve, and
/// with [`MintWorld::with_teams`] members of team acme/release; alice may halt), whose commits GitHub links to erin by email, a `release-plan` branch adding a plan and checked out, a bare
/// `origin` that the fake GitHub serves, and a pull request for the branch.
pub struct MintWorld {
    pub repo: TestRepo,
    pub github: GitHubWorld,
    pub pr: u64,
    pub mint: GeneratedKey,
    pub audit: GeneratedKey,
    /// Whether the policy names a team, and so shipgate runs with [`APP`], a token that may
    /// read it (a workflow's `GITHUB_TOKEN` cannot).
    pub teams: bool,
}

impl MintWorld {
    pub fn new() -> Self {
        Self::with_pr_author("carol")
    }

    pub fn with_pr_author(author: &str) -> Self {
        Self::with(author, PLAN)
    }

    /// A world whose pull request, opened by `author`, adds `plan`.
    pub fn with(author: &str, plan: &str) -> Self {
        Self::with_history(author, plan, |repo| {
            repo.commit(
                "release-plan",
                &[(".shipgate/plans/release.yaml", plan)],
                "plan the 1.1.0 release",
            );
        })
    }

    /// A world whose pull request, opened by `author`, ends at `plan` on `release-plan`, whose
    /// commits `history` makes on the test repository.
    pub fn with_history(author: &str, plan: &str, history: impl FnOnce(&TestRepo)) -> Self {
        Self::build(author, plan, history, false)
    }

    /// The standard world whose policy's group also names team acme/release (bob, dave).
    pub fn with_teams() -> Self {
        Self::build(
            "carol",
            PLAN,
            |repo| {
                repo.commit(
                    "release-plan",
                    &[(".shipgate/plans/release.yaml", PLAN)],
                    "plan the 1.1.0 release",
                );
            },
            true,
        )
    }

    fn build(author: &str, plan: &str, history: impl FnOnce(&TestRepo), teams: bool) -> Self {
        let mint = generate("mint-1", SignerRole::Mint).expect("key");
        let audit = generate("audit-1", SignerRole::Audit).expect("key");
        let team_list = if teams { ", teams: [acme/release]" } else { "" };
        let policy = format!(
            "version: 1
groups:
  release-managers: {{ users: [alice, bob, erin]{team_list} }}
rules:
  - name: releases need two release managers
    match: {{ kinds: [tag, release, pull_request] }}
    approvals: {{ required: 2, from: [release-managers] }}
    receipt_ttl: 2h
halt_admins: [alice]
signers:
  - {{ kid: mint-1, role: mint, key: {} }}
  - {{ kid: audit-1, role: audit, key: {} }}
",
            mint.public_line, audit.public_line
        );
        let repo = TestRepo::standard();
        repo.commit(
            "main",
            &[(".shipgate/policies/policy.yaml", &policy)],
            "the policy",
        );
        history(&repo);
        repo.repo
            .set_head("refs/heads/release-plan")
            .expect("check out the plan branch");
        repo.write(".shipgate/policies/policy.yaml", &policy);
        repo.write(".shipgate/plans/release.yaml", plan);
        let github = GitHubWorld::new_as_origin(&repo);
        let pr = github
            .fake
            .open_pull(SLUG, author, "release-plan", "main", "Release 1.1.0");
        Self {
            repo,
            github,
            pr,
            mint,
            audit,
            teams,
        }
    }

    pub fn shipgate(&self, args: &[&str]) -> Output {
        self.shipgate_with(args, &[])
    }

    pub fn shipgate_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run shipgate")
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shipgate"));
        command
            .args(args)
            .current_dir(self.repo.path())
            .env_remove("GITHUB_EVENT_PATH")
            .env("GITHUB_REPOSITORY", SLUG)
            .env("GITHUB_TOKEN", if self.teams { APP } else { BOT })
            .env("GITHUB_API_URL", self.github.fake.base_url())
            .env("SHIPGATE_MINT_KEY", self.mint.private_openssh.as_str())
            .env("SHIPGATE_AUDIT_KEY", self.audit.private_openssh.as_str())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_ACTOR", crate::fixture::TEST_ACTOR);
        if self.teams {
            command.env("SHIPGATE_BOT_LOGIN", APP_LOGIN);
        }
        command.envs(env.iter().copied());
        command
    }

    pub fn mint(&self) -> Output {
        self.shipgate(&["mint", "--pr", &self.pr.to_string()])
    }

    pub fn plan_prefix(&self) -> String {
        let out = self.shipgate(&["plan", "id", ".shipgate/plans/release.yaml"]);
        assert_exit(&out, 0);
        stdout(&out).trim()["sha256:".len().."sha256:".len() + 12].to_owned()
    }

    pub fn approve(&self, login: &str) -> u64 {
        let body = format!("LGTM\n/shipgate approve {}\n", self.plan_prefix());
        self.github.fake.add_comment(SLUG, self.pr, login, &body)
    }

    /// The chain's entry types, oldest first.
    pub fn chain(&self) -> Vec<serde_json::Value> {
        let out = self.shipgate(&["audit", "log", "--format", "json"]);
        if !out.status.success() {
            return Vec::new();
        }
        let mut entries: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
            .map(|v| v["entry"].clone())
            .collect();
        entries.reverse();
        entries
    }

    pub fn kinds(&self) -> Vec<String> {
        self.chain()
            .iter()
            .map(|e| e["event"]["type"].as_str().expect("type").to_owned())
            .collect()
    }

    pub fn status_comment(&self) -> String {
        self.github
            .fake
            .comments(SLUG, self.pr)
            .into_iter()
            .find(|c| c.body.starts_with("<!-- shipgate:status -->"))
            .map(|c| c.body)
            .unwrap_or_default()
    }

    pub fn reaction(&self, comment: u64) -> Vec<String> {
        self.github
            .fake
            .reactions(comment)
            .into_iter()
            .map(|r| r.content)
            .collect()
    }
}

#[test]
fn two_approvals_mint_verified_receipts_on_the_governance_branch() {
    let world = MintWorld::new();
    let alice = world.approve("alice");
    let bob = world.approve("bob");

    let out = world.mint();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("== AUTHORIZED =="),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        world.kinds(),
        [
            "genesis",
            "approval_recorded",
            "approval_recorded",
            "run_opened",
            "receipt_minted",
            "receipt_minted",
            "receipt_minted"
        ]
    );
    let verify = world.shipgate(&["audit", "verify"]);
    assert_exit(&verify, 0);

    // Each receipt verifies against the policy's mint key, with shipgate.
    for entry in world.chain() {
        let Some(document) = entry["event"]["receipt"].as_str() else {
            continue;
        };
        let path = world.repo.path().join("receipt.json");
        std::fs::write(&path, document).expect("write receipt");
        let check = world.shipgate(&["receipt", "verify", "receipt.json"]);
        assert_exit(&check, 0);
        let receipt: serde_json::Value = serde_json::from_str(document).expect("json");
        assert_eq!(receipt["enforceable"], true);
        assert_eq!(receipt["approvals"].as_array().map(Vec::len), Some(2));
    }
    assert_eq!(world.reaction(alice), ["+1"]);
    assert_eq!(world.reaction(bob), ["+1"]);
    let status = world.status_comment();
    assert!(status.contains("## AUTHORIZED"), "{status}");
    // The required check goes green on the pull request's head, not the default branch's.
    let head = world.repo.branch_sha("release-plan");
    let set = statuses_set(&world.github);
    let (sha, check) = set.last().expect("mint set the shipgate status");
    assert_eq!(sha, &head);
    assert_eq!(check["context"], "shipgate");
    assert_eq!(check["state"], "success", "{check}");
    assert!(
        check["target_url"]
            .as_str()
            .is_some_and(|u| u.contains("#issuecomment-")),
        "it links to the status comment: {check}"
    );
    assert!(
        set.iter()
            .all(|(sha, _)| *sha != world.repo.branch_sha("main"))
    );
}

/// DESIGN 13.9: mint never needs the pull request on disk. From a clone of the default branch
/// alone (as the approve workflow checks out, and as a fork's head is never a branch there),
/// it fetches `refs/pull/N/head` and reads the plans as git objects.
#[test]
fn mint_fetches_the_pull_request_head_into_a_default_branch_clone_and_never_checks_it_out() {
    let plan = "version: 1\noperations:\n  - kind: tag\n    name: v1.1.0\n    target: main\n";
    let world = MintWorld::with("carol", plan);
    world.approve("alice");
    world.approve("bob");
    let clone = tempfile::tempdir().expect("clone dir");
    let cloned = crate::fixture::git(
        world.repo.path(),
        &[
            "clone",
            "--quiet",
            "--single-branch",
            "--branch",
            "main",
            // file://: a plain path would hard-link every object, the head's included.
            &format!("file://{}", world.github.bare.path().display()),
            clone.path().to_str().expect("utf-8"),
        ],
    );
    assert!(cloned.status.success(), "git clone failed");
    let pulled = git2::Repository::open(clone.path()).expect("clone");
    let head = world
        .github
        .peeled("refs/heads/release-plan")
        .expect("head");
    let head = git2::Oid::from_str(&head).expect("oid");
    assert!(
        pulled.find_commit(head).is_err(),
        "the clone has the head already"
    );

    let out = world
        .command(&["mint", "--pr", &world.pr.to_string()], &[])
        .current_dir(clone.path())
        .output()
        .expect("run shipgate");
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("== AUTHORIZED =="),
        "{}",
        stdout(&out)
    );
    let fetched = pulled
        .refname_to_id(&format!("refs/shipgate/pull/{}", world.pr))
        .expect("the pull request's head was fetched");
    assert_eq!(fetched, head);
    assert!(!clone.path().join(".shipgate/plans").exists());
    assert!(world.kinds().contains(&"run_opened".to_owned()));
}

#[test]
fn without_quorum_the_chain_is_untouched_and_the_status_says_awaiting() {
    let world = MintWorld::with_pr_author("bob");
    world.approve("alice");
    let own = world.approve("bob");
    let bot = world.approve("github-actions[bot]");

    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().is_empty(), "no chain was written");
    let status = world.status_comment();
    assert!(status.contains("## AWAITING APPROVAL"), "{status}");
    assert!(status.contains("1 of 2"), "the tally: {status}");
    assert!(
        status.contains("SELF\\_APPROVAL"),
        "bob opened the PR: {status}"
    );
    assert!(status.contains("BOT"), "{status}");
    assert!(status.contains("/shipgate approve"), "{status}");
    assert_eq!(world.reaction(own), ["-1"]);
    assert!(
        world.reaction(bot).is_empty(),
        "a bot's approval informs nobody: no reaction"
    );
    let set = statuses_set(&world.github);
    let (sha, check) = set.last().expect("mint set the shipgate status");
    assert_eq!(sha, &world.repo.branch_sha("release-plan"));
    assert_eq!(check["state"], "pending", "{check}");
    assert!(
        check["description"]
            .as_str()
            .is_some_and(|d| d.contains("/shipgate approve ")),
        "{check}"
    );
}

#[test]
fn an_edited_or_quoted_approval_does_not_count() {
    let world = MintWorld::new();
    world.approve("alice");
    let edited = world.approve("bob");
    world.github.fake.edit_comment(
        edited,
        &format!("/shipgate approve {}", world.plan_prefix()),
    );
    let quote = format!("> /shipgate approve {}\nbob said that", world.plan_prefix());
    world.github.fake.add_comment(SLUG, world.pr, "bob", &quote);

    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().is_empty());
    assert!(world.status_comment().contains("EDITED"));
    assert_eq!(world.reaction(edited), ["-1"]);
}

#[test]
fn minting_again_mints_nothing_and_says_so() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    assert_eq!(world.mint().status.code(), Some(0));
    let before = world.kinds().len();
    let again = world.mint();
    assert_exit(&again, 0);
    assert!(
        stdout(&again).contains("already minted"),
        "{}",
        stdout(&again)
    );
    assert_eq!(world.kinds().len(), before);
}

#[test]
fn two_mints_racing_open_exactly_one_run() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let pr = world.pr.to_string();
    let mut children: Vec<_> = (0..2)
        .map(|_| {
            world
                .command(&["mint", "--pr", &pr], &[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children.drain(..) {
        let out = child.wait_with_output().expect("wait");
        assert_exit(&out, 0);
    }
    let kinds = world.kinds();
    assert_eq!(kinds.iter().filter(|k| *k == "run_opened").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "receipt_minted").count(), 3);
    let verify = world.shipgate(&["audit", "verify"]);
    assert_exit(&verify, 0);
}

#[test]
fn while_halted_nothing_is_minted_and_the_refusal_is_recorded() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let halt = world.shipgate(&["halt", "--reason", "bad build", "--by", "alice"]);
    assert_exit(&halt, 0);

    let out = world.mint();
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("== HALTED =="), "{}", stdout(&out));
    let kinds = world.kinds();
    assert_eq!(kinds, ["genesis", "halted", "mint_refused"]);
    assert!(world.status_comment().contains("## HALTED"));
    let set = statuses_set(&world.github);
    let (_, check) = set.last().expect("mint set the shipgate status");
    assert_eq!(check["state"], "failure", "{check}");
    assert!(
        check["description"].to_string().contains("HALTED"),
        "{check}"
    );
    assert!(
        !check["description"].to_string().contains("bad build"),
        "the halt's free text stays out of the one-line description: {check}"
    );

    let asked = world
        .github
        .fake
        .add_comment(SLUG, world.pr, "alice", "/shipgate resume\n");
    let resume = world.shipgate(&["resume", "--comment", &asked.to_string()]);
    assert_exit(&resume, 0);
    assert_eq!(world.mint().status.code(), Some(0));
    assert!(world.kinds().contains(&"run_opened".to_owned()));
}

#[test]
fn a_team_member_counts_as_an_approver_and_a_stranger_does_not() {
    let world = MintWorld::with_teams();
    world.approve("alice");
    let stranger = world.approve("carol");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().is_empty(), "carol is in no group");
    assert!(
        world.reaction(stranger).is_empty(),
        "a stranger's approval costs no reaction"
    );

    // dave is only a member of acme/release, which the group names.
    let dave = world.approve("dave");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().contains(&"run_opened".to_owned()));
    assert_eq!(world.reaction(dave), ["+1"]);
}

/// With the workflow's `GITHUB_TOKEN`, which cannot read teams, a team member's approval is
/// never silently left uncounted: mint stops with `TEAM_MEMBERSHIP_UNREADABLE` (issue 16).
#[test]
fn a_team_the_token_cannot_read_stops_the_mint_instead_of_leaving_approvals_uncounted() {
    let world = MintWorld::with_teams();
    world.approve("alice");
    world.approve("dave");
    let out = world.shipgate_with(
        &["mint", "--pr", &world.pr.to_string()],
        &[("GITHUB_TOKEN", BOT), ("SHIPGATE_BOT_LOGIN", "")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("TEAM_MEMBERSHIP_UNREADABLE"),
        "{}",
        stderr(&out)
    );
    assert!(!world.kinds().contains(&"run_opened".to_owned()));
    // With a token that may read the team, dave's approval counts.
    assert_exit(&world.mint(), 0);
    assert!(world.kinds().contains(&"run_opened".to_owned()));
}

#[test]
fn comment_events_that_are_not_for_shipgate_are_ignored_quickly() {
    let world = MintWorld::new();
    let examples = crate::event::examples();
    for (file, _why) in [
        ("issue_comment.edited.7.json", "edited"),
        ("issue_comment.deleted.5.json", "deleted"),
    ] {
        let path = examples.join(file);
        let out = world.shipgate_with(
            &["mint"],
            &[("GITHUB_EVENT_PATH", path.to_str().expect("utf-8"))],
        );
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with("ignored"),
            "{file}: {}",
            stdout(&out)
        );
    }
    assert_eq!(world.github.fake.request_count(), 0, "no GitHub request");
    assert!(world.kinds().is_empty());
}

#[test]
fn a_mint_key_the_policy_does_not_trust_is_refused() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let stranger = generate("mint-1", SignerRole::Mint).expect("key");
    let out = world.shipgate_with(
        &["mint", "--pr", &world.pr.to_string()],
        &[("SHIPGATE_MINT_KEY", stranger.private_openssh.as_str())],
    );
    // The kid matches, the key does not: the receipts would not verify, so nothing lands.
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!world.kinds().contains(&"run_opened".to_owned()));
}

#[test]
fn the_author_of_the_plan_files_last_commit_cannot_approve_it() {
    let world = MintWorld::new();
    world.approve("alice");
    let own = world.approve("erin");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().is_empty(), "erin wrote the plan's commit");
    assert!(world.status_comment().contains("SELF\\_APPROVAL"));
    assert_eq!(world.reaction(own), ["-1"]);
}

#[test]
fn an_approval_of_an_older_plan_id_a_revoked_one_and_a_repeated_one_count_for_nothing() {
    let world = MintWorld::with_teams();
    let prefix = world.plan_prefix();
    let stale =
        world
            .github
            .fake
            .add_comment(SLUG, world.pr, "bob", "/shipgate approve 000000000000");
    world.approve("alice");
    world.approve("alice");
    world.approve("dave");
    world.github.fake.add_comment(
        SLUG,
        world.pr,
        "dave",
        &format!("/shipgate revoke {prefix}"),
    );
    let fenced = format!("```\n/shipgate approve {prefix}\n```");
    world
        .github
        .fake
        .add_comment(SLUG, world.pr, "bob", &fenced);

    let out = world.mint();
    assert_exit(&out, 0);
    assert_eq!(
        world.kinds(),
        ["genesis", "approval_revoked"],
        "only alice counts, once; dave's revoke is recorded"
    );
    let status = world.status_comment();
    assert!(status.contains("1 of 2"), "{status}");
    assert!(status.contains("STALE\\_PLAN\\_ID"), "{status}");
    assert!(status.contains("REVOKED"), "{status}");
    assert_eq!(world.reaction(stale), ["-1"]);
}

#[test]
fn approvals_are_read_across_pages_of_150_comments() {
    let world = MintWorld::new();
    world.approve("alice");
    for i in 0..148 {
        world
            .github
            .fake
            .add_comment(SLUG, world.pr, "carol", &format!("chatter {i}"));
    }
    world.approve("bob");
    assert_eq!(world.github.fake.comments(SLUG, world.pr).len(), 150);
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(world.kinds().contains(&"run_opened".to_owned()));
}

/// An `issue_comment` event for a new comment on the world's pull request, and its id.
pub fn comment_event(world: &MintWorld, login: &str, body: &str) -> (tempfile::NamedTempFile, u64) {
    let (event, id) = comment_payload(world, login, "User", body);
    let file = tempfile::NamedTempFile::new().expect("event file");
    std::fs::write(file.path(), event.to_string()).expect("write event");
    (file, id)
}

/// Posts `body` on the world's pull request as `login` (a `User` or a `Bot`) and returns the
/// `issue_comment` event GitHub sends for it, with the comment's id.
pub fn comment_payload(
    world: &MintWorld,
    login: &str,
    kind: &str,
    body: &str,
) -> (serde_json::Value, u64) {
    let id = world.github.fake.add_comment(SLUG, world.pr, login, body);
    let event = serde_json::json!({
        "action": "created",
        "issue": {"number": world.pr, "pull_request": {"url": format!("https://api.github.com/repos/{SLUG}/pulls/{}", world.pr)}},
        "comment": {"id": id, "body": body, "user": {"login": login, "type": kind}},
        "repository": {"full_name": SLUG, "default_branch": "main"},
        "sender": {"login": login},
    });
    (event, id)
}

pub fn mint_from_event(world: &MintWorld, event: &tempfile::NamedTempFile) -> Output {
    world.shipgate_with(
        &["mint"],
        &[("GITHUB_EVENT_PATH", event.path().to_str().expect("utf-8"))],
    )
}

#[test]
fn a_halt_admin_halts_and_resumes_by_comment_and_others_are_refused() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");

    let (refused, refused_id) = comment_event(&world, "bob", "/shipgate halt not my call");
    let out = mint_from_event(&world, &refused);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("not a halt admin"),
        "{}",
        stdout(&out)
    );
    let kinds = world.kinds();
    assert!(!kinds.contains(&"halted".to_owned()), "{kinds:?}");
    assert!(
        kinds.contains(&"run_opened".to_owned()),
        "the mint itself went on"
    );
    assert_eq!(world.reaction(refused_id), ["eyes", "-1"]);
    assert!(world.status_comment().contains("not a halt admin"));

    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let (halt, halt_id) = comment_event(&world, "alice", "stop!\n/shipgate halt broken artefacts");
    let out = mint_from_event(&world, &halt);
    assert_exit(&out, 1);
    assert_eq!(world.kinds(), ["genesis", "halted", "mint_refused"]);
    let status = world.status_comment();
    assert!(status.contains("## HALTED"), "{status}");
    assert_eq!(world.reaction(halt_id), ["eyes", "+1"]);

    let (resume, _) = comment_event(&world, "alice", "/shipgate resume");
    let out = mint_from_event(&world, &resume);
    assert_exit(&out, 0);
    let kinds = world.kinds();
    assert_eq!(
        &kinds[..4],
        ["genesis", "halted", "mint_refused", "resumed"]
    );
    assert!(kinds.contains(&"run_opened".to_owned()));
}

#[test]
fn a_minted_receipt_is_shown_verified_and_exported_by_id_and_stock_ssh_keygen_accepts_it() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    assert_eq!(world.mint().status.code(), Some(0));
    let receipt_id = world
        .chain()
        .iter()
        .find_map(|e| e["event"]["receipt_id"].as_str().map(str::to_owned))
        .expect("a minted receipt");

    let show = world.shipgate(&["receipt", "show", &receipt_id]);
    assert_exit(&show, 0);
    assert!(stdout(&show).contains(&receipt_id), "{}", stdout(&show));
    let verify = world.shipgate(&["receipt", "verify", &receipt_id]);
    assert_exit(&verify, 0);
    assert!(
        stdout(&verify).starts_with("genuine"),
        "{}",
        stdout(&verify)
    );

    let export = world.shipgate(&[
        "receipt",
        "export-payload",
        &receipt_id,
        "--out",
        "payload.json",
        "--signature-out",
        "receipt.sig",
    ]);
    assert_exit(&export, 0);
    let dir = world.repo.path();
    std::fs::write(
        dir.join("allowed_signers"),
        format!(
            "mint-1 namespaces=\"shipgate-receipt\" {}\n",
            world.mint.public_line
        ),
    )
    .expect("allowed signers");
    let payload = std::fs::read(dir.join("payload.json")).expect("payload");
    assert!(
        crate::receipt::ssh_keygen_verify(dir, &payload),
        "stock ssh-keygen rejected the receipt"
    );

    let missing = world.shipgate(&["receipt", "show", "rcp_doesnotexist"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("holds no receipt"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn mint_leaves_its_outputs_and_summary_for_the_workflow() {
    let world = MintWorld::new();
    world.approve("alice");
    world.approve("bob");
    let outputs = world.repo.path().join("outputs.txt");
    let summary = world.repo.path().join("summary.md");
    let out = world.shipgate_with(
        &["mint", "--pr", &world.pr.to_string()],
        &[
            ("GITHUB_OUTPUT", outputs.to_str().expect("utf-8")),
            ("GITHUB_STEP_SUMMARY", summary.to_str().expect("utf-8")),
        ],
    );
    assert_exit(&out, 0);
    let outputs = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(outputs.contains("status=authorized\n"), "{outputs}");
    assert!(outputs.contains("run-id=run_"), "{outputs}");
    assert!(
        outputs.contains(&format!("plan-id=sha256:{}", world.plan_prefix())),
        "{outputs}"
    );
    let summary = std::fs::read_to_string(&summary).expect("summary");
    assert!(summary.starts_with("## AUTHORIZED"), "{summary}");
}

#[test]
fn two_plan_files_with_one_plan_id_open_one_run() {
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        repo.commit(
            "release-plan",
            &[
                (".shipgate/plans/release.yaml", PLAN),
                (".shipgate/plans/release-copy.yaml", PLAN),
            ],
            "plan the 1.1.0 release twice",
        );
    });
    world.repo.write(".shipgate/plans/release-copy.yaml", PLAN);
    world.approve("alice");
    world.approve("bob");
    let out = world.mint();
    assert_exit(&out, 0);
    let runs = world.kinds().iter().filter(|k| *k == "run_opened").count();
    assert_eq!(runs, 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("is the same plan as"),
        "{}",
        stdout(&out)
    );
}

/// A mint on a pull request without plans says what the dry-run says of it: success, on its
/// head, so a `/shipgate` comment never leaves the required check pending.
#[test]
fn a_mint_on_a_pull_request_without_plans_sets_the_shipgate_check_to_success() {
    let world = MintWorld::with_history("carol", PLAN, |repo| {
        repo.commit("release-plan", &[("notes.txt", "no plan\n")], "no plan");
    });
    world.approve("alice");
    let out = world.mint();
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("nothing to mint"), "{}", stdout(&out));
    let set = statuses_set(&world.github);
    let (sha, check) = set.last().expect("mint set the shipgate status");
    assert_eq!(sha, &world.repo.branch_sha("release-plan"));
    assert_eq!(check["state"], "success", "{check}");
}

#[test]
fn an_event_payload_that_is_no_issue_comment_is_refused_with_its_reason_code() {
    let world = MintWorld::new();
    let garbage = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(garbage.path(), br#"{"action": "created", "issue": 7}"#).expect("write");
    let out = mint_from_event(&world, &garbage);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("EVENT_MALFORMED: not an issue_comment event payload"),
        "{}",
        stderr(&out)
    );
    assert_eq!(world.github.fake.request_count(), 0, "no GitHub request");
    assert!(world.kinds().is_empty(), "nothing appended");
}
