//! The process's `tracing` subscriber: the log on standard output (`[log]`), and, when
//! `tracing.otlp_endpoint` is set, the spans exported over OTLP (HTTP/protobuf) through
//! OpenTelemetry (`[tracing]`, docs/operations.md, "Traces").
//!
//! Each output filters on its own. The log keeps `RUST_LOG` (default `info`), so it reads
//! as before: the finer spans (a use case, a transaction, a workflow node, an outbound
//! call) are `debug` spans it does not show, and a JSON line's `span` stays the request's.
//! The exporter takes every span of Weir's own crates down to `debug`, and the events
//! logged inside them (Weir's at `info` and above, everyone's warnings and errors).
//!
//! With the exporter, OpenTelemetry's global propagator becomes the W3C trace context one:
//! a request's `traceparent` parents its span, and a webhook carries the `traceparent` of
//! its own (weir-http's and weir-outbound's `trace_context`). Without it, the propagator
//! stays OpenTelemetry's no-op one.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::{Level, Metadata};
use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::settings::{LogConfig, LogFormat, TracingConfig};

/// What [`init`] installed; [`Telemetry::shutdown`] flushes the spans not yet exported.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported (`tracing.otlp_endpoint` is set).
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the spans still waiting in the batch, then stops the exporter. Call it
    /// outside any async runtime: the exporter's HTTP client is a blocking one.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("weir: exporting the last spans failed: {e}");
        }
    }
}

/// Why the subscriber could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("tracing.sample_ratio is {0}: it must be between 0.0 and 1.0")]
    SampleRatio(f64),
    #[error("tracing.otlp_endpoint: {0}")]
    Exporter(String),
    #[error("a tracing subscriber is already installed: {0}")]
    Installed(String),
}

/// The OTLP/HTTP traces URL of `endpoint`: a base URL gets `/v1/traces`, a URL that ends
/// in it is taken as it is.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if endpoint.trim_end_matches('/').ends_with("/v1/traces") {
        endpoint.to_owned()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    }
}

/// The exporter's share: Weir's own spans, its events, and every warning and error.
fn exported(meta: &Metadata<'_>) -> bool {
    let ours = meta.target().starts_with("weir");
    if meta.is_span() {
        ours && *meta.level() <= Level::DEBUG
    } else {
        (ours && *meta.level() <= Level::INFO) || *meta.level() <= Level::WARN
    }
}

/// Installs the process's subscriber: the log, and the OTLP exporter when configured.
/// Call it once, outside any async runtime.
pub fn init(log: &LogConfig, tracing: &TracingConfig) -> Result<Telemetry, TelemetryError> {
    // The embedded broker logs every device disconnect as an error; Weir logs what
    // matters about MQTT itself (RUST_LOG=rumqttd=info shows the broker's own lines).
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,rumqttd=warn,rumqttd::server::broker=off".into());
    let fmt = tracing_subscriber::fmt::layer();
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![match log.format {
        LogFormat::Text => fmt.with_filter(filter).boxed(),
        // One object a line; a request's lines carry its id as `span.request_id`.
        LogFormat::Json => fmt
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    }];
    let provider = match tracing.otlp_endpoint.as_deref().map(str::trim) {
        Some(endpoint) if !endpoint.is_empty() => {
            let provider = provider(endpoint, tracing)?;
            let tracer = provider.tracer("weir");
            layers.push(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(filter_fn(exported).with_max_level_hint(LevelFilter::DEBUG))
                    .boxed(),
            );
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            Some(provider)
        }
        _ => None,
    };
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| TelemetryError::Installed(e.to_string()))?;
    Ok(Telemetry { provider })
}

fn provider(endpoint: &str, tracing: &TracingConfig) -> Result<SdkTracerProvider, TelemetryError> {
    let ratio = tracing.sample_ratio;
    if !(0.0..=1.0).contains(&ratio) {
        return Err(TelemetryError::SampleRatio(ratio));
    }
    let url = traces_url(endpoint);
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(url)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(tracing.service_name.clone())
                .build(),
        )
        .build())
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn a_base_url_gets_the_traces_path() {
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://tempo:4318/v1/traces"),
            "http://tempo:4318/v1/traces"
        );
    }
}
