//! The compile cache: scripts are compiled once and their `AST`s kept, keyed by the script
//! text.
//!
//! The cache is split into shards, each behind its own `RwLock`, so that runs of cached
//! scripts on many threads only take shared locks, and rarely the same one. Each shard holds
//! at most its share of the entries and of the script bytes; a shard that would overflow is
//! emptied before the new entry goes in. That keeps the bound without the bookkeeping of an
//! LRU list: a working set that fits stays cached, and one that does not costs a recompile
//! now and then.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, PoisonError, RwLock};

use rhai::AST;

const MAX_SHARDS: usize = 16;

pub(crate) struct AstCache {
    shards: Box<[RwLock<Shard>]>,
    hasher: RandomState,
    entries_per_shard: usize,
    bytes_per_shard: usize,
}

#[derive(Default)]
struct Shard {
    asts: HashMap<Box<str>, Arc<AST>>,
    /// The sum of the keys' lengths.
    bytes: usize,
}

impl AstCache {
    /// A cache of at most `entries` scripts totalling at most `bytes` of script text; with
    /// either at 0, nothing is cached.
    pub(crate) fn new(entries: usize, bytes: usize) -> Self {
        let shard_count = if entries == 0 || bytes == 0 {
            0
        } else {
            entries.min(MAX_SHARDS)
        };
        let shards = (0..shard_count).map(|_| RwLock::default()).collect();
        Self {
            shards,
            hasher: RandomState::new(),
            entries_per_shard: entries.checked_div(shard_count).unwrap_or(0),
            bytes_per_shard: bytes.checked_div(shard_count).unwrap_or(0),
        }
    }

    fn shard(&self, script: &str) -> Option<&RwLock<Shard>> {
        if self.shards.is_empty() {
            return None;
        }
        // The remainder is below the shard count, so it fits a usize.
        let index = self.hasher.hash_one(script) % self.shards.len() as u64;
        self.shards.get(usize::try_from(index).ok()?)
    }

    pub(crate) fn get(&self, script: &str) -> Option<Arc<AST>> {
        let shard = self
            .shard(script)?
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        shard.asts.get(script).cloned()
    }

    pub(crate) fn insert(&self, script: &str, ast: Arc<AST>) {
        let Some(shard) = self.shard(script) else {
            return;
        };
        if script.len() > self.bytes_per_shard {
            return;
        }
        let mut shard = shard.write().unwrap_or_else(PoisonError::into_inner);
        if shard.asts.contains_key(script) {
            return;
        }
        if shard.asts.len() >= self.entries_per_shard
            || shard.bytes + script.len() > self.bytes_per_shard
        {
            shard.asts.clear();
            shard.bytes = 0;
        }
        shard.bytes += script.len();
        shard.asts.insert(script.into(), ast);
    }

    /// How many scripts are cached now.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .asts
                    .len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ast() -> Arc<AST> {
        Arc::new(AST::empty())
    }

    #[test]
    fn never_holds_more_than_its_entries() {
        let cache = AstCache::new(8, 1 << 20);
        for i in 0..1000 {
            let script = format!("{i}");
            cache.insert(&script, ast());
            assert!(cache.get(&script).is_some(), "the newest entry is kept");
            assert!(cache.len() <= 8);
        }
    }

    #[test]
    fn never_holds_more_than_its_bytes() {
        // 16 shards of 20 bytes: two 10-byte scripts each.
        let cache = AstCache::new(1000, 320);
        for i in 0..1000 {
            let script = format!("{i:>10}");
            cache.insert(&script, ast());
            assert!(cache.get(&script).is_some(), "the newest entry is kept");
            let bytes: usize = cache
                .shards
                .iter()
                .map(|shard| shard.read().unwrap().bytes)
                .sum();
            assert!(bytes <= 320);
        }
        cache.insert(&"x".repeat(21), ast());
        assert!(cache.get(&"x".repeat(21)).is_none(), "too long to cache");
    }

    #[test]
    fn a_zero_capacity_caches_nothing() {
        let cache = AstCache::new(0, 1 << 20);
        cache.insert("1", ast());
        assert!(cache.get("1").is_none());
        assert_eq!(cache.len(), 0);
    }
}
