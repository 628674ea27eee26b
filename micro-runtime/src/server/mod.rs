//! The server side: endpoints ([`Route`], [`Router`]) and the gRPC server that serves them.
//!
//! Handlers are plain async closures over typed messages; generated code (from `.proto`
//! files or `#[micro::service]` traits) builds these same routes.
//!
//! ```
//! use micro_runtime::server::{Route, Router};
//! use micro_runtime::stream::StreamSender;
//!
//! #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! struct Count { #[prost(uint32, tag = "1")] #[serde(default)] n: u32 }
//! impl micro_runtime::codec::ProstSerde for Count {}
//!
//! let router = Router::new()
//!     .route(Route::unary("Counter.Double", |_ctx, c: Count| async move {
//!         Ok(Count { n: c.n * 2 })
//!     }))
//!     .route(Route::server_stream("Counter.Upto", |_ctx, c: Count, tx: StreamSender<Count>| async move {
//!         for n in 0..c.n {
//!             tx.send(&Count { n }).await?;
//!         }
//!         Ok(())
//!     }));
//! ```

mod connect;
mod router;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::codec::Format;
use crate::context::{CallInfo, Context, SharedResponse};
use crate::error::{Error, Result};
use crate::grpc::body::{Body, RecvBody, Side};
use crate::grpc::{self, GRPC_TIMEOUT};

pub(crate) use router::{Call, Input, Lookup, Output, Table};
pub use router::{Handler, Route, Router, StreamKind};

const ID: &str = "micro.server";

/// Limits that protect a server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_recv: usize,
    pub(crate) max_send: usize,
    pub(crate) max_concurrent_streams: u32,
    pub(crate) max_header_list_size: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_recv: grpc::DEFAULT_MAX_MESSAGE_SIZE,
            max_send: grpc::DEFAULT_MAX_MESSAGE_SIZE,
            max_concurrent_streams: 200,
            max_header_list_size: 16 * 1024,
        }
    }
}

/// Everything a connection needs to serve calls.
pub(crate) struct Shared {
    pub(crate) table: Table,
    pub(crate) service: Arc<str>,
    pub(crate) limits: Limits,
    /// Whether connections may speak the native transport (besides gRPC and HTTP/1.1).
    pub(crate) native: bool,
}

/// A server accepting connections in the background.
#[derive(Debug)]
pub(crate) struct Running {
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting, let open calls finish within `grace`, then close everything.
    pub(crate) async fn stop(self) {
        self.shutdown.send_replace(true);
        let _ = self.task.await;
    }
}

/// Start serving `listener`.
pub(crate) fn start(listener: TcpListener, shared: Arc<Shared>, grace: Duration) -> Running {
    let (shutdown, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, shared, rx, grace));
    Running { shutdown, task }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_connection(stream, peer, shared.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Never stop accepting because one accept failed (too many open files,
                    // a connection reset before accept ...): wait a little and go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            remaining = conns.len(),
            grace = ?grace,
            "calls still running after the grace period; closing their connections"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// The first byte of a connection tells the native transport from HTTP: a client speaks
/// first in both, and no HTTP request starts with a zero byte.
async fn speaks_native(stream: &TcpStream) -> bool {
    let mut first = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(10), stream.peek(&mut first)).await,
        Ok(Ok(1))
    ) && first[0] == crate::native::PREFACE[0]
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    if shared.native && speaks_native(&stream).await {
        crate::native::server::serve(stream, peer, shared, shutdown).await;
        return;
    }
    let limits = shared.limits;
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(shared, peer, req).await) }
    });
    // One port: HTTP/2 (gRPC, and Connect over h2) and HTTP/1.1 (curl, Connect clients).
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .max_send_buf_size(1024 * 1024);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => {
            // GOAWAY: no new calls on this connection; the open ones finish.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut rsp = Response::new(Body::once(Bytes::from(text), None));
    *rsp.status_mut() = status;
    rsp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    rsp
}

fn grpc_response(format: Format, body: Body) -> Response<Body> {
    let mut rsp = Response::new(body);
    rsp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.grpc_content_type()),
    );
    rsp
}

/// A trailers-only response carrying `err` (and any metadata the handler set).
fn error_response(
    format: Format,
    err: &Error,
    response: Option<&SharedResponse>,
) -> Response<Body> {
    let mut rsp = grpc_response(format, Body::Empty);
    if let Some(response) = response {
        let response = response.lock().unwrap_or_else(|e| e.into_inner());
        grpc::metadata_to_headers(&response.headers, rsp.headers_mut());
        grpc::metadata_to_headers(&response.trailers, rsp.headers_mut());
    }
    grpc::error_headers(err, rsp.headers_mut());
    rsp
}

