//! A policy file exactly as written: serde types with no rules beyond field names and types.

use std::collections::BTreeMap;

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub version: u64,
    #[serde(default)]
    pub extends: Vec<String>,
    #[serde(default, deserialize_with = "unique_keys")]
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
    pub approval_ttl: Option<String>,
    pub audit: Option<RawAudit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    pub genesis: Option<String>,
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
    pub not_before: Option<String>,
    pub not_after: Option<String>,
}

/// YAML lets a mapping repeat a key and serde keeps the last; for policy groups that would
/// silently drop members, so a repeated key is an error.
fn unique_keys<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, V>, D::Error> {
    struct UniqueKeys<V>(PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format_args!(
                        "duplicate entry with key `{key}`"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(UniqueKeys(PhantomData))
}
