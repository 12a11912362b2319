//! The `smartbiToken` codec: pure functions, no HTTP and no storage.
//!
//! A token is `base64(nonce || ciphertext || tag)`: AES-256-GCM under a 32-byte key shared
//! with the caller, a random 12-byte nonce, no associated data, the 16-byte tag appended to
//! the ciphertext (as Java's `AES/GCM/NoPadding` writes it). The plaintext is the UTF-8 JSON
//! object [`TokenClaims`]: `{"timestamp": epoch ms, "username", "password"?, "extend"?}`.
//! See docs/smartbi.md for a worked example.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// Bytes of the AES-GCM nonce that starts a token.
pub const NONCE_LEN: usize = 12;
/// Bytes of the authentication tag that ends a token.
pub const TAG_LEN: usize = 16;
/// The tenant of a token whose `extend.tenant` is absent.
pub const DEFAULT_TENANT: &str = weir_kernel::tenant::DEFAULT_TENANT;
/// How far ahead of the server's clock a token's `timestamp` may be, at most (the window
/// caps it too): clocks of two machines differ a little.
pub const MAX_FUTURE_SKEW_SECS: u64 = 60;
/// The longest token accepted, in characters: far above any real token.
pub const MAX_TOKEN_CHARS: usize = 16 * 1024;

/// The 32-byte AES-256 key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(********)")
    }
}

impl TokenKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key written as 64 hex characters, or as the base64 of 32 bytes (44 characters).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bytes = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(raw).map_err(|e| e.to_string())?
        } else {
            decode_base64(raw).ok_or_else(|| {
                format!(
                    "must be 32 bytes written as 64 hex characters (or as base64), got {} \
                     characters",
                    raw.len()
                )
            })?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "must be 32 bytes (64 hex characters), got {} bytes",
                b.len()
            )
        })?;
        Ok(Self(bytes))
    }

    /// A fresh random key, as 64 hex characters.
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

/// What a token says. `extend` holds anything else the caller wants to send; Weir reads
/// `extend.tenant` (default `default`). The password's `Debug` is redacted.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// When the token was made, in epoch milliseconds.
    pub timestamp: i64,
    /// The user's email, Weir's username.
    pub username: String,
    /// When present, checked against the user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub extend: Map<String, Json>,
}

impl std::fmt::Debug for TokenClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClaims")
            .field("timestamp", &self.timestamp)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("extend", &self.extend)
            .finish()
    }
}

impl TokenClaims {
    pub fn new(timestamp: i64, username: impl Into<String>) -> Self {
        Self {
            timestamp,
            username: username.into(),
            password: None,
            extend: Map::new(),
        }
    }

    /// Sets `extend.tenant`.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.extend
            .insert("tenant".into(), Json::String(tenant.into()));
        self
    }

    pub fn with_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// `extend.tenant`, or `default` when it is absent, null or empty.
    pub fn tenant(&self) -> Result<&str, TokenError> {
        match self.extend.get("tenant") {
            None | Some(Json::Null) => Ok(DEFAULT_TENANT),
            Some(Json::String(s)) if s.trim().is_empty() => Ok(DEFAULT_TENANT),
            Some(Json::String(s)) => Ok(s.trim()),
            Some(_) => Err(TokenError::Claims("extend.tenant must be a string".into())),
        }
    }
}

