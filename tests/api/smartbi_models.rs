//! Data models, their queries and row permissions over HTTP in the Smartbi dialect
//! (`augmented/create`, `augmented/get`, `augmented/query`, `dataperm/create`,
//! `dataperm/get`), called with bearer tokens against an SQLite datasource made in a
//! temporary folder.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{link, new_role, setup_with, two_tenants_with};
use weir_test_kit::local_reach;

type Answer = (u16, Value);

/// Calls `module/action` with `paramsInfo` as the document sends it: a JSON string in a
/// form body.
pub(crate) async fn act(app: &TestApp, who: &Session, action: &str, params: Value) -> Answer {
    let res = app
        .client()
        .post(app.url(&format!("/smartbi/vision/api/{action}")))
        .bearer_auth(&who.access_token)
        .form(&[("paramsInfo", params.to_string())])
        .send()
        .await
        .expect("request sent");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts `success: true` and returns `result`.
pub(crate) fn success(answer: &Answer) -> Value {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["success"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    body["result"].clone()
}

/// Asserts `success: false` with a `msg` that starts with `start`; returns it.
pub(crate) fn failure(answer: &Answer, start: &str) -> String {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["success"].as_bool()),
        (200, Some(false)),
        "{body}"
    );
    let msg = body["msg"].as_str().expect("msg").to_owned();
    assert!(msg.starts_with(start), "`{start}` does not start: {msg}");
    msg
}

/// An SQLite database with customers and orders, in a folder that lives as long as it.
pub(crate) struct Source {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Source {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shop.db");
        rusqlite::Connection::open(&path)
            .expect("open sqlite")
            .execute_batch(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, region TEXT NOT NULL,
                                         credit REAL);
                 CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL,
                                      amount REAL, status TEXT);
                 INSERT INTO customers VALUES (1, 'north', 100), (2, 'north', 50),
                                              (3, 'south', 10);
                 INSERT INTO orders VALUES (1, 1, 5, 'paid'), (2, 1, 7, 'paid'),
                                           (3, 1, 1, 'open'), (4, 2, 2, 'paid'),
                                           (5, 3, 4, 'open');",
            )
            .expect("tables");
        Self { _dir: dir, path }
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// The tables of the shop, synced, and their datasource.
pub(crate) struct Shop {
    pub(crate) datasource: String,
    pub(crate) customers: String,
    pub(crate) orders: String,
}

pub(crate) async fn shop(app: &TestApp, who: &Session, src: &Source) -> Shop {
    let ds = success(
        &act(
            app,
            who,
            "datasource/create",
            json!({"name": "shop", "driverType": "SQLITE",
                   "url": format!("jdbc:sqlite:{}", src.path.display())}),
        )
        .await,
    );
    let schema = success(
        &act(
            app,
            who,
            "schema/create",
            json!({"dsId": ds, "name": "main"}),
        )
        .await,
    );
    let tables = success(
        &act(
            app,
            who,
            "resource/getChildList",
            json!({"id": schema, "types": ["TABLE"]}),
        )
        .await,
    );
    let id = |name: &str| {
        tables
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("no table {name}: {tables}"))
            .to_owned()
    };
    Shop {
        datasource: ds.as_str().expect("the datasource id").to_owned(),
        customers: id("customers"),
        orders: id("orders"),
    }
}

/// `augmented/create`'s paramsInfo as the document writes it.
pub(crate) fn model(shop: &Shop) -> Value {
    json!({
        "pid": "PUBLIC",
        "name": "sales",
        "alias": "Sales",
        "storeType": "DIRECT",
        "views": [{"id": shop.customers, "name": "c", "alias": "Customers"},
                  {"id": shop.orders, "name": "o"}],
        "dimensions": [{"name": "region", "viewName": "c", "valueType": "STRING"},
                       {"name": "status", "viewName": "o"}],
        "measures": [{"name": "credit", "viewName": "c", "aggregator": "SUM"},
                     {"name": "amount", "alias": "sales", "viewName": "o"},
                     {"name": "id", "alias": "orders", "viewName": "o", "aggregator": "count"}],
        "relations": [{"srcViewName": "c", "destViewName": "o", "linkType": "LEFTJOIN",
                       "srcFieldName": "id", "destFieldName": "customer_id"}]
    })
}

