//! Weir's outbound policy: where Weir may connect on a user's behalf (a flow's webhook or
//! email node, a BI datasource), one rule for all of them.
//!
//! - **Internal addresses are refused** ([`is_internal`]): loopback, private, link-local,
//!   unique-local, CGNAT, multicast, unspecified, reserved, and the cloud metadata
//!   services. Otherwise a user could reach, through Weir, the machine Weir runs on and its
//!   network: its database, its admin ports, the cloud's credentials.
//! - **After DNS resolution, at connect time.** [`OutboundPolicy::addresses`] resolves a
//!   name, keeps the addresses the policy allows and refuses when none is left; adapters
//!   connect to exactly those addresses and never resolve the name again, so a name that
//!   resolves to a public address when checked and to an internal one when used (DNS
//!   rebinding) gets nowhere.
//! - **The operator's allow-list** (`outbound.allow`, [`OutboundPolicy::allowing`]) opens
//!   internal addresses a deployment needs: ranges (`10.20.0.0/16`), addresses (`10.0.0.7`),
//!   an address's port (`127.0.0.1:5432`) or a name's port (`db.internal:5432`).
//! - **Refusals say the same whatever is there**: they come before any connection, so they
//!   never tell an open port from a closed one, and name the setting that would change
//!   them ([`Refusal`]).
//!
//! This crate depends on no other crate of Weir's: the workflow's outbound adapters and the
//! BI drivers both use it, and the application builds it from its configuration.

mod allow;
mod internal;
mod resolve;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use allow::BadEntry;
pub use internal::{is_internal, unmap};
pub use resolve::{Resolve, SystemResolver};

use allow::{Allowed, normal_host};

/// The configuration key of the allow-list, as refusals name it.
pub const ALLOW_KEY: &str = "outbound.allow";

/// Where Weir may connect on a user's behalf; see the [crate] documentation.
/// Cheap to clone.
#[derive(Clone)]
pub struct OutboundPolicy {
    allow: Arc<[Allowed]>,
    resolver: Arc<dyn Resolve>,
}

impl Default for OutboundPolicy {
    /// [`OutboundPolicy::strict`].
    fn default() -> Self {
        Self::strict()
    }
}

impl fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

/// Why the policy gave no address to connect to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every address of the target is internal and none is in the allow-list.
    #[error(
        "{target} is not reached: the outbound policy refuses loopback, private, link-local \
         and other internal addresses unless the operator opens them in outbound.allow"
    )]
    Internal {
        /// `host:port`, `[v6]:port`.
        target: String,
    },
    /// The name resolves to no address (or the resolver failed).
    #[error("cannot resolve {host}")]
    Unresolved { host: String },
    /// The resolver did not answer in time.
    #[error("cannot resolve {host}: no answer within {} ms", .timeout.as_millis())]
    Slow { host: String, timeout: Duration },
}

impl OutboundPolicy {
    /// No internal address is reached; names resolve through the system's resolver.
    pub fn strict() -> Self {
        Self {
            allow: Arc::from([]),
            resolver: Arc::new(SystemResolver),
        }
    }

    /// Internal addresses the entries name are reached too (see [`BadEntry`] for the
    /// forms); the first entry that is none of them is the error.
    pub fn allowing<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, BadEntry> {
        let allow = entries
            .into_iter()
            .map(|e| e.as_ref().parse::<Allowed>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            allow: allow.into(),
            ..Self::strict()
        })
    }

    /// The same policy, resolving names through `resolver` (tests answer as a hostile DNS
    /// would).
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// The resolver names go through.
    pub fn resolver(&self) -> Arc<dyn Resolve> {
        self.resolver.clone()
    }

    /// Whether the allow-list opens any internal address at all.
    pub fn opens_internal(&self) -> bool {
        !self.allow.is_empty()
    }

    /// The allow-list, each entry in its normal form (`10.0.0.0/8`, `127.0.0.1:5432`).
    pub fn allow_list(&self) -> Vec<String> {
        self.allow.iter().map(ToString::to_string).collect()
    }

    /// Whether Weir may connect to `addr`, reached through `host` (the name or literal
    /// address the user gave).
    pub fn allows(&self, host: &str, addr: SocketAddr) -> bool {
        if !is_internal(addr.ip()) {
            return true;
        }
        let host = normal_host(host);
        self.allow.iter().any(|a| a.opens(&host, addr))
    }

    /// The addresses to connect to for `host` (a name, or a literal address with or
    /// without brackets) and `port`: what it resolves to (within `timeout`), without the
    /// addresses the policy refuses, in the resolver's order, without repeats. Connect to
    /// these only, and never resolve the name again.
    pub fn addresses(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let bare = host.trim().trim_matches(['[', ']']);
        let found = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => {
                resolve::within(&self.resolver, bare, port, timeout).map_err(|e| match e {
                    resolve::Failed::Error => Refusal::Unresolved {
                        host: bare.to_owned(),
                    },
                    resolve::Failed::Slow => Refusal::Slow {
                        host: bare.to_owned(),
                        timeout,
                    },
                })?
            }
        };
        if found.is_empty() {
            return Err(Refusal::Unresolved {
                host: bare.to_owned(),
            });
        }
        let mut allowed: Vec<SocketAddr> = Vec::with_capacity(found.len());
        for addr in found {
            // The resolver is asked for `port`; a resolver that answers another would
            // otherwise choose where Weir connects.
            let addr = SocketAddr::new(addr.ip(), port);
            if self.allows(bare, addr) && !allowed.contains(&addr) {
                allowed.push(addr);
            }
        }
        if allowed.is_empty() {
            return Err(Refusal::Internal {
                target: target(bare, port),
            });
        }
        Ok(allowed)
    }
}

