//! What `shipgate init` writes into a repository: the policy from a preset, the plans
//! directory's README and the three workflows, plus the key-setup steps it prints.
//!
//! Pure: options in, file contents and text out. Every value that lands in a file (logins,
//! teams, the action reference, the default branch) is checked here first, so nothing hostile
//! can reach a YAML file or a workflow; the caller only does the file system.
//!
//! The file passes 600 lines only by its unit tests; the code is about 520 lines.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::model::{Login, TeamSlug};
use crate::policy::{self, PolicyFile};
use crate::refname::check_ref_name;

/// The policy file init writes.
pub const POLICY_FILE: &str = ".shipgate/policies/policy.yaml";
/// The README of the plans directory.
pub const PLANS_README: &str = ".shipgate/plans/README.md";
/// The three workflows, as written into the repository, with their templates.
pub const WORKFLOWS: [(&str, &str); 3] = [
    (
        ".github/workflows/shipgate-plan.yml",
        include_str!("../templates/workflows/shipgate-plan.yml"),
    ),
    (
        ".github/workflows/shipgate-approve.yml",
        include_str!("../templates/workflows/shipgate-approve.yml"),
    ),
    (
        ".github/workflows/shipgate-ship.yml",
        include_str!("../templates/workflows/shipgate-ship.yml"),
    ),
];
/// The governance branch the workflows append to (the action's default).
pub use crate::audit::append::DEFAULT_BRANCH as GOVERNANCE_BRANCH;
/// The GitHub environment holding the mint and audit keys for `shipgate approve`.
pub const MINT_ENVIRONMENT: &str = "shipgate-mint";
/// The GitHub environment holding the audit key for `shipgate ship`.
pub const SHIP_ENVIRONMENT: &str = "shipgate-ship";

const ACTION_PLACEHOLDER: &str = "__SHIPGATE_ACTION__";
const BRANCH_PLACEHOLDER: &str = "__DEFAULT_BRANCH__";
const TOKEN_PLACEHOLDER: &str = "__TOKEN__";
const APP_TOKEN_PLACEHOLDER: &str = "      # __APP_TOKEN_STEP__\n";
/// The step that makes a GitHub App's installation token, pinned by commit like every action.
const APP_TOKEN_STEP: &str =
    "      # A GitHub App's installation token (repository variable SHIPGATE_APP_CLIENT_ID, secret
      # SHIPGATE_APP_PRIVATE_KEY): tags and releases made with it start other workflows, which
      # GITHUB_TOKEN's never do, and it opens pull requests without the repository setting
      # \"Allow GitHub Actions to create and approve pull requests\".
      - id: app-token
        uses: actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3 # v3.1.1
        with:
          client-id: ${{ vars.SHIPGATE_APP_CLIENT_ID }}
          private-key: ${{ secrets.SHIPGATE_APP_PRIVATE_KEY }}
          permission-contents: write
          permission-issues: write
          permission-pull-requests: write
";
/// What the approve job's app token needs besides: starting the ship workflow, and setting
/// the `shipgate` commit status on the pull request's head.
const APP_TOKEN_DISPATCH: &str =
    "          permission-actions: write\n          permission-statuses: write\n";

/// Which token the approve and ship workflows act with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The workflow's own `GITHUB_TOKEN`.
    WorkflowToken,
    /// A GitHub App's installation token, made by actions/create-github-app-token.
    GitHubApp,
}

impl TokenSource {
    fn expression(self) -> &'static str {
        match self {
            Self::WorkflowToken => "${{ github.token }}",
            Self::GitHubApp => "${{ steps.app-token.outputs.token }}",
        }
    }

    /// The step for a workflow whose job asks for `actions: write` (`dispatches`) or not: the
    /// app token gets the job's write permissions and nothing else (zizmor's github-app audit).
    fn step(self, dispatches: bool) -> String {
        match self {
            Self::WorkflowToken => String::new(),
            Self::GitHubApp if dispatches => format!("{APP_TOKEN_STEP}{APP_TOKEN_DISPATCH}"),
            Self::GitHubApp => APP_TOKEN_STEP.to_owned(),
        }
    }
}

