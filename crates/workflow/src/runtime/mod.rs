//! The runtime: keeps every enabled flow ready, starts runs when their entry node says
//! (an event, a timer, an HTTP request, an API call), bounds how many run at once per
//! tenant, and writes their logs.
//!
//! - **Enabling and disabling.** [`WorkflowService`] tells the runtime about every flow it
//!   saves, enables, disables or deletes ([`crate::service::FlowChanges`]), inside the same
//!   call: when the request that disabled a flow answers, no new run of it starts. Runs
//!   already going finish.
//! - **Concurrency.** At most `max_runs_per_tenant` runs of one tenant at once. A run a
//!   request asks for (a trigger, an HTTP-in call, a test) that cannot start within the run
//!   time limit is refused as busy. Runs that events start are never lost: they wait in
//!   their tenant's queue for a slot, and a flood slows down the writes that cause it
//!   ([`queue`]).
//! - **Loops.** A value a run writes carries the chain of runs that led to it; an event
//!   whose chain already holds `max_chain_depth` runs starts none, and the run that would
//!   have started leaves a log saying why (see [`chain`]).
//! - **Logs.** Every run but a design test leaves a [`RunLog`]; they are written in batches
//!   by one task, and kept `log_retention_days`.
//! - **Timers.** Several processes (nodes) on one database fire each timer once: every
//!   node follows every timer's schedule, and fires it only while it holds the flow's
//!   lease ([`leases`]). All nodes count an interval from the flow's `updated_at` (when
//!   it was enabled or last changed), so a node that takes a timer over continues the
//!   same schedule; a ONCE timer whose moment has passed is due on no node. When the
//!   node holding a timer dies, another takes it within `timer_lease + timer_renew`
//!   (13 s with the defaults; the due times in between are not fired); when it stops
//!   cleanly ([`Runtime::stop_timers`]), at the other's next renewal.

pub mod active;
pub mod chain;
pub mod http_path;
pub mod leases;
pub mod queue;
pub mod timer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Map, Value as Json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use weir_kernel::{Clock, Id, IdGenerator, Millis, TenantId};

use crate::caller::Caller;
use crate::engine::{Engine, RunOutcome, RunRequest};
use crate::errors::WorkflowError;
use crate::ports::TimerLeases;
use crate::run_log::RunLog;
use crate::service::{FlowChanges, WorkflowService};
use crate::validate::{ValidatedFlow, parse_and_validate};
use active::{Active, ActiveFlow, Start};
use leases::Leases;
use queue::{FLOW_WRITES_FACTOR, Queued, TenantQueue};

/// How the runtime runs flows and keeps their logs.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Runs of one tenant that may go on at once.
    pub max_runs_per_tenant: usize,
    /// Runs started by events that may wait for a slot, per tenant, before writes no flow
    /// made (devices, the API) wait for room ([`queue`]).
    pub max_queued_runs: usize,
    /// Days a run log is kept.
    pub log_retention_days: u32,
    /// Logs waiting to be written before runs wait for the writer.
    pub log_queue: usize,
    /// Most runs in a chain of flows started by each other's writes (at least 1): a value
    /// written by the last run of such a chain starts no more.
    pub max_chain_depth: usize,
    /// How long a node's lease of a timer lasts without renewal: after it, another node
    /// may take the timer. Raised to more than twice `timer_renew`.
    pub timer_lease: Duration,
    /// How often a node claims and renews the leases of its timer flows.
    pub timer_renew: Duration,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            max_runs_per_tenant: 32,
            max_queued_runs: 10_000,
            log_retention_days: 30,
            log_queue: 10_000,
            max_chain_depth: 8,
            timer_lease: Duration::from_secs(10),
            timer_renew: Duration::from_secs(3),
        }
    }
}

