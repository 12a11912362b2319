//! The principal cache: who a token's user is and what they may do, kept in memory so an
//! authenticated request costs no database round trip.
//!
//! Entries are keyed by (tenant, user) and hold the [`Principal`] as last read, plus the
//! user's visible menus once asked for. A hit also needs the token's session epoch to equal
//! the cached user's, so a token from before a revocation never matches a newer entry.
//!
//! Every identity change drops its tenant's entries (see
//! [`IdentityService::apply_peer_change`](crate::IdentityService::apply_peer_change)), and a
//! generation counter keeps a read that overlapped a change from storing what it read: a
//! builder takes a [`Ticket`] before reading and its result is kept only if no invalidation
//! happened since. Entries also expire after a few seconds, a safety net for changes the
//! service does not see (rows edited by hand, a peer's signal lost on the way).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use weir_kernel::{Id, Millis, TenantId};

use crate::models::Menu;
use crate::principal::Principal;

struct Entry {
    principal: Arc<Principal>,
    menus: Option<Arc<Vec<Menu>>>,
    born: Millis,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation; see [`Ticket`].
    generation: u64,
    /// By tenant, so a lookup borrows the tenant id and a tenant is dropped in one go.
    tenants: HashMap<TenantId, HashMap<Id, Entry>>,
    /// Entries over all tenants.
    len: usize,
}

impl Inner {
    fn entry(&self, t: &TenantId, user: Id) -> Option<&Entry> {
        self.tenants.get(t).and_then(|users| users.get(&user))
    }

    /// Drops the entries older than `ttl` (when full).
    fn drop_expired(&mut self, now: Millis, ttl: Millis) {
        for users in self.tenants.values_mut() {
            users.retain(|_, e| now - e.born < ttl);
        }
        self.tenants.retain(|_, users| !users.is_empty());
        self.len = self.tenants.values().map(HashMap::len).sum();
    }

    /// Drops one entry (when full of live ones): an arbitrary one, rebuilt on its user's
    /// next request.
    fn drop_one(&mut self) {
        if let Some(users) = self.tenants.values_mut().find(|u| !u.is_empty())
            && let Some(user) = users.keys().next().copied()
        {
            users.remove(&user);
            self.len -= 1;
        }
    }
}

/// The cache's generation when a builder started reading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

pub(crate) struct PrincipalCache {
    inner: Mutex<Inner>,
    ttl_ms: Millis,
    capacity: usize,
}

