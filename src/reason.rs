//! The one registry of every stable reason code shipgate can print (issue 14).
//!
//! Each [`Code`] has its spelling (SCREAMING_SNAKE_CASE, never changed once released: scripts,
//! PR comments and audit entries match on it), one sentence saying what it means and what to
//! do, the [`Class`] of outcome it stands for (which decides the exit code, mapped in
//! `error`), and the [`Site`]s where it can occur. README's troubleshooting table lists exactly
//! these rows; a test renders them with [`Code::table_row`] and compares.
//!
//! The domain enums (`GateCode`, audit `Reason`, policy `ReasonCode`, `ConflictCode`,
//! approval `Rejection`, `InputErrorKind`, `GitHubError::code`) are typed subsets of this
//! registry: they convert into a [`Code`] and never spell a code themselves. This module is a
//! leaf: it imports nothing from the crate, so every module may use it without a cycle.

use std::fmt;

use serde::Serialize;

/// What a reason code means for the command that reports it; each class has one exit code
/// (DESIGN 9), mapped in `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A check passed (a doctor finding).
    Ok,
    /// A check was not run, for want of something to check with; not a fault.
    Skipped,
    /// Information beside a result that still stands, e.g. an approval that does not count.
    Note,
    /// It works, but should be looked at.
    Warning,
    /// Governance blocked or refused it (exit 1).
    Blocked,
    /// Bad input or usage (exit 2).
    BadInput,
    /// Infrastructure: GitHub, git, network, file system (exit 3).
    Infrastructure,
    /// Integrity failure: a tampered chain, a forged receipt (exit 4).
    Integrity,
}

impl Class {
    /// The word shown in README's table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Skipped => "skipped",
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Blocked => "blocked",
            Self::BadInput => "bad input",
            Self::Infrastructure => "infrastructure",
            Self::Integrity => "integrity",
        }
    }
}

/// Where a reason code can occur: a command, or a family of commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Site {
    /// Any command that reads plan files (dry-run, plan id, mint, execute).
    Plans,
    /// Any command that reads policy files.
    Policies,
    /// `shipgate dry-run`, offline.
    DryRun,
    /// `shipgate dry-run` with a token: what exists on GitHub.
    DryRunOnline,
    /// `shipgate plan id`.
    PlanId,
    /// `shipgate policy check`.
    PolicyCheck,
    /// `shipgate mint` (and its `/shipgate ship`).
    Mint,
    /// `shipgate execute`: the gate and the effects.
    Execute,
    /// `shipgate release publish`.
    Publish,
    /// `shipgate halt`.
    Halt,
    /// `shipgate resume`.
    Resume,
    /// `shipgate audit note`.
    Note,
    /// Any append to the governance branch.
    Append,
    /// `shipgate audit verify`.
    AuditVerify,
    /// `shipgate receipt verify`.
    ReceiptVerify,
    /// `shipgate proof verify`.
    ProofVerify,
    /// `shipgate doctor`.
    Doctor,
    /// Any command that talks to GitHub.
    Online,
}

impl Site {
    /// The words shown in README's table.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plans => "reading plans",
            Self::Policies => "reading policies",
            Self::DryRun => "dry-run",
            Self::DryRunOnline => "dry-run (online)",
            Self::PlanId => "plan id",
            Self::PolicyCheck => "policy check",
            Self::Mint => "mint",
            Self::Execute => "execute",
            Self::Publish => "release publish",
            Self::Halt => "halt",
            Self::Resume => "resume",
            Self::Note => "note",
            Self::Append => "append",
            Self::AuditVerify => "audit verify",
            Self::ReceiptVerify => "receipt verify",
            Self::ProofVerify => "proof verify",
            Self::Doctor => "doctor",
            Self::Online => "any online command",
        }
    }
}

