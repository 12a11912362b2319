//! What several of the IoT repository's aggregates share.

use diesel::prelude::*;
use weir_kernel::{StoreError, TenantId};

use super::IotRepo;
use crate::errors::OrStore;
use crate::schema::*;

pub(super) type R<T> = Result<T, StoreError>;

/// Rows per multi-row insert: well under both backends' limits on bound parameters.
pub(super) const CHUNK: usize = 1000;

impl IotRepo {
    /// Removes the history, rollups and latest values of these entities.
    pub(super) fn delete_values(&mut self, t: &TenantId, entity_ids: &[i64]) -> R<()> {
        for chunk in entity_ids.chunks(CHUNK) {
            diesel::delete(
                entity_history::table
                    .filter(entity_history::tenant_id.eq(t.as_str()))
                    .filter(entity_history::entity_id.eq_any(chunk)),
            )
            .execute(self.c())
            .or_store()?;
            diesel::delete(
                entity_rollups::table
                    .filter(entity_rollups::tenant_id.eq(t.as_str()))
                    .filter(entity_rollups::entity_id.eq_any(chunk)),
            )
            .execute(self.c())
            .or_store()?;
            diesel::delete(
                entity_latest::table
                    .filter(entity_latest::tenant_id.eq(t.as_str()))
                    .filter(entity_latest::entity_id.eq_any(chunk)),
            )
            .execute(self.c())
            .or_store()?;
        }
        Ok(())
    }
}
