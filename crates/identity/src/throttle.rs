//! Throttling of password checks (logins and `old_password`), so that guessing is slow and a
//! stranger cannot lock an account's owner out.
//!
//! Failures are counted per account *and* client address (a pair), per address, and per
//! account. The rules (docs/native-api.md, "Login throttling"):
//!
//! 1. After [`ThrottleLimits::account_failures`] failures of one pair within the window, that
//!    address is locked out of that account. Other addresses are not: the owner, signing in
//!    from an address that has not failed, still gets in with the right password.
//! 2. After [`ThrottleLimits::address_failures`] failures from one address within the window,
//!    whatever the accounts, that address is locked out of every account (password spraying).
//! 3. While one account has failed [`ACCOUNT_ALARM`] × `account_failures` times within the
//!    window from any addresses (guessing spread over many addresses), an address is locked
//!    out of it at its first failure: each address gets one guess, the owner still none
//!    refused.
//! 4. Back-off is progressive: each lock of the same pair or address that follows an earlier
//!    one before the record is forgotten lasts twice as long, up to `max_lockout_secs`. A
//!    record is forgotten once a window has passed since its last lock ended, or its last
//!    failure, with no new failure.
//! 5. A successful check clears the pair's record; the address's and the account's counts
//!    stay (they are about other accounts and other addresses).
//!
//! Kept in memory: one Weir process counts what it sees (docs/scaling.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use weir_kernel::{Clock, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The limits of a [`LoginThrottle`]; the default: 5 failures an account and address,
/// 20 an address, in 5 minutes; locks from 5 minutes, doubling, to at most an hour.
pub struct ThrottleLimits {
    /// Failures of one account from one address within the window before that address is
    /// locked out of that account.
    pub account_failures: u32,
    /// Failures from one client address within the window, for any accounts, before it is
    /// locked out of every account.
    pub address_failures: u32,
    /// The window failures are counted in, in seconds.
    pub window_secs: i64,
    /// How long a first lock lasts; each next one in a row lasts twice as long.
    pub lockout_secs: i64,
    /// The longest a lock lasts.
    pub max_lockout_secs: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            account_failures: 5,
            address_failures: 20,
            window_secs: 300,
            lockout_secs: 300,
            max_lockout_secs: 3600,
        }
    }
}

/// How many times `account_failures` one account may fail, from all addresses together,
/// before each address gets only one guess (rule 3).
pub const ACCOUNT_ALARM: u32 = 4;

/// The address counted when a client's address is unknown.
const UNKNOWN_ADDRESS: &str = "-";

/// Records kept at most; beyond it, forgotten ones are dropped first, then the oldest.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    /// Failures since `window_start`.
    failures: u32,
    window_start: Millis,
    /// When the last failure was.
    last_failure: Millis,
    locked_until: Millis,
    /// Locks in a row, for the back-off.
    locks: u32,
}

impl Entry {
    /// Whether nothing of this record matters any more.
    fn forgotten(&self, now: Millis, window_ms: i64) -> bool {
        now - self.locked_until.max(self.last_failure) > window_ms
    }
}

/// Counts failed sign-ins by account and client address and locks out guessers (see the
/// module's rules). Shared by every request; safe to use from many threads.
pub struct LoginThrottle {
    limits: ThrottleLimits,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Address(String),
    Account(String),
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", &self.limits)
            .finish()
    }
}

impl LoginThrottle {
    /// A throttle with no records, timing with `clock`.
    pub fn new(limits: ThrottleLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: Option<&str>) -> (Key, Key) {
        let address = address.unwrap_or(UNKNOWN_ADDRESS).to_owned();
        (
            Key::Pair(account.to_owned(), address.clone()),
            Key::Address(address),
        )
    }

    /// Err(seconds to wait) while this address is locked out of this account.
    pub fn check(&self, account: &str, address: Option<&str>) -> Result<(), i64> {
        let now = self.clock.now_ms();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (pair, address) = Self::keys(account, address);
        let wait = [pair, address]
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

    /// Counts a failed sign-in of `account` from `address` (`None`: unknown), locking the
    /// pair or the address when its count within the window reaches its limit.
    pub fn record_failure(&self, account: &str, address: Option<&str>) {
        let now = self.clock.now_ms();
        let l = self.limits;
        let window_ms = l.window_secs * 1000;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| !e.forgotten(now, window_ms));
        }
        if entries.len() >= MAX_ENTRIES {
            // Still full: an attack from very many addresses. Keep the newest half.
            let mut ages: Vec<Millis> = entries.values().map(|e| e.last_failure).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            entries.retain(|_, e| e.last_failure > cut);
        }
        let account_failures = count(
            entries.entry(Key::Account(account.to_owned())).or_default(),
            now,
            window_ms,
        );
        let under_alarm = account_failures > l.account_failures.saturating_mul(ACCOUNT_ALARM);
        let (pair, address) = Self::keys(account, address);
        let pair_max = if under_alarm { 1 } else { l.account_failures };
        for (key, max) in [(pair, pair_max), (address, l.address_failures)] {
            let e = entries.entry(key).or_default();
            if count(e, now, window_ms) >= max {
                let doubling = 1i64 << e.locks.min(20);
                let lockout = l
                    .lockout_secs
                    .saturating_mul(doubling)
                    .min(l.max_lockout_secs);
                e.locked_until = now + lockout * 1000;
                e.locks += 1;
                e.failures = 0;
                e.window_start = now;
            }
        }
    }

    /// A successful check clears the pair's record.
    pub fn record_success(&self, account: &str, address: Option<&str>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Self::keys(account, address).0);
    }
}

