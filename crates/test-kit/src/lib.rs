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

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use weir::{Settings, Weir};
use weir_iot::integration::Integration;
use weir_storage::testing::TestDatabase;

/// The environment variable naming a PostgreSQL database for tests.
pub use weir_storage::testing::POSTGRES_URL_VAR;

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

/// A running server on its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub weir: Weir,
    client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    _database: TestDatabase,
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
        let mut settings = Settings::default();
        settings.http.addr = "127.0.0.1:0".into();
        settings.http.workers = Some(1);
        settings.database.pool_size = 4;
        tweak(&mut settings);
        let database = tokio::task::spawn_blocking(TestDatabase::new)
            .await
            .expect("database task")
            .expect("a fresh test database");
        settings.database.url = database.url.clone();
        let weir = tokio::task::spawn_blocking(move || Weir::assemble_with(settings, integrations))
            .await
            .expect("assemble task")
            .expect("assemble Weir");
        let (server, addr) = weir.serve().expect("bind test server");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            addr,
            weir,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            handle,
            _database: database,
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

    /// Stops the server (also done, without waiting, when the TestApp is dropped).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}
