//! Servers on local ports for tests (feature `testing`): [`SmtpSink`], which takes any email
//! and keeps it, [`HttpReceiver`], which records HTTP requests and answers as told, and
//! [`Banner`], a service that greets with a line of its own (to show that no client quotes
//! what another service sent).
//!
//! All listen on `127.0.0.1`, port 0, on threads of their own, and stop when dropped.

// Servers for tests only: a panic is how a test fails.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// How long a connection may stay silent before the server hangs up.
const IDLE: Duration = Duration::from_secs(30);

/// Accepts connections on a thread until `stop` is set, handing each to `handle` on a
/// thread of its own.
fn serve(
    handle: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local test port");
    let addr = listener.local_addr().expect("the test port's address");
    let stop = Arc::new(AtomicBool::new(false));
    let handle = Arc::new(handle);
    let stopping = Arc::clone(&stop);
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(IDLE));
            let handle = Arc::clone(&handle);
            let stopping = Arc::clone(&stopping);
            thread::spawn(move || handle(stream, &stopping));
        }
    });
    (addr, stop)
}

/// Stops the accept loop: sets the flag, then wakes the loop with a connection.
fn shut_down(addr: SocketAddr, stop: &AtomicBool) {
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------
// SMTP
// ---------------------------------------------------------------------------------------

/// An email as the [`SmtpSink`] received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The MAIL FROM address, without angle brackets.
    pub from: String,
    /// The RCPT TO addresses, without angle brackets, in order.
    pub recipients: Vec<String>,
    /// What came after DATA, dot-unstuffed, without the final `.` line (CRLF line ends).
    pub data: String,
    /// The user who authenticated, if any did.
    pub user: Option<String>,
}

/// A local SMTP server that accepts email and keeps it: EHLO/HELO, AUTH PLAIN and LOGIN
/// (offered only with [`SmtpSinkBuilder::credentials`], and then required before MAIL),
/// MAIL, RCPT, DATA, RSET, NOOP, QUIT. No TLS.
pub struct SmtpSink {
    addr: SocketAddr,
    messages: Arc<Mutex<Vec<ReceivedMail>>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Options of an [`SmtpSink`].
#[derive(Debug, Clone, Default)]
pub struct SmtpSinkBuilder {
    credentials: Option<(String, String)>,
    refused_recipients: Vec<String>,
}

impl SmtpSinkBuilder {
    /// Offers AUTH PLAIN and LOGIN and requires them, accepting only this user and password.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Answers RCPT TO for this address with `550`.
    pub fn refuse_recipient(mut self, address: impl Into<String>) -> Self {
        self.refused_recipients.push(address.into());
        self
    }

    pub fn start(self) -> SmtpSink {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&messages);
        let options = Arc::new(self);
        let (addr, stop) = serve(move |stream, _| {
            let _ = smtp_session(stream, &options, &kept);
        });
        SmtpSink {
            addr,
            messages,
            stop,
        }
    }
}

impl SmtpSink {
    /// A sink that needs no authentication and accepts every recipient.
    pub fn start() -> SmtpSink {
        SmtpSinkBuilder::default().start()
    }

    pub fn builder() -> SmtpSinkBuilder {
        SmtpSinkBuilder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emails received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.messages).clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        shut_down(self.addr, &self.stop);
    }
}

