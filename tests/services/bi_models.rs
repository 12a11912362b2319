//! Data models, row permissions and model queries on real storage (both backends) with
//! the real drivers: an SQLite datasource file made in a temporary folder, and a scratch
//! database on the PostgreSQL `WEIR_TEST_PG_DATASOURCE_URL` names (user `postgres`) and on the
//! MariaDB of `WEIR_TEST_MYSQL_URL`, dropped at the end; those tests are skipped without them.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value as Json, json};
use weir_bi_catalog::augmented::{
    Aggregator, Dimension, LinkType, Measure, ModelDefinition, Relation, View,
};
use weir_bi_catalog::catalog::{
    AesGcmSealer, Caller, CatalogError, CatalogPorts, CatalogService, CatalogSettings, ChildQuery,
    ConnectionFields, ExtractType, GrantRule, NewDatasource, NewFolder, NewModel, NewSchema,
    QueryAnswer, RejectedItem, Resource, ResourceRef, ResourceType, Root, StoreType,
};
use weir_bi_catalog::drivers::FieldType;
use weir_bi_catalog::query::{FieldFilter, Operator, OrderBy, QueryRequest};
use weir_bi_catalog::row_perms::RowPermItem;
use weir_kernel::{AsProblem, Id, IdGenerator, ProblemKind, SystemClock};
use weir_storage::Database;
use weir_storage::testing::TestDatabase;
use weir_test_kit::external::{self, Address};

use crate::tenant;

struct World {
    catalog: CatalogService,
    db: Database,
    _place: TestDatabase,
}

fn world_with(settings: CatalogSettings) -> World {
    let (place, db) = crate::database_with_tenants();
    let sealer = Arc::new(AesGcmSealer::from_hex(&AesGcmSealer::random_key_hex()).unwrap());
    World {
        catalog: CatalogService::new(
            CatalogPorts {
                store: Arc::new(db.clone()),
                drivers: Arc::new(crate::local_drivers(&place)),
                sealer,
                ids: Arc::new(IdGenerator::new(5, Box::new(SystemClock))),
                clock: Arc::new(SystemClock),
            },
            settings,
        ),
        db,
        _place: place,
    }
}

fn world() -> World {
    world_with(CatalogSettings::default())
}

/// The tenant's author of models; in no role.
fn alice() -> Caller {
    Caller::user(tenant("t1"), Id(7), "Alice").with_super_admin(true)
}

/// The role row permissions name in these tests.
const NORTH_ROLE: Id = Id(70);

/// A member of [`NORTH_ROLE`] (and of another role).
fn bob() -> Caller {
    Caller::user(tenant("t1"), Id(8), "Bob").with_roles([Id(71), NORTH_ROLE])
}

fn mallory() -> Caller {
    Caller::user(tenant("t2"), Id(9), "Mallory").with_super_admin(true)
}

use crate::count;

fn message(e: &CatalogError) -> String {
    e.problem().message
}

fn not_found(e: CatalogError, id: impl std::fmt::Display) {
    let p = e.problem();
    assert_eq!(p.kind, ProblemKind::NotFound, "{}", p.message);
    assert_eq!(p.message, format!("resource {id} not found"));
}

