//! Custom entities: entities users create themselves, owned by the reserved integration
//! `system` (keys `system.integration.{identifier}`).

use weir_kernel::Id;
use weir_kernel::store::write;

use super::IotService;
use crate::errors::IotError;
use crate::key::EntityKey;
use crate::model::{EntityDefinition, ValueAttribute};
use crate::ports::{Entity, EntityRepo};
use crate::viewer::Viewer;

/// The integration that owns custom entities.
pub const SYSTEM_INTEGRATION: &str = "system";

/// Most custom entities one delete may name.
pub const MAX_ENTITY_BATCH: usize = 1000;

fn checked(def: &EntityDefinition) -> Result<(), IotError> {
    def.check()
        .map_err(|e| IotError::invalid(e.field, e.message))
}

impl IotService {
    /// A custom entity the caller may see.
    fn custom_entity(
        &self,
        tx: &mut dyn EntityRepo,
        v: &Viewer,
        id: Id,
    ) -> Result<Entity, IotError> {
        let e = self.visible_entity(tx, v, id)?;
        if e.integration == SYSTEM_INTEGRATION && e.device_id.is_none() {
            Ok(e)
        } else {
            Err(IotError::not_found("custom entity", id))
        }
    }

    /// Creates a custom entity (and its children, for an OBJECT).
    pub fn create_custom_entity(
        &self,
        v: &Viewer,
        def: EntityDefinition,
    ) -> Result<Entity, IotError> {
        v.require("entity_custom.add")?;
        checked(&def)?;
        let key = EntityKey::integration(SYSTEM_INTEGRATION, &def.identifier);
        let rows = self.entity_rows(
            &v.tenant_id,
            SYSTEM_INTEGRATION,
            None,
            &key,
            &def,
            self.clock.now_ms(),
        );
        let taken = || IotError::EntityExists(key.to_string());
        write(self.store(), |tx| {
            if !tx
                .entities_by_keys(&v.tenant_id, &[key.to_string()])?
                .is_empty()
            {
                return Err(taken());
            }
            Ok(tx.insert_entities(&rows)?)
        })
        .map_err(|e| match e {
            IotError::Store(weir_kernel::StoreError::Conflict(_)) => taken(),
            other => other,
        })?;
        // `entity_rows` puts the entity itself first, before any child.
        #[allow(clippy::expect_used)]
        Ok(rows.into_iter().next().expect("the entity itself"))
    }

    /// Renames a custom entity or changes its `value_attribute`; its type stays.
    pub fn update_custom_entity(
        &self,
        v: &Viewer,
        id: Id,
        name: &str,
        attribute: Option<ValueAttribute>,
    ) -> Result<(), IotError> {
        v.require("entity_custom.edit")?;
        write(self.store(), |tx| {
            let mut entity = self.custom_entity(tx, v, id)?;
            let mut def = entity.definition.clone();
            def.name = name.trim().to_owned();
            // A rename alone (the console sends only the name) keeps the attributes.
            if let Some(attribute) = &attribute {
                def.value_attribute = attribute.clone();
            }
            // Stored rows hold no children: check the entity's own fields.
            def.check_own()
                .map_err(|e| IotError::invalid(e.field, e.message))?;
            entity.definition = def;
            entity.updated_at = self.clock.now_ms();
            Ok(tx.update_entity(&entity)?)
        })
    }

    /// Deletes custom entities (all or none) with their children and values.
    pub fn delete_custom_entities(&self, v: &Viewer, ids: &[Id]) -> Result<(), IotError> {
        v.require("entity_custom.delete")?;
        if ids.is_empty() || ids.len() > MAX_ENTITY_BATCH {
            return Err(IotError::invalid(
                "entity_ids",
                format!("must name 1 to {MAX_ENTITY_BATCH} entities"),
            ));
        }
        write(self.store(), |tx| {
            for id in ids {
                self.custom_entity(tx, v, *id)?;
            }
            Ok(tx.delete_entities(&v.tenant_id, ids).map(drop)?)
        })
    }
}
