//! Weir's own storage, as `database.url` names it: the database server (PostgreSQL) or the
//! file and its folder (SQLite) that no datasource may reach.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use weir_outbound_policy::unmap;

/// Where Weir keeps its own data.
#[derive(Debug, Clone, Default)]
pub(crate) enum OwnStorage {
    /// Not told (a drivers' test of its own).
    #[default]
    Unknown,
    Server(OwnServer),
    File(OwnFile),
}

/// A PostgreSQL database: each host it may be reached at, and its name.
#[derive(Debug, Clone)]
pub(crate) struct OwnServer {
    hosts: Vec<OwnHost>,
    /// `None` when the URL names neither a database nor a user: any database of the
    /// server is taken for Weir's.
    database: Option<String>,
}

#[derive(Debug, Clone)]
struct OwnHost {
    /// Lowercase, without brackets.
    name: String,
    port: u16,
    /// What the name resolved to when Weir started.
    ips: Vec<IpAddr>,
    /// A socket folder, or an address of this machine.
    local: bool,
}

/// An SQLite file and the folder it lives in (which also holds its `-wal` and `-shm`
/// files), resolved; and, on Unix, the file's device and inode, which a hard link shares.
#[derive(Debug, Clone)]
pub(crate) struct OwnFile {
    pub(crate) file: PathBuf,
    pub(crate) folder: PathBuf,
    identity: Option<(u64, u64)>,
}

impl OwnStorage {
    /// Reads `database.url` as the storage does: `postgres://` and `postgresql://` URLs are
    /// PostgreSQL, anything else an SQLite path (with an optional `sqlite:` or `sqlite://`
    /// prefix).
    pub(crate) fn of(url: &str) -> Self {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
        {
            return Self::Server(OwnServer::parse(rest));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self::File(OwnFile::at(Path::new(path)))
    }
}

impl OwnServer {
    /// The part of a libpq URL after the scheme: `[user[:password]@][host[:port][,...]]
    /// [/database][?param=value&...]`, where the parameters `host`, `port`, `dbname` and
    /// `user` win over the rest. Hosts are resolved now.
    fn parse(rest: &str) -> Self {
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = main.split_once('/').unwrap_or((main, ""));
        let (userinfo, hostlist) = authority.rsplit_once('@').unwrap_or(("", authority));
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let mut user = Some(decode(userinfo.split(':').next().unwrap_or("")));
        let mut database = Some(decode(path));
        let mut hosts: Vec<(String, Option<u16>)> = hostlist
            .split(',')
            .map(|h| split_host_port(&decode(h)))
            .collect();
        let mut port = None;
        for (key, value) in query.split('&').filter_map(|p| p.split_once('=')) {
            let value = decode(value);
            match key {
                "host" => hosts = value.split(',').map(|h| (h.to_owned(), None)).collect(),
                "port" => port = value.split(',').next().and_then(|p| p.parse().ok()),
                "dbname" => database = Some(value),
                "user" => user = Some(value),
                _ => {}
            }
        }
        let database = database
            .filter(|d| !d.is_empty())
            .or(user.filter(|u| !u.is_empty()));
        let hosts = hosts
            .into_iter()
            .map(|(name, own_port)| OwnHost::resolve(name, own_port.or(port).unwrap_or(5432)))
            .collect();
        Self { hosts, database }
    }

