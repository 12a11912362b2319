//! Weir's HTTP adapter: actix-web, one module per API dialect.
//!
//! [`app`] builds the whole actix `App`: request ids, CORS, the bare-path alias of the
//! native API, each dialect's routes, health checks, the OpenAPI document and UI, and the
//! optional single-page web console. Handlers translate HTTP to use-case calls and never
//! touch storage: the use-cases arrive ready-wired in [`ApiState`].

// TODO(issue 13): removed when the http core lands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod health;
mod http_in;
pub mod native;
mod openapi;
mod request_id;
pub mod smartbi;
mod state;
mod text_guard;
pub mod thingskit;
mod times;
pub mod wyn;

pub use app::app;
pub use state::{ApiState, HttpSettings, MqttBrokerInfo, Readiness};
