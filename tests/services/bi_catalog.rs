//! The BI catalog use-cases on real storage (both backends) with the real drivers: SQLite
//! datasources made in a temporary folder, and a scratch database on the local PostgreSQL
//! (127.0.0.1:5432, user `postgres`), dropped at the end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use diesel::prelude::*;
use weir_bi_catalog::catalog::{
    AddTables, AesGcmSealer, Caller, CatalogError, CatalogPorts, CatalogService, CatalogSettings,
    ChildEntry, ChildQuery, ConnectionFields, DatasourceChanges, Describe, NewDatasource,
    NewFolder, NewSchema, PASSWORD_MASK, Resource, ResourceRef, ResourceType, Root, Sealer,
    SyncReport, TestTarget,
};
use weir_bi_catalog::drivers::FieldType;
use weir_bi_drivers::SqlDrivers;
use weir_kernel::{AsProblem, Id, IdGenerator, ProblemKind, StoreError, SystemClock, TxMode};
use weir_storage::Database;
use weir_storage::testing::TestDatabase;

use crate::tenant;

struct World {
    catalog: CatalogService,
    sealer: Arc<AesGcmSealer>,
    db: Database,
    place: TestDatabase,
}

fn service(db: &Database, drivers: SqlDrivers, sealer: Arc<AesGcmSealer>) -> CatalogService {
    CatalogService::new(
        CatalogPorts {
            store: Arc::new(db.clone()),
            drivers: Arc::new(drivers),
            sealer,
            ids: Arc::new(IdGenerator::new(3, Box::new(SystemClock))),
            clock: Arc::new(SystemClock),
        },
        CatalogSettings::default(),
    )
}

fn world() -> World {
    let (place, db) = crate::database_with_tenants();
    let sealer = Arc::new(AesGcmSealer::from_hex(&AesGcmSealer::random_key_hex()).unwrap());
    World {
        catalog: service(&db, crate::local_drivers(&place), sealer.clone()),
        sealer,
        db,
        place,
    }
}

fn alice() -> Caller {
    Caller::user(tenant("t1"), Id(7), "Alice").with_super_admin(true)
}

fn mallory() -> Caller {
    Caller::user(tenant("t2"), Id(9), "Mallory").with_super_admin(true)
}

const DS: ResourceRef = ResourceRef::Root(Root::DataSources);
const PUBLIC: ResourceRef = ResourceRef::Root(Root::Public);

fn message(e: &CatalogError) -> String {
    e.problem().message
}

/// Asserts a refusal that names `field` (with this text in its message).
fn refused_on(e: CatalogError, field: &str, text: &str) {
    let m = message(&e);
    assert_eq!(e.field(), Some(field), "{m}");
    assert!(m.starts_with(&format!("{field}: ")), "{m}");
    assert!(m.contains(text), "`{text}` not in: {m}");
}

fn not_found(e: CatalogError, id: impl std::fmt::Display) {
    let p = e.problem();
    assert_eq!(p.kind, ProblemKind::NotFound, "{}", p.message);
    assert_eq!(p.message, format!("resource {id} not found"));
}

/// A datasource of `driver_type` at `url`.
fn datasource(name: &str, driver_type: &str, url: &str, user: Option<&str>) -> NewDatasource {
    NewDatasource {
        parent: None,
        name: name.into(),
        alias: None,
        desc: None,
        connection: ConnectionFields {
            driver_type: Some(driver_type.into()),
            url: Some(url.into()),
            user: user.map(str::to_owned),
            ..ConnectionFields::default()
        },
    }
}

fn list(w: &World, c: &Caller, id: ResourceRef, q: ChildQuery) -> Vec<ChildEntry> {
    w.catalog.child_list(c, id, &q).unwrap()
}

/// `TYPE name` of each entry, in order.
fn shown(entries: &[ChildEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{} {}", e.resource.kind, e.resource.name))
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn report(added: &[&str], removed: &[&str], changed: &[&str], skipped: &[&str]) -> SyncReport {
    SyncReport {
        added: strings(added),
        removed: strings(removed),
        changed: strings(changed),
        skipped: strings(skipped),
    }
}

use crate::count;

fn raw_password(db: &Database, id: Id) -> Option<String> {
    use weir_storage::schema::bi_datasources as d;
    db.transaction(TxMode::Read, |c| {
        d::table
            .find(id.get())
            .select(d::password_sealed)
            .first::<Option<String>>(c)
            .map_err(|e| StoreError::Internal(e.to_string()))
    })
    .unwrap()
}

// ---- datasources to read from ----

/// An SQLite database file in a temporary folder, with customers, orders and a view.
struct SqliteSource {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteSource {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let s = Self { _dir: dir, path };
        s.exec(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                                  total REAL, placed_at DATETIME);
             CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;",
        );
        s
    }

    fn url(&self) -> String {
        format!("jdbc:sqlite:{}", self.path.display())
    }

    fn exec(&self, sql: &str) {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        c.execute_batch(sql).unwrap();
    }
}

/// A scratch database on the local PostgreSQL with a `shop` schema, dropped at the end.
struct PgSource {
    db: crate::scratch_pg::ScratchPg,
}

impl PgSource {
    fn new() -> Option<Self> {
        let s = Self {
            db: crate::scratch_pg::ScratchPg::new("weir_bi_src")?,
        };
        s.exec(
            "CREATE SCHEMA shop;
             CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name VARCHAR(80) NOT NULL,
                                          vip BOOLEAN);
             CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL,
                                       total NUMERIC(10, 2), placed_at TIMESTAMP);",
        );
        Some(s)
    }

    fn url(&self) -> String {
        self.db.jdbc_url()
    }

    fn exec(&self, sql: &str) {
        self.db.exec(sql);
    }
}

