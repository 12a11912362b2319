//! The login throttle's records in the database (`ThrottleRepo`): two pools on one database,
//! as two Weir processes would have, count the same failures, none lost when they race;
//! forgotten records are purged in bounded batches. On SQLite by default and on PostgreSQL
//! when `WEIR_TEST_DATABASE_URL` is set.

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use weir_identity::IdentityTx;
use weir_identity::throttle::{LoginThrottle, ThrottleLimits, ThrottleRecord};
use weir_kernel::store::{read, write};
use weir_kernel::{StoreError, SystemClock, Transactions};
use weir_storage::{Database, DatabaseOptions, testing};

/// Two pools on one fresh database: two processes, as far as the database can tell.
struct Two {
    a: Database,
    b: Database,
    _place: testing::TestDatabase,
}

fn two() -> Two {
    let place = testing::TestDatabase::new().unwrap();
    let a = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    let b = Database::open(&DatabaseOptions::new(place.url.clone())).unwrap();
    Two {
        a,
        b,
        _place: place,
    }
}

fn identity(db: &Database) -> &dyn Transactions<dyn IdentityTx> {
    db
}

fn throttle(account_failures: u32) -> LoginThrottle {
    let limits = ThrottleLimits {
        account_failures,
        address_failures: 1000,
        ..ThrottleLimits::default()
    };
    LoginThrottle::new(limits, Arc::new(SystemClock))
}

const ADDRESS: Option<&str> = Some("10.0.0.66");

fn fail(db: &Database, t: &LoginThrottle, account: &str) {
    write(identity(db), |tx| t.record_failure(tx, account, ADDRESS)).unwrap();
}

fn lockout(db: &Database, t: &LoginThrottle, account: &str) -> Option<i64> {
    read(identity(db), |tx| t.lockout(tx, account, ADDRESS)).unwrap()
}

#[test]
fn failures_through_two_pools_lock_the_pair_on_both() {
    let two = two();
    let (ta, tb) = (throttle(4), throttle(4));
    for _ in 0..2 {
        fail(&two.a, &ta, "default/x");
        fail(&two.b, &tb, "default/x");
    }
    assert!(lockout(&two.a, &ta, "default/x").is_some());
    assert!(lockout(&two.b, &tb, "default/x").is_some());
    assert_eq!(lockout(&two.b, &tb, "default/y"), None);
}

#[test]
fn racing_failures_on_two_pools_are_all_counted() {
    const THREADS: usize = 6;
    const EACH: usize = 5;
    let two = Arc::new(two());
    // One more than the racers make: the race must leave the pair open, one more lock it.
    let limit = u32::try_from(THREADS * EACH + 1).unwrap();
    let racers: Vec<_> = (0..THREADS)
        .map(|i| {
            let two = two.clone();
            std::thread::spawn(move || {
                let db = if i % 2 == 0 { &two.a } else { &two.b };
                let t = throttle(limit);
                for _ in 0..EACH {
                    fail(db, &t, "default/x");
                }
            })
        })
        .collect();
    for racer in racers {
        racer.join().unwrap();
    }
    let t = throttle(limit);
    assert_eq!(lockout(&two.a, &t, "default/x"), None);
    // A lost update would leave the pair open after this one.
    fail(&two.b, &t, "default/x");
    assert!(lockout(&two.a, &t, "default/x").is_some());
    assert!(lockout(&two.b, &t, "default/x").is_some());
}

#[test]
fn a_success_on_one_pool_clears_the_pair_for_both() {
    let two = two();
    let t = throttle(3);
    fail(&two.a, &t, "default/x");
    fail(&two.b, &t, "default/x");
    assert_eq!(lockout(&two.a, &t, "default/x"), None);
    write(identity(&two.b), |tx| {
        t.record_success(tx, "default/x", ADDRESS)
    })
    .unwrap();
    // Two more failures make two since the success, not four.
    fail(&two.a, &t, "default/x");
    fail(&two.a, &t, "default/x");
    assert_eq!(lockout(&two.b, &t, "default/x"), None);
}

fn record(last_failure: i64) -> ThrottleRecord {
    ThrottleRecord {
        failures: 1,
        window_start: last_failure,
        last_failure,
        ..ThrottleRecord::default()
    }
}

#[test]
fn forgotten_records_are_purged_in_bounded_batches() {
    let two = two();
    let keys: Vec<String> = (0..5).map(|i| format!("old{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    write(identity(&two.a), |tx| {
        let locked = tx.lock_throttle_records(&[&keys[..], &["new", "locked"]].concat())?;
        assert!(locked.iter().all(|r| *r == ThrottleRecord::default()));
        for key in &keys {
            tx.save_throttle_record(key, &record(1_000))?;
        }
        tx.save_throttle_record("new", &record(5_000))?;
        // Locked until 4000: its last event is after the cut.
        let locked = ThrottleRecord {
            locked_until: 4_000,
            ..record(1_000)
        };
        tx.save_throttle_record("locked", &locked)?;
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let purge = |limit| {
        write(identity(&two.b), |tx| {
            tx.purge_throttle_records(3_000, limit)
        })
        .unwrap()
    };
    assert_eq!(purge(3), 3);
    assert_eq!(purge(3), 2);
    assert_eq!(purge(3), 0);
    let left = read(identity(&two.a), |tx| {
        tx.throttle_records(&[keys[0], keys[4], "new", "locked"])
    })
    .unwrap();
    assert_eq!(left[0], ThrottleRecord::default());
    assert_eq!(left[1], ThrottleRecord::default());
    assert_eq!(left[2], record(5_000));
    assert_eq!(left[3].locked_until, 4_000);
}
