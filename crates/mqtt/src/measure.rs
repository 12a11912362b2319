//! What MQTT adds to the process's metrics, through the `metrics` facade (a no-op unless
//! the app installed a recorder). The names are listed in docs/operations.md, "Metrics".

/// One message through Weir's client: `direction` is `uplink` (from a device: `stored` or
/// `refused`) or `downlink` (to a device: `sent` or `refused`).
pub(crate) fn message(direction: &'static str, outcome: &'static str) {
    metrics::counter!(
        "weir_mqtt_messages_total",
        "direction" => direction,
        "outcome" => outcome
    )
    .increment(1);
}

/// Values stored from one MQTT report.
pub(crate) fn values_ingested(values: usize) {
    metrics::counter!("weir_values_ingested_total", "channel" => "mqtt")
        .increment(u64::try_from(values).unwrap_or(u64::MAX));
}

/// A device connected through the embedded broker's gate: counted in
/// `weir_mqtt_connections_open` from [`Connection::open`] until it is dropped.
#[derive(Debug)]
pub(crate) struct Connection(());

impl Connection {
    pub(crate) fn open() -> Self {
        metrics::gauge!("weir_mqtt_connections_open").increment(1.0);
        metrics::counter!("weir_mqtt_connects_total", "outcome" => "accepted").increment(1);
        Self(())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        metrics::gauge!("weir_mqtt_connections_open").decrement(1.0);
    }
}
