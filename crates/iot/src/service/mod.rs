//! The IoT use-cases. One [`IotService`] holds the ports; its methods are split by area.
//! Every method is blocking (it waits on the database): async callers run it on a
//! blocking thread.

mod credentials;
mod custom;
mod dashboards;
mod devices;
mod entities;
mod group_commit;
mod integrations;
mod reports;
mod role_reach;
mod values;

use std::sync::Arc;

use weir_kernel::{Clock, Id, IdGenerator, Millis, TenantId};

use crate::events::EventBus;
use crate::integration::IntegrationRegistry;
use crate::key::EntityKey;
use crate::model::EntityDefinition;
use crate::ports::{Entity, IotStore};

pub use credentials::DEVICE_TOKEN_PREFIX;
pub use custom::SYSTEM_INTEGRATION;
pub use dashboards::WidgetInput;
pub use entities::{EntityForm, EntityView, MAX_FORM_ENTITIES};
pub use group_commit::GroupLimits;
pub use integrations::IntegrationSummary;
pub use values::{PurgeOutcome, WriteKind, WriteOutcome};

#[derive(Debug, Clone)]
/// How the IoT use-cases behave: paging and batch limits.
pub struct IotSettings {
    /// Largest page a search answers; larger requests are capped.
    pub max_page_size: u32,
    /// Most values one write may carry (and most ids one status read may name).
    pub max_batch: usize,
    /// How many value writes waiting at once may share one transaction (see
    /// `group_commit`).
    pub group_commit: GroupLimits,
}

impl Default for IotSettings {
    fn default() -> Self {
        Self {
            max_page_size: 1000,
            max_batch: 5000,
            group_commit: GroupLimits {
                writes: 64,
                values: 10_000,
            },
        }
    }
}

/// The ports the IoT use-cases run on.
pub struct IotPorts {
    /// Where IoT data lives.
    pub store: Arc<IotStore>,
    /// The integrations the server runs.
    pub integrations: Arc<IntegrationRegistry>,
    /// Hands out the ids of new devices, entities and dashboards.
    pub ids: Arc<IdGenerator>,
    /// The time rows and values without their own time are stamped with.
    pub clock: Arc<dyn Clock>,
    /// Where committed values are published.
    pub events: Arc<dyn EventBus>,
}

/// Every IoT use-case: integrations, devices, entities, values and dashboards. Each
/// method taking a [`Viewer`](crate::viewer::Viewer) acts within its tenant and checks
/// what it may see and do first.
pub struct IotService {
    store: Arc<IotStore>,
    integrations: Arc<IntegrationRegistry>,
    ids: Arc<IdGenerator>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventBus>,
    settings: IotSettings,
    /// Value writes waiting for their transaction.
    writes: group_commit::GroupCommit<values::PendingWrite, crate::errors::IotError>,
    /// The last time of receipt given to each device's reports without a timestamp.
    receipts: std::sync::Mutex<std::collections::HashMap<Id, Millis>>,
}

impl std::fmt::Debug for IotService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IotService")
            .field("integrations", &self.integrations)
            .finish_non_exhaustive()
    }
}

/// A display name (of a device or a dashboard): trimmed, 1 to 64 characters, no control
/// characters.
fn display_name(raw: &str) -> Result<String, crate::errors::IotError> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > crate::model::NAME_MAX
        || name.chars().any(char::is_control)
    {
        return Err(crate::errors::IotError::invalid(
            "name",
            format!("must be 1 to {} characters", crate::model::NAME_MAX),
        ));
    }
    Ok(name.to_owned())
}

impl IotService {
    /// A service on `ports`.
    pub fn new(ports: IotPorts, settings: IotSettings) -> Self {
        Self {
            store: ports.store,
            integrations: ports.integrations,
            ids: ports.ids,
            clock: ports.clock,
            events: ports.events,
            writes: group_commit::GroupCommit::new(settings.group_commit),
            settings,
            receipts: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The time of receipt of a device's report without a timestamp: now, or one
    /// millisecond after the device's previous receipt when that is not earlier. Two
    /// reports of one device in the same millisecond (a burst a broker delivers at once)
    /// would otherwise share a timestamp, and the history keeps one value per entity and
    /// time: the second report's values would be lost.
    pub(super) fn receipt_time(&self, device: Id) -> Millis {
        let now = self.clock.now_ms();
        let mut receipts = self.receipts.lock().unwrap_or_else(|e| e.into_inner());
        let last = receipts.entry(device).or_insert(now - 1);
        *last = (*last + 1).max(now);
        *last
    }

    fn store(&self) -> &IotStore {
        &*self.store
    }

    /// Value writes waiting for a transaction at this moment (see `group_commit`).
    pub fn writes_waiting(&self) -> usize {
        self.writes.waiting()
    }

    /// The integrations the service runs.
    pub fn registry(&self) -> &IntegrationRegistry {
        &self.integrations
    }

    /// The bus committed values are published on (the WebSocket and flows subscribe here).
    pub fn events(&self) -> &Arc<dyn EventBus> {
        &self.events
    }

    /// Rows for a definition and its children, under `key`.
    fn entity_rows(
        &self,
        tenant: &TenantId,
        integration: &str,
        device: Option<Id>,
        key: &EntityKey,
        def: &EntityDefinition,
        now: Millis,
    ) -> Vec<Entity> {
        let mut own = def.clone();
        own.children = Vec::new();
        let parent = Entity {
            id: self.ids.next_id(),
            tenant_id: tenant.clone(),
            key: key.to_string(),
            integration: integration.into(),
            device_id: device,
            parent_key: None,
            definition: own,
            created_at: now,
            updated_at: now,
        };
        let children = def.children.iter().map(|c| Entity {
            id: self.ids.next_id(),
            key: key.child(&c.identifier).to_string(),
            parent_key: Some(parent.key.clone()),
            definition: c.clone(),
            ..parent.clone()
        });
        let mut rows: Vec<Entity> = children.collect();
        rows.insert(0, parent);
        rows
    }
}
