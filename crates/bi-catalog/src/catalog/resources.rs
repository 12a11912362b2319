//! The catalog's objects: one tree of typed resources per tenant (folders, datasources,
//! schemas, tables, data models), and what each kind keeps beside its resource (data
//! models and row permissions have their own modules).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, de};
use weir_kernel::{Id, Millis, TenantId};

use crate::drivers::ColumnInfo;
use crate::jdbc::DriverType;

/// The kind of a resource, named as the Smartbi API answers it (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    /// A folder (资源目录), the two root folders included: `DEFAULT_TREENODE`.
    Folder,
    /// A relational datasource (数据源): `DATASOURCE`.
    Datasource,
    /// A schema of a datasource: `SCHEMA`.
    Schema,
    /// A table (or view) of a schema: `TABLE`.
    Table,
    /// A data model (数据模型, `augmented/create`): `AUGMENTED_DATASET`, under a folder.
    DataModel,
}

impl ResourceType {
    /// Every type, in the order of the variants.
    pub const ALL: [ResourceType; 5] = [
        Self::Folder,
        Self::Datasource,
        Self::Schema,
        Self::Table,
        Self::DataModel,
    ];

    /// The type as the API names it (`DEFAULT_TREENODE`, `DATASOURCE`, `SCHEMA`, `TABLE`,
    /// `AUGMENTED_DATASET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Folder => "DEFAULT_TREENODE",
            Self::Datasource => "DATASOURCE",
            Self::Schema => "SCHEMA",
            Self::Table => "TABLE",
            Self::DataModel => "AUGMENTED_DATASET",
        }
    }

    /// The API name of a type, exactly as [`Self::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// What a message calls it.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Folder => "folder",
            Self::Datasource => "datasource",
            Self::Schema => "schema",
            Self::Table => "table",
            Self::DataModel => "data model",
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fixed root folders every tenant has, made the first time they are needed. The API
/// names them by these ids, never by a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// 数据连接: where datasources go when `parentId` is not given.
    DataSources,
    /// 公共空间: the public root of folders and data models (the default `pid` of
    /// `augmented/create`).
    Public,
}

impl Root {
    /// Both roots.
    pub const ALL: [Root; 2] = [Self::DataSources, Self::Public];

    /// Its id in the API, and its name.
    pub fn key(self) -> &'static str {
        match self {
            Self::DataSources => "DATA_SOURCES",
            Self::Public => "PUBLIC",
        }
    }

    /// Its alias: the label Smartbi shows.
    pub fn alias(self) -> &'static str {
        match self {
            Self::DataSources => "数据连接",
            Self::Public => "公共空间",
        }
    }

    /// The root whose [`Self::key`] is exactly `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == s)
    }
}

/// A resource as a request names it: a root by its key, or any resource by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceRef {
    /// A root folder, by its key (`DATA_SOURCES`, `PUBLIC`).
    Root(Root),
    /// Any resource, by its id.
    Id(Id),
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(r) => f.write_str(r.key()),
            Self::Id(id) => write!(f, "{id}"),
        }
    }
}

impl From<Id> for ResourceRef {
    fn from(id: Id) -> Self {
        Self::Id(id)
    }
}

impl From<Root> for ResourceRef {
    fn from(r: Root) -> Self {
        Self::Root(r)
    }
}

/// A text that is neither a root's key nor an id; it holds the text, cut to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a resource id (a positive integer, DATA_SOURCES or PUBLIC)")]
pub struct ParseRefError(pub String);

impl FromStr for ResourceRef {
    type Err = ParseRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(root) = Root::parse(s) {
            return Ok(Self::Root(root));
        }
        s.parse::<Id>()
            .map(Self::Id)
            .map_err(|_| ParseRefError(s.chars().take(64).collect()))
    }
}

/// A string (`"123"`, `"PUBLIC"`) or a positive integer.
impl<'de> Deserialize<'de> for ResourceRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ResourceRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource id (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ResourceRef, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ResourceRef, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ResourceRef, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for ResourceRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A node of a tenant's catalog tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource's id, which the API shows except for the roots (see [`Self::api_id`]).
    pub id: Id,
    /// The tenant whose tree it belongs to.
    pub tenant_id: TenantId,
    /// `None` for the root folders only.
    pub parent_id: Option<Id>,
    /// Which root folder this is, for the two roots.
    pub root: Option<Root>,
    /// What it is, which says what it keeps beside it.
    pub kind: ResourceType,
    /// Unique among its siblings (exactly, case included). A table's name is the table's
    /// name in the datasource.
    pub name: String,
    /// The label shown; the name when none was given.
    pub alias: String,
    /// A free description; empty when none.
    pub desc: String,
    /// Who created it: a user id (none for the roots, made by the system) and that user's
    /// name as it was then.
    pub creator_id: Option<Id>,
    /// The creator's user name when it was made; empty for the roots.
    pub creator_name: String,
    /// When it was made.
    pub created_at: Millis,
    /// When it was last updated (renamed, given a new alias or description, a datasource's
    /// settings changed); syncs do not change it.
    pub updated_at: Millis,
}

impl Resource {
    /// The id the API shows: the root's key for a root folder, else the number.
    pub fn api_id(&self) -> String {
        match self.root {
            Some(r) => r.key().to_owned(),
            None => self.id.to_string(),
        }
    }

    /// Whether it is a folder (a root folder included).
    pub fn is_folder(&self) -> bool {
        self.kind == ResourceType::Folder
    }
}