/// The problems of a refusal of several fields, as `field: message` each.
fn problems(e: CatalogError) -> Vec<String> {
    let p = e.problem();
    assert_eq!(
        (p.kind, p.code),
        (ProblemKind::Invalid, "parameter_validation_failed"),
        "{}",
        p.message
    );
    e.problems()
        .unwrap_or_else(|| panic!("not a refusal of fields: {e}"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

// ---- the datasources ----

/// The rows every source holds: customers (id, region, credit, tier) and orders (id,
/// customer_id, amount, status).
const FIXTURE: &str = "
    INSERT INTO {c} VALUES (1, 'north', 100, 'gold');
    INSERT INTO {c} VALUES (2, 'north', 50, 'basic');
    INSERT INTO {c} VALUES (3, 'south', 10, 'basic');
    INSERT INTO {o} VALUES (1, 1, 5, 'paid');
    INSERT INTO {o} VALUES (2, 1, 7, 'paid');
    INSERT INTO {o} VALUES (3, 1, 1, 'open');
    INSERT INTO {o} VALUES (4, 2, 2, 'paid');
    INSERT INTO {o} VALUES (5, 3, 4, 'open');";

fn fixture(customers: &str, orders: &str) -> String {
    FIXTURE.replace("{c}", customers).replace("{o}", orders)
}

/// An SQLite database file in a temporary folder.
struct SqliteShop {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteShop {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let s = Self { _dir: dir, path };
        s.exec(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT NOT NULL, credit REAL,
                                     tier TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                                  amount REAL, status TEXT);",
        );
        s.exec(&fixture("customers", "orders"));
        s
    }

    fn exec(&self, sql: &str) {
        rusqlite::Connection::open(&self.path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }

    fn datasource(&self) -> NewDatasource {
        new_datasource(
            "shop",
            "SQLITE",
            &format!("jdbc:sqlite:{}", self.path.display()),
            None,
        )
    }
}

/// A scratch database on the local PostgreSQL with a `shop` schema, dropped at the end.
struct PgShop {
    db: crate::scratch_pg::ScratchPg,
}

impl PgShop {
    fn new() -> Option<Self> {
        let s = Self {
            db: crate::scratch_pg::ScratchPg::new("weir_bi_models")?,
        };
        s.exec(
            "CREATE SCHEMA shop;
             CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, region VARCHAR(20) NOT NULL,
                                          credit NUMERIC(10, 2), tier TEXT);
             CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL,
                                       amount NUMERIC(10, 2), status TEXT);",
        );
        s.exec(&fixture("shop.customers", "shop.orders"));
        Some(s)
    }

    fn exec(&self, sql: &str) {
        self.db.exec(sql);
    }

    fn datasource(&self) -> NewDatasource {
        new_datasource(
            "pg-shop",
            "POSTGRESQL",
            &self.db.jdbc_url(),
            Some("postgres"),
        )
    }
}

/// A scratch database on the MariaDB of `WEIR_TEST_MYSQL_URL`, dropped at the end.
struct MariaShop {
    server: Address,
    name: String,
}

impl MariaShop {
    fn admin(server: &Address) -> mysql::Conn {
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(server.host.clone()))
            .tcp_port(server.port)
            .user(server.user.clone())
            .pass(server.password.clone())
            .prefer_socket(false);
        mysql::Conn::new(opts).unwrap_or_else(|e| panic!("MariaDB at {}: {e}", server.url))
    }

    /// `None` when `WEIR_TEST_MYSQL_URL` is unset (the test is skipped).
    fn new() -> Option<Self> {
        use mysql::prelude::Queryable;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "weir_bi_maria_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let server = external::mariadb()?;
        let mut c = Self::admin(&server);
        c.query_drop(format!("CREATE DATABASE `{name}`")).unwrap();
        c.query_drop(format!("USE `{name}`")).unwrap();
        c.query_drop(
            "CREATE TABLE customers (id BIGINT PRIMARY KEY, region VARCHAR(20) NOT NULL,
                                     credit DECIMAL(10, 2), tier TEXT)",
        )
        .unwrap();
        c.query_drop(
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL,
                                  amount DECIMAL(10, 2), status TEXT)",
        )
        .unwrap();
        for statement in fixture("customers", "orders").split(';') {
            if !statement.trim().is_empty() {
                c.query_drop(statement).unwrap();
            }
        }
        Some(Self { server, name })
    }

    fn datasource(&self) -> NewDatasource {
        new_datasource(
            "maria-shop",
            "MARIADB",
            &format!("jdbc:mariadb://{}/{}", self.server.host_port(), self.name),
            self.server.user.as_deref(),
        )
    }
}

