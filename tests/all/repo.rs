//! Read-only repository queries that later stages build on.

use shipgate::model::CommitSha;
use shipgate::repo::LocalRepo;

use crate::fixture::TestRepo;

#[test]
fn the_plans_a_change_proposes_are_those_that_differ_from_the_default_branch() {
    let fixture = TestRepo::standard();
    let plans = [
        (".shipgate/plans/a.yaml", "version: 1\n"),
        (".shipgate/plans/b.yaml", "version: 1\n"),
    ];
    let base = fixture.commit("main", &plans, "plans on main");
    let head = fixture.commit(
        "main",
        &[
            (".shipgate/plans/a.yaml", "version: 1\n"),
            (".shipgate/plans/b.yaml", "version: 1\nname: changed\n"),
            (".shipgate/plans/c.yml", "version: 1\n"),
            (".shipgate/plans/notes.txt", "not a plan\n"),
        ],
        "a change",
    );
    let repo = LocalRepo::discover(fixture.path()).expect("repo");
    let base = CommitSha::parse(&base.to_string()).expect("sha");
    let head = CommitSha::parse(&head.to_string()).expect("sha");
    let changed: Vec<String> = repo
        .changed_yaml_files(&base, &head, ".shipgate/plans")
        .expect("changed")
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(changed, [".shipgate/plans/b.yaml", ".shipgate/plans/c.yml"]);
    assert!(
        repo.changed_yaml_files(&base, &head, ".shipgate/nothing-here")
            .expect("empty")
            .is_empty()
    );
}