fn sqlite_datasource(w: &World, src: &SqliteSource) -> Resource {
    w.catalog
        .create_datasource(&alice(), datasource("shop", "SQLITE", &src.url(), None))
        .unwrap()
}

fn main_schema(w: &World, ds: &Resource, need_sync: bool) -> (Resource, Option<SyncReport>) {
    w.catalog
        .create_schema(
            &alice(),
            NewSchema {
                datasource: ds.id.into(),
                name: "main".into(),
                catalog: None,
                need_sync,
            },
        )
        .unwrap()
}

fn tables(ds: &Resource, schema: &str, replace: bool, names: &[&str]) -> AddTables {
    AddTables {
        datasource: ds.id.into(),
        schema_name: schema.into(),
        replace,
        catalog: None,
        tables: strings(names),
    }
}

// ---- the tests ----

#[test]
fn a_datasource_is_created_read_back_masked_and_its_password_sealed_at_rest() {
    let w = world();
    let mut req = datasource(
        "warehouse",
        "POSTGRESQL",
        "jdbc:postgresql://db.local:5432/sales?sslmode=disable",
        Some("report"),
    );
    req.alias = Some("Sales warehouse".into());
    req.connection.password = Some("s3cret-pw".into());
    req.connection.max_connection = Some(20);
    req.connection.transaction_isolation = Some(2);
    let ds = w.catalog.create_datasource(&alice(), req).unwrap();
    assert_eq!(ds.kind, ResourceType::Datasource);
    assert_eq!(ds.creator_name, "Alice");

    let v = w.catalog.datasource(&alice(), ds.id.into()).unwrap();
    assert_eq!(v.resource.alias, "Sales warehouse");
    assert_eq!(v.masked_password(), PASSWORD_MASK);
    let s = &v.settings;
    assert_eq!(s.driver_type.as_str(), "POSTGRESQL");
    assert_eq!(s.driver_class_name, "org.postgresql.Driver");
    assert_eq!(s.user, "report");
    assert_eq!((s.max_connection, s.transaction_isolation), (20, 2));
    // It went under the datasources root.
    let info = w.catalog.resource(&alice(), ds.id.into()).unwrap();
    assert_eq!(info.path, "/DATA_SOURCES/warehouse");

    // At rest: sealed, not in clear, and it opens to the password for that datasource only.
    let sealed = raw_password(&w.db, ds.id).expect("a sealed password");
    assert!(!sealed.contains("s3cret"), "{sealed}");
    let context = format!("bi_datasource:t1:{}", ds.id);
    assert_eq!(w.sealer.open(&sealed, &context).unwrap(), "s3cret-pw");
    assert!(w.sealer.open(&sealed, "bi_datasource:t1:1").is_err());

    // An update without a password, with an empty one or with the mask keeps it.
    for password in [None, Some(""), Some(PASSWORD_MASK)] {
        w.catalog
            .update_datasource(
                &alice(),
                ds.id.into(),
                DatasourceChanges {
                    connection: ConnectionFields {
                        password: password.map(str::to_owned),
                        max_connection: Some(30),
                        ..ConnectionFields::default()
                    },
                    ..DatasourceChanges::default()
                },
            )
            .unwrap();
        assert_eq!(raw_password(&w.db, ds.id).as_deref(), Some(sealed.as_str()));
    }
    // A new one replaces it; the fields not sent stay.
    let r = w
        .catalog
        .update_datasource(
            &alice(),
            ds.id.into(),
            DatasourceChanges {
                name: Some("dwh".into()),
                connection: ConnectionFields {
                    password: Some("n3w".into()),
                    url: Some("jdbc:postgresql://db2.local/sales".into()),
                    ..ConnectionFields::default()
                },
                ..DatasourceChanges::default()
            },
        )
        .unwrap();
    assert_eq!(r.name, "dwh");
    let sealed = raw_password(&w.db, ds.id).unwrap();
    assert_eq!(w.sealer.open(&sealed, &context).unwrap(), "n3w");
    let v = w.catalog.datasource(&alice(), ds.id.into()).unwrap();
    assert_eq!(v.settings.url, "jdbc:postgresql://db2.local/sales");
    assert_eq!(
        (v.settings.max_connection, v.settings.user.as_str()),
        (30, "report")
    );

    // Another key cannot open it: a server error, whose message says nothing of it.
    let other = service(
        &w.db,
        crate::local_drivers(&w.place),
        Arc::new(AesGcmSealer::from_hex(&AesGcmSealer::random_key_hex()).unwrap()),
    );
    let e = other
        .test_datasource(&alice(), TestTarget::Stored(ds.id.into()))
        .unwrap_err();
    assert!(matches!(e, CatalogError::Secret(_)), "{e}");
    assert_eq!(e.problem().message, "internal server error");
}

