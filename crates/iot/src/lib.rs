#![warn(missing_docs)]
//! Weir's IoT domain: integrations (plug-ins that own devices), devices, entities and the
//! values they hold.
//!
//! This crate has no web framework, no database and no broker in it. What is here so far:
//! - [`key`]: entity keys (`{integration}.device.{device}.{entity}[.{child}]`);
//! - [`model`]: entity types, access modes, value types and `value_attribute`;
//! - [`value`]: checking a written JSON value against its entity, with precise refusals;
//! - [`samples`]: the report format devices send (MQTT payloads, HTTP ingest bodies);
//! - [`builtin`]: what the built-in device integrations share, and `http-device`;
//! - [`integration`]: the plug-in trait and the registry the app fills;
//! - [`ports`]: what the IoT use-cases need from storage (a port per aggregate, composed in
//!   [`ports::IotTx`]);
//! - [`rollup`]: per-minute and per-hour rollups of numeric history, and retention;
//! - [`events`]: the event bus committed values are published on;
//! - [`service`]: the use-cases, on behalf of a [`viewer::Viewer`] whose grants limit what
//!   it sees; refusals are [`errors::IotError`].

pub mod builtin;
pub mod errors;
pub mod events;
pub mod integration;
pub mod key;
pub mod model;
pub mod ports;
pub mod rollup;
pub mod samples;
pub mod service;
pub mod value;
pub mod viewer;

pub use integration::{Integration, IntegrationRegistry};
pub use key::{EntityKey, KeyOwner};
pub use model::{AccessMod, EntityDefinition, EntityType, ValueAttribute, ValueType};
pub use service::{IotPorts, IotService, IotSettings};
pub use value::{EntityValue, ValueError};
pub use viewer::{Limits, Viewer};
