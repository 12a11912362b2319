//! W3C trace context (<https://www.w3.org/TR/trace-context/>) on the way out: an outbound
//! call carries the `traceparent` (and `tracestate`) of the span it runs in, so the
//! receiver's spans can join Weir's trace (docs/operations.md, "Traces").
//!
//! The headers come from OpenTelemetry's global propagator, which the app sets to the W3C
//! `TraceContextPropagator` only when spans are exported. Otherwise the propagator is
//! OpenTelemetry's no-op one, the span has no OpenTelemetry context, and [`headers`] is
//! empty: no header is added.

use opentelemetry::propagation::Injector;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Keeps the headers the propagator writes.
struct Collected(Vec<(String, String)>);

impl Injector for Collected {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

/// The trace context headers of the current span, as (name, value) pairs: `traceparent`
/// (and `tracestate` when the trace has one) when spans are exported, none otherwise.
pub fn headers() -> Vec<(String, String)> {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return Vec::new();
    }
    let context = span.context();
    let mut collected = Collected(Vec::new());
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut collected);
    });
    collected.0
}
