//! The whole Weir server, with routes of the program's own beside Weir's.
//!
//! The program assembles Weir, then serves it with `Weir::serve_with(routes)`: its
//! `GET /hello` (which reaches Weir's use-cases through the `Weir` it was given) answers
//! beside Weir's `/healthz` and native API (`/api/v1/...`). It calls all three over HTTP,
//! prints what they answered, stops the server and exits.
//!
//! cargo run -p weir --example own_routes
//!
//! The server listens on a free port of 127.0.0.1; the database is an SQLite file in a
//! temporary folder, removed at the end. See docs/embedding.md.

use std::error::Error;

use actix_web::{HttpResponse, web};
use serde_json::json;
use weir::{Settings, Weir};

/// The program's own route, which reaches Weir's identity use-cases as Weir's handlers do:
/// on the blocking pool.
async fn hello(weir: web::Data<Weir>) -> actix_web::Result<HttpResponse> {
    let identity = weir.identity.clone();
    let tenants = web::block(move || identity.tenants())
        .await?
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(json!({
        "hello": "from the program embedding Weir",
        "tenants": tenants.len(),
    })))
}

/// What the program adds to each worker's app.
fn routes(weir: Weir) -> impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(weir.clone()))
            .route("/hello", web::get().to(hello));
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.database.url = dir.path().join("weir.db").display().to_string();
    settings.http.addr = "127.0.0.1:0".into();
    settings.http.workers = Some(1);
    settings.mqtt.mode = weir_mqtt::Mode::Off;
    // Assembling blocks (it opens and migrates the database): off the async threads.
    let weir = tokio::task::spawn_blocking(move || Weir::assemble(settings)).await??;
    // As the `weir` binary does: the flows run, then the server starts.
    weir.start_workflows().await?;
    let (server, addr) = weir.serve_with(routes(weir.clone()))?;
    let handle = server.handle();
    let running = tokio::spawn(server);
    println!("serving on http://{addr}");

    let client = reqwest::Client::new();
    let mut failed = false;
    for path in ["/hello", "/healthz", "/api/v1/user/status"] {
        let response = client.get(format!("http://{addr}{path}")).send().await?;
        let status = response.status();
        let body = response.text().await?;
        println!("GET {path} -> {status} {body}");
        failed |= !status.is_success();
    }

    // Stops accepting, lets requests in flight finish, then the server future ends.
    handle.stop(true).await;
    running.await??;
    println!("server stopped");
    drop(weir);
    dir.close()?;
    if failed {
        return Err("a route did not answer 2xx".into());
    }
    Ok(())
}
