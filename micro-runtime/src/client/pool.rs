//! One multiplexed HTTP/2 connection per node address, reused by every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::error::{Error, Failure, Result};
use crate::grpc::body::{Body, reason_of};

const ID: &str = "micro.client";

#[derive(Debug)]
pub(crate) struct Pool {
    conns: RwLock<HashMap<String, SendRequest<Body>>>,
    native: RwLock<HashMap<String, Arc<crate::native::client::Conn>>>,
    max_recv: usize,
    dialing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    connect_timeout: Duration,
}

/// A request whose response is still on its way.
pub(crate) type Pending =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Incoming>>> + Send>>;

pub(crate) fn before_send(addr: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::unavailable(ID, format!("{what} {addr} failed: {e}")).with_failure(Failure::BeforeSend)
}

impl Pool {
    pub(crate) fn new(connect_timeout: Duration, max_recv: usize) -> Pool {
        Pool {
            conns: RwLock::new(HashMap::new()),
            native: RwLock::new(HashMap::new()),
            max_recv,
            dialing: Mutex::new(HashMap::new()),
            connect_timeout,
        }
    }

    fn cached(&self, addr: &str) -> Option<SendRequest<Body>> {
        let conns = self.conns.read().unwrap_or_else(|e| e.into_inner());
        conns.get(addr).filter(|tx| !tx.is_closed()).cloned()
    }

    fn evict(&self, addr: &str) {
        let mut conns = self.conns.write().unwrap_or_else(|e| e.into_inner());
        if conns.get(addr).is_some_and(|tx| tx.is_closed()) {
            conns.remove(addr);
        }
    }

    fn cached_native(&self, addr: &str) -> Option<Arc<crate::native::client::Conn>> {
        let conns = self.native.read().unwrap_or_else(|e| e.into_inner());
        conns.get(addr).filter(|c| !c.is_closed()).cloned()
    }

    fn dial_lock(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut dialing = self.dialing.lock().unwrap_or_else(|e| e.into_inner());
        dialing.entry(key).or_default().clone()
    }

    /// A live native-transport connection to `addr`, dialing one if needed.
    pub(crate) async fn native(&self, addr: &str) -> Result<Arc<crate::native::client::Conn>> {
        if let Some(conn) = self.cached_native(addr) {
            return Ok(conn);
        }
        let lock = self.dial_lock(format!("native://{addr}"));
        let _guard = lock.lock().await;
        if let Some(conn) = self.cached_native(addr) {
            return Ok(conn);
        }
        let conn =
            crate::native::client::Conn::connect(addr, self.connect_timeout, self.max_recv).await?;
        self.native
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(addr.to_owned(), conn.clone());
        Ok(conn)
    }

    /// A live connection to `addr`, dialing one if needed (one dial per address at a time).
    async fn connection(&self, addr: &str) -> Result<SendRequest<Body>> {
        if let Some(tx) = self.cached(addr) {
            return Ok(tx);
        }
        let lock = self.dial_lock(addr.to_owned());
        let _guard = lock.lock().await;
        if let Some(tx) = self.cached(addr) {
            return Ok(tx);
        }
        let stream = tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                before_send(
                    addr,
                    "connect to",
                    format!("no answer within {:?}", self.connect_timeout),
                )
            })?
            .map_err(|e| before_send(addr, "connect to", e))?;
        let _ = stream.set_nodelay(true);
        let (tx, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(1024 * 1024)
            .initial_connection_window_size(2 * 1024 * 1024)
            .max_send_buf_size(1024 * 1024)
            .keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| before_send(addr, "HTTP/2 handshake with", e))?;
        let peer = addr.to_owned();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(addr = %peer, error = %e, "connection closed");
            }
        });
        self.conns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(addr.to_owned(), tx.clone());
        Ok(tx)
    }

    /// Start a request on `addr`. Errors before the request left are marked
    /// [`Failure::BeforeSend`]; the returned future resolves with the response headers.
    pub(crate) async fn start(&self, addr: &str, req: Request<Body>) -> Result<Pending> {
        let mut tx = self.connection(addr).await?;
        if tx.ready().await.is_err() {
            // The pooled connection died (the node restarted or went away): dial again once.
            self.evict(addr);
            tx = self.connection(addr).await?;
            tx.ready()
                .await
                .map_err(|e| before_send(addr, "connection to", e))?;
        }
        let fut = tx.try_send_request(req);
        let addr = addr.to_owned();
        Ok(Box::pin(async move {
            match fut.await {
                Ok(rsp) => Ok(rsp),
                Err(mut e) => {
                    let unsent = e.take_message().is_some();
                    let err = e.into_error();
                    let refused = reason_of(&err) == Some(h2::Reason::REFUSED_STREAM);
                    if unsent || refused {
                        Err(before_send(&addr, "request to", err))
                    } else {
                        Err(Error::unavailable(
                            ID,
                            format!("connection to {addr} failed during the call: {err}"),
                        )
                        .with_failure(Failure::AfterSend))
                    }
                }
            }
        }))
    }
}
