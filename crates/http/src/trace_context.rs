//! W3C trace context (<https://www.w3.org/TR/trace-context/>) on the way in: a request's
//! `traceparent` (and `tracestate`) header makes the caller's span the parent of the
//! request's span, so Weir's spans join the caller's trace (docs/operations.md, "Traces").
//!
//! The header is read by OpenTelemetry's global propagator, which the app sets to the
//! W3C `TraceContextPropagator` only when spans are exported. Otherwise the propagator is
//! OpenTelemetry's no-op one and there is no exporter layer to take the parent: nothing
//! happens, and a request without the header costs one header lookup.

use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header that names the caller's trace and span.
const TRACEPARENT: &str = "traceparent";

/// Reads propagation headers off an actix request.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Makes the span the request's `headers` name its parent of `span`, which must not have
/// been entered yet. A missing or malformed `traceparent` leaves `span` a root.
pub(crate) fn adopt_parent(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key(TRACEPARENT) {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(headers))
    });
    if !parent.span().span_context().is_valid() {
        return;
    }
    // Without the exporter's layer (tracing off) there is nothing to set: not an error.
    let _ = span.set_parent(parent);
}
