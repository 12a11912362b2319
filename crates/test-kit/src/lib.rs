//! Start a whole Weir server in-process, on a free port and a fresh database, and call it
//! over real HTTP.
//!
//! The database is a new SQLite file in a temporary folder, or, when
//! `WEIR_TEST_DATABASE_URL` names a PostgreSQL database, a new schema in it that is
//! dropped when the [`TestApp`] goes. Any program that embeds Weir can use this kit for
//! its own tests.
//!
//! ```no_run
//! # async fn demo() {
//! let app = weir_test_kit::TestApp::spawn().await;
//! let admin = app.register_admin().await;
//! let (status, body) = app.call("GET", "/api/v1/user", Some(&admin), None).await;
//! assert_eq!(status, 200);
//! assert_eq!(body["data"]["is_super_admin"], true);
//! # }
//! ```

// Test code: a panic is how a test fails (docs/architecture.md, "Panics").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use rand::RngCore;

use serde_json::Value;
use weir::{Demo, Weir};
use weir_iot::integration::Integration;
use weir_mqtt::{Mode, Mqtt};
use weir_storage::testing::TestDatabase;

/// The environment variable naming a PostgreSQL database for tests.
pub use weir_storage::testing::POSTGRES_URL_VAR;

/// The settings a test may change before its server starts.
pub use weir::Settings;

/// The password [`TestApp::register_admin`] and [`TestApp::create_user`] give users.
pub const PASSWORD: &str = "correct-horse-9";

/// A logged-in user: their tokens and ids.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub email: String,
    pub user_id: String,
}

/// A running server on its own database, with the production defaults unless a test
/// changes them (see [`local_reach`] for servers that reach this machine).
pub struct TestApp {
    pub addr: SocketAddr,
    pub weir: Weir,
    client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    mqtt: Mutex<Option<Mqtt>>,
    demo: Mutex<Option<Demo>>,
    /// Shared with the servers [`TestApp::spawn_beside`] starts on it; gone with the last.
    database: Arc<TestDatabase>,
}

pub mod external;
pub mod oidc;

/// The environment variable naming the external broker MQTT tests use.
pub const MQTT_URL_VAR: &str = external::MOSQUITTO.var;

/// Settings for a server on the external `broker` ([`external::mqtt`]), with a client id
/// and a topic prefix of its own, so tests running side by side on one broker do not see
/// each other's messages: `TestApp::spawn_with(|s| external_mqtt(s, &broker))`.
pub fn external_mqtt(settings: &mut Settings, broker: &external::Address) {
    let unique = unique_suffix();
    settings.mqtt.mode = Mode::External;
    settings.mqtt.url = Some(broker.url.clone());
    settings.mqtt.client_id = format!("weir-test-{unique}");
    settings.mqtt.topic_prefix = format!("weir-test/{unique}");
}

/// Settings for a server on the external broker when `WEIR_TEST_MQTT_URL` names one, and
/// on the embedded broker otherwise, for tests that hold on either:
/// `TestApp::spawn_with(weir_test_kit::any_mqtt)`.
pub fn any_mqtt(settings: &mut Settings) {
    match external::MOSQUITTO.address() {
        Some(broker) => external_mqtt(settings, &broker),
        None => embedded_mqtt(settings),
    }
}

/// Settings for a server running the embedded broker on a free port of 127.0.0.1:
/// `TestApp::spawn_with(weir_test_kit::embedded_mqtt)`.
pub fn embedded_mqtt(settings: &mut Settings) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    settings.mqtt.mode = Mode::Embedded;
    settings.mqtt.embedded.addr = format!("127.0.0.1:{port}");
    settings.mqtt.client_id = format!("weir-test-{}", unique_suffix());
}

/// Settings for a server that reaches this machine's own services on a user's behalf, as
/// tests of webhooks, email nodes and datasources need:
/// `TestApp::spawn_with(weir_test_kit::local_reach)`. Loopback goes into `outbound.allow`
/// (local HTTP receivers, SMTP sinks, PostgreSQL, MariaDB) and the system's temporary
/// folder becomes `bi.sqlite_folder` (SQLite datasources made with `tempfile`). Without it
/// a test server has the real defaults: no internal address, no SQLite datasource. Weir's
/// own database stays refused either way.
pub fn local_reach(settings: &mut Settings) {
    settings.outbound.allow = vec!["127.0.0.0/8".into(), "::1".into()];
    settings.bi.sqlite_folder = Some(std::env::temp_dir());
}

fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestApp {
    /// A server with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose settings `tweak` may change first (the database and address are
    /// set by the kit).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::spawn_with_integrations(tweak, Vec::new()).await
    }

    /// A server that also runs these integrations, as a program embedding Weir would
    /// register its own device plug-ins.
    pub async fn spawn_with_integrations(
        tweak: impl FnOnce(&mut Settings),
        integrations: Vec<Arc<dyn Integration>>,
    ) -> Self {
        // The process's one metrics recorder, before any server of the process runs: every
        // server records from its first request, so a gauge (open WebSockets) is never
        // decremented for what was counted before the recorder. Each test that reads the
        // metrics turns them on for its own server (`metrics.enabled`).
        weir::prometheus::handle();
        let mut settings = Self::test_settings();
        tweak(&mut settings);
        let database = tokio::task::spawn_blocking(TestDatabase::new)
            .await
            .expect("database task")
            .expect("a fresh test database");
        Self::start(settings, integrations, Arc::new(database)).await
    }

    /// Another server on this one's database, as a second Weir process of one service
    /// would be (docs/scaling.md), with settings `tweak` may change.
    pub async fn spawn_beside(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Self::test_settings();
        tweak(&mut settings);
        Self::start(settings, Vec::new(), self.database.clone()).await
    }

    /// The production defaults with what every test server differs in.
    fn test_settings() -> Settings {
        let mut settings = Settings::default();
        settings.http.addr = "127.0.0.1:0".into();
        // Tests that want MQTT ask for it (external_mqtt, embedded_mqtt).
        settings.mqtt.mode = Mode::Off;
        settings.http.workers = Some(1);
        settings.database.pool_size = 4;
        settings
    }

    async fn start(
        mut settings: Settings,
        integrations: Vec<Arc<dyn Integration>>,
        database: Arc<TestDatabase>,
    ) -> Self {
        settings.database.url = database.url.clone();
        let weir = tokio::task::spawn_blocking(move || Weir::assemble_with(settings, integrations))
            .await
            .expect("assemble task")
            .expect("assemble Weir");
        weir.start_workflows()
            .await
            .expect("start the workflow runtime");
        let (server, addr) = weir.serve().expect("bind test server");
        let handle = server.handle();
        tokio::spawn(server);
        let mqtt = weir.start_mqtt().expect("start MQTT");
        let demo = weir.start_demo().expect("start the demo devices");
        Self {
            addr,
            mqtt: Mutex::new(Some(mqtt)),
            demo: Mutex::new(Some(demo)),
            weir,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            handle,
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A reqwest client for requests the helpers below do not cover.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a JSON request and returns the status and the parsed JSON body (`Null` when
    /// the body is not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<&Session>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(s) = who {
            req = req.bearer_auth(&s.access_token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    /// Sends a raw body with a content type (for malformed-input tests).
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        who: Option<&Session>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(s) = who {
            req = req.bearer_auth(&s.access_token);
        }
        Self::read(req.send().await.expect("request sent")).await
    }

    async fn read(res: reqwest::Response) -> (u16, Value) {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Logs in with the password grant; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let (status, body) = self
            .token_request(
                &[
                    ("grant_type", "password"),
                    ("username", email),
                    ("password", password),
                ],
                None,
            )
            .await;
        assert_eq!(status, 200, "login of {email} failed: {body}");
        let data = &body["data"];
        let access_token = data["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        let probe = Session {
            access_token: access_token.clone(),
            refresh_token: String::new(),
            email: email.into(),
            user_id: String::new(),
        };
        let (_, me) = self.call("GET", "/api/v1/user", Some(&probe), None).await;
        Session {
            access_token,
            refresh_token: data["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
            email: email.into(),
            user_id: me["data"]["user_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Posts a form to the token endpoint with the default client credentials.
    pub async fn token_request(&self, form: &[(&str, &str)], tenant: Option<&str>) -> (u16, Value) {
        let mut fields: Vec<(&str, &str)> =
            vec![("client_id", "iab"), ("client_secret", "milesight*iab")];
        fields.extend_from_slice(form);
        let mut req = self
            .client
            .post(self.url("/api/v1/oauth2/token"))
            .form(&fields);
        if let Some(t) = tenant {
            req = req.header("TENANT-ID", t);
        }
        Self::read(req.send().await.expect("token request sent")).await
    }

    /// Registers the first user of the default tenant (`admin@weir.test`) and logs in.
    pub async fn register_admin(&self) -> Session {
        let (status, body) = self
            .call("POST", "/api/v1/user/register", None, Some(serde_json::json!({"email": "admin@weir.test", "nickname": "Admin", "password": PASSWORD})))
            .await;
        assert_eq!(status, 200, "register failed: {body}");
        self.login("admin@weir.test", PASSWORD).await
    }

    /// Creates a user through the API as `admin` and logs them in.
    pub async fn create_user(&self, admin: &Session, email: &str) -> Session {
        let (status, body) = self
            .call("POST", "/api/v1/user/members", Some(admin), Some(serde_json::json!({"email": email, "nickname": email.split('@').next().unwrap_or(email), "password": PASSWORD})))
            .await;
        assert_eq!(status, 200, "create user failed: {body}");
        self.login(email, PASSWORD).await
    }

    /// The id of a seeded menu or function code.
    pub async fn menu_id(&self, admin: &Session, code: &str) -> String {
        fn find(nodes: &Value, code: &str) -> Option<String> {
            nodes.as_array()?.iter().find_map(|n| {
                if n["code"] == code {
                    n["menu_id"].as_str().map(str::to_owned)
                } else {
                    find(&n["children"], code)
                }
            })
        }
        let (_, body) = self
            .call("GET", "/api/v1/user/menus", Some(admin), None)
            .await;
        find(&body["data"], code).unwrap_or_else(|| panic!("no menu {code}"))
    }

    /// Stops the server, the demo devices and MQTT (also done, without waiting, when the
    /// TestApp is dropped).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
        let demo = self.demo.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(demo) = demo {
            demo.stop().await;
        }
        self.stop_mqtt().await;
    }

    /// Where the embedded MQTT broker listens, when it runs.
    pub fn mqtt_broker(&self) -> Option<SocketAddr> {
        self.mqtt_slot().as_ref().and_then(Mqtt::embedded_broker)
    }

    /// Where rumqttd itself listens behind the embedded broker's gate, once it does.
    pub fn mqtt_internal_port(&self) -> Option<SocketAddr> {
        self.mqtt_slot()
            .as_ref()
            .and_then(Mqtt::embedded_internal_port)
    }

    /// Whether Weir's MQTT client runs.
    pub fn mqtt_running(&self) -> bool {
        self.mqtt_slot().as_ref().is_some_and(Mqtt::is_running)
    }

    /// Waits (10 s at most) until Weir's MQTT client is connected and subscribed, so a
    /// test device's messages reach it; panics otherwise.
    pub async fn wait_mqtt_ready(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.mqtt_slot().as_ref().is_some_and(Mqtt::is_ready) {
            assert!(
                std::time::Instant::now() < deadline,
                "Weir's MQTT client did not subscribe within 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops MQTT cleanly, as at shutdown; the broker keeps Weir's session.
    pub async fn stop_mqtt(&self) {
        let mqtt = self.mqtt_slot().take();
        if let Some(mqtt) = mqtt {
            mqtt.stop().await;
        }
    }

    /// Starts MQTT again (after [`Self::stop_mqtt`]), under the same client id.
    pub fn start_mqtt(&self) {
        let mqtt = self.weir.start_mqtt().expect("start MQTT");
        *self.mqtt_slot() = Some(mqtt);
    }

    fn mqtt_slot(&self) -> std::sync::MutexGuard<'_, Option<Mqtt>> {
        self.mqtt.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
        drop(self.mqtt_slot().take());
        // A test's session at the external broker is not needed again: end it, so the
        // broker does not keep a subscription per test run.
        let mqtt = self.weir.settings.mqtt.to_mqtt();
        if mqtt.mode == Mode::External {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let _ = runtime.block_on(weir_mqtt::forget_session(&mqtt));
                Ok::<_, std::io::Error>(())
            })
            .join();
        }
    }
}
