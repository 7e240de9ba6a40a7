//! The GitHub side of the integration tests: a fake GitHub serving a bare clone of a test
//! repository, clients for it, and gate passes minted the real way (receipt, then the gate).

use std::path::Path;
use std::time::Duration;

use fake_github::{FakeGitHub, Seed};
use octocrab::secrecy::SecretString;
use shipgate::audit::entry::{Event, RunOperation};
use shipgate::audit::trust::ChainTrust;
use shipgate::gate::{
    Authorized, Cleared, GateContext, OperationUnderGate, check_operation, check_preconditions,
};
use shipgate::github::types::{NewPullRequest, NewRelease};
use shipgate::github::{
    GitHubClient, GitHubConfig, GitHubEffects, GitHubError, GitHubShipper, GitRef, PullRequest,
    Release, RetryPolicy, Shipped, TagObject, Written,
};
use shipgate::keys::SigningKey;
use shipgate::model::{CommitSha, OpKey, PlanId, ReceiptId, RepoSlug, RunId};
use shipgate::plan::{ResolvedOperation, ResolvedPlan, TagTarget};
use shipgate::policy::SignerRole;
use shipgate::receipt::ReceiptClaims;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fixture::{TestRepo, git};

/// The repository every GitHub test ships to.
pub const SLUG: &str = "acme/widget";

/// A token of alice (admin), bob (write), a read-only one, and a bot's.
pub const ALICE: &str = "t-alice";
pub const READ_ONLY: &str = "t-fork";
/// A workflow's `GITHUB_TOKEN`: an installation token of `github-actions[bot]` with the
/// default permissions (no organisation permission: it cannot read teams).
pub const BOT: &str = "t-bot";
/// An installation token of another GitHub App, `shipgate-app[bot]`, that may also read the
/// organisation's members: what a policy naming teams needs (the action's `token` input).
pub const APP: &str = "t-app";
/// The login of [`APP`]'s app, for `SHIPGATE_BOT_LOGIN`.
pub const APP_LOGIN: &str = "shipgate-app[bot]";

/// A fake GitHub whose `acme/widget` is a bare clone of `repo`.
///
/// Strict, as every fake is: dropping the world fails the test if a request hit a route the
/// fake does not implement or an injected fault never fired (`inject_optional` for a fault
/// that may legitimately not fire; `fake.take_problems()` to inspect them).
pub struct GitHubWorld {
    pub fake: FakeGitHub,
    pub bare: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl GitHubWorld {
    pub fn new(repo: &TestRepo) -> Self {
        let bare = tempfile::tempdir().expect("temp dir");
        let out = git(
            repo.path(),
            &[
                "clone",
                "--quiet",
                "--bare",
                &repo.path().display().to_string(),
                &bare.path().display().to_string(),
            ],
        );
        assert!(out.status.success(), "git clone --bare failed");
        let fake = FakeGitHub::start(seed(bare.path())).expect("start the fake GitHub");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Self {
            fake,
            bare,
            runtime,
        }
    }

    /// [`GitHubWorld::new`], its bare repository added to `repo` as `origin`.
    pub fn new_as_origin(repo: &TestRepo) -> Self {
        let world = Self::new(repo);
        git(
            repo.path(),
            &[
                "remote",
                "add",
                "origin",
                world.bare.path().to_str().expect("utf-8"),
            ],
        );
        world
    }

    /// Runs a future of the port on this world's runtime (the one its clients were built on),
    /// single-threaded as the binary runs it.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A client with fast, bounded retries.
    pub fn client(&self, token: &str) -> GitHubClient {
        self.client_with(token, fast_retries())
    }

    pub fn client_with(&self, token: &str, retry: RetryPolicy) -> GitHubClient {
        let _runtime = self.runtime.enter();
        GitHubClient::new(GitHubConfig {
            api_url: self.fake.base_url(),
            token: SecretString::from(token.to_owned()),
            repo: RepoSlug::parse(SLUG).expect("slug"),
            retry,
        })
        .expect("client")
    }

    /// The sha a ref of the bare repository points at, peeled to its commit.
    pub fn peeled(&self, name: &str) -> Option<String> {
        let repo = git2::Repository::open_bare(self.bare.path()).expect("bare");
        let reference = repo.find_reference(name).ok()?;
        Some(reference.peel_to_commit().ok()?.id().to_string())
    }
}

/// Retries that keep tests fast: 1 ms backoff, a 10 s budget, 5 s per request.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        read_attempts: 4,
        base_backoff: Duration::from_millis(1),
        max_total_wait: Duration::from_secs(10),
        request_timeout: Duration::from_secs(5),
    }
}

