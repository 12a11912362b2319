//! The catalogue of named permissions roles may hold (Wyn's `permissions`), beside the
//! native menu codes. Each name also grants the native function codes listed with it, so
//! a permission given through one API governs the others. docs/identity.md lists them.

/// One named permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// The permission's name as roles hold it.
    pub name: &'static str,
    /// What it allows, in a sentence.
    pub description: &'static str,
    /// The area of the product it concerns (`Dashboard`, `BI`, `IoT`, ...).
    pub module: &'static str,
    /// `view`, `create` or `manage`.
    pub category: &'static str,
    /// Native function codes the permission grants.
    pub codes: &'static [&'static str],
}

macro_rules! permission {
    ($name:literal, $module:literal, $category:literal, $description:literal, [$($code:literal),*]) => {
        Permission {
            name: $name,
            description: $description,
            module: $module,
            category: $category,
            codes: &[$($code),*],
        }
    };
}

/// Every named permission, in display order.
pub const PERMISSIONS: &[Permission] = &[
    permission!(
        "view-dashboard",
        "Dashboard",
        "view",
        "Open dashboards and read their widgets",
        ["dashboard", "dashboard.view"]
    ),
    permission!(
        "create-dashboard",
        "Dashboard",
        "create",
        "Create, edit and delete dashboards",
        [
            "dashboard",
            "dashboard.view",
            "dashboard.add",
            "dashboard.edit",
            "dashboard.delete"
        ]
    ),
    permission!(
        "view-report",
        "BI",
        "view",
        "Open BI reports and run the data models they read",
        []
    ),
    permission!(
        "create-document",
        "BI",
        "create",
        "Create BI documents: data models, reports and folders",
        []
    ),
    permission!(
        "manage-datasource",
        "BI",
        "manage",
        "Register, change and test BI datasources",
        []
    ),
    permission!(
        "view-device",
        "IoT",
        "view",
        "List devices and read their entities",
        ["device", "device.view"]
    ),
    permission!(
        "manage-device",
        "IoT",
        "manage",
        "Add, edit and delete devices",
        [
            "device",
            "device.view",
            "device.add",
            "device.edit",
            "device.delete"
        ]
    ),
    permission!(
        "view-entity-data",
        "IoT",
        "view",
        "Read entity values and history",
        [
            "entity",
            "entity_data",
            "entity_data.view",
            "entity_custom",
            "entity_custom.view"
        ]
    ),
    permission!(
        "manage-entity",
        "IoT",
        "manage",
        "Change entity values, export data, manage custom entities",
        [
            "entity",
            "entity_data",
            "entity_data.view",
            "entity_data.edit",
            "entity_data.export",
            "entity_custom",
            "entity_custom.view",
            "entity_custom.add",
            "entity_custom.edit",
            "entity_custom.delete"
        ]
    ),
    permission!(
        "view-workflow",
        "Workflow",
        "view",
        "List workflows, their designs and run logs",
        ["workflow", "workflow.view"]
    ),
    permission!(
        "manage-workflow",
        "Workflow",
        "manage",
        "Create, edit, enable, import and export workflows",
        [
            "workflow",
            "workflow.view",
            "workflow.add",
            "workflow.edit",
            "workflow.delete",
            "workflow.import",
            "workflow.export"
        ]
    ),
    permission!(
        "view-integration",
        "Integration",
        "view",
        "List integrations and their settings",
        ["integration", "integration.view"]
    ),
    permission!(
        "manage-integration",
        "Integration",
        "manage",
        "Change integration settings",
        ["integration", "integration.view", "integration.edit"]
    ),
];

/// The named permission called `name`, if the catalogue has it.
pub fn permission(name: &str) -> Option<&'static Permission> {
    PERMISSIONS.iter().find(|p| p.name == name)
}

/// The native function codes the named permissions grant.
pub fn codes_of<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> impl Iterator<Item = &'static str> {
    names
        .into_iter()
        .filter_map(permission)
        .flat_map(|p| p.codes.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::SEED_MENUS;

    #[test]
    fn every_code_a_permission_grants_is_a_seeded_menu() {
        for p in PERMISSIONS {
            for code in p.codes {
                assert!(
                    SEED_MENUS.iter().any(|(c, ..)| c == code),
                    "{} grants unknown code {code}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, p) in PERMISSIONS.iter().enumerate() {
            assert!(PERMISSIONS[i + 1..].iter().all(|q| q.name != p.name));
        }
    }
}
