//! Datasources (Smartbi 2.1): create, update, read with the password masked, test.

use weir_kernel::store::{read, write};
use weir_kernel::{Id, TenantId};

use super::caller::Caller;
use super::errors::CatalogError;
use super::grants::{Auth, open_as};
use super::resources::{
    Datasource, DatasourceSettings, DatasourceView, PASSWORD_MASK, Resource, ResourceRef,
    ResourceType, Root,
};
use super::service::{
    ALIAS_MAX, CatalogService, DESC_MAX, check_free, optional_text, resolve_as, user_name,
};
use crate::drivers::{ConnectionSpec, DriverError};
use crate::jdbc::{DriverType, check_url};

/// Most connections a datasource may be given (`maxConnection`).
pub const MAX_CONNECTIONS: i64 = 10_000;
/// `maxConnection` when none is sent.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 100;
/// The `transactionIsolation` values of the document: the JDBC default, none, read
/// uncommitted, read committed, repeatable read, serializable.
pub const ISOLATION_LEVELS: [i64; 6] = [-1, 0, 1, 2, 4, 8];
const URL_MAX: usize = 2048;
const FIELD_MAX: usize = 255;
const PASSWORD_MAX: usize = 1024;

/// How to reach a datasource, as a request sends it (`datasource/create`, and
/// `datasource/test` of a datasource not saved yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionFields {
    /// `driverType` (`POSTGRESQL`, `MYSQL`, `SQLITE`, or any other name, stored only);
    /// required for a new datasource.
    pub driver_type: Option<String>,
    /// `driverClassName`; blank takes the type's usual JDBC class, when it has one.
    pub driver_class_name: Option<String>,
    /// `driverCatalog`, the driver folder; stored as sent, blank meaning none.
    pub driver_catalog: Option<String>,
    /// The JDBC URL, checked against the driver type; required for a new datasource.
    pub url: Option<String>,
    /// `connectUserName`; required except for SQLITE.
    pub user: Option<String>,
    /// `connectPassword` in clear; `None`, empty or [`PASSWORD_MASK`] sends no password.
    /// Stored sealed.
    pub password: Option<String>,
    /// `maxConnection`: 1 to [`MAX_CONNECTIONS`]; [`DEFAULT_MAX_CONNECTIONS`] for a new
    /// datasource that sends none.
    pub max_connection: Option<i64>,
    /// `transactionIsolation`: one of [`ISOLATION_LEVELS`]; -1 (the JDBC default) for a new
    /// datasource that sends none.
    pub transaction_isolation: Option<i64>,
}

/// `datasource/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewDatasource {
    /// Default: the datasources root ([`Root::DataSources`]).
    pub parent: Option<ResourceRef>,
    /// The resource's name: trimmed, unique among its siblings, no `/`.
    pub name: String,
    /// The label shown; `None` or empty takes the name.
    pub alias: Option<String>,
    /// A free description.
    pub desc: Option<String>,
    /// How to reach it.
    pub connection: ConnectionFields,
}

/// `datasource/update`: every field left `None` keeps its stored value. A password that
/// is `None`, empty or the mask `******` keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasourceChanges {
    /// A new name, unique among the datasource's siblings.
    pub name: Option<String>,
    /// A new label; empty sets it back to the name.
    pub alias: Option<String>,
    /// A new description.
    pub desc: Option<String>,
    /// Connection settings to change; the others keep their stored values.
    pub connection: ConnectionFields,
}

/// Which datasource `datasource/test` connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestTarget {
    /// A saved datasource, with its stored settings and password (needs `edit` on it).
    Stored(ResourceRef),
    /// Settings sent with the request and not saved (needs `edit` on the datasources root).
    Unsaved(ConnectionFields),
}

fn driver_type(raw: Option<&str>) -> Result<DriverType, CatalogError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(CatalogError::invalid("driverType", "is required"));
    }
    let t = DriverType::parse(raw);
    if let DriverType::Other(name) = &t
        && (name.len() > 32 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(CatalogError::invalid(
            "driverType",
            "must be a type name such as POSTGRESQL, MYSQL, SQLITE or ORACLE (letters, digits and `_`, at most 32)",
        ));
    }
    Ok(t)
}

/// A password as sent: `None` when none is (missing, empty, or the mask).
fn sent_password(raw: Option<&str>) -> Result<Option<String>, CatalogError> {
    match raw {
        None | Some("") | Some(PASSWORD_MASK) => Ok(None),
        Some(p) if p.chars().count() > PASSWORD_MAX => Err(CatalogError::invalid(
            "connectPassword",
            format!("must be at most {PASSWORD_MAX} characters"),
        )),
        Some(p) => Ok(Some(p.to_owned())),
    }
}

