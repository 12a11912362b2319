//! Row permissions of a table (Smartbi 2.5, `dataperm/create` and `dataperm/get`): named
//! items, each checked against the table's synced columns ([`crate::row_perms::check`])
//! and stored in the API's shape, in order.
//!
//! - `override` false (the default) appends: an item whose `itemName` the table already
//!   has **replaces that item in its place**; any other goes after the stored ones.
//! - `override` true replaces: the table's items become exactly the valid items sent (an
//!   empty list removes them all).
//! - Each item is checked on its own: an invalid one is refused and answered with why,
//!   the valid ones are stored. An `itemName` may appear once per call; a repeat is
//!   refused.

use std::collections::BTreeSet;

use weir_kernel::store::{read, write};
use weir_kernel::{Id, Millis, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Auth, open_as};
use super::resources::{ResourceRef, ResourceType};
use super::service::CatalogService;
use crate::row_perms::{RowPermItem, check};

/// Most items a table may have, and a call may send.
pub const MAX_ROW_PERMS: usize = 1000;
/// Longest `itemName`, in characters.
pub const ITEM_NAME_MAX: usize = 128;

/// A stored row permission item of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPerm {
    /// The tenant of the table.
    pub tenant_id: TenantId,
    /// The TABLE resource.
    pub table_id: Id,
    /// As the API sends and answers it, `itemName` trimmed; it passed
    /// [`crate::row_perms::check`] against the table's columns when it was stored.
    pub item: RowPermItem,
    /// When the item was first stored (an `override` call stores every item anew).
    pub created_at: Millis,
    /// When the item was last written, by a later call sending the same `itemName`.
    pub updated_at: Millis,
}

/// An item `dataperm/create` refused: its place in `rowpermItems`, its name (as sent, or
/// empty) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedItem {
    /// The item's position in the `rowpermItems` sent, from 0.
    pub index: usize,
    /// The item's `itemName` as sent (not trimmed); empty when it had none.
    pub item_name: String,
    /// Why it was refused, for the client to read.
    pub message: String,
}

impl CatalogService {
    /// `dataperm/create`: checks each item against the table's columns and stores the
    /// valid ones (appending, or with `replace` replacing all); answers the refused ones.
    /// Everything is written in one transaction.
    pub fn set_row_perms(
        &self,
        c: &Caller,
        table: ResourceRef,
        items: Vec<RowPermItem>,
        replace: bool,
    ) -> Result<Vec<RejectedItem>, CatalogError> {
        if items.len() > MAX_ROW_PERMS {
            return Err(CatalogError::invalid(
                "rowpermItems",
                format!("at most {MAX_ROW_PERMS} items, not {}", items.len()),
            ));
        }
        let t = &c.tenant_id;
        let now = self.now();
        write(self.store(), |tx| {
            let r = open_as(tx, c, table, ResourceType::Table, "id", Auth::Edit)?;
            // Two calls on one table at once: the second reads what the first stored.
            tx.lock_resource(t, r.id)?;
            let columns = tx
                .table(t, r.id)?
                .ok_or_else(|| {
                    CatalogError::Store(weir_kernel::StoreError::Internal(format!(
                        "table {} has no row of its own",
                        r.id
                    )))
                })?
                .columns;
            let mut stored = if replace {
                Vec::new()
            } else {
                tx.row_perms(t, r.id)?
            };
            let mut rejected = Vec::new();
            let mut seen = BTreeSet::new();
            for (index, mut item) in items.into_iter().enumerate() {
                let sent_name = item.item_name.clone();
                let mut refuse = |message: String| {
                    rejected.push(RejectedItem {
                        index,
                        item_name: sent_name.clone(),
                        message,
                    })
                };
                item.item_name = item.item_name.trim().to_owned();
                let name = item.item_name.clone();
                if !name.is_empty() && !seen.insert(name.clone()) {
                    refuse(format!(
                        "itemName `{name}` is given twice in rowpermItems: only the first counts"
                    ));
                    continue;
                }
                if name.chars().count() > ITEM_NAME_MAX {
                    refuse(format!(
                        "itemName must be at most {ITEM_NAME_MAX} characters"
                    ));
                    continue;
                }
                let item = match check(item, &columns) {
                    Ok(checked) => checked.item,
                    Err(why) => {
                        refuse(why);
                        continue;
                    }
                };
                if let Some(old) = stored.iter_mut().find(|p| p.item.item_name == name) {
                    old.item = item;
                    old.updated_at = now;
                } else if stored.len() >= MAX_ROW_PERMS {
                    refuse(format!(
                        "table {} already has {MAX_ROW_PERMS} row permissions",
                        r.api_id()
                    ));
                } else {
                    stored.push(RowPerm {
                        tenant_id: t.clone(),
                        table_id: r.id,
                        item,
                        created_at: now,
                        updated_at: now,
                    });
                }
            }
            tx.replace_row_perms(t, r.id, &stored)?;
            Ok(rejected)
        })
    }

    /// `dataperm/get`: the table's items in their order, as stored.
    pub fn row_perms(
        &self,
        c: &Caller,
        table: ResourceRef,
    ) -> Result<Vec<RowPermItem>, CatalogError> {
        read(self.store(), |tx| {
            let r = open_as(tx, c, table, ResourceType::Table, "id", Auth::Ref)?;
            Ok(tx
                .row_perms(&c.tenant_id, r.id)?
                .into_iter()
                .map(|p| p.item)
                .collect())
        })
    }
}
