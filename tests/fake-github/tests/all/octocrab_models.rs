//! The fake's bodies are full: octocrab, the client shipgate uses, deserializes every one into
//! its models (which reject partial JSON), follows its `Link` headers, and reads its 422s.
use octocrab::models::reactions::ReactionContent;
use octocrab::params::repos::Reference;

use crate::support::fixture;

#[test]
fn octocrab_reads_every_response_into_its_models() {
    let fx = fixture();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let octo = octocrab::Octocrab::builder()
            .base_uri(fx.fake.base_url())
            .unwrap()
            .personal_token("t-alice".to_owned())
            .build()
            .unwrap();
        let repos = octo.repos("acme", "widget");

        let repo = repos.get().await.unwrap();
        assert_eq!(repo.default_branch.as_deref(), Some("main"));
        assert!(repo.permissions.unwrap().admin);

        let main = repos
            .get_ref(&Reference::Branch("main".into()))
            .await
            .unwrap();
        assert_eq!(main.ref_field, "refs/heads/main");
        let created = repos
            .create_ref(&Reference::Branch("topic".into()), fx.shas.c1.clone())
            .await
            .unwrap();
        assert_eq!(created.ref_field, "refs/heads/topic");
        let heads = repos.list_matching_refs("heads/").await.unwrap();
        assert_eq!(heads.len(), 5);

        let tag = repos
            .create_tag("v0.9", "annotated", fx.shas.c2.clone(), "commit")
            .send()
            .await
            .unwrap();
        let read_tag = repos.get_tag(tag.sha.clone()).await.unwrap();
        assert_eq!(read_tag.tag, "v0.9");

        let commit = octo.commits("acme", "widget").get("main").await.unwrap();
        assert_eq!(commit.sha, fx.shas.c2);
        assert!(commit.author.is_none());
        let commits = octo.commits("acme", "widget");
        let linked = commits.get(fx.shas.c3.as_str()).await.unwrap();
        assert_eq!(linked.author.unwrap().login, "alice");
        assert!(linked.committer.is_none());

        let releases = repos.releases();
        let release = releases
            .create("v1.0")
            .target_commitish("release/1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(releases.get_by_tag("v1.0").await.unwrap().id, release.id);
        assert_eq!(releases.list().send().await.unwrap().items.len(), 1);
        let duplicate = releases.create("v1.0").send().await.unwrap_err();
        match duplicate {
            octocrab::Error::GitHub { source, .. } => {
                assert_eq!(source.status_code.as_u16(), 422);
                assert_eq!(source.message, "Validation Failed");
                let errors = source.errors.unwrap();
                assert_eq!(errors[0]["code"], "already_exists");
            }
            other => panic!("expected GitHub's 422, got {other:?}"),
        }

        let pulls = octo.pulls("acme", "widget");
        let pull = pulls
            .create("Feature", "feature", "main")
            .body("b")
            .send()
            .await
            .unwrap();
        assert_eq!(pull.number, 8);
        let listed = pulls.list().head("acme:feature").send().await.unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(pulls.get(7).await.unwrap().head.ref_field, "release/1.0");

        let issues = octo.issues("acme", "widget");
        let comment = issues.create_comment(7, "first").await.unwrap();
        issues.create_comment(7, "second").await.unwrap();
        let page = issues.list_comments(7).per_page(2u8).send().await.unwrap();
        assert_eq!(page.items.len(), 2);
        let next = octo
            .get_page::<octocrab::models::issues::Comment>(&page.next)
            .await
            .unwrap();
        assert_eq!(next.unwrap().items[0].body.as_deref(), Some("second"));
        let edited = issues.update_comment(comment.id, "edited").await.unwrap();
        assert!(edited.updated_at.unwrap() > comment.created_at);
        assert_eq!(
            issues
                .get_comment(comment.id)
                .await
                .unwrap()
                .body
                .as_deref(),
            Some("edited")
        );
        let reaction = issues
            .create_comment_reaction(comment.id, ReactionContent::PlusOne)
            .await
            .unwrap();
        assert_eq!(reaction.content, ReactionContent::PlusOne);
    });
}