#[test]
fn bad_urls_and_bad_fields_are_refused_naming_the_field_and_change_nothing() {
    let w = world();
    let good = w
        .catalog
        .create_datasource(
            &alice(),
            datasource("pg", "POSTGRESQL", "jdbc:postgresql://h/db", Some("u")),
        )
        .unwrap();
    let create = |req: NewDatasource| w.catalog.create_datasource(&alice(), req).unwrap_err();
    refused_on(
        create(datasource(
            "a",
            "POSTGRESQL",
            "jdbc:mysql://h/db",
            Some("u"),
        )),
        "url",
        "does not fit driverType POSTGRESQL",
    );
    refused_on(
        create(datasource(
            "a",
            "MYSQL",
            "jdbc:postgresql://h/db",
            Some("u"),
        )),
        "url",
        "does not fit driverType MYSQL",
    );
    refused_on(
        create(datasource("a", "SQLITE", "jdbc:mysql://h/db", None)),
        "url",
        "expected jdbc:sqlite:",
    );
    refused_on(
        create(datasource("a", "POSTGRESQL", "postgres://h/db", Some("u"))),
        "url",
        "is not a JDBC URL",
    );
    refused_on(
        create(datasource(
            "a",
            "MYSQL",
            "jdbc:mysql://h:99999/db",
            Some("u"),
        )),
        "url",
        "bad port",
    );
    refused_on(
        create(datasource("a", "POSTGRESQL", "", Some("u"))),
        "url",
        "is required",
    );
    refused_on(
        create(datasource(
            "  ",
            "POSTGRESQL",
            "jdbc:postgresql://h/db",
            Some("u"),
        )),
        "name",
        "is required",
    );
    refused_on(
        create(datasource(
            "a/b",
            "POSTGRESQL",
            "jdbc:postgresql://h/db",
            Some("u"),
        )),
        "name",
        "`/`",
    );
    refused_on(
        create(datasource("a", "", "jdbc:postgresql://h/db", Some("u"))),
        "driverType",
        "is required",
    );
    refused_on(
        create(datasource(
            "a",
            "POSTGRESQL",
            "jdbc:postgresql://h/db",
            None,
        )),
        "connectUserName",
        "is required for driverType POSTGRESQL",
    );
    let mut bad = datasource("a", "POSTGRESQL", "jdbc:postgresql://h/db", Some("u"));
    bad.connection.transaction_isolation = Some(3);
    refused_on(create(bad), "transactionIsolation", "-1 (JDBC default)");
    let mut bad = datasource("a", "POSTGRESQL", "jdbc:postgresql://h/db", Some("u"));
    bad.connection.max_connection = Some(0);
    refused_on(create(bad), "maxConnection", "from 1 to");
    let mut bad = datasource("a", "POSTGRESQL", "jdbc:postgresql://h/db", Some("u"));
    bad.parent = Some(good.id.into());
    refused_on(
        create(bad),
        "parentId",
        "is a DATASOURCE, not a DEFAULT_TREENODE",
    );
    let e = create(datasource(
        "pg",
        "POSTGRESQL",
        "jdbc:postgresql://h/db",
        Some("u"),
    ));
    assert_eq!(e.problem().code, "name_repeated");
    refused_on(e, "name", "already holds a DATASOURCE named \"pg\"");
    let e = create(NewDatasource {
        parent: Some(ResourceRef::Id(Id(424242))),
        ..datasource("a", "POSTGRESQL", "jdbc:postgresql://h/db", Some("u"))
    });
    not_found(e, 424242);

    // An update with a bad URL changes nothing either.
    let e = w
        .catalog
        .update_datasource(
            &alice(),
            good.id.into(),
            DatasourceChanges {
                alias: Some("changed".into()),
                connection: ConnectionFields {
                    url: Some("jdbc:sqlite:/x.db".into()),
                    ..ConnectionFields::default()
                },
                ..DatasourceChanges::default()
            },
        )
        .unwrap_err();
    refused_on(e, "url", "does not fit driverType POSTGRESQL");
    let v = w.catalog.datasource(&alice(), good.id.into()).unwrap();
    assert_eq!(
        (v.resource.alias.as_str(), v.settings.url.as_str()),
        ("pg", "jdbc:postgresql://h/db")
    );
    // No password: none stored, and none shown.
    assert_eq!((v.has_password, v.masked_password()), (false, ""));
    assert_eq!(raw_password(&w.db, good.id), None);

    let all = list(&w, &alice(), DS, ChildQuery::default());
    assert_eq!(shown(&all), ["DATASOURCE pg"]);
    assert_eq!(count(&w.db, "bi_datasources"), 1);
}

