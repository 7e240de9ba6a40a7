//! Steps 2 to 4 of the checklist for one commit, independent of every other: the commit
//! object split as git writes it, its SSHSIG (namespace `git`) by a trusted audit key, that key
//! in force at the entry's time, and the entry itself. Plain Ed25519 signatures are checked
//! many at a time (`batch`); a failed batch is checked again one by one, to name the commit.

use git2::Oid;
use ssh_key::Algorithm;
use ssh_key::SshSig;
use ssh_key::public::KeyData;
use time::OffsetDateTime;

use super::walk::RawCommits;
use super::{CheckedEntry, Decoded, Problem};
use crate::audit::batch::{BatchKey, Signed, verify_batch};
use crate::audit::entry::{SealedEntry, format_entry_time};
use crate::audit::store::GIT_NAMESPACE;
use crate::policy::{Signer, SignerRole};

/// A commit object split into what the checks need.
struct RawCommit<'a> {
    tree: Oid,
    parents: usize,
    signature: Option<String>,
    signed: Vec<u8>,
    message: &'a str,
}

/// Splits a raw commit: headers up to the first blank line, then the message. The signed
/// payload is the object without its `gpgsig` header, exactly as git verifies it. The headers
/// must start as git writes them, `tree` then the `parent`s: the walk finds the line by that
/// layout.
fn split_commit(raw: &[u8]) -> Result<RawCommit<'_>, Problem> {
    let malformed = |why: &str| Problem::MalformedCommit(why.to_owned());
    let text = std::str::from_utf8(raw).map_err(|_| malformed("not UTF-8"))?;
    let (headers, message) = text
        .split_once("\n\n")
        .ok_or_else(|| malformed("no message"))?;
    let mut tree = None;
    let mut parents = 0;
    let mut past_parents = false;
    let mut signature: Option<String> = None;
    let mut signed = String::with_capacity(text.len());
    let mut in_signature = false;
    for line in headers.split('\n') {
        if let Some(continuation) = line.strip_prefix(' ') {
            if in_signature {
                if let Some(sig) = signature.as_mut() {
                    sig.push('\n');
                    sig.push_str(continuation);
                }
            } else {
                signed.push_str(line);
                signed.push('\n');
            }
            continue;
        }
        in_signature = false;
        if let Some(value) = line.strip_prefix("tree ") {
            if tree.is_some() || past_parents || parents > 0 {
                return Err(malformed("a second or misplaced tree header"));
            }
            tree = Some(Oid::from_str(value).map_err(|_| malformed("bad tree id"))?);
        } else if tree.is_none() {
            return Err(malformed("the first header is not the tree"));
        } else if let Some(value) = line.strip_prefix("parent ") {
            if past_parents {
                return Err(malformed("a parent header after other headers"));
            }
            Oid::from_str(value).map_err(|_| malformed("bad parent id"))?;
            parents += 1;
        } else {
            past_parents = true;
            if let Some(value) = line.strip_prefix("gpgsig ") {
                if signature.is_some() {
                    return Err(malformed("two signature headers"));
                }
                signature = Some(value.to_owned());
                in_signature = true;
                continue;
            }
        }
        signed.push_str(line);
        signed.push('\n');
    }
    signed.push('\n');
    signed.push_str(message);
    Ok(RawCommit {
        tree: tree.ok_or_else(|| malformed("no tree"))?,
        parents,
        signature,
        signed: signed.into_bytes(),
        message,
    })
}

/// The trusted audit keys: each distinct key with the signers (key ids) that carry it, and
/// the key decoded once for batch verification.
pub(super) struct AuditKeys<'s> {
    keys: Vec<AuditKey<'s>>,
    /// The keys that decode as curve points, for [`verify_batch`].
    batch_keys: Vec<BatchKey>,
}

/// One trusted audit key.
struct AuditKey<'s> {
    /// The signers with this key; never empty.
    signers: Vec<&'s Signer>,
    /// Its index in [`AuditKeys::batch_keys`]; `None` when it is no curve point (its
    /// signatures are checked one by one, and fail).
    batch_key: Option<usize>,
}