fn seed(git_dir: &Path) -> Seed {
    Seed::from_yaml_str(&format!(
        r#"
users:
  - {{ login: alice }}
  - {{ login: bob }}
  - {{ login: carol }}
  - {{ login: dave }}
  - {{ login: erin, email: fixture@example.com }}
  - {{ login: "github-actions[bot]", type: Bot }}
  - {{ login: "{APP_LOGIN}", type: Bot }}
tokens:
  - {{ token: {ALICE}, login: alice }}
  - {{ token: t-bob, login: bob }}
  - {{ token: t-carol, login: carol }}
  - {{ token: {READ_ONLY}, login: "github-actions[bot]", read_only: true }}
  - {{ token: {BOT}, login: "github-actions[bot]" }}
  - {{ token: {APP}, login: "{APP_LOGIN}", permissions: {{ contents: write, issues: write, pull_requests: write, statuses: write, members: read }} }}
teams:
  - {{ org: acme, slug: release, members: [bob, dave] }}
repos:
  - full_name: {SLUG}
    git_dir: {}
    default_branch: main
    collaborators: {{ alice: admin, bob: write, carol: read, "github-actions[bot]": write, "{APP_LOGIN}": write }}
    # The flows ship pull requests with GITHUB_TOKEN, which GitHub allows only with this on.
    workflow_permissions: {{ default_workflow_permissions: write, can_approve_pull_request_reviews: true }}
"#,
        git_dir.display()
    ))
    .expect("seed")
}

/// The gate's preconditions cleared as execution clears them: a real chain in which
/// `run_test` (executing `key`) holds the lock, verified.
fn cleared(plan_id: &PlanId, key: &OpKey) -> Cleared {
    let chain = crate::audit_support::LocalChain::build(vec![
        Event::RunOpened {
            pr: None,
            run_id: RunId::parse("run_test").expect("run id"),
            plan_id: plan_id.to_string(),
            policy_hash: "sha256:policy".into(),
            operations: vec![RunOperation {
                op_index: 0,
                op_key: key.clone(),
            }],
        },
        Event::LockAcquired {
            run_id: RunId::parse("run_test").expect("run id"),
            holder: Some("exe_test".into()),
            expires_at: "2099-01-01T00:00:00Z".into(),
        },
    ]);
    let trust = ChainTrust::new(vec![chain.signer.clone()], None);
    let head = *chain.commits.last().expect("a head");
    trust
        .verify(&chain.repo, Some(head))
        .expect("the chain verifies");
    let verified = trust.verified_state().expect("a verified state");
    check_preconditions(&verified, "run_test", "exe_test").expect("the preconditions hold")
}

/// A gate pass for one operation, obtained as execution will: the preconditions cleared on a
/// verified chain, a receipt minted for it by a mint key, checked by the gate against a plan whose
/// only operation is `op`. The pass carries `op`.
pub fn authorize(op: ResolvedOperation) -> Authorized {
    let now = OffsetDateTime::now_utc();
    let plan_id = PlanId::from_digest(format!("sha256:{}", "ab".repeat(32))).expect("plan id");
    let (kind, key) = (op.kind(), op.key());
    let repo = RepoSlug::parse(SLUG).expect("slug");
    let plan = ResolvedPlan {
        file: ".shipgate/plans/release.yaml".to_owned(),
        name: None,
        repo: repo.clone(),
        operations: vec![op],
        checked: Vec::new(),
        id: plan_id.clone(),
    };
    let mint = SigningKey {
        kid: shipgate::model::Kid::parse("mint-test").expect("key id"),
        key: ssh_key::PrivateKey::random(
            &mut ssh_key::rand_core::OsRng,
            ssh_key::Algorithm::Ed25519,
        )
        .expect("key"),
    };
    let claims = ReceiptClaims {
        version: 1,
        receipt_id: ReceiptId::parse("rcp_test").expect("receipt id"),
        repo: SLUG.to_owned(),
        plan_id: plan_id.as_str().to_owned(),
        run_id: RunId::parse("run_test").expect("run id"),
        op_index: 0,
        op_kind: kind.as_str().to_owned(),
        op_key: key.clone(),
        policy_hash: "sha256:policy".to_owned(),
        approvals: Vec::new(),
        enforceable: true,
        findings: Vec::new(),
        issued_at: now.format(&Rfc3339).expect("time"),
        expires_at: (now + time::Duration::hours(1))
            .format(&Rfc3339)
            .expect("time"),
        nonce: "n".to_owned(),
    };
    let receipt = claims.sign_sshsig(&mint.kid, &mint.key).expect("sign");
    let policy = shipgate::policy::load_policy(&[shipgate::policy::PolicyFile {
        name: "policy.yaml".into(),
        bytes: b"version: 1\n".to_vec(),
    }])
    .expect("an empty policy");
    check_operation(
        &cleared(&plan_id, &key),
        &OperationUnderGate {
            run_id: "run_test",
            repo: &repo,
            plan_id: &plan_id,
            op_index: 0,
            op_kind: kind,
            op_key: &key,
        },
        &GateContext {
            receipt: Some(&receipt),
            signers: &[mint.as_signer(SignerRole::Mint)],
            receipt_ttl: time::Duration::hours(1),
            consumed: false,
            now,
            current_policy_hash: "sha256:policy",
            current_plan: Some(&plan),
            policy: &policy,
        },
    )
    .expect("the gate passes a fresh receipt")
}

