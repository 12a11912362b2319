//! Data models (Smartbi 2.8, `augmented/create`) as resources of the catalog, and their
//! queries (Weir's `augmented/query`).
//!
//! A model is checked against the synced columns of its tables ([`crate::augmented`]) and
//! stored, definition and all, as an `AUGMENTED_DATASET` resource under a folder. A query
//! loads it, checks it again against the tables as they are now (a column dropped since
//! answers precisely what broke), narrows each view's rows by the caller's row
//! permissions on its table ([`crate::row_perms`]), plans it ([`crate::query`]) and runs
//! it through the drivers. See docs/bi-query.md.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use weir_kernel::store::{read, write};
use weir_kernel::{Id, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Access, Auth, open_as};
use super::ports::CatalogTx;
use super::resources::{Resource, ResourceRef, ResourceType, Root};
use super::service::{
    ALIAS_MAX, CatalogService, DESC_MAX, check_free, optional_text, path_of, user_name,
};
use crate::augmented::{ModelDefinition, ModelProblem, TableMeta, ValidModel, validate};
use crate::drivers::{Rows, Statement};
use crate::query::{QueryRequest, plan};
use crate::row_perms::{self, CheckedItem, Subject};

/// Most views a model may have.
pub const MAX_VIEWS: usize = 64;
/// Most dimensions, and most measures, a model may have.
pub const MAX_FIELDS: usize = 1000;

/// How Smartbi would keep a model's data (`storeType`). **Weir queries the datasource
/// live either way**: the value is stored and answered as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreType {
    /// `DIRECT`: 直连, queried live.
    Direct,
    /// `EXTRACT`: 抽取, the document's default.
    Extract,
}

impl StoreType {
    /// The type as the API writes it: `DIRECT` or `EXTRACT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "DIRECT",
            Self::Extract => "EXTRACT",
        }
    }

    /// Any case.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Direct, Self::Extract]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// How Smartbi would extract (`extractType`); stored as sent, like [`StoreType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtractType {
    /// `FULL`: 全量抽取.
    Full,
    /// `REALTIME`: 按次抽取, the document's default.
    Realtime,
}

impl ExtractType {
    /// The type as the API writes it: `FULL` or `REALTIME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Realtime => "REALTIME",
        }
    }

    /// Any case.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Full, Self::Realtime]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A data model, beside its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataModel {
    /// Its resource's id.
    pub id: Id,
    /// The tenant of the model.
    pub tenant_id: TenantId,
    /// `storeType` as sent (stored only: queries always go to the datasource).
    pub store_type: StoreType,
    /// `extractType` as sent (stored only).
    pub extract_type: ExtractType,
    /// As it passed [`validate`] when it was made.
    pub definition: ModelDefinition,
}

/// `augmented/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewModel {
    /// A folder; default [`Root::Public`].
    pub parent: Option<ResourceRef>,
    /// The resource's name: trimmed, unique in the folder, no `/`.
    pub name: String,
    /// The label shown; `None` or empty takes the name.
    pub alias: Option<String>,
    /// A free description.
    pub desc: Option<String>,
    /// `DIRECT` or `EXTRACT` (default), any case.
    pub store_type: Option<String>,
    /// `FULL` or `REALTIME` (default), any case.
    pub extract_type: Option<String>,
    /// Views, dimensions, measures and relations, checked by [`validate`].
    pub definition: ModelDefinition,
}

/// A model with its resource and path: `augmented/get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelView {
    /// The model's resource (name, alias, creator...).
    pub resource: Resource,
    /// Its path: `/` then the names from its root folder down to it.
    pub path: String,
    /// Its types and definition.
    pub model: DataModel,
}

/// What `augmented/query` answers.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryAnswer {
    /// A dry run: the statement with its bound values, not run.
    Statement(Statement),
    /// The rows the datasource answered.
    Rows(Rows),
}

