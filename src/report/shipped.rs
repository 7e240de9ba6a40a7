//! What shipped, for the steps after shipgate (issue 18): one [`ShippedOp`] per operation that
//! an `execute` performed or found done (or that `release publish` published), built from
//! GitHub's own answers, and the step outputs made of them: `shipped` (JSON) and, for the
//! common case of exactly one release, `tag`, `release-id`, `release-url` and `upload-url`.
//!
//! Pure: the caller reads GitHub (the effect's read-back) and the chain; this module only
//! arranges the answers. The field names are a public contract (README "Outputs"): add
//! fields, never rename them.

use serde::Serialize;

use crate::github::Release;
use crate::model::{OpKey, RunId};
use crate::preview::World;

/// One operation that is done on GitHub. Every field is always present; the ones that do not
/// apply to its kind (or that GitHub could not be asked about) are `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippedOp {
    /// `tag`, `release` or `pull_request`.
    pub kind: String,
    /// The operation key, e.g. `release:v1.4.0`.
    pub key: String,
    /// The run that shipped it.
    pub run_id: RunId,
    /// The tag (tags and releases).
    pub tag: Option<String>,
    /// The commit: a tag's (peeled), a release's tag's, a pull request's head.
    pub sha: Option<String>,
    /// GitHub's release id.
    pub release_id: Option<u64>,
    /// The web page (a release's or a pull request's).
    pub html_url: Option<String>,
    /// A release's asset upload URI template, as GitHub gives it.
    pub upload_url: Option<String>,
    /// The pull request's number.
    pub pr_number: Option<u64>,
    /// The pull request's web page.
    pub pr_url: Option<String>,
}

impl ShippedOp {
    /// An operation with only what its key says; the facts GitHub holds are filled in by
    /// [`shipped_ops`] or [`ShippedOp::with_release`].
    fn bare(run_id: &RunId, key: &OpKey) -> Self {
        let named = key.policy_ref();
        let tag = matches!(key.kind(), "tag" | "release").then(|| named.to_owned());
        Self {
            kind: key.kind().to_owned(),
            key: key.to_string(),
            run_id: run_id.clone(),
            tag,
            sha: None,
            release_id: None,
            html_url: None,
            upload_url: None,
            pr_number: None,
            pr_url: None,
        }
    }

    /// A release as GitHub answered for it (publishing a draft), its tag at `sha`.
    pub fn with_release(run_id: &RunId, release: &Release, sha: Option<String>) -> Self {
        let mut op = Self::bare(run_id, &OpKey::release(&release.tag_name));
        op.sha = sha;
        op.fill_release(release);
        op
    }

    fn fill_release(&mut self, release: &Release) {
        self.release_id = Some(release.id);
        self.html_url = Some(release.html_url.clone());
        self.upload_url = Some(release.upload_url.clone());
    }
}

/// The operations `keys` of run `run_id`, done on GitHub, with what `world` (GitHub read
/// back) holds of each; without a world, only what the keys say.
pub fn shipped_ops(run_id: &RunId, keys: &[OpKey], world: Option<&World>) -> Vec<ShippedOp> {
    keys.iter()
        .map(|key| {
            let mut op = ShippedOp::bare(run_id, key);
            let Some(world) = world else {
                return op;
            };
            if let Some(tag) = &op.tag {
                op.sha = world.tags.get(tag).map(|fact| fact.commit.clone());
            }
            if key.kind() == "release"
                && let Some(release) = op.tag.as_ref().and_then(|t| world.releases.get(t))
            {
                op.fill_release(release);
            }
            if key.kind() == "pull_request" {
                let pull = world
                    .pulls
                    .iter()
                    .find(|((head, base), _)| OpKey::pull_request(head, base) == *key);
                if let Some((_, pull)) = pull {
                    op.sha = Some(pull.head_sha.clone());
                    op.html_url = Some(pull.html_url.clone());
                    op.pr_number = Some(pull.number.get());
                    op.pr_url = Some(pull.html_url.clone());
                }
            }
            op
        })
        .collect()
}

