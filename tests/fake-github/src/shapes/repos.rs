//! Repository-level objects: full-repository, branch-with-protection, branch-protection,
//! repository-collaborator-permission and team-membership.
use serde_json::{Value, json};

use super::{Ctx, merged, node_id, permissions, user};
use crate::gitstore::CommitInfo;
use crate::seed::{Role, SeedProtection, UserKind};
use crate::state::{Repo, RepoId, TagRuleset, Team};

/// The `*_url` templates of a repository, relative to its API URL.
const URL_TEMPLATES: [(&str, &str); 35] = [
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
];

/// full-repository; `viewer` adds the caller's `permissions`.
pub(crate) fn repository(ctx: Ctx<'_>, id: RepoId, viewer: Option<Role>) -> Value {
    let repo = ctx.state.repo(id);
    let api = ctx.api(repo);
    let html = ctx.html(repo);
    let host = ctx
        .base
        .split_once("://")
        .map_or(ctx.base, |(_, rest)| rest);
    let path = format!("{}/{}", repo.owner, repo.name);
    let open_issues = repo.pulls.len();
    let time = repo.created_at.to_string();
    let owner = user(ctx, &repo.owner);
    let identity = json!({
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name(),
        "private": false,
        "owner": owner,
        "html_url": html,
        "description": null,
        "fork": false,
        "url": api,
        "git_url": format!("git://{host}/{path}.git"),
        "ssh_url": format!("git@{host}:{path}.git"),
        "clone_url": format!("{html}.git"),
        "mirror_url": null,
        "hooks_url": format!("{api}/hooks"),
        "svn_url": html,
        "homepage": null,
        "language": null,
    });
    let settings = json!({
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": open_issues,
        "is_template": false,
        "topics": [],
        "has_issues": true,
        "has_projects": true,
        "has_wiki": true,
        "has_pages": false,
        "has_downloads": true,
        "has_discussions": false,
        "archived": false,
        "disabled": false,
        "visibility": "public",
        "pushed_at": time,
        "created_at": time,
        "updated_at": time,
        "allow_rebase_merge": true,
        "allow_squash_merge": true,
        "allow_merge_commit": true,
        "allow_auto_merge": false,
        "delete_branch_on_merge": false,
        "allow_update_branch": false,
        "use_squash_pr_title_as_default": false,
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "merge_commit_title": "MERGE_MESSAGE",
        "merge_commit_message": "PR_TITLE",
        "allow_forking": true,
        "web_commit_signoff_required": false,
        "subscribers_count": 0,
        "network_count": 0,
        "license": null,
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "custom_properties": {},
    });
    let mut value = merged([identity, settings]);
    if let Some(object) = value.as_object_mut() {
        for (key, suffix) in URL_TEMPLATES {
            object.insert(key.into(), format!("{api}{suffix}").into());
        }
        if let Some(role) = viewer {
            object.insert("permissions".into(), permissions(role));
        }
        let owner_is_org = ctx
            .state
            .user(&repo.owner)
            .is_some_and(|u| u.kind == UserKind::Organization);
        if owner_is_org {
            object.insert("organization".into(), user(ctx, &repo.owner));
        }
    }
    value
}

/// branch-with-protection.
pub(crate) fn branch(ctx: Ctx<'_>, repo: &Repo, name: &str, head: &CommitInfo) -> Value {
    let api = ctx.api(repo);
    let protected = repo.protected.contains_key(name);
    json!({
        "name": name,
        "commit": super::commit(ctx, repo, head),
        "_links": {
            "self": format!("{api}/branches/{name}"),
            "html": format!("{}/tree/{name}", ctx.html(repo)),
        },
        "protected": protected,
        "protection": {
            "enabled": protected,
            "required_status_checks": {
                "enforcement_level": "off",
                "contexts": [],
                "checks": [],
            },
        },
        "protection_url": format!("{api}/branches/{name}/protection"),
    })
}

/// branch-protection, as the recorded fixture shows it for a branch with only the basic
/// toggles set.
pub(crate) fn protection(ctx: Ctx<'_>, repo: &Repo, name: &str, rules: SeedProtection) -> Value {
    let url = format!("{}/branches/{name}/protection", ctx.api(repo));
    json!({
        "url": url,
        "required_signatures": {"url": format!("{url}/required_signatures"), "enabled": false},
        "enforce_admins": {"url": format!("{url}/enforce_admins"), "enabled": false},
        "required_linear_history": {"enabled": false},
        "allow_force_pushes": {"enabled": rules.allow_force_pushes},
        "allow_deletions": {"enabled": rules.allow_deletions},
        "block_creations": {"enabled": false},
        "required_conversation_resolution": {"enabled": false},
        "lock_branch": {"enabled": false},
        "allow_fork_syncing": {"enabled": false},
    })
}

