//! What a tenant's users cannot reach through Weir (issue 12): Weir's own storage, through
//! an SQLite or a PostgreSQL datasource, whatever the allow-list opens; and, by default,
//! this machine and its network, through a webhook, an email node's own server or a
//! datasource. Refusals read the same whether a port is open or closed, and carry nothing
//! a remote service sent.

use std::net::TcpListener;
use std::path::PathBuf;

use serde_json::{Value, json};
use weir_outbound::testing::{HttpReceiver, SmtpSink};
use weir_test_kit::{Session, TestApp, external, local_reach};

use crate::smartbi_models::{Source, act, failure, model, shop, success};
use crate::support::{setup_with, two_tenants_with};
use crate::workflow_runs::{node, test_node};

const POLICY: &str = "is not reached: the outbound policy refuses loopback, private, \
                      link-local and other internal addresses unless the operator opens \
                      them in outbound.allow";

/// Weir's own PostgreSQL database, from `database.url`: (host, port, database), or `None`
/// on SQLite.
fn own_postgres(app: &TestApp) -> Option<(String, u16, String)> {
    let url = &app.weir.settings.database.url;
    let rest = url.strip_prefix("postgres://")?;
    let rest = rest.split('?').next().unwrap_or(rest);
    let (authority, database) = rest.split_once('/')?;
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    Some((host.to_owned(), port.parse().ok()?, database.to_owned()))
}

/// Registers a datasource as `who` (saving connects nowhere); returns its id.
async fn datasource(app: &TestApp, who: &Session, name: &str, fields: Value) -> String {
    let mut params = json!({"name": name});
    for (k, v) in fields.as_object().expect("an object") {
        params[k] = v.clone();
    }
    success(&act(app, who, "datasource/create", params).await)
        .as_str()
        .expect("the id")
        .to_owned()
}

/// `datasource/test` and a sync of its schema both fail with `message` after the
/// datasource's name.
async fn refused_to_test_and_sync(app: &TestApp, who: &Session, id: &str, message: &str) {
    let start = format!("datasource {id} (");
    for (action, params) in [
        ("datasource/test", json!({"id": id})),
        ("schema/create", json!({"dsId": id, "name": "main"})),
    ] {
        let msg = failure(&act(app, who, action, params).await, &start);
        assert!(msg.ends_with(message), "{action}: {msg}");
    }
}

#[tokio::test]
async fn a_tenant_admin_cannot_read_weir_own_sqlite_file_by_any_path() {
    let (app, _, boss) = two_tenants_with(local_reach).await;
    if own_postgres(&app).is_some() {
        return; // Weir's storage is PostgreSQL here: see the next test.
    }
    let own = std::fs::canonicalize(&app.weir.settings.database.url).expect("Weir's own file");
    let folder = own.parent().expect("its folder").to_path_buf();
    // A copy beside it (a backup holds the same secrets), a path through `..`, a
    // symbolic link from elsewhere in the allowed folder, and a relative path (taken
    // inside bi.sqlite_folder).
    std::fs::copy(&own, folder.join("backup.db")).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let link = elsewhere.path().join("innocent.db");
    std::os::unix::fs::symlink(&own, &link).unwrap();
    let folder_name = folder.file_name().unwrap().to_string_lossy().into_owned();
    let relative = PathBuf::from(&folder_name).join(own.file_name().unwrap());
    let through_dots = elsewhere
        .path()
        .join("..")
        .join(&folder_name)
        .join(own.file_name().unwrap());
    let paths: Vec<PathBuf> = vec![
        own.clone(),
        folder.join("backup.db"),
        through_dots,
        link,
        relative,
    ];
    for (n, path) in paths.iter().enumerate() {
        let shown = path.display().to_string();
        let id = datasource(
            &app,
            &boss,
            &format!("weir{n}"),
            json!({"driverType": "SQLITE", "url": format!("jdbc:sqlite:{shown}")}),
        )
        .await;
        let words = format!(
            "SQLite file {shown} is Weir's own storage (database.url), which is never a \
             datasource"
        );
        refused_to_test_and_sync(&app, &boss, &id, &words).await;
        // Unsaved, the same.
        let msg = failure(
            &act(
                &app,
                &boss,
                "datasource/test",
                json!({"driverType": "SQLITE", "url": format!("jdbc:sqlite:{shown}")}),
            )
            .await,
            "datasource (unsaved) (",
        );
        assert!(msg.ends_with(&words), "{msg}");
    }
    assert_query_refused_after_pointing_at(
        &app,
        &boss,
        json!({"url": format!("jdbc:sqlite:{}", own.display())}),
        "is Weir's own storage (database.url), which is never a datasource",
    )
    .await;
}