impl Drop for MariaShop {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let _ = Self::admin(&self.server)
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

fn new_datasource(name: &str, driver_type: &str, url: &str, user: Option<&str>) -> NewDatasource {
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

/// The synced tables of a source.
struct Shop {
    schema: Resource,
    customers: Id,
    orders: Id,
}

/// Registers the datasource and syncs `schema`; answers its tables.
fn synced(w: &World, c: &Caller, ds: NewDatasource, schema: &str) -> Shop {
    let ds = w.catalog.create_datasource(c, ds).unwrap();
    let (schema, _) = w
        .catalog
        .create_schema(
            c,
            NewSchema {
                datasource: ds.id.into(),
                name: schema.into(),
                catalog: None,
                need_sync: true,
            },
        )
        .unwrap();
    let tables = w
        .catalog
        .child_list(c, schema.id.into(), &ChildQuery::default())
        .unwrap();
    let id = |name: &str| {
        tables
            .iter()
            .find(|e| e.resource.name == name)
            .unwrap_or_else(|| panic!("no table {name}"))
            .resource
            .id
    };
    Shop {
        customers: id("customers"),
        orders: id("orders"),
        schema,
    }
}

// ---- models ----

fn dim(name: &str, view: &str) -> Dimension {
    Dimension {
        name: name.into(),
        alias: None,
        view: view.into(),
        value_type: None,
    }
}

fn measure(name: &str, alias: &str, view: &str, aggregator: Aggregator) -> Measure {
    Measure {
        name: name.into(),
        alias: Some(alias.into()),
        view: view.into(),
        aggregator,
    }
}

/// Customers `c` one-to-many orders `o`: dimensions region and status, measures credit
/// (of customers), sales and orders (of orders).
fn definition(shop: &Shop) -> ModelDefinition {
    ModelDefinition {
        views: vec![
            View {
                table_id: shop.customers,
                name: "c".into(),
                alias: Some("Customers".into()),
            },
            View {
                table_id: shop.orders,
                name: "o".into(),
                alias: None,
            },
        ],
        dimensions: vec![dim("region", "c"), dim("status", "o")],
        measures: vec![
            measure("credit", "credit", "c", Aggregator::Sum),
            measure("amount", "sales", "o", Aggregator::Sum),
            measure("id", "orders", "o", Aggregator::Count),
        ],
        relations: vec![Relation {
            src_view: "c".into(),
            dest_view: "o".into(),
            link: LinkType::LeftJoin,
            src_field: "id".into(),
            dest_field: "customer_id".into(),
        }],
    }
}

fn new_model(name: &str, definition: ModelDefinition) -> NewModel {
    NewModel {
        parent: None,
        name: name.into(),
        alias: None,
        desc: None,
        store_type: None,
        extract_type: None,
        definition,
    }
}

fn create(w: &World, shop: &Shop) -> Resource {
    w.catalog
        .create_model(&alice(), new_model("sales", definition(shop)))
        .unwrap()
}

/// Bob may query the model (resource permissions: a plain user needs `read` on it), through
/// his other role.
fn let_bob_read(w: &World, m: &Resource) {
    w.catalog
        .set_grants(
            &alice(),
            m.id.into(),
            &[GrantRule {
                roles: vec!["71".into()],
                auth: Some("read".into()),
                ..GrantRule::default()
            }],
            false,
        )
        .unwrap();
}

fn ask(dims: &[&str], measures: &[&str]) -> QueryRequest {
    QueryRequest {
        dimensions: dims.iter().map(|s| s.to_string()).collect(),
        measures: measures.iter().map(|s| s.to_string()).collect(),
        order: dims
            .iter()
            .map(|d| OrderBy {
                field: d.to_string(),
                descending: false,
            })
            .collect(),
        ..QueryRequest::default()
    }
}

/// The rows a caller gets, numbers as f64 (PostgreSQL answers numeric sums as JSON
/// numbers that may print `150.00`-like; SQLite reals).
fn rows(w: &World, c: &Caller, model: &Resource, req: &QueryRequest) -> Vec<Vec<Json>> {
    match w
        .catalog
        .query_model(c, model.id.into(), req, false)
        .unwrap()
    {
        QueryAnswer::Rows(r) => r
            .rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| match v {
                        Json::Number(n) => json!(n.as_f64().unwrap()),
                        other => other,
                    })
                    .collect()
            })
            .collect(),
        QueryAnswer::Statement(s) => panic!("a statement: {s:?}"),
    }
}

fn item(v: Json) -> RowPermItem {
    serde_json::from_value(v).unwrap()
}

/// Customers of the north only, for the members of [`NORTH_ROLE`].
fn north_only() -> RowPermItem {
    item(
        json!({"itemName": "north only", "role": [NORTH_ROLE.to_string()],
        "expression": {"type": "FILTER", "fieldId": "region", "operator": "=",
                       "value": "north"}}),
    )
}

// ---- the tests ----