/// Why a token was refused. Each message starts with `smartbiToken` and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("smartbiToken is empty")]
    Empty,
    #[error("smartbiToken is longer than {MAX_TOKEN_CHARS} characters")]
    TooLong,
    #[error("smartbiToken is not base64")]
    NotBase64,
    #[error(
        "smartbiToken is too short: {0} bytes after base64, at least {min} needed (12-byte nonce, 16-byte tag)",
        min = NONCE_LEN + TAG_LEN + 2
    )]
    TooShort(usize),
    #[error(
        "smartbiToken does not decrypt: it was made with another key (smartbi.token_key) or altered"
    )]
    Undecryptable,
    #[error("smartbiToken decrypts to something that is not a token object: {0}")]
    Claims(String),
    #[error("smartbiToken has no username")]
    NoUsername,
    #[error(
        "smartbiToken has expired: its timestamp {timestamp} is {age_secs} s old, more than the {window_secs} s allowed (smartbi.token_window_secs){hint}"
    )]
    Expired {
        timestamp: i64,
        age_secs: i64,
        window_secs: u64,
        hint: &'static str,
    },
    #[error(
        "smartbiToken's timestamp {timestamp} is {ahead_secs} s in the future, more than the {skew_secs} s allowed for clock skew"
    )]
    FromTheFuture {
        timestamp: i64,
        ahead_secs: i64,
        skew_secs: u64,
    },
}

/// Encrypts claims under the key with a fresh random nonce.
pub fn encrypt(key: &TokenKey, claims: &TokenClaims) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    encrypt_with_nonce(key, nonce, claims)
}

/// Encrypts claims with this nonce. A nonce must never be used twice with one key: use
/// [`encrypt`], except to reproduce a known token (tests, the documented example).
// Invariants: claims are plain strings and numbers (serde_json cannot fail on them), and
// AES-GCM fails only on messages over 64 GiB.
#[allow(clippy::expect_used)]
pub fn encrypt_with_nonce(key: &TokenKey, nonce: [u8; NONCE_LEN], claims: &TokenClaims) -> String {
    let plaintext = serde_json::to_vec(claims).expect("claims serialize");
    let sealed = key
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), plaintext.as_slice())
        .expect("AES-GCM encrypts any message of this size");
    let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&sealed);
    STANDARD.encode(bytes)
}

/// Decrypts a token and reads its claims; the time is not checked (see [`check_time`]).
///
/// Both base64 alphabets are read, with or without padding, and spaces read as `+`: a `+`
/// sent unescaped in a query string or form arrives as a space.
pub fn decrypt(key: &TokenKey, token: &str) -> Result<TokenClaims, TokenError> {
    // Spaces are kept through the trim: a leading or trailing `+` sent unescaped arrives as
    // one, and base64 has no spaces of its own.
    let token = token.trim_matches(|c: char| c.is_whitespace() && c != ' ');
    if token.trim().is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::TooLong);
    }
    // A space that stood for `+` decodes; a stray space around a pasted token is dropped.
    let bytes = decode_base64(&token.replace(' ', "+"))
        .or_else(|| decode_base64(&token.trim().replace(' ', "+")))
        .ok_or(TokenError::NotBase64)?;
    if bytes.len() < NONCE_LEN + TAG_LEN + 2 {
        return Err(TokenError::TooShort(bytes.len()));
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let plaintext = key
        .cipher()
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| TokenError::Undecryptable)?;
    let claims: TokenClaims = serde_json::from_slice(&plaintext)
        .map_err(|e| TokenError::Claims(claims_error(&plaintext, &e)))?;
    if claims.username.trim().is_empty() {
        return Err(TokenError::NoUsername);
    }
    claims.tenant()?;
    Ok(claims)
}

/// Refuses a token made more than `window_secs` before `now_ms`, or more than
/// [`MAX_FUTURE_SKEW_SECS`] (at most the window) after it.
pub fn check_time(claims: &TokenClaims, now_ms: i64, window_secs: u64) -> Result<(), TokenError> {
    let window_ms = i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let skew_secs = MAX_FUTURE_SKEW_SECS.min(window_secs);
    let age_ms = now_ms.saturating_sub(claims.timestamp);
    if age_ms > window_ms {
        // Java's System.currentTimeMillis() is milliseconds; a Unix time in seconds (before
        // 5138 AD) is a common slip.
        let hint = if (0..100_000_000_000).contains(&claims.timestamp) {
            " (timestamp must be epoch milliseconds; this looks like seconds)"
        } else {
            ""
        };
        return Err(TokenError::Expired {
            timestamp: claims.timestamp,
            age_secs: age_ms / 1000,
            window_secs,
            hint,
        });
    }
    if -age_ms > (skew_secs as i64) * 1000 {
        return Err(TokenError::FromTheFuture {
            timestamp: claims.timestamp,
            ahead_secs: -age_ms / 1000,
            skew_secs,
        });
    }
    Ok(())
}

