//! The operator's allow-list (`outbound.allow`): what internal addresses Weir may reach
//! after all.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

use crate::internal::unmap;

/// One entry of `outbound.allow`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Allowed {
    /// `10.20.0.0/16`, `fd00::/8`, or one address (`10.0.0.7`, `::1`): every port.
    Net(IpNet),
    /// `127.0.0.1:5432`, `[::1]:5432`: one port of one address, whatever name led there.
    Address(IpAddr, u16),
    /// `db.internal:5432`: one port of one name, whatever addresses it resolves to (the
    /// operator trusts the name's DNS). Lowercase, without a trailing dot.
    Host(String, u16),
}

/// An entry of `outbound.allow` that is none of the forms above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "outbound.allow: `{0}` is not an address range (10.0.0.0/8, fd00::/8), an address \
     (10.0.0.7), an address with its port (127.0.0.1:5432, [::1]:5432) or a host name with \
     its port (db.internal:5432)"
)]
pub struct BadEntry(pub String);

impl FromStr for Allowed {
    type Err = BadEntry;

    fn from_str(raw: &str) -> Result<Self, BadEntry> {
        let entry = raw.trim();
        let bad = || BadEntry(raw.to_owned());
        if let Ok(net) = entry.parse::<IpNet>() {
            return Ok(Self::Net(net.trunc()));
        }
        if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(Self::Net(IpNet::from(ip)));
        }
        if let Ok(addr) = entry.parse::<SocketAddr>() {
            if addr.port() == 0 {
                return Err(bad());
            }
            return Ok(Self::Address(unmap(addr.ip()), addr.port()));
        }
        let (host, port) = entry.rsplit_once(':').ok_or_else(bad)?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(bad)?;
        let host = normal_host(host);
        let is_name = !host.is_empty()
            && host.parse::<IpAddr>().is_err()
            && host
                .split('.')
                .all(|label| !label.is_empty() && label.chars().all(is_name_char));
        if !is_name {
            return Err(bad());
        }
        Ok(Self::Host(host, port))
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// A host name as entries and requests are compared: lowercase, no trailing dot, no
/// brackets.
pub(crate) fn normal_host(host: &str) -> String {
    host.trim()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl Allowed {
    /// Whether the entry opens `addr`, reached by the name (or literal) `host`, already
    /// normalised by [`normal_host`].
    pub(crate) fn opens(&self, host: &str, addr: SocketAddr) -> bool {
        let ip = unmap(addr.ip());
        match self {
            Self::Net(net) => net.contains(&ip),
            Self::Address(allowed, port) => *allowed == ip && *port == addr.port(),
            Self::Host(name, port) => name == host && *port == addr.port(),
        }
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(net) => write!(f, "{net}"),
            Self::Address(ip, port) => write!(f, "{}", SocketAddr::new(*ip, *port)),
            Self::Host(host, port) => write!(f, "{host}:{port}"),
        }
    }
}

impl fmt::Debug for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Allowed {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_parse_in_every_form() {
        for (raw, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            (" 10.1.2.3/8 ", "10.0.0.0/8"),
            ("10.0.0.7", "10.0.0.7/32"),
            ("fd00::/8", "fd00::/8"),
            ("::1", "::1/128"),
            ("[::1]", "::1/128"),
            ("127.0.0.1:5432", "127.0.0.1:5432"),
            ("[::1]:5432", "[::1]:5432"),
            ("[::ffff:10.0.0.1]:25", "10.0.0.1:25"),
            ("DB.Internal.:5432", "db.internal:5432"),
            ("localhost:25", "localhost:25"),
        ] {
            assert_eq!(parse(raw).to_string(), shown, "{raw}");
        }
        for bad in [
            "",
            "db.internal",
            "db.internal:",
            "db.internal:0",
            "db.internal:70000",
            "127.0.0.1:0",
            "10.0.0.0/33",
            "::1:5432x",
            "db..internal:5432",
            "db internal:5432",
            "http://db:5432",
            "*:5432",
        ] {
            assert!(bad.parse::<Allowed>().is_err(), "{bad:?} should be refused");
        }
        assert!(
            BadEntry("x".into())
                .to_string()
                .starts_with("outbound.allow: `x` is not")
        );
    }

    #[test]
    fn ranges_open_every_port_of_their_addresses() {
        let net = parse("10.20.0.0/16");
        assert!(net.opens("a", addr("10.20.3.4:1")));
        assert!(net.opens("a", addr("[::ffff:10.20.3.4]:443")));
        assert!(!net.opens("a", addr("10.21.0.1:443")));
        let v6 = parse("fd00:1::/32");
        assert!(v6.opens("a", addr("[fd00:1::5]:80")));
        assert!(!v6.opens("a", addr("[fd00:2::5]:80")));
    }

    #[test]
    fn addresses_with_a_port_open_that_port_only() {
        let one = parse("127.0.0.1:5432");
        assert!(one.opens("localhost", addr("127.0.0.1:5432")));
        assert!(one.opens("127.0.0.1", addr("[::ffff:127.0.0.1]:5432")));
        assert!(!one.opens("localhost", addr("127.0.0.1:5433")));
        assert!(!one.opens("localhost", addr("127.0.0.2:5432")));
        let v6 = parse("[::1]:25");
        assert!(v6.opens("localhost", addr("[::1]:25")));
        assert!(!v6.opens("localhost", addr("127.0.0.1:25")));
    }

    #[test]
    fn names_with_a_port_open_that_name_and_port_only() {
        let name = parse("db.internal:5432");
        assert!(name.opens("db.internal", addr("10.0.0.5:5432")));
        assert!(!name.opens("db.internal", addr("10.0.0.5:22")));
        assert!(!name.opens("evil.example", addr("10.0.0.5:5432")));
    }
}