async fn read_one(body: &mut RecvBody) -> Result<Bytes> {
    let Some(first) = body.message().await? else {
        return Err(Error::internal(ID, "the request has no message"));
    };
    if body.message().await?.is_some() {
        return Err(Error::unimplemented(
            ID,
            "expected one request message, got more (is the endpoint client-streaming?)",
        ));
    }
    Ok(first)
}

/// The protocol of a request, from its content type.
#[derive(Clone, Copy, Debug)]
enum Protocol {
    /// gRPC: length-prefixed messages, status in trailers.
    Grpc(Format),
    /// Connect unary: the bare message as the body, errors as JSON with an HTTP status.
    Connect(Format),
}

impl Protocol {
    fn error(self, err: &Error, response: Option<&SharedResponse>) -> Response<Body> {
        match self {
            Protocol::Grpc(format) => error_response(format, err, response),
            Protocol::Connect(_) => connect::error_response(err, response),
        }
    }
}

async fn handle(shared: Arc<Shared>, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    match accept(&shared, peer, &parts) {
        Ok((Protocol::Grpc(format), route, ctx, response)) => {
            grpc_call(&shared, route, ctx, format, body, response).await
        }
        Ok((Protocol::Connect(format), route, ctx, response)) => {
            connect::call(&shared, route, ctx, format, body, response).await
        }
        Err(refusal) => {
            // Read what the caller is still sending before answering: one cut off mid-request
            // sees a broken pipe (HTTP/1.1) or a reset stream (HTTP/2) instead of the answer.
            // A streaming caller may wait for the answer before it sends, so HTTP/2 waits
            // only briefly for the end of the request.
            let patience = if parts.version < http::Version::HTTP_2 {
                Duration::from_secs(1)
            } else {
                REFUSAL_PATIENCE
            };
            RecvBody::new(body, shared.limits.max_recv, Side::Server)
                .discard(patience)
                .await;
            refusal
        }
    }
}

/// How long an HTTP/2 request refused before it was read may go on sending before the
/// answer leaves (a streaming caller may wait for the answer first).
const REFUSAL_PATIENCE: Duration = Duration::from_millis(250);

/// A call the server takes: its protocol, route and context; or the answer refusing it.
#[allow(clippy::result_large_err)] // the refusal is the response itself
fn accept(
    shared: &Shared,
    peer: SocketAddr,
    parts: &http::request::Parts,
) -> std::result::Result<(Protocol, Arc<Route>, Context, SharedResponse), Response<Body>> {
    if parts.method != Method::POST {
        return Err(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{} is not allowed: calls are POST requests (gRPC, or JSON with Content-Type: application/json)\n",
                parts.method
            ),
        ));
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let protocol = match Format::from_grpc_content_type(content_type) {
        Some(Ok(format)) => Protocol::Grpc(format),
        Some(Err(e)) => return Err(error_response(Format::Proto, &e, None)),
        None => match connect::format(content_type) {
            Some(format) => Protocol::Connect(format),
            None => {
                return Err(plain(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "unsupported content type {content_type:?}: this port serves gRPC (application/grpc, application/grpc+json) and plain JSON or protobuf (application/json, application/proto)\n"
                    ),
                ));
            }
        },
    };
    let route = match shared.table.lookup(parts.uri.path()) {
        Lookup::Found(route) => route,
        Lookup::UnknownMethod(m) => {
            let err = Error::unimplemented(
                ID,
                format!("unknown endpoint {m} on service {}", shared.service),
            );
            return Err(protocol.error(&err, None));
        }
        Lookup::UnknownService(s) => {
            let err = Error::unimplemented(
                ID,
                format!("unknown service {s:?} at this node of {}", shared.service),
            );
            return Err(protocol.error(&err, None));
        }
    };
    let format = match protocol {
        Protocol::Grpc(f) | Protocol::Connect(f) => f,
    };
    if !route.handler.supports(format) {
        let err = Error::new(
            ID,
            format!("endpoint {} does not accept {format} messages", route.name),
            415,
        )
        .with_grpc_code(crate::Code::InvalidArgument);
        return Err(protocol.error(&err, None));
    }
    let mut ctx = Context::new();
    let timeout = match protocol {
        Protocol::Grpc(_) => parts.headers.get(GRPC_TIMEOUT).map(grpc::parse_timeout),
        Protocol::Connect(_) => parts
            .headers
            .get(connect::TIMEOUT)
            .map(connect::parse_timeout),
    };
    match timeout {
        Some(Ok(timeout)) => ctx = ctx.with_timeout(timeout),
        Some(Err(e)) => return Err(protocol.error(&e, None)),
        None => {}
    }
    if let Some(timeout) = route.timeout {
        ctx = ctx.with_timeout(timeout);
    }
    grpc::headers_to_metadata(&parts.headers, ctx.metadata_mut());
    ctx.set_call(CallInfo {
        service: shared.service.clone(),
        endpoint: route.name.as_str().into(),
        peer: Some(peer),
    });
    let response = SharedResponse::default();
    ctx.set_response(response.clone());
    Ok((protocol, route, ctx, response))
}

