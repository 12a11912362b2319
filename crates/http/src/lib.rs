//! Weir's HTTP adapter: actix-web, one module per API dialect.
//!
//! [`app_with`] builds the whole actix `App`: request ids, CORS, the bare-path alias of the
//! native API, each dialect's routes, health checks, the OpenAPI document and UI, and the
//! optional single-page web console. Handlers translate HTTP to use-case calls and never
//! touch storage: the use-cases arrive ready-wired in [`ApiState`]. What the dialects share
//! (state, bodies, the blocking pool, bearer tokens, refusals) is [`crate::core`]; no dialect
//! imports another.

mod app;
mod console;
pub mod core;
mod health;
mod measure;
pub mod native;
mod openapi;
mod request_id;
pub mod smartbi;
pub mod thingskit;
mod times;
mod trace_context;
pub mod wyn;

pub use crate::core::state::{
    ApiState, HttpSettings, MetricsEndpoint, MqttBrokerInfo, Readiness, RenderMetrics,
};
pub use app::app_with;