/// The ports the runtime needs besides the engine.
pub struct RuntimePorts {
    /// Runs the flows.
    pub engine: Arc<Engine>,
    /// Loads the enabled flows, and tells the runtime when a use-case changed one.
    pub service: Arc<WorkflowService>,
    /// Gives runs and their logs their ids.
    pub ids: Arc<IdGenerator>,
    /// Tells the time for timers, leases, runs and log retention.
    pub clock: Arc<dyn Clock>,
    /// Which node fires each timer: the database's leases when several processes share
    /// it, [`crate::SoleNode`] for a process alone on its data.
    pub leases: Arc<dyn TimerLeases>,
    /// This process among the nodes sharing the database: unique to each process start.
    pub node: String,
}

/// Cheap to clone: every clone is the same runtime.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

/// A [`Runtime`] that does not keep it alive: for whatever the runtime itself keeps alive
/// (the IoT bus's handler, which the runtime reaches through its engine), so that no cycle
/// of strong references outlives the program's own handle.
#[derive(Clone)]
pub struct WeakRuntime(std::sync::Weak<Inner>);

impl WeakRuntime {
    /// The runtime, unless every strong handle has been dropped.
    pub fn upgrade(&self) -> Option<Runtime> {
        self.0.upgrade().map(|inner| Runtime { inner })
    }
}

impl std::fmt::Debug for WeakRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WeakRuntime")
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

struct Inner {
    engine: Arc<Engine>,
    service: Arc<WorkflowService>,
    ids: Arc<IdGenerator>,
    clock: Arc<dyn Clock>,
    settings: RuntimeSettings,
    active: RwLock<Active>,
    timers: Mutex<HashMap<Id, JoinHandle<()>>>,
    slots: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
    /// Runs events started, waiting for a slot, per tenant.
    queues: Mutex<HashMap<TenantId, Arc<TenantQueue>>>,
    logs: mpsc::Sender<RunLog>,
    tokio: tokio::runtime::Handle,
    /// When each flow last warned that a run of it was stopped, for one warning a minute.
    warned: Mutex<HashMap<Id, Millis>>,
    /// The timers this node fires.
    leases: Arc<Leases>,
    /// Wakes the lease task before its next renewal (a timer flow was activated).
    lease_wake: Arc<tokio::sync::Notify>,
    lease_task: Mutex<Option<JoinHandle<()>>>,
}

/// How often a flow whose runs are stopped says so in the server's log, at most.
const WARN_EVERY_MS: Millis = 60_000;

/// What starts a run, for its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logged {
    Yes,
    /// Design tests: nothing is kept but the trace they answer.
    No,
}

impl Runtime {
    /// Starts the runtime on the current tokio runtime: loads every enabled flow, starts
    /// their timers, the log writer and the retention job, and registers itself with the
    /// service so that changes to flows reach it.
    pub async fn start(
        ports: RuntimePorts,
        settings: RuntimeSettings,
    ) -> Result<Self, WorkflowError> {
        let (logs, queue) = mpsc::channel(settings.log_queue.max(1));
        let leases = Arc::new(Leases::new(
            ports.leases,
            ports.node,
            millis(settings.timer_lease),
            millis(settings.timer_renew),
        ));
        let inner = Arc::new(Inner {
            engine: ports.engine,
            service: ports.service.clone(),
            ids: ports.ids,
            clock: ports.clock,
            settings,
            active: RwLock::new(Active::default()),
            timers: Mutex::new(HashMap::new()),
            slots: Mutex::new(HashMap::new()),
            queues: Mutex::new(HashMap::new()),
            logs,
            tokio: tokio::runtime::Handle::current(),
            warned: Mutex::new(HashMap::new()),
            leases,
            lease_wake: Arc::new(tokio::sync::Notify::new()),
            lease_task: Mutex::new(None),
        });
        tokio::spawn(write_logs(inner.service.clone(), queue));
        tokio::spawn(purge_logs(Arc::downgrade(&inner)));
        *lock(&inner.lease_task) = Some(tokio::spawn(keep_leases(Arc::downgrade(&inner))));
        let runtime = Self { inner };
        let service = ports.service.clone();
        let enabled = tokio::task::spawn_blocking(move || service.enabled_flows())
            .await
            .map_err(|_| WorkflowError::invalid("runtime", "could not load the enabled flows"))??;
        for (flow, version) in enabled {
            runtime.inner.activate(flow, &version.design_data);
        }
        ports
            .service
            .observe(Arc::new(Observer(Arc::downgrade(&runtime.inner))));
        Ok(runtime)
    }

