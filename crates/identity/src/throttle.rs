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
//! The rules are pure functions over [`ThrottleRecord`]s; the records live behind the
//! [`ThrottleRepo`] port, in the database, so every Weir process on one database counts the
//! same failures (docs/scaling.md). A failure is counted in one write transaction that
//! locks the records it changes, so failures racing on several processes are all counted.

use std::sync::Arc;

use weir_kernel::{Clock, Millis, StoreError};

use crate::ports::ThrottleRepo;

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

/// Forgotten records deleted at most per counted failure: more than the three a failure
/// may add, so the table shrinks back after an attack, in small statements.
pub const PURGE_BATCH: i64 = 100;

/// What the rules remember of one key (a pair, an address or an account).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRecord {
    /// Failures since `window_start`.
    pub failures: u32,
    /// When the window the failures are counted in began.
    pub window_start: Millis,
    /// When the last failure was.
    pub last_failure: Millis,
    /// Until when the key is locked out (in the past: not locked).
    pub locked_until: Millis,
    /// Locks in a row, for the back-off.
    pub locks: u32,
}

impl ThrottleRecord {
    /// The last time anything happened to the record: its last failure or the end of its
    /// last lock. A window after it, the record is forgotten (and may be deleted).
    pub fn last_event(&self) -> Millis {
        self.locked_until.max(self.last_failure)
    }

    /// Whether nothing of this record matters any more.
    fn forgotten(&self, now: Millis, window_ms: i64) -> bool {
        now - self.last_event() > window_ms
    }

    /// Counts one failure in the record's window (a new window when the last has passed; a
    /// forgotten record starts over, its back-off too) and answers the failures in the
    /// window.
    fn count(&mut self, now: Millis, window_ms: i64) -> u32 {
        if (self.failures > 0 || self.locks > 0) && self.forgotten(now, window_ms) {
            *self = Self::default();
        }
        if self.failures == 0 || now - self.window_start > window_ms {
            self.failures = 0;
            self.window_start = now;
        }
        self.failures += 1;
        self.last_failure = now;
        self.failures
    }

    /// Counts one failure and locks the key when the window holds `max` of them, each lock
    /// in a row twice as long as the one before.
    fn fail(&mut self, max: u32, now: Millis, l: &ThrottleLimits) {
        if self.count(now, l.window_secs * 1000) >= max {
            let doubling = 1i64 << self.locks.min(20);
            let lockout = l
                .lockout_secs
                .saturating_mul(doubling)
                .min(l.max_lockout_secs);
            self.locked_until = now + lockout * 1000;
            self.locks += 1;
            self.failures = 0;
            self.window_start = now;
        }
    }
}

/// The keys of one password check's records, as stored.
struct Keys {
    pair: String,
    address: String,
    account: String,
}

impl Keys {
    /// Each kind of key has its own prefix, and a pair's address is length-prefixed, so
    /// that no two (account, address) pairs share a key whatever they contain.
    fn new(account: &str, address: Option<&str>) -> Self {
        let address = address.unwrap_or(UNKNOWN_ADDRESS);
        Self {
            pair: format!("pair:{}:{address}:{account}", address.len()),
            address: format!("address:{address}"),
            account: format!("account:{account}"),
        }
    }
}

/// Applies a failure of an account from an address to the records of its account, pair
/// and address (rules 1 to 4).
fn apply_failure(
    l: &ThrottleLimits,
    now: Millis,
    account: &mut ThrottleRecord,
    pair: &mut ThrottleRecord,
    address: &mut ThrottleRecord,
) {
    let account_failures = account.count(now, l.window_secs * 1000);
    let under_alarm = account_failures > l.account_failures.saturating_mul(ACCOUNT_ALARM);
    pair.fail(if under_alarm { 1 } else { l.account_failures }, now, l);
    address.fail(l.address_failures, now, l);
}

/// Counts failed sign-ins by account and client address and locks out guessers (see the
/// module's rules), keeping its records in a [`ThrottleRepo`]. Each method works inside
/// the caller's transaction: a read one for [`Self::lockout`], a write one for the others.
pub struct LoginThrottle {
    limits: ThrottleLimits,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("limits", &self.limits)
            .finish()
    }
}

impl LoginThrottle {
    /// A throttle with these limits, timing with `clock`.
    pub fn new(limits: ThrottleLimits, clock: Arc<dyn Clock>) -> Self {
        Self { limits, clock }
    }

    /// The seconds to wait (rounded up) while this address is locked out of this account;
    /// `None` when it may try.
    pub fn lockout(
        &self,
        tx: &mut dyn ThrottleRepo,
        account: &str,
        address: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let now = self.clock.now_ms();
        let keys = Keys::new(account, address);
        let records = tx.throttle_records(&[&keys.pair, &keys.address])?;
        let wait = records
            .iter()
            .map(|r| r.locked_until - now)
            .max()
            .unwrap_or(0);
        Ok((wait > 0).then_some((wait + 999) / 1000))
    }