#[tokio::test]
async fn a_tenant_admin_cannot_read_weir_own_postgresql_database_even_with_loopback_allowed() {
    // local_reach puts 127.0.0.0/8 and ::1 in outbound.allow.
    let (app, _, boss) = two_tenants_with(local_reach).await;
    let Some((host, port, database)) = own_postgres(&app) else {
        return; // Weir's storage is SQLite here: see the test above.
    };
    for (n, url_host) in [host.as_str(), "localhost", "127.0.0.1"]
        .into_iter()
        .enumerate()
    {
        let id = datasource(
            &app,
            &boss,
            &format!("weir{n}"),
            json!({"driverType": "POSTGRESQL", "connectUserName": "postgres",
                   "url": format!("jdbc:postgresql://{url_host}:{port}/{database}")}),
        )
        .await;
        refused_to_test_and_sync(
            &app,
            &boss,
            &id,
            &format!(
                "{url_host}:{port}/{database} is Weir's own database (database.url), which is \
                 never a datasource"
            ),
        )
        .await;
    }
    assert_query_refused_after_pointing_at(
        &app,
        &boss,
        json!({"driverType": "POSTGRESQL", "connectUserName": "postgres",
               "url": format!("jdbc:postgresql://127.0.0.1:{port}/{database}")}),
        "is Weir's own database (database.url), which is never a datasource",
    )
    .await;
}

/// A model's query runs; once its datasource is pointed at `fields`, the next query is
/// refused (checked at every new connection, not only when a datasource is saved).
async fn assert_query_refused_after_pointing_at(
    app: &TestApp,
    who: &Session,
    fields: Value,
    ending: &str,
) {
    let src = Source::new();
    let shop = shop(app, who, &src).await;
    let model = success(&act(app, who, "augmented/create", model(&shop)).await);
    let ask = json!({"id": model, "dimensions": ["region"], "measures": ["sales"]});
    success(&act(app, who, "augmented/query", ask.clone()).await);
    let mut changes = fields;
    changes["id"] = json!(shop.datasource);
    success(&act(app, who, "datasource/update", changes).await);
    let msg = failure(
        &act(app, who, "augmented/query", ask).await,
        &format!("datasource {} (shop): ", shop.datasource),
    );
    assert!(msg.ends_with(ending), "{msg}");
}

fn webhook(url: String) -> Value {
    node("hook", "webhook", json!({"webhookUrl": url}))
}

fn node_error(run: Value) -> String {
    assert_eq!(run["status"], "ERROR", "{run}");
    run["message"].as_str().unwrap().to_owned()
}

fn unsaved(driver: &str, url: String) -> Value {
    json!({"driverType": driver, "connectUserName": "postgres", "url": url})
}

fn unsaved_error(answer: (u16, Value)) -> String {
    failure(&answer, "datasource (unsaved) (")
}

/// What a webhook to `hook_port` (by address, by name, by IPv4-mapped address), an email
/// node's own server at `mail_port`, and a PostgreSQL and a MySQL datasource at `db_port`
/// answer, all on this machine.
async fn answers(
    app: &TestApp,
    admin: &Session,
    hook_port: u16,
    mail_port: u16,
    db_port: u16,
) -> Vec<String> {
    let mut answers = Vec::new();
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"] {
        let url = format!("http://{host}:{hook_port}/in");
        answers.push(node_error(test_node(app, admin, webhook(url)).await));
    }
    let email = node(
        "mail",
        "email",
        json!({"emailConfig": {"provider": "SMTP", "smtpConfig": {
                "host": "127.0.0.1", "port": mail_port, "encryption": "NONE"}},
               "recipients": ["a@weir.test"], "subject": "x", "content": "y"}),
    );
    answers.push(node_error(test_node(app, admin, email).await));
    for scheme in ["postgresql", "mysql"] {
        let url = format!("jdbc:{scheme}://127.0.0.1:{db_port}/postgres");
        let test = unsaved(&scheme.to_uppercase(), url);
        answers.push(unsaved_error(
            act(app, admin, "datasource/test", test).await,
        ));
    }
    answers
}

