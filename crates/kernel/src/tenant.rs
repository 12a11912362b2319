//! Tenants are named by a short slug (`default`, `acme`), as the `TENANT-ID` header carries it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A tenant's id: 1 to 64 characters of `a-z`, `0-9`, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

/// The tenant that exists from the first start.
pub const DEFAULT_TENANT: &str = "default";

/// Why a text is not a [`TenantId`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a tenant id is 1 to 64 characters of a-z, 0-9, '-' and '_'")]
pub struct InvalidTenantId;

impl TenantId {
    /// The tenant id `s` is, if it is one.
    pub fn parse(s: &str) -> Result<Self, InvalidTenantId> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidTenantId)
        }
    }

    /// The [`DEFAULT_TENANT`].
    pub fn default_tenant() -> Self {
        Self(DEFAULT_TENANT.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TenantId> for String {
    fn from(t: TenantId) -> String {
        t.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
