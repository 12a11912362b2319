//! Every endpoint over real HTTP against the in-process server. The same suite runs on
//! SQLite (default) and on PostgreSQL (`WEIR_TEST_DATABASE_URL`).

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod auth;
mod console;
mod dashboard_widgets;
mod http_surface;
mod identity_dialects;
mod iot_custom_entities;
mod iot_dashboards;
mod iot_demo;
mod iot_devices;
mod iot_entities;
mod iot_entity_forms;
mod iot_ingest;
mod iot_mqtt;
mod iot_role_resources;
mod iot_rollups;
mod iot_smoke;
mod iot_websocket;
mod members;
mod menus;
mod metrics;
mod openapi_examples;
mod outbound;
mod principal_cache;
mod roles;
mod smartbi_catalog;
mod smartbi_dialect;
mod smartbi_grants;
mod smartbi_identity;
mod smartbi_models;
mod smoke;
mod sso;
mod support;
mod tenants;
mod text_input;
mod thingskit_roles;
mod workflow_designs;
mod workflow_flows;
mod workflow_forms;
mod workflow_runs;
mod wyn_roles;
