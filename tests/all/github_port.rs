//! The GitHub port against the fake GitHub over real HTTP: every call, pagination, every fault
//! kind, and ambiguous writes that must never duplicate an effect.

use std::time::{Duration, Instant};

use fake_github::{Fault, FaultKind};
use shipgate::github::types::{NewPullRequest, NewRelease};
use shipgate::github::{
    GitHubConversation, GitHubEffects, GitHubError, GitHubRead, GitHubShipper, Permission,
    Reaction, RetryPolicy, STATUS_MARKER, Shipped, Upserted, find_release, peel_tag,
    upsert_status_comment,
};
use shipgate::model::{CommentId, CommitSha, Login, PrNumber, TeamSlug};

use crate::fixture::TestRepo;
use crate::github_support::{
    ALICE, BOT, GitHubWorld, READ_ONLY, SLUG, Ship, authorize, fast_retries, tag_op,
};

fn fault(method: &str, path: &str, kind: FaultKind, times: u32) -> Fault {
    Fault::new(Some(method), path, kind, times)
}

fn sha(text: &str) -> CommitSha {
    CommitSha::parse(text).expect("sha")
}

fn login(text: &str) -> Login {
    Login::parse(text).expect("login")
}

#[test]
fn reads_the_repository_refs_permissions_and_teams() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    world.block_on(async {
        let info = github.repository().await.expect("repository");
        assert_eq!(info.full_name, SLUG);
        assert_eq!(info.default_branch, "main");

        let main = github
            .git_ref("heads/main")
            .await
            .expect("read")
            .expect("main");
        assert_eq!(main.object_sha, repo.branch_sha("main"));
        assert_eq!(main.object_type, "commit");
        assert_eq!(github.git_ref("heads/nope").await.expect("read"), None);
        let tags = github.matching_refs("tags/").await.expect("list");
        assert_eq!(
            tags.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["refs/tags/v1.0.0"]
        );

        for (who, expected) in [
            ("alice", Permission::Admin),
            ("bob", Permission::Write),
            ("carol", Permission::Read),
            ("mallory", Permission::None),
        ] {
            assert_eq!(
                github.permission(&login(who)).await.expect("permission"),
                expected,
                "{who}"
            );
        }
        let team = TeamSlug::parse("acme/release").expect("team");
        assert!(
            github
                .team_member(&team, &login("bob"))
                .await
                .expect("team")
        );
        assert!(
            !github
                .team_member(&team, &login("alice"))
                .await
                .expect("team")
        );
    });
}

#[test]
fn reads_all_250_comments_across_pages_with_edits_and_bots_marked() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let pr = world
        .fake
        .open_pull(SLUG, "alice", "feature", "main", "Release");
    let mut ids = Vec::new();
    for i in 0..250 {
        let author = if i == 7 { "github-actions[bot]" } else { "bob" };
        ids.push(
            world
                .fake
                .add_comment(SLUG, pr, author, &format!("comment {i}")),
        );
    }
    world.fake.edit_comment(ids[3], "edited");
    world.fake.clear_log();

    let comments = world
        .block_on(world.client(ALICE).comments(PrNumber::new(pr)))
        .expect("comments");
    assert_eq!(comments.len(), 250);
    assert_eq!(
        comments.iter().map(|c| c.id.get()).collect::<Vec<_>>(),
        ids,
        "every page, in order"
    );
    assert!(comments[7].author_is_bot);
    assert!(!comments[8].author_is_bot);
    assert_ne!(comments[3].created_at, comments[3].updated_at);
    assert_eq!(comments[4].created_at, comments[4].updated_at);
    assert_eq!(world.fake.request_count(), 3, "250 comments at 100 a page");
}

