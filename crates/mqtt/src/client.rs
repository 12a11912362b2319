//! Weir's own MQTT client: it subscribes to every device's uplink with a persistent session
//! at QoS 1, stores each message as a device report, and acknowledges a message to the
//! broker only once its values are committed (or it was refused for good). A crash before
//! that leaves the message with the broker, which delivers it again.
//!
//! - A bounded number of reports run at once (`mqtt.workers`), on the blocking pool.
//!   Messages of one topic (one device) are stored one after the other, in order.
//! - While the database is unavailable, a message is retried with backoff and not
//!   acknowledged; the broker stops sending once its in-flight window is full.
//! - The connection is re-established with backoff; each outage is logged once.
//! - The event loop is never blocked: acknowledgements and downlinks go through the
//!   client's queue without waiting.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS,
    SubscribeReasonCode,
};
use tokio::sync::watch;
use tokio::task::JoinSet;
use weir_iot::IotService;

use crate::integration::MqttDevices;
use crate::settings::BrokerAddress;
use crate::topics::{Topics, shorten};
use crate::uplink::{Verdict, ingest};

/// Requests (acknowledgements, downlinks) the client queues before refusing more.
const REQUEST_QUEUE: usize = 1024;
/// QoS 0 messages waiting for a worker, at most; more are dropped (QoS 1 messages are
/// bounded by the broker's in-flight window instead).
const MAX_WAITING_QOS0: usize = 1024;
const KEEP_ALIVE: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a clean stop waits for the reports under way.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How Weir's client connects.
#[derive(Clone)]
pub(crate) struct ClientPlan {
    pub address: BrokerAddress,
    pub client_id: String,
    pub login: Option<(String, String)>,
    pub max_payload_bytes: usize,
    pub workers: usize,
    /// The broker starts beside the client (embedded): wait until it listens rather than
    /// report its first moments as an outage.
    pub broker_starting: bool,
    /// Which start of MQTT this client belongs to.
    pub generation: u64,
    /// The shared subscription group of a cluster's nodes, if any.
    pub shared_group: Option<String>,
}

impl ClientPlan {
    pub(crate) fn options(&self) -> MqttOptions {
        let mut o = MqttOptions::new(&self.client_id, &self.address.host, self.address.port);
        // Room for the fixed header, the topic and the packet id beside the payload.
        let packet = self.max_payload_bytes + 64 * 1024;
        o.set_clean_session(false)
            .set_manual_acks(true)
            .set_keep_alive(KEEP_ALIVE)
            .set_max_packet_size(packet, packet)
            .set_inflight(100);
        if let Some((user, password)) = &self.login {
            o.set_credentials(user, password);
        }
        o
    }
}

/// What the stored reports share: the use-cases, the topic layout, and whether the
/// database is known to be down (so an outage is logged once).
pub(crate) struct Ingest {
    pub(crate) iot: Arc<IotService>,
    pub(crate) topics: Topics,
    pub(crate) database_down: AtomicBool,
}

