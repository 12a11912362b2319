//! 64-bit, time-ordered ids, unique across processes that share one database.
//!
//! Layout (snowflake): 41 bits of milliseconds since 2024-01-01, 10 bits of node, 12 bits
//! of sequence. The node number is handed out by the database at start (see the storage
//! adapter), so two processes sharing a database never mint the same id.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::clock::{Clock, Millis};

/// An object id. JSON shows it as a string, because JavaScript clients lose precision
/// on integers above 2^53; a number is accepted on input too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl Id {
    /// The id as the integer it is.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a text is not an [`Id`]; holds the text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an id (a positive integer written as a string)")]
pub struct ParseIdError(pub String);

impl FromStr for Id {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().parse::<i64>() {
            Ok(v) if v > 0 => Ok(Id(v)),
            _ => Err(ParseIdError(s.chars().take(64).collect())),
        }
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an id string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                if v > 0 {
                    Ok(Id(v))
                } else {
                    Err(E::custom(ParseIdError(v.to_string())))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(ParseIdError(v.to_string())))
                    .and_then(|v| self.visit_i64(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// 2024-01-01T00:00:00Z: ids stay positive and ordered until the year 2093.
const EPOCH_MS: Millis = 1_704_067_200_000;
const NODE_BITS: u32 = 10;
const SEQ_BITS: u32 = 12;
/// How many distinct node numbers there are.
pub const NODE_COUNT: i64 = 1 << NODE_BITS;

/// Mints ids for one process.
pub struct IdGenerator {
    node: i64,
    clock: Box<dyn Clock>,
    state: Mutex<(Millis, i64)>,
}

impl fmt::Debug for IdGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdGenerator")
            .field("node", &self.node)
            .finish()
    }
}

impl IdGenerator {
    /// `node` is reduced modulo [`NODE_COUNT`].
    pub fn new(node: i64, clock: Box<dyn Clock>) -> Self {
        Self {
            node: node.rem_euclid(NODE_COUNT),
            clock,
            state: Mutex::new((0, 0)),
        }
    }

    /// A new id, greater than every id this generator made before.
    pub fn next_id(&self) -> Id {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // A clock that steps back must not produce an id twice: keep the last millisecond.
        let mut now = self.clock.now_ms().max(state.0);
        let mut seq = if now == state.0 { state.1 + 1 } else { 0 };
        if seq >= 1 << SEQ_BITS {
            // 4096 ids in one millisecond: borrow the next millisecond.
            now += 1;
            seq = 0;
        }
        *state = (now, seq);
        let elapsed = (now - EPOCH_MS).max(0);
        Id((elapsed << (NODE_BITS + SEQ_BITS)) | (self.node << SEQ_BITS) | seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SystemClock;

    #[test]
    fn ids_are_increasing_and_distinct_across_nodes() {
        let a = IdGenerator::new(1, Box::new(SystemClock));
        let b = IdGenerator::new(2, Box::new(SystemClock));
        let mut last = Id(0);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let x = a.next_id();
            assert!(x > last);
            last = x;
            assert!(seen.insert(x));
            assert!(seen.insert(b.next_id()));
        }
    }

    #[test]
    fn id_json_is_a_string_and_accepts_numbers() {
        assert_eq!(serde_json::to_string(&Id(42)).unwrap(), "\"42\"");
        assert_eq!(serde_json::from_str::<Id>("\"42\"").unwrap(), Id(42));
        assert_eq!(serde_json::from_str::<Id>("42").unwrap(), Id(42));
        assert!(serde_json::from_str::<Id>("\"x\"").is_err());
        assert!(serde_json::from_str::<Id>("-1").is_err());
    }
}
