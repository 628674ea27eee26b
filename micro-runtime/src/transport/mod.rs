//! Transports: how calls travel between a client and a server.
//!
//! The seam is a trait pair. On the client side a [`Connector`] turns a node address into a
//! [`Connection`], on which calls start (a unary call, or a stream). On the server side an
//! [`Acceptor`] serves one accepted connection against the route table ([`Dispatch`]).
//! Client and server see only these traits; which transport a call takes is the client's
//! [`TransportPolicy`](crate::client::TransportPolicy) and the node's advertised list.
//!
//! | Transport | Connector / acceptor | Bytes over |
//! |---|---|---|
//! | `grpc` | gRPC over HTTP/2 (and Connect and HTTP/1.1 JSON on the server) | TCP |
//! | `native` | micro's multiplexed framing ([`native`]) | TCP |
//! | `memory` | the native framing | an in-process pipe: no socket, no system call |
//!
//! Byte streams come from a [`Dialer`] (client) or a [`Listener`] (server), so a transport
//! never opens sockets itself: TLS ([`crate::tls`]) is a dialer and an acceptor that wrap
//! others. One port serves several transports through the [`Sniff`] acceptor, which looks at
//! the first byte a client sends and hands the connection to the transport that claims it.

pub(crate) mod grpc;
mod io;
pub(crate) mod memory;
pub(crate) mod native;
pub(crate) mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body::Frame;
use tokio::io::AsyncReadExt as _;
use tokio::sync::{mpsc, watch};

use crate::codec::Format;
use crate::context::Metadata;
use crate::endpoint::Dispatch;
use crate::error::{Error, Result};
use crate::wire::recv::PendingHead;

pub(crate) use crate::BoxFuture;

pub(crate) use io::{Io, Listener, Rewind, TcpDialer};

/// Where the byte stream of a new connection comes from: TCP, an in-process pipe, or (later)
/// TLS over one of them.
pub(crate) trait Dialer: Send + Sync + fmt::Debug {
    /// Open a byte stream to `addr`.
    fn dial<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, std::io::Result<Box<dyn Io>>>;
}

/// How a client's connectors dial and watch their connections.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DialSettings {
    /// How long dialing and the handshake may take.
    pub(crate) connect_timeout: Duration,
    /// Largest response message.
    pub(crate) max_recv: usize,
    /// Ping a connection with calls open after this long without a frame; drop it when the
    /// ping goes unanswered as long again.
    pub(crate) keepalive: Duration,
}

/// What every attempt of a call tells the server: where it goes and what comes with it.
#[derive(Debug)]
pub(crate) struct CallHead<'a> {
    /// The gRPC path, `/<package>.<Service>/<Method>`.
    pub(crate) path: &'a str,
    /// The wire format of the messages.
    pub(crate) format: Format,
    /// When the call must be done.
    pub(crate) deadline: Instant,
    /// The context's metadata and the call's own.
    pub(crate) metadata: [&'a Metadata; 2],
}

impl CallHead<'_> {
    /// The time left.
    pub(crate) fn timeout(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// The answer to a unary call.
#[derive(Debug)]
pub(crate) struct UnaryReply {
    /// The response message (without the length prefix).
    pub(crate) message: Bytes,
    /// Response header metadata.
    pub(crate) headers: Metadata,
    /// Response trailer metadata.
    pub(crate) trailers: Metadata,
}

/// A stream that started: where request frames go, and the response head to come.
pub(crate) struct StreamStart {
    pub(crate) requests: mpsc::Sender<Frame<Bytes>>,
    pub(crate) head: PendingHead,
}

/// A live connection to one node, on which calls start. Shared by every call to the node.
pub(crate) trait Connection: Send + Sync + fmt::Debug {
    /// One unary call: `frame` (a length-prefixed request message) out, the answer back.
    ///
    /// Errors say where the call failed (see [`Error::is_retry_safe`]): before the request
    /// left, or after.
    fn unary<'a>(
        &'a self,
        head: &'a CallHead<'a>,
        frame: Bytes,
    ) -> BoxFuture<'a, Result<UnaryReply>>;

    /// Open a stream.
    fn stream<'a>(&'a self, head: &'a CallHead<'a>) -> BoxFuture<'a, Result<StreamStart>>;

    /// True once no new call may start on it (it broke, or the server is going away).
    fn is_closed(&self) -> bool;

    /// The DNS names in the server's TLS certificate (none without TLS).
    fn peer_names(&self) -> &[String] {
        &[]
    }
}

