//! What one uplink message becomes: a device report, stored all or nothing; or a refusal,
//! which is final; or a storage failure, which is tried again.

use serde_json::Value as Json;
use weir_iot::errors::IotError;
use weir_iot::samples::Sample;
use weir_iot::{IotService, Viewer};

use crate::integration::INTEGRATION_ID;
use crate::topics::{DeviceAddress, Topics};

/// The outcome of storing one message.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Committed: acknowledge it.
    Stored {
        address: DeviceAddress,
        values: usize,
    },
    /// Refused for good (a bad topic, payload or value, an unknown device): log it and
    /// acknowledge it, so the broker does not deliver it again and again.
    Refused {
        address: Option<DeviceAddress>,
        reason: String,
    },
    /// The database failed: leave it unacknowledged and try again.
    Retry(IotError),
}

/// Parses and stores one message published on `topic`. Blocking.
pub(crate) fn ingest(iot: &IotService, topics: &Topics, topic: &str, payload: &[u8]) -> Verdict {
    let address = match topics.parse_uplink(topic) {
        Ok(a) => a,
        Err(e) => {
            return Verdict::Refused {
                address: None,
                reason: e.to_string(),
            };
        }
    };
    let refused = |address: DeviceAddress, reason: String| Verdict::Refused {
        address: Some(address),
        reason,
    };
    let json: Json = match serde_json::from_slice(payload) {
        Ok(j) => j,
        Err(e) => return refused(address, format!("the payload is not JSON: {e}")),
    };
    let samples = match Sample::parse_all(json) {
        Ok(s) => s,
        Err(e) => return refused(address, e.to_string()),
    };
    let viewer = Viewer::system(address.tenant.clone());
    match iot.report(&viewer, INTEGRATION_ID, &address.device, &samples) {
        Ok(outcome) => Verdict::Stored {
            address,
            values: outcome.points.len(),
        },
        Err(e @ IotError::Store(_)) => Verdict::Retry(e),
        Err(e) => refused(address, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weir_iot::events::LocalBus;
    use weir_iot::ports::IotTx;
    use weir_iot::{IntegrationRegistry, IotPorts, IotSettings};
    use weir_kernel::{IdGenerator, StoreError, SystemClock, Transactions, TxMode};

    use super::*;

    /// A database that is down.
    struct Down;

    impl Transactions<dyn IotTx> for Down {
        fn run(
            &self,
            _: TxMode,
            _: &mut dyn FnMut(&mut (dyn IotTx + 'static)) -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("connection refused".into()))
        }
    }

    fn service() -> IotService {
        IotService::new(
            IotPorts {
                store: Arc::new(Down),
                integrations: Arc::new(IntegrationRegistry::default()),
                ids: Arc::new(IdGenerator::new(1, Box::new(SystemClock))),
                clock: Arc::new(SystemClock),
                events: Arc::new(LocalBus::new(8)),
            },
            IotSettings::default(),
        )
    }

    #[test]
    fn a_database_outage_is_retried_not_refused() {
        let topics = Topics::new("weir").unwrap();
        let verdict = ingest(
            &service(),
            &topics,
            "weir/default/d1/uplink",
            br#"{"t": 1}"#,
        );
        assert!(
            matches!(
                verdict,
                Verdict::Retry(IotError::Store(StoreError::Unavailable(_)))
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn bad_topics_and_payloads_are_refused_before_the_database() {
        let topics = Topics::new("weir").unwrap();
        let iot = service();
        for (topic, payload, reason) in [
            ("weir/Bad/d1/uplink", &b"{}"[..], "tenant"),
            ("weir/default/d.1/uplink", b"{}", "device identifier"),
            ("weir/default/d1/uplink", b"{not json", "not JSON"),
            ("weir/default/d1/uplink", b"[]", "at least one sample"),
            ("weir/default/d1/uplink", b"42", "body"),
        ] {
            match ingest(&iot, &topics, topic, payload) {
                Verdict::Refused { reason: r, .. } => assert!(r.contains(reason), "{r}"),
                other => panic!("{topic}: {other:?}"),
            }
        }
    }
}