#[test]
fn a_bad_token_is_unauthorized_and_a_read_only_token_cannot_write() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let pr = world.fake.open_pull(SLUG, "alice", "feature", "main", "x");
    let err = world
        .block_on(world.client("wrong").repository())
        .expect_err("401");
    assert!(matches!(err, GitHubError::Unauthorized { .. }), "{err}");
    assert_eq!(err.code(), "GITHUB_UNAUTHORIZED");

    let read_only = world.client(READ_ONLY);
    world
        .block_on(read_only.comments(PrNumber::new(pr)))
        .expect("a read-only token reads");
    let err = world
        .block_on(read_only.create_comment(PrNumber::new(pr), "hi"))
        .expect_err("403");
    assert!(matches!(err, GitHubError::Forbidden { .. }), "{err}");
    assert!(world.fake.comments(SLUG, pr).is_empty());
}

#[test]
fn creates_lightweight_and_annotated_tags_and_refuses_duplicates() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    let main = sha(&repo.branch_sha("main"));
    let feature = sha(&repo.branch_sha("feature"));
    world.block_on(async {
        let written = ship.tag("v2.0.0", &main).await.expect("create");
        assert!(!written.recovered);
        assert_eq!(written.value.object_sha, main.as_str());

        let again = ship.tag("v2.0.0", &main).await.expect_err("exists");
        assert!(
            matches!(again, GitHubError::AlreadyExists { .. }),
            "{again}"
        );

        let annotated = ship
            .annotated_tag("v2.1.0", "Release 2.1.0", &feature)
            .await
            .expect("annotated");
        assert_eq!(annotated.value.object_sha, feature.as_str());
        let reference = github
            .git_ref("tags/v2.1.0")
            .await
            .expect("read")
            .expect("ref");
        assert_eq!(reference.object_type, "tag");
        let peeled = peel_tag(&github, &reference)
            .await
            .expect("peel")
            .expect("tag");
        assert_eq!(peeled.object_sha, feature.as_str());
        assert!(peeled.message.starts_with("Release 2.1.0"));
    });
    assert_eq!(
        world.peeled("refs/tags/v2.0.0").as_deref(),
        Some(main.as_str())
    );
    assert_eq!(
        world.peeled("refs/tags/v2.1.0").as_deref(),
        Some(feature.as_str())
    );
}

/// The effect half takes nothing but the pass: what ships is the operation the gate approved,
/// and the pass is spent by it (`Authorized` is neither `Clone` nor `Copy`).
#[test]
fn an_effect_performs_exactly_the_operation_its_pass_carries() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let main = sha(&repo.branch_sha("main"));
    let approved = tag_op("v2.0.0", &main, None);
    let pass = authorize(approved.clone());
    assert_eq!(pass.operation(), &approved);
    let written = world
        .block_on(GitHubShipper::new(&github).ship(pass))
        .expect("shipped");
    assert!(matches!(written.value, Shipped::Tag(ref r) if r.name == "refs/tags/v2.0.0"));
    assert_eq!(
        world.peeled("refs/tags/v2.0.0").as_deref(),
        Some(main.as_str())
    );
    let posts: Vec<String> = world
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        posts,
        [format!("/repos/{SLUG}/git/refs")],
        "one effect, the approved one"
    );
}

#[test]
fn releases_are_created_once_and_never_create_their_tag() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    let release = NewRelease {
        tag_name: "v1.0.0",
        name: "v1.0.0",
        body: "notes",
        draft: false,
        prerelease: false,
    };
    world.block_on(async {
        let written = ship.release(&release).await.expect("create");
        assert_eq!(written.value.tag_name, "v1.0.0");
        assert_eq!(written.value.body.as_deref(), Some("notes"));
        let again = ship.release(&release).await.expect_err("dup");
        assert!(
            matches!(again, GitHubError::AlreadyExists { .. }),
            "{again}"
        );
        let found = find_release(&github, "v1.0.0").await.expect("read");
        assert_eq!(found.map(|r| r.id), Some(written.value.id));

        let missing = NewRelease {
            tag_name: "v3.0.0",
            ..release.clone()
        };
        let err = ship.release(&missing).await.expect_err("no tag");
        assert!(matches!(err, GitHubError::Rejected { .. }), "{err}");
    });
    assert_eq!(world.fake.releases(SLUG).len(), 1);
    assert_eq!(world.peeled("refs/tags/v3.0.0"), None, "no implicit tag");
}