#[test]
fn an_oracle_datasource_is_stored_as_sent_but_never_reached() {
    let w = world();
    let mut req = datasource(
        "erp",
        "ORACLE",
        "jdbc:oracle:thin:@erp.local:1521:ORCL",
        Some("scott"),
    );
    req.connection.driver_class_name = Some("oracle.jdbc.driver.OracleDriver".into());
    req.connection.password = Some("tiger".into());
    let ds = w.catalog.create_datasource(&alice(), req).unwrap();
    let v = w.catalog.datasource(&alice(), ds.id.into()).unwrap();
    assert_eq!(v.settings.driver_type.as_str(), "ORACLE");
    assert_eq!(v.settings.url, "jdbc:oracle:thin:@erp.local:1521:ORCL");

    let unavailable = |e: CatalogError| {
        let m = message(&e);
        assert!(m.starts_with("driver not available:"), "{m}");
        assert!(m.contains("not ORACLE"), "{m}");
    };
    unavailable(
        w.catalog
            .test_datasource(&alice(), TestTarget::Stored(ds.id.into()))
            .unwrap_err(),
    );
    let schema = |need_sync| NewSchema {
        datasource: ds.id.into(),
        name: "SCOTT".into(),
        catalog: None,
        need_sync,
    };
    unavailable(w.catalog.create_schema(&alice(), schema(true)).unwrap_err());
    assert_eq!(count(&w.db, "bi_schemas"), 0);
    // Without a sync it is only a name: stored.
    let (s, none) = w.catalog.create_schema(&alice(), schema(false)).unwrap();
    assert_eq!(none, None);
    unavailable(w.catalog.sync_schema(&alice(), s.id.into()).unwrap_err());
    unavailable(
        w.catalog
            .add_tables(&alice(), &[tables(&ds, "SCOTT", false, &["EMP"])])
            .unwrap_err(),
    );
    assert_eq!(count(&w.db, "bi_tables"), 0);
}

#[test]
fn an_sqlite_datasource_is_tested_and_its_schema_synced_with_columns() {
    let w = world();
    let src = SqliteSource::new();
    let ds = sqlite_datasource(&w, &src);
    w.catalog
        .test_datasource(&alice(), TestTarget::Stored(ds.id.into()))
        .unwrap();
    // An unsaved datasource can be tested too; a missing file is refused as a file outside
    // the folder is (the answer does not tell which files exist), naming the datasource.
    let missing = format!("{}.missing", src.path.display());
    let e = w
        .catalog
        .test_datasource(
            &alice(),
            TestTarget::Unsaved(ConnectionFields {
                driver_type: Some("SQLITE".into()),
                url: Some(format!("jdbc:sqlite:{missing}")),
                ..ConnectionFields::default()
            }),
        )
        .unwrap_err();
    assert_eq!(e.problem().code, "bi_datasource_refused", "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "datasource (unsaved) (jdbc:sqlite:{missing}): SQLite file {missing}: no such file \
             inside the folder bi.sqlite_folder opens"
        )
    );

    let (schema, report) = main_schema(&w, &ds, true);
    assert_eq!(schema.kind, ResourceType::Schema);
    assert_eq!(
        report.unwrap(),
        report_of_added(&["big_orders", "customers", "orders"])
    );
    let kids = list(&w, &alice(), schema.id.into(), ChildQuery::default());
    assert_eq!(
        shown(&kids),
        ["TABLE big_orders", "TABLE customers", "TABLE orders"]
    );
    let customers = &kids[1].resource;
    let t = w.catalog.table(&alice(), customers.id.into()).unwrap();
    assert_eq!(t.table.table_kind, "TABLE");
    let cols: Vec<(&str, FieldType)> = t
        .table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.field_type))
        .collect();
    assert_eq!(
        cols,
        [
            ("id", FieldType::Integer),
            ("name", FieldType::String),
            ("email", FieldType::String)
        ]
    );
    assert!(!t.table.columns[1].nullable && t.table.columns[2].nullable);
    assert_eq!(t.table.columns[1].native_type.to_uppercase(), "TEXT");
    let view = w
        .catalog
        .table(&alice(), kids[0].resource.id.into())
        .unwrap();
    assert_eq!(view.table.table_kind, "VIEW");

    // A second schema of the same name is refused; an unknown schema names the field.
    let e = w
        .catalog
        .create_schema(
            &alice(),
            NewSchema {
                datasource: ds.id.into(),
                name: "main".into(),
                catalog: None,
                need_sync: false,
            },
        )
        .unwrap_err();
    assert_eq!(e.problem().code, "name_repeated");
    let e = w
        .catalog
        .create_schema(
            &alice(),
            NewSchema {
                datasource: ds.id.into(),
                name: "nope".into(),
                catalog: None,
                need_sync: true,
            },
        )
        .unwrap_err();
    refused_on(e, "name", "schema `nope` not found in datasource");
    let e = w
        .catalog
        .create_schema(
            &alice(),
            NewSchema {
                datasource: schema.id.into(),
                name: "x".into(),
                catalog: None,
                need_sync: false,
            },
        )
        .unwrap_err();
    refused_on(e, "dsId", "is a SCHEMA, not a DATASOURCE");

    // A schema's label can change; syncs still read `main`.
    let renamed = w
        .catalog
        .rename_schema(&alice(), schema.id.into(), Some("Shop tables"))
        .unwrap();
    assert_eq!(renamed.name, "Shop tables");
    assert_eq!(
        w.catalog.sync_schema(&alice(), schema.id.into()).unwrap(),
        SyncReport::default()
    );
    let (_, s) = w.catalog.schema(&alice(), schema.id.into()).unwrap();
    assert_eq!(s.schema_name, "main");
    assert!(s.synced_at.is_some() && s.sync_all);
}

