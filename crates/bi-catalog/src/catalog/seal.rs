//! Secrets at rest: datasource passwords are stored sealed, never in clear.
//!
//! [`Sealer`] is the port; [`AesGcmSealer`] is the one implementation, pure computation
//! like the identity domain's bcrypt: AES-256-GCM under a 32-byte key the app gives
//! (`[bi] secret_key`, or one generated once and kept in the database), a random 12-byte
//! nonce per seal, and the place the secret belongs to (tenant and datasource) as
//! associated data, so that a sealed value copied onto another datasource does not open.
//!
//! A sealed value is text: `v1.` then base64 (URL-safe, no padding) of nonce, ciphertext
//! and tag.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// Why a secret could not be sealed or opened. The text is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SealError(pub String);

/// Seals and opens secrets.
pub trait Sealer: Send + Sync {
    /// Seals `plain` for `context` (what the secret belongs to).
    fn seal(&self, plain: &str, context: &str) -> Result<String, SealError>;
    /// Opens what [`Sealer::seal`] made for the same `context`.
    fn open(&self, sealed: &str, context: &str) -> Result<String, SealError>;
}

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 12;

/// AES-256-GCM. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct AesGcmSealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for AesGcmSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesGcmSealer(********)")
    }
}

impl AesGcmSealer {
    /// A sealer with this 32-byte AES-256 key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    /// A key written as 64 hex digits (`[bi] secret_key`).
    pub fn from_hex(hex_key: &str) -> Result<Self, SealError> {
        let bytes = hex::decode(hex_key.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| SealError("the key must be 64 hex digits (32 bytes)".into()))?;
        Ok(Self::new(&bytes))
    }

    /// A new random key, as 64 hex digits.
    pub fn random_key_hex() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        hex::encode(key)
    }
}

impl Sealer for AesGcmSealer {
    fn seal(&self, plain: &str, context: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let bytes = sealed
            .strip_prefix(VERSION)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(|| SealError("the sealed value is malformed".into()))?;
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                SealError(
                    "the sealed value does not open: another key (`[bi] secret_key`) or another owner"
                        .into(),
                )
            })?;
        String::from_utf8(plain).map_err(|_| SealError("the opened value is not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_context() {
        let key = AesGcmSealer::random_key_hex();
        assert_eq!(key.len(), 64);
        let s = AesGcmSealer::from_hex(&key).unwrap();
        let a = s.seal("s3cret!", "t1:1").unwrap();
        let b = s.seal("s3cret!", "t1:1").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(a.starts_with("v1.") && !a.contains("s3cret"));
        assert_eq!(s.open(&a, "t1:1").unwrap(), "s3cret!");
        assert!(s.open(&a, "t1:2").is_err());
        let other = AesGcmSealer::from_hex(&AesGcmSealer::random_key_hex()).unwrap();
        assert!(other.open(&a, "t1:1").is_err());
        assert!(s.open("v1.!!", "t1:1").is_err());
        assert!(s.open("plain", "t1:1").is_err());
        assert!(AesGcmSealer::from_hex("abcd").is_err());
        assert_eq!(format!("{s:?}"), "AesGcmSealer(********)");
    }
}
