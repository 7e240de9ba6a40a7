//! Signing keys: generating Ed25519 keys, loading private keys safely, and git's
//! allowed-signers format (how audit signers are handed to stock `git verify-commit`).
//!
//! A private key never leaves this module as text except into a 0600 file. Key text is held
//! in `Zeroizing` buffers; a key file readable by group or others is refused, as OpenSSH does.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

use crate::model::{KID_RULE, Kid};
use crate::policy::signer::parse_signer_key;
use crate::policy::{Signer, SignerRole};

/// Environment variable holding the audit key's OpenSSH text.
pub const AUDIT_KEY_ENV: &str = "SHIPGATE_AUDIT_KEY";
/// Environment variable holding the mint key's OpenSSH text.
pub const MINT_KEY_ENV: &str = "SHIPGATE_MINT_KEY";

/// Why a key could not be generated, read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The key id is empty or has spaces (it becomes a principal and a key comment).
    #[error("key id `{0}` must be {rule}", rule = KID_RULE)]
    BadKid(String),
    /// Key generation or encoding failed.
    #[error("cannot generate the key: {0}")]
    Generate(String),
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The key file is readable by group or others.
    #[error(
        "{path} is readable by other users (mode {mode:o}); a private key must be private: run `chmod 600 {path}`"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Neither the flag nor the environment variable gives a key.
    #[error("no {role} key: pass --{role}-key FILE or set {env}")]
    Missing {
        /// The role.
        role: &'static str,
        /// The variable.
        env: &'static str,
    },
    /// The text is not an unencrypted OpenSSH Ed25519 private key.
    #[error("{source_name} is not a usable key: {why}")]
    Unusable {
        /// Where the key came from (file or variable).
        source_name: String,
        /// Why.
        why: String,
    },
    /// A line of an allowed-signers file does not parse.
    #[error("allowed signers line {line}: {why}")]
    AllowedSigners {
        /// 1-based line number.
        line: usize,
        /// Why.
        why: String,
    },
}

/// A private key ready to sign, with the key id it is known by.
pub struct SigningKey {
    /// The key id (the key's comment).
    pub kid: Kid,
    /// The key; ssh-key zeroizes its secret half on drop.
    pub key: PrivateKey,
}

