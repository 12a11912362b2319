//! Specs, messages and scratch names shared by the backends' tests.

use std::time::Duration;

use weir_bi_catalog::drivers::{ColumnInfo, ConnectionSpec, DriverError, FieldType};
use weir_bi_catalog::jdbc::{DriverType, JdbcUrl};
use weir_bi_drivers::{Guard, SqlDrivers};
use weir_outbound_policy::OutboundPolicy;

/// What these tests may reach: this machine's services (loopback in the allow-list) and
/// SQLite files in the temporary folder.
pub fn local_guard() -> Guard {
    Guard::new(OutboundPolicy::allowing(["127.0.0.0/8", "::1"]).unwrap())
        .sqlite_folder(&std::env::temp_dir())
        .unwrap()
}

/// The drivers with [`local_guard`], keeping connections as the server does.
pub fn drivers() -> SqlDrivers {
    SqlDrivers::new(local_guard())
}

pub fn spec(driver: &str, url: &str, user: &str, password: &str) -> ConnectionSpec {
    ConnectionSpec {
        driver: DriverType::parse(driver),
        url: JdbcUrl::parse(url).unwrap(),
        user: Some(user.to_owned()).filter(|u| !u.is_empty()),
        password: Some(password.to_owned()).filter(|p| !p.is_empty()),
        timeout: Duration::from_secs(5),
    }
}

/// A scratch database of this test process: one per test, since tests run in parallel.
pub fn scratch_name() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("weir_drivers_test_{}_{n}", std::process::id())
}

/// Scratch databases of test processes that are gone (a run that was killed).
pub fn is_stale(name: &str) -> bool {
    name.strip_prefix("weir_drivers_test_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The message of an error, checked free of the password.
pub fn message_without(err: &DriverError, password: &str) -> String {
    let message = err.to_string();
    assert!(
        !message.contains(password),
        "the password leaked into {message:?}"
    );
    assert!(
        !format!("{err:?}").contains(password),
        "the password leaked into {err:?}"
    );
    message
}

/// `(name, field type, nullable)` of each column, for compact assertions.
pub fn shapes(columns: &[ColumnInfo]) -> Vec<(&str, FieldType, bool)> {
    columns
        .iter()
        .map(|c| (c.name.as_str(), c.field_type, c.nullable))
        .collect()
}