#[test]
fn a_model_is_stored_under_a_folder_listed_read_back_and_deleted_with_it() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let m = create(&w, &shop);
    assert_eq!(
        (m.kind, m.alias.as_str(), m.creator_name.as_str()),
        (ResourceType::DataModel, "sales", "Alice")
    );
    let v = w.catalog.model(&alice(), m.id.into()).unwrap();
    assert_eq!(v.path, "/PUBLIC/sales");
    assert_eq!(v.model.definition, definition(&shop));
    // Smartbi's defaults: extracted, per run. Weir queries live either way.
    assert_eq!(
        (v.model.store_type, v.model.extract_type),
        (StoreType::Extract, ExtractType::Realtime)
    );
    let public = w
        .catalog
        .child_list(&alice(), Root::Public.into(), &ChildQuery::default())
        .unwrap();
    assert_eq!(
        public
            .iter()
            .map(|e| (e.resource.kind, e.resource.name.as_str()))
            .collect::<Vec<_>>(),
        [(ResourceType::DataModel, "sales")]
    );

    // Under a folder of its own, with the types sent in any case.
    let folder = w
        .catalog
        .create_folder(
            &alice(),
            NewFolder {
                parent: Root::Public.into(),
                name: "finance".into(),
                alias: None,
                desc: None,
            },
        )
        .unwrap();
    let mut req = new_model("direct sales", definition(&shop));
    req.parent = Some(folder.id.into());
    req.alias = Some("Direct sales".into());
    req.store_type = Some("direct".into());
    req.extract_type = Some("FULL".into());
    let inner = w.catalog.create_model(&alice(), req).unwrap();
    let v = w.catalog.model(&alice(), inner.id.into()).unwrap();
    assert_eq!(v.path, "/PUBLIC/finance/direct sales");
    assert_eq!(
        (v.model.store_type, v.model.extract_type),
        (StoreType::Direct, ExtractType::Full)
    );
    let all = w
        .catalog
        .child_list(
            &alice(),
            Root::Public.into(),
            &ChildQuery {
                types: Some([ResourceType::DataModel].into()),
                include_descendants: true,
                need_path: true,
            },
        )
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|e| e.path.clone().unwrap())
            .collect::<Vec<_>>(),
        ["/PUBLIC/finance/direct sales", "/PUBLIC/sales"]
    );
    assert_eq!(count(&w.db, "bi_models"), 2);

    // Deleting the folder deletes the model in it; the other stays.
    w.catalog.delete(&alice(), &[folder.id.into()]).unwrap();
    not_found(
        w.catalog.model(&alice(), inner.id.into()).unwrap_err(),
        inner.id,
    );
    assert_eq!(count(&w.db, "bi_models"), 1);
    // augmented/get of something that is not a model says so.
    let e = w
        .catalog
        .model(&alice(), shop.customers.into())
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "id: resource {} is a TABLE, not a AUGMENTED_DATASET",
            shop.customers
        )
    );
    // Another tenant does not see it.
    not_found(w.catalog.model(&mallory(), m.id.into()).unwrap_err(), m.id);
}