/// Runs the client until `shutdown` turns true, then stops cleanly: no new messages, the
/// reports under way finish (for a few seconds at most) and are acknowledged, and the
/// client disconnects. Its persistent session stays with the broker.
pub(crate) async fn run(
    plan: ClientPlan,
    topics: Topics,
    iot: Arc<IotService>,
    devices: Arc<MqttDevices>,
    ready: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (client, mut events) = AsyncClient::new(plan.options(), REQUEST_QUEUE);
    devices.attach(client.clone(), topics.clone(), plan.generation);
    let broker = format!("{}:{}", plan.address.host, plan.address.port);
    let filter = match &plan.shared_group {
        Some(group) => format!("$share/{group}/{}", topics.uplink_filter()),
        None => topics.uplink_filter(),
    };
    let ingest = Arc::new(Ingest {
        iot,
        topics,
        database_down: AtomicBool::new(false),
    });
    if plan.broker_starting {
        let address = (plan.address.host.clone(), plan.address.port);
        let deadline = Instant::now() + Duration::from_secs(5);
        while tokio::net::TcpStream::connect(address.clone())
            .await
            .is_err()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let mut work = Work::new(plan.workers);
    let mut outage: Option<Instant> = None;
    let mut backoff = FIRST_BACKOFF;
    let mut subscribed = false;
    loop {
        work.start_ready(&ingest, &shutdown);
        work.send_acks(&client);
        let event = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            Some(done) = work.running.join_next_with_id(), if !work.running.is_empty() => {
                work.finished(done);
                continue;
            }
            event = events.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                match outage.take() {
                    Some(since) => tracing::info!(
                        broker,
                        down_secs = since.elapsed().as_secs(),
                        session_present = ack.session_present,
                        "MQTT connection back"
                    ),
                    None => tracing::info!(
                        broker,
                        client_id = plan.client_id,
                        session_present = ack.session_present,
                        "MQTT client connected"
                    ),
                }
                backoff = FIRST_BACKOFF;
                // Subscribe once per start (the filter may have changed since the session
                // was made), and whenever the broker lost the session. A reconnect to a
                // kept session does not: subscribing again would bring retained messages
                // back once more.
                let subscribe = !subscribed || !ack.session_present;
                ready.send_replace(!subscribe);
                if subscribe {
                    match client.try_subscribe(filter.as_str(), QoS::AtLeastOnce) {
                        Ok(()) => subscribed = true,
                        Err(error) => {
                            tracing::error!(%error, filter, "MQTT subscribe could not be queued");
                        }
                    }
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused = ack.return_codes.contains(&SubscribeReasonCode::Failure);
                ready.send_replace(!refused);
                if refused {
                    tracing::error!(
                        broker,
                        filter,
                        "the MQTT broker refused Weir's subscription: no uplink will \
                             arrive (check the broker's ACL for mqtt.username)"
                    );
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => work.arrived(publish),
            Ok(_) => {}
            Err(error) => {
                ready.send_replace(false);
                if outage.is_none() {
                    outage = Some(Instant::now());
                    tracing::warn!(
                        broker,
                        error = %describe(&error),
                        "MQTT connection failed; retrying with backoff until it is back \
                         (messages stay with the broker meanwhile)"
                    );
                } else {
                    tracing::debug!(broker, error = %error, "MQTT reconnect failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    devices.detach(plan.generation);
    ready.send_replace(false);
    stop(client, events, work).await;
}

/// Lets the reports under way finish and acknowledges them, then disconnects.
pub(crate) async fn stop(client: AsyncClient, mut events: EventLoop, mut work: Work) {
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    let mut connected = true;
    while !work.running.is_empty() {
        work.send_acks(&client);
        tokio::select! {
            Some(done) = work.running.join_next_with_id() => work.finished(done),
            event = events.poll(), if connected => connected = event.is_ok(),
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    work.send_acks(&client);
    if !connected {
        return;
    }
    let _ = client.try_disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match events.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// A connection error in words an operator acts on.
fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) => format!(
            "the broker refused the connection ({code:?}): check mqtt.username, \
             mqtt.password and mqtt.client_id"
        ),
        other => other.to_string(),
    }
}

/// A message being stored.
struct Running {
    topic: String,
    pkid: Option<u16>,
}

/// The messages waiting and being stored.
pub(crate) struct Work {
    workers: usize,
    waiting: VecDeque<Publish>,
    waiting_qos0: usize,
    dropped_qos0: u64,
    pub(crate) running: JoinSet<(Publish, bool)>,
    by_task: HashMap<tokio::task::Id, Running>,
    busy_topics: HashSet<String>,
    /// Packet ids of QoS 1 messages waiting or being stored: a copy the broker sends
    /// again after a reconnect is not stored twice.
    held_ids: HashSet<u16>,
    acks: VecDeque<Publish>,
}

impl Work {
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            workers,
            waiting: VecDeque::new(),
            waiting_qos0: 0,
            dropped_qos0: 0,
            running: JoinSet::new(),
            by_task: HashMap::new(),
            busy_topics: HashSet::new(),
            held_ids: HashSet::new(),
            acks: VecDeque::new(),
        }
    }

    /// Nothing waiting, nothing being stored, no acknowledgement due.
    pub(crate) fn idle(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty() && self.acks.is_empty()
    }

    pub(crate) fn arrived(&mut self, publish: Publish) {
        if publish.qos == QoS::AtMostOnce {
            if self.waiting_qos0 >= MAX_WAITING_QOS0 {
                if self.dropped_qos0.is_multiple_of(1000) {
                    tracing::warn!(
                        topic = shorten(&publish.topic),
                        dropped = self.dropped_qos0 + 1,
                        "MQTT ingest is behind: QoS 0 messages are dropped (publish at QoS 1 \
                         to have them wait)"
                    );
                }
                self.dropped_qos0 += 1;
                return;
            }
            self.waiting_qos0 += 1;
        } else if !self.held_ids.insert(publish.pkid) {
            tracing::debug!(
                pkid = publish.pkid,
                "MQTT redelivery of a message being stored"
            );
            return;
        }
        self.waiting.push_back(publish);
    }

    /// Starts reports while workers are free, the oldest message of a free topic first.
    pub(crate) fn start_ready(&mut self, ingest: &Arc<Ingest>, shutdown: &watch::Receiver<bool>) {
        while self.running.len() < self.workers {
            let Some(publish) = self
                .waiting
                .iter()
                .position(|p| !self.busy_topics.contains(&p.topic))
                .and_then(|at| self.waiting.remove(at))
            else {
                return;
            };
            if publish.qos == QoS::AtMostOnce {
                self.waiting_qos0 -= 1;
            }
            self.busy_topics.insert(publish.topic.clone());
            let running = Running {
                topic: publish.topic.clone(),
                pkid: (publish.qos != QoS::AtMostOnce).then_some(publish.pkid),
            };
            let handle = self
                .running
                .spawn(store(ingest.clone(), publish, shutdown.clone()));
            self.by_task.insert(handle.id(), running);
        }
    }

    pub(crate) fn finished(
        &mut self,
        done: Result<(tokio::task::Id, (Publish, bool)), tokio::task::JoinError>,
    ) {
        let (id, outcome) = match done {
            Ok((id, outcome)) => (id, Some(outcome)),
            Err(e) => (e.id(), None),
        };
        if let Some(r) = self.by_task.remove(&id) {
            self.busy_topics.remove(&r.topic);
            if let Some(pkid) = r.pkid {
                self.held_ids.remove(&pkid);
            }
        }
        if let Some((publish, true)) = outcome
            && publish.qos != QoS::AtMostOnce
        {
            self.acks.push_back(publish);
        }
    }

    /// Queues the acknowledgements due, as many as the client's queue takes now.
    pub(crate) fn send_acks(&mut self, client: &AsyncClient) {
        while let Some(publish) = self.acks.front() {
            match client.try_ack(publish) {
                Ok(()) => {
                    self.acks.pop_front();
                }
                Err(_) => return,
            }
        }
    }
}

/// Stores one message, retrying while the database fails. Answers whether to acknowledge
/// it: not when Weir stops before it could be stored.
async fn store(
    ingest: Arc<Ingest>,
    publish: Publish,
    mut shutdown: watch::Receiver<bool>,
) -> (Publish, bool) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let (job, topic, payload) = (
            ingest.clone(),
            publish.topic.clone(),
            publish.payload.clone(),
        );
        let verdict = tokio::task::spawn_blocking(move || ingest_one(&job, &topic, &payload)).await;
        let verdict = match verdict {
            Ok(v) => v,
            Err(e) => {
                // A bug, not the message's fault; storing it again would fail again.
                tracing::error!(topic = shorten(&publish.topic), error = %e, "MQTT report failed");
                return (publish, true);
            }
        };
        match verdict {
            Verdict::Retry(error) => {
                if !ingest.database_down.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        %error,
                        "MQTT ingest cannot store: the database is unavailable. Messages stay \
                         unacknowledged with the broker and are retried with backoff"
                    );
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return (publish, false),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Verdict::Stored { address, values } => {
                crate::measure::message("uplink", "stored");
                crate::measure::values_ingested(values);
                if ingest.database_down.swap(false, Ordering::Relaxed) {
                    tracing::info!("MQTT ingest stores again: the database is back");
                }
                tracing::debug!(
                    tenant = %address.tenant,
                    device = address.device,
                    values,
                    "MQTT report stored"
                );
                return (publish, true);
            }
            Verdict::Refused { address, reason } => {
                crate::measure::message("uplink", "refused");
                tracing::warn!(
                    tenant = address.as_ref().map(|a| a.tenant.to_string()),
                    device = address.as_ref().map(|a| a.device.clone()),
                    topic = shorten(&publish.topic),
                    reason,
                    "MQTT message refused (acknowledged, not stored)"
                );
                return (publish, true);
            }
        }
    }
}

fn ingest_one(job: &Ingest, topic: &str, payload: &[u8]) -> Verdict {
    ingest(&job.iot, &job.topics, topic, payload)
}