/// A preset init can start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Releases need two release managers, pull requests one; authors never count.
    TwoPersonRelease,
    /// One maintainer approves everything, their own plans included.
    SoloMaintainer,
}

impl Preset {
    /// The name used in `extends:`.
    pub fn extends_name(self) -> &'static str {
        match self {
            Self::TwoPersonRelease => "shipgate:two-person-release",
            Self::SoloMaintainer => "shipgate:solo-maintainer",
        }
    }

    /// The group the preset's rules name, which the policy must define.
    pub fn group(self) -> &'static str {
        match self {
            Self::TwoPersonRelease => "release-managers",
            Self::SoloMaintainer => "maintainers",
        }
    }
}

/// Why init refuses its options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaffoldError {
    /// A login that is not a GitHub user login (or is a bot, which can never approve).
    #[error("--{flag} `{value}` is not a GitHub user login (1-39 letters, digits or hyphens)")]
    BadLogin {
        /// The flag.
        flag: &'static str,
        /// The rejected text (control characters removed).
        value: String,
    },
    /// A team that is not `org/team-slug`.
    #[error("--team `{0}` is not a team (org/team-slug)")]
    BadTeam(String),
    /// The action reference is not a plain `owner/repo@ref` or `./path`.
    #[error(
        "--action `{0}` is not an action reference: use owner/repo@ref, owner/repo/path@ref or ./path (letters, digits, '-', '_', '.', '/')"
    )]
    BadAction(String),
    /// The default branch name is not a plain branch name.
    #[error(
        "--default-branch `{0}` is not a branch name init can write into a workflow (letters, digits, '-', '_', '.', '/', following git's ref rules)"
    )]
    BadBranch(String),
    /// Fewer approvers than the preset's rules require.
    #[error("{0}")]
    QuorumUnreachable(String),
    /// The generated policy does not load (a bug: every value was checked).
    #[error("the generated policy does not validate:\n{0}")]
    InvalidPolicy(String),
}

/// A checked action reference (`owner/repo@ref`, `owner/repo/path@ref` or `./path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRef(String);

