//! Outbound adapters of Weir's workflow engine: the ports a `webhook` node and an `email`
//! node reach the outside world through, and the [`PolicyClient`] every HTTP call made on a
//! user's behalf goes through (webhooks here, single sign-on providers in `weir-oidc`).
//!
//! - [`HttpWebhooks`] implements [`weir_workflow::engine::Webhooks`] over HTTP(S) (reqwest's
//!   blocking client, rustls with ring).
//! - [`SmtpMailer`] implements [`weir_workflow::engine::Mailer`] over SMTP (lettre, rustls
//!   with ring), through a node's own server or the system's ([`SmtpSettings`]).
//!
//! Both reach only what the [`OutboundPolicy`] allows (no internal address unless the
//! operator's `outbound.allow` opens it), except the system SMTP server, which the
//! operator configured.
//!
//! Both ports are blocking: the engine calls them on blocking threads, never on an async
//! runtime's worker. With the `testing` feature, `testing` has an SMTP sink and an HTTP
//! receiver on local ports for tests.

pub mod client;
pub mod email;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace_context;
pub mod webhook;

use std::time::Duration;

pub use client::{ClientBuildError, ClientError, PolicyClient};
pub use email::{SmtpMailer, SmtpSettings};
pub use webhook::HttpWebhooks;
pub use weir_outbound_policy::{self as policy, OutboundPolicy};

/// A timeout as error messages show it: `10 s` for whole seconds, else `1500 ms`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis > 0 && millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{millis} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(format_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(format_duration(Duration::ZERO), "0 ms");
    }
}
