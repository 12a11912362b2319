//! The catalog use-cases on the resource tree: root folders, folders, reading a resource
//! and its children, deleting a subtree. Datasources are in [`super::datasources`],
//! schemas, tables and syncs in [`super::sync`]. Every method is blocking (it waits on the
//! database, and some on a datasource): async callers run it on a blocking thread.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use weir_kernel::store::{read, write};
use weir_kernel::{Clock, Id, IdGenerator, Millis, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Access, Auth, ancestry, check, open, open_as};
use super::ports::{CatalogStore, CatalogTx};
use super::resources::{ChildEntry, Resource, ResourceInfo, ResourceRef, ResourceType, Root};
use super::seal::Sealer;
use crate::drivers::Drivers;

/// Longest name a user gives (folder, datasource, schema label), in characters.
pub const NAME_MAX: usize = 128;
/// Longest name read from a datasource (schema, table), in characters.
pub const DB_NAME_MAX: usize = 255;
/// Longest alias, in characters.
pub const ALIAS_MAX: usize = 128;
/// Longest description, in characters.
pub const DESC_MAX: usize = 1024;
/// Deepest a tree may be walked (a guard against a broken parent chain).
const MAX_DEPTH: usize = 64;

/// Limits and timeouts of the catalog use-cases.
#[derive(Debug, Clone)]
pub struct CatalogSettings {
    /// For connecting to a datasource and for each of its statements.
    pub driver_timeout: Duration,
    /// Most tables a sync of a whole schema reads.
    pub max_sync_tables: usize,
    /// Most ids one `resource/delete` and tables one `table/create` item may name.
    pub max_batch: usize,
    /// Most rows a data model query answers (`[bi] max_rows`): a query's `limit` is
    /// capped by it.
    pub max_rows: u64,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            driver_timeout: Duration::from_secs(15),
            max_sync_tables: 2000,
            max_batch: 1000,
            max_rows: 10_000,
        }
    }
}

/// The ports the catalog use-cases run on.
pub struct CatalogPorts {
    /// The catalog repository.
    pub store: Arc<CatalogStore>,
    /// Reaches the datasources: tests, syncs and queries.
    pub drivers: Arc<dyn Drivers>,
    /// Seals datasource passwords before they are stored, and opens them to connect.
    pub sealer: Arc<dyn Sealer>,
    /// Gives new resources their ids.
    pub ids: Arc<IdGenerator>,
    /// Tells the time resources, grants and syncs are stamped with.
    pub clock: Arc<dyn Clock>,
}

/// The catalog use-cases: folders, datasources, schemas, tables, data models, grants and
/// row permissions, each on behalf of a [`Caller`].
pub struct CatalogService {
    pub(super) store: Arc<CatalogStore>,
    pub(super) drivers: Arc<dyn Drivers>,
    pub(super) sealer: Arc<dyn Sealer>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) settings: CatalogSettings,
}