    /// The engine runs go through.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// Brings the runtime up to date with the stored state of these flows after another
    /// process changed them (cluster mode); this process's own changes arrive by
    /// themselves. Blocking: it reads the flows.
    pub fn reload(&self, tenant: &TenantId, ids: &[Id]) {
        self.inner.reload(tenant, ids);
    }

    /// How many flows are active (enabled and loaded).
    pub fn active_flows(&self) -> usize {
        read(&self.inner.active).flows.len()
    }

    /// This node's name among the processes sharing the database.
    pub fn node(&self) -> &str {
        self.inner.leases.node()
    }

    /// The timer flows this node fires now: those whose lease it holds.
    pub fn leased_timers(&self) -> Vec<Id> {
        self.inner.leases.held(self.inner.clock.now_ms())
    }

    /// Stops this node's timers and gives up their leases, so that another node takes
    /// them at its next renewal instead of when the leases run out: for a clean shutdown.
    /// The other flows go on running; timers do not start again in this runtime.
    pub async fn stop_timers(&self) {
        if let Some(task) = lock(&self.inner.lease_task).take() {
            task.abort();
        }
        let mut timers = Vec::new();
        for (id, timer) in lock(&self.inner.timers).drain() {
            timer.abort();
            timers.push(id);
        }
        let leases = self.inner.leases.clone();
        // Every timer flow, not only those held: a renewal under way may have claimed one.
        match tokio::task::spawn_blocking(move || leases.release_all(&timers)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "timer leases not released: they run out instead")
            }
            Err(_) => tracing::warn!("timer leases not released: they run out instead"),
        }
    }

    /// A handle that does not keep the runtime alive.
    pub fn downgrade(&self) -> WeakRuntime {
        WeakRuntime(Arc::downgrade(&self.inner))
    }

    /// New values of a tenant's entities (key to value), written by the runs of the flows
    /// in `cause` (oldest first; empty when no flow wrote them): queues a run of every
    /// enabled flow that listens to one of the keys, with the values it listens to, to start
    /// when a slot of the tenant frees ([`queue`]). When `cause` already holds
    /// `max_chain_depth` runs, none is queued: each flow that would have run logs why.
    ///
    /// Never blocks: call it in the order the values were committed. The writer then
    /// calls [`Self::pace`].
    pub fn enqueue_values(&self, tenant: &TenantId, values: &[(String, Json)], cause: &[Id]) {
        let runs: BTreeMap<Id, (Arc<ActiveFlow>, Map<String, Json>)> = {
            let active = read(&self.inner.active);
            if !active.has_listeners() {
                return;
            }
            let mut runs = BTreeMap::new();
            for (key, value) in values {
                for id in active.listening(tenant, key) {
                    if let Some(flow) = active.flows.get(id) {
                        runs.entry(*id)
                            .or_insert_with(|| (flow.clone(), Map::new()))
                            .1
                            .insert(key.clone(), value.clone());
                    }
                }
            }
            runs
        };
        if runs.is_empty() {
            return;
        }
        let queue = self.inner.queue(tenant);
        let limit = self.inner.settings.max_queued_runs.max(1);
        for (_, (flow, input)) in runs {
            let refusal = if !chain::may_start(cause.len(), self.inner.max_chain_depth()) {
                Some(None)
            } else if !cause.is_empty() && queue.waiting() >= limit * FLOW_WRITES_FACTOR {
                Some(Some(format!(
                    "not started: {} runs of this tenant are already waiting for a slot (workflow.max_queued_runs × {FLOW_WRITES_FACTOR}); the flows' own writes start more runs than the tenant's slots can take",
                    queue.waiting()
                )))
            } else {
                None
            };
            if let Some(reason) = refusal {
                let inner = self.inner.clone();
                let cause = cause.to_vec();
                self.inner.tokio.spawn(async move {
                    inner.stop(&flow, input, &cause, reason).await;
                });
                continue;
            }
            let chain = chain::extended(cause, flow.flow.id);
            if !queue.push(Queued { flow, input, chain }) {
                return;
            }
        }
    }

    /// Slows down a writer that is no flow (`cause` empty) once its values were queued
    /// ([`Self::enqueue_values`]): it waits while the tenant has `max_queued_runs` runs
    /// waiting, at most the run time limit (then it goes on, and the runs fall behind).
    /// Blocking: call it on the writer's own thread, outside the commit order, so that
    /// it holds up no other write (a flow's own writes free the room it waits for).
    pub fn pace(&self, tenant: &TenantId, cause: &[Id]) {
        if !cause.is_empty() {
            return;
        }
        // A tenant without a queue has no run waiting.
        let Some(queue) = lock(&self.inner.queues).get(tenant).cloned() else {
            return;
        };
        let limit = self.inner.settings.max_queued_runs.max(1);
        if !queue.wait_for_room(limit, self.inner.engine.settings().run_timeout) {
            tracing::warn!(tenant = %tenant, waiting = queue.waiting(), "flow runs queued past workflow.max_queued_runs: the runs fall behind the writes");
        }
    }

    /// Runs an enabled flow of the caller's tenant that starts with a `trigger`, with
    /// `input` as the trigger's values, and answers how it went.
    pub async fn trigger(
        &self,
        c: &Caller,
        flow_id: Id,
        input: Map<String, Json>,
    ) -> Result<RunOutcome, WorkflowError> {
        c.require(crate::caller::functions::EDIT)?;
        let flow = read(&self.inner.active)
            .flows
            .get(&flow_id)
            .filter(|f| c.sees(&f.flow))
            .cloned()
            .ok_or_else(|| WorkflowError::not_found("enabled flow", flow_id))?;
        if !matches!(flow.start, Start::Trigger) {
            return Err(WorkflowError::invalid(
                "flow_id",
                format!("flow {flow_id} does not start with a trigger node"),
            ));
        }
        let permit = self.inner.slot(&flow.flow.tenant_id).await?;
        let chain = vec![flow.flow.id];
        Ok(self
            .inner
            .execute(permit, flow, input, chain, Logged::Yes)
            .await)
    }

    /// Runs the enabled `httpIn` flow that `credential` opens, when `method` and `path`
    /// (below `/workflow-http-in/`) are its own. `message` is what the request carried; the
    /// path variables are added under `pathVariables`.
    pub async fn http_in(
        &self,
        credential: &str,
        method: &str,
        path: &str,
        mut message: Map<String, Json>,
    ) -> Result<RunOutcome, WorkflowError> {
        let refused = || {
            WorkflowError::Unauthenticated(
                "the credential does not open an enabled HTTP-in flow".into(),
            )
        };
        let (flow_id, secret) = credential.split_once('.').ok_or_else(refused)?;
        let flow_id: Id = flow_id.parse().map_err(|_| refused())?;
        let flow = read(&self.inner.active)
            .flows
            .get(&flow_id)
            .cloned()
            .ok_or_else(refused)?;
        if !flow.opens_with(secret) {
            return Err(refused());
        }
        let Start::HttpIn {
            method: wanted,
            path: pattern,
        } = &flow.start
        else {
            return Err(refused());
        };
        let variables = pattern.matches(path).ok_or_else(|| {
            WorkflowError::not_found("HTTP-in path", format!("/workflow-http-in/{path}"))
        })?;
        if !wanted.eq_ignore_ascii_case(method) {
            return Err(WorkflowError::MethodNotAllowed(format!(
                "this flow accepts {wanted} requests only"
            )));
        }
        if !variables.is_empty() {
            message.insert("pathVariables".into(), Json::Object(variables));
        }
        let permit = self.inner.slot(&flow.flow.tenant_id).await?;
        let chain = vec![flow.flow.id];
        Ok(self
            .inner
            .execute(permit, flow, message, chain, Logged::Yes)
            .await)
    }

    /// Runs a design once without keeping anything: `POST /workflow/flows/design/test`.
    pub async fn test_design(
        &self,
        c: &Caller,
        design_data: &str,
        input: Map<String, Json>,
    ) -> Result<RunOutcome, WorkflowError> {
        c.require(crate::caller::functions::EDIT)?;
        let validated = parse_and_validate(design_data, &self.inner.service.limits())?;
        let validated = self.checked(c, validated).await?;
        let flow = Arc::new(ActiveFlow::testing(c.tenant_id.clone(), validated));
        let permit = self.inner.slot(&c.tenant_id).await?;
        // A design test writes as its user would: its writes start a chain of their own.
        Ok(self
            .inner
            .execute(permit, flow, input, Vec::new(), Logged::No)
            .await)
    }

    /// Runs one node on its own: `POST /workflow/flows/node/test`.
    pub async fn test_node(
        &self,
        c: &Caller,
        node: crate::design::Node,
        input: Map<String, Json>,
    ) -> Result<RunOutcome, WorkflowError> {
        c.require(crate::caller::functions::EDIT)?;
        let service = self.inner.service.clone();
        let (caller, checked) = (c.clone(), node.clone());
        tokio::task::spawn_blocking(move || service.check_entities(&caller, [&checked]))
            .await
            .map_err(|_| WorkflowError::invalid("node", "the node could not be checked"))??;
        let permit = self.inner.slot(&c.tenant_id).await?;
        let engine = self.inner.engine.clone();
        let tenant = c.tenant_id.clone();
        let message_id = self.inner.ids.next_id().to_string();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            engine.test_node(&tenant, &node, input, message_id)
        })
        .await
        .map_err(|_| WorkflowError::invalid("node", "the node test could not run"))?
    }
}