    /// Whether a datasource at `host:port` (reached at `addrs`) is this server, and, for
    /// PostgreSQL, names this database (`database`, or the user's name when empty). A MySQL
    /// session may read every database of its server, so any database counts.
    pub(crate) fn is(
        &self,
        host: &str,
        port: u16,
        addrs: &[SocketAddr],
        postgres_database: Option<&str>,
    ) -> bool {
        let host = normal(host);
        let same_server = self.hosts.iter().any(|own| {
            own.port == port
                && (own.name == host
                    || addrs.iter().any(|a| own.ips.contains(&unmap(a.ip())))
                    || (own.local && addrs.iter().any(|a| is_local(a.ip()))))
        });
        let same_database = match (&self.database, postgres_database) {
            (Some(own), Some(theirs)) => own.eq_ignore_ascii_case(theirs),
            _ => true,
        };
        same_server && same_database
    }
}

impl OwnHost {
    fn resolve(name: String, port: u16) -> Self {
        let name = normal(&name);
        // No host, or a socket folder: this machine.
        if name.is_empty() || name.starts_with('/') || name.starts_with('@') {
            return Self {
                name,
                port,
                ips: Vec::new(),
                local: true,
            };
        }
        let ips: Vec<IpAddr> = (name.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| unmap(a.ip())).collect())
            .unwrap_or_default();
        let local = ips.iter().any(|ip| is_local(*ip));
        Self {
            name,
            port,
            ips,
            local,
        }
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`; an empty port is none.
fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (
            host.to_owned(),
            after.strip_prefix(':').and_then(|p| p.parse().ok()),
        );
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host.to_owned(), port.parse().ok()),
        _ => (s.to_owned(), None),
    }
}

fn normal(host: &str) -> String {
    host.trim()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Whether `ip` is this machine: loopback, unspecified (which connects here), or an
/// address of one of its interfaces (which a socket can be bound to).
pub(crate) fn is_local(ip: IpAddr) -> bool {
    let ip = unmap(ip);
    ip.is_loopback() || ip.is_unspecified() || UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

impl OwnFile {
    /// The file resolved (it exists once the storage opened it); a path that cannot be is
    /// kept as given, made absolute.
    fn at(path: &Path) -> Self {
        let file = std::fs::canonicalize(path).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        });
        let folder = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| file.clone());
        let identity = identity(&file);
        Self {
            file,
            folder,
            identity,
        }
    }

    /// Whether the resolved path `path` is this file, a hard link to it, or anything in
    /// its folder.
    pub(crate) fn covers(&self, path: &Path) -> bool {
        path.starts_with(&self.folder)
            || path == self.file
            || (self.identity.is_some() && identity(path) == self.identity)
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> OwnServer {
        match OwnStorage::of(url) {
            OwnStorage::Server(s) => s,
            other => panic!("{url}: {other:?}"),
        }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn postgres_urls_name_hosts_ports_and_the_database() {
        let s = server("postgres://weir:pw@127.0.0.1:5433/weir_prod?sslmode=disable");
        assert_eq!(s.database.as_deref(), Some("weir_prod"));
        assert_eq!(s.hosts.len(), 1);
        assert_eq!(
            (s.hosts[0].name.as_str(), s.hosts[0].port),
            ("127.0.0.1", 5433)
        );
        assert!(s.hosts[0].local);

        // The user's name is the database when none is named; the default port is 5432.
        let s = server("postgresql://weir@db.example.invalid");
        assert_eq!(s.database.as_deref(), Some("weir"));
        assert_eq!(s.hosts[0].port, 5432);
        assert!(!s.hosts[0].local);

        // Several hosts, IPv6, parameters that win, a socket folder.
        let s = server("postgres://u@[::1]:6000,other.invalid/x?dbname=Real&port=7000");
        assert_eq!(s.database.as_deref(), Some("Real"));
        assert_eq!((s.hosts[0].name.as_str(), s.hosts[0].port), ("::1", 6000));
        assert_eq!(
            (s.hosts[1].name.as_str(), s.hosts[1].port),
            ("other.invalid", 7000)
        );
        let s = server("postgres:///weir?host=%2Fvar%2Frun%2Fpostgresql");
        assert_eq!(s.hosts[0].name, "/var/run/postgresql");
        assert!(s.hosts[0].local);
        let s = server("postgres://%2Ftmp/weir");
        assert!(s.hosts[0].local);
        assert_eq!(server("postgres://h/").database, None);
    }

    #[test]
    fn the_same_server_is_recognised_by_name_address_or_machine() {
        let s = server("postgres://postgres@127.0.0.1:5432/weir");
        let loopback = [addr("127.0.0.1:5432")];
        assert!(s.is("127.0.0.1", 5432, &loopback, Some("weir")));
        // Any local address is this machine; case does not tell databases apart here.
        assert!(s.is("localhost", 5432, &[addr("[::1]:5432")], Some("WEIR")));
        assert!(s.is("0.0.0.0", 5432, &[addr("0.0.0.0:5432")], Some("weir")));
        assert!(s.is("127.0.0.2", 5432, &[addr("127.0.0.2:5432")], Some("weir")));
        // Another port, another database: another datasource.
        assert!(!s.is("127.0.0.1", 5433, &[addr("127.0.0.1:5433")], Some("weir")));
        assert!(!s.is("127.0.0.1", 5432, &loopback, Some("shop")));
        // MySQL names no database that bounds it.
        assert!(s.is("127.0.0.1", 5432, &loopback, None));

        let remote = server("postgres://weir@db.example.invalid:5432/weir");
        assert!(remote.is(
            "DB.example.invalid.",
            5432,
            &[addr("192.0.2.7:5432")],
            Some("weir")
        ));
        assert!(!remote.is("127.0.0.1", 5432, &loopback, Some("weir")));
    }

    #[test]
    fn sqlite_storage_covers_its_file_its_folder_and_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let db = data.join("weir.db");
        std::fs::write(&db, b"x").unwrap();
        let OwnStorage::File(own) = OwnStorage::of(&format!("sqlite://{}", db.display())) else {
            panic!("not a file")
        };
        let real = |p: &Path| std::fs::canonicalize(p).unwrap();
        assert!(own.covers(&real(&db)));
        std::fs::write(data.join("other.db"), b"y").unwrap();
        assert!(own.covers(&real(&data.join("other.db"))));
        let outside = dir.path().join("shop.db");
        std::fs::write(&outside, b"z").unwrap();
        assert!(!own.covers(&real(&outside)));
        #[cfg(unix)]
        {
            let link = dir.path().join("hard.db");
            std::fs::hard_link(&db, &link).unwrap();
            assert!(own.covers(&real(&link)));
        }
    }

    #[test]
    fn local_addresses_are_this_machine() {
        assert!(is_local("127.0.0.1".parse().unwrap()));
        assert!(is_local("::ffff:127.0.0.1".parse().unwrap()));
        assert!(is_local("0.0.0.0".parse().unwrap()));
        assert!(!is_local("192.0.2.7".parse().unwrap()));
    }
}