impl std::fmt::Debug for CatalogService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A folder to make: `folder/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFolder {
    /// The folder to make it in: a root or another folder (needs `edit` on it).
    pub parent: ResourceRef,
    /// The folder's name: trimmed, unique in the parent, no `/`.
    pub name: String,
    /// The label shown; `None` or empty takes the name.
    pub alias: Option<String>,
    /// A free description.
    pub desc: Option<String>,
}

/// New alias and description of a folder or a table; `None` keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Describe {
    /// A new label; empty sets it back to the name.
    pub alias: Option<String>,
    /// A new description.
    pub desc: Option<String>,
}

/// What `resource/getChildList` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildQuery {
    /// Only these types; `None` for every type. Descendants of other types are still
    /// walked through.
    pub types: Option<BTreeSet<ResourceType>>,
    /// The whole subtree rather than the children only.
    pub include_descendants: bool,
    /// Answer each entry's path too (`needPath`).
    pub need_path: bool,
}

// ---- validation of what users send ----

fn check_len(field: &str, value: &str, max: usize) -> Result<(), CatalogError> {
    if value.chars().count() > max {
        return Err(CatalogError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(CatalogError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A name a user gives: trimmed, 1 to [`NAME_MAX`] characters, no `/` (paths use it).
pub(super) fn user_name(field: &str, raw: &str) -> Result<String, CatalogError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(CatalogError::invalid(field, "is required"));
    }
    check_len(field, name, NAME_MAX)?;
    if name.contains('/') {
        return Err(CatalogError::invalid(field, "must not contain `/`"));
    }
    Ok(name.to_owned())
}

/// A schema or table name as the datasource spells it: 1 to [`DB_NAME_MAX`] characters,
/// kept exactly (no trimming: names may have any case and spaces).
pub(super) fn db_name(field: &str, raw: &str) -> Result<String, CatalogError> {
    if raw.trim().is_empty() {
        return Err(CatalogError::invalid(field, "is required"));
    }
    check_len(field, raw, DB_NAME_MAX)?;
    Ok(raw.to_owned())
}

/// An optional text: trimmed, at most `max` characters; `None` stays `None`.
pub(super) fn optional_text(
    field: &str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, CatalogError> {
    raw.map(|v| {
        let v = v.trim();
        check_len(field, v, max)?;
        Ok(v.to_owned())
    })
    .transpose()
}

// ---- shared steps of the use-cases ----

/// The resource a reference names, in the caller's tenant.
pub(super) fn resolve(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    r: ResourceRef,
) -> Result<Resource, CatalogError> {
    match r {
        ResourceRef::Root(root) => tx.root(t, root)?,
        ResourceRef::Id(id) => tx.resource(t, id)?,
    }
    .ok_or_else(|| CatalogError::not_found(r))
}

/// [`resolve`], refusing a resource of another type (naming `field`).
pub(super) fn resolve_as(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    r: ResourceRef,
    kind: ResourceType,
    field: &str,
) -> Result<Resource, CatalogError> {
    of_kind(resolve(tx, t, r)?, kind, field)
}

/// Refuses a resource of another type than `kind`, naming `field`.
pub(super) fn of_kind(
    found: Resource,
    kind: ResourceType,
    field: &str,
) -> Result<Resource, CatalogError> {
    if found.kind != kind {
        return Err(CatalogError::invalid(
            field,
            format!(
                "resource {} is a {}, not a {kind}",
                found.api_id(),
                found.kind
            ),
        ));
    }
    Ok(found)
}

/// Refuses `name` when a child of `parent` has it already.
pub(super) fn check_free(
    tx: &mut dyn CatalogTx,
    parent: &Resource,
    name: &str,
    field: &str,
) -> Result<(), CatalogError> {
    if let Some(taken) = tx.child_named(&parent.tenant_id, parent.id, name)? {
        return Err(CatalogError::Duplicate {
            field: field.to_owned(),
            message: format!(
                "{} {} already holds a {} named \"{name}\" ({})",
                parent.kind,
                parent.api_id(),
                taken.kind,
                taken.api_id()
            ),
        });
    }
    Ok(())
}

/// The path of a resource: `/` then the names from its root down to it.
pub(super) fn path_of(tx: &mut dyn CatalogTx, r: &Resource) -> Result<String, CatalogError> {
    let mut names = vec![r.name.clone()];
    let mut parent = r.parent_id;
    while let Some(id) = parent {
        if names.len() > MAX_DEPTH {
            return Err(CatalogError::Store(weir_kernel::StoreError::Internal(
                format!("resource {} is deeper than {MAX_DEPTH} levels", r.id),
            )));
        }
        let p = tx.resource(&r.tenant_id, id)?.ok_or_else(|| {
            CatalogError::Store(weir_kernel::StoreError::Internal(format!(
                "the parent {id} of resource {} is missing",
                r.id
            )))
        })?;
        names.push(p.name);
        parent = p.parent_id;
    }
    names.reverse();
    Ok(format!("/{}", names.join("/")))
}

/// The ids of `root` and everything under it.
pub(super) fn subtree(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    root: Id,
) -> Result<Vec<Id>, CatalogError> {
    let mut all = vec![root];
    let mut frontier = vec![root];
    for _ in 0..=MAX_DEPTH {
        if frontier.is_empty() {
            return Ok(all);
        }
        frontier = tx
            .children(t, &frontier)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        all.extend(&frontier);
    }
    Err(CatalogError::Store(weir_kernel::StoreError::Internal(
        format!("resource {root} is deeper than {MAX_DEPTH} levels"),
    )))
}

/// Folders first, then by name (case folded, then exactly), then by id.
fn sibling_order(a: &Resource, b: &Resource) -> std::cmp::Ordering {
    (!a.is_folder(), a.name.to_lowercase(), &a.name, a.id).cmp(&(
        !b.is_folder(),
        b.name.to_lowercase(),
        &b.name,
        b.id,
    ))
}

impl CatalogService {
    /// A service over these ports, with these limits.
    pub fn new(ports: CatalogPorts, settings: CatalogSettings) -> Self {
        Self {
            store: ports.store,
            drivers: ports.drivers,
            sealer: ports.sealer,
            ids: ports.ids,
            clock: ports.clock,
            settings,
        }
    }

    pub(super) fn store(&self) -> &CatalogStore {
        &*self.store
    }

    pub(super) fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// A new resource made by the caller under `parent`.
    pub(super) fn new_resource(
        &self,
        c: &Caller,
        parent: &Resource,
        kind: ResourceType,
        name: String,
        alias: Option<String>,
        desc: Option<String>,
    ) -> Resource {
        let now = self.now();
        Resource {
            id: self.ids.next_id(),
            tenant_id: c.tenant_id.clone(),
            parent_id: Some(parent.id),
            root: None,
            kind,
            alias: alias
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| name.clone()),
            name,
            desc: desc.unwrap_or_default(),
            creator_id: c.user_id,
            creator_name: c.user_name.clone(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Makes the tenant's root folders if it lacks them.
    pub fn ensure_roots(&self, t: &TenantId) -> Result<(), CatalogError> {
        let missing: Vec<Root> = read(self.store(), |tx| {
            let mut missing = Vec::new();
            for root in Root::ALL {
                if tx.root(t, root)?.is_none() {
                    missing.push(root);
                }
            }
            Ok::<_, CatalogError>(missing)
        })?;
        if missing.is_empty() {
            return Ok(());
        }
        let now = self.now();
        write(self.store(), |tx| {
            for root in &missing {
                tx.insert_root_if_missing(&Resource {
                    id: self.ids.next_id(),
                    tenant_id: t.clone(),
                    parent_id: None,
                    root: Some(*root),
                    kind: ResourceType::Folder,
                    name: root.key().to_owned(),
                    alias: root.alias().to_owned(),
                    desc: String::new(),
                    creator_id: None,
                    creator_name: String::new(),
                    created_at: now,
                    updated_at: now,
                })?;
            }
            Ok(())
        })
    }

    /// Makes the roots first when `r` names one.
    pub(super) fn roots_for(&self, t: &TenantId, r: ResourceRef) -> Result<(), CatalogError> {
        match r {
            ResourceRef::Root(_) => self.ensure_roots(t),
            ResourceRef::Id(_) => Ok(()),
        }
    }

    // ---- folders ----

    /// `folder/create`: a folder under a folder (a root folder or another).
    pub fn create_folder(&self, c: &Caller, req: NewFolder) -> Result<Resource, CatalogError> {
        let name = user_name("name", &req.name)?;
        let alias = optional_text("alias", req.alias.as_deref(), ALIAS_MAX)?;
        let desc = optional_text("desc", req.desc.as_deref(), DESC_MAX)?;
        self.roots_for(&c.tenant_id, req.parent)?;
        write(self.store(), |tx| {
            let parent = open_as(
                tx,
                c,
                req.parent,
                ResourceType::Folder,
                "parentId",
                Auth::Edit,
            )?;
            check_free(tx, &parent, &name, "name")?;
            let folder = self.new_resource(
                c,
                &parent,
                ResourceType::Folder,
                name.clone(),
                alias.clone(),
                desc.clone(),
            );
            tx.insert_resource(&folder)?;
            Ok(folder)
        })
    }

    /// `folder/update`: a folder's alias and description. The root folders are fixed.
    pub fn update_folder(
        &self,
        c: &Caller,
        id: ResourceRef,
        changes: Describe,
    ) -> Result<Resource, CatalogError> {
        self.describe(c, id, ResourceType::Folder, changes)
    }

    /// `table/update`: a table's alias and description (its name is the table's own).
    pub fn update_table(
        &self,
        c: &Caller,
        id: ResourceRef,
        changes: Describe,
    ) -> Result<Resource, CatalogError> {
        self.describe(c, id, ResourceType::Table, changes)
    }

    fn describe(
        &self,
        c: &Caller,
        id: ResourceRef,
        kind: ResourceType,
        changes: Describe,
    ) -> Result<Resource, CatalogError> {
        let alias = optional_text("alias", changes.alias.as_deref(), ALIAS_MAX)?;
        let desc = optional_text("desc", changes.desc.as_deref(), DESC_MAX)?;
        let now = self.now();
        write(self.store(), |tx| {
            let mut r = open_as(tx, c, id, kind, "id", Auth::Edit)?;
            if r.root.is_some() {
                return Err(CatalogError::invalid(
                    "id",
                    format!("{} is a root folder, which cannot be changed", r.api_id()),
                ));
            }
            if let Some(a) = &alias {
                r.alias = if a.is_empty() {
                    r.name.clone()
                } else {
                    a.clone()
                };
            }
            if let Some(d) = &desc {
                r.desc = d.clone();
            }
            r.updated_at = now;
            tx.update_resource(&r)?;
            Ok(r)
        })
    }

    // ---- reading and deleting resources ----

    /// `resource/get`: a resource with its path.
    pub fn resource(&self, c: &Caller, id: ResourceRef) -> Result<ResourceInfo, CatalogError> {
        self.roots_for(&c.tenant_id, id)?;
        read(self.store(), |tx| {
            let resource = open(tx, c, id, Auth::Ref)?;
            let path = path_of(tx, &resource)?;
            Ok(ResourceInfo { resource, path })
        })
    }

    /// `resource/getChildList`: the children of a resource (or its whole subtree), each
    /// sibling group folders first and then by name, a node before what is under it.
    pub fn child_list(
        &self,
        c: &Caller,
        id: ResourceRef,
        q: &ChildQuery,
    ) -> Result<Vec<ChildEntry>, CatalogError> {
        self.roots_for(&c.tenant_id, id)?;
        read(self.store(), |tx| {
            let t = &c.tenant_id;
            let start = resolve(tx, t, id)?;
            // What the caller may not see is left out, and not walked into.
            let access = Access::load(tx, c)?;
            let mut known: HashMap<Id, Resource> = ancestry(tx, &start)?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            check(&start, access.level(&chain_in(&known, &start)), Auth::Ref)?;
            let start_path = if q.need_path {
                Some(path_of(tx, &start)?)
            } else {
                None
            };
            // One query per level, then the tree is put in order in memory.
            let mut by_parent: HashMap<Id, Vec<Resource>> = HashMap::new();
            let mut frontier = vec![start.id];
            for depth in 0..=MAX_DEPTH {
                if frontier.is_empty() {
                    break;
                }
                if depth == MAX_DEPTH {
                    return Err(CatalogError::Store(weir_kernel::StoreError::Internal(
                        format!("resource {} is deeper than {MAX_DEPTH} levels", start.id),
                    )));
                }
                let kids: Vec<Resource> = tx
                    .children(t, &frontier)?
                    .into_iter()
                    .filter(|k| {
                        let mut chain = vec![k];
                        if let Some(p) = k.parent_id.and_then(|p| known.get(&p)) {
                            chain.extend(chain_in(&known, p));
                        }
                        access.level(&chain).is_some()
                    })
                    .collect();
                known.extend(kids.iter().map(|k| (k.id, k.clone())));
                frontier = if q.include_descendants {
                    kids.iter().map(|r| r.id).collect()
                } else {
                    Vec::new()
                };
                for k in kids {
                    if let Some(p) = k.parent_id {
                        by_parent.entry(p).or_default().push(k);
                    }
                }
            }
            for kids in by_parent.values_mut() {
                kids.sort_by(sibling_order);
            }
            let mut out = Vec::new();
            // Depth-first, pre-order: (node, its path), children pushed in reverse.
            let mut stack: Vec<(Resource, Option<String>)> = by_parent
                .remove(&start.id)
                .unwrap_or_default()
                .into_iter()
                .rev()
                .map(|r| {
                    let path = start_path.as_ref().map(|p| format!("{p}/{}", r.name));
                    (r, path)
                })
                .collect();
            while let Some((r, path)) = stack.pop() {
                if let Some(kids) = by_parent.remove(&r.id) {
                    for k in kids.into_iter().rev() {
                        let kp = path.as_ref().map(|p| format!("{p}/{}", k.name));
                        stack.push((k, kp));
                    }
                }
                if q.types.as_ref().is_none_or(|ts| ts.contains(&r.kind)) {
                    out.push(ChildEntry { resource: r, path });
                }
            }
            Ok(out)
        })
    }

    /// `resource/delete`: deletes each resource and everything under it, all in one
    /// transaction: every one of `ids`, or none when one is unknown or a root folder.
    /// Answers the resources named (not their descendants).
    pub fn delete(&self, c: &Caller, ids: &[ResourceRef]) -> Result<Vec<Resource>, CatalogError> {
        if ids.is_empty() || ids.len() > self.settings.max_batch {
            return Err(CatalogError::invalid(
                "id",
                format!("must name 1 to {} resources", self.settings.max_batch),
            ));
        }
        if let Some(ResourceRef::Root(r)) = ids.iter().find(|r| matches!(r, ResourceRef::Root(_))) {
            return Err(root_delete(r.key()));
        }
        write(self.store(), |tx| {
            let t = &c.tenant_id;
            let access = Access::load(tx, c)?;
            let mut named = Vec::new();
            let mut all = BTreeSet::new();
            for r in ids {
                let found = resolve(tx, t, *r)?;
                let held = access.level_of(tx, &found)?;
                check(&found, held, Auth::Ref)?;
                if found.root.is_some() {
                    return Err(root_delete(&found.api_id()));
                }
                check(&found, held, Auth::Edit)?;
                if all.contains(&found.id) {
                    // Already under (or equal to) another one named.
                    if !named.iter().any(|n: &Resource| n.id == found.id) {
                        named.push(found);
                    }
                    continue;
                }
                all.extend(subtree(tx, t, found.id)?);
                named.push(found);
            }
            let all: Vec<Id> = all.into_iter().collect();
            tx.delete_resources(t, &all)?;
            Ok(named)
        })
    }
}

/// `r` and its ancestors found in `known`, nearest first.
fn chain_in<'a>(known: &'a HashMap<Id, Resource>, r: &'a Resource) -> Vec<&'a Resource> {
    let mut chain = vec![r];
    let mut parent = r.parent_id;
    while let Some(p) = parent.and_then(|p| known.get(&p)) {
        if chain.len() > MAX_DEPTH {
            break;
        }
        chain.push(p);
        parent = p.parent_id;
    }
    chain
}

fn root_delete(key: &str) -> CatalogError {
    CatalogError::invalid(
        "id",
        format!("{key} is a root folder, which cannot be deleted"),
    )
}
