//! JDBC connection strings, as Smartbi clients send them in a datasource's `url`, and the
//! driver types of the document.

use serde::{Deserialize, Serialize};

/// A datasource's `driverType`. The document's values are kept as sent; Weir connects to
/// the first three kinds, and stores the others (syncing or querying them answers "driver
/// not available").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DriverType {
    /// PostgreSQL (`POSTGRESQL`; `POSTGRES` and `PGSQL` read as it too).
    #[serde(rename = "POSTGRESQL")]
    PostgreSql,
    /// MySQL and MariaDB (`MYSQL`, `MARIADB`).
    #[serde(rename = "MYSQL")]
    MySql,
    /// An SQLite database file (`SQLITE`).
    #[serde(rename = "SQLITE")]
    Sqlite,
    /// Any other type the document names (ORACLE, MSSQL, DB2...), kept as sent.
    #[serde(untagged)]
    Other(String),
}

impl DriverType {
    /// `MARIADB` reads as MySQL; case does not matter.
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "POSTGRESQL" | "POSTGRES" | "PGSQL" => Self::PostgreSql,
            "MYSQL" | "MARIADB" => Self::MySql,
            "SQLITE" => Self::Sqlite,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The type as stored and answered: `POSTGRESQL`, `MYSQL`, `SQLITE`, or the other name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PostgreSql => "POSTGRESQL",
            Self::MySql => "MYSQL",
            Self::Sqlite => "SQLITE",
            Self::Other(s) => s,
        }
    }

    /// Whether Weir has a driver for it (the others are stored, not reached).
    pub fn connectable(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The JDBC driver class a Smartbi client names for this type, when it sends none.
    pub fn default_class_name(&self) -> Option<&'static str> {
        match self {
            Self::PostgreSql => Some("org.postgresql.Driver"),
            Self::MySql => Some("com.mysql.jdbc.Driver"),
            Self::Sqlite => Some("org.sqlite.JDBC"),
            Self::Other(_) => None,
        }
    }

    /// The URL prefixes this type accepts, as a message shows them.
    fn expected_urls(&self) -> &'static str {
        match self {
            Self::PostgreSql => "jdbc:postgresql://host[:port]/database",
            Self::MySql => "jdbc:mysql://host[:port]/database or jdbc:mariadb://...",
            Self::Sqlite => "jdbc:sqlite:/path/to/file.db",
            Self::Other(_) => "a JDBC URL",
        }
    }
}

/// Checks a datasource's `url` against its driver type: `jdbc:postgresql:` for POSTGRESQL,
/// `jdbc:mysql:` or `jdbc:mariadb:` for MYSQL, `jdbc:sqlite:` for SQLITE, each parsed. The
/// URL of any other type is stored as sent (it must only be a `jdbc:` URL), so it answers
/// `None`.
pub fn check_url(driver: &DriverType, url: &str) -> Result<Option<JdbcUrl>, JdbcUrlError> {
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(JdbcUrlError("is required".into()));
    }
    if !driver.connectable() {
        if !trimmed.to_ascii_lowercase().starts_with("jdbc:") {
            return Err(JdbcUrlError(format!(
                "`{}` is not a JDBC URL (jdbc:...)",
                clip(trimmed)
            )));
        }
        return Ok(None);
    }
    let parsed = JdbcUrl::parse(trimmed)?;
    let scheme = match &parsed {
        JdbcUrl::Server { scheme, .. } | JdbcUrl::File { scheme, .. } => scheme.as_str(),
    };
    let fits = match driver {
        DriverType::PostgreSql => scheme == "postgresql",
        DriverType::MySql => scheme == "mysql" || scheme == "mariadb",
        DriverType::Sqlite => scheme == "sqlite",
        DriverType::Other(_) => true,
    };
    if !fits {
        return Err(JdbcUrlError(format!(
            "`{}` is a jdbc:{scheme}: URL, which does not fit driverType {} (expected {})",
            clip(trimmed),
            driver.as_str(),
            driver.expected_urls()
        )));
    }
    Ok(Some(parsed))
}

/// Where a JDBC URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JdbcUrl {
    /// `jdbc:postgresql://host[:port]/db[?params]`, `jdbc:mysql://...`,
    /// `jdbc:mariadb://...`.
    Server {
        /// `postgresql`, `mysql` or `mariadb`.
        scheme: String,
        /// The host name or address, without the brackets of an IPv6 address.
        host: String,
        /// The port, when the URL gives one.
        port: Option<u16>,
        /// The database: the path after the host, up to `?`; may be empty.
        database: String,
        /// Query parameters, in order.
        params: Vec<(String, String)>,
    },
    /// `jdbc:sqlite:/path/to/file.db` (or `jdbc:sqlite:relative.db`).
    File {
        /// `sqlite`.
        scheme: String,
        /// The database file's path, as the URL gives it.
        path: String,
    },
}

/// Why a URL is not one Weir can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("url: {0}")]
pub struct JdbcUrlError(pub String);