#[test]
fn a_bad_model_is_refused_naming_every_field_and_nothing_is_stored() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let models = |w: &World| {
        count(
            &w.db,
            "bi_resources WHERE resource_type = 'AUGMENTED_DATASET'",
        )
    };

    let mut def = definition(&shop);
    def.views.push(View {
        table_id: Id(424242),
        name: "x".into(),
        alias: None,
    });
    def.dimensions[0].name = "regio".into();
    def.measures[1].name = "amout".into();
    def.measures[2].view = "orderz".into();
    def.relations[0].dest_field = "cust".into();
    let mut req = new_model(" ", def);
    req.store_type = Some("CACHED".into());
    let e = w.catalog.create_model(&alice(), req).unwrap_err();
    assert_eq!(
        problems(e),
        [
            "name: is required",
            "storeType: DIRECT or EXTRACT, not CACHED",
            "views[2].id: table 424242 not found",
            "dimensions[0].name: column regio not found in view c (main.customers)",
            "measures[1].name: column amout not found in view o (main.orders)",
            "measures[2].name: view orderz is not one of the model's views",
            "relations[0].destFieldName: column cust not found in view o (main.orders)",
        ]
    );

    // A numeric SUM, distinct output names, a tree of relations (checked once the
    // fields are right).
    let mut def = definition(&shop);
    def.measures[0].name = "region".into();
    def.dimensions[1].alias = Some("region".into());
    let e = w
        .catalog
        .create_model(&alice(), new_model("m", def))
        .unwrap_err();
    assert_eq!(
        problems(e),
        [
            "dimensions[1].alias: region names another field of the model",
            "measures[0].aggregator: SUM needs a numeric column; region is not",
        ]
    );
    let mut def = definition(&shop);
    def.relations.clear();
    let e = w
        .catalog
        .create_model(&alice(), new_model("m", def))
        .unwrap_err();
    assert_eq!(
        problems(e),
        ["relations: 2 views need 1 relations joining them into one tree, not 0"]
    );

    // Another tenant's tables are not found; neither is a folder of theirs.
    let theirs = SqliteShop::new();
    let their_shop = synced(&w, &mallory(), theirs.datasource(), "main");
    let e = w
        .catalog
        .create_model(&alice(), new_model("m", definition(&their_shop)))
        .unwrap_err();
    assert_eq!(
        problems(e),
        [
            format!("views[0].id: table {} not found", their_shop.customers),
            format!("views[1].id: table {} not found", their_shop.orders),
        ]
    );
    let mut req = new_model("m", definition(&shop));
    req.parent = Some(their_shop.schema.id.into());
    not_found(
        w.catalog.create_model(&alice(), req).unwrap_err(),
        their_shop.schema.id,
    );
    // The parent must be a folder.
    let mut req = new_model("m", definition(&shop));
    req.parent = Some(shop.schema.id.into());
    assert_eq!(
        message(&w.catalog.create_model(&alice(), req).unwrap_err()),
        format!(
            "pid: resource {} is a SCHEMA, not a DEFAULT_TREENODE",
            shop.schema.id
        )
    );
    assert_eq!(models(&w), 0);
    assert_eq!(count(&w.db, "bi_models"), 0);

    // A name taken among the folder's children.
    create(&w, &shop);
    let e = w
        .catalog
        .create_model(&alice(), new_model("sales", definition(&shop)));
    let e = e.unwrap_err();
    assert_eq!(e.problem().code, "name_repeated");
    assert!(
        message(&e).starts_with(
            "name: DEFAULT_TREENODE PUBLIC already holds a AUGMENTED_DATASET named \"sales\""
        ),
        "{}",
        message(&e)
    );
    assert_eq!(count(&w.db, "bi_models"), 1);
}