/// A refusal of a check that names one field, as a problem among others.
fn collect<T>(r: Result<T, CatalogError>, out: &mut Vec<ModelProblem>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(CatalogError::Invalid { field, message }) => {
            out.push(ModelProblem { field, message });
            None
        }
        Err(other) => {
            out.push(ModelProblem {
                field: other.field().unwrap_or("paramsInfo").to_owned(),
                message: other.to_string(),
            });
            None
        }
    }
}

fn problem(out: &mut Vec<ModelProblem>, field: String, message: impl Into<String>) {
    out.push(ModelProblem {
        field,
        message: message.into(),
    });
}

/// The texts of a definition that [`validate`] does not bound: how many fields, and how
/// long names and aliases are.
fn check_sizes(def: &ModelDefinition, out: &mut Vec<ModelProblem>) {
    for (list, n, max) in [
        ("views", def.views.len(), MAX_VIEWS),
        ("dimensions", def.dimensions.len(), MAX_FIELDS),
        ("measures", def.measures.len(), MAX_FIELDS),
        ("relations", def.relations.len(), MAX_VIEWS),
    ] {
        if n > max {
            problem(out, list.to_owned(), format!("at most {max}, not {n}"));
        }
    }
    let mut text = |at: String, v: &str, max: usize| {
        if v.chars().count() > max {
            problem(out, at, format!("must be at most {max} characters"));
        }
    };
    for (i, v) in def.views.iter().enumerate() {
        text(format!("views[{i}].name"), &v.name, ALIAS_MAX);
        text(
            format!("views[{i}].alias"),
            v.alias.as_deref().unwrap_or_default(),
            ALIAS_MAX,
        );
    }
    for (i, d) in def.dimensions.iter().enumerate() {
        text(
            format!("dimensions[{i}].alias"),
            d.alias.as_deref().unwrap_or_default(),
            ALIAS_MAX,
        );
    }
    for (i, m) in def.measures.iter().enumerate() {
        text(
            format!("measures[{i}].alias"),
            m.alias.as_deref().unwrap_or_default(),
            ALIAS_MAX,
        );
    }
}

/// What the catalog knows of a TABLE resource of the tenant, or `None` when `id` is not
/// one (unknown, another tenant's, another type).
pub(super) fn table_meta(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    id: Id,
) -> Result<Option<TableMeta>, CatalogError> {
    let Some(r) = tx.resource(t, id)? else {
        return Ok(None);
    };
    if r.kind != ResourceType::Table {
        return Ok(None);
    }
    let Some(table) = tx.table(t, id)? else {
        return Ok(None);
    };
    let Some(schema) = tx.schema(t, table.schema_id)? else {
        return Ok(None);
    };
    Ok(Some(TableMeta {
        table_id: id,
        datasource_id: schema.datasource_id,
        // The schema's name in the datasource, which queries name (its label may differ).
        schema: schema.schema_name,
        table: r.name,
        columns: table.columns,
    }))
}

/// Checks a definition against the tables as they are stored now. With `reader`, only the
/// tables that caller may read count: a model must not open a table its author could not
/// read (the others are "not found", as everywhere).
fn check_definition(
    tx: &mut dyn CatalogTx,
    t: &TenantId,
    def: &ModelDefinition,
    reader: Option<&Access<'_>>,
) -> Result<Result<ValidModel, Vec<ModelProblem>>, CatalogError> {
    let mut metas: HashMap<Id, TableMeta> = HashMap::new();
    for v in &def.views {
        if metas.contains_key(&v.table_id) {
            continue;
        }
        if let Some(access) = reader {
            let readable = match tx.resource(t, v.table_id)? {
                Some(r) => access.level_of(tx, &r)? >= Some(Auth::Read),
                None => false,
            };
            if !readable {
                continue;
            }
        }
        if let Some(m) = table_meta(tx, t, v.table_id)? {
            metas.insert(v.table_id, m);
        }
    }
    Ok(validate(def.clone(), |id| metas.get(&id).cloned()))
}