/// Run `work` until `expiry` fires (never, without one).
async fn within<T>(
    expiry: Option<std::pin::Pin<&mut tokio::time::Sleep>>,
    endpoint: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match expiry {
        Some(expiry) => tokio::select! {
            result = work => result,
            () = expiry => Err(router::deadline_error(endpoint)),
        },
        None => work.await,
    }
}

/// Run `work` until the context's deadline.
pub(crate) async fn until_deadline<T>(
    deadline: Option<std::time::Instant>,
    endpoint: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match deadline {
        Some(at) => tokio::time::timeout_at(at.into(), work)
            .await
            .unwrap_or_else(|_| Err(router::deadline_error(endpoint))),
        None => work.await,
    }
}

async fn grpc_call(
    shared: &Shared,
    route: Arc<Route>,
    ctx: Context,
    format: Format,
    body: Incoming,
    response: SharedResponse,
) -> Response<Body> {
    let deadline = ctx.deadline();
    let mut body = RecvBody::new(body, shared.limits.max_recv, Side::Server);
    let max_send = shared.limits.max_send;
    let name = route.name.clone();
    // One timer bounds both reading the request and handling it.
    let expiry = deadline.map(|at| tokio::time::sleep_until(at.into()));
    tokio::pin!(expiry);
    let input = if route.kind.client_streams() {
        Input::Stream(body)
    } else {
        match within(expiry.as_mut().as_pin_mut(), &name, read_one(&mut body)).await {
            Ok(message) => Input::Unary(message),
            Err(e) => {
                tracing::debug!(endpoint = %name, error = %e, "bad request");
                body.discard(REFUSAL_PATIENCE).await;
                return error_response(format, &e, Some(&response));
            }
        }
    };
    let work = async move {
        let output = route
            .handler
            .call(Call {
                ctx,
                format,
                input,
                max_send,
            })
            .await?;
        match output {
            Output::Unary(frame) => Ok((Some(frame), None)),
            Output::Stream { mut rx, task } => {
                // Wait for the first frame, so the headers carry what the handler set before
                // sending (or the status, when it sent nothing).
                let first = rx.recv().await;
                Ok((None, Some((first, rx, task))))
            }
        }
    };
    let result = within(expiry.as_mut().as_pin_mut(), &name, work).await;
    let metadata = |rsp: &mut Response<Body>| {
        let r = response.lock().unwrap_or_else(|e| e.into_inner());
        grpc::metadata_to_headers(&r.headers, rsp.headers_mut());
    };
    match result {
        Ok((Some(frame), _)) => {
            let mut trailers = grpc::ok_trailers();
            grpc::metadata_to_headers(
                &response.lock().unwrap_or_else(|e| e.into_inner()).trailers,
                &mut trailers,
            );
            let mut rsp = grpc_response(format, Body::once(frame, Some(trailers)));
            metadata(&mut rsp);
            rsp
        }
        Ok((None, Some((Some(first), rx, task)))) => {
            if first.is_trailers() {
                // Trailers-only: the handler ended before sending a message.
                let mut rsp = grpc_response(format, Body::Empty);
                metadata(&mut rsp);
                if let Ok(trailers) = first.into_trailers() {
                    rsp.headers_mut().extend(trailers);
                }
                drop(task);
                rsp
            } else {
                let mut rsp = grpc_response(
                    format,
                    Body::Channel {
                        first: Some(first),
                        rx,
                        _task: Some(task),
                    },
                );
                metadata(&mut rsp);
                rsp
            }
        }
        Ok(_) => error_response(
            format,
            &Error::internal(ID, format!("{name} ended without a status")),
            Some(&response),
        ),
        Err(e) => {
            tracing::debug!(endpoint = %name, error = %e, "call failed");
            error_response(format, &e, Some(&response))
        }
    }
}
