//! Checking many Ed25519 signatures at once: how `audit verify` checks the chain's commits.
//!
//! A signature `(R, s)` by key `A` over `M` is valid when `[s]B = R + [h]A`, with
//! `h = SHA-512(R ‖ A ‖ M) mod ℓ`. A batch weighs each equation by a random 128-bit `z` and
//! checks their sum: `[8](Σ z·R + Σ_A (Σ z·h)·A − (Σ z·s)·B) = 0`. A chain is signed by one
//! audit key, or a few across a rotation, so every signature by the same key folds into one
//! term: one multiscalar multiplication over `n + keys + 1` points, where checking each key
//! per signature (ed25519-dalek's `verify_batch`) takes `2n + 1`.
//!
//! The equation is the cofactored one of RFC 8032: it also accepts a signature whose `R`
//! carries a small-order component, or is not in canonical encoding, which one-by-one
//! verification (and OpenSSH) refuses. Only the holder of the signing key can make such a
//! signature (changing `R` changes `h`), and that holder can sign anything anyway. A failed
//! batch says only that some signature is bad: the caller checks them one by one to name it.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};
use ssh_key::rand_core::{OsRng, RngCore};

/// An Ed25519 public key, decoded once for many checks.
#[derive(Debug, Clone, Copy)]
pub struct BatchKey {
    point: EdwardsPoint,
    encoded: [u8; 32],
}

impl BatchKey {
    /// The key of these 32 bytes, if they encode a curve point.
    pub fn from_bytes(encoded: &[u8; 32]) -> Option<Self> {
        let point = CompressedEdwardsY(*encoded).decompress()?;
        Some(Self {
            point,
            encoded: *encoded,
        })
    }
}

/// One signature of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// Which of the batch's keys made it.
    pub key: usize,
    /// The 64-byte Ed25519 signature, `R ‖ s`.
    pub signature: &'a [u8; 64],
    /// The signed message.
    pub message: &'a [u8],
}

/// Whether every signature of `batch` is valid (module doc), each by `keys[signed.key]`. An
/// empty batch is valid; a key index out of range, an `s` not below ℓ or an `R` that is no
/// curve point makes the batch invalid.
pub fn verify_batch(keys: &[BatchKey], batch: &[Signed<'_>]) -> bool {
    if batch.is_empty() {
        return true;
    }
    let mut weights = vec![0u8; 16 * batch.len()];
    OsRng.fill_bytes(&mut weights);
    let mut base = Scalar::ZERO;
    let mut per_key = vec![Scalar::ZERO; keys.len()];
    let mut scalars = Vec::with_capacity(batch.len());
    let mut points = Vec::with_capacity(batch.len());
    for (signed, weight) in batch.iter().zip(weights.chunks_exact(16)) {
        let Some(key) = keys.get(signed.key) else {
            return false;
        };
        let (r, s) = signed.signature.split_at(32);
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(
            s.try_into().expect("32 bytes"),
        )) else {
            return false;
        };
        let r: [u8; 32] = r.try_into().expect("32 bytes");
        let Some(r_point) = CompressedEdwardsY(r).decompress() else {
            return false;
        };
        let h = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(r)
                .chain_update(key.encoded)
                .chain_update(signed.message)
                .finalize()
                .into(),
        );
        let mut z = [0u8; 32];
        z[..16].copy_from_slice(weight);
        let z = Scalar::from_bytes_mod_order(z);
        base -= z * s;
        per_key[signed.key] += z * h;
        scalars.push(z);
        points.push(r_point);
    }
    let sum = EdwardsPoint::vartime_multiscalar_mul(
        std::iter::once(&base).chain(&per_key).chain(&scalars),
        std::iter::once(&ED25519_BASEPOINT_POINT)
            .chain(keys.iter().map(|key| &key.point))
            .chain(&points),
    );
    sum.mul_by_cofactor().is_identity()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn key(seed: u8) -> (SigningKey, BatchKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let batch = BatchKey::from_bytes(signing.verifying_key().as_bytes()).expect("a point");
        (signing, batch)
    }

    fn signatures(signing: &SigningKey, count: usize) -> Vec<(Vec<u8>, [u8; 64])> {
        (0..count)
            .map(|i| {
                let message = format!("entry {i}").into_bytes();
                let signature = signing.sign(&message).to_bytes();
                (message, signature)
            })
            .collect()
    }

    fn batch<'a>(key: usize, signed: &'a [(Vec<u8>, [u8; 64])]) -> Vec<Signed<'a>> {
        signed
            .iter()
            .map(|(message, signature)| Signed {
                key,
                signature,
                message,
            })
            .collect()
    }

    #[test]
    fn valid_signatures_by_several_keys_pass() {
        let (first, first_key) = key(1);
        let (second, second_key) = key(2);
        let by_first = signatures(&first, 40);
        let by_second = signatures(&second, 3);
        let mut all = batch(0, &by_first);
        all.extend(batch(1, &by_second));
        assert!(verify_batch(&[first_key, second_key], &all));
        assert!(verify_batch(&[first_key], &[]));
    }

    #[test]
    fn one_bad_signature_fails_the_batch() {
        let (signing, batch_key) = key(3);
        let mut signed = signatures(&signing, 20);
        // Another message under a valid signature.
        signed[7].0 = b"entry 7, edited".to_vec();
        assert!(!verify_batch(&[batch_key], &batch(0, &signed)));
        // A signature component changed.
        let mut signed = signatures(&signing, 20);
        signed[11].1[40] ^= 1;
        assert!(!verify_batch(&[batch_key], &batch(0, &signed)));
        // Signed by another key than the one named.
        let (other, other_key) = key(4);
        let mut signed = signatures(&signing, 5);
        signed.extend(signatures(&other, 1));
        assert!(!verify_batch(&[batch_key, other_key], &batch(0, &signed)));
        // A key index the batch does not have.
        assert!(!verify_batch(&[batch_key], &batch(1, &signed[..1])));
    }

    #[test]
    fn s_not_below_the_group_order_fails() {
        let (signing, batch_key) = key(5);
        let mut signed = signatures(&signing, 2);
        // s + ℓ: the same scalar mod ℓ, in a non-canonical encoding (malleability).
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, add) in signed[1].1[32..].iter_mut().zip(l) {
            let sum = u16::from(*byte) + u16::from(add) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + l fits in 32 bytes for this signature");
        assert!(!verify_batch(&[batch_key], &batch(0, &signed)));
    }

    #[test]
    fn an_r_that_is_no_point_fails() {
        let (signing, batch_key) = key(6);
        let mut signed = signatures(&signing, 3);
        // y = 2 is not the y-coordinate of any point of the curve.
        signed[2].1[..32].copy_from_slice(&{
            let mut y = [0u8; 32];
            y[0] = 2;
            y
        });
        assert!(
            CompressedEdwardsY(signed[2].1[..32].try_into().unwrap())
                .decompress()
                .is_none()
        );
        assert!(!verify_batch(&[batch_key], &batch(0, &signed)));
    }
}
