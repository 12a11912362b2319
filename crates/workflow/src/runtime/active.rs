//! The enabled flows the runtime holds, indexed by what starts them.

use std::collections::HashMap;
use std::sync::Arc;

use weir_kernel::{Id, TenantId};

use super::http_path::PathPattern;
use super::timer::TimerPlan;
use crate::components::names;
use crate::ports::Flow;
use crate::validate::ValidatedFlow;

/// What starts a flow: its entry node.
#[derive(Debug, Clone)]
pub enum Start {
    /// `trigger`: started through the API.
    Trigger,
    /// `eventListener`: new values of these entity keys.
    Listener(Vec<String>),
    /// `simpleTimer`.
    Timer(TimerPlan),
    /// `httpIn`: a request with this method to a path matching the pattern.
    HttpIn {
        /// The HTTP method the node answers (`GET`, `POST`...).
        method: String,
        /// The node's `url`, under `/workflow-http-in/`.
        path: PathPattern,
    },
}

/// An enabled flow at its newest version, ready to run.
#[derive(Debug)]
pub struct ActiveFlow {
    /// The stored flow.
    pub flow: Flow,
    /// Its newest design, validated.
    pub validated: ValidatedFlow,
    /// What starts it, read from its entry node.
    pub start: Start,
}

impl ActiveFlow {
    /// Whether `secret` is the flow's `httpIn` credential secret.
    pub fn opens_with(&self, secret: &str) -> bool {
        self.flow
            .http_secret
            .as_deref()
            .is_some_and(|stored| crate::credential::matches(secret, stored))
    }

    /// Reads what starts the flow from its entry node. `None` when the entry node's
    /// parameters cannot say (validation makes that impossible for stored designs).
    pub fn new(flow: Flow, validated: ValidatedFlow) -> Option<Self> {
        let entry = validated.entry();
        let params = entry.data.parameters.clone().flatten().unwrap_or_default();
        let start = match entry.component_name.as_str() {
            names::TRIGGER => Start::Trigger,
            names::EVENT_LISTENER => Start::Listener(
                params
                    .get("entities")?
                    .as_array()?
                    .iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect(),
            ),
            names::SIMPLE_TIMER => Start::Timer(TimerPlan::parse(params.get("timerSettings")?)?),
            names::HTTP_IN => Start::HttpIn {
                method: params.get("method")?.as_str()?.to_owned(),
                path: PathPattern::parse(params.get("url")?.as_str()?),
            },
            _ => return None,
        };
        Some(Self {
            flow,
            validated,
            start,
        })
    }
}

/// Every active flow, with the indexes events and requests are matched through.
#[derive(Debug, Default)]
pub struct Active {
    /// Every active flow, by flow id.
    pub flows: HashMap<Id, Arc<ActiveFlow>>,
    /// Flows listening to an entity key, by tenant and key.
    listeners: HashMap<(TenantId, String), Vec<Id>>,
}

impl Active {
    /// Adds a flow, replacing the one with its id if there is one.
    pub fn insert(&mut self, active: Arc<ActiveFlow>) {
        self.remove(active.flow.id);
        if let Start::Listener(keys) = &active.start {
            for key in keys {
                self.listeners
                    .entry((active.flow.tenant_id.clone(), key.clone()))
                    .or_default()
                    .push(active.flow.id);
            }
        }
        self.flows.insert(active.flow.id, active);
    }

    /// Takes a flow out, answering it if it was there.
    pub fn remove(&mut self, id: Id) -> Option<Arc<ActiveFlow>> {
        let old = self.flows.remove(&id)?;
        if let Start::Listener(keys) = &old.start {
            for key in keys {
                let slot = (old.flow.tenant_id.clone(), key.clone());
                if let Some(ids) = self.listeners.get_mut(&slot) {
                    ids.retain(|i| *i != id);
                    if ids.is_empty() {
                        self.listeners.remove(&slot);
                    }
                }
            }
        }
        Some(old)
    }

    /// The flows listening to `key` in the tenant.
    pub fn listening(&self, tenant: &TenantId, key: &str) -> &[Id] {
        self.listeners
            .get(&(tenant.clone(), key.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether any flow listens to entity values.
    pub fn has_listeners(&self) -> bool {
        !self.listeners.is_empty()
    }
}