impl Runtime {
    /// The design, once the entities it names passed the caller's rights.
    async fn checked(
        &self,
        c: &Caller,
        validated: ValidatedFlow,
    ) -> Result<ValidatedFlow, WorkflowError> {
        let service = self.inner.service.clone();
        let caller = c.clone();
        tokio::task::spawn_blocking(move || {
            service
                .check_entities(&caller, &validated.design().nodes)
                .map(|()| validated)
        })
        .await
        .map_err(|_| WorkflowError::invalid("design_data", "the design could not be checked"))?
    }
}

impl Inner {
    /// A run slot of the tenant, waiting at most the run time limit for one.
    async fn slot(
        &self,
        tenant: &TenantId,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, WorkflowError> {
        let semaphore = self.semaphore(tenant);
        let wait = self.engine.settings().run_timeout;
        match tokio::time::timeout(wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(WorkflowError::Busy(format!(
                "{} runs of this tenant are already going on; try again later",
                self.settings.max_runs_per_tenant
            ))),
        }
    }

    /// The tenant's run slots.
    fn semaphore(&self, tenant: &TenantId) -> Arc<Semaphore> {
        lock(&self.slots)
            .entry(tenant.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.max_runs_per_tenant.max(1))))
            .clone()
    }

    /// The tenant's queue of runs events started; made, with its dispatcher, on first use.
    fn queue(self: &Arc<Self>, tenant: &TenantId) -> Arc<TenantQueue> {
        let mut queues = lock(&self.queues);
        if let Some(q) = queues.get(tenant) {
            return q.clone();
        }
        let (queue, rx) = TenantQueue::new();
        queues.insert(tenant.clone(), queue.clone());
        self.tokio.spawn(dispatch(
            Arc::downgrade(self),
            tenant.clone(),
            queue.clone(),
            rx,
        ));
        queue
    }

    fn max_chain_depth(&self) -> usize {
        self.settings.max_chain_depth.max(1)
    }

    /// Runs a flow; `chain` is the flows whose runs led to this one, this flow last.
    async fn execute(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        flow: Arc<ActiveFlow>,
        input: Map<String, Json>,
        chain: Vec<Id>,
        logged: Logged,
    ) -> RunOutcome {
        let id = self.ids.next_id();
        let engine = self.engine.clone();
        let running = flow.clone();
        // The run's blocking thread continues the span of whatever started it (a request,
        // a device event), so an exported trace shows the run under its cause.
        let span = tracing::Span::current();
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _span = span.entered();
            engine.run(RunRequest {
                tenant: &running.flow.tenant_id,
                flow: &running.validated,
                chain: &chain,
                input,
                message_id: id.to_string(),
            })
        })
        .await;
        let outcome = outcome.unwrap_or_else(|_| RunOutcome {
            status: crate::RunStatus::Error,
            message: "the run stopped unexpectedly".into(),
            output: None,
            start_time: self.clock.now_ms(),
            time_cost: 0,
            traces: Vec::new(),
        });
        record_run(&outcome);
        if logged == Logged::Yes {
            self.log(id, &flow, &outcome).await;
        }
        outcome
    }

    /// Hands a run's log to the writer.
    async fn log(&self, id: Id, flow: &ActiveFlow, outcome: &RunOutcome) {
        let log = RunLog {
            id,
            tenant_id: flow.flow.tenant_id.clone(),
            flow_id: flow.flow.id,
            version: flow.flow.version,
            status: outcome.status,
            start_time: outcome.start_time,
            time_cost: outcome.time_cost,
            message: outcome.message.clone(),
            traces: outcome.traces.clone(),
        };
        if self.logs.send(log).await.is_err() {
            tracing::warn!(flow_id = %flow.flow.id, "run log dropped: the log writer stopped");
        }
    }

    /// Does not start a run of `flow` that values written by the runs of `cause` would
    /// have started, because the chain is long enough (`reason` `None`) or for `reason`:
    /// logs the run as `ERROR`, saying why, and warns in the server's log (once a minute per
    /// flow at most).
    async fn stop(
        &self,
        flow: &ActiveFlow,
        input: Map<String, Json>,
        cause: &[Id],
        reason: Option<String>,
    ) {
        let chain = chain::extended(cause, flow.flow.id);
        let names: Vec<String> = {
            let active = read(&self.active);
            chain
                .iter()
                .map(|id| match active.flows.get(id) {
                    _ if *id == flow.flow.id => flow.flow.name.clone(),
                    Some(f) => f.flow.name.clone(),
                    // Disabled or deleted since its run.
                    None => format!("flow {id}"),
                })
                .collect()
        };
        let reason =
            reason.unwrap_or_else(|| chain::stopped_message(&names, self.max_chain_depth()));
        let id = self.ids.next_id();
        let outcome = self.engine.refused(
            RunRequest {
                tenant: &flow.flow.tenant_id,
                flow: &flow.validated,
                chain: &chain,
                input,
                message_id: id.to_string(),
            },
            reason,
        );
        let now = self.clock.now_ms();
        let due = {
            let mut warned = lock(&self.warned);
            let due = warned
                .get(&flow.flow.id)
                .is_none_or(|last| now - last >= WARN_EVERY_MS);
            if due {
                warned.insert(flow.flow.id, now);
            }
            due
        };
        if due {
            tracing::warn!(
                tenant = %flow.flow.tenant_id,
                flow_id = %flow.flow.id,
                "flow run {}",
                outcome.message
            );
        }
        self.log(id, flow, &outcome).await;
    }

    /// Loads a flow's design and makes it active, replacing its previous version.
    fn activate(self: &Arc<Self>, flow: crate::Flow, design_data: &str) {
        let id = flow.id;
        let validated = match parse_and_validate(design_data, &self.service.limits()) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(flow_id = %id, error = %e, "enabled flow not loaded: its design no longer validates");
                self.deactivate(id);
                return;
            }
        };
        let Some(active) = ActiveFlow::new(flow, validated) else {
            tracing::warn!(flow_id = %id, "enabled flow not loaded: its entry node cannot start it");
            self.deactivate(id);
            return;
        };
        let active = Arc::new(active);
        write(&self.active).insert(active.clone());
        let timer = match &active.start {
            Start::Timer(plan) => Some(self.tokio.spawn(run_timer(
                Arc::downgrade(self),
                active.clone(),
                plan.clone(),
            ))),
            _ => None,
        };
        let is_timer = timer.is_some();
        let old = match timer {
            Some(t) => lock(&self.timers).insert(id, t),
            None => lock(&self.timers).remove(&id),
        };
        if is_timer {
            // Claim it now rather than at the next renewal, in time for its first firing.
            self.lease_wake.notify_one();
        }
        if let Some(old) = old {
            old.abort();
            if !is_timer {
                self.release_lease(id);
            }
        }
    }

    fn deactivate(&self, id: Id) {
        write(&self.active).remove(id);
        lock(&self.warned).remove(&id);
        if let Some(timer) = lock(&self.timers).remove(&id) {
            timer.abort();
            self.release_lease(id);
        }
    }

    /// Stops firing a timer that is no longer one, and gives its lease up in the
    /// background (the caller may be on the async runtime).
    fn release_lease(&self, id: Id) {
        self.leases.forget(&[id]);
        let leases = self.leases.clone();
        self.tokio.spawn_blocking(move || {
            if let Err(e) = leases.release(&[id]) {
                tracing::warn!(flow_id = %id, error = %e, "timer lease not released: it runs out instead");
            }
        });
    }

    /// The timer flows that will fire again after `now`: those whose leases this node
    /// claims (a ONCE timer that has fired lets its lease run out).
    fn timers_due(&self, now: Millis) -> Vec<Id> {
        let timers: Vec<Id> = lock(&self.timers).keys().copied().collect();
        let active = read(&self.active);
        timers
            .into_iter()
            .filter(|id| {
                active.flows.get(id).is_some_and(|f| match &f.start {
                    Start::Timer(plan) => plan.next_after(now, f.flow.updated_at).is_some(),
                    _ => false,
                })
            })
            .collect()
    }

    /// Brings the runtime up to date with the stored state of these flows.
    fn reload(self: &Arc<Self>, tenant: &TenantId, ids: &[Id]) {
        for &id in ids {
            match self
                .service
                .design(&Caller::system(tenant.clone()), id, None)
            {
                Ok((flow, version)) if flow.enabled => self.activate(flow, &version.design_data),
                Ok(_) | Err(WorkflowError::NotFound { .. }) => self.deactivate(id),
                Err(e) => {
                    // Stop it rather than run a version we could not read.
                    tracing::warn!(flow_id = %id, error = %e, "flow stopped: could not reload it");
                    self.deactivate(id);
                }
            }
        }
    }
}

