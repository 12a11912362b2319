//! The Wyn Enterprise dialect (`001_8099839953e3bf00.txt`): the Identity-Role API v2 under
//! `/api/v2/identity/roles`.
//!
//! - [`roles`]: the thirteen operations;
//! - [`models`]: the document's camelCase models (`RoleBizModel`, `UserBizModel`,
//!   `PermissionModel`, the update and import models);
//! - [`extract`]: the caller behind the bearer token (the HTTP core's token check),
//!   JSON bodies, query parameters named in any case, ids in paths;
//! - [`envelope`]: the failure answer `ApiErrorResult` and its codes.
//!
//! Successes answer the bare model with 200 (201 for a new role, 204 for deletions). See
//! docs/wyn.md.

pub mod envelope;
pub mod extract;
pub mod models;
pub mod roles;

use actix_web::web;
use utoipa_actix_web::service_config::ServiceConfig;

pub use roles::PREFIX;

/// The dialect's routes, to mount under [`PREFIX`]. Fixed paths come before `{id}`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(roles::list_roles)
        .service(roles::create_role)
        .service(roles::list_non_org_roles)
        .service(roles::my_non_org_roles)
        .service(roles::import_roles)
        .service(roles::get_role)
        .service(roles::delete_role)
        .service(roles::role_users)
        .service(roles::add_role_users)
        .service(roles::set_role_users)
        .service(roles::remove_role_user)
        .service(roles::role_permissions)
        .service(roles::update_role_permissions);
}

/// Answers what no Wyn route takes under [`PREFIX`] with a Wyn 404.
pub fn default_service() -> actix_web::Route {
    web::to(envelope::no_route)
}