/// The address inside `FROM:<a@b> SIZE=1` or `TO:<a@b>`.
fn path_argument(argument: &str) -> String {
    let after_colon = argument
        .split_once(':')
        .map_or(argument, |(_, rest)| rest)
        .trim();
    match (after_colon.find('<'), after_colon.find('>')) {
        (Some(start), Some(end)) if start < end => after_colon[start + 1..end].to_owned(),
        _ => after_colon
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

fn decode64(text: &str) -> Option<String> {
    BASE64
        .decode(text.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}

/// One line without its line end; `None` at the end of the stream.
fn read_line(input: &mut BufReader<TcpStream>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

fn smtp_session(
    stream: TcpStream,
    options: &SmtpSinkBuilder,
    messages: &Mutex<Vec<ReceivedMail>>,
) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut reply = |text: &str| out.write_all(format!("{text}\r\n").as_bytes());

    reply("220 weir-sink ESMTP ready")?;
    let mut user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();

    while let Some(line) = read_line(&mut input)? {
        let (verb, argument) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                reply("250-weir-sink greets you")?;
                if options.credentials.is_some() {
                    reply("250-AUTH PLAIN LOGIN")?;
                }
                reply("250-8BITMIME")?;
                reply("250 SMTPUTF8")?;
            }
            "HELO" => reply("250 weir-sink")?,
            "AUTH" => {
                let Some((expected_user, expected_password)) = &options.credentials else {
                    reply("502 5.5.1 AUTH not offered")?;
                    continue;
                };
                let mut words = argument.split_whitespace();
                let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
                let initial = words.next().map(str::to_owned);
                let given = match mechanism.as_str() {
                    "PLAIN" => {
                        let response = match initial {
                            Some(i) => i,
                            None => {
                                reply("334 ")?;
                                read_line(&mut input)?.unwrap_or_default()
                            }
                        };
                        // authzid \0 authcid \0 password
                        decode64(&response).and_then(|plain| {
                            let mut parts = plain.split('\0');
                            let _authzid = parts.next()?;
                            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                        })
                    }
                    "LOGIN" => {
                        let name = match initial {
                            Some(i) => i,
                            None => {
                                reply("334 VXNlcm5hbWU6")?;
                                read_line(&mut input)?.unwrap_or_default()
                            }
                        };
                        reply("334 UGFzc3dvcmQ6")?;
                        let password = read_line(&mut input)?.unwrap_or_default();
                        decode64(&name).zip(decode64(&password))
                    }
                    _ => {
                        reply("504 5.5.4 Unrecognized authentication type")?;
                        continue;
                    }
                };
                match given {
                    Some((u, p)) if &u == expected_user && &p == expected_password => {
                        user = Some(u);
                        reply("235 2.7.0 Authentication successful")?;
                    }
                    _ => reply("535 5.7.8 Authentication credentials invalid")?,
                }
            }
            "MAIL" => {
                if options.credentials.is_some() && user.is_none() {
                    reply("530 5.7.0 Authentication required")?;
                } else {
                    from = Some(path_argument(argument));
                    recipients.clear();
                    reply("250 2.1.0 OK")?;
                }
            }
            "RCPT" => {
                let recipient = path_argument(argument);
                if from.is_none() {
                    reply("503 5.5.1 MAIL first")?;
                } else if options
                    .refused_recipients
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&recipient))
                {
                    reply(&format!(
                        "550 5.1.1 <{recipient}>: Recipient address rejected"
                    ))?;
                } else {
                    recipients.push(recipient);
                    reply("250 2.1.5 OK")?;
                }
            }
            "DATA" => {
                if recipients.is_empty() {
                    reply("503 5.5.1 RCPT first")?;
                    continue;
                }
                reply("354 End data with <CR><LF>.<CR><LF>")?;
                let mut data = String::new();
                loop {
                    let Some(line) = read_line(&mut input)? else {
                        return Ok(());
                    };
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                lock(messages).push(ReceivedMail {
                    from: from.take().unwrap_or_default(),
                    recipients: std::mem::take(&mut recipients),
                    data,
                    user: user.clone(),
                });
                reply("250 2.0.0 OK queued")?;
            }
            "RSET" => {
                from = None;
                recipients.clear();
                reply("250 2.0.0 OK")?;
            }
            "NOOP" => reply("250 2.0.0 OK")?,
            "QUIT" => {
                reply("221 2.0.0 Bye")?;
                return Ok(());
            }
            _ => reply("502 5.5.2 Command not recognized")?,
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/// An HTTP request as the [`HttpReceiver`] received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    /// Header names as sent (HTTP/1 clients often send them in lower case).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    /// The first header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the [`HttpReceiver`] answers a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An answer with this status, these headers and this body.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// No answer: the connection stays open, silent, until the receiver is dropped (or 30 s
    /// pass).
    Hang,
}

impl Reply {
    /// An answer with `status` and an empty body.
    pub fn status(status: u16) -> Reply {
        Reply::Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn body(self, text: impl Into<Vec<u8>>) -> Reply {
        match self {
            Reply::Answer {
                status, headers, ..
            } => Reply::Answer {
                status,
                headers,
                body: text.into(),
            },
            Reply::Hang => Reply::Hang,
        }
    }

    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Reply {
        match self {
            Reply::Answer {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.into(), value.into()));
                Reply::Answer {
                    status,
                    headers,
                    body,
                }
            }
            Reply::Hang => Reply::Hang,
        }
    }
}

/// A local HTTP/1.1 server that records every request and answers it as a function of the
/// request decides, one request per connection (`Connection: close`).
pub struct HttpReceiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<ReceivedRequest>>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for HttpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpReceiver")
            .field("addr", &self.addr)
            .finish()
    }
}

impl HttpReceiver {
    /// Answers every request with what `answer` says for it.
    pub fn start(answer: impl Fn(&ReceivedRequest) -> Reply + Send + Sync + 'static) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&requests);
        let (addr, stop) = serve(move |stream, stop| {
            let _ = http_exchange(stream, stop, &answer, &kept);
        });
        HttpReceiver {
            addr,
            requests,
            stop,
        }
    }

    /// Answers every request with `status` and `body`.
    pub fn answering(status: u16, body: &str) -> Self {
        let body = body.to_owned();
        Self::start(move |_| Reply::status(status).body(body.clone()))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.requests).clone()
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        shut_down(self.addr, &self.stop);
    }
}

fn http_exchange(
    stream: TcpStream,
    stop: &AtomicBool,
    answer: &dyn Fn(&ReceivedRequest) -> Reply,
    requests: &Mutex<Vec<ReceivedRequest>>,
) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    let mut request_line = String::new();
    if input.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    let request = ReceivedRequest {
        method,
        path,
        headers,
        body,
    };
    let reply = answer(&request);
    lock(requests).push(request);

    match reply {
        Reply::Hang => {
            let until = Instant::now() + IDLE;
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
        Reply::Answer {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            for (name, value) in &headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            out.write_all(head.as_bytes())?;
            out.write_all(&body)?;
            out.flush()
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------
// Any other service
// ---------------------------------------------------------------------------------------

/// A local service that writes its banner (`SSH-2.0-...`) to whoever connects, then reads
/// until the client hangs up.
pub struct Banner {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Banner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Banner").field("addr", &self.addr).finish()
    }
}

impl Banner {
    pub fn start(banner: &str) -> Self {
        let banner = banner.to_owned();
        let (addr, stop) = serve(move |mut stream, _| {
            let _ = stream.write_all(banner.as_bytes());
            let mut buf = [0u8; 512];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        });
        Banner { addr, stop }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Banner {
    fn drop(&mut self) {
        shut_down(self.addr, &self.stop);
    }
}
