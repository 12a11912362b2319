//! Cluster mode: a peer node's MQTT session taken over when that node stopped or died.
//!
//! The nodes share the uplinks as one shared subscription, each through a persistent
//! session of its own. The broker (Mosquitto) keeps handing a stopped node's session its
//! share of the uplinks, queued until that session comes back. A surviving node therefore
//! connects under the stopped node's client id, removes the session's subscription (so
//! nothing more is routed there), stores and acknowledges what the session holds (the
//! messages handed to the dead node and never acknowledged come again), and disconnects
//! once nothing more arrives. A node that comes back later subscribes again at its start.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, Packet};
use tokio::sync::watch;
use weir_iot::IotService;

use crate::client::{ClientPlan, Ingest, Work, stop};
use crate::topics::Topics;

/// How long without a message means the session is drained.
const QUIET: Duration = Duration::from_secs(2);
/// How long a takeover may last at most.
const AT_MOST: Duration = Duration::from_secs(120);

/// Drains the session of `plan.client_id` (a stopped peer's): answers how many messages
/// it stored or refused.
pub(crate) async fn drain(plan: ClientPlan, topics: Topics, iot: Arc<IotService>) -> usize {
    let filter = match &plan.shared_group {
        Some(group) => format!("$share/{group}/{}", topics.uplink_filter()),
        None => topics.uplink_filter(),
    };
    let (client, mut events) = AsyncClient::new(plan.options(), 1024);
    let ingest = Arc::new(Ingest {
        iot,
        topics,
        database_down: AtomicBool::new(false),
    });
    // Never stopped from outside: the takeover ends by itself.
    let (_keep, shutdown) = watch::channel(false);
    let mut work = Work::new(plan.workers);
    let mut connected = false;
    let mut handled = 0;
    let deadline = tokio::time::Instant::now() + AT_MOST;
    loop {
        work.start_ready(&ingest, &shutdown);
        work.send_acks(&client);
        let event = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            Some(done) = work.running.join_next_with_id(), if !work.running.is_empty() => {
                work.finished(done);
                handled += 1;
                continue;
            }
            event = tokio::time::timeout(QUIET, events.poll()) => event,
        };
        match event {
            Err(_quiet) if connected && work.idle() => break,
            Err(_quiet) => {}
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                connected = true;
                if let Err(error) = client.try_unsubscribe(filter.as_str()) {
                    tracing::warn!(%error, "MQTT takeover: unsubscribe could not be queued");
                }
            }
            Ok(Ok(Event::Incoming(Packet::Publish(publish)))) => work.arrived(publish),
            Ok(Ok(_)) => {}
            // The node came back and took its session over, or the broker went away:
            // what is left waits for the session's owner.
            Ok(Err(error)) => {
                tracing::info!(client_id = plan.client_id, %error, "MQTT takeover ended by the broker");
                break;
            }
        }
    }
    stop(client, events, work).await;
    handled
}
