//! RFC 8785 (JCS) canonical JSON and the `sha256:` digests built on it.
//!
//! Everything shipgate signs or hashes (plan ids, policy hashes, receipts, audit entries) goes
//! through [`to_canonical_json`], so two machines always produce the same bytes. Only what JCS
//! needs is implemented: keys sorted by UTF-16 code units, the ECMAScript string escapes, and
//! integers. Non-integral numbers are refused rather than approximated, because none of our
//! documents carry one and a wrong float rendering would silently change a hash.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest integer that ECMAScript (and so JCS) represents exactly: 2^53 - 1.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    /// The value did not serialize to JSON at all.
    #[error("value does not serialize to JSON: {0}")]
    Serialize(String),
    /// A number that is not an integer within +/- 2^53 - 1.
    #[error("number {0} has no exact canonical form (only integers within 2^53 - 1 are allowed)")]
    UnsupportedNumber(String),
}

/// Serializes `value` to RFC 8785 canonical JSON.
pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
    let value =
        serde_json::to_value(value).map_err(|e| CanonicalError::Serialize(e.to_string()))?;
    let mut out = String::new();
    write_value(&value, &mut out)?;
    Ok(out)
}

/// `sha256:` followed by the lowercase hex SHA-256 of `bytes`.
pub fn sha256_prefixed(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `sha256:` digest of the canonical JSON of `value`.
pub fn canonical_digest<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalError> {
    Ok(sha256_prefixed(to_canonical_json(value)?.as_bytes()))
}

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

fn write_value(value: &Value, out: &mut String) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // RFC 8785 section 3.2.3: order by the UTF-16 code units of the keys (compared
            // as they are decoded: canonicalizing an audit chain sorts millions of keys).
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(n: &serde_json::Number, out: &mut String) -> Result<(), CanonicalError> {
    if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE_INTEGER) {
        out.push_str(&u.to_string());
        return Ok(());
    }
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
        out.push_str(&i.to_string());
        return Ok(());
    }
    Err(CanonicalError::UnsupportedNumber(n.to_string()))
}

/// ECMAScript `JSON.stringify` string escaping, as RFC 8785 section 3.2.2.2 requires. Runs
/// that need no escape are copied whole (entries carry receipts of a kilobyte and more).
fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Only ASCII bytes are escaped, so every cut below is at a character boundary.
    let mut plain_from = 0;
    for (at, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain_from..at]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        plain_from = at + 1;
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc8785_sorts_keys_by_utf16_code_units() {
        // The property-sorting example of RFC 8785, section 3.2.3.
        let input: Value = serde_json::from_str(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh",
                "1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control",
                "\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
            \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(to_canonical_json(&input).unwrap(), expected);
    }

    #[test]
    fn rfc8785_escapes_strings_like_ecmascript() {
        let text =
            to_canonical_json(&json!("\u{0}\u{8}\t\n\u{c}\r\"\\/\u{1f}\u{7f}é\u{2028}")).unwrap();
        assert_eq!(
            text,
            "\"\\u0000\\b\\t\\n\\f\\r\\\"\\\\/\\u001f\u{7f}é\u{2028}\""
        );
    }

    proptest::proptest! {
        /// RFC 8785's escaping is ECMAScript's, which is also serde_json's: for any string
        /// (escapes between plain runs, multi-byte characters), the same bytes.
        #[test]
        fn strings_escape_as_serde_json_does(text in "(\\PC|[\\x00-\\x1f\"\\\\]){0,40}") {
            let mut out = String::new();
            write_string(&text, &mut out);
            proptest::prop_assert_eq!(out, serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn nested_values_have_no_whitespace() {
        let text =
            to_canonical_json(&json!({"b": [1, true, null], "a": {"d": -3, "c": "x"}})).unwrap();
        assert_eq!(text, r#"{"a":{"c":"x","d":-3},"b":[1,true,null]}"#);
    }

    #[test]
    fn floats_and_huge_integers_are_refused() {
        assert!(matches!(
            to_canonical_json(&json!(1.5)),
            Err(CanonicalError::UnsupportedNumber(_))
        ));
        assert!(matches!(
            to_canonical_json(&json!(1u64 << 60)),
            Err(CanonicalError::UnsupportedNumber(_))
        ));
        assert_eq!(
            to_canonical_json(&json!(MAX_SAFE_INTEGER)).unwrap(),
            "9007199254740991"
        );
    }

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 example "abc".
        assert_eq!(
            sha256_prefixed(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