/// Hears the service's changes; weak, so that a dropped runtime lets go of the service.
struct Observer(std::sync::Weak<Inner>);

impl FlowChanges for Observer {
    fn changed(&self, tenant: &TenantId, ids: &[Id]) {
        if let Some(inner) = self.0.upgrade() {
            inner.reload(tenant, ids);
        }
    }
}

/// Fires a timer flow at each of its due times while this node holds its lease. Every
/// node computes the same due times: an interval counts from the stored `updated_at`,
/// not from when this process loaded the flow.
async fn run_timer(inner: std::sync::Weak<Inner>, flow: Arc<ActiveFlow>, plan: timer::TimerPlan) {
    let Some(clock) = inner.upgrade().map(|i| i.clock.clone()) else {
        return;
    };
    let counted_from = flow.flow.updated_at;
    let mut after = clock.now_ms();
    while let Some(next) = plan.next_after(after, counted_from) {
        let wait = u64::try_from(next - clock.now_ms()).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        after = next;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if !inner.leases.holds(flow.flow.id, clock.now_ms()) {
            // Another node fires it (or none may right now: the lease is being taken over).
            continue;
        }
        let mut input = Map::new();
        input.insert("timestamp".into(), Json::from(next));
        if let Ok(permit) = inner.slot(&flow.flow.tenant_id).await {
            let runner = inner.clone();
            let flow = flow.clone();
            let chain = vec![flow.flow.id];
            tokio::spawn(async move {
                runner
                    .execute(permit, flow, input, chain, Logged::Yes)
                    .await;
            });
        }
    }
}