/// Counts one failure in `e`'s window (a new window when the last has passed; a forgotten
/// record starts over, its back-off too) and answers the failures in the window.
fn count(e: &mut Entry, now: Millis, window_ms: i64) -> u32 {
    if (e.failures > 0 || e.locks > 0) && e.forgotten(now, window_ms) {
        *e = Entry::default();
    }
    if e.failures == 0 || now - e.window_start > window_ms {
        e.failures = 0;
        e.window_start = now;
    }
    e.failures += 1;
    e.last_failure = now;
    e.failures
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

    fn throttle(limits: ThrottleLimits) -> (LoginThrottle, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock(AtomicI64::new(1_000_000)));
        (LoginThrottle::new(limits, clock.clone()), clock)
    }

    const LIMITS: ThrottleLimits = ThrottleLimits {
        account_failures: 3,
        address_failures: 10,
        window_secs: 60,
        lockout_secs: 30,
        max_lockout_secs: 100,
    };

    const THIEF: Option<&str> = Some("10.0.0.66");
    const OWNER: Option<&str> = Some("10.0.0.1");

    #[test]
    fn a_pair_locks_after_its_limit_and_unlocks_after_the_lockout() {
        let (t, clock) = throttle(LIMITS);
        for _ in 0..2 {
            t.record_failure("x", THIEF);
        }
        assert!(t.check("x", THIEF).is_ok());
        t.record_failure("x", THIEF);
        assert_eq!(t.check("x", THIEF), Err(30));
        // The owner, from an address that has not failed, is not locked out.
        assert!(t.check("x", OWNER).is_ok());
        assert!(t.check("y", THIEF).is_ok());
        clock.0.fetch_add(30_001, Ordering::SeqCst);
        assert!(t.check("x", THIEF).is_ok());
    }

    #[test]
    fn locks_in_a_row_double_up_to_the_maximum_and_are_forgotten() {
        let (t, clock) = throttle(LIMITS);
        for expected in [30, 60, 100, 100] {
            for _ in 0..3 {
                t.record_failure("x", THIEF);
            }
            assert_eq!(t.check("x", THIEF), Err(expected));
            clock.0.fetch_add(expected * 1000 + 1, Ordering::SeqCst);
        }
        // A window with no failure after the last lock: back to the first lockout.
        clock.0.fetch_add(60_001, Ordering::SeqCst);
        for _ in 0..3 {
            t.record_failure("x", THIEF);
        }
        assert_eq!(t.check("x", THIEF), Err(30));
    }

    #[test]
    fn an_address_spraying_accounts_is_locked_out_of_all() {
        let (t, _) = throttle(LIMITS);
        for i in 0..10 {
            t.record_failure(&format!("user{i}"), THIEF);
        }
        assert_eq!(t.check("anyone", THIEF), Err(30));
        assert!(t.check("anyone", OWNER).is_ok());
    }

    #[test]
    fn an_account_under_a_spread_attack_gives_each_address_one_guess() {
        let (t, _) = throttle(LIMITS);
        // 12 failures (4 × 3) from 12 addresses, 1 each: none is locked yet.
        for i in 0..12 {
            let address = format!("10.1.0.{i}");
            t.record_failure("x", Some(&address));
            assert!(t.check("x", Some(&address)).is_ok(), "{address}");
        }
        // Now one failure locks an address out of the account ...
        t.record_failure("x", Some("10.2.0.1"));
        assert_eq!(t.check("x", Some("10.2.0.1")), Err(30));
        // ... and the owner still gets in from a clean address.
        assert!(t.check("x", OWNER).is_ok());
    }

    #[test]
    fn a_success_clears_the_pair_only() {
        let (t, _) = throttle(LIMITS);
        for _ in 0..2 {
            t.record_failure("x", OWNER);
        }
        t.record_success("x", OWNER);
        for _ in 0..2 {
            t.record_failure("x", OWNER);
        }
        assert!(t.check("x", OWNER).is_ok());
    }
}
