//! The read half of the GitHub port over [`GitHubClient`]: the repository, refs, tags,
//! releases, pull requests, every page of comments, permissions and team membership.

use super::GitHubRead;
use super::client::{GitHubClient, MAX_COMMENTS, MAX_PULL_COMMITS, encode_component, encode_path};
use super::error::GitHubError;
use super::types::{
    GitRef, Permission, PullCommit, PullRequest, Release, RepoInfo, TagObject, WireComment,
    WireIdentity, WireMembership, WirePermission, WirePull, WirePullCommit, WireRef, WireRelease,
    WireRepo, WireTag,
};
use crate::approval::evaluate::Comment;
use crate::model::{CommentId, Login, PrNumber, TeamSlug};

impl GitHubRead for GitHubClient {
    async fn repository(&self) -> Result<RepoInfo, GitHubError> {
        let what = format!("read repository {}", self.repo());
        self.get_json::<WireRepo>(&self.repo_path(""), &what)
            .await?
            .map(RepoInfo::from)
            .ok_or(GitHubError::NotFound { what })
    }

    async fn git_ref(&self, name: &str) -> Result<Option<GitRef>, GitHubError> {
        let path = self.repo_path(&format!("/git/ref/{}", encode_path(name)));
        let wire: Option<WireRef> = self.get_json(&path, &format!("read ref {name}")).await?;
        Ok(wire.map(GitRef::from))
    }

    async fn matching_refs(&self, prefix: &str) -> Result<Vec<GitRef>, GitHubError> {
        let path = self.repo_path(&format!("/git/matching-refs/{}", encode_path(prefix)));
        let wire: Option<Vec<WireRef>> =
            self.get_json(&path, &format!("list refs {prefix}")).await?;
        Ok(wire
            .unwrap_or_default()
            .into_iter()
            .map(GitRef::from)
            .collect())
    }

    async fn tag_object(&self, sha: &str) -> Result<Option<TagObject>, GitHubError> {
        let path = self.repo_path(&format!("/git/tags/{}", encode_component(sha)));
        let wire: Option<WireTag> = self
            .get_json(&path, &format!("read tag object {sha}"))
            .await?;
        Ok(wire.map(TagObject::from))
    }

    async fn published_release(&self, tag: &str) -> Result<Option<Release>, GitHubError> {
        let what = format!("read the release of tag {tag}");
        let path = self.repo_path(&format!("/releases/tags/{}", encode_path(tag)));
        let wire: Option<WireRelease> = self.get_json(&path, &what).await?;
        Ok(wire.map(Release::from))
    }

    async fn recent_releases(&self) -> Result<Vec<Release>, GitHubError> {
        let path = self.repo_path("/releases?per_page=100");
        let wire: Option<Vec<WireRelease>> = self.get_json(&path, "list releases").await?;
        Ok(wire
            .unwrap_or_default()
            .into_iter()
            .map(Release::from)
            .collect())
    }

    async fn open_pull(&self, head: &str, base: &str) -> Result<Option<PullRequest>, GitHubError> {
        let what = format!("find the pull request {head} -> {base}");
        let owner = self.repo().as_str().split('/').next().unwrap_or_default();
        let path = self.repo_path(&format!(
            "/pulls?state=open&head={}&base={}&per_page=100",
            encode_component(&format!("{owner}:{head}")),
            encode_component(base)
        ));
        let wire: Vec<WirePull> = self.get_json(&path, &what).await?.unwrap_or_default();
        wire.into_iter()
            .find(|p| p.head.name == head && p.base.name == base)
            .map(|p| {
                PullRequest::try_from(p).map_err(|detail| GitHubError::BadResponse {
                    what: what.clone(),
                    detail,
                })
            })
            .transpose()
    }

    async fn pull(&self, number: PrNumber) -> Result<Option<PullRequest>, GitHubError> {
        let what = format!("read pull request #{number}");
        let wire: Option<WirePull> = self
            .get_json(&self.repo_path(&format!("/pulls/{number}")), &what)
            .await?;
        wire.map(|p| {
            PullRequest::try_from(p).map_err(|detail| GitHubError::BadResponse { what, detail })
        })
        .transpose()
    }

    async fn comment(&self, id: CommentId) -> Result<Option<Comment>, GitHubError> {
        let what = format!("read comment {id}");
        let wire: Option<WireComment> = self
            .get_json(&self.repo_path(&format!("/issues/comments/{id}")), &what)
            .await?;
        Ok(wire.and_then(WireComment::into_comment))
    }

    async fn comments(&self, issue: PrNumber) -> Result<Vec<Comment>, GitHubError> {
        let what = format!("read the comments of #{issue}");
        let first = self.repo_path(&format!("/issues/{issue}/comments?per_page=100"));
        let wire: Vec<WireComment> =
            self.read_pages(first, &what, MAX_COMMENTS)
                .await?
                .map_err(|_| GitHubError::TooManyComments {
                    issue,
                    limit: MAX_COMMENTS,
                })?;
        Ok(wire
            .into_iter()
            .filter_map(WireComment::into_comment)
            .collect())
    }

    async fn pull_commits(&self, number: PrNumber) -> Result<Vec<PullCommit>, GitHubError> {
        let what = format!("list the commits of #{number}");
        let first = self.repo_path(&format!("/pulls/{number}/commits?per_page=100"));
        let wire: Vec<WirePullCommit> = self
            .read_pages(first, &what, MAX_PULL_COMMITS)
            .await?
            .map_err(|count| GitHubError::TooManyCommits {
                pr: number,
                count: count as u64,
                limit: MAX_PULL_COMMITS as u64,
            })?;
        Ok(wire.into_iter().map(PullCommit::from).collect())
    }

    async fn identity(&self) -> Result<Option<Login>, GitHubError> {
        let what = "read the token's own account (GET /user)";
        match self.get_json::<WireIdentity>("/user", what).await {
            Ok(Some(wire)) => {
                Login::parse(&wire.login)
                    .map(Some)
                    .map_err(|e| GitHubError::BadResponse {
                        what: what.to_owned(),
                        detail: e.to_string(),
                    })
            }
            // An installation token (GITHUB_TOKEN, a GitHub App's) is no user: GitHub answers
            // 403 "Resource not accessible by integration".
            Ok(None) | Err(GitHubError::Forbidden { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn permission(&self, login: &Login) -> Result<Permission, GitHubError> {
        let path = self.repo_path(&format!(
            "/collaborators/{}/permission",
            encode_component(login.as_str())
        ));
        let wire: Option<WirePermission> = self
            .get_json(&path, &format!("read the permission of {login}"))
            .await?;
        Ok(wire.map_or(Permission::None, |w| Permission::from_github(&w.permission)))
    }

    async fn team_member(&self, team: &TeamSlug, login: &Login) -> Result<bool, GitHubError> {
        let (org, slug) = team.as_str().split_once('/').unwrap_or_default();
        let path = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            encode_component(org),
            encode_component(slug),
            encode_component(login.as_str())
        );
        let wire: Option<WireMembership> = self
            .get_json(&path, &format!("read {login}'s membership of {team}"))
            .await?;
        Ok(wire.is_some_and(|m| m.state == "active"))
    }
}
