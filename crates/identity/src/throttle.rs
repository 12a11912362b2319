//! Login throttling: after too many failures for one account or one client address,
//! logins are refused for a while.
//!
//! Kept in memory: one Weir process counts what it sees. Behind a load balancer each
//! process counts on its own, which only makes the effective limit a multiple of the
//! configured one (docs/scaling.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weir_kernel::{Clock, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failures of one account within the window before it is locked.
    pub account_failures: u32,
    /// Failures from one client address within the window before it is locked.
    pub address_failures: u32,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 20,
            window_secs: 300,
            lockout_secs: 300,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Millis,
    locked_until: Millis,
}

pub struct LoginThrottle {
    limits: ThrottleLimits,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", &self.limits)
            .finish()
    }
}

const MAX_ENTRIES: usize = 100_000;

impl LoginThrottle {
    pub fn new(limits: ThrottleLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn account_key(account: &str) -> String {
        format!("a:{account}")
    }

    fn address_key(address: &str) -> String {
        format!("i:{address}")
    }

    /// Err(seconds to wait) while the account or the address is locked.
    pub fn check(&self, account: &str, address: Option<&str>) -> Result<(), i64> {
        let now = self.clock.now_ms();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys = vec![Self::account_key(account)];
        keys.extend(address.map(Self::address_key));
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k))
            .map(|e| e.locked_until - now)
            .max()
            .unwrap_or(0);
        if wait > 0 {
            Err((wait + 999) / 1000)
        } else {
            Ok(())
        }
    }

    pub fn record_failure(&self, account: &str, address: Option<&str>) {
        let now = self.clock.now_ms();
        let l = self.limits;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries
                .retain(|_, e| e.locked_until > now || now - e.window_start < l.window_secs * 1000);
        }
        let mut bump = |key: String, max: u32| {
            let e = entries.entry(key).or_default();
            if now - e.window_start > l.window_secs * 1000 {
                *e = Entry {
                    failures: 0,
                    window_start: now,
                    locked_until: 0,
                };
            }
            e.failures += 1;
            if e.failures >= max {
                e.locked_until = now + l.lockout_secs * 1000;
                e.failures = 0;
                e.window_start = now;
            }
        };
        bump(Self::account_key(account), l.account_failures);
        if let Some(a) = address {
            bump(Self::address_key(a), l.address_failures);
        }
    }

    /// A successful login clears the account's count (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Self::account_key(account));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct FakeClock(AtomicI64);
    impl Clock for FakeClock {
        fn now_ms(&self) -> Millis {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn locks_after_limit_and_unlocks_after_lockout() {
        let clock = Arc::new(FakeClock(AtomicI64::new(1_000_000)));
        let limits = ThrottleLimits {
            account_failures: 3,
            address_failures: 10,
            window_secs: 60,
            lockout_secs: 30,
        };
        let t = LoginThrottle::new(limits, clock.clone());
        for _ in 0..2 {
            t.record_failure("x", Some("1.2.3.4"));
        }
        assert!(t.check("x", Some("1.2.3.4")).is_ok());
        t.record_failure("x", Some("1.2.3.4"));
        assert_eq!(t.check("x", None), Err(30));
        assert!(t.check("y", Some("1.2.3.4")).is_ok());
        clock.0.fetch_add(30_001, Ordering::SeqCst);
        assert!(t.check("x", None).is_ok());
    }
}
