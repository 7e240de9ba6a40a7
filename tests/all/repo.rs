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
    fixture.write(".shipgate/plans/a.yaml", "version: 1\n");
    fixture.write(".shipgate/plans/b.yaml", "version: 1\nname: changed\n");
    fixture.write(".shipgate/plans/c.yml", "version: 1\n");
    fixture.write(".shipgate/plans/notes.txt", "not a plan\n");
    let repo = LocalRepo::discover(fixture.path()).expect("repo");
    let base = CommitSha::parse(&base.to_string()).expect("sha");
    let changed = repo
        .changed_yaml_files(&base, ".shipgate/plans")
        .expect("changed");
    assert_eq!(changed, [".shipgate/plans/b.yaml", ".shipgate/plans/c.yml"]);
    assert!(
        repo.changed_yaml_files(&base, ".shipgate/nothing-here")
            .expect("empty")
            .is_empty()
    );
}