#[test]
fn draft_releases_are_found_through_the_list() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    world.block_on(async {
        let draft = NewRelease {
            tag_name: "v1.0.0",
            name: "draft",
            body: "",
            draft: true,
            prerelease: false,
        };
        ship.release(&draft).await.expect("create");
        let found = find_release(&github, "v1.0.0").await.expect("read");
        assert!(found.is_some_and(|r| r.draft));
    });
}

#[test]
fn pull_requests_are_created_listed_and_not_duplicated() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    let pull = NewPullRequest {
        title: "Release 1.1",
        head: "feature",
        base: "main",
        body: "body",
        draft: false,
    };
    world.block_on(async {
        let written = ship.pull(&pull).await.expect("create");
        assert_eq!(written.value.head_ref, "feature");
        assert_eq!(written.value.base_ref, "main");
        assert_eq!(written.value.head_sha, repo.branch_sha("feature"));
        let again = ship.pull(&pull).await.expect_err("dup");
        assert!(
            matches!(again, GitHubError::Rejected { status: 422, .. }),
            "{again}"
        );
        let open = github.open_pull("feature", "main").await.expect("list");
        assert_eq!(open.map(|p| p.number), Some(written.value.number));
        assert_eq!(
            github.open_pull("main", "feature").await.expect("list"),
            None
        );
    });
    assert_eq!(world.fake.pulls(SLUG).len(), 1);
}

#[test]
fn reads_retry_5xx_and_give_up_after_their_attempts() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let path = format!("/repos/{SLUG}/git/ref/heads/main");
    world
        .fake
        .inject(fault("GET", &path, FaultKind::Status(502), 2));
    world.fake.clear_log();
    let main = world
        .block_on(github.git_ref("heads/main"))
        .expect("third try succeeds");
    assert!(main.is_some());
    assert_eq!(world.fake.request_count(), 3);
    assert_eq!(github.retry_report().retries, 2);

    // Exactly the policy's four read attempts: strict mode fails the test if one is not made.
    world
        .fake
        .inject(fault("GET", &path, FaultKind::Status(503), 4));
    let err = world
        .block_on(github.git_ref("heads/main"))
        .expect_err("unavailable");
    assert!(matches!(err, GitHubError::Unavailable { .. }), "{err}");
    assert_eq!(err.code(), "GITHUB_UNAVAILABLE");
}

#[test]
fn a_slow_answer_times_out_and_is_retried() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client_with(
        ALICE,
        RetryPolicy {
            request_timeout: Duration::from_millis(300),
            ..fast_retries()
        },
    );
    world.fake.inject(fault(
        "GET",
        &format!("/repos/{SLUG}"),
        FaultKind::Latency(Duration::from_secs(3)),
        1,
    ));
    let started = Instant::now();
    world
        .block_on(github.repository())
        .expect("the retry is answered");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(github.retry_report().retries, 1);
}

#[test]
fn rate_limits_are_waited_out_as_github_asks_and_within_the_budget() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let path = format!("/repos/{SLUG}");
    world.fake.inject(fault(
        "GET",
        &path,
        FaultKind::RateLimited {
            status: 403,
            retry_after_secs: 1,
        },
        1,
    ));
    let started = Instant::now();
    world
        .block_on(github.repository())
        .expect("answered after the wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    let report = github.retry_report();
    assert_eq!(report.rate_limited, 1);
    assert_eq!(report.waited, Duration::from_secs(1));

    world.fake.inject(fault(
        "GET",
        &path,
        FaultKind::RateLimited {
            status: 429,
            retry_after_secs: 3600,
        },
        1,
    ));
    let started = Instant::now();
    let err = world
        .block_on(github.repository())
        .expect_err("beyond the budget");
    assert!(
        matches!(err, GitHubError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3600)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not wait in vain"
    );
}

