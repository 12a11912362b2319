//! Port implementations that need no I/O: bcrypt password hashing and HS256 JWTs.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use weir_kernel::StoreError;

use crate::models::{AccessClaims, Password};
use crate::ports::{PasswordHasher, TokenCodec, TokenDecodeError};

/// The lowest bcrypt cost Weir accepts.
pub const MIN_BCRYPT_COST: u32 = 10;

#[derive(Debug, Clone, Copy)]
/// Hashes passwords with bcrypt at a fixed cost (see [`BcryptHasher::new`]).
pub struct BcryptHasher {
    cost: u32,
}

impl BcryptHasher {
    /// A cost below [`MIN_BCRYPT_COST`] is raised to it.
    pub fn new(cost: u32) -> Self {
        Self {
            cost: cost.clamp(MIN_BCRYPT_COST, 31),
        }
    }
}

impl PasswordHasher for BcryptHasher {
    fn hash(&self, password: &Password) -> Result<String, StoreError> {
        bcrypt::hash(password.expose(), self.cost)
            .map_err(|e| StoreError::Internal(format!("bcrypt: {e}")))
    }

    fn verify(&self, password: &str, hash: &str) -> bool {
        // No stored password is longer (`Password::parse`); bcrypt would compare only the
        // first 72 bytes of a longer guess, and so accept it.
        password.len() <= crate::models::PASSWORD_MAX_BYTES
            && bcrypt::verify(password, hash).unwrap_or(false)
    }
}

/// Signs access tokens with HMAC-SHA256 under a secret of at least 32 bytes.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtCodec(HS256)")
    }
}

impl JwtCodec {
    /// A codec signing and checking HS256 tokens under `secret`; `exp` and `sub` are
    /// required and 5 seconds of clock skew are allowed.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

impl TokenCodec for JwtCodec {
    fn encode(&self, claims: &AccessClaims) -> Result<String, StoreError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| StoreError::Internal(format!("jwt: {e}")))
    }

    fn decode(&self, token: &str) -> Result<AccessClaims, TokenDecodeError> {
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenDecodeError::Expired,
                _ => TokenDecodeError::Malformed,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            sub: "1".into(),
            tid: "default".into(),
            sep: 0,
            iat: 0,
            exp,
            jti: "j".into(),
        }
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let codec = JwtCodec::new(&[7u8; 32]);
        let live = codec.encode(&claims(now() + 60)).unwrap();
        assert_eq!(codec.decode(&live).unwrap().sub, "1");
        let dead = codec.encode(&claims(now() - 60)).unwrap();
        assert_eq!(codec.decode(&dead), Err(TokenDecodeError::Expired));
        let other = JwtCodec::new(&[8u8; 32]);
        assert_eq!(other.decode(&live), Err(TokenDecodeError::Malformed));
        assert_eq!(codec.decode("not.a.jwt"), Err(TokenDecodeError::Malformed));
    }

    #[test]
    fn bcrypt_cost_has_a_floor() {
        let h = BcryptHasher::new(4);
        let hash = h
            .hash(&Password::parse("password", "long-enough-1").unwrap())
            .unwrap();
        assert!(hash.starts_with("$2b$10$"), "{hash}");
        assert!(h.verify("long-enough-1", &hash));
        assert!(!h.verify("wrong-password", &hash));
    }

    #[test]
    fn passwords_beyond_what_bcrypt_reads_are_refused() {
        // 24 three-byte characters: 24 characters, 72 bytes, all read.
        let longest = "€".repeat(24);
        let h = BcryptHasher::new(10);
        let hash = h
            .hash(&Password::parse("password", &longest).unwrap())
            .unwrap();
        assert!(h.verify(&longest, &hash));
        // One character more would be matched by its 72-byte prefix: refused outright.
        let longer = format!("{longest}a");
        let refused = Password::parse("password", &longer).unwrap_err();
        assert_eq!(refused.field, "password");
        assert!(refused.message.contains("72 bytes"), "{}", refused.message);
        assert!(!h.verify(&longer, &hash));
    }
}
