//! A policy file exactly as written: serde types with no rules beyond field names and types.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub version: u64,
    #[serde(default)]
    pub extends: Vec<String>,
    #[serde(default)]
    pub groups: BTreeMap<String, RawGroup>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub deny: Vec<RawDeny>,
    #[serde(default)]
    pub freeze: Vec<RawFreeze>,
    #[serde(default)]
    pub halt_admins: Vec<String>,
    #[serde(default)]
    pub signers: Vec<RawSigner>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    pub kinds: Option<Vec<String>>,
    pub refs: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApprovals {
    pub required: u64,
    pub from: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub name: String,
    #[serde(rename = "match")]
    pub matcher: Option<RawMatch>,
    pub approvals: RawApprovals,
    pub self_approval: Option<bool>,
    pub receipt_ttl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeny {
    pub name: String,
    #[serde(rename = "match")]
    pub matcher: RawMatch,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFreeze {
    pub name: String,
    pub from: String,
    pub until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSigner {
    pub kid: String,
    pub role: String,
    pub key: String,
    pub not_after: Option<String>,
}