/// [`decrypt`], then [`check_time`].
pub fn open(
    key: &TokenKey,
    token: &str,
    now_ms: i64,
    window_secs: u64,
) -> Result<TokenClaims, TokenError> {
    let claims = decrypt(key, token)?;
    check_time(&claims, now_ms, window_secs)?;
    Ok(claims)
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
}

/// Why decrypted bytes are not claims, without repeating them (they may hold a password).
fn claims_error(plaintext: &[u8], e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        return "it is not JSON".into();
    }
    match serde_json::from_slice::<Json>(plaintext) {
        Ok(Json::Object(_)) => {
            // Only the field name and the expected type, never a value.
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what);
            let what = match what.split_once(": ") {
                Some((head, _)) if head.starts_with("invalid type") => head,
                _ => what,
            };
            format!("{what} (expected {{timestamp: epoch ms, username, password?, extend?}})")
        }
        _ => "it is not a JSON object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of docs/smartbi.md.
    const EXAMPLE_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const EXAMPLE_NONCE: [u8; 12] = [
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
    ];
    const EXAMPLE_MS: i64 = 1_767_225_600_000;

    fn example_claims() -> TokenClaims {
        TokenClaims::new(EXAMPLE_MS, "alice@example.com").with_tenant("default")
    }

    fn key() -> TokenKey {
        TokenKey::parse(EXAMPLE_KEY).unwrap()
    }

    #[test]
    fn the_documented_example_holds() {
        let claims = example_claims();
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"timestamp":1767225600000,"username":"alice@example.com","extend":{"tenant":"default"}}"#
        );
        let token = encrypt_with_nonce(&key(), EXAMPLE_NONCE, &claims);
        assert_eq!(token, EXAMPLE_TOKEN);
        assert_eq!(decrypt(&key(), EXAMPLE_TOKEN).unwrap(), claims);
    }

    const EXAMPLE_TOKEN: &str = "oKGio6SlpqeoqaqrnToIRCiuccsDCPfxPUv36EeeayWkh3JcrD4KpArYEHO8FyqajRhxXDP1Z61JH/uYKmsqLUyzdRNjcik73ATg3tCevxQS0YGOlYyLOrXsqN+rat7IsePkByL8HIMV8k/VWDD+ufxP+bQ=";

    #[test]
    fn round_trips_with_a_random_nonce() {
        let claims = example_claims().with_password("correct-horse-9");
        let a = encrypt(&key(), &claims);
        let b = encrypt(&key(), &claims);
        assert_ne!(a, b, "each token has its own nonce");
        assert_eq!(open(&key(), &a, EXAMPLE_MS + 1000, 300).unwrap(), claims);
        assert_eq!(claims.tenant().unwrap(), "default");
        assert!(!format!("{claims:?}").contains("correct-horse"));
        assert!(!format!("{:?}", key()).contains("0001"));
    }

    #[test]
    fn other_alphabets_and_spaces_decode() {
        let token = encrypt(&key(), &example_claims());
        let url = token.replace('+', "-").replace('/', "_");
        let bare = token.trim_end_matches('=');
        let spaced = token.replace('+', " ");
        for t in [url.as_str(), bare, spaced.as_str()] {
            assert_eq!(decrypt(&key(), t).unwrap(), example_claims(), "{t}");
        }
    }

    #[test]
    fn a_plus_at_either_end_sent_as_a_space_decodes() {
        // One token in 64 starts with `+`; find one of each kind rather than hope.
        let tokens: Vec<String> = (0..2000)
            .map(|_| encrypt(&key(), &example_claims()))
            .collect();
        let leading = tokens.iter().find(|t| t.starts_with('+')).unwrap();
        let spaced = leading.replace('+', " ");
        assert_eq!(decrypt(&key(), &spaced).unwrap(), example_claims());
        let padded = format!(" {} \r\n", tokens[0]);
        assert_eq!(decrypt(&key(), &padded).unwrap(), example_claims());
    }

    #[test]
    fn refuses_what_does_not_decrypt() {
        let token = encrypt(&key(), &example_claims());
        let other = TokenKey::from_bytes([7; 32]);
        assert_eq!(decrypt(&other, &token), Err(TokenError::Undecryptable));
        let mut bytes = STANDARD.decode(&token).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            decrypt(&key(), &STANDARD.encode(bytes)),
            Err(TokenError::Undecryptable)
        );
        assert_eq!(decrypt(&key(), "not base64!"), Err(TokenError::NotBase64));
        assert_eq!(decrypt(&key(), "AAAA"), Err(TokenError::TooShort(3)));
        assert_eq!(decrypt(&key(), "  "), Err(TokenError::Empty));
    }

    fn seal(plaintext: &[u8]) -> String {
        let nonce = [1u8; 12];
        let sealed = key()
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap();
        STANDARD.encode([&nonce[..], &sealed].concat())
    }

    #[test]
    fn refuses_claims_of_the_wrong_shape() {
        let err = |p: &str| {
            decrypt(&key(), &seal(p.as_bytes()))
                .unwrap_err()
                .to_string()
        };
        assert!(err("hello").contains("not JSON"));
        assert!(err("[1]").contains("not a JSON object"));
        assert!(err(r#"{"username":"a@b.c"}"#).contains("timestamp"));
        let secret = err(r#"{"timestamp":1,"username":"a@b.c","password":12345678}"#);
        assert!(secret.contains("invalid type"), "{secret}");
        assert!(!secret.contains("12345678"), "{secret}");
        assert!(err(r#"{"timestamp":1,"username":" "}"#).contains("no username"));
        assert!(
            err(r#"{"timestamp":1,"username":"a@b.c","extend":{"tenant":5}}"#)
                .contains("extend.tenant")
        );
    }

    #[test]
    fn checks_the_time_window() {
        let claims = |ts| TokenClaims::new(ts, "a@b.c");
        let now = EXAMPLE_MS;
        assert!(check_time(&claims(now - 300_000), now, 300).is_ok());
        assert!(check_time(&claims(now + 60_000), now, 300).is_ok());
        let old = check_time(&claims(now - 300_001), now, 300).unwrap_err();
        assert!(matches!(old, TokenError::Expired { .. }), "{old}");
        assert!(old.to_string().contains("300 s"), "{old}");
        let seconds = check_time(&claims(now / 1000), now, 300).unwrap_err();
        assert!(
            seconds.to_string().contains("looks like seconds"),
            "{seconds}"
        );
        let future = check_time(&claims(now + 61_000), now, 300).unwrap_err();
        assert!(
            matches!(future, TokenError::FromTheFuture { .. }),
            "{future}"
        );
        // A window shorter than the skew caps it.
        assert!(check_time(&claims(now + 20_000), now, 10).is_err());
    }

    #[test]
    fn parses_keys() {
        assert_eq!(TokenKey::parse(EXAMPLE_KEY).unwrap(), key());
        let b64 = STANDARD.encode(key().0);
        assert_eq!(TokenKey::parse(&b64).unwrap(), key());
        assert!(TokenKey::parse("abcd").unwrap_err().contains("32 bytes"));
        assert!(TokenKey::parse(&"zz".repeat(32)).is_err());
        assert_eq!(TokenKey::generate_hex().len(), 64);
    }
}