/// How to reach a datasource, beside its resource. The password is kept sealed (see
/// [`crate::catalog::seal`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Datasource {
    /// Its resource's id.
    pub id: Id,
    /// The tenant of the datasource.
    pub tenant_id: TenantId,
    /// How to reach it, without the password.
    pub settings: DatasourceSettings,
    /// `connectPassword`, sealed; `None` when the datasource has none.
    pub sealed_password: Option<String>,
}

impl fmt::Debug for Datasource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datasource")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("settings", &self.settings)
            .field(
                "sealed_password",
                &self.sealed_password.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// What a datasource answers in the clear: everything but its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasourceSettings {
    /// `driverType`: which driver reaches it, if Weir has one.
    pub driver_type: DriverType,
    /// `driverClassName`, the JDBC class; stored and answered, not used to connect.
    pub driver_class_name: String,
    /// The driver folder (驱动目录), stored as sent.
    pub driver_catalog: Option<String>,
    /// The JDBC URL, checked against `driver_type`.
    pub url: String,
    /// `connectUserName`; empty when none (SQLite).
    pub user: String,
    /// `maxConnection`, 1 to [`crate::catalog::datasources::MAX_CONNECTIONS`]; stored and
    /// answered, the drivers do not read it.
    pub max_connection: i64,
    /// -1 (the JDBC default), 0, 1, 2, 4 or 8.
    pub transaction_isolation: i64,
}

/// A datasource as `datasource/get` answers it: its settings, and whether a password is
/// stored (the password itself never leaves the domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasourceView {
    /// The datasource's resource.
    pub resource: Resource,
    /// Its settings, in the clear.
    pub settings: DatasourceSettings,
    /// Whether a password is stored.
    pub has_password: bool,
}

/// What `connectPassword` reads as when a datasource has one.
pub const PASSWORD_MASK: &str = "******";

impl DatasourceView {
    /// [`PASSWORD_MASK`] when a password is stored, else empty.
    pub fn masked_password(&self) -> &'static str {
        if self.has_password { PASSWORD_MASK } else { "" }
    }
}

/// A schema of a datasource, beside its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Its resource's id.
    pub id: Id,
    /// The tenant of the schema.
    pub tenant_id: TenantId,
    /// The datasource (its resource's id) the schema is read from.
    pub datasource_id: Id,
    /// The schema's name in the datasource. The resource's name starts as this and may be
    /// changed (`schema/update`); this one never is.
    pub schema_name: String,
    /// The `catalog` sent when the schema was made; stored only.
    pub catalog: Option<String>,
    /// Whether a sync mirrors every table of the schema (it was made with `needSync`), or
    /// only refreshes the tables added one by one (`table/create`).
    pub sync_all: bool,
    /// When its tables were last read from the datasource.
    pub synced_at: Option<Millis>,
}

/// A table (or view) of a schema, beside its resource: its columns as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its resource's id.
    pub id: Id,
    /// The tenant of the table.
    pub tenant_id: TenantId,
    /// The schema (its resource's id) the table belongs to.
    pub schema_id: Id,
    /// `TABLE` or `VIEW`, as the datasource said.
    pub table_kind: String,
    /// The columns in their order, as last read from the datasource.
    pub columns: Vec<ColumnInfo>,
    /// When the columns were last read.
    pub synced_at: Millis,
}

/// A table resource with its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableView {
    /// The table's resource (its name is the table's name in the datasource).
    pub resource: Resource,
    /// Its kind and columns.
    pub table: Table,
}

/// What a sync (or a `table/create`) changed, by table name, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Tables that were not in the catalog and now are.
    pub added: Vec<String>,
    /// Tables that are gone from the datasource, and so from the catalog.
    pub removed: Vec<String>,
    /// Tables whose columns (names, types, nullability, order) differ from the last read.
    pub changed: Vec<String>,
    /// Tables `table/create` left as they were: already there, without `override`.
    pub skipped: Vec<String>,
}

impl SyncReport {
    pub(crate) fn sort(mut self) -> Self {
        self.added.sort();
        self.removed.sort();
        self.changed.sort();
        self.skipped.sort();
        self
    }
}

/// One entry of `resource/getChildList`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildEntry {
    /// A resource under the one asked about, which the caller may see.
    pub resource: Resource,
    /// `/ROOT/name/.../name`, when asked for.
    pub path: Option<String>,
}

/// A resource with its path, as `resource/get` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The resource asked for.
    pub resource: Resource,
    /// `/` then the names from its root folder down to it (`/PUBLIC/sales/model`).
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_read_root_keys_and_ids_from_strings_and_numbers() {
        let r: ResourceRef = serde_json::from_str("\"PUBLIC\"").unwrap();
        assert_eq!(r, ResourceRef::Root(Root::Public));
        let r: ResourceRef = serde_json::from_str("\"42\"").unwrap();
        assert_eq!(r, ResourceRef::Id(Id(42)));
        let r: ResourceRef = serde_json::from_str("42").unwrap();
        assert_eq!(r, ResourceRef::Id(Id(42)));
        let e = serde_json::from_str::<ResourceRef>("\"public\"").unwrap_err();
        assert!(e.to_string().contains("is not a resource id"), "{e}");
        assert!(serde_json::from_str::<ResourceRef>("-3").is_err());
        assert_eq!(
            serde_json::to_string(&ResourceRef::Root(Root::DataSources)).unwrap(),
            "\"DATA_SOURCES\""
        );
    }

    #[test]
    fn type_names_round_trip() {
        for t in ResourceType::ALL {
            assert_eq!(ResourceType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ResourceType::parse("folder"), None);
    }
}