#[test]
fn a_rate_limited_write_is_retried_because_github_did_not_act() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    world.fake.inject(fault(
        "POST",
        &format!("/repos/{SLUG}/releases"),
        FaultKind::RateLimited {
            status: 429,
            retry_after_secs: 0,
        },
        1,
    ));
    let release = NewRelease {
        tag_name: "v1.0.0",
        name: "v1.0.0",
        body: "",
        draft: false,
        prerelease: false,
    };
    let written = world.block_on(ship.release(&release)).expect("created");
    assert!(!written.recovered);
    assert_eq!(world.fake.releases(SLUG).len(), 1);
}

/// The effect happened, the answer was lost: the read-back finds it, nothing is repeated.
#[test]
fn ambiguous_writes_are_settled_by_reading_back_never_repeated() {
    for kind in [
        FaultKind::StatusAfterEffect(502),
        FaultKind::DropAfterEffect,
    ] {
        let repo = TestRepo::standard();
        let world = GitHubWorld::new(&repo);
        let github = world.client(ALICE);
        let ship = Ship(&github);
        let main = sha(&repo.branch_sha("main"));
        for path in ["git/refs", "releases", "pulls"] {
            world.fake.inject(fault(
                "POST",
                &format!("/repos/{SLUG}/{path}"),
                kind.clone(),
                1,
            ));
        }
        world.block_on(async {
            let tag = ship.tag("v2.0.0", &main).await.expect("tag recovered");
            assert!(tag.recovered, "{kind:?}");

            let release = NewRelease {
                tag_name: "v2.0.0",
                name: "v2.0.0",
                body: "notes",
                draft: false,
                prerelease: false,
            };
            let written = ship.release(&release).await.expect("release recovered");
            assert!(written.recovered, "{kind:?}");

            let pull = NewPullRequest {
                title: "t",
                head: "feature",
                base: "main",
                body: "",
                draft: false,
            };
            let written = ship.pull(&pull).await.expect("pr recovered");
            assert!(written.recovered, "{kind:?}");
        });
        let posts = world
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .count();
        assert_eq!(posts, 3, "each write was sent once ({kind:?})");
        assert_eq!(world.fake.releases(SLUG).len(), 1);
        assert_eq!(world.fake.pulls(SLUG).len(), 1);
        assert_eq!(
            world.peeled("refs/tags/v2.0.0").as_deref(),
            Some(main.as_str())
        );
    }
}

/// A 5xx before the effect: the read-back finds nothing, so one more attempt is not blind.
#[test]
fn a_write_that_failed_before_acting_is_attempted_once_more_after_reading_back() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(ALICE);
    let ship = Ship(&github);
    world.fake.inject(fault(
        "POST",
        &format!("/repos/{SLUG}/git/refs"),
        FaultKind::Status(500),
        1,
    ));
    let main = sha(&repo.branch_sha("main"));
    let written = world.block_on(ship.tag("v2.0.0", &main)).expect("created");
    assert!(!written.recovered);
    let methods: Vec<String> = world
        .fake
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.status))
        .collect();
    assert_eq!(methods, ["POST 500", "GET 404", "POST 201"]);

    // All three attempts fail (strict mode checks each was made): the write is left
    // ambiguous.
    world.fake.inject(fault(
        "POST",
        &format!("/repos/{SLUG}/git/refs"),
        FaultKind::Status(500),
        3,
    ));
    let err = world
        .block_on(ship.tag("v2.0.1", &main))
        .expect_err("ambiguous");
    assert!(matches!(err, GitHubError::Ambiguous { .. }), "{err}");
    assert_eq!(world.peeled("refs/tags/v2.0.1"), None);
}