/// Claims and renews the leases of this node's timer flows every `timer_renew`, and at
/// once when a timer flow is activated.
async fn keep_leases(inner: std::sync::Weak<Inner>) {
    let mut failing = false;
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let now = strong.clock.now_ms();
        let wanted = strong.timers_due(now);
        let leases = strong.leases.clone();
        let (wake, every) = (strong.lease_wake.clone(), strong.settings.timer_renew);
        drop(strong);
        match tokio::task::spawn_blocking(move || leases.renew(&wanted, now)).await {
            Ok(Ok(())) => failing = false,
            // Once per outage: the timers stop on their own when their leases run out.
            Ok(Err(e)) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "timer leases could not be renewed");
            }
            _ => {}
        }
        let _ = tokio::time::timeout(every.max(Duration::from_millis(1)), wake.notified()).await;
    }
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
}

/// Writes logs in batches, as they come.
async fn write_logs(service: Arc<WorkflowService>, mut queue: mpsc::Receiver<RunLog>) {
    const BATCH: usize = 500;
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let logs = std::mem::take(&mut batch);
        let service = service.clone();
        let written = tokio::task::spawn_blocking(move || service.record_logs(&logs)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "run logs could not be written"),
            Err(_) => tracing::error!("run log writer failed"),
        }
    }
}

