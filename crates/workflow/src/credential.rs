//! The secret of a flow's `httpIn` credential: random, shown once, kept as a hash.

use sha2::{Digest, Sha256};

/// 32 random bytes as hex.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// What is stored: the SHA-256 of the secret, as hex. A secret of 256 random bits needs no
/// slow hash: nothing can be guessed from it.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `stored`, comparing in constant time.
pub fn matches(secret: &str, stored: &str) -> bool {
    let given = hash(secret);
    given.len() == stored.len()
        && given
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_hash_only() {
        let s = new_secret();
        assert_eq!(s.len(), 64);
        assert!(matches(&s, &hash(&s)));
        assert!(!matches(&new_secret(), &hash(&s)));
        assert!(!matches(&s, ""));
    }
}
