//! Name resolution, behind a trait so that tests can answer what a hostile DNS would.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// Resolves a host name to the addresses of `port`. Blocking.
pub trait Resolve: Send + Sync + 'static {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// Why a resolution within a time limit gave nothing.
pub(crate) enum Failed {
    Error,
    Slow,
}

/// Resolves on a thread of its own and waits at most `timeout`: `getaddrinfo` takes no
/// time limit. A slow lookup keeps its thread until it returns, and its answer is dropped.
pub(crate) fn within(
    resolver: &Arc<dyn Resolve>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, Failed> {
    let (done, answer) = mpsc::sync_channel(1);
    let resolver = resolver.clone();
    let host = host.to_owned();
    std::thread::Builder::new()
        .name("weir-resolve".into())
        .spawn(move || {
            let _ = done.send(resolver.resolve(&host, port));
        })
        .map_err(|_| Failed::Error)?;
    match answer.recv_timeout(timeout) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failed::Error),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failed::Slow),
    }
}