#[test]
fn row_permissions_are_checked_one_by_one_appended_replaced_and_overridden() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let t: ResourceRef = shop.customers.into();
    let gold = item(json!({"itemName": "gold", "user": ["8"], "expression": {
        "type": "EXPRESSION", "operator": "OR", "expressions": [
            {"type": "FILTER", "fieldId": "tier", "value": "gold"},
            {"type": "FILTER", "fieldId": "credit", "operator": ">", "value": "1",
             "valueType": "DOUBLE"}]}}));
    let ghost = item(json!({"itemName": "ghost", "expression": {
        "type": "FILTER", "fieldId": "ghost", "value": "x"}}));
    let rejected = w
        .catalog
        .set_row_perms(
            &alice(),
            t,
            vec![north_only(), ghost, gold, north_only()],
            false,
        )
        .unwrap();
    assert_eq!(
        rejected,
        [
            RejectedItem {
                index: 1,
                item_name: "ghost".into(),
                message: "expression.fieldId: the table has no column ghost".into(),
            },
            RejectedItem {
                index: 2,
                item_name: "gold".into(),
                message: "expression.expressions[1].operator: > is not a row permission operator"
                    .into(),
            },
            RejectedItem {
                index: 3,
                item_name: "north only".into(),
                message:
                    "itemName `north only` is given twice in rowpermItems: only the first counts"
                        .into(),
            },
        ]
    );
    let names = |w: &World| -> Vec<String> {
        w.catalog
            .row_perms(&alice(), t)
            .unwrap()
            .into_iter()
            .map(|i| i.item_name)
            .collect()
    };
    assert_eq!(names(&w), ["north only"]);
    // As the API answers it: defaults filled in.
    assert_eq!(
        serde_json::to_value(&w.catalog.row_perms(&alice(), t).unwrap()[0]).unwrap(),
        json!({"itemName": "north only", "applicable": 1, "user": [], "group": [],
               "role": [NORTH_ROLE.to_string()],
               "expression": {"type": "FILTER", "fieldId": "region", "value": "north",
                              "operator": "="}})
    );

    // Appending: a new name goes last; a stored name is replaced in its place.
    let tier = item(json!({"itemName": "basic", "applicable": 0, "user": ["7"],
        "expression": {"type": "FILTER", "fieldId": "tier", "operator": "in",
                       "value": "basic, silver"}}));
    let mut south = north_only();
    south.expression.value = Some(json!("south"));
    south.item_name = "  north only ".into();
    assert!(
        w.catalog
            .set_row_perms(&alice(), t, vec![tier.clone(), south], false)
            .unwrap()
            .is_empty()
    );
    assert_eq!(names(&w), ["north only", "basic"]);
    assert_eq!(
        w.catalog.row_perms(&alice(), t).unwrap()[0]
            .expression
            .value,
        Some(json!("south"))
    );
    // Overriding: exactly the valid items sent; an empty list removes them all.
    let rejected = w
        .catalog
        .set_row_perms(
            &alice(),
            t,
            vec![
                item(json!({"itemName": "", "expression": {"type": "FILTER"}})),
                tier,
            ],
            true,
        )
        .unwrap();
    assert_eq!(rejected[0].message, "itemName is required");
    assert_eq!(names(&w), ["basic"]);
    assert!(
        w.catalog
            .set_row_perms(&alice(), shop.orders.into(), vec![north_only()], true)
            .unwrap()[0]
            .message
            .contains("the table has no column region")
    );
    assert!(
        w.catalog
            .set_row_perms(&alice(), t, Vec::new(), true)
            .unwrap()
            .is_empty()
    );
    assert!(names(&w).is_empty());

    // Only tables of the caller's tenant.
    assert_eq!(
        message(
            &w.catalog
                .set_row_perms(&alice(), shop.schema.id.into(), vec![north_only()], false)
                .unwrap_err()
        ),
        format!("id: resource {} is a SCHEMA, not a TABLE", shop.schema.id)
    );
    not_found(
        w.catalog
            .set_row_perms(&mallory(), t, vec![north_only()], false)
            .unwrap_err(),
        shop.customers,
    );
    not_found(
        w.catalog.row_perms(&mallory(), t).unwrap_err(),
        shop.customers,
    );

    // A table's items go with it: dropped at the source and synced away.
    w.catalog
        .set_row_perms(&alice(), t, vec![north_only()], false)
        .unwrap();
    assert_eq!(count(&w.db, "bi_row_perms"), 1);
    src.exec("DROP TABLE customers;");
    w.catalog
        .sync_schema(&alice(), shop.schema.id.into())
        .unwrap();
    assert_eq!(count(&w.db, "bi_row_perms"), 0);
}