fn report_of_added(names: &[&str]) -> SyncReport {
    report(names, &[], &[], &[])
}

#[test]
fn a_sync_reports_the_tables_added_removed_and_changed_in_the_source() {
    let w = world();
    let src = SqliteSource::new();
    let ds = sqlite_datasource(&w, &src);
    let (schema, _) = main_schema(&w, &ds, true);
    src.exec(
        "CREATE TABLE products (sku TEXT PRIMARY KEY, price REAL);
         DROP VIEW big_orders;
         ALTER TABLE customers ADD COLUMN born DATE;",
    );
    let r = w.catalog.sync_schema(&alice(), schema.id.into()).unwrap();
    assert_eq!(
        r,
        report(&["products"], &["big_orders"], &["customers"], &[])
    );
    let kids = list(&w, &alice(), schema.id.into(), ChildQuery::default());
    assert_eq!(
        shown(&kids),
        ["TABLE customers", "TABLE orders", "TABLE products"]
    );
    let customers = w
        .catalog
        .table(&alice(), kids[0].resource.id.into())
        .unwrap();
    let last = customers.table.columns.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.field_type),
        ("born", FieldType::Date)
    );
    // Nothing changed since: an empty report.
    assert_eq!(
        w.catalog.sync_schema(&alice(), schema.id.into()).unwrap(),
        SyncReport::default()
    );
    assert_eq!(count(&w.db, "bi_tables"), 3);
}

