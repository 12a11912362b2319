//! The catalog actions of the Smartbi dialect over HTTP (datasource, schema, table,
//! folder, resource), called with a bearer token, against an SQLite datasource made in a
//! temporary folder.

use serde_json::{Value, json};
use weir_test_kit::{Session, TestApp};

use crate::support::{setup_with, two_tenants_with};
use weir_test_kit::local_reach;

type Answer = (u16, Value);

/// Calls `module/action` with `paramsInfo` as the document sends it: a JSON string in a
/// form body.
async fn act(app: &TestApp, who: &Session, action: &str, params: Value) -> Answer {
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
fn success(answer: &Answer) -> &Value {
    let (status, body) = answer;
    assert_eq!(
        (*status, body["success"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    &body["result"]
}

/// Asserts `success: false` with a `msg` that starts with `start`; returns it.
fn failure(answer: &Answer, start: &str) -> String {
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

/// An SQLite database with two tables, in a folder that lives as long as it.
struct Source {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Source {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shop.db");
        let c = rusqlite::Connection::open(&path).expect("open sqlite");
        c.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);",
        )
        .expect("tables");
        Self { _dir: dir, path }
    }

    fn url(&self) -> String {
        format!("jdbc:sqlite:{}", self.path.display())
    }

    fn exec(&self, sql: &str) {
        rusqlite::Connection::open(&self.path)
            .expect("open sqlite")
            .execute_batch(sql)
            .expect("statement");
    }
}

fn sqlite_datasource(src: &Source) -> Value {
    json!({
        "name": "shop",
        "alias": "The shop",
        "connectUserName": "",
        "connectPassword": "pw-123",
        "maxConnection": "20",
        "driverType": "SQLITE",
        "driverClassName": "org.sqlite.JDBC",
        "url": src.url(),
        "transactionIsolation": -1,
    })
}

#[tokio::test]
async fn a_datasource_is_created_read_back_masked_tested_and_updated() {
    let (app, admin) = setup_with(local_reach).await;
    let src = Source::new();
    let id = success(&act(&app, &admin, "datasource/create", sqlite_datasource(&src)).await)
        .as_str()
        .expect("the id, a string")
        .to_owned();
    let got = success(&act(&app, &admin, "datasource/get", json!({"id": id})).await).clone();
    assert_eq!(
        got,
        json!({
            "id": id, "name": "shop", "alias": "The shop", "desc": "",
            "connectUserName": "", "connectPassword": "******", "maxConnection": 20,
            "driverType": "SQLITE", "driverClassName": "org.sqlite.JDBC",
            "driverCatalog": null, "url": src.url(), "transactionIsolation": -1,
        })
    );
    assert_eq!(
        success(&act(&app, &admin, "datasource/test", json!({"id": id})).await),
        &json!(true)
    );
    // An unsaved one can be tested too.
    let mut unsaved = sqlite_datasource(&src);
    unsaved["url"] = json!(format!("{}.missing", src.url()));
    failure(
        &act(&app, &admin, "datasource/test", unsaved).await,
        "datasource (unsaved)",
    );

    // Refusals name the field under paramsInfo.
    let mut bad = sqlite_datasource(&src);
    bad["name"] = json!("other");
    bad["url"] = json!("jdbc:mysql://db/shop");
    failure(
        &act(&app, &admin, "datasource/create", bad).await,
        "paramsInfo.url: `jdbc:mysql://db/shop` is a jdbc:mysql: URL, which does not fit driverType SQLITE",
    );
    let mut bad = sqlite_datasource(&src);
    bad["transactionIsolation"] = json!(5);
    failure(
        &act(&app, &admin, "datasource/create", bad).await,
        "paramsInfo.transactionIsolation: must be -1",
    );
    failure(
        &act(&app, &admin, "datasource/create", sqlite_datasource(&src)).await,
        "paramsInfo.name: DEFAULT_TREENODE DATA_SOURCES already holds a DATASOURCE named \"shop\"",
    );
    failure(
        &act(&app, &admin, "datasource/create", json!({"name": 5})).await,
        "paramsInfo.name: invalid type",
    );
    failure(
        &act(&app, &admin, "datasource/get", json!({})).await,
        "paramsInfo: missing field `id`",
    );
    failure(
        &act(&app, &admin, "datasource/get", json!({"id": "999999"})).await,
        "resource 999999 not found",
    );

    // An update without a password keeps it (still masked); the alias changes.
    let answer = act(
        &app,
        &admin,
        "datasource/update",
        json!({"id": id, "alias": "Shop DB", "connectPassword": ""}),
    )
    .await;
    assert_eq!(success(&answer), &json!(id));
    let got = success(&act(&app, &admin, "datasource/get", json!({"id": id})).await).clone();
    assert_eq!(
        (&got["alias"], &got["connectPassword"]),
        (&json!("Shop DB"), &json!("******"))
    );
}

#[tokio::test]
async fn schemas_and_tables_are_synced_listed_and_deleted() {
    let (app, admin) = setup_with(local_reach).await;
    let src = Source::new();
    let ds = success(&act(&app, &admin, "datasource/create", sqlite_datasource(&src)).await)
        .as_str()
        .expect("id")
        .to_owned();
    let schema = success(
        &act(
            &app,
            &admin,
            "schema/create",
            json!({"dsId": ds, "name": "main"}),
        )
        .await,
    )
    .as_str()
    .expect("the schema id")
    .to_owned();

    let tree = success(
        &act(
            &app,
            &admin,
            "resource/getChildList",
            json!({"id": "DATA_SOURCES", "includeDescendants": true, "needPath": true}),
        )
        .await,
    )
    .clone();
    let rows: Vec<(String, String)> = tree
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().expect("type").to_owned(),
                e["path"].as_str().expect("path").to_owned(),
            )
        })
        .collect();
    let row = |t: &str, p: &str| (t.to_owned(), p.to_owned());
    assert_eq!(
        rows,
        [
            row("DATASOURCE", "/DATA_SOURCES/shop"),
            row("SCHEMA", "/DATA_SOURCES/shop/main"),
            row("TABLE", "/DATA_SOURCES/shop/main/customers"),
            row("TABLE", "/DATA_SOURCES/shop/main/orders"),
        ]
    );
    let tables = success(
        &act(
            &app,
            &admin,
            "resource/getChildList",
            json!({"id": "DATA_SOURCES", "types": ["TABLE"], "includeDescendants": "true"}),
        )
        .await,
    )
    .clone();
    assert_eq!(tables.as_array().map(Vec::len), Some(2));
    assert!(tables[0].get("path").is_none(), "{tables}");
    let customers = tables[0]["id"].as_str().expect("id").to_owned();
    let columns =
        success(&act(&app, &admin, "table/get", json!({"id": customers})).await)["columns"].clone();
    assert_eq!(
        columns[1],
        json!({"name": "name", "nativeType": "TEXT", "fieldType": "STRING", "nullable": false})
    );
    failure(
        &act(
            &app,
            &admin,
            "resource/getChildList",
            json!({"id": "PUBLIC", "types": ["TABLE", "VIEWS"]}),
        )
        .await,
        "paramsInfo.types[1]: unknown type `VIEWS`",
    );

    // resource/get: path, type, creator, createtime.
    let got = success(&act(&app, &admin, "resource/get", json!({"id": schema})).await).clone();
    assert_eq!(
        (&got["path"], &got["type"], &got["creator"]),
        (
            &json!("/DATA_SOURCES/shop/main"),
            &json!("SCHEMA"),
            &json!("Admin")
        )
    );
    assert_eq!(got["createtime"].as_str().map(str::len), Some(19), "{got}");

    // A table added at the source: schema/sync reports it; table/create (one object, as
    // well as an array) skips or overrides, and names an unknown table.
    src.exec("CREATE TABLE refunds (id INTEGER PRIMARY KEY); DROP TABLE orders;");
    assert_eq!(
        success(&act(&app, &admin, "schema/sync", json!({"id": schema})).await),
        &json!({"added": ["refunds"], "removed": ["orders"], "changed": [], "skipped": []})
    );
    let one = json!({"dsId": ds, "schemaName": "main", "tableList": ["refunds"]});
    assert_eq!(
        success(&act(&app, &admin, "table/create", one).await),
        &json!({"added": [], "removed": [], "changed": [], "skipped": ["refunds"]})
    );
    src.exec("ALTER TABLE refunds ADD COLUMN amount REAL;");
    let many = json!([{"dsId": ds, "schemaName": "main", "override": true,
                       "tableList": ["refunds"]}]);
    assert_eq!(
        success(&act(&app, &admin, "table/create", many).await),
        &json!([{"added": [], "removed": [], "changed": ["refunds"], "skipped": []}])
    );
    failure(
        &act(
            &app,
            &admin,
            "table/create",
            json!({"dsId": ds, "schemaName": "main", "tableList": ["ghosts"]}),
        )
        .await,
        "paramsInfo.tableList: table `ghosts` not found in schema `main`",
    );

    // Folders, and a batch delete.
    let folder = success(
        &act(
            &app,
            &admin,
            "folder/create",
            json!({"parentId": "PUBLIC", "name": "reports", "desc": "monthly"}),
        )
        .await,
    )
    .as_str()
    .expect("folder id")
    .to_owned();
    assert_eq!(
        success(
            &act(
                &app,
                &admin,
                "folder/update",
                json!({"id": folder, "alias": "Reports"})
            )
            .await
        ),
        &json!(folder)
    );
    failure(
        &act(&app, &admin, "resource/delete", json!({"id": "PUBLIC"})).await,
        "paramsInfo.id: PUBLIC is a root folder",
    );
    assert_eq!(
        success(&act(&app, &admin, "resource/delete", json!({"id": [ds, folder]})).await),
        &json!([ds, folder])
    );
    for root in ["DATA_SOURCES", "PUBLIC"] {
        let kids = act(
            &app,
            &admin,
            "resource/getChildList",
            json!({"id": root, "includeDescendants": true}),
        )
        .await;
        assert_eq!(success(&kids), &json!([]));
    }
    failure(
        &act(&app, &admin, "schema/sync", json!({"id": schema})).await,
        &format!("resource {schema} not found"),
    );
}