/// A data model, if the caller holds `need` on it.
fn load_model(
    tx: &mut dyn CatalogTx,
    c: &Caller,
    id: ResourceRef,
    need: Auth,
) -> Result<(Resource, DataModel), CatalogError> {
    let t = &c.tenant_id;
    let r = open_as(tx, c, id, ResourceType::DataModel, "id", need)?;
    let m = tx.model(t, r.id)?.ok_or_else(|| {
        CatalogError::Store(weir_kernel::StoreError::Internal(format!(
            "data model {} has no row of its own",
            r.id
        )))
    })?;
    Ok((r, m))
}

/// Whether a stored item concerns the subject, whatever its expression.
fn concerns(item: &row_perms::RowPermItem, s: &Subject) -> bool {
    CheckedItem {
        item: item.clone(),
        condition: crate::query::Condition::All(Vec::new()),
    }
    .concerns(s)
}

impl CatalogService {
    /// `augmented/create`: checks the model against the synced tables of the caller's
    /// tenant and stores it under a folder. Every problem of the request is answered at
    /// once, each naming its field; nothing is stored then.
    pub fn create_model(&self, c: &Caller, req: NewModel) -> Result<Resource, CatalogError> {
        let t = &c.tenant_id;
        let mut problems = Vec::new();
        let name = collect(user_name("name", &req.name), &mut problems);
        let alias = collect(
            optional_text("alias", req.alias.as_deref(), ALIAS_MAX),
            &mut problems,
        )
        .flatten();
        let desc = collect(
            optional_text("desc", req.desc.as_deref(), DESC_MAX),
            &mut problems,
        )
        .flatten();
        let store_type = match req.store_type.as_deref().map(str::trim) {
            None | Some("") => Some(StoreType::Extract),
            Some(s) => StoreType::parse(s).or_else(|| {
                problem(
                    &mut problems,
                    "storeType".into(),
                    format!("DIRECT or EXTRACT, not {}", clip(s)),
                );
                None
            }),
        };
        let extract_type = match req.extract_type.as_deref().map(str::trim) {
            None | Some("") => Some(ExtractType::Realtime),
            Some(s) => ExtractType::parse(s).or_else(|| {
                problem(
                    &mut problems,
                    "extractType".into(),
                    format!("FULL or REALTIME, not {}", clip(s)),
                );
                None
            }),
        };
        check_sizes(&req.definition, &mut problems);
        let too_big = problems.iter().any(|p| {
            matches!(
                p.field.as_str(),
                "views" | "dimensions" | "measures" | "relations"
            )
        });
        if too_big {
            return Err(CatalogError::Fields(problems));
        }
        let parent = req.parent.unwrap_or(ResourceRef::Root(Root::Public));
        self.roots_for(t, parent)?;
        write(self.store(), |tx| {
            let parent = open_as(tx, c, parent, ResourceType::Folder, "pid", Auth::Edit)?;
            let mut problems = problems.clone();
            let access = Access::load(tx, c)?;
            let checked = check_definition(tx, t, &req.definition, Some(&access))?;
            if let Err(more) = &checked {
                problems.extend(more.iter().cloned());
            }
            let (Some(name), Some(store_type), Some(extract_type), Ok(valid), true) = (
                name.clone(),
                store_type,
                extract_type,
                checked,
                problems.is_empty(),
            ) else {
                return Err(CatalogError::Fields(problems));
            };
            check_free(tx, &parent, &name, "name")?;
            let r = self.new_resource(
                c,
                &parent,
                ResourceType::DataModel,
                name,
                alias.clone(),
                desc.clone(),
            );
            tx.insert_resource(&r)?;
            tx.insert_model(&DataModel {
                id: r.id,
                tenant_id: t.clone(),
                store_type,
                extract_type,
                definition: valid.definition,
            })?;
            Ok(r)
        })
    }

