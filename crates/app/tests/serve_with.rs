//! `Weir::serve_with`: a program's own routes answer beside Weir's, Weir's own paths stay
//! Weir's, and the static console does not hide them (docs/embedding.md). On a fresh
//! database (SQLite, or a fresh PostgreSQL schema with `WEIR_TEST_DATABASE_URL`).

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use actix_web::{HttpResponse, web};
use serde_json::Value;
use weir::{Settings, Weir};
use weir_storage::testing::TestDatabase;

/// The program's routes: `/embedder/ping`, and a `/healthz` of its own that must lose to
/// Weir's.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/embedder/ping",
        web::get().to(|| async { HttpResponse::Ok().body("pong") }),
    )
    .route(
        "/healthz",
        web::get().to(|| async { HttpResponse::Ok().body("the program's") }),
    );
}

struct Served {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    _database: TestDatabase,
}

async fn serve(tweak: impl FnOnce(&mut Settings)) -> Served {
    let database = tokio::task::spawn_blocking(TestDatabase::new)
        .await
        .unwrap()
        .unwrap();
    let mut settings = Settings::default();
    settings.database.url = database.url.clone();
    settings.database.pool_size = 2;
    settings.http.addr = "127.0.0.1:0".into();
    settings.http.workers = Some(1);
    settings.mqtt.mode = weir_mqtt::Mode::Off;
    tweak(&mut settings);
    let weir = tokio::task::spawn_blocking(move || Weir::assemble(settings))
        .await
        .unwrap()
        .unwrap();
    let (server, addr) = weir.serve_with(routes).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    Served {
        addr,
        handle,
        _database: database,
    }
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_route_added_through_serve_with_answers_beside_weirs() {
    let s = serve(|_| {}).await;
    assert_eq!(get(s.addr, "/embedder/ping").await, (200, "pong".into()));
    // Weir's routes still answer, and a path Weir serves stays Weir's.
    let (status, body) = get(s.addr, "/healthz").await;
    assert_eq!((status, json(&body)["status"].as_str()), (200, Some("UP")));
    let (status, body) = get(s.addr, "/api/v1/user/status").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["data"]["init"], false);
    // What nobody serves still gets Weir's JSON 404.
    let (status, body) = get(s.addr, "/embedder/nothing").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(json(&body)["error_code"], "data_no_found", "{body}");
    s.handle.stop(true).await;
}

#[tokio::test]
async fn the_static_console_does_not_hide_the_programs_routes() {
    let console = tempfile::tempdir().unwrap();
    std::fs::write(console.path().join("index.html"), "<p>console</p>").unwrap();
    let folder = console.path().to_path_buf();
    let s = serve(move |settings| settings.http.static_dir = Some(folder)).await;
    assert_eq!(get(s.addr, "/embedder/ping").await, (200, "pong".into()));
    assert_eq!(get(s.addr, "/").await, (200, "<p>console</p>".into()));
    s.handle.stop(true).await;
}