#[tokio::test]
async fn another_tenants_resources_are_not_found() {
    let (app, admin, boss) = two_tenants_with(local_reach).await;
    let src = Source::new();
    let ds = success(&act(&app, &admin, "datasource/create", sqlite_datasource(&src)).await)
        .as_str()
        .expect("id")
        .to_owned();
    let not_found = format!("resource {ds} not found");
    for (action, params) in [
        ("datasource/get", json!({"id": ds})),
        ("datasource/test", json!({"id": ds})),
        ("datasource/update", json!({"id": ds, "alias": "mine"})),
        ("resource/get", json!({"id": ds})),
        ("resource/getChildList", json!({"id": ds})),
        ("resource/delete", json!({"id": ds})),
        ("schema/create", json!({"dsId": ds, "name": "main"})),
    ] {
        failure(&act(&app, &boss, action, params).await, &not_found);
    }
    // Their own datasources root is empty, and the first tenant's datasource is intact.
    let theirs = act(
        &app,
        &boss,
        "resource/getChildList",
        json!({"id": "DATA_SOURCES"}),
    )
    .await;
    assert_eq!(success(&theirs), &json!([]));
    let got = success(&act(&app, &admin, "datasource/get", json!({"id": ds})).await).clone();
    assert_eq!(got["alias"], json!("The shop"));
}