/// The same answers from a model on any datasource.
fn check_queries(w: &World, shop: &Shop, schema: &str) {
    let m = create(w, shop);
    let_bob_read(w, &m);
    // A one-side measure by a many-side dimension: each customer's credit once per status
    // they have orders in (a plain join would say paid: 250).
    assert_eq!(
        rows(w, &alice(), &m, &ask(&["status"], &["credit"])),
        [[json!("open"), json!(110.0)], [json!("paid"), json!(150.0)]]
    );
    // Measures of both views by region.
    assert_eq!(
        rows(
            w,
            &alice(),
            &m,
            &ask(&["region"], &["credit", "sales", "orders"])
        ),
        [
            [json!("north"), json!(150.0), json!(15.0), json!(4.0)],
            [json!("south"), json!(10.0), json!(4.0), json!(1.0)]
        ]
    );
    // Filters: status starting with "pa", and region in a list.
    let mut req = ask(&["region"], &["sales"]);
    req.filters = vec![
        FieldFilter {
            field: "status".into(),
            operator: Operator::StartsWith,
            values: vec![json!("pa")],
        },
        FieldFilter {
            field: "region".into(),
            operator: Operator::In,
            values: vec![json!("north"), json!("south")],
        },
    ];
    assert_eq!(rows(w, &alice(), &m, &req), [[json!("north"), json!(14.0)]]);
    let mut req = ask(&["status"], &["sales"]);
    req.order = vec![OrderBy {
        field: "sales".into(),
        descending: true,
    }];
    req.limit = Some(1);
    assert_eq!(rows(w, &alice(), &m, &req), [[json!("paid"), json!(14.0)]]);

    // A row permission on customers narrows the members of the role it names, on every
    // query reading customers; others see every row.
    assert!(
        w.catalog
            .set_row_perms(&alice(), shop.customers.into(), vec![north_only()], false)
            .unwrap()
            .is_empty()
    );
    let by_region = ask(&["region"], &["sales"]);
    assert_eq!(
        rows(w, &bob(), &m, &by_region),
        [[json!("north"), json!(15.0)]]
    );
    assert_eq!(
        rows(w, &alice(), &m, &by_region),
        [[json!("north"), json!(15.0)], [json!("south"), json!(4.0)]]
    );
    // A query of orders alone is narrowed too: only the orders of northern customers.
    assert_eq!(
        rows(w, &bob(), &m, &ask(&["status"], &["sales", "orders"])),
        [
            [json!("open"), json!(1.0), json!(1.0)],
            [json!("paid"), json!(14.0), json!(3.0)]
        ]
    );
    // Customers' credit by status reads customers: narrowed.
    assert_eq!(
        rows(w, &bob(), &m, &ask(&["status"], &["credit"])),
        [[json!("open"), json!(100.0)], [json!("paid"), json!(150.0)]]
    );

    // A dry run answers the statement and its bound values, the permission's included.
    let QueryAnswer::Statement(st) = w
        .catalog
        .query_model(&bob(), m.id.into(), &by_region, true)
        .unwrap()
    else {
        panic!("not a statement");
    };
    assert!(st.sql.contains("customers"), "{}", st.sql);
    assert!(st.sql.contains(schema), "{}", st.sql);
    assert!(st.sql.ends_with("LIMIT 10000"), "{}", st.sql);
    assert!(st.params.contains(&json!("north")), "{:?}", st.params);
    assert!(!st.sql.contains("'north'"), "{}", st.sql);

    // A request naming what the model does not have.
    let mut bad = ask(&["country"], &["sales", "profit"]);
    bad.order = vec![OrderBy {
        field: "credit".into(),
        descending: false,
    }];
    assert_eq!(
        problems(
            w.catalog
                .query_model(&alice(), m.id.into(), &bad, false)
                .unwrap_err()
        ),
        [
            "dimensions[0]: the model has no dimension country",
            "measures[1]: the model has no measure profit",
            "order[0].field: credit is not one of the requested fields",
        ]
    );
    not_found(
        w.catalog
            .query_model(&mallory(), m.id.into(), &by_region, false)
            .unwrap_err(),
        m.id,
    );
}

#[test]
fn a_model_may_name_only_tables_its_author_may_read() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let grant = |on: ResourceRef, auth: &str| {
        w.catalog
            .set_grants(
                &alice(),
                on,
                &[GrantRule {
                    roles: vec!["71".into()],
                    auth: Some(auth.into()),
                    ..GrantRule::default()
                }],
                false,
            )
            .unwrap();
    };
    // Bob may write in PUBLIC, but may not read the tables: his model cannot name them.
    grant(Root::Public.into(), "edit");
    let e = w
        .catalog
        .create_model(&bob(), new_model("mine", definition(&shop)))
        .unwrap_err();
    let problems = problems(e);
    assert!(
        problems.contains(&format!("views[0].id: table {} not found", shop.customers)),
        "{problems:?}"
    );
    // With read on the schema (and so on its tables), he may.
    grant(shop.schema.id.into(), "read");
    w.catalog
        .create_model(&bob(), new_model("mine", definition(&shop)))
        .unwrap();
}

#[test]
fn an_sqlite_model_answers_exact_rows_narrowed_by_row_permissions() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    check_queries(&w, &shop, "\"customers\"");
}