/// The settings `fields` give over `base` (the stored ones, or `None` for a new
/// datasource, when the required fields must be there), checked.
fn settings(
    fields: &ConnectionFields,
    base: Option<&DatasourceSettings>,
) -> Result<DatasourceSettings, CatalogError> {
    let driver_type = match (&fields.driver_type, base) {
        (None, Some(b)) => b.driver_type.clone(),
        (raw, _) => driver_type(raw.as_deref())?,
    };
    let class = optional_text(
        "driverClassName",
        fields.driver_class_name.as_deref(),
        FIELD_MAX,
    )?
    .filter(|c| !c.is_empty());
    let driver_class_name = match (class, base) {
        (Some(c), _) => c,
        // A new type without a class named takes the type's usual one.
        (None, Some(b)) if b.driver_type == driver_type => b.driver_class_name.clone(),
        (None, _) => driver_type
            .default_class_name()
            .map(str::to_owned)
            .ok_or_else(|| {
                CatalogError::invalid(
                    "driverClassName",
                    format!("is required for driverType {}", driver_type.as_str()),
                )
            })?,
    };
    let driver_catalog = match (&fields.driver_catalog, base) {
        (None, Some(b)) => b.driver_catalog.clone(),
        (raw, _) => {
            optional_text("driverCatalog", raw.as_deref(), URL_MAX)?.filter(|c| !c.is_empty())
        }
    };
    let url = match (&fields.url, base) {
        (None, Some(b)) => b.url.clone(),
        (raw, _) => raw.as_deref().unwrap_or_default().trim().to_owned(),
    };
    if url.chars().count() > URL_MAX {
        return Err(CatalogError::invalid(
            "url",
            format!("must be at most {URL_MAX} characters"),
        ));
    }
    check_url(&driver_type, &url).map_err(|e| CatalogError::invalid("url", e.0))?;
    let user = match (&fields.user, base) {
        (None, Some(b)) => b.user.clone(),
        (raw, _) => {
            optional_text("connectUserName", raw.as_deref(), FIELD_MAX)?.unwrap_or_default()
        }
    };
    if user.is_empty() && driver_type != DriverType::Sqlite {
        return Err(CatalogError::invalid(
            "connectUserName",
            format!("is required for driverType {}", driver_type.as_str()),
        ));
    }
    let max_connection = match (fields.max_connection, base) {
        (None, Some(b)) => b.max_connection,
        (None, None) => DEFAULT_MAX_CONNECTIONS,
        (Some(n), _) if (1..=MAX_CONNECTIONS).contains(&n) => n,
        (Some(_), _) => {
            return Err(CatalogError::invalid(
                "maxConnection",
                format!("must be from 1 to {MAX_CONNECTIONS}"),
            ));
        }
    };
    let transaction_isolation = match (fields.transaction_isolation, base) {
        (None, Some(b)) => b.transaction_isolation,
        (None, None) => -1,
        (Some(n), _) if ISOLATION_LEVELS.contains(&n) => n,
        (Some(_), _) => {
            return Err(CatalogError::invalid(
                "transactionIsolation",
                "must be -1 (JDBC default), 0 (none), 1 (read uncommitted), 2 (read committed), 4 (repeatable read) or 8 (serializable)",
            ));
        }
    };
    Ok(DatasourceSettings {
        driver_type,
        driver_class_name,
        driver_catalog,
        url,
        user,
        max_connection,
        transaction_isolation,
    })
}

/// What a datasource's password is sealed for: its tenant and id.
fn seal_context(t: &TenantId, id: Id) -> String {
    format!("bi_datasource:{t}:{id}")
}

impl CatalogService {
    fn seal(&self, t: &TenantId, id: Id, plain: &str) -> Result<String, CatalogError> {
        self.sealer
            .seal(plain, &seal_context(t, id))
            .map_err(|e| CatalogError::Secret(e.0))
    }

    /// How to reach a stored datasource: its password opened, its URL parsed. A type Weir
    /// has no driver for answers "driver not available".
    pub(super) fn spec(&self, d: &Datasource) -> Result<ConnectionSpec, CatalogError> {
        let password = d
            .sealed_password
            .as_deref()
            .map(|s| self.sealer.open(s, &seal_context(&d.tenant_id, d.id)))
            .transpose()
            .map_err(|e| CatalogError::Secret(e.0))?;
        self.spec_of(&d.settings, password)
    }

    fn spec_of(
        &self,
        s: &DatasourceSettings,
        password: Option<String>,
    ) -> Result<ConnectionSpec, CatalogError> {
        let url = check_url(&s.driver_type, &s.url)
            .map_err(|e| CatalogError::invalid("url", e.0))?
            .ok_or_else(|| {
                CatalogError::DriverNotAvailable(DriverError::NotAvailable(
                    s.driver_type.as_str().to_owned(),
                ))
            })?;
        Ok(ConnectionSpec {
            driver: s.driver_type.clone(),
            url,
            user: Some(s.user.clone()).filter(|u| !u.is_empty()),
            password,
            timeout: self.settings.driver_timeout,
        })
    }

