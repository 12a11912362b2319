//! The menus and function codes every tenant starts with. Function codes gate the API;
//! they follow the reference product's menu tree.

use crate::models::MenuType;

/// (code, name, type, parent code)
pub const SEED_MENUS: &[(&str, &str, MenuType, Option<&str>)] = {
    use MenuType::{Function as F, Menu as M};
    &[
        ("dashboard", "Dashboard", M, None),
        ("dashboard.view", "View dashboards", F, Some("dashboard")),
        ("dashboard.add", "Add dashboards", F, Some("dashboard")),
        ("dashboard.edit", "Edit dashboards", F, Some("dashboard")),
        (
            "dashboard.delete",
            "Delete dashboards",
            F,
            Some("dashboard"),
        ),
        ("device", "Device", M, None),
        ("device.view", "View devices", F, Some("device")),
        ("device.add", "Add devices", F, Some("device")),
        ("device.edit", "Edit devices", F, Some("device")),
        ("device.delete", "Delete devices", F, Some("device")),
        ("entity", "Entity", M, None),
        ("entity_custom", "Custom entities", M, Some("entity")),
        (
            "entity_custom.view",
            "View custom entities",
            F,
            Some("entity_custom"),
        ),
        (
            "entity_custom.add",
            "Add custom entities",
            F,
            Some("entity_custom"),
        ),
        (
            "entity_custom.edit",
            "Edit custom entities",
            F,
            Some("entity_custom"),
        ),
        (
            "entity_custom.delete",
            "Delete custom entities",
            F,
            Some("entity_custom"),
        ),
        ("entity_data", "Entity data", M, Some("entity")),
        (
            "entity_data.view",
            "View entity data",
            F,
            Some("entity_data"),
        ),
        (
            "entity_data.edit",
            "Edit entity data",
            F,
            Some("entity_data"),
        ),
        (
            "entity_data.export",
            "Export entity data",
            F,
            Some("entity_data"),
        ),
        ("workflow", "Workflow", M, None),
        ("workflow.view", "View workflows", F, Some("workflow")),
        ("workflow.add", "Add workflows", F, Some("workflow")),
        ("workflow.edit", "Edit workflows", F, Some("workflow")),
        ("workflow.delete", "Delete workflows", F, Some("workflow")),
        ("workflow.import", "Import workflows", F, Some("workflow")),
        ("workflow.export", "Export workflows", F, Some("workflow")),
        ("integration", "Integration", M, None),
        (
            "integration.view",
            "View integrations",
            F,
            Some("integration"),
        ),
        (
            "integration.edit",
            "Edit integrations",
            F,
            Some("integration"),
        ),
        ("setting", "Settings", M, None),
        ("user_role", "Users and roles", M, Some("setting")),
    ]
};