#[test]
fn tables_are_added_one_by_one_skipped_or_replaced_and_unknown_ones_refused() {
    let w = world();
    let src = SqliteSource::new();
    let ds = sqlite_datasource(&w, &src);
    // The schema's resource is made by the first table/create that names it.
    let r = w
        .catalog
        .add_tables(&alice(), &[tables(&ds, "main", false, &["orders"])])
        .unwrap();
    assert_eq!(r, vec![report_of_added(&["orders"])]);
    let schemas = list(&w, &alice(), ds.id.into(), ChildQuery::default());
    assert_eq!(shown(&schemas), ["SCHEMA main"]);
    let schema = schemas[0].resource.clone();

    // An unknown table refuses the whole call, naming it: nothing changes.
    let e = w
        .catalog
        .add_tables(
            &alice(),
            &[
                tables(&ds, "main", false, &["customers"]),
                tables(&ds, "main", false, &["customers", "ghosts", "goblins"]),
            ],
        )
        .unwrap_err();
    refused_on(
        e,
        "[1].tableList",
        "tables `ghosts`, `goblins` not found in schema `main`",
    );
    let e = w
        .catalog
        .add_tables(&alice(), &[tables(&ds, "nope", false, &["orders"])])
        .unwrap_err();
    refused_on(e, "[0].schemaName", "schema `nope` not found");
    let e = w
        .catalog
        .add_tables(&alice(), &[tables(&ds, "main", false, &[])])
        .unwrap_err();
    refused_on(e, "[0].tableList", "must name 1 to");
    assert_eq!(
        shown(&list(&w, &alice(), schema.id.into(), ChildQuery::default())),
        ["TABLE orders"]
    );

    // Already there: skipped; with override: re-read, and reported when its columns moved.
    src.exec("ALTER TABLE orders ADD COLUMN note TEXT;");
    let r = w
        .catalog
        .add_tables(
            &alice(),
            &[tables(&ds, "main", false, &["orders", "customers"])],
        )
        .unwrap();
    assert_eq!(r, vec![report(&["customers"], &[], &[], &["orders"])]);
    let orders_id = list(&w, &alice(), schema.id.into(), ChildQuery::default())
        .into_iter()
        .find(|e| e.resource.name == "orders")
        .unwrap()
        .resource
        .id;
    assert_eq!(
        w.catalog
            .table(&alice(), orders_id.into())
            .unwrap()
            .table
            .columns
            .len(),
        4
    );
    let r = w
        .catalog
        .add_tables(
            &alice(),
            &[tables(&ds, "main", true, &["orders", "customers"])],
        )
        .unwrap();
    assert_eq!(r, vec![report(&[], &[], &["orders"], &[])]);
    assert_eq!(
        w.catalog
            .table(&alice(), orders_id.into())
            .unwrap()
            .table
            .columns
            .len(),
        5
    );

    // A schema of picked tables syncs only those: the view is not added, a dropped one
    // goes.
    src.exec("DROP TABLE customers;");
    let r = w.catalog.sync_schema(&alice(), schema.id.into()).unwrap();
    assert_eq!(r, report(&[], &["customers"], &[], &[]));
    assert_eq!(
        shown(&list(&w, &alice(), schema.id.into(), ChildQuery::default())),
        ["TABLE orders"]
    );

    // table/update: alias and description; the name is the table's own.
    let t = w
        .catalog
        .update_table(
            &alice(),
            orders_id.into(),
            Describe {
                alias: Some("Orders".into()),
                desc: Some("every order".into()),
            },
        )
        .unwrap();
    assert_eq!(
        (t.name.as_str(), t.alias.as_str(), t.desc.as_str()),
        ("orders", "Orders", "every order")
    );
    let e = w
        .catalog
        .update_table(&alice(), schema.id.into(), Describe::default())
        .unwrap_err();
    refused_on(e, "id", "is a SCHEMA, not a TABLE");
}

#[test]
fn a_postgresql_datasource_is_tested_synced_and_resynced() {
    let Some(src) = PgSource::new() else {
        return;
    };
    let w = world();
    let ds = w
        .catalog
        .create_datasource(
            &alice(),
            datasource("pg-shop", "POSTGRESQL", &src.url(), Some("postgres")),
        )
        .unwrap();
    w.catalog
        .test_datasource(&alice(), TestTarget::Stored(ds.id.into()))
        .unwrap();
    let (schema, report_) = w
        .catalog
        .create_schema(
            &alice(),
            NewSchema {
                datasource: ds.id.into(),
                name: "shop".into(),
                catalog: None,
                need_sync: true,
            },
        )
        .unwrap();
    assert_eq!(report_.unwrap(), report_of_added(&["customers", "orders"]));
    let kids = list(&w, &alice(), schema.id.into(), ChildQuery::default());
    let orders = w
        .catalog
        .table(&alice(), kids[1].resource.id.into())
        .unwrap();
    let cols: Vec<(&str, FieldType, bool)> = orders
        .table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.field_type, c.nullable))
        .collect();
    assert_eq!(
        cols,
        vec![
            ("id", FieldType::Integer, false),
            ("customer_id", FieldType::Integer, false),
            ("total", FieldType::Double, true),
            ("placed_at", FieldType::Datetime, true),
        ]
    );
    src.exec(
        "CREATE TABLE shop.refunds (id BIGINT PRIMARY KEY);
         DROP TABLE shop.customers;
         ALTER TABLE shop.orders ADD COLUMN note TEXT;",
    );
    let r = w.catalog.sync_schema(&alice(), schema.id.into()).unwrap();
    assert_eq!(r, report(&["refunds"], &["customers"], &["orders"], &[]));

    // A wrong database name fails, naming the datasource.
    let bad = w
        .catalog
        .create_datasource(
            &alice(),
            datasource(
                "pg-missing",
                "POSTGRESQL",
                &format!("{}_nope", src.url()),
                Some("postgres"),
            ),
        )
        .unwrap();
    let e = w
        .catalog
        .test_datasource(&alice(), TestTarget::Stored(bad.id.into()))
        .unwrap_err();
    let m = message(&e);
    assert!(
        m.starts_with(&format!("datasource {} (pg-missing): ", bad.id)),
        "{m}"
    );
}