#[tokio::test]
async fn by_default_nothing_reaches_this_machine_and_an_open_port_reads_like_a_closed_one() {
    let (app, admin) = setup_with(|_| {}).await;

    // Open: a receiver, an SMTP sink, a bare listener for both database drivers.
    let receiver = HttpReceiver::answering(200, "{}");
    let sink = SmtpSink::start();
    let db = TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_port = receiver.addr().port();
    let mail_port = sink.addr().port();
    let db_port = db.local_addr().unwrap().port();
    let open = answers(&app, &admin, hook_port, mail_port, db_port).await;
    assert!(receiver.requests().is_empty());
    assert!(sink.messages().is_empty());
    db.set_nonblocking(true).unwrap();
    assert!(db.accept().is_err(), "nothing may have connected");

    // Closed: nothing listens there any more; the answers are word for word the same.
    drop((receiver, sink, db));
    let closed = answers(&app, &admin, hook_port, mail_port, db_port).await;
    assert_eq!(open, closed);
    assert_eq!(
        open,
        [
            format!("HOOK: webhook: 127.0.0.1:{hook_port} {POLICY}"),
            format!("HOOK: webhook: localhost:{hook_port} {POLICY}"),
            format!("HOOK: webhook: [::ffff:127.0.0.1]:{hook_port} {POLICY}"),
            format!("MAIL: email: 127.0.0.1:{mail_port} {POLICY}"),
            format!(
                "datasource (unsaved) (jdbc:postgresql://127.0.0.1:{db_port}/postgres): \
                 127.0.0.1:{db_port} {POLICY}"
            ),
            format!(
                "datasource (unsaved) (jdbc:mysql://127.0.0.1:{db_port}/postgres): \
                 127.0.0.1:{db_port} {POLICY}"
            ),
        ]
    );

    // The cloud's metadata service and private networks, by webhook and by datasource.
    assert_eq!(
        node_error(
            test_node(
                &app,
                &admin,
                webhook("http://169.254.169.254/latest/meta-data/".into())
            )
            .await
        ),
        format!("HOOK: webhook: 169.254.169.254:80 {POLICY}")
    );
    let msg = unsaved_error(
        act(
            &app,
            &admin,
            "datasource/test",
            unsaved("POSTGRESQL", "jdbc:postgresql://10.0.0.5:5432/x".into()),
        )
        .await,
    );
    assert!(msg.ends_with(&format!("10.0.0.5:5432 {POLICY}")), "{msg}");

    // SQLite datasources are off until the operator names their folder.
    let src = Source::new();
    let msg = unsaved_error(
        act(
            &app,
            &admin,
            "datasource/test",
            json!({"driverType": "SQLITE", "url": format!("jdbc:sqlite:{}", src.path().display())}),
        )
        .await,
    );
    assert!(
        msg.ends_with("SQLite datasources are off: the operator has not set bi.sqlite_folder"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_allow_list_opens_exactly_what_it_lists() {
    // One port of one address: PostgreSQL's, on loopback.
    let Some(pg) = external::postgres() else {
        return;
    };
    let (app, admin) = setup_with(|s| s.outbound.allow = vec![pg.host_port()]).await;
    let test = |url: &str, user: &str| {
        json!({"driverType": if url.contains("postgresql") { "POSTGRESQL" } else { "MYSQL" },
               "connectUserName": user, "url": url})
    };
    assert_eq!(
        success(
            &act(
                &app,
                &admin,
                "datasource/test",
                test(
                    &format!("jdbc:postgresql://{}/template1", pg.host_port()),
                    "postgres"
                )
            )
            .await
        ),
        json!(true)
    );
    // MariaDB's port on the same address stays shut, and so does every other address.
    for url in [
        "jdbc:mysql://127.0.0.1:3306/mysql",
        "jdbc:postgresql://127.0.0.2:5432/template1",
    ] {
        let msg = failure(
            &act(&app, &admin, "datasource/test", test(url, "root")).await,
            "datasource (unsaved) (",
        );
        assert!(msg.ends_with(POLICY), "{msg}");
    }
}
