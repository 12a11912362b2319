//! The `datasource_connect` span around opening a connection (docs/operations.md,
//! "Traces"): the driver and where it connects, never the user or the password; under
//! `datasource_query` for a query. Captured by a layer of the test's own, on this thread
//! only; the servers are closed ports (the span is there whether the connect works or not).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use weir_bi_catalog::drivers::{ConnectionSpec, Drivers};
use weir_bi_catalog::query::{QueryRequest, plan};

use crate::common::{closed_port, drivers, spec};

/// A span as it was opened: its name, its parent's name and its fields.
#[derive(Debug, Clone)]
struct Opened {
    name: String,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct Capture(Arc<Mutex<Vec<Opened>>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.name().to_owned());
        self.0.lock().unwrap().push(Opened {
            name: attrs.metadata().name().to_owned(),
            parent,
            fields: fields.0,
        });
    }
}

/// The spans `call` opened, on this thread.
fn spans_of(call: impl FnOnce()) -> Vec<Opened> {
    let opened = Arc::new(Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Capture(opened.clone()));
    tracing::subscriber::with_default(subscriber, call);
    opened.lock().unwrap().clone()
}

fn connects(spans: &[Opened]) -> Vec<Opened> {
    spans
        .iter()
        .filter(|s| s.name == "datasource_connect")
        .cloned()
        .collect()
}

fn query(d: &impl Drivers, s: &ConnectionSpec) {
    let model = weir_bi_catalog::testing::shop_model("shop");
    let ask = QueryRequest {
        dimensions: vec!["region".into()],
        measures: vec!["credit".into()],
        ..QueryRequest::default()
    };
    let p = plan(&model, &ask, &BTreeMap::new(), 10).unwrap();
    // No such table (or no server): only the connect matters here.
    let _ = d.query(s, &p);
}

#[test]
fn a_server_connect_has_a_span_naming_the_driver_and_the_host_only() {
    for (driver, url, label) in [
        ("POSTGRESQL", "jdbc:postgresql", "postgresql"),
        ("MYSQL", "jdbc:mysql", "mysql"),
    ] {
        let port = closed_port();
        let s = spec(
            driver,
            &format!("{url}://127.0.0.1:{port}/shop?user=scott"),
            "scott",
            "tiger-pw",
        );
        let d = drivers();
        let spans = spans_of(|| {
            let _ = d.test(&s);
            query(&d, &s);
        });
        let found = connects(&spans);
        assert_eq!(found.len(), 2, "{driver}: {spans:?}");
        for span in &found {
            let expected = BTreeMap::from([
                ("driver".to_owned(), label.to_owned()),
                ("host".to_owned(), format!("127.0.0.1:{port}")),
            ]);
            assert_eq!(span.fields, expected, "{driver}");
        }
        // A test's connect is where the caller is; a query's, under the query's span.
        assert_eq!(found[0].parent, None, "{driver}");
        assert_eq!(
            found[1].parent.as_deref(),
            Some("datasource_query"),
            "{driver}"
        );
    }
}

#[test]
fn a_sqlite_open_has_a_span_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spans.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x int)")
        .unwrap();
    let s = spec("SQLITE", &format!("jdbc:sqlite:{}", path.display()), "", "");
    let d = drivers();
    let spans = spans_of(|| {
        d.test(&s).unwrap();
        query(&d, &s);
    });
    let found = connects(&spans);
    assert_eq!(found.len(), 2, "{spans:?}");
    for span in &found {
        assert_eq!(span.fields["driver"], "sqlite");
        assert_eq!(span.fields["host"], path.display().to_string());
    }
    assert_eq!(found[1].parent.as_deref(), Some("datasource_query"));
}
