//! The OpenAPI document's frame. Paths and their schemas are collected from the routes
//! themselves as they are registered (utoipa-actix-web), so the document cannot miss one.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weir",
        description = "Identity, IoT and BI over the REST APIs of four products. Native (Beaver IoT) \
                       routes are listed under /api/v1; each is also served at the same path without \
                       /api/v1, as the Beaver IoT document writes them.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "OAuth2 token endpoint"),
        (name = "user", description = "The caller's account"),
        (name = "members", description = "User management (super admin)"),
        (name = "roles", description = "Roles and their grants (super admin)"),
        (name = "menus", description = "Menus and function codes (super admin)"),
        (name = "integrations", description = "Integrations: the plug-ins that own devices"),
        (name = "devices", description = "Devices, added through their integration"),
        (name = "entities", description = "Entities and their values"),
        (name = "dashboards", description = "Dashboards and their widgets"),
        (name = "workflows", description = "Workflows: flows, their designs, export and import"),
        (name = "workflow components", description = "The node kinds a workflow is built from"),
        (name = "smartbi", description = "The Smartbi dialect: /smartbi/vision/api/{module}/{action} (also /vision/api/...)"),
        (name = "wyn", description = "The Wyn Enterprise dialect: Identity-Role API v2 under /api/v2/identity/roles (super admin)"),
        (name = "thingskit", description = "The ThingsKit dialect: tenant roles under /api/yt/role (super admin; X-Authorization or Authorization: Bearer)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // An httpIn flow's credential (`{flow id}.{secret}`), not a user's token.
        components.add_security_scheme(
            "flow_credential",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
