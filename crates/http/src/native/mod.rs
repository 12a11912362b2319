//! The native dialect: the Beaver IoT REST API (`000_2acc7e12655dea9d.txt`).
//!
//! Routes live under `/api/v1`, as the product's web console calls them; the document's
//! bare paths (`/user`, `/oauth2/token`) are rewritten to the same routes by
//! [`bare_paths`], so there is one route table and one OpenAPI entry per endpoint.

pub mod account;
pub mod dto;
pub mod envelope;
pub mod extract;
pub mod iot;
pub mod members;
pub mod menus;
pub mod oauth;
pub mod roles;
pub mod sso;
pub mod workflow;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use utoipa_actix_web::service_config::ServiceConfig;

/// Where the native routes are mounted.
pub const PREFIX: &str = "/api/v1";

/// First path segments of the native API, also served without [`PREFIX`].
const BARE_ROOTS: &[&str] = &[
    "user",
    "oauth2",
    "integration",
    "device",
    "entity",
    "dashboard",
    "websocket",
    "mqtt",
    "workflow",
];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(oauth::token)
        .service(sso::authorize)
        .service(sso::callback)
        .service(sso::provider)
        .service(sso::save_provider)
        .service(sso::delete_provider)
        .service(account::register)
        .service(account::status)
        .service(account::me)
        .service(account::change_password)
        .service(members::search)
        .service(members::create)
        .service(members::update)
        .service(members::reset_password)
        .service(members::delete_one)
        .service(members::batch_delete)
        .service(members::menus)
        .service(members::permission)
        .service(roles::search)
        .service(roles::create)
        .service(roles::update)
        .service(roles::delete_one)
        .service(roles::members)
        .service(roles::members_page)
        .service(roles::undistributed_users)
        .service(roles::menus)
        .service(roles::resources)
        .service(roles::associate_users)
        .service(roles::disassociate_users)
        .service(roles::associate_menus)
        .service(roles::disassociate_menus)
        .service(roles::associate_resources)
        .service(roles::disassociate_resources)
        .service(iot::role_resources::role_integrations)
        .service(iot::role_resources::undistributed_integrations)
        .service(iot::role_resources::role_devices)
        .service(iot::role_resources::undistributed_devices)
        .service(iot::role_resources::role_dashboards)
        .service(iot::role_resources::undistributed_dashboards)
        .service(menus::tree)
        .service(menus::create)
        .service(menus::update)
        .service(menus::delete_one)
        .service(iot::integrations::search)
        .service(iot::integrations::details)
        .service(iot::mqtt::broker_info)
        .service(iot::devices::search)
        .service(iot::ingest::report)
        .service(iot::ingest::issue_token)
        .service(iot::devices::create)
        .service(iot::devices::batch_delete)
        .service(iot::devices::rename)
        .service(iot::devices::details)
        .service(iot::dashboards::list)
        .service(iot::dashboards::create)
        .service(iot::dashboards::update)
        .service(iot::dashboards::delete_one)
        .service(iot::dashboards::add_widget)
        .service(iot::dashboards::update_widget)
        .service(iot::dashboards::delete_widget)
        .service(iot::export::export)
        .service(iot::entities::search)
        .service(iot::custom_entities::create)
        .service(iot::custom_entities::update)
        .service(iot::custom_entities::delete)
        .service(iot::entities::batch_status)
        .service(iot::entities::history)
        .service(iot::entities::aggregate)
        .service(iot::entities::update_properties)
        .service(iot::entities::call_services)
        .service(iot::entities::children)
        .service(iot::entities::meta)
        .service(iot::entities::status)
        .service(iot::forms::forms)
        .service(iot::websocket::websocket)
        .service(workflow::flows::search)
        .service(workflow::flows::batch_delete)
        .service(workflow::designs::save)
        .service(workflow::designs::validate)
        .service(workflow::transfer::import)
        .service(workflow::flows::rename)
        .service(workflow::flows::enable)
        .service(workflow::flows::disable)
        .service(workflow::designs::design)
        .service(workflow::transfer::export)
        .service(workflow::components::list)
        .service(workflow::components::languages)
        .service(workflow::components::one)
        .service(workflow::runs::test_design)
        .service(workflow::runs::test_node)
        .service(workflow::runs::trigger)
        .service(workflow::runs::http_credential)
        .service(workflow::logs::search)
        .service(workflow::logs::detail);
}

fn is_bare_native(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    BARE_ROOTS.contains(&first)
}

/// Serves the document's bare paths by rewriting them under [`PREFIX`] before routing.
pub async fn bare_paths(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if is_bare_native(req.path()) {
        let target = match req.uri().query() {
            Some(q) => format!("{PREFIX}{}?{q}", req.path()),
            None => format!("{PREFIX}{}", req.path()),
        };
        if let Ok(uri) = target.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}