#[test]
fn a_postgresql_model_answers_the_same_rows() {
    let Some(src) = PgShop::new() else {
        return;
    };
    let w = world();
    let shop = synced(&w, &alice(), src.datasource(), "shop");
    let customers = w.catalog.table(&alice(), shop.customers.into()).unwrap();
    assert_eq!(customers.table.columns[2].field_type, FieldType::Double);
    check_queries(&w, &shop, "\"shop\".\"customers\"");
}

#[test]
fn a_mariadb_model_answers_the_same_rows() {
    let Some(src) = MariaShop::new() else {
        return;
    };
    let w = world();
    let shop = synced(&w, &alice(), src.datasource(), &src.name);
    let customers = w.catalog.table(&alice(), shop.customers.into()).unwrap();
    assert_eq!(customers.table.columns[2].field_type, FieldType::Double);
    check_queries(&w, &shop, &format!("`{}`.`customers`", src.name));
}

#[test]
fn the_row_cap_bounds_every_query() {
    let w = world_with(CatalogSettings {
        max_rows: 2,
        ..CatalogSettings::default()
    });
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let m = create(&w, &shop);
    let mut req = ask(&["status", "region"], &["sales"]);
    assert_eq!(rows(&w, &alice(), &m, &req).len(), 2);
    req.limit = Some(5);
    assert_eq!(rows(&w, &alice(), &m, &req).len(), 2);
    req.limit = Some(1);
    assert_eq!(rows(&w, &alice(), &m, &req).len(), 1);
    req.limit = Some(0);
    assert_eq!(
        message(
            &w.catalog
                .query_model(&alice(), m.id.into(), &req, false)
                .unwrap_err()
        ),
        "limit: must be at least 1"
    );
}

#[test]
fn a_column_dropped_since_is_reported_precisely() {
    let w = world();
    let src = SqliteShop::new();
    let shop = synced(&w, &alice(), src.datasource(), "main");
    let m = create(&w, &shop);
    let_bob_read(&w, &m);
    // A permission on tier (not in the model) for Bob's role.
    let gold = item(json!({"itemName": "gold", "role": [NORTH_ROLE.to_string()],
        "expression": {"type": "FILTER", "fieldId": "tier", "value": "gold"}}));
    w.catalog
        .set_row_perms(&alice(), shop.customers.into(), vec![gold], false)
        .unwrap();
    let by_region = ask(&["region"], &["credit"]);
    assert_eq!(
        rows(&w, &bob(), &m, &by_region),
        [[json!("north"), json!(100.0)]]
    );

    // tier dropped at the source and synced: Bob's permission no longer fits, and his
    // query is refused rather than widened; Alice's permission-free query still runs.
    src.exec("ALTER TABLE customers DROP COLUMN tier;");
    w.catalog
        .sync_schema(&alice(), shop.schema.id.into())
        .unwrap();
    let e = w
        .catalog
        .query_model(&bob(), m.id.into(), &by_region, false)
        .unwrap_err();
    assert_eq!(
        (e.problem().kind, e.problem().code),
        (ProblemKind::Conflict, "bi_model_outdated")
    );
    assert_eq!(
        message(&e),
        format!(
            "row permission `gold` of table {} (main.customers) no longer fits the table's \
             columns, fix it with dataperm/create: expression.fieldId: the table has no \
             column tier",
            shop.customers
        )
    );
    assert_eq!(rows(&w, &alice(), &m, &by_region).len(), 2);

    // region dropped: the model itself no longer fits, for everyone.
    src.exec("ALTER TABLE customers DROP COLUMN region;");
    w.catalog
        .sync_schema(&alice(), shop.schema.id.into())
        .unwrap();
    let e = w
        .catalog
        .query_model(&alice(), m.id.into(), &ask(&["status"], &["sales"]), true)
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "data model {} (sales) no longer fits its tables, re-create it: \
             dimensions[0].name: column region not found in view c (main.customers)",
            m.id
        )
    );
    // A table gone altogether: its view is named.
    src.exec("DROP TABLE orders;");
    w.catalog
        .sync_schema(&alice(), shop.schema.id.into())
        .unwrap();
    let e = w
        .catalog
        .query_model(&alice(), m.id.into(), &ask(&["region"], &[]), false)
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "data model {} (sales) no longer fits its tables, re-create it: views[1].id: \
             table {} not found; dimensions[0].name: column region not found in view c \
             (main.customers)",
            m.id, shop.orders
        )
    );
}