/// Declares [`Code`] and its tables from one list, so a code, its class, sites and sentence
/// can never drift apart.
macro_rules! registry {
    ($($variant:ident $code:literal $class:ident [$($site:ident)+] $sentence:literal)+) => {
        /// A stable reason code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $sentence]
                $variant,
            )+
        }

        impl Code {
            /// Every code, in README's order.
            pub const ALL: &'static [Code] = &[$(Self::$variant),+];

            /// The stable spelling, e.g. `RECEIPT_FORGED`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// What it means and what to do, in one sentence.
            pub fn sentence(self) -> &'static str {
                match self {
                    $(Self::$variant => $sentence,)+
                }
            }

            /// The outcome it stands for.
            pub fn class(self) -> Class {
                match self {
                    $(Self::$variant => Class::$class,)+
                }
            }

            /// Where it can occur.
            pub fn sites(self) -> &'static [Site] {
                match self {
                    $(Self::$variant => &[$(Site::$site),+],)+
                }
            }
        }
    };
}

registry! {
    // Policy findings (DESIGN 3, 13.6).
    NoRuleMatches "NO_RULE_MATCHES" Blocked [DryRun Mint]
        "No policy rule matches this operation, and shipgate denies what no rule allows; add a rule whose `match` covers the operation's kind and ref."
    PolicyDenied "POLICY_DENIED" Blocked [DryRun Mint Execute]
        "A deny rule of the policy forbids this operation (the gate asks the default branch's policy again before every effect); change the plan, the deny rule says why."
    Frozen "FROZEN" Blocked [DryRun Mint Execute]
        "A release freeze is in effect. Wait until it ends (the gate asks again at execution, so a receipt minted before the window waits too), or change the policy on the default branch."
    QuorumUnreachable "QUORUM_UNREACHABLE" Blocked [DryRun Mint]
        "A rule needs more distinct approvers than its groups have members; add approvers to the groups or lower `required`."

    // What exists on GitHub (DESIGN 7).
    ConflictTagExists "CONFLICT_TAG_EXISTS" Blocked [DryRunOnline Execute]
        "The tag already exists on GitHub at another commit; shipgate never moves a tag; plan another tag name."
    ConflictReleaseExists "CONFLICT_RELEASE_EXISTS" Blocked [DryRunOnline Execute]
        "A release of this tag already exists on GitHub and differs from the plan; edit or delete that release by hand, or plan what exists."
    ConflictPullRequestExists "CONFLICT_PULL_REQUEST_EXISTS" Blocked [DryRunOnline Execute]
        "An open pull request between these branches already exists and differs from the plan; close it, or plan its title."
    ReleaseTagMissing "RELEASE_TAG_MISSING" Blocked [DryRunOnline Execute]
        "The release's tag is not on GitHub and no earlier tag operation of the plan creates it; add a `tag` operation before the release."
    BranchMissing "BRANCH_MISSING" Blocked [DryRunOnline Execute]
        "A branch of the pull request does not exist on GitHub; push the branch first."
    PullRequestHeadMoved "PULL_REQUEST_HEAD_MOVED" Blocked [DryRunOnline Execute]
        "The pull request's head branch moved since approval: it would carry commits nobody approved; approve the new head."
    Conflict "CONFLICT" Infrastructure [Execute]
        "After an effect whose outcome was in doubt, what exists on GitHub differs from the approved operation; inspect it on GitHub."
    ReadBackMismatch "READ_BACK_MISMATCH" Infrastructure [Execute]
        "The effect was made but does not read back as approved; inspect the tag, release or pull request on GitHub."

    // The merge queue's `shipgate` check (`dry-run --merge-group`, issue 18).
    PlanNotApproved "PLAN_NOT_APPROVED" Blocked [DryRunOnline]
        "A plan the merge group adds or changes has no run on the governance branch, so it was never approved; approve it on its pull request, then queue the pull request again."
    PlanChangedInMergeGroup "PLAN_CHANGED_IN_MERGE_GROUP" Blocked [DryRunOnline]
        "In the merge group the plan has another plan id than the one approved on its pull request (a `target: merge` plan binds the merged tree, which changes when the base moved), so the approvals were given to another tree; update the pull request's branch, approve the new plan id, and queue it again."
    EventMalformed "EVENT_MALFORMED" BadInput [DryRunOnline Mint]
        "The event payload (GITHUB_EVENT_PATH) is not the event the command expects: for `dry-run --merge-group` a `merge_group` event (40-hex `head_sha` and `base_sha`, `refs/heads/` refs of at most 255 bytes), for `mint` an `issue_comment` event (at most 25 MiB); nothing is judged, set or appended. Run the command from the workflow GitHub starts for that event."

    // Approvals that do not count (DESIGN 4, 13.4, 13.5).
    StalePlanId "STALE_PLAN_ID" Note [Mint]
        "The approval names a plan id that is not the current one; approve the current plan id."
    Bot "BOT" Note [Mint]
        "Bots cannot approve; a human approves."
    Edited "EDITED" Note [Mint]
        "The approval comment was edited; post a new comment instead."
    AmbiguousPrefix "AMBIGUOUS_PREFIX" Note [Mint]
        "The approval's prefix matches more than one plan; approve with a longer prefix of the plan id."
    Revoked "REVOKED" Note [Mint]
        "The approval's author revoked it (a revoke holds even once its comment is edited or deleted); approve again in a new comment if meant."
    EditedLater "EDITED_LATER" Note [Mint]
        "A comment of the approval's author was edited after it; approve again in a new comment."
    NotAnApprover "NOT_AN_APPROVER" Note [Mint]
        "The author is not in a group that may approve these operations; ask an approver, or check the policy's groups."
    SelfApproval "SELF_APPROVAL" Note [Mint]
        "The plan's author cannot approve their own plan (the PR author, or an account linked to a commit that writes the plan or its notes); someone else approves, or a rule allows `self_approval`."
    AuthorUnknown "AUTHOR_UNKNOWN" Note [Mint]
        "A commit touching the plan is linked to no GitHub account, so nobody may approve it; rewrite the commit with an email of its author's account."
    ApprovalExpired "APPROVAL_EXPIRED" Note [Mint]
        "The approval is older than the policy's approval_ttl; approve again in a new comment."
    TooManyComments "TOO_MANY_COMMENTS" Infrastructure [Mint DryRun Execute]
        "The pull request has more than 3 000 comments and approvals are never judged on part of a conversation; delete spam comments or move the plan to a new pull request."
    TooManyCommits "TOO_MANY_COMMITS" Infrastructure [Mint]
        "The pull request has more commits than GitHub lists (250), so who wrote the plan cannot be told; squash its history and push again."

    // The gate (DESIGN 6) and the audit state's rules (DESIGN 8).
    Halted "HALTED" Blocked [Mint Execute Append]
        "A halt admin halted shipgate; nothing executes until `/shipgate resume`."
    NotHalted "NOT_HALTED" Blocked [Resume]
        "There is no halt to resume from; nothing to do."
    ResumeNotAuthorized "RESUME_NOT_AUTHORIZED" Blocked [Resume]
        "Only a halt admin's own unedited `/shipgate resume` comment, written after the halt, lifts it; pass that comment's id."
    Locked "LOCKED" Blocked [Execute]
        "Another run holds the repository's execution lock; wait, an expired lock is broken on the record."
    LockNotHeld "LOCK_NOT_HELD" Blocked [Execute]
        "The lock is not held by the run that releases it; re-run, and never edit the governance branch by hand."
    LockNotExpired "LOCK_NOT_EXPIRED" Blocked [Execute]
        "Only an expired lock may be broken; wait and re-run."
    ReceiptMissing "RECEIPT_MISSING" Blocked [Execute]
        "No receipt was minted for this operation of this run; approve and mint first."
    ReceiptForged "RECEIPT_FORGED" Integrity [Execute ReceiptVerify]
        "The receipt is not what shipgate's mint issues: not an SSHSIG Ed25519 signature (HMAC receipts were removed: whoever verifies one could mint one), not signed by a trusted mint key in force both when it was issued and now, or lasting longer than the policy's receipt_ttl; treat it as an attack, or after a key rotation approve and mint again."
    ReceiptNotEnforceable "RECEIPT_NOT_ENFORCEABLE" Blocked [Execute]
        "The receipt is advisory: a policy finding stood when it was minted; fix the finding, then approve and mint again."
    ReceiptWrongRun "RECEIPT_WRONG_RUN" Blocked [Execute]
        "The receipt belongs to another run; execute its own run."
    ReceiptWrongOperation "RECEIPT_WRONG_OPERATION" Blocked [Execute]
        "The receipt authorizes a different operation, plan or repository; execute the run it was minted for."
    ReceiptConsumed "RECEIPT_CONSUMED" Blocked [Execute]
        "The receipt was already used, and a receipt acts once; nothing to do, the run's timeline shows what it did."
    ReceiptExpired "RECEIPT_EXPIRED" Blocked [Execute]
        "The receipt has expired (or its times disagree with this clock beyond the tolerated skew of 60 s); approve and mint again."
    ReceiptStale "RECEIPT_STALE" Blocked [Execute]
        "The policy or the plan changed since the receipt was minted; approve the new plan."
    NotMerged "NOT_MERGED" Blocked [Execute]
        "The tag targets `merge` and its pull request has not merged yet; merge it (up to date with its base) and the ship workflow tags the merged commit."
    ReceiptExists "RECEIPT_EXISTS" Blocked [Mint]
        "A receipt id names one receipt only, for all time: a racing mint won, and its run stands."
    RunExists "RUN_EXISTS" Blocked [Mint]
        "A run id names one run only, for all time: a racing mint won, and its run stands."
    RunMissing "RUN_MISSING" Blocked [Execute]
        "The event names a run that was never opened; check the run's timeline with `shipgate audit log`."
    ReceiptNotConsumed "RECEIPT_NOT_CONSUMED" Blocked [Execute]
        "An operation's outcome was recorded without its receipt being consumed first; re-run execute."
    ReleaseNotPublishable "RELEASE_NOT_PUBLISHABLE" Blocked [Publish]
        "Only a release that the named run shipped as a draft with `publish: after_assets` is published by `shipgate release publish`, and only once; name the run that shipped the release, or approve a plan that publishes it."
    ReleaseDraftChanged "RELEASE_DRAFT_CHANGED" Blocked [Publish]
        "The draft release on GitHub no longer has the approved tag, title, notes or flags, so publishing it would publish something nobody approved; restore the approved text in the draft (assets may change), or delete it and ship a new plan."
    OperationExists "OPERATION_EXISTS" Blocked [Execute]
        "The operation key was already executed and is never executed twice; check the run's timeline with `shipgate audit log`."

    // The audit chain (DESIGN 8, 13.1 to 13.3).
    AuditChainInvalid "AUDIT_CHAIN_INVALID" Integrity [AuditVerify Execute Mint Halt Resume Note Doctor]
        "The audit chain does not verify, so nothing can be trusted to have been approved; treat it as an attack and restore the branch from a verified clone."
    AuditRollback "AUDIT_ROLLBACK" Integrity [AuditVerify Execute Mint Note]
        "The governance branch no longer contains a head that was verified before: history was rewritten or rolled back; protect the branch and restore it."
    AuditKeyNotInForce "AUDIT_KEY_NOT_IN_FORCE" Blocked [Mint Execute Halt Resume Note]
        "The audit key is not a signer the policy on the default branch trusts now, so nothing it signs would verify; use the current audit key."
    AuditEntryInvalid "AUDIT_ENTRY_INVALID" Blocked [Append]
        "An audit entry is malformed, so it cannot be recorded; this is a bug, report it."
    AuditUnavailable "AUDIT_UNAVAILABLE" Infrastructure [Mint Execute Note]
        "The audit branch cannot be written, and nothing ships unrecorded; check the token's `contents: write` and rules that block pushes."
    ProofInvalid "PROOF_INVALID" Integrity [ProofVerify]
        "The proof bundle does not prove its run: a commit id, signature, link of the chain or receipt fails; export it again from a verified clone."

    // GitHub (DESIGN 9).
    GitHubUnauthorized "GITHUB_UNAUTHORIZED" Infrastructure [Online]
        "GitHub rejected the token (401); set GITHUB_TOKEN to a valid token."
    GitHubForbidden "GITHUB_FORBIDDEN" Infrastructure [Online]
        "The token may not do this (403), e.g. a fork's read-only token; grant the workflow's `permissions:`."
    GitHubNotFound "GITHUB_NOT_FOUND" Infrastructure [Online]
        "The repository, ref or object does not exist, or the token cannot see it; check GITHUB_REPOSITORY and the token's access."
    GitHubAlreadyExists "GITHUB_ALREADY_EXISTS" Infrastructure [Execute]
        "The thing to create exists already; reading back settles it, re-run if reported."
    GitHubRejected "GITHUB_REJECTED" Infrastructure [Online]
        "GitHub refused the request (409 or 422); fix what its message names."
    GitHubRateLimited "GITHUB_RATE_LIMITED" Infrastructure [Online]
        "A rate limit did not clear within 120 s; re-run later."
    GitHubUnavailable "GITHUB_UNAVAILABLE" Infrastructure [Online]
        "GitHub answered 5xx, timed out or could not be reached after the retries; re-run."
    GitHubAmbiguousWrite "GITHUB_AMBIGUOUS_WRITE" Infrastructure [Execute]
        "A write's outcome could not be settled by reading back; re-run execute, which reads the world and recovers."
    GitHubBadResponse "GITHUB_BAD_RESPONSE" Infrastructure [Online]
        "GitHub answered something shipgate cannot read; check GITHUB_API_URL."
    GitHubConfig "GITHUB_CONFIG" BadInput [Online]
        "The GitHub configuration is unusable (no token, a malformed GITHUB_API_URL or repository slug); fix the variable."

    TokenCannotOpenPullRequest "TOKEN_CANNOT_OPEN_PULL_REQUEST" Blocked [DryRunOnline Execute Doctor]
        "GitHub refuses this token pull requests (found out before any receipt is used); allow GitHub Actions to create pull requests (Settings > Actions > General > Workflow permissions), or give the action a token that may."
    TeamMembershipUnreadable "TEAM_MEMBERSHIP_UNREADABLE" Blocked [Mint Doctor]
        "The policy counts a team's approvals but the token cannot read the team (a workflow's GITHUB_TOKEN never can), so approvals are never silently uncounted; give the action a token with `members: read`, or list the team's members as users in the policy."

    // Plans and policies (DESIGN 2, 3, 13.4).
    Unreadable "UNREADABLE" BadInput [Plans Policies]
        "The file could not be read; check that it exists and is readable."
    TooLarge "TOO_LARGE" BadInput [Plans Policies]
        "The file exceeds the 1 MiB limit; split it or shorten it."
    InvalidUtf8 "INVALID_UTF8" BadInput [Plans Policies]
        "The file is not UTF-8; save it as UTF-8."
    Syntax "SYNTAX" BadInput [Plans Policies]
        "The file is not well-formed YAML, or holds several documents; fix the YAML at the line shown."
    TooDeep "TOO_DEEP" BadInput [Plans Policies]
        "The file nests more than 32 levels (counted before parsing); flatten it."
    AliasLimit "ALIAS_LIMIT" BadInput [Plans Policies]
        "YAML aliases expand beyond the parser's limit; write the values out instead of aliasing them."
    UnknownField "UNKNOWN_FIELD" BadInput [Plans Policies]
        "A field the format does not define; remove it or fix its spelling."
    MissingField "MISSING_FIELD" BadInput [Plans Policies]
        "A required field is absent; add it."
    DuplicateField "DUPLICATE_FIELD" BadInput [Plans Policies]
        "A field is given twice; keep one."
    InvalidType "INVALID_TYPE" BadInput [Plans Policies]
        "A value has the wrong type (a list where a string belongs, ...); write the type the hint names."
    UnsupportedVersion "UNSUPPORTED_VERSION" BadInput [Plans Policies]
        "The `version` is not one this shipgate reads; write `version: 1`."
    UnknownKind "UNKNOWN_KIND" BadInput [Plans]
        "An operation `kind` other than tag, release or pull_request; use one of those."
    FieldNotAllowed "FIELD_NOT_ALLOWED" BadInput [Plans]
        "A field that exists, but not for this operation kind; remove it."
    InvalidRefName "INVALID_REF_NAME" BadInput [Plans]
        "A tag or branch name git would refuse, one starting with `refs/`, or one holding bidi controls or zero-width characters; write a plain name such as v1.4.0."
    DuplicateOperation "DUPLICATE_OPERATION" BadInput [Plans]
        "Two operations of the plan have the same operation key; remove one."
    OperationCount "OPERATION_COUNT" BadInput [Plans]
        "A plan has fewer than 1 or more than 100 operations; split or complete it."
    NotesConflict "NOTES_CONFLICT" BadInput [Plans]
        "A release gives both `notes` and `notes_file`; keep one."
    TextTooLong "TEXT_TOO_LONG" BadInput [Plans]
        "A text is longer than its limit; shorten it."
    ControlCharacter "CONTROL_CHARACTER" BadInput [Plans]
        "A plan's `name` holds control, bidi or zero-width characters; remove them (titles, bodies and notes may hold them, and reports show them escaped)."
    UnknownRef "UNKNOWN_REF" BadInput [Plans]
        "A branch, tag or commit the repository does not have; fetch or push it, or fix the name."
    UnknownFile "UNKNOWN_FILE" BadInput [Plans]
        "A notes file that does not exist or escapes the repository; commit it inside the repository."
    NoPlans "NO_PLANS" BadInput [Plans]
        "No plan file was found where one was expected; check the path or `.shipgate/plans/`."
    UnknownPreset "UNKNOWN_PRESET" BadInput [Policies]
        "An `extends:` preset that shipgate does not ship; use one of the presets the hint lists."
    UnknownGroup "UNKNOWN_GROUP" BadInput [Policies]
        "A rule names a group that no policy file defines; define it or fix the name."
    DuplicateGroup "DUPLICATE_GROUP" BadInput [Policies]
        "A group is defined twice across policy files; keep one."
    DuplicateSigner "DUPLICATE_SIGNER" BadInput [Policies]
        "Two signers have one key id; give each key its own id."
    InvalidDuration "INVALID_DURATION" BadInput [Policies]
        "A malformed or out-of-range duration such as `receipt_ttl`; write it like `24h` within the limits the hint names."
    InvalidTimestamp "INVALID_TIMESTAMP" BadInput [Policies]
        "A malformed timestamp; write RFC 3339, e.g. 2026-12-24T00:00:00Z."
    FreezeInverted "FREEZE_INVERTED" BadInput [Policies]
        "A freeze window ends before it starts; swap or fix its times."
    FreezeOverlap "FREEZE_OVERLAP" BadInput [Policies]
        "Two freeze windows overlap; merge them."
    InvalidSignerKey "INVALID_SIGNER_KEY" BadInput [Policies]
        "A signer's key is not an OpenSSH Ed25519 public key; paste the line `shipgate keys generate` printed."
    InvalidValue "INVALID_VALUE" BadInput [Plans Policies]
        "A value outside its allowed set (role, login, team, count, pattern, name); write one the hint names."
    SymlinkRefused "SYMLINK_REFUSED" BadInput [Plans Policies DryRun PlanId Mint PolicyCheck]
        "A plan, notes or policy file is a symbolic link or lies under one, and shipgate never follows it out of the checkout; commit the file itself instead of a link."

    // Doctor's checks (README, Adopting shipgate, step 6).
    PolicyOk "POLICY_OK" Ok [Doctor]
        "The policy on the default branch loads."
    NoDefaultBranch "NO_DEFAULT_BRANCH" Blocked [Doctor]
        "The default branch has no commit to read the policy from; commit what `shipgate init` wrote, or pass --default-branch NAME."
    PolicyMissing "POLICY_MISSING" Blocked [Doctor]
        "There are no policy files on the default branch, so every operation would be denied; run `shipgate init` and commit the policy."
    PolicyInvalid "POLICY_INVALID" Blocked [Doctor]
        "The policy on the default branch does not load; fix the files named (`shipgate policy check` shows the same) and commit."
    PolicyUncommitted "POLICY_UNCOMMITTED" Warning [Doctor]
        "The work tree's policy differs from the default branch's, which is the one shipgate uses; commit the change by pull request, or discard it."
    SignerOk "SIGNER_OK" Ok [Doctor]
        "The policy has a signer of the role in force."
    SignerMissing "SIGNER_MISSING" Blocked [Doctor]
        "The policy has no signer of a role, so nothing can be minted or recorded; generate a key and add its entry under `signers:`."
    SignerExpired "SIGNER_EXPIRED" Blocked [Doctor]
        "Every signer of a role is retired; generate a new key, add it under `signers:` and store it where the old one was."
    SignerExpiring "SIGNER_EXPIRING" Warning [Doctor]
        "Every signer of a role in force retires within 30 days; add the next key to `signers:` now, so the rotation has no gap."
    KeyMatches "KEY_MATCHES" Ok [Doctor]
        "The private key given is the policy's signer."
    KeyNotGiven "KEY_NOT_GIVEN" Skipped [Doctor]
        "No private key was given to check (in GitHub Actions it is a secret doctor cannot see); pass --mint-key or --audit-key to check it."
    KeyUnusable "KEY_UNUSABLE" Blocked [Doctor]
        "The private key given cannot be loaded; use the unencrypted Ed25519 key file `shipgate keys generate` wrote."
    KeyMismatch "KEY_MISMATCH" Blocked [Doctor]
        "The private key given is not the policy's signer of its role (or its id differs), so what it signs would not verify; store the key whose public half is in the policy."
    KeyRetired "KEY_RETIRED" Blocked [Doctor]
        "The private key given is retired in the policy; store the current key instead."
    TeamsNeedToken "TEAMS_NEED_TOKEN" Warning [Doctor]
        "The policy names teams, whose membership the default GITHUB_TOKEN cannot read; pass the approve workflow a token that may, or list users instead."
    WorkflowPresent "WORKFLOW_PRESENT" Ok [Doctor]
        "The workflow is on the default branch."
    WorkflowUncommitted "WORKFLOW_UNCOMMITTED" Warning [Doctor]
        "The workflow is in the work tree but not on the default branch, whose copy GitHub runs; commit it."
    WorkflowMissing "WORKFLOW_MISSING" Blocked [Doctor]
        "A shipgate workflow is missing from the default branch; run `shipgate init --force`, or restore the file."
    GitUnreachable "GIT_UNREACHABLE" Infrastructure [Doctor]
        "The repository or its remote could not be read or fetched; check the clone and the network."
    GovernanceNotChecked "GOVERNANCE_NOT_CHECKED" Warning [Doctor]
        "There is no remote to check the governance branch on; run doctor in a clone of the GitHub repository, or pass --remote NAME."
    GovernanceBranchMissing "GOVERNANCE_BRANCH_MISSING" Warning [Doctor]
        "The governance branch does not exist yet; the first mint (or `shipgate audit note`) creates it."
    GovernanceNotVerified "GOVERNANCE_NOT_VERIFIED" Skipped [Doctor]
        "The governance branch exists but the policy has no audit signer to verify it with; add one."
    AuditGenesisUnpinned "AUDIT_GENESIS_UNPINNED" Warning [Doctor]
        "The policy does not pin the governance branch's genesis, so a fresh clone cannot tell a restarted branch from the original; add the `audit: { genesis: ... }` the fix names."
    GovernanceBranchOk "GOVERNANCE_BRANCH_OK" Ok [Doctor]
        "The governance branch verifies like `shipgate audit verify`."
    GovernanceBranchInvalid "GOVERNANCE_BRANCH_INVALID" Blocked [Doctor]
        "The governance branch does not verify; treat it as an attack and restore it from a verified clone."
    GitHubNotChecked "GITHUB_NOT_CHECKED" Skipped [Doctor]
        "GITHUB_TOKEN is not set, so nothing on GitHub was checked; set it to check the token and the branch protection."
    GitHubRepoUnknown "GITHUB_REPO_UNKNOWN" Warning [Doctor]
        "The GitHub repository could not be told from the remote; pass --repo-slug OWNER/NAME."
    GitHubUnreachable "GITHUB_UNREACHABLE" Infrastructure [Doctor]
        "GitHub could not be reached; check the network and GITHUB_API_URL, then run doctor again."
    TokenRejected "TOKEN_REJECTED" Blocked [Doctor]
        "GitHub rejected the token; set GITHUB_TOKEN to a valid token."
    GitHubRefused "GITHUB_REFUSED" Blocked [Doctor]
        "GitHub refused to show the repository to the token; check the token's access."
    TokenCanPush "TOKEN_CAN_PUSH" Ok [Doctor]
        "The token may push to the repository."
    TokenCannotPush "TOKEN_CANNOT_PUSH" Blocked [Doctor]
        "The token may not push, so nothing can be recorded or shipped; grant it `contents: write`."
    TokenCanOpenPullRequest "TOKEN_CAN_OPEN_PULL_REQUEST" Ok [Doctor]
        "The token may open the pull requests the policy lets ship."
    TeamReadable "TEAM_READABLE" Ok [Doctor]
        "The token can read the membership of every team the policy names."
    TokenPermissionsUnknown "TOKEN_PERMISSIONS_UNKNOWN" Skipped [Doctor]
        "GitHub does not report this token's permissions (an installation token such as a workflow's); the workflows declare the permissions they need."
    DefaultBranchDiffers "DEFAULT_BRANCH_DIFFERS" Warning [Doctor]
        "GitHub's default branch is not the one doctor read the policy from; pass --default-branch NAME."
    TagsUnprotected "TAGS_UNPROTECTED" Warning [Doctor]
        "No active tag ruleset restricts creating tags, so a writer can tag around shipgate with `git push`; add the ruleset the fix names."
    TagsProtected "TAGS_PROTECTED" Ok [Doctor]
        "An active tag ruleset restricts creating tags."
    BranchProtected "BRANCH_PROTECTED" Ok [Doctor]
        "The governance branch refuses force pushes and deletion."
    ProtectionUnreadable "PROTECTION_UNREADABLE" Warning [Doctor]
        "The governance branch's classic protection is shown to administrators only; protect it with a ruleset, which any reader can check."
    BranchUnprotected "BRANCH_UNPROTECTED" Blocked [Doctor]
        "Nothing protects the governance branch from force pushes and deletion; add a ruleset for it."
    ForcePushAllowed "FORCE_PUSH_ALLOWED" Blocked [Doctor]
        "The governance branch's protection allows force pushes; forbid them."
    DeletionAllowed "DELETION_ALLOWED" Blocked [Doctor]
        "The governance branch's protection allows deleting it; forbid it."
}

impl Code {
    /// The code whose spelling is `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|code| code.as_str() == text)
    }

    /// Its row of README's troubleshooting table: code, outcome (with the exit code), where,
    /// and the sentence.
    pub fn table_row(self, exit_code: u8) -> String {
        let sites: Vec<&str> = self.sites().iter().map(|site| site.label()).collect();
        format!(
            "| `{}` | {} ({exit_code}) | {} | {} |",
            self.as_str(),
            self.class().label(),
            sites.join(", "),
            self.sentence()
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_spelled_once_in_screaming_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.starts_with(|c: char| c.is_ascii_uppercase())
                    && text
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{text}"
            );
            assert_eq!(Code::parse(text), Some(*code));
        }
    }

    #[test]
    fn every_sentence_is_one_table_cell_ending_in_a_full_stop() {
        for code in Code::ALL {
            let sentence = code.sentence();
            assert!(
                sentence.ends_with('.') && !sentence.contains('|') && !sentence.contains('\n'),
                "{code}: {sentence}"
            );
            assert!(
                sentence.starts_with(|c: char| c.is_ascii_uppercase()),
                "{code}"
            );
        }
    }
}