impl<'s> AuditKeys<'s> {
    pub(super) fn new(signers: &'s [Signer]) -> Self {
        let mut keys: Vec<AuditKey<'s>> = Vec::new();
        let mut batch_keys = Vec::new();
        for signer in signers.iter().filter(|s| s.role == SignerRole::Audit) {
            let data = signer.key.key_data();
            if let Some(key) = keys
                .iter_mut()
                .find(|k| k.signers[0].key.key_data() == data)
            {
                key.signers.push(signer);
                continue;
            }
            let point = match data {
                KeyData::Ed25519(public) => BatchKey::from_bytes(&public.0),
                _ => None,
            };
            keys.push(AuditKey {
                signers: vec![signer],
                batch_key: point.map(|point| {
                    batch_keys.push(point);
                    batch_keys.len() - 1
                }),
            });
        }
        Self { keys, batch_keys }
    }

    fn find(&self, data: &KeyData) -> Option<&AuditKey<'s>> {
        self.keys
            .iter()
            .find(|k| k.signers[0].key.key_data() == data)
    }
}

/// Steps 2 to 4 for one commit, its signature checked on its own (offline proofs).
fn decode(raw: &[u8], keys: &AuditKeys<'_>) -> Result<Decoded, Problem> {
    let (decoded, deferred) = decode_deferring(raw, keys);
    match deferred {
        Some(signature) => signature.check_alone().and(decoded),
        None => decoded,
    }
}

/// An Ed25519 signature that step 2 left to a batch: what the batch checks, and what checking
/// it on its own takes, which names the commit when a batch fails.
struct DeferredSignature<'s> {
    /// The key's index in [`AuditKeys::batch_keys`].
    key: usize,
    signature: [u8; 64],
    /// The SSHSIG signed-data blob: namespace, hash algorithm and the commit's digest.
    signed_data: Vec<u8>,
    signer: &'s Signer,
    payload: Vec<u8>,
    sshsig: SshSig,
}

impl DeferredSignature<'_> {
    /// The check step 2 would have made inline: the same verification, the same error.
    fn check_alone(&self) -> Result<(), Problem> {
        self.signer
            .key
            .verify(GIT_NAMESPACE, &self.payload, &self.sshsig)
            .map_err(|e| Problem::BadSignature(e.to_string()))
    }
}

/// Step 2's signature check: left to a batch (`Ok(Some(..))`) when the signature is a plain
/// Ed25519 SSHSIG in the `git` namespace, otherwise made here, as before.
fn check_or_defer<'s>(
    key: &AuditKey<'s>,
    payload: Vec<u8>,
    sshsig: SshSig,
) -> Result<Option<DeferredSignature<'s>>, Problem> {
    let signer = key.signers[0];
    let batchable = (|| {
        let batch_key = key.batch_key?;
        if sshsig.algorithm() != Algorithm::Ed25519
            || sshsig.namespace() != GIT_NAMESPACE
            || !sshsig.reserved().is_empty()
        {
            return None;
        }
        let signature: [u8; 64] = sshsig.signature_bytes().try_into().ok()?;
        let signed_data = SshSig::signed_data(GIT_NAMESPACE, sshsig.hash_alg(), &payload).ok()?;
        Some((batch_key, signature, signed_data))
    })();
    match batchable {
        Some((key, signature, signed_data)) => Ok(Some(DeferredSignature {
            key,
            signature,
            signed_data,
            signer,
            payload,
            sshsig,
        })),
        None => signer
            .key
            .verify(GIT_NAMESPACE, &payload, &sshsig)
            .map(|()| None)
            .map_err(|e| Problem::BadSignature(e.to_string())),
    }
}