#[test]
fn folders_nest_and_child_lists_filter_walk_and_show_paths() {
    let w = world();
    let folder = |parent: ResourceRef, name: &str| {
        w.catalog
            .create_folder(
                &alice(),
                NewFolder {
                    parent,
                    name: name.into(),
                    alias: None,
                    desc: None,
                },
            )
            .unwrap()
    };
    let sales = folder(PUBLIC, "sales");
    let europe = folder(sales.id.into(), "europe");
    folder(sales.id.into(), "Asia");
    folder(PUBLIC, "archive");
    let src = SqliteSource::new();
    let mut req = datasource("by-folder", "SQLITE", &src.url(), None);
    req.parent = Some(europe.id.into());
    let ds = w.catalog.create_datasource(&alice(), req).unwrap();
    main_schema(&w, &ds, true);

    // Children only, folders first then by name.
    assert_eq!(
        shown(&list(&w, &alice(), PUBLIC, ChildQuery::default())),
        ["DEFAULT_TREENODE archive", "DEFAULT_TREENODE sales"]
    );
    assert_eq!(
        shown(&list(&w, &alice(), sales.id.into(), ChildQuery::default())),
        ["DEFAULT_TREENODE Asia", "DEFAULT_TREENODE europe"]
    );
    // The whole subtree, a node before what is under it, with paths.
    let all = list(
        &w,
        &alice(),
        sales.id.into(),
        ChildQuery {
            include_descendants: true,
            need_path: true,
            ..ChildQuery::default()
        },
    );
    let paths: Vec<&str> = all.iter().map(|e| e.path.as_deref().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "/PUBLIC/sales/Asia",
            "/PUBLIC/sales/europe",
            "/PUBLIC/sales/europe/by-folder",
            "/PUBLIC/sales/europe/by-folder/main",
            "/PUBLIC/sales/europe/by-folder/main/big_orders",
            "/PUBLIC/sales/europe/by-folder/main/customers",
            "/PUBLIC/sales/europe/by-folder/main/orders",
        ]
    );
    // Types filter what is listed, not what is walked.
    let only = |types: &[ResourceType], deep: bool| {
        list(
            &w,
            &alice(),
            PUBLIC,
            ChildQuery {
                types: Some(types.iter().copied().collect::<BTreeSet<_>>()),
                include_descendants: deep,
                need_path: false,
            },
        )
    };
    assert_eq!(
        shown(&only(&[ResourceType::Table], true)),
        ["TABLE big_orders", "TABLE customers", "TABLE orders"]
    );
    assert!(only(&[ResourceType::Table], false).is_empty());
    assert_eq!(
        shown(&only(
            &[ResourceType::Datasource, ResourceType::Schema],
            true
        )),
        ["DATASOURCE by-folder", "SCHEMA main"]
    );
    assert!(only(&[ResourceType::DataModel], true).is_empty());
    assert!(all.iter().all(|e| e.path.is_some()));
    assert!(
        list(&w, &alice(), PUBLIC, ChildQuery::default())
            .iter()
            .all(|e| e.path.is_none())
    );

    // resource/get: the node with its path and creator; the roots by their keys.
    let info = w.catalog.resource(&alice(), europe.id.into()).unwrap();
    assert_eq!(info.path, "/PUBLIC/sales/europe");
    assert_eq!(
        (
            info.resource.creator_name.as_str(),
            info.resource.creator_id
        ),
        ("Alice", Some(Id(7)))
    );
    let root = w.catalog.resource(&alice(), PUBLIC).unwrap();
    assert_eq!(
        (
            root.resource.api_id().as_str(),
            root.path.as_str(),
            root.resource.alias.as_str()
        ),
        ("PUBLIC", "/PUBLIC", "公共空间")
    );
    let root = w.catalog.resource(&alice(), DS).unwrap();
    assert_eq!(root.resource.alias, "数据连接");
    assert_eq!(root.resource.kind, ResourceType::Folder);

    // folder/update: alias and description only; empty alias falls back to the name.
    let f = w
        .catalog
        .update_folder(
            &alice(),
            europe.id.into(),
            Describe {
                alias: Some("Europe".into()),
                desc: Some("EU and UK".into()),
            },
        )
        .unwrap();
    assert_eq!((f.alias.as_str(), f.desc.as_str()), ("Europe", "EU and UK"));
    let f = w
        .catalog
        .update_folder(
            &alice(),
            europe.id.into(),
            Describe {
                alias: Some("".into()),
                desc: None,
            },
        )
        .unwrap();
    assert_eq!((f.alias.as_str(), f.desc.as_str()), ("europe", "EU and UK"));

    // Refusals: a duplicate sibling (exact names: another case is another name), a folder
    // under a datasource, a root's description, a bad name.
    let again = |parent: ResourceRef, name: &str| {
        w.catalog
            .create_folder(
                &alice(),
                NewFolder {
                    parent,
                    name: name.into(),
                    alias: None,
                    desc: None,
                },
            )
            .unwrap_err()
    };
    let e = again(sales.id.into(), "europe");
    assert_eq!(e.problem().code, "name_repeated");
    refused_on(
        e,
        "name",
        "already holds a DEFAULT_TREENODE named \"europe\"",
    );
    folder(sales.id.into(), "Europe");
    refused_on(
        again(ds.id.into(), "x"),
        "parentId",
        "is a DATASOURCE, not a DEFAULT_TREENODE",
    );
    refused_on(again(PUBLIC, &"x".repeat(200)), "name", "at most 128");
    let e = w
        .catalog
        .update_folder(&alice(), PUBLIC, Describe::default())
        .unwrap_err();
    refused_on(e, "id", "PUBLIC is a root folder");
}