    /// Counts a failed sign-in of `account` from `address` (`None`: unknown), locking the
    /// pair or the address when its count within the window reaches its limit; then
    /// deletes a few forgotten records of any keys. Run it in a write transaction.
    pub fn record_failure(
        &self,
        tx: &mut dyn ThrottleRepo,
        account: &str,
        address: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let keys = Keys::new(account, address);
        let [k_account, k_pair, k_address] = [&keys.account, &keys.pair, &keys.address];
        let records = tx.lock_throttle_records(&[k_account, k_pair, k_address])?;
        let [mut account, mut pair, mut address] = match records[..] {
            [a, p, d] => [a, p, d],
            _ => {
                return Err(StoreError::Internal(
                    "the store answered another number of throttle records than asked".into(),
                ));
            }
        };
        apply_failure(&self.limits, now, &mut account, &mut pair, &mut address);
        for (key, record) in [(k_account, account), (k_pair, pair), (k_address, address)] {
            tx.save_throttle_record(key, &record)?;
        }
        tx.purge_throttle_records(now - self.limits.window_secs * 1000, PURGE_BATCH)?;
        Ok(())
    }

    /// A successful check clears the pair's record. Run it in a write transaction.
    pub fn record_success(
        &self,
        tx: &mut dyn ThrottleRepo,
        account: &str,
        address: Option<&str>,
    ) -> Result<(), StoreError> {
        tx.delete_throttle_record(&Keys::new(account, address).pair)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct FakeClock(AtomicI64);
    impl Clock for FakeClock {
        fn now_ms(&self) -> Millis {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// The records in memory: the store as far as the rules can tell.
    #[derive(Default)]
    struct Memory(HashMap<String, ThrottleRecord>);

    impl ThrottleRepo for Memory {
        fn throttle_records(&mut self, keys: &[&str]) -> Result<Vec<ThrottleRecord>, StoreError> {
            Ok(keys
                .iter()
                .map(|k| self.0.get(*k).copied().unwrap_or_default())
                .collect())
        }
        fn lock_throttle_records(
            &mut self,
            keys: &[&str],
        ) -> Result<Vec<ThrottleRecord>, StoreError> {
            self.throttle_records(keys)
        }
        fn save_throttle_record(
            &mut self,
            key: &str,
            record: &ThrottleRecord,
        ) -> Result<(), StoreError> {
            self.0.insert(key.to_owned(), *record);
            Ok(())
        }
        fn delete_throttle_record(&mut self, key: &str) -> Result<(), StoreError> {
            self.0.remove(key);
            Ok(())
        }
        fn purge_throttle_records(
            &mut self,
            before: Millis,
            limit: i64,
        ) -> Result<usize, StoreError> {
            let old: Vec<String> = self
                .0
                .iter()
                .filter(|(_, r)| r.last_event() < before)
                .map(|(k, _)| k.clone())
                .take(usize::try_from(limit).unwrap_or(0))
                .collect();
            for k in &old {
                self.0.remove(k);
            }
            Ok(old.len())
        }
    }

    /// A throttle on records in memory, answering as the tests expect.
    struct Throttle {
        throttle: LoginThrottle,
        records: Mutex<Memory>,
    }

    impl Throttle {
        fn check(&self, account: &str, address: Option<&str>) -> Result<(), i64> {
            let mut records = self.records.lock().unwrap();
            match self
                .throttle
                .lockout(&mut *records, account, address)
                .unwrap()
            {
                Some(wait) => Err(wait),
                None => Ok(()),
            }
        }
        fn record_failure(&self, account: &str, address: Option<&str>) {
            let mut records = self.records.lock().unwrap();
            self.throttle
                .record_failure(&mut *records, account, address)
                .unwrap();
        }
        fn record_success(&self, account: &str, address: Option<&str>) {
            let mut records = self.records.lock().unwrap();
            self.throttle
                .record_success(&mut *records, account, address)
                .unwrap();
        }
        fn len(&self) -> usize {
            self.records.lock().unwrap().0.len()
        }
    }

    fn throttle(limits: ThrottleLimits) -> (Throttle, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock(AtomicI64::new(1_000_000)));
        let throttle = Throttle {
            throttle: LoginThrottle::new(limits, clock.clone()),
            records: Mutex::default(),
        };
        (throttle, clock)
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

    #[test]
    fn forgotten_records_are_purged_and_others_kept() {
        let (t, clock) = throttle(LIMITS);
        t.record_failure("x", THIEF);
        // account, pair and address records.
        assert_eq!(t.len(), 3);
        clock.0.fetch_add(60_001, Ordering::SeqCst);
        // The old three are forgotten and go; the new failure's three stay.
        t.record_failure("y", OWNER);
        assert_eq!(t.len(), 3);
        assert!(t.check("y", OWNER).is_ok());
    }

    #[test]
    fn keys_of_different_pairs_differ() {
        // An address holding the separator cannot pose as another pair.
        let a = Keys::new("b:c", Some("a"));
        let b = Keys::new("c", Some("a:b"));
        assert_ne!(a.pair, b.pair);
    }
}