impl ActionRef {
    /// Accepts only characters that are plain in YAML and in a `uses:` value, so the reference
    /// cannot end the scalar, open a comment, or inject a line into a workflow.
    pub fn parse(text: &str) -> Result<Self, ScaffoldError> {
        let bad = || ScaffoldError::BadAction(printable(text));
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
                && !s
                    .split('/')
                    .any(|segment| segment.is_empty() || segment == "..")
        };
        if let Some(path) = text.strip_prefix("./") {
            return if plain(path) || path.is_empty() {
                Ok(Self(text.to_owned()))
            } else {
                Err(bad())
            };
        }
        let (name, reference) = text.split_once('@').ok_or_else(bad)?;
        let segments = name.split('/').count();
        let name_ok = plain(name) && segments >= 2 && !name.starts_with(['.', '-']);
        let ref_ok = plain(reference) && !reference.starts_with(['-', '.']);
        if name_ok && ref_ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(bad())
        }
    }

    /// The default: this version's release of the shipgate action.
    pub fn default_for_version(version: &str) -> Self {
        Self(format!("shipgate/shipgate@v{version}"))
    }

    /// The reference as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `uses:` value: a commit pin gets a `# v<version>` comment naming the release it is
    /// meant to be (what Dependabot and zizmor read beside a pin), `version` being this
    /// shipgate's; a tag or a path stands as it is.
    pub fn uses(&self, version: &str) -> String {
        let pinned = self.0.rsplit_once('@').is_some_and(|(_, reference)| {
            reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if pinned {
            format!("{} # v{version}", self.0)
        } else {
            self.0.clone()
        }
    }
}

/// A checked default branch name, safe inside a YAML flow sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchName(String);

impl BranchName {
    /// A branch name by git's rules, restricted to characters that need no YAML quoting.
    pub fn parse(text: &str) -> Result<Self, ScaffoldError> {
        let plain = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
        if plain && check_ref_name(text).is_ok() {
            Ok(Self(text.to_owned()))
        } else {
            Err(ScaffoldError::BadBranch(printable(text)))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a rejected value, without control characters, for error messages.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Checks logins given with `flag`; bots are refused (a bot's approval never counts).
pub fn parse_logins(flag: &'static str, values: &[String]) -> Result<Vec<Login>, ScaffoldError> {
    let mut logins: Vec<Login> = Vec::new();
    for value in values {
        let login = Login::parse(value)
            .ok()
            .filter(|l| !l.as_str().ends_with("[bot]"))
            .ok_or_else(|| ScaffoldError::BadLogin {
                flag,
                value: printable(value),
            })?;
        if !logins.contains(&login) {
            logins.push(login);
        }
    }
    Ok(logins)
}

/// Checks teams (`org/team-slug`).
pub fn parse_teams(values: &[String]) -> Result<Vec<TeamSlug>, ScaffoldError> {
    let mut teams: Vec<TeamSlug> = Vec::new();
    for value in values {
        let team = TeamSlug::parse(value).map_err(|_| ScaffoldError::BadTeam(printable(value)))?;
        if !teams.contains(&team) {
            teams.push(team);
        }
    }
    Ok(teams)
}

/// Everything init needs to know, checked.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// The preset extended.
    pub preset: Preset,
    /// Members of the preset's group.
    pub approvers: Vec<Login>,
    /// Teams of the preset's group (membership read from GitHub).
    pub teams: Vec<TeamSlug>,
    /// Who may halt and resume.
    pub halt_admins: Vec<Login>,
    /// The `uses:` of the workflows.
    pub action: ActionRef,
    /// The branch the ship workflow runs on.
    pub default_branch: BranchName,
    /// The key ids suggested for the mint and audit keys.
    pub kids: KeyIds,
    /// The token the approve and ship workflows act with.
    pub token: TokenSource,
}

/// Suggested key ids, dated by quarter so a rotation gets a new id (`mint-2026q4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIds {
    /// The mint key's id.
    pub mint: String,
    /// The audit key's id.
    pub audit: String,
}

impl KeyIds {
    /// The ids for the quarter of `now`.
    pub fn for_quarter(now: OffsetDateTime) -> Self {
        let quarter = (u8::from(now.month()) - 1) / 3 + 1;
        let suffix = format!("{}q{quarter}", now.year());
        Self {
            mint: format!("mint-{suffix}"),
            audit: format!("audit-{suffix}"),
        }
    }
}

/// A file to write: its repository-relative path and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldFile {
    /// Repository-relative path.
    pub path: &'static str,
    /// Contents.
    pub contents: String,
}

impl Scaffold {
    /// Every file init writes, in the order it lists them. The policy is loaded before it is
    /// returned, so init never writes a policy that `shipgate policy check` would refuse, and
    /// its quorums must be reachable with the approvers given.
    pub fn files(&self) -> Result<Vec<ScaffoldFile>, ScaffoldError> {
        let policy_text = self.policy_text();
        self.check_policy(&policy_text)?;
        let mut files = vec![
            ScaffoldFile {
                path: POLICY_FILE,
                contents: policy_text,
            },
            ScaffoldFile {
                path: PLANS_README,
                contents: plans_readme(self.default_branch.as_str()),
            },
        ];
        for (path, template) in WORKFLOWS {
            files.push(ScaffoldFile {
                path,
                contents: self.workflow(template),
            });
        }
        Ok(files)
    }

    /// A workflow template with its placeholders filled in.
    pub fn workflow(&self, template: &str) -> String {
        template
            .replace(
                APP_TOKEN_PLACEHOLDER,
                &self.token.step(template.contains("actions: write")),
            )
            .replace(TOKEN_PLACEHOLDER, self.token.expression())
            .replace(
                ACTION_PLACEHOLDER,
                &self.action.uses(env!("CARGO_PKG_VERSION")),
            )
            .replace(BRANCH_PLACEHOLDER, self.default_branch.as_str())
    }

    fn policy_text(&self) -> String {
        let list = |items: Vec<&str>| items.join(", ");
        let mut text = String::new();
        text.push_str(
            "# The shipgate policy of this repository, written by `shipgate init`.\n\
             #\n\
             # shipgate reads it from the default branch only, so a pull request cannot weaken the\n\
             # policy that judges it. Check a change with `shipgate policy check`, and the whole\n\
             # setup with `shipgate doctor`.\n",
        );
        let _ = writeln!(
            text,
            "version: 1\nextends: [{}]\n",
            self.preset.extends_name()
        );
        let _ = writeln!(text, "groups:\n  {}:", self.preset.group());
        let _ = writeln!(
            text,
            "    users: [{}]",
            list(self.approvers.iter().map(Login::as_str).collect())
        );
        if !self.teams.is_empty() {
            let _ = writeln!(
                text,
                "    # team membership is read from GitHub: the token must be able to read it\n    teams: [{}]",
                list(self.teams.iter().map(TeamSlug::as_str).collect())
            );
        }
        let _ = writeln!(
            text,
            "\n# Who may `/shipgate halt` and `/shipgate resume`.\nhalt_admins: [{}]",
            list(self.halt_admins.iter().map(Login::as_str).collect())
        );
        let _ = write!(
            text,
            "\n# The keys that sign receipts (mint) and audit commits (audit). Nothing is minted or\n\
             # executed until both roles have a key here. Generate them with\n\
             #   shipgate keys generate --kid {mint} --role mint --out mint.key\n\
             #   shipgate keys generate --kid {audit} --role audit --out audit.key\n\
             # and replace these comment lines with one list of both printed entries:\n\
             # signers:\n\
             #   - kid: {mint}\n\
             #     role: mint\n\
             #     key: ssh-ed25519 AAAA...\n\
             #   - kid: {audit}\n\
             #     role: audit\n\
             #     key: ssh-ed25519 AAAA...\n",
            mint = self.kids.mint,
            audit = self.kids.audit
        );
        text
    }

    fn check_policy(&self, text: &str) -> Result<(), ScaffoldError> {
        let loaded = policy::load_policy(&[PolicyFile {
            name: POLICY_FILE.to_owned(),
            bytes: text.as_bytes().to_vec(),
        }])
        .map_err(|d| ScaffoldError::InvalidPolicy(d.to_string()))?;
        if !self.teams.is_empty() {
            // Team membership is only known online; the dry-run checks it there.
            return Ok(());
        }
        for rule in &loaded.rules {
            if self.approvers.len() < rule.required as usize {
                return Err(ScaffoldError::QuorumUnreachable(format!(
                    "{} needs {} approvers for \"{}\"; name at least {} with --approver (or a --team)",
                    self.preset.extends_name(),
                    rule.required,
                    rule.name,
                    rule.required
                )));
            }
        }
        Ok(())
    }

    /// What to do after init, as numbered steps (plain text).
    pub fn next_steps(&self) -> String {
        let branch = self.default_branch.as_str();
        let KeyIds { mint, audit } = &self.kids;
        let mut text = String::new();
        let _ = write!(
            text,
            "Next steps (the README's \"Adopting shipgate in a repository\" explains each):\n\
             \n\
             1. Generate the two signing keys, outside the repository (each file is mode 0600):\n\
             \x20    shipgate keys generate --kid {mint} --role mint --out mint.key\n\
             \x20    shipgate keys generate --kid {audit} --role audit --out audit.key\n\
             \n\
             2. Paste the two printed entries as one list at the end of {POLICY_FILE}:\n\
             \x20    signers:\n\
             \x20      - kid: {mint}\n\
             \x20        role: mint\n\
             \x20        key: ssh-ed25519 AAAA...   (the line printed for mint.key)\n\
             \x20      - kid: {audit}\n\
             \x20        role: audit\n\
             \x20        key: ssh-ed25519 AAAA...   (the line printed for audit.key)\n\
             \n\
             3. Create the GitHub environments {MINT_ENVIRONMENT} and {SHIP_ENVIRONMENT} (Settings >\n\
             \x20  Environments), each with Deployment branches and tags limited to `{branch}`.\n\
             \n\
             4. Store the private keys as environment secrets (the mint key only where it mints):\n\
             \x20    gh secret set SHIPGATE_MINT_KEY --env {MINT_ENVIRONMENT} < mint.key\n\
             \x20    gh secret set SHIPGATE_AUDIT_KEY --env {MINT_ENVIRONMENT} < audit.key\n\
             \x20    gh secret set SHIPGATE_AUDIT_KEY --env {SHIP_ENVIRONMENT} < audit.key\n\
             \n\
             5. Commit the policy, the plans README and the workflows to `{branch}`:\n\
             \x20    git add .shipgate .github/workflows && git commit -m \"Adopt shipgate\"\n\
             \n\
             6. Protect the governance branch {GOVERNANCE_BRANCH} against force pushes and deletion\n\
             \x20  (Settings > Rules > Rulesets: target {GOVERNANCE_BRANCH}, \"Restrict deletions\" and\n\
             \x20  \"Block force pushes\"), and require a reviewed pull request on `{branch}`, so\n\
             \x20  plans and policy changes arrive by pull request.\n\
             \n\
             7. Check the setup, then delete the key files:\n\
             \x20    shipgate doctor --mint-key mint.key --audit-key audit.key\n\
             \x20  With GITHUB_TOKEN set (a token that may read the repository's settings) doctor also\n\
             \x20  checks the branch protection and the token's permissions on GitHub.\n"
        );
        text
    }
}

fn plans_readme(branch: &str) -> String {
    format!(
        "# Plans\n\
         \n\
         Each `*.yaml` or `*.yml` file here is a shipgate plan: what to ship (tags, GitHub releases,\n\
         pull requests). `shipgate dry-run` reads every plan file in this directory and nothing\n\
         else, so this README is never taken for a plan.\n\
         \n\
         To ship, open one release pull request: the version bump, the changelog, and a plan, for\n\
         example `release-1.4.0.yaml`:\n\
         \n\
         ```yaml\n\
         version: 1\n\
         name: Release 1.4.0\n\
         operations:\n\
         \x20 - kind: tag\n\
         \x20   name: v1.4.0\n\
         \x20   target: merge\n\
         \x20 - kind: release\n\
         \x20   tag: v1.4.0\n\
         \x20   notes_file: CHANGELOG.md\n\
         ```\n\
         \n\
         The `shipgate plan` workflow dry-runs it and keeps one status comment on the pull request\n\
         with the plan id and the exact approve command. Approvers comment\n\
         `/shipgate approve <plan-id-prefix>`; once the policy's quorum is met, the `shipgate\n\
         approve` workflow mints single-use receipts, and when the pull request is merged into\n\
         `{branch}` the `shipgate ship` workflow performs the operations. Every step is recorded on\n\
         the `{GOVERNANCE_BRANCH}` branch; `shipgate audit verify` checks it.\n\
         \n\
         `target: merge` tags the commit the merge puts on `{branch}`: approvers approve the pull\n\
         request's content (its head's tree), and the tag is made only if the merged commit\n\
         carries exactly that content. Merge commits, squash and rebase merges all work; a pull\n\
         request merged while behind `{branch}` is refused (RECEIPT_STALE), so require branches to\n\
         be up to date before merging, or use a merge queue. (A branch named `merge` is written\n\
         `refs/heads/merge`.)\n\
         \n\
         Try a plan locally first: `shipgate dry-run .shipgate/plans/release-1.4.0.yaml`.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scaffold(preset: Preset, approvers: &[&str]) -> Scaffold {
        let approvers: Vec<String> = approvers.iter().map(|s| (*s).to_owned()).collect();
        let logins = parse_logins("approver", &approvers).unwrap();
        Scaffold {
            preset,
            halt_admins: logins.clone(),
            approvers: logins,
            teams: Vec::new(),
            action: ActionRef::default_for_version("0.1.0"),
            default_branch: BranchName::parse("main").unwrap(),
            kids: KeyIds::for_quarter(time::macros::datetime!(2026-11-22 10:00 UTC)),
            token: TokenSource::WorkflowToken,
        }
    }

    #[test]
    fn a_commit_pin_gets_its_version_comment_and_the_app_token_variant_its_step() {
        let mut scaffold = scaffold(Preset::TwoPersonRelease, &["alice", "bob"]);
        scaffold.action =
            ActionRef::parse("acme/shipgate@0123456789abcdef0123456789abcdef01234567").unwrap();
        let approve = scaffold.workflow(WORKFLOWS[1].1);
        let uses = format!(
            "uses: acme/shipgate@0123456789abcdef0123456789abcdef01234567 # v{}\n",
            env!("CARGO_PKG_VERSION")
        );
        assert!(approve.contains(&uses), "{approve}");
        assert!(approve.contains("token: ${{ github.token }}"), "{approve}");
        assert!(!approve.contains("create-github-app-token"), "{approve}");

        scaffold.token = TokenSource::GitHubApp;
        for (_, template) in &WORKFLOWS[1..] {
            let written = scaffold.workflow(template);
            assert!(
                written.contains("uses: actions/create-github-app-token@"),
                "{written}"
            );
            assert!(
                written.contains("token: ${{ steps.app-token.outputs.token }}"),
                "{written}"
            );
            assert!(
                !written.contains("__"),
                "a placeholder survived:\n{written}"
            );
        }
        assert_eq!(
            ActionRef::parse("shipgate/shipgate@v1.2.3")
                .unwrap()
                .uses("1.2.3"),
            "shipgate/shipgate@v1.2.3"
        );
    }

    #[test]
    fn both_presets_give_a_policy_that_loads_and_no_placeholder_survives() {
        for (preset, approvers) in [
            (Preset::TwoPersonRelease, &["alice", "bob"][..]),
            (Preset::SoloMaintainer, &["alice"][..]),
        ] {
            let files = scaffold(preset, approvers).files().unwrap();
            assert_eq!(files.len(), 5);
            for file in &files {
                assert!(!file.contents.contains("__"), "{}", file.path);
            }
        }
    }

    #[test]
    fn a_quorum_the_approvers_cannot_meet_is_refused() {
        let err = scaffold(Preset::TwoPersonRelease, &["alice"])
            .files()
            .unwrap_err();
        assert!(matches!(err, ScaffoldError::QuorumUnreachable(_)), "{err}");
    }

    #[test]
    fn key_ids_are_dated_by_quarter() {
        let ids = KeyIds::for_quarter(time::macros::datetime!(2027-03-31 23:00 UTC));
        assert_eq!(ids.mint, "mint-2027q1");
        assert_eq!(ids.audit, "audit-2027q1");
    }

    #[test]
    fn action_references_are_plain() {
        for good in [
            "shipgate/shipgate@v0.1.0",
            "acme/actions/shipgate@0123456789abcdef0123456789abcdef01234567",
            "./",
            "./.github/actions/shipgate",
        ] {
            assert!(ActionRef::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "shipgate",
            "shipgate@v1",
            "a/b@",
            "a/b@v1 # x",
            "a/b@v1\n  run: evil",
            "\"a/b@v1\"",
            "a/b@v1'",
            "../evil",
            "./../evil",
            "a//b@v1",
            "-a/b@v1",
            "a/b@-v1",
            "docker://evil",
        ] {
            assert!(ActionRef::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn branch_names_are_plain_ref_names() {
        assert!(BranchName::parse("release/2.x").is_ok());
        for bad in ["", "a b", "main]", "a,b", "x..y", "-main", "#main", "a\nb"] {
            assert!(BranchName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bots_and_malformed_logins_are_refused() {
        for bad in ["github-actions[bot]", "al ice", "", "a\"b", "-alice"] {
            assert!(
                parse_logins("approver", &[bad.to_owned()]).is_err(),
                "{bad:?}"
            );
        }
        let logins = parse_logins("approver", &["Alice".into(), "alice".into()]).unwrap();
        assert_eq!(logins.len(), 1);
    }
}
