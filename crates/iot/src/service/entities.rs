//! Reading entities: search, one entity, its children, the forms of their values.

use weir_kernel::store::read;
use weir_kernel::{Id, Page, SearchQuery};

use super::IotService;
use crate::errors::IotError;
use crate::model::EntityType;
use crate::ports::{Entity, EntityFilter, EntityRepo};
use crate::viewer::Viewer;

/// An entity with the names lists show beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityView {
    /// The entity.
    pub entity: Entity,
    /// Its device's name; `None` for integration and custom entities.
    pub device_name: Option<String>,
    /// Its integration's display name.
    pub integration_name: String,
}

/// The form of a property's or a service's values (`POST /entity/form`): the fields a
/// caller fills to write the property or call the service, each an entity whose key is the
/// field's name in `exchange`. An OBJECT entity's fields are its children; any other
/// entity is its own one field.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityForm {
    /// The property or service.
    pub entity: Entity,
    /// The fields to fill: its children for an OBJECT, else the entity itself.
    pub fields: Vec<Entity>,
}

/// Most entities one form request names.
pub const MAX_FORM_ENTITIES: usize = 100;

impl IotService {
    /// Adds device and integration names to entities (one query for the devices).
    pub fn entity_views(
        &self,
        v: &Viewer,
        entities: Vec<Entity>,
    ) -> Result<Vec<EntityView>, IotError> {
        let device_ids: Vec<Id> = entities.iter().filter_map(|e| e.device_id).collect();
        let devices = if device_ids.is_empty() {
            Vec::new()
        } else {
            read(self.store(), |tx| tx.devices(&v.tenant_id, &device_ids))?
        };
        Ok(entities
            .into_iter()
            .map(|entity| EntityView {
                device_name: entity
                    .device_id
                    .and_then(|d| devices.iter().find(|x| x.id == d))
                    .map(|d| d.name.clone()),
                integration_name: self
                    .integrations
                    .get(&entity.integration)
                    .map_or_else(|| entity.integration.clone(), |i| i.info().name.clone()),
                entity,
            })
            .collect())
    }

    /// An entity of the caller's tenant that the caller may see.
    pub(super) fn visible_entity(
        &self,
        tx: &mut dyn EntityRepo,
        v: &Viewer,
        id: Id,
    ) -> Result<Entity, IotError> {
        tx.entity(&v.tenant_id, id)?
            .filter(|e| v.sees_entity(e))
            .ok_or_else(|| IotError::not_found("entity", id))
    }

    /// Entities the caller may see that match the filter (its `visible` is replaced by the
    /// caller's grants), ordered by key.
    pub fn search_entities(
        &self,
        v: &Viewer,
        filter: EntityFilter,
        q: &SearchQuery,
    ) -> Result<Page<Entity>, IotError> {
        v.require("entity_data.view")?;
        let page = q.page(self.settings.max_page_size, &[])?;
        let filter = EntityFilter {
            keyword: q.keyword().map(str::to_owned),
            visible: v.visible().cloned(),
            ..filter
        };
        let (entities, total) = read(self.store(), |tx| {
            tx.search_entities(&v.tenant_id, &filter, &page)
        })?;
        Ok(Page::new(&page, total, entities))
    }

    /// The entity with this id, if the caller sees it; needs `entity_data.view`.
    pub fn entity(&self, v: &Viewer, id: Id) -> Result<Entity, IotError> {
        v.require("entity_data.view")?;
        read(self.store(), |tx| self.visible_entity(tx, v, id))
    }

    /// The entities named by `keys` that the caller sees (others are left out), whatever
    /// their function codes: the caller decides what the codes allow.
    pub fn entities_named(&self, v: &Viewer, keys: &[String]) -> Result<Vec<Entity>, IotError> {
        let entities = read(self.store(), |tx| tx.entities_by_keys(&v.tenant_id, keys))?;
        Ok(entities.into_iter().filter(|e| v.sees_entity(e)).collect())
    }

    /// The forms of properties and services, in the order asked. An entity the caller
    /// does not see is not found; an event, which takes no values, is refused.
    pub fn entity_forms(&self, v: &Viewer, ids: &[Id]) -> Result<Vec<EntityForm>, IotError> {
        v.require("entity_data.view")?;
        if ids.is_empty() || ids.len() > MAX_FORM_ENTITIES {
            return Err(IotError::invalid(
                "entity_id_list",
                format!("must name 1 to {MAX_FORM_ENTITIES} entities"),
            ));
        }
        read(self.store(), |tx| {
            let mut forms = Vec::with_capacity(ids.len());
            for (i, &id) in ids.iter().enumerate() {
                let entity = self.visible_entity(tx, v, id)?;
                if entity.definition.entity_type == EntityType::Event {
                    return Err(IotError::invalid(
                        format!("entity_id_list[{i}]"),
                        format!("entity {id} is an event, which takes no values"),
                    ));
                }
                let children: Vec<Entity> = tx
                    .children(&v.tenant_id, &entity.key)?
                    .into_iter()
                    .filter(|e| v.sees_entity(e))
                    .collect();
                let fields = if children.is_empty() {
                    vec![entity.clone()]
                } else {
                    children
                };
                forms.push(EntityForm { entity, fields });
            }
            Ok(forms)
        })
    }

    /// The children of an OBJECT entity.
    pub fn children(&self, v: &Viewer, id: Id) -> Result<Vec<Entity>, IotError> {
        v.require("entity_data.view")?;
        read(self.store(), |tx| {
            let parent = self.visible_entity(tx, v, id)?;
            Ok(tx
                .children(&v.tenant_id, &parent.key)?
                .into_iter()
                .filter(|e| v.sees_entity(e))
                .collect())
        })
    }
}