impl PrincipalCache {
    /// A cache of at most `capacity` users, each kept `ttl_ms` at most; either 0 disables it.
    pub(crate) fn new(ttl_ms: Millis, capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            ttl_ms,
            capacity,
        }
    }

    fn enabled(&self) -> bool {
        self.ttl_ms > 0 && self.capacity > 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; a poisoned map is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live<'a>(
        &self,
        inner: &'a Inner,
        t: &TenantId,
        user: Id,
        epoch: i64,
        now: Millis,
    ) -> Option<&'a Entry> {
        inner
            .entry(t, user)
            .filter(|e| e.principal.user.session_epoch == epoch && now - e.born < self.ttl_ms)
    }

    /// The cached principal of `user` for a token of session epoch `epoch`.
    pub(crate) fn get(
        &self,
        t: &TenantId,
        user: Id,
        epoch: i64,
        now: Millis,
    ) -> Option<Arc<Principal>> {
        if !self.enabled() {
            return None;
        }
        let inner = self.lock();
        self.live(&inner, t, user, epoch, now)
            .map(|e| e.principal.clone())
    }

    /// The cached visible menus of the caller `p`, if read since the last change.
    pub(crate) fn menus(&self, p: &Principal, now: Millis) -> Option<Arc<Vec<Menu>>> {
        if !self.enabled() {
            return None;
        }
        let inner = self.lock();
        self.live(&inner, &p.tenant_id, p.user_id, p.user.session_epoch, now)
            .and_then(|e| e.menus.clone())
    }

    /// Taken before reading what will be stored.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.lock().generation)
    }

    /// Keeps `principal`, read since `ticket`, unless something changed meanwhile.
    pub(crate) fn put(&self, ticket: Ticket, principal: Arc<Principal>, now: Millis) {
        if !self.enabled() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != ticket.0 {
            return;
        }
        let known = inner
            .entry(&principal.tenant_id, principal.user_id)
            .is_some();
        if !known && inner.len >= self.capacity {
            inner.drop_expired(now, self.ttl_ms);
            if inner.len >= self.capacity {
                inner.drop_one();
            }
        }
        let user = principal.user_id;
        let entry = Entry {
            principal,
            menus: None,
            born: now,
        };
        let users = inner
            .tenants
            .entry(entry.principal.tenant_id.clone())
            .or_default();
        if users.insert(user, entry).is_none() {
            inner.len += 1;
        }
    }

    /// Adds the visible menus, read since `ticket`, to the caller's entry.
    pub(crate) fn put_menus(
        &self,
        ticket: Ticket,
        p: &Principal,
        menus: Arc<Vec<Menu>>,
        now: Millis,
    ) {
        if !self.enabled() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != ticket.0 {
            return;
        }
        let ttl = self.ttl_ms;
        if let Some(e) = inner
            .tenants
            .get_mut(&p.tenant_id)
            .and_then(|users| users.get_mut(&p.user_id))
            .filter(|e| {
                e.principal.user.session_epoch == p.user.session_epoch && now - e.born < ttl
            })
        {
            e.menus = Some(menus);
        }
    }

    /// Drops every entry of tenant `t`.
    pub(crate) fn invalidate_tenant(&self, t: &TenantId) {
        let mut inner = self.lock();
        inner.generation += 1;
        if let Some(users) = inner.tenants.remove(t) {
            inner.len -= users.len();
        }
    }

    /// How many users are cached (for tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.lock().len
    }
}

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::BTreeSet;

    use super::*;
    use crate::models::User;

    fn principal(tenant: &str, user: i64, epoch: i64) -> Arc<Principal> {
        let t = TenantId::parse(tenant).unwrap();
        let mut u = User::new(
            Id(user),
            t.clone(),
            format!("u{user}"),
            None,
            "U".into(),
            String::new(),
            0,
        );
        u.session_epoch = epoch;
        Arc::new(Principal {
            tenant_id: t,
            user_id: Id(user),
            user: u,
            roles: Vec::new(),
            groups: BTreeSet::new(),
            super_admin: false,
            codes: BTreeSet::new(),
            permissions: BTreeSet::new(),
            resources: Some(Vec::new()),
        })
    }

    fn t(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    #[test]
    fn a_hit_needs_the_same_epoch_and_a_young_entry() {
        let c = PrincipalCache::new(1000, 10);
        c.put(c.ticket(), principal("a", 1, 3), 0);
        assert!(c.get(&t("a"), Id(1), 3, 999).is_some());
        assert!(c.get(&t("a"), Id(1), 2, 10).is_none());
        assert!(c.get(&t("a"), Id(1), 3, 1000).is_none());
        assert!(c.get(&t("b"), Id(1), 3, 10).is_none());
    }

    #[test]
    fn a_read_that_overlapped_a_change_is_not_kept() {
        let c = PrincipalCache::new(1000, 10);
        let ticket = c.ticket();
        c.invalidate_tenant(&t("other"));
        c.put(ticket, principal("a", 1, 0), 0);
        assert_eq!(c.len(), 0);
        let ticket = c.ticket();
        c.put(ticket, principal("a", 1, 0), 0);
        let menus = c.ticket();
        c.invalidate_tenant(&t("b"));
        c.put_menus(menus, &principal("a", 1, 0), Arc::new(Vec::new()), 0);
        assert!(c.menus(&principal("a", 1, 0), 0).is_none());
    }

    #[test]
    fn a_change_drops_only_its_tenant() {
        let c = PrincipalCache::new(1000, 10);
        c.put(c.ticket(), principal("a", 1, 0), 0);
        c.put(c.ticket(), principal("a", 2, 0), 0);
        c.put(c.ticket(), principal("b", 1, 0), 0);
        assert_eq!(c.len(), 3);
        c.invalidate_tenant(&t("a"));
        assert_eq!(c.len(), 1);
        assert!(c.get(&t("b"), Id(1), 0, 0).is_some());
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let c = PrincipalCache::new(1000, 2);
        for user in 0..5 {
            c.put(c.ticket(), principal("a", user, 0), 0);
        }
        assert_eq!(c.len(), 2);
        // Expired entries go first.
        c.put(c.ticket(), principal("b", 9, 0), 2000);
        c.put(c.ticket(), principal("b", 8, 0), 2000);
        assert!(c.get(&t("b"), Id(9), 0, 2000).is_some());
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_zero_capacity_or_age_disables_it() {
        for c in [PrincipalCache::new(0, 10), PrincipalCache::new(1000, 0)] {
            c.put(c.ticket(), principal("a", 1, 0), 0);
            assert!(c.get(&t("a"), Id(1), 0, 0).is_none());
        }
    }
}
