//! The client side of gRPC over HTTP/2: one multiplexed connection per node, calls as
//! HTTP/2 streams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, TE, USER_AGENT};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::mpsc;

use super::{HttpBody, reason_of};
use crate::context::Metadata;
use crate::error::{Code, Error, Failure, Result};
use crate::stream::STREAM_BUFFER;
use crate::transport::{
    BoxFuture, CallHead, Connection, Connector, DialSettings, Dialer, StreamStart, UnaryReply,
    dial_error,
};
use crate::wire::body::Body;
use crate::wire::recv::{PendingHead, RecvBody, ResponseHead, Side};
use crate::wire::status::{self, GRPC_TIMEOUT};

const ID: &str = "micro.client";

/// Makes gRPC connections: HTTP/2 with prior knowledge over a dialer's byte streams.
#[derive(Debug)]
pub(crate) struct GrpcConnector {
    dialer: Arc<dyn Dialer>,
    settings: DialSettings,
    /// The dialer speaks TLS (requests say `https`).
    secure: bool,
}

impl GrpcConnector {
    pub(crate) fn new(
        dialer: Arc<dyn Dialer>,
        settings: DialSettings,
        secure: bool,
    ) -> GrpcConnector {
        GrpcConnector {
            dialer,
            settings,
            secure,
        }
    }
}

/// Whether `text` reports a fatal TLS alert that only a handshake sends (the server
/// refused this client's certificate, or the handshake itself).
fn handshake_alert(text: &str) -> bool {
    const HANDSHAKE: [&str; 8] = [
        "CertificateRequired",
        "BadCertificate",
        "UnknownCA",
        "CertificateExpired",
        "CertificateRevoked",
        "CertificateUnknown",
        "UnsupportedCertificate",
        "HandshakeFailure",
    ];
    text.split("received fatal alert: ")
        .skip(1)
        .any(|rest| HANDSHAKE.iter().any(|a| rest.starts_with(a)))
}

/// A connection error and its causes on one line (a TLS alert hides under hyper's
/// "connection error").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = cause.source();
    }
    text
}

impl Connector for GrpcConnector {
    fn name(&self) -> &'static str {
        "grpc"
    }

    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, Result<Arc<dyn Connection>>> {
        Box::pin(async move {
            let connect_timeout = self.settings.connect_timeout;
            let io = tokio::time::timeout(connect_timeout, self.dialer.dial(addr))
                .await
                .map_err(|_| dial_error(addr, format!("no answer within {connect_timeout:?}")))?
                .map_err(|e| dial_error(addr, e))?;
            let peer_names = io.peer_names();
            let (tx, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .initial_stream_window_size(1024 * 1024)
                .initial_connection_window_size(2 * 1024 * 1024)
                .max_send_buf_size(1024 * 1024)
                .keep_alive_interval(self.settings.keepalive)
                .keep_alive_timeout(self.settings.keepalive)
                .handshake(TokioIo::new(io))
                .await
                .map_err(|e| Error::unsent("HTTP/2 handshake with", addr, e))?;
            let peer = addr.to_owned();
            let broke = Arc::new(std::sync::OnceLock::new());
            let why = broke.clone();
            tokio::spawn(async move {
                let text = match conn.await {
                    Ok(()) => "the server closed the connection".to_owned(),
                    Err(e) => chain(&e),
                };
                tracing::debug!(addr = %peer, error = %text, "connection closed");
                let _ = why.set(text);
            });
            Ok(Arc::new(GrpcConnection {
                addr: addr.to_owned(),
                scheme: if self.secure { "https" } else { "http" },
                tx,
                max_recv: self.settings.max_recv,
                broke,
                peer_names,
            }) as Arc<dyn Connection>)
        })
    }
}

/// One HTTP/2 connection to a node.
#[derive(Debug)]
struct GrpcConnection {
    addr: String,
    scheme: &'static str,
    tx: SendRequest<Body>,
    max_recv: usize,
    /// Why the connection failed, once it did.
    broke: Arc<std::sync::OnceLock<String>>,
    /// The DNS names of the server's certificate (TLS).
    peer_names: Vec<String>,
}

/// A request whose response head is still on its way.
type Pending = BoxFuture<'static, Result<Response<Incoming>>>;

impl GrpcConnection {
    fn request(&self, head: &CallHead<'_>, body: Body) -> Result<Request<Body>> {
        let uri = format!("{}://{}{}", self.scheme, self.addr, head.path);
        let mut req = Request::post(uri)
            .body(body)
            .map_err(|e| Error::bad_request(ID, format!("invalid address {:?}: {e}", self.addr)))?;
        let headers = req.headers_mut();
        for md in head.metadata {
            status::metadata_to_headers(md, headers);
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(head.format.grpc_content_type()),
        );
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("micro-rust/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(
            GRPC_TIMEOUT,
            status::encode_timeout(head.deadline.saturating_duration_since(Instant::now())),
        );
        Ok(req)
    }