/// Makes connections of one transport.
pub(crate) trait Connector: Send + Sync + fmt::Debug {
    /// The transport's name, as nodes advertise it (`grpc`, `native`, `memory`).
    fn name(&self) -> &'static str;

    /// Connect to `addr`.
    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, Result<Arc<dyn Connection>>>;
}

/// Serves accepted connections of one transport.
pub(crate) trait Acceptor: Send + Sync + fmt::Debug {
    /// Whether a connection whose first byte is `first` speaks this transport.
    fn claims(&self, first: u8) -> bool;

    /// Serve `io` until the peer goes away, or until `shutdown` turns true and the calls
    /// in flight are done.
    fn serve(
        &self,
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        dispatch: Arc<Dispatch>,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()>;
}

/// Several transports on one listener: the first byte of a connection (a client speaks
/// first in every transport micro has) picks the one that claims it.
#[derive(Debug)]
pub(crate) struct Sniff {
    acceptors: Vec<Arc<dyn Acceptor>>,
}

impl Sniff {
    /// Acceptors in the order they are asked; the last one usually claims everything.
    pub(crate) fn new(acceptors: Vec<Arc<dyn Acceptor>>) -> Sniff {
        Sniff { acceptors }
    }
}

impl Acceptor for Sniff {
    fn claims(&self, first: u8) -> bool {
        self.acceptors.iter().any(|a| a.claims(first))
    }

    fn serve(
        &self,
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        dispatch: Arc<Dispatch>,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        let acceptors = self.acceptors.clone();
        Box::pin(async move {
            let wait = dispatch.limits.handshake_timeout;
            let Some((first, io)) = first_byte(io, wait).await else {
                tracing::debug!(?peer, "connection closed before its first byte");
                return;
            };
            let Some(acceptor) = acceptors.iter().find(|a| a.claims(first)) else {
                if first == tls::HANDSHAKE {
                    tracing::debug!(?peer, "TLS on a plaintext port: closing the connection");
                } else {
                    tracing::debug!(?peer, first, "no transport speaks this connection");
                }
                return;
            };
            acceptor.serve(io, peer, dispatch, shutdown).await;
        })
    }
}

/// The first byte of `io` and the stream to serve: peeked where the stream can peek (TCP),
/// else read and handed back in front of the rest ([`Rewind`]). `None` when the peer sent
/// nothing within `wait` (the server's handshake timeout).
async fn first_byte(mut io: Box<dyn Io>, wait: Duration) -> Option<(u8, Box<dyn Io>)> {
    let mut byte = [0u8; 1];
    let peeked = tokio::time::timeout(
        wait,
        std::future::poll_fn(|cx| {
            let mut buf = tokio::io::ReadBuf::new(&mut byte);
            io.poll_peek(cx, &mut buf)
                .map(|poll| poll.map(|r| r.map(|_| buf.filled().len())))
                .unwrap_or(std::task::Poll::Ready(Ok(usize::MAX)))
        }),
    )
    .await;
    match peeked {
        Ok(Ok(1)) => return Some((byte[0], io)),
        Ok(Ok(usize::MAX)) => {}
        _ => return None,
    }
    // The stream cannot peek: read what has come and give it back first.
    let mut first = BytesMut::with_capacity(4096);
    let read = tokio::time::timeout(wait, io.read_buf(&mut first)).await;
    if !matches!(read, Ok(Ok(n)) if n > 0) {
        return None;
    }
    let byte = first[0];
    Some((byte, Box::new(Rewind::new(first.freeze(), io))))
}

/// The error for an address a dialer cannot reach.
pub(crate) fn dial_error(addr: &str, e: impl fmt::Display) -> Error {
    Error::unsent("connect to", addr, e)
}

/// What a plaintext TCP port serves: the native transport and gRPC on one port (told apart
/// by the first byte), or gRPC alone; a TLS handshake is refused (no transport claims it).
pub(crate) fn tcp_acceptor(native: bool) -> Arc<dyn Acceptor> {
    if native {
        Arc::new(Sniff::new(vec![
            Arc::new(native::NativeAcceptor),
            Arc::new(grpc::GrpcAcceptor),
        ]))
    } else {
        Arc::new(Sniff::new(vec![Arc::new(grpc::GrpcAcceptor)]))
    }
}
