//! A real OpenID Connect provider for the single sign-on tests, and a small browser to sign
//! in through it.
//!
//! The provider is the certified `oidc-provider` package from npm, configured by
//! `tests/oidc-provider/provider.mjs` and started by each test on a port of its own. It
//! needs Node.js and the package installed (`npm ci --prefix tests/oidc-provider`);
//! `WEIR_TEST_OIDC_PROVIDER` names that folder (relative to the workspace, or absolute).
//! Unset, the tests return early and print one line saying what to set.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

/// The variable naming the provider's folder.
pub const VAR: &str = "WEIR_TEST_OIDC_PROVIDER";

/// The provider's folder, or `None` (the skip line printed once per test process).
pub fn provider_dir() -> Option<PathBuf> {
    let Some(raw) = std::env::var(VAR).ok().filter(|v| !v.is_empty()) else {
        static SAID: Mutex<bool> = Mutex::new(false);
        let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
        if !*said {
            *said = true;
            let _ = writeln!(
                std::io::stderr().lock(),
                "skipped: set {VAR}=tests/oidc-provider (after `npm ci --prefix tests/oidc-provider`; needs Node.js) to run the single sign-on tests"
            );
        }
        return None;
    };
    let mut dir = PathBuf::from(&raw);
    if dir.is_relative() {
        dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir);
    }
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "{VAR}={raw:?}: no node_modules/oidc-provider there; run `npm ci --prefix {raw}`"
    );
    Some(dir)
}

/// A client the provider knows.
#[derive(Debug, Clone)]
pub struct OidcClient {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

/// A running provider, stopped when dropped.
#[derive(Debug)]
pub struct OidcProvider {
    /// Its issuer (`http://127.0.0.1:PORT`).
    pub issuer: String,
    child: Child,
}

impl OidcProvider {
    /// Starts the provider in `dir` with `clients`; `accounts` maps login names to extra
    /// claims (`{"alice": {"groups": ["admins"]}}`). Waits until it listens.
    pub fn start(dir: &std::path::Path, clients: &[OidcClient], accounts: Value) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let clients: Vec<Value> = clients
            .iter()
            .map(|c| {
                serde_json::json!({
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "redirect_uris": c.redirect_uris,
                })
            })
            .collect();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("OP_PORT", port.to_string())
            .env("OP_CLIENTS", Value::from(clients).to_string())
            .env("OP_ACCOUNTS", accounts.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts (is Node.js installed?)");
        let stdout = child.stdout.take().expect("stdout");
        let (ready, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let said = lines.next().and_then(Result::ok);
            let _ = ready.send(said);
            // Keep reading, so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let said = wait.recv_timeout(Duration::from_secs(30)).ok().flatten();
        if said.as_deref() != Some("listening") {
            let _ = child.kill();
            panic!("the OpenID provider did not start (it said {said:?})");
        }
        Self {
            issuer: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a browser ended up: the last answer, which was not a redirect to follow.
#[derive(Debug)]
pub struct Page {
    pub url: String,
    pub status: u16,
    /// `Location`, for a redirect the browser was told not to follow.
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A browser enough for signing in: follows redirects itself, keeping each host's cookies
/// (paths are not told apart), and stops at hosts it is told to stop at.
#[derive(Debug)]
pub struct Browser {
    client: reqwest::Client,
    cookies: HashMap<String, Vec<(String, String)>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    /// The browser's cookies for `url`'s host, as a `Cookie` header.
    fn cookie_header(&self, url: &reqwest::Url) -> Option<String> {
        let jar = self.cookies.get(&host_of(url))?;
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn keep_cookies(&mut self, url: &reqwest::Url, headers: &reqwest::header::HeaderMap) {
        let jar = self.cookies.entry(host_of(url)).or_default();
        for value in headers.get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let removed = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            jar.retain(|(k, _)| k != name.trim());
            if !removed {
                jar.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }

    /// Forgets the cookies of `url`'s host (another browser, as far as that host knows).
    pub fn forget(&mut self, url: &str) {
        let url = reqwest::Url::parse(url).expect("a URL");
        self.cookies.remove(&host_of(&url));
    }

    /// Sends one request (a form when `form` is given) and follows redirects, except to a
    /// URL starting with one of `stop_at`.
    pub async fn go(&mut self, url: &str, form: Option<&[(&str, &str)]>, stop_at: &[&str]) -> Page {
        let mut url = reqwest::Url::parse(url).expect("a URL");
        let mut form = form.map(|f| {
            f.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        });
        for _ in 0..20 {
            let mut request = match &form {
                Some(fields) => self.client.post(url.clone()).form(fields),
                None => self.client.get(url.clone()),
            };
            if let Some(cookies) = self.cookie_header(&url) {
                request = request.header(reqwest::header::COOKIE, cookies);
            }
            let answer = request.send().await.expect("request sent");
            self.keep_cookies(&url, answer.headers());
            let status = answer.status().as_u16();
            let location = answer
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| url.join(l).expect("a Location URL").to_string());
            match location {
                Some(next)
                    if answer.status().is_redirection()
                        && !stop_at.iter().any(|s| next.starts_with(s)) =>
                {
                    url = reqwest::Url::parse(&next).expect("a URL");
                    form = None;
                }
                _ => {
                    return Page {
                        url: url.to_string(),
                        status,
                        location,
                        body: answer.text().await.unwrap_or_default(),
                    };
                }
            }
        }
        panic!("more than 20 redirects from {url}");
    }

    /// Signs in as `login` on the provider's development login page this browser is on
    /// (`page`), and follows on from there.
    pub async fn sign_in_at(&mut self, page: &Page, login: &str, stop_at: &[&str]) -> Page {
        assert!(
            page.url.contains("/interaction/"),
            "expected the provider's login page, got {} {}: {}",
            page.status,
            page.url,
            page.body.chars().take(300).collect::<String>()
        );
        let fields = [("prompt", "login"), ("login", login), ("password", "any")];
        self.go(&page.url, Some(&fields), stop_at).await
    }
}

fn host_of(url: &reqwest::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}