/// `host:port` as messages show a target: `[::1]:25` for an IPv6 address.
pub fn target(host: &str, port: u16) -> String {
    let bare = host.trim_matches(['[', ']']);
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io;
    use std::sync::Mutex;

    use super::*;

    const T: Duration = Duration::from_secs(2);

    /// A DNS that answers each name from a script, one answer per lookup, the last one
    /// again once the script runs out: how a rebinding attacker's DNS behaves.
    #[derive(Default)]
    struct Scripted(Mutex<HashMap<String, Vec<Vec<&'static str>>>>);

    impl Scripted {
        fn answering(name: &str, answers: &[&[&'static str]]) -> Arc<Self> {
            let scripted = Self::default();
            scripted.0.lock().unwrap().insert(
                name.to_owned(),
                answers.iter().map(|a| a.to_vec()).collect(),
            );
            Arc::new(scripted)
        }
    }

    impl Resolve for Scripted {
        fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
            let mut script = self.0.lock().unwrap();
            // As DNS does: case does not matter, nor does a trailing dot.
            let answers = script
                .get_mut(host.trim_end_matches('.').to_ascii_lowercase().as_str())
                .ok_or_else(|| io::Error::other("no such name"))?;
            let answer = if answers.len() > 1 {
                answers.remove(0)
            } else {
                answers[0].clone()
            };
            Ok(answer
                .iter()
                .map(|ip| SocketAddr::new(ip.parse().unwrap(), port))
                .collect())
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    fn internal(target: &str) -> Refusal {
        Refusal::Internal {
            target: target.into(),
        }
    }

    #[test]
    fn the_strict_policy_refuses_internal_literals_and_keeps_public_ones() {
        let p = OutboundPolicy::strict();
        for (host, port, shown) in [
            ("127.0.0.1", 25, "127.0.0.1:25"),
            ("10.1.2.3", 5432, "10.1.2.3:5432"),
            ("169.254.169.254", 80, "169.254.169.254:80"),
            ("::1", 25, "[::1]:25"),
            ("[::1]", 25, "[::1]:25"),
            ("[::ffff:127.0.0.1]", 80, "[::ffff:127.0.0.1]:80"),
            ("fd00:ec2::254", 80, "[fd00:ec2::254]:80"),
            ("0.0.0.0", 5432, "0.0.0.0:5432"),
        ] {
            assert_eq!(p.addresses(host, port, T), Err(internal(shown)), "{host}");
        }
        assert_eq!(
            p.addresses("8.8.8.8", 53, T).unwrap(),
            addrs(&["8.8.8.8:53"])
        );
        assert_eq!(
            p.addresses("[2606:4700::1111]", 443, T).unwrap(),
            addrs(&["[2606:4700::1111]:443"])
        );
    }

    #[test]
    fn the_refusal_names_the_target_and_the_setting_only() {
        assert_eq!(
            internal("127.0.0.1:25").to_string(),
            "127.0.0.1:25 is not reached: the outbound policy refuses loopback, private, \
             link-local and other internal addresses unless the operator opens them in \
             outbound.allow"
        );
        assert!(internal("x:1").to_string().contains(ALLOW_KEY));
    }

    #[test]
    fn names_are_checked_after_resolution() {
        let dns = Scripted::answering("intranet.example", &[&["10.0.0.5"]]);
        let p = OutboundPolicy::strict().with_resolver(dns.clone());
        assert_eq!(
            p.addresses("intranet.example", 80, T),
            Err(internal("intranet.example:80"))
        );
        // Only the public addresses of a mixed answer are kept.
        let dns = Scripted::answering(
            "mixed.example",
            &[&["127.0.0.1", "93.184.215.14", "::1", "2606:2800:21f::1"]],
        );
        let p = OutboundPolicy::strict().with_resolver(dns);
        assert_eq!(
            p.addresses("mixed.example", 443, T).unwrap(),
            addrs(&["93.184.215.14:443", "[2606:2800:21f::1]:443"])
        );
        // IPv4-mapped answers are judged as the IPv4 address they are.
        let dns = Scripted::answering("mapped.example", &[&["::ffff:192.168.1.1"]]);
        let p = OutboundPolicy::strict().with_resolver(dns);
        assert!(p.addresses("mapped.example", 80, T).is_err());
    }

    #[test]
    fn each_lookup_is_checked_so_rebinding_gets_nowhere() {
        // Public when first asked, loopback afterwards: each answer is checked as it
        // comes, and only checked addresses are ever handed out.
        let dns = Scripted::answering(
            "rebind.example",
            &[&["93.184.215.14"], &["127.0.0.1"], &["127.0.0.1"]],
        );
        let p = OutboundPolicy::strict().with_resolver(dns);
        assert_eq!(
            p.addresses("rebind.example", 80, T).unwrap(),
            addrs(&["93.184.215.14:80"])
        );
        assert_eq!(
            p.addresses("rebind.example", 80, T),
            Err(internal("rebind.example:80"))
        );
    }

    #[test]
    fn a_resolver_cannot_choose_the_port() {
        struct OtherPort;
        impl Resolve for OtherPort {
            fn resolve(&self, _: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
                Ok(addrs(&["127.0.0.1:5432"]))
            }
        }
        let p = OutboundPolicy::allowing(["127.0.0.1:5432"])
            .unwrap()
            .with_resolver(Arc::new(OtherPort));
        assert_eq!(
            p.addresses("sneaky.example", 22, T),
            Err(internal("sneaky.example:22"))
        );
    }

    #[test]
    fn the_allow_list_opens_ranges_addresses_and_names() {
        let dns = Scripted::answering("db.internal", &[&["10.9.0.5"]]);
        let p = OutboundPolicy::allowing(["10.20.0.0/16", "127.0.0.1:5432", "db.internal:5432"])
            .unwrap()
            .with_resolver(dns);
        assert!(p.opens_internal());
        assert_eq!(
            p.allow_list(),
            ["10.20.0.0/16", "127.0.0.1:5432", "db.internal:5432"]
        );
        assert!(p.addresses("10.20.1.1", 22, T).is_ok());
        assert!(p.addresses("10.21.1.1", 22, T).is_err());
        assert!(p.addresses("127.0.0.1", 5432, T).is_ok());
        assert!(p.addresses("127.0.0.1", 5433, T).is_err());
        assert!(p.addresses("[::ffff:127.0.0.1]", 5432, T).is_ok());
        assert_eq!(
            p.addresses("DB.internal.", 5432, T).unwrap(),
            addrs(&["10.9.0.5:5432"])
        );
        assert!(p.addresses("db.internal", 22, T).is_err());
        assert!(!OutboundPolicy::strict().opens_internal());
    }

    #[test]
    fn ipv6_entries_open_ipv6_targets() {
        let p = OutboundPolicy::allowing(["::1", "fd00:1::/32", "[fe80::1]:8080"]).unwrap();
        assert!(p.addresses("::1", 25, T).is_ok());
        assert!(p.addresses("[fd00:1::7]", 80, T).is_ok());
        assert!(p.addresses("fd00:2::7", 80, T).is_err());
        assert!(p.addresses("fe80::1", 8080, T).is_ok());
        assert!(p.addresses("fe80::1", 8081, T).is_err());
        // ::1 opens IPv6 loopback, not IPv4's.
        assert!(p.addresses("127.0.0.1", 25, T).is_err());
    }

    #[test]
    fn a_name_that_does_not_resolve_is_said_so() {
        let p = OutboundPolicy::strict().with_resolver(Arc::new(Scripted::default()));
        assert_eq!(
            p.addresses("nowhere.example", 80, T),
            Err(Refusal::Unresolved {
                host: "nowhere.example".into()
            })
        );
    }

    #[test]
    fn a_slow_resolver_is_given_up_on() {
        struct Slow;
        impl Resolve for Slow {
            fn resolve(&self, _: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
                std::thread::sleep(Duration::from_secs(2));
                Ok(Vec::new())
            }
        }
        let p = OutboundPolicy::strict().with_resolver(Arc::new(Slow));
        let started = std::time::Instant::now();
        let refused = p
            .addresses("slow.example", 80, Duration::from_millis(100))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            refused.to_string(),
            "cannot resolve slow.example: no answer within 100 ms"
        );
    }

    #[test]
    fn the_system_resolver_resolves_localhost_to_loopback_only() {
        let found = SystemResolver.resolve("localhost", 80).unwrap();
        assert!(!found.is_empty());
        assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
        assert!(
            OutboundPolicy::strict()
                .addresses("localhost", 80, T)
                .is_err()
        );
        // Numeric forms the resolver reads as 127.0.0.1 are judged by what they read as.
        for numeric in ["2130706433", "0x7f.1", "127.1"] {
            assert_eq!(
                OutboundPolicy::strict().addresses(numeric, 80, T),
                Err(internal(&format!("{numeric}:80"))),
                "{numeric}"
            );
        }
    }

    #[test]
    fn targets_bracket_ipv6() {
        assert_eq!(target("::1", 25), "[::1]:25");
        assert_eq!(target("[::1]", 25), "[::1]:25");
        assert_eq!(target("smtp.example.com", 25), "smtp.example.com:25");
    }
}
