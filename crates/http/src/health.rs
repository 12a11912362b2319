//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::{State, blocking};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `UP` or `DOWN`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "UP" })
}

/// The database answers.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: State) -> HttpResponse {
    let probe = state.readiness.clone();
    match blocking(move || probe()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(Health { status: "UP" }),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Health { status: "DOWN" })
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(Health { status: "DOWN" }),
    }
}
