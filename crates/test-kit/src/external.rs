//! The services outside Weir that some tests use, each named by one environment variable.
//!
//! `cargo test --workspace` needs nothing but Rust: storage is SQLite and MQTT tests use
//! the embedded broker. A test that needs PostgreSQL as a datasource, MariaDB or an
//! external MQTT broker asks here first; with the variable unset it returns early, and the
//! test process prints one line per service saying what to set. CI sets every variable
//! (`.ci/run`), so there nothing is skipped.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Mutex;

/// One external service the tests may use.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The variable that names it.
    pub var: &'static str,
    /// A value for the usual local install, shown in the skip line.
    pub example: &'static str,
    /// The tests it enables, for the skip line.
    pub tests: &'static str,
    /// The port when the URL names none.
    pub default_port: u16,
}

impl Service {
    /// Where the variable says the service is, or `None` when it is unset (nothing
    /// printed). A value that is not a URL fails the test, naming the variable, rather
    /// than silently skipping what the runner asked for.
    pub fn address(self) -> Option<Address> {
        let url = std::env::var(self.var).ok().filter(|v| !v.is_empty())?;
        Some(parse(&url, self.default_port).unwrap_or_else(|why| {
            panic!(
                "{}={url:?} {why}; for example {}={}",
                self.var, self.var, self.example
            )
        }))
    }

    /// [`Service::address`], printing the skip line (once per test process) when unset.
    pub fn or_skip(self) -> Option<Address> {
        let address = self.address();
        if address.is_none() {
            say_skipped(self);
        }
        address
    }
}

/// A PostgreSQL server the BI tests create scratch databases in and read as datasources
/// (the URL's user must be allowed to create databases). Not Weir's own storage: that is
/// `WEIR_TEST_DATABASE_URL`.
pub const POSTGRES: Service = Service {
    var: "WEIR_TEST_PG_DATASOURCE_URL",
    example: "postgres://postgres@127.0.0.1:5432/postgres",
    tests: "the PostgreSQL datasource tests",
    default_port: 5432,
};

/// A MariaDB (or MySQL) server, as a user that may create databases and users.
pub const MARIADB: Service = Service {
    var: "WEIR_TEST_MYSQL_URL",
    example: "mysql://root@127.0.0.1:3306",
    tests: "the MariaDB datasource tests",
    default_port: 3306,
};

/// An external MQTT broker (Mosquitto) keeping persistent sessions.
pub const MOSQUITTO: Service = Service {
    var: "WEIR_TEST_MQTT_URL",
    example: "mqtt://127.0.0.1:1883",
    tests: "the external-broker (Mosquitto) tests",
    default_port: 1883,
};

/// A NATS server: with [`POSTGRES`] and [`MOSQUITTO`], it enables the cluster tests,
/// which start several Weir processes as one service.
pub const NATS: Service = Service {
    var: "WEIR_TEST_NATS_URL",
    example: "nats://127.0.0.1:4222",
    tests: "the cluster tests (which also need WEIR_TEST_PG_DATASOURCE_URL and WEIR_TEST_MQTT_URL)",
    default_port: 4222,
};

/// Every service of this module, for documentation and checks.
pub const ALL: [Service; 4] = [POSTGRES, MARIADB, MOSQUITTO, NATS];

/// Where a service is, read from its variable: `scheme://[user[:password]@]host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The variable's value as it is.
    pub url: String,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The path without its slash (a database name), when there is one.
    pub path: Option<String>,
}

impl Address {
    /// The same server and login with another path (another database).
    pub fn with_path(&self, path: &str) -> String {
        let scheme = self.url.split("://").next().unwrap_or_default();
        let login = match (&self.user, &self.password) {
            (Some(user), Some(password)) => format!("{user}:{password}@"),
            (Some(user), None) => format!("{user}@"),
            _ => String::new(),
        };
        format!("{scheme}://{login}{}/{path}", self.host_port())
    }

    /// `host:port`, with an IPv6 host in brackets.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The PostgreSQL datasource server, or `None` (the skip line printed once).
pub fn postgres() -> Option<Address> {
    POSTGRES.or_skip()
}

/// The MariaDB server, or `None` (the skip line printed once).
pub fn mariadb() -> Option<Address> {
    MARIADB.or_skip()
}

/// The external MQTT broker, or `None` (the skip line printed once).
pub fn mqtt() -> Option<Address> {
    MOSQUITTO.or_skip()
}

/// The NATS server, or `None` (the skip line printed once).
pub fn nats() -> Option<Address> {
    NATS.or_skip()
}

/// One line per service and test process. Written straight to stderr, past the test
/// harness's capture, so a passing run shows it too.
fn say_skipped(service: Service) {
    static SAID: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.get_or_insert_with(HashSet::new).insert(service.var) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipped: set {}={} to run {}",
            service.var,
            service.example,
            service.tests
        );
    }
}

fn parse(url: &str, default_port: u16) -> Result<Address, &'static str> {
    let (_, rest) = url
        .split_once("://")
        .ok_or("is not a URL such as scheme://host:port")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (login, host_port) = match authority.rsplit_once('@') {
        Some((login, host_port)) => (Some(login), host_port),
        None => (None, authority),
    };
    let (user, password) = match login.map(|l| l.split_once(':').unwrap_or((l, ""))) {
        Some((user, password)) => (some(user), some(password)),
        None => (None, None),
    };
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("has an unclosed [")?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("names no host");
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| "has a port that is not a number")?,
        None => default_port,
    };
    Ok(Address {
        url: url.to_owned(),
        host: host.to_owned(),
        port,
        user,
        password,
        path: some(path),
    })
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_their_parts_and_default_ports() {
        let a = parse("postgres://postgres@127.0.0.1:5433/postgres?x=1", 5432).unwrap();
        assert_eq!(
            (
                a.host.as_str(),
                a.port,
                a.user.as_deref(),
                a.password,
                a.path.as_deref()
            ),
            ("127.0.0.1", 5433, Some("postgres"), None, Some("postgres"))
        );
        let a = parse("mysql://root:pw@db.local", 3306).unwrap();
        assert_eq!(
            (
                a.host_port(),
                a.user.as_deref(),
                a.password.as_deref(),
                a.path.as_deref()
            ),
            ("db.local:3306".into(), Some("root"), Some("pw"), None)
        );
        assert_eq!(a.with_path("shop"), "mysql://root:pw@db.local:3306/shop");
        assert_eq!(
            parse("mqtt://[::1]", 1883).unwrap().host_port(),
            "[::1]:1883"
        );
        for bad in ["127.0.0.1:1883", "mqtt://", "mqtt://h:x", "mqtt://[::1"] {
            assert!(parse(bad, 1).is_err(), "{bad}");
        }
    }
}