/// Numbers as f64, for comparisons (SQLite answers sums of reals).
pub(crate) fn rows(result: &Value) -> Vec<Vec<Value>> {
    result["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows: {result}"))
        .iter()
        .map(|r| {
            r.as_array()
                .expect("a row")
                .iter()
                .map(|v| match v.as_f64() {
                    Some(f) => json!(f),
                    None => v.clone(),
                })
                .collect()
        })
        .collect()
}

async fn query(app: &TestApp, who: &Session, model: &str, extra: Value) -> Vec<Vec<Value>> {
    let mut params = json!({"id": model, "dimensions": ["region"], "measures": ["sales"],
                            "order": [{"field": "region"}]});
    for (k, v) in extra.as_object().expect("an object") {
        params[k] = v.clone();
    }
    rows(&success(&act(app, who, "augmented/query", params).await))
}

#[tokio::test]
async fn a_model_is_created_read_queried_and_narrowed_for_a_role_member() {
    let (app, admin) = setup_with(local_reach).await;
    let bob = app.create_user(&admin, "bob@weir.test").await;
    let carol = app.create_user(&admin, "carol@weir.test").await;
    let src = Source::new();
    let shop = shop(&app, &admin, &src).await;

    let id = success(&act(&app, &admin, "augmented/create", model(&shop)).await)
        .as_str()
        .expect("the id, a string")
        .to_owned();
    let got = success(&act(&app, &admin, "resource/get", json!({"id": id})).await);
    assert_eq!(
        (&got["type"], &got["path"], &got["alias"]),
        (
            &json!("AUGMENTED_DATASET"),
            &json!("/PUBLIC/sales"),
            &json!("Sales")
        )
    );
    let listed = success(
        &act(
            &app,
            &admin,
            "resource/getChildList",
            json!({"id": "PUBLIC"}),
        )
        .await,
    );
    assert_eq!(
        listed,
        json!([{"id": id, "name": "sales", "alias": "Sales", "type": "AUGMENTED_DATASET"}])
    );
    let def = success(&act(&app, &admin, "augmented/get", json!({"id": id})).await);
    assert_eq!(
        (&def["storeType"], &def["extractType"]),
        (&json!("DIRECT"), &json!("REALTIME"))
    );
    assert_eq!(
        def["views"],
        json!([{"id": shop.customers, "name": "c", "alias": "Customers"},
               {"id": shop.orders, "name": "o", "alias": null}])
    );
    assert_eq!(
        def["measures"][2],
        json!({"name": "id", "alias": "orders", "viewName": "o", "aggregator": "COUNT"})
    );
    assert_eq!(def["relations"][0]["linkType"], json!("LEFTJOIN"), "{def}");

    // The rows: the one-side measure once per group, never multiplied by the join.
    let all = success(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["status"], "measures": ["credit", "orders"],
                   "order": [{"field": "status", "desc": false}]}),
        )
        .await,
    );
    assert_eq!(all["columns"], json!(["status", "credit", "orders"]));
    assert_eq!(
        rows(&all),
        [
            [json!("open"), json!(110.0), json!(2.0)],
            [json!("paid"), json!(150.0), json!(3.0)]
        ]
    );
    let filtered = query(
        &app,
        &admin,
        &id,
        json!({"filters": [{"field": "status", "operator": "=", "values": ["paid"]}]}),
    )
    .await;
    assert_eq!(filtered, [[json!("north"), json!(14.0)]]);

    // Bob and Carol, plain users, may query the model once granted read on it (resource
    // permissions).
    assert_eq!(
        success(
            &act(
                &app,
                &admin,
                "perm/assignee/resource",
                json!({"id": id, "permAuth": [{"user": [bob.user_id, carol.user_id],
                                               "auth": "read"}]}),
            )
            .await
        ),
        Value::Null
    );

    // A role of Bob's, and a permission on customers for it (with one bad item, refused
    // alone).
    let role = new_role(&app, &admin, "north").await;
    link(&app, &admin, &role, "associate-user", &[&bob.user_id]).await;
    let refused = success(
        &act(
            &app,
            &admin,
            "dataperm/create",
            json!({"id": shop.customers, "rowpermItems": [
                {"itemName": "north", "role": [role],
                 "expression": {"type": "FILTER", "fieldId": "region", "operator": "=",
                                "value": "north"}},
                {"itemName": "bad", "expression": {"type": "FILTER", "fieldId": "nope",
                                                   "value": "x"}},
                {"itemName": "shapeless", "expression": "region = north"}
            ]}),
        )
        .await,
    );
    assert_eq!(
        refused,
        json!([
            {"itemName": "bad", "msg": "expression.fieldId: the table has no column nope",
             "index": 1},
            {"itemName": "shapeless",
             "msg": "expression: invalid type: string \"region = north\", expected struct Expression",
             "index": 2}
        ])
    );
    let stored = success(&act(&app, &admin, "dataperm/get", json!({"id": shop.customers})).await);
    assert_eq!(
        stored,
        json!([{"itemName": "north", "applicable": 1, "user": [], "group": [], "role": [role],
                "expression": {"type": "FILTER", "fieldId": "region", "operator": "=",
                               "value": "north"}}])
    );
    assert_eq!(
        success(&act(&app, &admin, "dataperm/get", json!({"id": shop.orders})).await),
        json!([])
    );

    let everything = [[json!("north"), json!(15.0)], [json!("south"), json!(4.0)]];
    assert_eq!(
        query(&app, &bob, &id, json!({})).await,
        [[json!("north"), json!(15.0)]]
    );
    assert_eq!(query(&app, &carol, &id, json!({})).await, everything);
    // The super admin is narrowed only when an item names them.
    assert_eq!(query(&app, &admin, &id, json!({})).await, everything);
    let none = success(
        &act(
            &app,
            &admin,
            "dataperm/create",
            json!({"id": shop.customers, "override": "false", "rowpermItems": [
                {"itemName": "admin south", "user": [admin.user_id],
                 "expression": {"type": "FILTER", "fieldId": "region", "value": "south"}}]}),
        )
        .await,
    );
    assert_eq!(none, json!([]));
    assert_eq!(
        query(&app, &admin, &id, json!({})).await,
        [[json!("south"), json!(4.0)]]
    );
    // A dry run shows the statement and its values.
    let dry = success(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["region"], "measures": ["sales"],
                   "limit": 5, "dryRun": true}),
        )
        .await,
    );
    let sql = dry["sql"].as_str().expect("sql");
    assert!(sql.ends_with("LIMIT 5"), "{sql}");
    assert!(!sql.contains("south"), "{sql}");
    assert_eq!(dry["params"], json!(["south"]), "{dry}");

    // Overriding replaces the items; an empty list removes them.
    assert_eq!(
        success(
            &act(
                &app,
                &admin,
                "dataperm/create",
                json!({"id": shop.customers, "override": true, "rowpermItems": []}),
            )
            .await
        ),
        json!([])
    );
    assert_eq!(query(&app, &bob, &id, json!({})).await, everything);

    // A model is deleted like any resource.
    assert_eq!(
        success(&act(&app, &admin, "resource/delete", json!({"id": id})).await),
        json!(id)
    );
    failure(
        &act(&app, &admin, "augmented/get", json!({"id": id})).await,
        &format!("resource {id} not found"),
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_another_tenants_ids_are_not_found() {
    let (app, admin, boss) = two_tenants_with(local_reach).await;
    let src = Source::new();
    let shop = shop(&app, &admin, &src).await;

    // Malformed paramsInfo.
    let mut bad = model(&shop);
    bad["views"] = json!("c");
    failure(
        &act(&app, &admin, "augmented/create", bad).await,
        "paramsInfo.views: invalid type: string \"c\", expected a sequence",
    );
    let mut bad = model(&shop);
    bad["relations"][0]["linkType"] = json!("CROSSJOIN");
    failure(
        &act(&app, &admin, "augmented/create", bad).await,
        "paramsInfo.relations[0].linkType: unknown variant `CROSSJOIN`",
    );
    // Every problem of the model, named under paramsInfo; nothing stored.
    let mut bad = model(&shop);
    bad["name"] = json!("");
    bad["measures"][1]["name"] = json!("amout");
    bad["views"][1]["id"] = json!("999999");
    bad["extractType"] = json!("SOMETIMES");
    let msg = failure(&act(&app, &admin, "augmented/create", bad).await, "");
    assert_eq!(
        msg,
        "paramsInfo.name: is required; paramsInfo.extractType: FULL or REALTIME, not SOMETIMES; \
         paramsInfo.views[1].id: table 999999 not found"
    );
    let mut bad = model(&shop);
    bad["measures"][1]["name"] = json!("amout");
    failure(
        &act(&app, &admin, "augmented/create", bad).await,
        "paramsInfo.measures[1].name: column amout not found in view o (main.orders)",
    );
    assert_eq!(
        success(
            &act(
                &app,
                &admin,
                "resource/getChildList",
                json!({"id": "PUBLIC"})
            )
            .await
        ),
        json!([])
    );
    let id = success(&act(&app, &admin, "augmented/create", model(&shop)).await)
        .as_str()
        .expect("id")
        .to_owned();
    failure(
        &act(&app, &admin, "augmented/create", model(&shop)).await,
        "paramsInfo.name: DEFAULT_TREENODE PUBLIC already holds a AUGMENTED_DATASET named \"sales\"",
    );

    // Queries: the request's own fields.
    failure(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["country"], "measures": ["sales"]}),
        )
        .await,
        "paramsInfo.dimensions[0]: the model has no dimension country",
    );
    failure(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["region"],
                   "filters": [{"field": "status", "operator": "~", "values": ["x"]}]}),
        )
        .await,
        "paramsInfo.filters[0].operator: unknown variant `~`",
    );
    failure(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["region"],
                   "filters": [{"field": "status", "operator": "in", "values": []}]}),
        )
        .await,
        "paramsInfo.filters[0].values: takes at least one value",
    );
    let many: Vec<String> = (0..1001).map(|i| format!("s{i}")).collect();
    failure(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["region"],
                   "filters": [{"field": "status", "operator": "in", "values": many}]}),
        )
        .await,
        "paramsInfo.filters[0].values: takes at most 1000 values, not 1001",
    );
    failure(
        &act(
            &app,
            &admin,
            "augmented/query",
            json!({"id": id, "dimensions": ["region"], "limit": -1}),
        )
        .await,
        "paramsInfo.limit: must be at least 1",
    );
    failure(
        &act(&app, &admin, "augmented/query", json!({"id": shop.orders})).await,
        &format!(
            "paramsInfo.id: resource {} is a TABLE, not a AUGMENTED_DATASET",
            shop.orders
        ),
    );
    failure(
        &act(&app, &admin, "augmented/get", json!({})).await,
        "paramsInfo: missing field `id`",
    );
    // Row permissions: the table is required and must be one.
    failure(
        &act(&app, &admin, "dataperm/create", json!({"id": shop.orders})).await,
        "paramsInfo: missing field `rowpermItems`",
    );
    failure(
        &act(
            &app,
            &admin,
            "dataperm/create",
            json!({"id": "PUBLIC", "rowpermItems": []}),
        )
        .await,
        "paramsInfo.id: resource PUBLIC is a DEFAULT_TREENODE, not a TABLE",
    );
    failure(
        &act(&app, &admin, "dataperm/get", json!({"id": "999999"})).await,
        "resource 999999 not found",
    );

    // Another tenant's ids are not found; its tables are not the caller's.
    for (action, params, missing) in [
        ("augmented/get", json!({"id": id}), &id),
        (
            "augmented/query",
            json!({"id": id, "dimensions": ["region"]}),
            &id,
        ),
        (
            "dataperm/get",
            json!({"id": shop.customers}),
            &shop.customers,
        ),
        (
            "dataperm/create",
            json!({"id": shop.customers, "rowpermItems": []}),
            &shop.customers,
        ),
        ("resource/delete", json!({"id": id}), &id),
    ] {
        failure(
            &act(&app, &boss, action, params).await,
            &format!("resource {missing} not found"),
        );
    }
    failure(
        &act(&app, &boss, "augmented/create", model(&shop)).await,
        &format!(
            "paramsInfo.views[0].id: table {} not found; paramsInfo.views[1].id: table {} not found",
            shop.customers, shop.orders
        ),
    );
    // The first tenant's model is intact.
    assert_eq!(
        query(&app, &admin, &id, json!({})).await,
        [[json!("north"), json!(15.0)], [json!("south"), json!(4.0)]]
    );
}