    /// `augmented/get` (Weir's own): a model as it was made, with its resource and path.
    pub fn model(&self, c: &Caller, id: ResourceRef) -> Result<ModelView, CatalogError> {
        read(self.store(), |tx| {
            let (resource, model) = load_model(tx, c, id, Auth::Ref)?;
            let path = path_of(tx, &resource)?;
            Ok(ModelView {
                resource,
                path,
                model,
            })
        })
    }

    /// `augmented/query` (Weir's own): the model checked again against its tables as they
    /// are now, the caller's row permissions on each view's table, the plan, and then the
    /// statement (`dry_run`) or the rows, from the datasource, bounded by the driver
    /// timeout and `max_rows`.
    ///
    /// Row permissions apply to **every** caller they name, the super admin included
    /// (named by their user id or a role's id like anyone else). A stored item that no
    /// longer fits its table's columns refuses the query of every caller it concerns,
    /// rather than let them read rows it was meant to hide.
    pub fn query_model(
        &self,
        c: &Caller,
        id: ResourceRef,
        request: &QueryRequest,
        dry_run: bool,
    ) -> Result<QueryAnswer, CatalogError> {
        if request.limit == Some(0) {
            return Err(CatalogError::invalid("limit", "must be at least 1"));
        }
        let t = &c.tenant_id;
        let subject = c.subject();
        let (model, filters, ds_resource, ds) = read(self.store(), |tx| {
            let (r, m) = load_model(tx, c, id, Auth::Read)?;
            let model = check_definition(tx, t, &m.definition, None)?.map_err(|problems| {
                CatalogError::Outdated(format!(
                    "data model {} ({}) no longer fits its tables, re-create it: {}",
                    r.api_id(),
                    r.name,
                    CatalogError::Fields(problems)
                ))
            })?;
            let mut filters = BTreeMap::new();
            let mut by_table: HashMap<Id, Option<crate::query::Condition>> = HashMap::new();
            for (view, meta) in &model.tables {
                // Two views of one table share its items.
                let condition = match by_table.entry(meta.table_id) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => slot.insert(self.row_filter(tx, t, meta, &subject)?),
                };
                if let Some(condition) = condition {
                    filters.insert(view.clone(), condition.clone());
                }
            }
            let ds_id = model.datasource_id().ok_or_else(|| {
                CatalogError::Store(weir_kernel::StoreError::Internal(format!(
                    "data model {} has no view",
                    r.id
                )))
            })?;
            let (ds_resource, ds) = Self::load_datasource(tx, t, ds_id.into(), "id")?;
            Ok::<_, CatalogError>((model, filters, ds_resource, ds))
        })?;
        let plan = plan(&model, request, &filters, self.settings.max_rows)
            .map_err(CatalogError::Fields)?;
        let spec = self.spec(&ds)?;
        if dry_run {
            self.drivers
                .statement(&spec, &plan)
                .map(QueryAnswer::Statement)
        } else {
            self.drivers.query(&spec, &plan).map(QueryAnswer::Rows)
        }
        .map_err(|e| Self::driver_error(&ds_resource, e))
    }

    /// The condition the subject's queries get on a table from its row permissions, each
    /// checked again against the table's columns as last synced.
    fn row_filter(
        &self,
        tx: &mut dyn CatalogTx,
        t: &TenantId,
        meta: &TableMeta,
        subject: &Subject,
    ) -> Result<Option<crate::query::Condition>, CatalogError> {
        let mut checked = Vec::new();
        for stored in tx.row_perms(t, meta.table_id)? {
            let item = stored.item;
            if !concerns(&item, subject) {
                continue;
            }
            let name = item.item_name.clone();
            match row_perms::check(item, &meta.columns) {
                Ok(ok) => checked.push(ok),
                Err(why) => {
                    return Err(CatalogError::Outdated(format!(
                        "row permission `{name}` of table {} ({}.{}) no longer fits the \
                         table's columns, fix it with dataperm/create: {why}",
                        meta.table_id, meta.schema, meta.table
                    )));
                }
            }
        }
        Ok(row_perms::for_subject(&checked, subject))
    }
}

/// Client text in a message, cut to a readable length.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