    /// Start `req`. Errors before the request left are marked [`Failure::BeforeSend`]; the
    /// returned future resolves with the response head.
    async fn start(&self, req: Request<Body>) -> Result<Pending> {
        let mut tx = self.tx.clone();
        tx.ready()
            .await
            .map_err(|e| Error::unsent("connection to", &self.addr, e))?;
        let fut = tx.try_send_request(req);
        let addr = self.addr.clone();
        let broke = self.broke.clone();
        let secure = self.scheme == "https";
        Ok(Box::pin(async move {
            match fut.await {
                Ok(rsp) => Ok(rsp),
                Err(mut e) => {
                    let unsent = e.take_message().is_some();
                    let err = e.into_error();
                    let refused = reason_of(&err) == Some(h2::Reason::REFUSED_STREAM);
                    if err.is_canceled() && !(unsent || refused) {
                        // The connection failed under the request: wait a moment for its
                        // task to say why (a TLS alert, a reset).
                        for _ in 0..40 {
                            if broke.get().is_some() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                    let err = match broke.get() {
                        Some(why) if err.is_canceled() => format!("{err}: {why}"),
                        _ => chain(&err),
                    };
                    // A fatal TLS alert from the server ends the handshake (TLS 1.3 reports
                    // a refused client certificate after the client sent its request):
                    // the request was never read, so it may go to another node.
                    let alert = secure && handshake_alert(&err);
                    let err = if secure {
                        crate::transport::tls::explain_text(&err)
                    } else {
                        err
                    };
                    if unsent || refused || alert {
                        Err(Error::unsent("request to", &addr, err))
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

    async fn unary(&self, head: &CallHead<'_>, frame: Bytes) -> Result<UnaryReply> {
        let req = self.request(head, Body::once(frame, None))?;
        let rsp = self.start(req).await?.await?;
        let addr = &self.addr;
        let (head, headers) = response_head(rsp, self.max_recv, addr)?;
        let mut body = match head {
            ResponseHead::Body(body) => body,
            ResponseHead::TrailersOnly(Err(e)) => return Err(e),
            ResponseHead::TrailersOnly(Ok(())) => {
                return Err(Error::internal(
                    ID,
                    format!("{addr} answered without a message"),
                ));
            }
        };
        let first = body.message().await?;
        if first.is_some() && body.message().await?.is_some() {
            return Err(Error::internal(
                ID,
                format!("{addr} sent more than one response message"),
            ));
        }
        let trailer_map = body.take_trailers();
        let mut trailers = Metadata::new();
        if let Some(map) = &trailer_map {
            status::headers_to_metadata(map, &mut trailers);
        }
        match trailer_map.as_ref().and_then(status::status_from_headers) {
            Some(Ok(())) => first
                .map(|message| UnaryReply {
                    message,
                    headers,
                    trailers,
                })
                .ok_or_else(|| Error::internal(ID, format!("{addr} answered without a message"))),
            Some(Err(e)) => Err(e),
            None => Err(Error::internal(
                ID,
                format!("{addr} ended the response without a gRPC status"),
            )),
        }
    }

    async fn stream(&self, head: &CallHead<'_>) -> Result<StreamStart> {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let body = Body::Channel {
            first: None,
            rx,
            _task: None,
        };
        let pending = self.start(self.request(head, body)?).await?;
        let max = self.max_recv;
        let addr = self.addr.clone();
        let head: PendingHead = Box::pin(async move {
            let rsp = pending.await?;
            response_head(rsp, max, &addr)
        });
        Ok(StreamStart { requests: tx, head })
    }
}

impl Connection for GrpcConnection {
    fn unary<'a>(
        &'a self,
        head: &'a CallHead<'a>,
        frame: Bytes,
    ) -> BoxFuture<'a, Result<UnaryReply>> {
        Box::pin(GrpcConnection::unary(self, head, frame))
    }

    fn stream<'a>(&'a self, head: &'a CallHead<'a>) -> BoxFuture<'a, Result<StreamStart>> {
        Box::pin(GrpcConnection::stream(self, head))
    }

    fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    fn peer_names(&self) -> &[String] {
        &self.peer_names
    }
}

/// Check the response head and read its metadata.
fn response_head(
    rsp: Response<Incoming>,
    max: usize,
    addr: &str,
) -> Result<(ResponseHead, Metadata)> {
    let (parts, body) = rsp.into_parts();
    if parts.status != StatusCode::OK {
        let code = match parts.status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Code::Unimplemented,
            StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST => Code::Internal,
            StatusCode::UNAUTHORIZED => Code::Unauthenticated,
            StatusCode::FORBIDDEN => Code::PermissionDenied,
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => Code::Unavailable,
            // The call's metadata is over the server's header limit: retrying cannot help.
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Code::ResourceExhausted,
            _ => Code::Unknown,
        };
        let hint = if code == Code::ResourceExhausted {
            "the call's metadata is over the server's header limit"
        } else {
            "is it a gRPC server?"
        };
        return Err(Error::from_code(
            ID,
            code,
            format!("{addr} answered HTTP {} ({hint})", parts.status),
        ));
    }
    let mut md = Metadata::new();
    status::headers_to_metadata(&parts.headers, &mut md);
    if let Some(status) = status::status_from_headers(&parts.headers) {
        return Ok((ResponseHead::TrailersOnly(status), md));
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/grpc") {
        return Err(Error::internal(
            ID,
            format!("{addr} answered with content type {content_type:?}, not gRPC"),
        ));
    }
    let body = RecvBody::new(HttpBody::new(body, Side::Client), max, Side::Client);
    Ok((ResponseHead::Body(body), md))
}
