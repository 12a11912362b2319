//! Assembles the actix `App`.

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{self, Next};
use actix_web::{App, Error, HttpRequest, HttpResponse, ResponseError, guard, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::core::state::{ApiState, HttpSettings};
use crate::core::{Refusal, text_guard};
use crate::native::envelope::NativeError;
use crate::{console, health, measure, native, openapi, request_id, smartbi, thingskit, wyn};

/// The whole HTTP surface of Weir over the given use-cases, with a program's own routes
/// beside Weir's (a program embedding Weir; `|_| {}` for none). `routes`
/// registers them after Weir's own services, so a path Weir serves stays Weir's, and
/// before the JSON 404 and the static console (`http.static_dir`), so neither hides them.
/// Weir's middleware (access log, request id, CORS, the NUL check) wraps them too.
pub fn app_with(
    state: web::Data<ApiState>,
    routes: impl FnOnce(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let settings = state.settings.clone();
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .map(|app| {
            app.app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    NativeError::invalid(format!("query string: {e}")).into()
                }))
                .app_data(
                    web::PathConfig::default()
                        .error_handler(|e, _| NativeError::invalid(format!("path: {e}")).into()),
                )
        })
        .service(scope(native::PREFIX).configure(native::configure))
        .service(
            scope(wyn::PREFIX)
                .configure(wyn::configure)
                .default_service(wyn::default_service()),
        )
        .service(
            scope(thingskit::PREFIX)
                .configure(thingskit::configure)
                .default_service(web::to(thingskit::envelope::no_endpoint)),
        )
        .service(native::workflow::http_in::run)
        .service(smartbi::routes::call)
        .service(health::healthz)
        .service(health::readyz)
        .service(measure::scrape)
        .split_for_parts();
    let document = state.openapi.json(api);
    // Whatever no route takes (including unknown paths inside /api/v1) gets the JSON 404.
    let mut app = app
        .route(
            "/openapi.json",
            web::get().to(move || {
                let document = document.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type(header::ContentType::json())
                        .body(document)
                }
            }),
        )
        .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
        // Swagger UI answers under `/docs/` only; the address people type goes there.
        .route(
            "/docs",
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(docs_redirect),
        )
        .configure(smartbi::routes::aliases)
        .configure(routes)
        .default_service(web::to(not_found));
    if let Some(dir) = settings.static_dir.clone() {
        // Only reads go to the console; other methods fall through to the JSON 404. The
        // console's files (and only they) get cache headers and are compressed for clients
        // that accept it.
        app = app.service(
            web::scope("")
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .wrap(middleware::Compress::default())
                .wrap(middleware::from_fn(console::cache_headers))
                .service(
                    actix_files::Files::new("/", dir.clone())
                        .index_file("index.html")
                        .default_handler(web::to(move |req: HttpRequest| {
                            spa_fallback(req, dir.clone())
                        })),
                ),
        );
    }
    // The last wrap runs first.
    app.wrap(middleware::from_fn(console::bare_paths_unless_navigation))
        .wrap(middleware::from_fn(refuse_nul_in_uri))
        .wrap(cors(&settings))
        // Inside the request id, outside the rest: it times the whole answer.
        .wrap(middleware::from_fn(measure::requests))
        // The request id, and the access log: one line per request, carrying the id.
        .wrap(middleware::from_fn(request_id::middleware))
        // The `metrics.listen` address serves /metrics alone, before anything else runs.
        .wrap(middleware::from_fn(measure::separate_address))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Refuses a request whose path or query string carries NUL ([`text_guard`]), in the
/// envelope of the dialect the path belongs to.
async fn refuse_nul_in_uri(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(refusal) = text_guard::uri_refusal(req.uri().path(), req.query_string()) {
        let response = in_dialect_of(req.path(), refusal);
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// `refusal` as the dialect serving `path` answers it.
fn in_dialect_of(path: &str, refusal: Refusal) -> HttpResponse {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under(wyn::PREFIX) {
        wyn::envelope::WynError::from(refusal).error_response()
    } else if under(thingskit::PREFIX) {
        thingskit::envelope::ThingsKitError::from(refusal).error_response()
    } else if under(smartbi::routes::PREFIX) || under(smartbi::routes::SHORT_PREFIX) {
        smartbi::envelope::SmartbiError::from(refusal).error_response()
    } else {
        NativeError::from(refusal).error_response()
    }
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, NativeError> {
    Err(NativeError::new(
        StatusCode::NOT_FOUND,
        "data_no_found",
        format!("no endpoint {} {}", req.method(), req.path()),
    ))
}

/// Unknown non-API paths get the console's `index.html`, so its client-side routes load.
async fn spa_fallback(
    req: HttpRequest,
    dir: std::path::PathBuf,
) -> Result<HttpResponse, NativeError> {
    if req.path().starts_with("/api/") {
        return not_found(req).await;
    }
    let index = actix_files::NamedFile::open_async(dir.join("index.html"))
        .await
        .map_err(|_| {
            NativeError::new(
                StatusCode::NOT_FOUND,
                "data_no_found",
                "no index.html in static_dir",
            )
        })?;
    Ok(index.into_response(&req))
}

fn cors(settings: &HttpSettings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("tenant-id"),
            header::HeaderName::from_static("traceid"),
            header::HeaderName::from_static("x-authorization"),
        ])
        .supports_credentials()
        .max_age(3600);
    for origin in &settings.cors_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