#[test]
fn the_status_comment_is_upserted_in_place_and_reactions_are_idempotent() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let github = world.client(BOT);
    let pr = world.fake.open_pull(SLUG, "alice", "feature", "main", "x");
    let decoy = world.fake.add_comment(
        SLUG,
        pr,
        "alice",
        "a person quoting <!-- shipgate:status --> later",
    );
    let ours = shipgate::model::Login::parse("github-actions[bot]").expect("login");
    world.block_on(async {
        let first = upsert_status_comment(
            &github,
            PrNumber::new(pr),
            &format!("{STATUS_MARKER}\none"),
            &ours,
        )
        .await
        .expect("create");
        let Upserted::Created(id) = first else {
            panic!("expected a new comment, got {first:?}");
        };
        for body in ["two", "three"] {
            let next = upsert_status_comment(
                &github,
                PrNumber::new(pr),
                &format!("{STATUS_MARKER}\n{body}"),
                &ours,
            )
            .await
            .expect("update");
            assert_eq!(next, Upserted::Updated(id));
        }
        github
            .react(CommentId::new(decoy), Reaction::MinusOne)
            .await
            .expect("react");
        github
            .react(CommentId::new(decoy), Reaction::MinusOne)
            .await
            .expect("react again");
    });
    let comments = world.fake.comments(SLUG, pr);
    assert_eq!(comments.len(), 2, "the decoy and one status comment");
    assert_eq!(comments[1].body, format!("{STATUS_MARKER}\nthree"));
    let reactions = world.fake.reactions(decoy);
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0].content, "-1");
}

#[test]
fn the_token_knows_its_own_account_except_an_installation_token() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    let user = world
        .block_on(world.client(ALICE).identity())
        .expect("GET /user");
    assert_eq!(user.map(|l| l.to_string()).as_deref(), Some("alice"));
    // GitHub answers 403 "Resource not accessible by integration" to GITHUB_TOKEN.
    let bot = world
        .block_on(world.client(BOT).identity())
        .expect("403 is no error");
    assert_eq!(bot, None);
}

#[test]
fn a_world_whose_injected_fault_never_fired_fails() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    // A pattern that cannot match what the client sends (`*` is one segment, the prefix is
    // `tags/`): the fault never fires, and the world says so instead of passing.
    world.fake.inject(fault(
        "GET",
        "/repos/*/*/git/matching-refs/*",
        FaultKind::Status(503),
        1,
    ));
    world
        .block_on(world.client(ALICE).matching_refs("tags/"))
        .expect("served without the fault");
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(world)));
    let message = *dropped
        .expect_err("strict")
        .downcast::<String>()
        .expect("text");
    assert!(message.contains("injected fault never fired"), "{message}");
}

/// Issue 15: `/shipgate ship` starts the ship workflow through GitHub's `workflow_dispatch`
/// route, which answers 204 with no body; a ref GitHub does not know is its 422, and a
/// read-only token (a fork's) may not start anything.
#[test]
fn starting_the_ship_workflow_is_a_dispatch_that_github_answers_with_no_content() {
    let repo = TestRepo::standard();
    let world = GitHubWorld::new(&repo);
    world.block_on(async {
        let github = world.client(BOT);
        github
            .dispatch_ship("shipgate-ship.yml", "main", "run_0123")
            .await
            .expect("204");
        let unknown = github
            .dispatch_ship("shipgate-ship.yml", "no-such-branch", "run_0123")
            .await
            .expect_err("no such ref");
        assert!(unknown.to_string().contains("No ref found"), "{unknown}");
        let fork = world.client(READ_ONLY);
        assert!(
            fork.dispatch_ship("shipgate-ship.yml", "main", "run_0123")
                .await
                .is_err()
        );
    });
    let sent: Vec<_> = world
        .fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.path
                .ends_with("/actions/workflows/shipgate-ship.yml/dispatches")
        })
        .collect();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].status, 204);
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"ref": "main", "inputs": {"run-id": "run_0123"}})
    );
    world.fake.assert_clean();
}