impl SigningKey {
    /// The key as a signer of `role` with no retirement: what an appender trusts when no
    /// policy names the chain's signers yet (a chain this key alone has written).
    pub fn as_signer(&self, role: SignerRole) -> Signer {
        let mut key = self.key.public_key().clone();
        key.set_comment("");
        Signer {
            kid: self.kid.clone(),
            role,
            key,
            not_before: None,
            not_after: None,
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A freshly generated key pair.
pub struct GeneratedKey {
    /// The OpenSSH private key text.
    pub private_openssh: Zeroizing<String>,
    /// `ssh-ed25519 AAAA... KID`.
    pub public_line: String,
    /// The key id.
    pub kid: Kid,
    /// The role it is meant for.
    pub role: SignerRole,
}

/// The key-id rule is [`Kid`]'s, in one place.
fn check_kid(kid: &str) -> Result<Kid, KeysError> {
    Kid::parse(kid).map_err(|_| KeysError::BadKid(kid.to_owned()))
}

/// Generates an Ed25519 key whose comment is `kid`.
pub fn generate(kid: &str, role: SignerRole) -> Result<GeneratedKey, KeysError> {
    let checked = check_kid(kid)?;
    let mut key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519)
        .map_err(|e| KeysError::Generate(e.to_string()))?;
    key.set_comment(kid);
    let private_openssh = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| KeysError::Generate(e.to_string()))?;
    let public_line = key
        .public_key()
        .to_openssh()
        .map_err(|e| KeysError::Generate(e.to_string()))?;
    Ok(GeneratedKey {
        private_openssh: Zeroizing::new(private_openssh.to_string()),
        public_line,
        kid: checked,
        role,
    })
}

impl GeneratedKey {
    /// The `signers:` entry to paste into a policy.
    pub fn policy_snippet(&self) -> String {
        let key = self
            .public_line
            .rsplit_once(' ')
            .map_or(self.public_line.as_str(), |(key, _)| key);
        format!(
            "signers:\n  - kid: {}\n    role: {}\n    key: {key}\n",
            self.kid,
            self.role.as_str()
        )
    }
}

/// Writes private key text to a new file with mode 0600 (never overwriting an existing one).
pub fn write_private_key(path: &Path, text: &str) -> Result<(), KeysError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| KeysError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a private key file, refusing one that group or others can read.
pub fn read_private_key_file(path: &Path) -> Result<Zeroizing<String>, KeysError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| KeysError::Io {
        path: path.to_owned(),
        source,
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(KeysError::Exposed {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    Ok(Zeroizing::new(std::fs::read_to_string(path).map_err(io)?))
}

/// Parses an unencrypted OpenSSH Ed25519 private key; its comment is its key id.
pub fn parse_private_key(text: &str, source_name: &str) -> Result<SigningKey, KeysError> {
    let unusable = |why: String| KeysError::Unusable {
        source_name: source_name.to_owned(),
        why,
    };
    let key = PrivateKey::from_openssh(text.trim()).map_err(|e| unusable(e.to_string()))?;
    if key.is_encrypted() {
        return Err(unusable(
            "it is encrypted; shipgate needs an unencrypted key".into(),
        ));
    }
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(unusable(format!(
            "it is {}, not ssh-ed25519",
            key.algorithm()
        )));
    }
    let kid = check_kid(key.comment()).map_err(|_| {
        unusable(format!(
            "its comment `{}` is not a key id (see keys generate)",
            key.comment()
        ))
    })?;
    Ok(SigningKey { kid, key })
}

/// Loads the key of `role` from `--<role>-key FILE` if given, else from the environment text.
pub fn load_signing_key(
    role: SignerRole,
    file: Option<&Path>,
    env_text: Option<Zeroizing<String>>,
) -> Result<SigningKey, KeysError> {
    let (role_name, env) = match role {
        SignerRole::Audit => ("audit", AUDIT_KEY_ENV),
        SignerRole::Mint => ("mint", MINT_KEY_ENV),
    };
    match (file, env_text) {
        (Some(path), _) => {
            let text = read_private_key_file(path)?;
            parse_private_key(&text, &path.display().to_string())
        }
        (None, Some(text)) => parse_private_key(&text, env),
        (None, None) => Err(KeysError::Missing {
            role: role_name,
            env,
        }),
    }
}

/// The namespace a role's key signs in (git's for audit commits, shipgate's for receipts).
fn namespace(role: SignerRole) -> &'static str {
    match role {
        SignerRole::Audit => "git",
        SignerRole::Mint => crate::receipt::RECEIPT_NAMESPACE,
    }
}

/// Renders signers as a git/OpenSSH allowed-signers file: one line per key, the key id as the
/// principal, the role's namespace, `valid-after` at `not_before` and `valid-before` one second
/// after `not_after`.
pub fn allowed_signers_file(signers: &[Signer]) -> String {
    let mut out = String::new();
    for signer in signers {
        let mut options = format!("namespaces=\"{}\"", namespace(signer.role));
        if let Some(start) = signer.not_before {
            let _ = write!(options, ",valid-after=\"{}\"", ssh_time(start));
        }
        if let Some(limit) = signer.not_after {
            let before = limit + time::Duration::seconds(1);
            let _ = write!(options, ",valid-before=\"{}\"", ssh_time(before));
        }
        let _ = writeln!(out, "{} {options} {}", signer.kid, signer.openssh_key());
    }
    out
}

/// An instant as allowed-signers files write it: `YYYYMMDDhhmmssZ`, in UTC.
fn ssh_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Parses an allowed-signers file into signers: the first principal is the key id; a key whose
/// `namespaces` names only `shipgate-receipt` is a mint key, any other an audit key;
/// `valid-after` becomes `not_before` and `valid-before` becomes `not_after` (one second
/// earlier).
pub fn parse_allowed_signers(text: &str) -> Result<Vec<Signer>, KeysError> {
    let mut signers = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| KeysError::AllowedSigners {
            line: index + 1,
            why: why.to_owned(),
        };
        let fields = split_fields(line).ok_or_else(|| bad("unbalanced quotes"))?;
        let (principals, rest) = fields.split_first().ok_or_else(|| bad("empty line"))?;
        let (options, key_fields) = match rest.first() {
            Some(first) if !first.starts_with("ssh-") => (first.as_str(), &rest[1..]),
            _ => ("", rest),
        };
        let [algorithm, blob, ..] = key_fields else {
            return Err(bad("expected a key type and a base64 key"));
        };
        let key =
            parse_signer_key(&format!("{algorithm} {blob}")).map_err(|e| bad(&e.to_string()))?;
        let principal = principals.split(',').next().unwrap_or_default();
        let kid = Kid::parse(principal).map_err(|_| {
            bad(&format!(
                "the first principal `{principal}` names the key in shipgate's reports and must be a key id of {KID_RULE}"
            ))
        })?;
        let mut role = SignerRole::Audit;
        let mut not_before = None;
        let mut not_after = None;
        for option in split_options(options) {
            let (name, value) = option.split_once('=').unwrap_or((option, ""));
            let value = value.trim_matches('"');
            match name.to_ascii_lowercase().as_str() {
                "namespaces" if value == crate::receipt::RECEIPT_NAMESPACE => {
                    role = SignerRole::Mint;
                }
                "valid-after" => {
                    not_before = Some(
                        parse_ssh_time(value)
                            .ok_or_else(|| bad("valid-after is not YYYYMMDD[HHMM[SS]][Z]"))?,
                    );
                }
                "valid-before" => {
                    let before = parse_ssh_time(value)
                        .ok_or_else(|| bad("valid-before is not YYYYMMDD[HHMM[SS]][Z]"))?;
                    not_after = Some(before - time::Duration::seconds(1));
                }
                _ => {}
            }
        }
        signers.push(Signer {
            kid,
            role,
            key,
            not_before,
            not_after,
        });
    }
    Ok(signers)
}