impl JdbcUrl {
    /// Reads a JDBC URL of any scheme: `jdbc:sqlite:` as a file path, any other as
    /// `//host[:port]/database[?params]` (params split at `&` or `;`). Whether the scheme fits
    /// a driver type is [`check_url`]'s to say.
    pub fn parse(url: &str) -> Result<Self, JdbcUrlError> {
        let bad = |why: &str| JdbcUrlError(format!("`{}` {why}", clip(url)));
        let rest = url
            .trim()
            .strip_prefix("jdbc:")
            .ok_or_else(|| bad("is not a JDBC URL (jdbc:...)"))?;
        let (scheme, rest) = rest
            .split_once(':')
            .ok_or_else(|| bad("has no driver name (jdbc:postgresql:...)"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "sqlite" {
            if rest.is_empty() {
                return Err(bad("names no database file"));
            }
            return Ok(Self::File {
                scheme,
                path: rest.to_owned(),
            });
        }
        let rest = rest
            .strip_prefix("//")
            .ok_or_else(|| bad("has no //host"))?;
        let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let (database, query) = tail.split_once('?').unwrap_or((tail, ""));
        let port_of = |p: &str| p.parse::<u16>().map_err(|_| bad("has a bad port"));
        // An IPv6 host is bracketed (`[::1]`, `[::1]:5432`): its colons are not the port's.
        let (host, port) = if authority.starts_with('[') {
            let end = authority
                .find(']')
                .ok_or_else(|| bad("has an unclosed [ in its host"))?;
            let (h, after) = authority.split_at(end + 1);
            match after.strip_prefix(':') {
                Some(p) => (h, Some(port_of(p)?)),
                None if after.is_empty() => (h, None),
                None => return Err(bad("has text after its host")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(port_of(p)?)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let params = query
            .split(['&', ';'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Ok(Self::Server {
            scheme,
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
            database: database.to_owned(),
            params,
        })
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(80).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_and_file_urls_parse() {
        assert_eq!(
            JdbcUrl::parse("jdbc:postgresql://127.0.0.1:5432/shop?sslmode=disable").unwrap(),
            JdbcUrl::Server {
                scheme: "postgresql".into(),
                host: "127.0.0.1".into(),
                port: Some(5432),
                database: "shop".into(),
                params: vec![("sslmode".into(), "disable".into())],
            }
        );
        assert_eq!(
            JdbcUrl::parse("jdbc:mariadb://db.local/sales").unwrap(),
            JdbcUrl::Server {
                scheme: "mariadb".into(),
                host: "db.local".into(),
                port: None,
                database: "sales".into(),
                params: vec![],
            }
        );
        assert_eq!(
            JdbcUrl::parse("jdbc:sqlite:/tmp/a.db").unwrap(),
            JdbcUrl::File {
                scheme: "sqlite".into(),
                path: "/tmp/a.db".into()
            }
        );
        // IPv6 hosts, with and without a port.
        for (url, port) in [
            ("jdbc:postgresql://[::1]/shop", None),
            ("jdbc:postgresql://[::1]:5432/shop", Some(5432)),
        ] {
            match JdbcUrl::parse(url).unwrap() {
                JdbcUrl::Server { host, port: p, .. } => {
                    assert_eq!((host.as_str(), p), ("::1", port))
                }
                other => panic!("{other:?}"),
            }
        }
        for bad in [
            "postgresql://x/y",
            "jdbc:postgresql:x",
            "jdbc:mysql://h:99999/d",
            "jdbc:sqlite:",
            "jdbc:postgresql://[::1/shop",
            "jdbc:postgresql://[::1]x/shop",
        ] {
            assert!(JdbcUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(DriverType::parse("mariadb"), DriverType::MySql);
        assert!(!DriverType::parse("oracle").connectable());
        assert_eq!(
            DriverType::parse("ORACLE"),
            DriverType::Other("ORACLE".into())
        );
    }

    #[test]
    fn urls_are_checked_against_the_driver_type() {
        let pg = DriverType::PostgreSql;
        assert!(
            check_url(&pg, "jdbc:postgresql://db:5432/shop")
                .unwrap()
                .is_some()
        );
        let e = check_url(&pg, "jdbc:mysql://db/shop").unwrap_err();
        assert!(
            e.to_string().contains("does not fit driverType POSTGRESQL"),
            "{e}"
        );
        assert!(check_url(&DriverType::MySql, "jdbc:mariadb://db/shop").is_ok());
        assert!(check_url(&DriverType::MySql, "jdbc:mysql://db/shop").is_ok());
        assert!(check_url(&DriverType::Sqlite, "jdbc:sqlite:/tmp/x.db").is_ok());
        assert!(check_url(&DriverType::Sqlite, "jdbc:postgresql://h/d").is_err());
        assert!(check_url(&pg, "   ").is_err());
        assert!(check_url(&pg, "jdbc:postgresql:nohost").is_err());
        let oracle = DriverType::parse("ORACLE");
        assert_eq!(
            check_url(&oracle, "jdbc:oracle:thin:@db:1521:orcl").unwrap(),
            None
        );
        assert!(check_url(&oracle, "oracle://db").is_err());
    }
}
