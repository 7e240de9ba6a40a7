//! The plan file exactly as written: serde types with no rules beyond field names and types.
//! [`super::check`] turns them into checked operations.

use serde::Deserialize;

/// A plan file as parsed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    pub version: u64,
    pub name: Option<String>,
    pub operations: Vec<RawOperation>,
}

/// One operation as parsed; which fields are allowed depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOperation {
    pub kind: String,
    pub name: Option<String>,
    pub target: Option<String>,
    pub message: Option<String>,
    pub tag: Option<String>,
    pub title: Option<String>,
    pub notes: Option<String>,
    pub notes_file: Option<String>,
    pub draft: Option<bool>,
    pub prerelease: Option<bool>,
    pub publish: Option<String>,
    pub head: Option<String>,
    pub base: Option<String>,
    pub body: Option<String>,
}

impl RawOperation {
    /// The fields that are present, by name, in declaration order.
    pub fn present_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let mut note = |present: bool, name: &'static str| {
            if present {
                fields.push(name);
            }
        };
        note(self.name.is_some(), "name");
        note(self.target.is_some(), "target");
        note(self.message.is_some(), "message");
        note(self.tag.is_some(), "tag");
        note(self.title.is_some(), "title");
        note(self.notes.is_some(), "notes");
        note(self.notes_file.is_some(), "notes_file");
        note(self.draft.is_some(), "draft");
        note(self.prerelease.is_some(), "prerelease");
        note(self.publish.is_some(), "publish");
        note(self.head.is_some(), "head");
        note(self.base.is_some(), "base");
        note(self.body.is_some(), "body");
        fields
    }
}