#[test]
fn a_delete_takes_the_whole_subtree_in_one_transaction() {
    let w = world();
    let src = SqliteSource::new();
    let ds = sqlite_datasource(&w, &src);
    let (schema, _) = main_schema(&w, &ds, true);
    let keep = w
        .catalog
        .create_folder(
            &alice(),
            NewFolder {
                parent: PUBLIC,
                name: "keep".into(),
                alias: None,
                desc: None,
            },
        )
        .unwrap();
    assert_eq!(count(&w.db, "bi_tables"), 3);

    // One unknown id among them: nothing is deleted.
    let e = w
        .catalog
        .delete(&alice(), &[ds.id.into(), ResourceRef::Id(Id(777))])
        .unwrap_err();
    not_found(e, 777);
    assert_eq!(count(&w.db, "bi_tables"), 3);
    // The roots stay.
    let e = w.catalog.delete(&alice(), &[DS]).unwrap_err();
    refused_on(
        e,
        "id",
        "DATA_SOURCES is a root folder, which cannot be deleted",
    );

    // A datasource (and a schema under it, named too): everything under it goes.
    let gone = w
        .catalog
        .delete(&alice(), &[schema.id.into(), ds.id.into()])
        .unwrap();
    assert_eq!(gone.len(), 2);
    for table in ["bi_tables", "bi_schemas", "bi_datasources"] {
        assert_eq!(count(&w.db, table), 0, "{table}");
    }
    not_found(
        w.catalog.resource(&alice(), ds.id.into()).unwrap_err(),
        ds.id,
    );
    not_found(
        w.catalog
            .sync_schema(&alice(), schema.id.into())
            .unwrap_err(),
        schema.id,
    );
    assert!(list(&w, &alice(), DS, ChildQuery::default()).is_empty());
    // 2 roots and the folder kept.
    assert_eq!(count(&w.db, "bi_resources"), 3);
    w.catalog.resource(&alice(), keep.id.into()).unwrap();
}

#[test]
fn another_tenants_resources_answer_not_found() {
    let w = world();
    let src = SqliteSource::new();
    let ds = sqlite_datasource(&w, &src);
    let (schema, _) = main_schema(&w, &ds, true);
    let table = list(&w, &alice(), schema.id.into(), ChildQuery::default())[0]
        .resource
        .clone();
    let m = mallory();
    let c = &w.catalog;
    not_found(c.datasource(&m, ds.id.into()).unwrap_err(), ds.id);
    not_found(
        c.test_datasource(&m, TestTarget::Stored(ds.id.into()))
            .unwrap_err(),
        ds.id,
    );
    not_found(
        c.update_datasource(&m, ds.id.into(), DatasourceChanges::default())
            .unwrap_err(),
        ds.id,
    );
    not_found(c.resource(&m, schema.id.into()).unwrap_err(), schema.id);
    not_found(c.sync_schema(&m, schema.id.into()).unwrap_err(), schema.id);
    not_found(
        c.rename_schema(&m, schema.id.into(), Some("x"))
            .unwrap_err(),
        schema.id,
    );
    not_found(
        c.update_table(&m, table.id.into(), Describe::default())
            .unwrap_err(),
        table.id,
    );
    not_found(
        c.child_list(&m, ds.id.into(), &ChildQuery::default())
            .unwrap_err(),
        ds.id,
    );
    not_found(c.delete(&m, &[ds.id.into()]).unwrap_err(), ds.id);
    not_found(
        c.add_tables(&m, &[tables(&ds, "main", false, &["orders"])])
            .unwrap_err(),
        ds.id,
    );
    not_found(
        c.create_folder(
            &m,
            NewFolder {
                parent: ds.id.into(),
                name: "x".into(),
                alias: None,
                desc: None,
            },
        )
        .unwrap_err(),
        ds.id,
    );
    // Their own roots are theirs, and empty.
    assert!(list(&w, &m, DS, ChildQuery::default()).is_empty());
    assert_ne!(
        c.resource(&m, DS).unwrap().resource.id,
        c.resource(&alice(), DS).unwrap().resource.id
    );
    // And nothing of t1 moved.
    assert_eq!(count(&w.db, "bi_tables"), 3);
}