/// Deletes logs past their retention, hourly.
async fn purge_logs(inner: std::sync::Weak<Inner>) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let days = i64::from(inner.settings.log_retention_days);
        let before = inner.clock.now_ms() - days * 86_400_000;
        let service = inner.service.clone();
        drop(inner);
        match tokio::task::spawn_blocking(move || service.purge_logs(before)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "old run logs deleted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "old run logs could not be deleted"),
            _ => {}
        }
    }
}

/// Starts the runs of one tenant's queue in order, each when a slot frees, until the
/// runtime is gone. A run whose flow was disabled or deleted since its event is not
/// started (no new run starts once that request answered); one whose flow was saved
/// since runs the version saved.
async fn dispatch(
    inner: std::sync::Weak<Inner>,
    tenant: TenantId,
    queue: Arc<TenantQueue>,
    mut rx: mpsc::UnboundedReceiver<Queued>,
) {
    while let Some(run) = rx.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        let permit = inner.semaphore(&tenant).acquire_owned().await;
        queue.took_one();
        let Ok(permit) = permit else { return };
        let Some(flow) = read(&inner.active).flows.get(&run.flow.flow.id).cloned() else {
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            inner
                .execute(permit, flow, run.input, run.chain, Logged::Yes)
                .await;
        });
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ActiveFlow {
    /// A flow that exists only for a design test.
    fn testing(tenant: TenantId, validated: ValidatedFlow) -> Self {
        Self {
            flow: crate::Flow {
                id: Id(0),
                tenant_id: tenant,
                name: String::new(),
                remark: String::new(),
                enabled: false,
                version: 0,
                user_id: None,
                created_at: 0,
                updated_at: 0,
                http_secret: None,
            },
            validated,
            start: Start::Trigger,
        }
    }
}

/// Counts a finished run and its time in the process's metrics (the `metrics` facade: a
/// no-op unless the app installed a recorder; see docs/operations.md, "Metrics").
fn record_run(outcome: &RunOutcome) {
    let status = outcome.status.as_str();
    metrics::counter!("weir_flow_runs_total", "status" => status).increment(1);
    metrics::histogram!("weir_flow_run_duration_seconds", "status" => status)
        .record(outcome.time_cost.max(0) as f64 / 1000.0);
}