    /// A driver's refusal, naming the datasource.
    pub(super) fn driver_error(r: &Resource, e: DriverError) -> CatalogError {
        match e {
            DriverError::NotAvailable(_) => CatalogError::DriverNotAvailable(e),
            error => CatalogError::Datasource {
                id: r.api_id(),
                name: r.name.clone(),
                error,
            },
        }
    }

    /// A datasource's resource and settings.
    pub(super) fn load_datasource(
        tx: &mut dyn super::ports::CatalogTx,
        t: &TenantId,
        id: ResourceRef,
        field: &str,
    ) -> Result<(Resource, Datasource), CatalogError> {
        let r = resolve_as(tx, t, id, ResourceType::Datasource, field)?;
        let d = tx.datasource(t, r.id)?.ok_or_else(|| {
            CatalogError::Store(weir_kernel::StoreError::Internal(format!(
                "datasource {} has no settings row",
                r.id
            )))
        })?;
        Ok((r, d))
    }

    /// A datasource's resource and settings, if the caller holds `need` on it.
    pub(super) fn open_datasource(
        tx: &mut dyn super::ports::CatalogTx,
        c: &Caller,
        id: ResourceRef,
        field: &str,
        need: Auth,
    ) -> Result<(Resource, Datasource), CatalogError> {
        let r = open_as(tx, c, id, ResourceType::Datasource, field, need)?;
        Self::load_datasource(tx, &c.tenant_id, r.id.into(), field)
    }

    /// `datasource/create`: answers the new datasource's resource.
    pub fn create_datasource(
        &self,
        c: &Caller,
        req: NewDatasource,
    ) -> Result<Resource, CatalogError> {
        let name = user_name("name", &req.name)?;
        let alias = optional_text("alias", req.alias.as_deref(), ALIAS_MAX)?;
        let desc = optional_text("desc", req.desc.as_deref(), DESC_MAX)?;
        let settings = settings(&req.connection, None)?;
        let password = sent_password(req.connection.password.as_deref())?;
        let parent = req.parent.unwrap_or(ResourceRef::Root(Root::DataSources));
        self.roots_for(&c.tenant_id, parent)?;
        write(self.store(), |tx| {
            let parent = open_as(tx, c, parent, ResourceType::Folder, "parentId", Auth::Edit)?;
            check_free(tx, &parent, &name, "name")?;
            let r = self.new_resource(
                c,
                &parent,
                ResourceType::Datasource,
                name.clone(),
                alias.clone(),
                desc.clone(),
            );
            let sealed_password = password
                .as_deref()
                .map(|p| self.seal(&c.tenant_id, r.id, p))
                .transpose()?;
            tx.insert_resource(&r)?;
            tx.insert_datasource(&Datasource {
                id: r.id,
                tenant_id: c.tenant_id.clone(),
                settings: settings.clone(),
                sealed_password,
            })?;
            Ok(r)
        })
    }

    /// `datasource/update`: answers the datasource's resource.
    pub fn update_datasource(
        &self,
        c: &Caller,
        id: ResourceRef,
        changes: DatasourceChanges,
    ) -> Result<Resource, CatalogError> {
        let name = changes
            .name
            .as_deref()
            .map(|n| user_name("name", n))
            .transpose()?;
        let alias = optional_text("alias", changes.alias.as_deref(), ALIAS_MAX)?;
        let desc = optional_text("desc", changes.desc.as_deref(), DESC_MAX)?;
        let password = sent_password(changes.connection.password.as_deref())?;
        let now = self.now();
        write(self.store(), |tx| {
            let t = &c.tenant_id;
            let (mut r, mut d) = Self::open_datasource(tx, c, id, "id", Auth::Edit)?;
            d.settings = settings(&changes.connection, Some(&d.settings))?;
            if let Some(p) = &password {
                d.sealed_password = Some(self.seal(t, d.id, p)?);
            }
            if let Some(n) = &name
                && *n != r.name
            {
                let parent = r
                    .parent_id
                    .map(|p| resolve_as(tx, t, p.into(), ResourceType::Folder, "id"))
                    .transpose()?;
                if let Some(parent) = parent {
                    check_free(tx, &parent, n, "name")?;
                }
                r.name = n.clone();
            }
            if let Some(a) = &alias {
                r.alias = if a.is_empty() {
                    r.name.clone()
                } else {
                    a.clone()
                };
            }
            if let Some(x) = &desc {
                r.desc = x.clone();
            }
            r.updated_at = now;
            tx.update_resource(&r)?;
            tx.update_datasource(&d)?;
            Ok(r)
        })
    }