/// The step outputs of what shipped: `shipped` as JSON (`[]` when nothing did), and `tag`,
/// `release-id`, `release-url`, `upload-url` of the one release when exactly one shipped
/// (empty otherwise, so that a later step never picks one of several by accident).
pub fn shipped_outputs(shipped: &[ShippedOp]) -> Vec<(&'static str, String)> {
    let json = serde_json::to_string(shipped).unwrap_or_else(|_| "[]".to_owned());
    let releases: Vec<&ShippedOp> = shipped.iter().filter(|op| op.kind == "release").collect();
    let single = match releases.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let field = |get: fn(&ShippedOp) -> Option<String>| single.and_then(get).unwrap_or_default();
    vec![
        ("shipped", json),
        ("tag", field(|op| op.tag.clone())),
        (
            "release-id",
            field(|op| op.release_id.map(|id| id.to_string())),
        ),
        ("release-url", field(|op| op.html_url.clone())),
        ("upload-url", field(|op| op.upload_url.clone())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::PullRequest;
    use crate::model::{Login, PrNumber};
    use crate::preview::TagFact;

    fn run(id: &str) -> RunId {
        RunId::parse(id).expect("run id")
    }

    fn release(tag: &str, id: u64) -> Release {
        Release {
            id,
            tag_name: tag.into(),
            name: None,
            body: None,
            draft: true,
            prerelease: false,
            html_url: format!("https://ghe.test/o/r/releases/tag/{tag}"),
            upload_url: format!(
                "https://ghe.test/api/uploads/repos/o/r/releases/{id}/assets{{?name,label}}"
            ),
        }
    }

    fn world() -> World {
        let mut world = World::default();
        world.tags.insert(
            "v1".into(),
            TagFact {
                commit: "c".repeat(40),
                message: None,
            },
        );
        world.releases.insert("v1".into(), release("v1", 7));
        world.pulls.insert(
            ("rel".into(), "main".into()),
            PullRequest {
                number: PrNumber::new(12),
                state: "open".into(),
                title: "t".into(),
                body: None,
                draft: false,
                head_ref: "rel".into(),
                head_sha: "d".repeat(40),
                base_ref: "main".into(),
                base_sha: "e".repeat(40),
                author: Login::parse("bot").expect("a login"),
                html_url: "https://ghe.test/o/r/pull/12".into(),
                commits: 1,
            },
        );
        world
    }

    fn keys() -> Vec<OpKey> {
        vec![
            OpKey::tag("v1"),
            OpKey::release("v1"),
            OpKey::pull_request("rel", "main"),
        ]
    }

    #[test]
    fn each_kind_carries_its_own_facts_and_null_for_the_others() {
        let json = serde_json::to_value(shipped_ops(&run("run_a"), &keys(), Some(&world())))
            .expect("json");
        let c = "c".repeat(40);
        let d = "d".repeat(40);
        assert_eq!(
            json,
            serde_json::json!([
                {"kind": "tag", "key": "tag:v1", "run_id": "run_a", "tag": "v1", "sha": c,
                 "release_id": null, "html_url": null, "upload_url": null,
                 "pr_number": null, "pr_url": null},
                {"kind": "release", "key": "release:v1", "run_id": "run_a", "tag": "v1",
                 "sha": c, "release_id": 7,
                 "html_url": "https://ghe.test/o/r/releases/tag/v1",
                 "upload_url": "https://ghe.test/api/uploads/repos/o/r/releases/7/assets{?name,label}",
                 "pr_number": null, "pr_url": null},
                {"kind": "pull_request", "key": "pull_request:rel->main", "run_id": "run_a",
                 "tag": null, "sha": d, "release_id": null,
                 "html_url": "https://ghe.test/o/r/pull/12", "upload_url": null,
                 "pr_number": 12, "pr_url": "https://ghe.test/o/r/pull/12"},
            ])
        );
    }

    #[test]
    fn without_a_read_back_only_the_keys_facts_are_given() {
        let ops = shipped_ops(&run("run_a"), &keys(), None);
        assert_eq!(ops[1].tag.as_deref(), Some("v1"));
        assert!(
            ops.iter()
                .all(|op| op.sha.is_none() && op.release_id.is_none())
        );
    }

    fn value<'a>(outputs: &'a [(&str, String)], name: &str) -> &'a str {
        outputs
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("<absent>", |(_, v)| v.as_str())
    }

    #[test]
    fn the_single_release_outputs_name_the_one_release() {
        let outputs = shipped_outputs(&shipped_ops(&run("run_a"), &keys(), Some(&world())));
        assert_eq!(value(&outputs, "tag"), "v1");
        assert_eq!(value(&outputs, "release-id"), "7");
        assert_eq!(
            value(&outputs, "release-url"),
            "https://ghe.test/o/r/releases/tag/v1"
        );
        assert!(value(&outputs, "upload-url").ends_with("/releases/7/assets{?name,label}"));
    }

    #[test]
    fn the_single_release_outputs_are_empty_unless_exactly_one_release_shipped() {
        let none = shipped_outputs(&[]);
        assert_eq!(value(&none, "shipped"), "[]");
        let mut two = shipped_ops(&run("run_a"), &keys(), Some(&world()));
        two.push(ShippedOp::with_release(
            &run("run_b"),
            &release("v2", 8),
            None,
        ));
        for outputs in [none, shipped_outputs(&two)] {
            for name in ["tag", "release-id", "release-url", "upload-url"] {
                assert_eq!(value(&outputs, name), "", "{name}");
            }
        }
    }
}