/// Splits on spaces outside double quotes.
fn split_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    fields.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return None;
    }
    if !current.is_empty() {
        fields.push(current);
    }
    Some(fields)
}

/// Splits an option list on commas outside double quotes.
fn split_options(options: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in options.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&options[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < options.len() {
        parts.push(&options[start..]);
    }
    parts
}

/// OpenSSH's `YYYYMMDD[HHMM[SS]][Z]` (shipgate only writes the UTC `Z` form; without `Z` the
/// time is read as UTC too, since a verifier's local zone must not change the answer).
fn parse_ssh_time(text: &str) -> Option<OffsetDateTime> {
    let digits = text.strip_suffix('Z').unwrap_or(text);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits.get(range).unwrap_or("00");
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        field(0..4),
        field(4..6),
        field(6..8),
        field(8..10),
        field(10..12),
        field(12..14)
    );
    OffsetDateTime::parse(&rfc3339, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_with_their_kid_and_never_show_the_secret() {
        let generated = generate("audit-2026q4", SignerRole::Audit).unwrap();
        assert!(generated.public_line.starts_with("ssh-ed25519 AAAA"));
        assert!(generated.public_line.ends_with(" audit-2026q4"));
        let snippet = generated.policy_snippet();
        assert!(snippet.contains("role: audit") && !snippet.contains("PRIVATE"));
        let key = parse_private_key(&generated.private_openssh, "test").unwrap();
        assert_eq!(key.kid, "audit-2026q4");
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    #[test]
    fn world_readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.key");
        let generated = generate("k1", SignerRole::Audit).unwrap();
        write_private_key(&path, &generated.private_openssh).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        load_signing_key(SignerRole::Audit, Some(&path), None).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_signing_key(SignerRole::Audit, Some(&path), None).unwrap_err();
        assert!(
            matches!(err, KeysError::Exposed { mode: 0o644, .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_keys_name_the_flag_and_variable() {
        let err = load_signing_key(SignerRole::Audit, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no audit key: pass --audit-key FILE or set SHIPGATE_AUDIT_KEY"
        );
    }

    fn without_comment(line: &str) -> &str {
        line.rsplit_once(' ').map_or(line, |(key, _)| key)
    }

    #[test]
    fn allowed_signers_round_trip_roles_and_retirement() {
        let audit = generate("audit-1", SignerRole::Audit).unwrap();
        let mint = generate("mint-1", SignerRole::Mint).unwrap();
        let limit = time::macros::datetime!(2027-01-10 00:00 UTC);
        let signers = vec![
            Signer {
                kid: crate::model::Kid::parse("audit-1").unwrap(),
                role: SignerRole::Audit,
                key: parse_signer_key(without_comment(&audit.public_line)).unwrap(),
                not_before: None,
                not_after: Some(limit),
            },
            Signer {
                kid: crate::model::Kid::parse("mint-1").unwrap(),
                role: SignerRole::Mint,
                key: parse_signer_key(without_comment(&mint.public_line)).unwrap(),
                not_before: Some(time::macros::datetime!(2026-12-01 00:00 UTC)),
                not_after: None,
            },
        ];
        let text = allowed_signers_file(&signers);
        assert!(
            text.contains(
                "audit-1 namespaces=\"git\",valid-before=\"20270110000001Z\" ssh-ed25519 "
            )
        );
        assert!(text.contains(
            "mint-1 namespaces=\"shipgate-receipt\",valid-after=\"20261201000000Z\" ssh-ed25519 "
        ));
        assert_eq!(parse_allowed_signers(&text).unwrap(), signers);
    }

    /// Git's allowed-signers files name people by email: such a principal is a key id; a
    /// pattern is not, and the line says why.
    #[test]
    fn allowed_signers_take_email_principals_and_refuse_patterns_by_line() {
        let key = generate("audit-1", SignerRole::Audit).unwrap();
        let public = without_comment(&key.public_line);
        let signers =
            parse_allowed_signers(&format!("alice@example.com,bob@example.com {public}\n"))
                .unwrap();
        assert_eq!(signers[0].kid.as_str(), "alice@example.com");
        let refused = parse_allowed_signers(&format!("# trusted\n*@example.com {public}\n"))
            .unwrap_err()
            .to_string();
        assert!(refused.starts_with("allowed signers line 2:"), "{refused}");
        assert!(refused.contains("`*@example.com`"), "{refused}");
    }
}