/// The effect half over a client, each call with a fresh gate pass for exactly its operation.
pub struct Ship<'a>(pub &'a GitHubClient);

impl Ship<'_> {
    async fn ship(&self, op: ResolvedOperation) -> Result<Written<Shipped>, GitHubError> {
        GitHubShipper::new(self.0).ship(authorize(op)).await
    }

    /// A lightweight tag `name` at `target`.
    pub async fn tag(
        &self,
        name: &str,
        target: &CommitSha,
    ) -> Result<Written<GitRef>, GitHubError> {
        let written = self.ship(tag_op(name, target, None)).await?;
        Ok(written.map(|shipped| match shipped {
            Shipped::Tag(reference) => reference,
            other => panic!("a lightweight tag shipped as {other:?}"),
        }))
    }

    /// An annotated tag `name` at `target` with `message`.
    pub async fn annotated_tag(
        &self,
        name: &str,
        message: &str,
        target: &CommitSha,
    ) -> Result<Written<TagObject>, GitHubError> {
        let written = self.ship(tag_op(name, target, Some(message))).await?;
        Ok(written.map(|shipped| match shipped {
            Shipped::AnnotatedTag(tag) => tag,
            other => panic!("an annotated tag shipped as {other:?}"),
        }))
    }

    /// A release.
    pub async fn release(&self, new: &NewRelease<'_>) -> Result<Written<Release>, GitHubError> {
        let op = ResolvedOperation::Release {
            tag: new.tag_name.to_owned(),
            target: TagTarget::Commit(CommitSha::parse(&"0".repeat(40)).expect("sha")),
            title: new.name.to_owned(),
            notes_sha256: String::new(),
            draft: new.draft,
            prerelease: new.prerelease,
            publish: shipgate::plan::Publish::OnCreate,
            notes_source: "inline".to_owned(),
            notes: new.body.to_owned(),
        };
        let written = self.ship(op).await?;
        Ok(written.map(|shipped| match shipped {
            Shipped::Release(release) => release,
            other => panic!("a release shipped as {other:?}"),
        }))
    }

    /// A pull request.
    pub async fn pull(
        &self,
        new: &NewPullRequest<'_>,
    ) -> Result<Written<PullRequest>, GitHubError> {
        let zero = CommitSha::parse(&"0".repeat(40)).expect("sha");
        let op = ResolvedOperation::PullRequest {
            head: new.head.to_owned(),
            head_sha: zero.clone(),
            base: new.base.to_owned(),
            base_sha: zero,
            title: new.title.to_owned(),
            body: Some(new.body.to_owned()),
            draft: new.draft,
        };
        let written = self.ship(op).await?;
        Ok(written.map(|shipped| match shipped {
            Shipped::PullRequest(pull) => pull,
            other => panic!("a pull request shipped as {other:?}"),
        }))
    }
}

/// A tag operation as resolution pins it.
pub fn tag_op(name: &str, target: &CommitSha, message: Option<&str>) -> ResolvedOperation {
    ResolvedOperation::Tag {
        name: name.to_owned(),
        target: TagTarget::Commit(target.clone()),
        message: message.map(str::to_owned),
        target_as_written: target.as_str().to_owned(),
    }
}

/// The commit statuses shipgate set that the fake stored (201), oldest first: each one's sha
/// and its request body (`state`, `context`, `description`, `target_url`).
pub fn statuses_set(world: &GitHubWorld) -> Vec<(String, serde_json::Value)> {
    let prefix = format!("/repos/{SLUG}/statuses/");
    world
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.status == 201)
        .filter_map(|r| {
            let sha = r.path.strip_prefix(&prefix)?.to_owned();
            let body = serde_json::from_str(&r.body).expect("a JSON status");
            Some((sha, body))
        })
        .collect()
}