/// An array of repository-rule-detailed, one per rule type, from one repository ruleset.
pub(crate) fn branch_rules(repo: &Repo, rules: &[String]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|kind| {
            json!({
                "type": kind,
                "ruleset_source_type": "Repository",
                "ruleset_source": repo.full_name(),
                "ruleset_id": 1,
            })
        })
        .collect();
    Value::Array(rules)
}

/// repository-ruleset of a tag ruleset: the summary GitHub lists, or with `detailed` the
/// conditions and rules a single ruleset's read shows.
pub(crate) fn ruleset(ctx: Ctx<'_>, repo: &Repo, ruleset: &TagRuleset, detailed: bool) -> Value {
    let url = format!(
        "{}/repos/{}/rulesets/{}",
        ctx.base,
        repo.full_name(),
        ruleset.id
    );
    let mut body = json!({
        "id": ruleset.id,
        "name": ruleset.name,
        "target": "tag",
        "source_type": "Repository",
        "source": repo.full_name(),
        "enforcement": "active",
        "node_id": format!("RRS_{}", ruleset.id),
        "_links": {"self": {"href": url}},
        "created_at": repo.created_at.to_string(),
        "updated_at": repo.created_at.to_string(),
    });
    if detailed && let Some(object) = body.as_object_mut() {
        object.insert(
            "conditions".into(),
            json!({"ref_name": {"include": ruleset.include, "exclude": []}}),
        );
        object.insert(
            "rules".into(),
            Value::Array(ruleset.rules.iter().map(|t| json!({"type": t})).collect()),
        );
        object.insert("current_user_can_bypass".into(), json!("never"));
    }
    body
}

/// repository-collaborator-permission.
pub(crate) fn collaborator_permission(ctx: Ctx<'_>, login: &str, role: Role) -> Value {
    let mut collaborator = user(ctx, login);
    if let Some(object) = collaborator.as_object_mut() {
        object.insert("permissions".into(), permissions(role));
        object.insert("role_name".into(), role.role_name().into());
    }
    json!({
        "permission": role.permission(),
        "role_name": role.role_name(),
        "user": collaborator,
    })
}

/// team-membership: a seeded member is an active `member`, an invited one `pending`.
pub(crate) fn team_membership(ctx: Ctx<'_>, team: &Team, login: &str, pending: bool) -> Value {
    let org_id = ctx.state.user(&team.org).map_or(0, |u| u.id);
    json!({
        "url": format!(
            "{}/organizations/{org_id}/team/{}/memberships/{login}",
            ctx.base, team.id
        ),
        "role": "member",
        "state": if pending { "pending" } else { "active" },
    })
}

/// team-full, with its team-organization.
pub(crate) fn team_full(ctx: Ctx<'_>, team: &Team) -> Value {
    let org = ctx.user_record(&team.org);
    let org_api = format!("{}/orgs/{}", ctx.base, org.login);
    let url = format!("{}/organizations/{}/team/{}", ctx.base, org.id, team.id);
    let time = team.created_at.to_string();
    let zero = 0;
    let organization = json!({
        "login": org.login, "id": org.id, "node_id": node_id("Organization", org.id),
        "url": org_api, "repos_url": format!("{org_api}/repos"),
        "events_url": format!("{org_api}/events"), "hooks_url": format!("{org_api}/hooks"),
        "issues_url": format!("{org_api}/issues"),
        "members_url": format!("{org_api}/members{{/member}}"),
        "public_members_url": format!("{org_api}/public_members{{/member}}"),
        "avatar_url": format!("{}/avatars/u/{}?v=4", ctx.base, org.id),
        "description": null, "html_url": format!("{}/{}", ctx.base, org.login),
        "has_organization_projects": true, "has_repository_projects": true,
        "public_repos": zero, "public_gists": zero, "followers": zero, "following": zero,
        "type": "Organization", "created_at": time, "updated_at": time, "archived_at": null,
    });
    json!({
        "id": team.id,
        "node_id": node_id("Team", team.id),
        "url": url,
        "html_url": format!("{}/orgs/{}/teams/{}", ctx.base, org.login, team.slug),
        "name": team.slug,
        "slug": team.slug,
        "description": null,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{url}/members{{/member}}"),
        "repositories_url": format!("{url}/repos"),
        "parent": null,
        "members_count": team.members_count(),
        "repos_count": zero,
        "created_at": time,
        "updated_at": time,
        "organization": organization,
        "type": "organization",
        "organization_id": org.id,
    })
}