    /// `datasource/get`: the settings, with whether a password is stored; never the
    /// password.
    pub fn datasource(&self, c: &Caller, id: ResourceRef) -> Result<DatasourceView, CatalogError> {
        read(self.store(), |tx| {
            let (resource, d) = Self::open_datasource(tx, c, id, "id", Auth::Ref)?;
            Ok(DatasourceView {
                resource,
                has_password: d.sealed_password.is_some(),
                settings: d.settings,
            })
        })
    }

    /// `datasource/test`: connects and runs a trivial statement, to a stored datasource or
    /// to one described in the request (not saved).
    pub fn test_datasource(&self, c: &Caller, target: TestTarget) -> Result<(), CatalogError> {
        match target {
            TestTarget::Stored(id) => {
                let (r, d) = read(self.store(), |tx| {
                    Self::open_datasource(tx, c, id, "id", Auth::Edit)
                })?;
                let spec = self.spec(&d)?;
                self.drivers
                    .test(&spec)
                    .map_err(|e| Self::driver_error(&r, e))
            }
            TestTarget::Unsaved(fields) => {
                // Reaching a database the caller names is for those who may register one
                // (edit on the datasources' root): otherwise any user could probe the
                // server's network through it.
                let root = ResourceRef::Root(Root::DataSources);
                self.roots_for(&c.tenant_id, root)?;
                read(self.store(), |tx| {
                    open_as(tx, c, root, ResourceType::Folder, "parentId", Auth::Edit)
                })?;
                let s = settings(&fields, None)?;
                let password = sent_password(fields.password.as_deref())?;
                let spec = self.spec_of(&s, password)?;
                self.drivers.test(&spec).map_err(|e| match e {
                    DriverError::NotAvailable(_) => CatalogError::DriverNotAvailable(e),
                    error => CatalogError::Datasource {
                        id: "(unsaved)".into(),
                        name: s.url.clone(),
                        error,
                    },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg() -> ConnectionFields {
        ConnectionFields {
            driver_type: Some("POSTGRESQL".into()),
            url: Some("jdbc:postgresql://127.0.0.1:5432/shop".into()),
            user: Some("postgres".into()),
            ..ConnectionFields::default()
        }
    }

    #[test]
    fn new_settings_take_defaults_and_check_every_field() {
        let s = settings(&pg(), None).unwrap();
        assert_eq!(s.driver_class_name, "org.postgresql.Driver");
        assert_eq!((s.max_connection, s.transaction_isolation), (100, -1));
        let field =
            |f: ConnectionFields| settings(&f, None).unwrap_err().field().map(str::to_owned);
        assert_eq!(
            field(ConnectionFields {
                driver_type: None,
                ..pg()
            })
            .as_deref(),
            Some("driverType")
        );
        assert_eq!(
            field(ConnectionFields {
                url: Some("jdbc:mysql://h/d".into()),
                ..pg()
            })
            .as_deref(),
            Some("url")
        );
        assert_eq!(
            field(ConnectionFields { user: None, ..pg() }).as_deref(),
            Some("connectUserName")
        );
        assert_eq!(
            field(ConnectionFields {
                transaction_isolation: Some(3),
                ..pg()
            })
            .as_deref(),
            Some("transactionIsolation")
        );
        assert_eq!(
            field(ConnectionFields {
                max_connection: Some(0),
                ..pg()
            })
            .as_deref(),
            Some("maxConnection")
        );
        assert_eq!(
            field(ConnectionFields {
                driver_type: Some("ORACLE".into()),
                url: Some("jdbc:oracle:thin:@h:1521:x".into()),
                ..pg()
            })
            .as_deref(),
            Some("driverClassName")
        );
        let sqlite = settings(
            &ConnectionFields {
                driver_type: Some("sqlite".into()),
                url: Some("jdbc:sqlite:/tmp/x.db".into()),
                ..ConnectionFields::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(sqlite.user, "");
    }

    #[test]
    fn an_update_keeps_what_it_does_not_send() {
        let base = settings(&pg(), None).unwrap();
        let s = settings(
            &ConnectionFields {
                max_connection: Some(5),
                ..ConnectionFields::default()
            },
            Some(&base),
        )
        .unwrap();
        assert_eq!(s.url, base.url);
        assert_eq!(s.max_connection, 5);
        // A new URL is checked against the stored type.
        let e = settings(
            &ConnectionFields {
                url: Some("jdbc:sqlite:/x.db".into()),
                ..ConnectionFields::default()
            },
            Some(&base),
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("url"));
        assert_eq!(sent_password(Some(PASSWORD_MASK)).unwrap(), None);
        assert_eq!(sent_password(Some("")).unwrap(), None);
        assert_eq!(sent_password(Some("x")).unwrap().as_deref(), Some("x"));
    }
}