/// Steps 2 to 4 for one commit, except the Ed25519 check of a plain signature, which is
/// returned to be checked in a batch. When it is, the decoded result stands only if that
/// signature verifies; otherwise the commit's problem is the bad signature (step 2 comes
/// first).
fn decode_deferring<'s>(
    raw: &[u8],
    keys: &AuditKeys<'s>,
) -> (Result<Decoded, Problem>, Option<DeferredSignature<'s>>) {
    let commit = match split_commit(raw) {
        Ok(commit) => commit,
        Err(problem) => return (Err(problem), None),
    };
    // 2. Signature.
    let Some(armored) = commit.signature.as_deref() else {
        return (Err(Problem::Unsigned), None);
    };
    let signature = match SshSig::from_pem(armored) {
        Ok(signature) => signature,
        Err(e) => return (Err(Problem::BadSignature(e.to_string())), None),
    };
    let Some(key) = keys.find(signature.public_key()) else {
        let fingerprint = ssh_key::PublicKey::from(signature.public_key().clone())
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string();
        return (Err(Problem::UntrustedKey(fingerprint)), None);
    };
    let deferred = match check_or_defer(key, commit.signed, signature) {
        Ok(deferred) => deferred,
        Err(problem) => return (Err(problem), None),
    };
    let decoded = (|| {
        // 4. Entry (before step 3, which needs the entry's time).
        let sealed = SealedEntry::from_commit_message(commit.message)?;
        // 3. In force at the entry's time.
        let at = sealed.entry.at_time()?;
        if !key.signers.iter().any(|s| s.in_force_at(at)) {
            return Err(not_in_force(key.signers[0], &sealed.entry.at, at));
        }
        Ok(Decoded {
            tree: commit.tree,
            parents: commit.parents,
            at,
            checked: CheckedEntry {
                entry: sealed.entry,
                hash: sealed.hash,
            },
        })
    })();
    (decoded, deferred)
}

/// Step 3's problem for an entry dated `at` outside `signer`'s window.
fn not_in_force(signer: &Signer, text: &str, at: OffsetDateTime) -> Problem {
    match signer.not_before {
        Some(start) if at < start => Problem::KeyNotYetInForce {
            kid: signer.kid.clone(),
            not_before: start,
            at,
        },
        _ => Problem::KeyRetired {
            kid: signer.kid.clone(),
            not_after: signer.not_after.map(format_entry_time).unwrap_or_default(),
            at: text.to_owned(),
        },
    }
}

/// Steps 2 to 4 for a run of raw commits, their Ed25519 signatures checked in one batch (see
/// [`super::batch`]: several times faster per signature than one by one, and as strict but
/// for what only the key holder could sign). A batch that fails is checked again signature by
/// signature, so the bad commits are named exactly as before.
pub(super) fn check_commits(
    raw: &RawCommits,
    keys: &AuditKeys<'_>,
) -> Vec<Result<Decoded, Problem>> {
    let mut results = Vec::with_capacity(raw.ends.len());
    let mut deferred = Vec::with_capacity(raw.ends.len());
    for (index, object) in raw.iter().enumerate() {
        let (decoded, signature) = decode_deferring(object, keys);
        results.push(decoded);
        if let Some(signature) = signature {
            deferred.push((index, signature));
        }
    }
    let signed: Vec<Signed<'_>> = deferred
        .iter()
        .map(|(_, d)| Signed {
            key: d.key,
            signature: &d.signature,
            message: &d.signed_data,
        })
        .collect();
    if !verify_batch(&keys.batch_keys, &signed) {
        for (index, signature) in &deferred {
            if let Err(problem) = signature.check_alone() {
                results[*index] = Err(problem);
            }
        }
    }
    results
}

/// Steps 2 to 4 for one raw commit object, without a repository: the signature by an audit
/// key in force at the entry's time, and the entry itself. What offline proofs check.
pub fn check_raw_commit(raw: &[u8], signers: &[Signer]) -> Result<CheckedEntry, Problem> {
    decode(raw, &AuditKeys::new(signers)).map(|decoded| decoded.checked)
}
