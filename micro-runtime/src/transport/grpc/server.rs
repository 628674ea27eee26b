//! The server side of gRPC over HTTP/2 (and HTTP/1.1 for Connect and `curl`): hyper serves
//! the connection, each request is a call against the route table.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::watch;

use super::{HttpBody, connect};
use crate::codec::Format;
use crate::context::{Context, SharedResponse};
use crate::endpoint::{Dispatch, HandlerRequest, Input, Output, Route, with_deadline};
use crate::error::Error;
use crate::transport::{Acceptor, BoxFuture, Io};
use crate::wire::body::Body;
use crate::wire::recv::{RecvBody, Side};
use crate::wire::status::{self, GRPC_TIMEOUT};

pub(super) const ID: &str = "micro.server";

/// Serves gRPC, Connect and plain HTTP/1.1 JSON calls on accepted connections. It claims
/// every connection (put it last behind others).
#[derive(Debug, Default)]
pub(crate) struct GrpcAcceptor;

impl Acceptor for GrpcAcceptor {
    fn claims(&self, first: u8) -> bool {
        // Everything but a TLS handshake (HTTP/2's preface, HTTP/1.1 methods).
        first != super::super::tls::HANDSHAKE
    }

    fn serve(
        &self,
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        dispatch: Arc<Dispatch>,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(serve_connection(io, peer, dispatch, shutdown))
    }
}

async fn serve_connection(
    io: Box<dyn Io>,
    peer: Option<SocketAddr>,
    shared: Arc<Dispatch>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limits = shared.limits;
    // Requests started on this connection: the idle check sees whether any came.
    let started = Arc::new(AtomicU64::new(0));
    let service = {
        let started = started.clone();
        hyper::service::service_fn(move |req| {
            started.fetch_add(1, Ordering::Relaxed);
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(handle(shared, peer, req).await) }
        })
    };
    // One port: HTTP/2 (gRPC, and Connect over h2) and HTTP/1.1 (curl, Connect clients).
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.handshake_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_header_list_size(limits.max_header_list_size)
        .max_send_buf_size(1024 * 1024)
        .keep_alive_interval(limits.keepalive_interval)
        .keep_alive_timeout(limits.keepalive_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    // Idle connections and those past their age are asked to go away (GOAWAY; open calls
    // finish first), checked on a coarse tick.
    let shortest = [limits.idle_timeout, limits.max_connection_age]
        .into_iter()
        .flatten()
        .min();
    let mut tick = tokio::time::interval(shortest.map_or(Duration::from_secs(3600), |d| {
        (d / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let born = tokio::time::Instant::now();
    let (mut seen, mut quiet_since) = (0u64, born);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(?peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
            now = tick.tick(), if shortest.is_some() => {
                let count = started.load(Ordering::Relaxed);
                if count != seen {
                    (seen, quiet_since) = (count, now);
                }
                let idle = limits.idle_timeout.is_some_and(|d| now - quiet_since >= d);
                let old = limits.max_connection_age.is_some_and(|d| now - born >= d);
                if idle || old {
                    tracing::debug!(?peer, idle, old, "asking a connection to go away");
                    break;
                }
            }
        }
    }
    // GOAWAY: no new calls on this connection; the open ones finish.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
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
        status::metadata_to_headers(&response.headers, rsp.headers_mut());
        status::metadata_to_headers(&response.trailers, rsp.headers_mut());
    }
    status::error_headers(err, rsp.headers_mut());
    rsp
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

async fn handle(
    shared: Arc<Dispatch>,
    peer: Option<SocketAddr>,
    req: Request<Incoming>,
) -> Response<Body> {
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
            server_body(body, shared.limits.max_recv)
                .discard(patience)
                .await;
            refusal
        }
    }
}

/// How long an HTTP/2 request refused before it was read may go on sending before the
/// answer leaves (a streaming caller may wait for the answer first).
pub(super) const REFUSAL_PATIENCE: Duration = Duration::from_millis(250);

/// A request body as received messages.
pub(super) fn server_body(body: Incoming, max: usize) -> RecvBody {
    RecvBody::new(HttpBody::new(body, Side::Server), max, Side::Server)
}

/// A call the server takes: its protocol, route and context; or the answer refusing it.
#[allow(clippy::result_large_err)] // the refusal is the response itself
fn accept(
    shared: &Dispatch,
    peer: Option<SocketAddr>,
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
    let route = shared
        .route(parts.uri.path())
        .map_err(|e| protocol.error(&e, None))?;
    let format = match protocol {
        Protocol::Grpc(f) | Protocol::Connect(f) => f,
    };
    let timeout = match protocol {
        Protocol::Grpc(_) => parts.headers.get(GRPC_TIMEOUT).map(status::parse_timeout),
        Protocol::Connect(_) => parts
            .headers
            .get(connect::TIMEOUT)
            .map(connect::parse_timeout),
    };
    let timeout = timeout.transpose().map_err(|e| protocol.error(&e, None))?;
    let mut ctx = shared
        .accept(&route, format, timeout, peer)
        .map_err(|e| protocol.error(&e, None))?;
    status::headers_to_metadata(&parts.headers, ctx.metadata_mut());
    shared
        .authorize(&route, &mut ctx)
        .map_err(|e| protocol.error(&e, None))?;
    ctx.mark_received();
    let response = ctx.response().unwrap_or_default();
    Ok((protocol, route, ctx, response))
}

async fn grpc_call(
    shared: &Dispatch,
    route: Arc<Route>,
    ctx: Context,
    format: Format,
    body: Incoming,
    response: SharedResponse,
) -> Response<Body> {
    let deadline = ctx.deadline();
    let mut body = server_body(body, shared.limits.max_recv);
    let max_send = shared.limits.max_send;
    let name = route.name.clone();
    // One timer bounds both reading the request and handling it.
    let expiry = deadline.map(|at| tokio::time::sleep_until(at.into()));
    tokio::pin!(expiry);
    let input = if route.kind.client_streams() {
        Input::Stream(body)
    } else {
        match with_deadline(expiry.as_mut().as_pin_mut(), &name, body.single()).await {
            Ok(message) => Input::Unary(message),
            Err(e) => {
                tracing::debug!(endpoint = %name, error = %e, "bad request");
                body.discard(REFUSAL_PATIENCE).await;
                return error_response(format, &e, Some(&response));
            }
        }
    };
    let work = async move {
        let _pass = shared.admit(&route, ctx.deadline())?;
        let request = HandlerRequest::new(ctx, format, input, route.kind, max_send);
        let output = shared.call(&route, request).await?.output;
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
    let result = with_deadline(expiry.as_mut().as_pin_mut(), &name, work).await;
    let metadata = |rsp: &mut Response<Body>| {
        let r = response.lock().unwrap_or_else(|e| e.into_inner());
        status::metadata_to_headers(&r.headers, rsp.headers_mut());
    };
    match result {
        Ok((Some(frame), _)) => {
            let mut trailers = status::ok_trailers();
            status::metadata_to_headers(
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
            let e = crate::endpoint::leaving(e, &shared.service, &name);
            error_response(format, &e, Some(&response))
        }
    }
}
