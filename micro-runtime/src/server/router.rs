//! Endpoints and the router: the low-level handler API that generated code builds on.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::HeaderMap;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::codec::{Codec, Format, Message};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::grpc::body::{AbortOnDrop, RecvBody};
use crate::grpc::{self, frame};
use crate::registry::{Endpoint, Value};
use crate::stream::{STREAM_BUFFER, StreamReceiver, StreamSender};

const ID: &str = "micro.server";

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The shape of an endpoint: how many messages go each way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// One request, one response.
    Unary,
    /// A stream of requests, one response.
    ClientStream,
    /// One request, a stream of responses.
    ServerStream,
    /// Streams both ways.
    BidiStream,
}

impl StreamKind {
    /// The value of the `stream` endpoint metadata: `client`, `server`, `bidirectional`, or
    /// `None` for unary.
    pub const fn metadata_value(self) -> Option<&'static str> {
        match self {
            StreamKind::Unary => None,
            StreamKind::ClientStream => Some("client"),
            StreamKind::ServerStream => Some("server"),
            StreamKind::BidiStream => Some("bidirectional"),
        }
    }

    /// True when the request side is a stream.
    pub const fn client_streams(self) -> bool {
        matches!(self, StreamKind::ClientStream | StreamKind::BidiStream)
    }
}

/// What the dispatcher hands an erased handler.
#[allow(clippy::large_enum_variant)] // short-lived, one per call
pub(crate) enum Input {
    Unary(Bytes),
    Stream(RecvBody),
}

/// What an erased handler produces.
pub(crate) enum Output {
    /// A framed response message.
    Unary(Bytes),
    /// Frames produced by the handler's task, ending with trailers.
    Stream {
        rx: mpsc::Receiver<Frame<Bytes>>,
        task: AbortOnDrop,
    },
}

pub(crate) struct Call {
    pub(crate) ctx: Context,
    pub(crate) format: Format,
    pub(crate) input: Input,
    pub(crate) max_send: usize,
}

pub(crate) trait Erased: Send + Sync + 'static {
    fn call(&self, call: Call) -> BoxFuture<Result<Output>>;
    fn supports(&self, format: Format) -> bool;
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

fn wrong_input() -> Error {
    Error::internal(ID, "request shape does not match the endpoint")
}

/// Call a handler function, turning a panic into an `INTERNAL` error.
fn invoke<T>(f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| Error::internal(ID, "the handler panicked"))
}

/// Run `fut`, turning a panic into an `INTERNAL` error (the connection and other calls live
/// on).
async fn guarded<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(Error::internal(ID, "the handler panicked")),
    }
}

/// Spawn a streaming handler; its result becomes the trailers of the response body. The
/// task is aborted if the body is dropped (the caller went away).
fn spawn_stream(
    ctx: &Context,
    tx: mpsc::Sender<Frame<Bytes>>,
    rx: mpsc::Receiver<Frame<Bytes>>,
    fut: impl Future<Output = Result<()>> + Send + 'static,
) -> Output {
    let deadline = ctx.deadline();
    let endpoint: Arc<str> = ctx.endpoint().unwrap_or_default().into();
    let response = ctx.response();
    let task = tokio::spawn(async move {
        let fut = guarded(fut);
        let result = match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), fut)
                .await
                .unwrap_or_else(|_| Err(deadline_error(&endpoint))),
            None => fut.await,
        };
        let mut trailers = match result {
            Ok(()) => grpc::ok_trailers(),
            Err(e) => {
                let mut map = HeaderMap::new();
                grpc::error_headers(&e, &mut map);
                map
            }
        };
        if let Some(response) = response {
            let response = response.lock().unwrap_or_else(|e| e.into_inner());
            grpc::metadata_to_headers(&response.trailers, &mut trailers);
        }
        let _ = tx.send(Frame::trailers(trailers)).await;
    });
    Output::Stream {
        rx,
        task: AbortOnDrop(task.abort_handle()),
    }
}

pub(crate) fn deadline_error(endpoint: &str) -> Error {
    Error::timeout(ID, format!("deadline exceeded while handling {endpoint}"))
}

/// The codecs of a typed endpoint.
struct Codecs<Req, Resp> {
    req: Codec<Req>,
    resp: Codec<Resp>,
}

impl<Req, Resp> Codecs<Req, Resp> {
    fn supports(&self, format: Format) -> bool {
        self.req.supports(format) && self.resp.supports(format)
    }
}

struct Unary<F, Req, Resp>(F, Codecs<Req, Resp>);
struct ServerStreaming<F, Req, Resp>(F, Codecs<Req, Resp>);
struct ClientStreaming<F, Req, Resp>(F, Codecs<Req, Resp>);
struct Bidi<F, Req, Resp>(F, Codecs<Req, Resp>);
struct Raw<F>(F);

impl<F, Fut, Req, Resp> Erased for Unary<F, Req, Resp>
where
    F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<Result<Output>> {
        let Input::Unary(bytes) = call.input else {
            return ready(Err(wrong_input()));
        };
        let req = match self.1.req.decode(call.format, bytes) {
            Ok(req) => req,
            Err(e) => return ready(Err(e)),
        };
        let (format, max, codec) = (call.format, call.max_send, self.1.resp);
        let fut = match invoke(|| (self.0)(call.ctx, req)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        Box::pin(async move {
            let resp = guarded(fut).await?;
            Ok(Output::Unary(frame::encode(
                &codec,
                &resp,
                format,
                max,
                ID,
                "response message",
            )?))
        })
    }

    fn supports(&self, format: Format) -> bool {
        self.1.supports(format)
    }
}

impl<F, Fut, Req, Resp> Erased for ServerStreaming<F, Req, Resp>
where
    F: Fn(Context, Req, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<Result<Output>> {
        let Input::Unary(bytes) = call.input else {
            return ready(Err(wrong_input()));
        };
        let req = match self.1.req.decode(call.format, bytes) {
            Ok(req) => req,
            Err(e) => return ready(Err(e)),
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let sender = StreamSender::new(tx.clone(), self.1.resp, call.format, call.max_send, false);
        let ctx = call.ctx.clone();
        let fut = match invoke(|| (self.0)(call.ctx, req, sender)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        ready(Ok(spawn_stream(&ctx, tx, rx, fut)))
    }

    fn supports(&self, format: Format) -> bool {
        self.1.supports(format)
    }
}

impl<F, Fut, Req, Resp> Erased for ClientStreaming<F, Req, Resp>
where
    F: Fn(Context, StreamReceiver<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<Result<Output>> {
        let Input::Stream(body) = call.input else {
            return ready(Err(wrong_input()));
        };
        let (format, max, codec) = (call.format, call.max_send, self.1.resp);
        let rx = StreamReceiver::server(body, self.1.req, format);
        let fut = match invoke(|| (self.0)(call.ctx, rx)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        Box::pin(async move {
            let resp = guarded(fut).await?;
            Ok(Output::Unary(frame::encode(
                &codec,
                &resp,
                format,
                max,
                ID,
                "response message",
            )?))
        })
    }

    fn supports(&self, format: Format) -> bool {
        self.1.supports(format)
    }
}

impl<F, Fut, Req, Resp> Erased for Bidi<F, Req, Resp>
where
    F: Fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
    Req: Send + 'static,
    Resp: Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<Result<Output>> {
        let Input::Stream(body) = call.input else {
            return ready(Err(wrong_input()));
        };
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let sender = StreamSender::new(tx.clone(), self.1.resp, call.format, call.max_send, false);
        let receiver = StreamReceiver::server(body, self.1.req, call.format);
        let ctx = call.ctx.clone();
        let fut = match invoke(|| (self.0)(call.ctx, receiver, sender)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        ready(Ok(spawn_stream(&ctx, tx, rx, fut)))
    }

    fn supports(&self, format: Format) -> bool {
        self.1.supports(format)
    }
}

impl<F, Fut> Erased for Raw<F>
where
    F: Fn(Context, Format, Bytes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Bytes>> + Send + 'static,
{
    fn call(&self, call: Call) -> BoxFuture<Result<Output>> {
        let Input::Unary(bytes) = call.input else {
            return ready(Err(wrong_input()));
        };
        let max = call.max_send;
        let fut = match invoke(|| (self.0)(call.ctx, call.format, bytes)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        Box::pin(async move {
            let out = guarded(fut).await?;
            Ok(Output::Unary(frame::frame_bytes(
                &out,
                max,
                ID,
                "response message",
            )?))
        })
    }

    fn supports(&self, _format: Format) -> bool {
        true
    }
}

/// One endpoint: its name (`Service.Method`), its handler, and what the registry says about
/// it.
///
/// ```
/// use micro_runtime::server::Route;
/// use micro_runtime::registry::Value;
///
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Req { #[prost(string, tag = "1")] name: String }
/// # impl micro_runtime::codec::ProstSerde for Req {}
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Rsp { #[prost(string, tag = "1")] msg: String }
/// # impl micro_runtime::codec::ProstSerde for Rsp {}
/// let route = Route::unary("Greeter.Hello", |_ctx, req: Req| async move {
///     Ok(Rsp { msg: format!("Hello {}", req.name) })
/// })
/// .package("greeter")
/// .idempotent()
/// .request(Value::new("HelloRequest", "HelloRequest").with_field(Value::new("name", "string")));
/// assert_eq!(route.path(), "/greeter.Greeter/Hello");
/// ```
#[derive(Clone)]
pub struct Route {
    pub(crate) name: String,
    pub(crate) kind: StreamKind,
    pub(crate) handler: Arc<dyn Erased>,
    pub(crate) endpoint: Endpoint,
    pub(crate) package: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) internal: bool,
    pub(crate) descriptors: Option<&'static crate::codegen::Descriptors>,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("package", &self.package)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Route {
    fn new(name: impl Into<String>, kind: StreamKind, handler: Arc<dyn Erased>) -> Route {
        let name = name.into();
        let mut endpoint = Endpoint::new(name.clone());
        if let Some(stream) = kind.metadata_value() {
            endpoint.metadata.insert("stream".into(), stream.into());
        }
        Route {
            name,
            kind,
            handler,
            endpoint,
            package: None,
            timeout: None,
            internal: false,
            descriptors: None,
        }
    }

    /// A unary endpoint: `async fn(Context, Req) -> Result<Resp>`.
    pub fn unary<Req, Resp, F, Fut>(name: impl Into<String>, handler: F) -> Route
    where
        F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        Route::unary_with(name, Codec::message(), Codec::message(), handler)
    }

    /// A server-streaming endpoint: `async fn(Context, Req, StreamSender<Resp>) -> Result<()>`.
    pub fn server_stream<Req, Resp, F, Fut>(name: impl Into<String>, handler: F) -> Route
    where
        F: Fn(Context, Req, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        Route::server_stream_with(name, Codec::message(), Codec::message(), handler)
    }

    /// A client-streaming endpoint: `async fn(Context, StreamReceiver<Req>) -> Result<Resp>`.
    pub fn client_stream<Req, Resp, F, Fut>(name: impl Into<String>, handler: F) -> Route
    where
        F: Fn(Context, StreamReceiver<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        Route::client_stream_with(name, Codec::message(), Codec::message(), handler)
    }

    /// A bidirectional-streaming endpoint:
    /// `async fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Result<()>`.
    pub fn bidi_stream<Req, Resp, F, Fut>(name: impl Into<String>, handler: F) -> Route
    where
        F: Fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        Route::bidi_stream_with(name, Codec::message(), Codec::message(), handler)
    }

    /// [`Route::unary`] with explicit codecs (for example [`Codec::serde`]).
    pub fn unary_with<Req, Resp, F, Fut>(
        name: impl Into<String>,
        req: Codec<Req>,
        resp: Codec<Resp>,
        handler: F,
    ) -> Route
    where
        F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        Route::new(
            name,
            StreamKind::Unary,
            Arc::new(Unary(handler, Codecs { req, resp })),
        )
    }

    /// [`Route::server_stream`] with explicit codecs.
    pub fn server_stream_with<Req, Resp, F, Fut>(
        name: impl Into<String>,
        req: Codec<Req>,
        resp: Codec<Resp>,
        handler: F,
    ) -> Route
    where
        F: Fn(Context, Req, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        Route::new(
            name,
            StreamKind::ServerStream,
            Arc::new(ServerStreaming(handler, Codecs { req, resp })),
        )
    }

    /// [`Route::client_stream`] with explicit codecs.
    pub fn client_stream_with<Req, Resp, F, Fut>(
        name: impl Into<String>,
        req: Codec<Req>,
        resp: Codec<Resp>,
        handler: F,
    ) -> Route
    where
        F: Fn(Context, StreamReceiver<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        Route::new(
            name,
            StreamKind::ClientStream,
            Arc::new(ClientStreaming(handler, Codecs { req, resp })),
        )
    }

    /// [`Route::bidi_stream`] with explicit codecs.
    pub fn bidi_stream_with<Req, Resp, F, Fut>(
        name: impl Into<String>,
        req: Codec<Req>,
        resp: Codec<Resp>,
        handler: F,
    ) -> Route
    where
        F: Fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
        Req: Send + 'static,
        Resp: Send + 'static,
    {
        Route::new(
            name,
            StreamKind::BidiStream,
            Arc::new(Bidi(handler, Codecs { req, resp })),
        )
    }

    /// A unary endpoint over raw bytes: the handler gets the request body in the caller's
    /// [`Format`] and returns the response body in the same format (for proxies and
    /// gateways).
    pub fn raw<F, Fut>(name: impl Into<String>, handler: F) -> Route
    where
        F: Fn(Context, Format, Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Bytes>> + Send + 'static,
    {
        Route::new(name, StreamKind::Unary, Arc::new(Raw(handler)))
    }

    /// The protobuf package of the service (`greeter` gives the gRPC path
    /// `/greeter.Greeter/Hello`). Without it, the path is `/Greeter/Hello`.
    #[must_use]
    pub fn package(mut self, package: impl Into<String>) -> Route {
        let package = package.into();
        self.package = (!package.is_empty()).then_some(package);
        self
    }

    /// Declare the endpoint idempotent: clients may retry it on another node even when the
    /// first attempt may have run (published in the registry as `idempotent: true`).
    #[must_use]
    pub fn idempotent(mut self) -> Route {
        self.endpoint
            .metadata
            .insert("idempotent".into(), "true".into());
        self
    }

    /// The request shape published in the registry.
    #[must_use]
    pub fn request(mut self, value: Value) -> Route {
        self.endpoint.request = Some(value);
        self
    }

    /// The response shape published in the registry.
    #[must_use]
    pub fn response(mut self, value: Value) -> Route {
        self.endpoint.response = Some(value);
        self
    }

    /// Add endpoint metadata published in the registry.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Route {
        self.endpoint.metadata.insert(key.into(), value.into());
        self
    }

    /// The longest a call may run on the server, whatever deadline the caller sent.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Route {
        self.timeout = Some(timeout);
        self
    }

    /// The protobuf descriptors of the endpoint's package (set by generated code; used for
    /// reflection).
    #[must_use]
    pub fn descriptors(mut self, descriptors: &'static crate::codegen::Descriptors) -> Route {
        self.descriptors = Some(descriptors);
        self
    }

    /// Keep the endpoint out of the registry (framework endpoints such as health checks).
    #[must_use]
    pub fn internal(mut self) -> Route {
        self.internal = true;
        self
    }

    /// The endpoint name, `Service.Method`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The stream kind.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The registry record of the endpoint.
    pub fn endpoint(&self) -> Endpoint {
        let mut endpoint = self.endpoint.clone();
        endpoint.metadata.insert("grpc_path".into(), self.path());
        endpoint
    }

    /// The gRPC path, `/<package>.<Service>/<Method>` (or `/<Service>/<Method>`).
    pub fn path(&self) -> String {
        let (svc, method) = self.name.split_once('.').unwrap_or((&self.name, ""));
        match &self.package {
            Some(pkg) => format!("/{pkg}.{svc}/{method}"),
            None => format!("/{svc}/{method}"),
        }
    }

    fn validate(&self) -> Result<()> {
        let ident = |s: &str| {
            let mut chars = s.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let valid = self
            .name
            .split_once('.')
            .is_some_and(|(svc, method)| ident(svc) && ident(method));
        if !valid {
            return Err(Error::bad_request(
                ID,
                format!(
                    "invalid endpoint name {:?}: write it as Service.Method, e.g. \"Greeter.Hello\"",
                    self.name
                ),
            ));
        }
        if let Some(pkg) = &self.package
            && !pkg.split('.').all(ident)
        {
            return Err(Error::bad_request(
                ID,
                format!(
                    "invalid package {pkg:?} for {}: use dotted identifiers, e.g. \"acme.greeter.v1\"",
                    self.name
                ),
            ));
        }
        Ok(())
    }
}

/// Something that provides endpoints: a [`Router`], a [`Route`], or a generated server.
pub trait Handler {
    /// The endpoints.
    fn into_router(self) -> Router;
}

/// A set of endpoints.
///
/// ```
/// use micro_runtime::server::Router;
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Req { #[prost(string, tag = "1")] name: String }
/// # impl micro_runtime::codec::ProstSerde for Req {}
/// let router = Router::new()
///     .unary("Echo.Call", |_ctx, req: Req| async move { Ok(req) })
///     .unary("Echo.Again", |_ctx, req: Req| async move { Ok(req) });
/// assert_eq!(router.routes().len(), 2);
/// ```
#[derive(Clone, Default, Debug)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Router {
        Router::default()
    }

    /// Add an endpoint.
    #[must_use]
    pub fn route(mut self, route: Route) -> Router {
        self.routes.push(route);
        self
    }

    /// Add a unary endpoint (shorthand for [`Route::unary`]).
    #[must_use]
    pub fn unary<Req, Resp, F, Fut>(self, name: impl Into<String>, handler: F) -> Router
    where
        F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Resp>> + Send + 'static,
        Req: Message,
        Resp: Message,
    {
        self.route(Route::unary(name, handler))
    }

    /// Add every endpoint of `other`.
    #[must_use]
    pub fn merge(mut self, other: impl Handler) -> Router {
        self.routes.extend(other.into_router().routes);
        self
    }

    /// The endpoints, in the order they were added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Keep every endpoint out of the registry (framework services such as health checks).
    #[must_use]
    pub fn internal(mut self) -> Router {
        for route in &mut self.routes {
            route.internal = true;
        }
        self
    }
}

impl Handler for Router {
    fn into_router(self) -> Router {
        self
    }
}

impl Handler for Route {
    fn into_router(self) -> Router {
        Router::new().route(self)
    }
}

/// The compiled routing table of a server.
pub(crate) struct Table {
    by_path: HashMap<String, Arc<Route>>,
    by_name: HashMap<String, Arc<Route>>,
    services: Vec<String>,
}

/// The outcome of a lookup.
pub(crate) enum Lookup {
    Found(Arc<Route>),
    UnknownMethod(String),
    UnknownService(String),
}

impl Table {
    pub(crate) fn build(router: &Router) -> Result<Table> {
        let mut by_path = HashMap::new();
        let mut by_name: HashMap<String, Arc<Route>> = HashMap::new();
        let mut services = Vec::new();
        for route in &router.routes {
            route.validate()?;
            let route = Arc::new(route.clone());
            if by_path.insert(route.path(), route.clone()).is_some() {
                return Err(Error::bad_request(
                    ID,
                    format!("endpoint {} is registered twice", route.path()),
                ));
            }
            by_name
                .entry(route.name.clone())
                .or_insert_with(|| route.clone());
            let full = route.path();
            let svc = full[1..].split('/').next().unwrap_or_default().to_owned();
            if !services.contains(&svc) {
                services.push(svc);
            }
        }
        Ok(Table {
            by_path,
            by_name,
            services,
        })
    }

    /// Full service names (`greeter.Greeter`) served.
    pub(crate) fn services(&self) -> &[String] {
        &self.services
    }

    pub(crate) fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.by_path.values()
    }

    pub(crate) fn lookup(&self, path: &str) -> Lookup {
        if let Some(route) = self.by_path.get(path) {
            return Lookup::Found(route.clone());
        }
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let Some((svc_full, method)) = trimmed.split_once('/') else {
            return Lookup::UnknownService(trimmed.to_owned());
        };
        let (package, svc) = match svc_full.rsplit_once('.') {
            Some((pkg, svc)) => (Some(pkg), svc),
            None => (None, svc_full),
        };
        let name = format!("{svc}.{method}");
        if let Some(route) = self.by_name.get(&name) {
            // A caller that names no package reaches the route; one that names another
            // package does not.
            if package.is_none() || route.package.is_none() {
                return Lookup::Found(route.clone());
            }
        }
        let known = self
            .services
            .iter()
            .any(|s| s == svc_full || (package.is_none() && s.rsplit('.').next() == Some(svc)));
        if known {
            Lookup::UnknownMethod(format!("{svc}.{method}"))
        } else {
            Lookup::UnknownService(svc_full.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    struct M {
        #[prost(string, tag = "1")]
        s: String,
    }
    impl crate::codec::ProstSerde for M {}

    fn router() -> Router {
        Router::new()
            .route(
                Route::unary("Greeter.Hello", |_c, m: M| async move { Ok(m) }).package("greeter"),
            )
            .route(Route::unary("Plain.Call", |_c, m: M| async move { Ok(m) }))
    }

    #[test]
    fn lookup_by_full_path_short_path_and_misses() {
        let table = Table::build(&router()).unwrap();
        assert!(matches!(
            table.lookup("/greeter.Greeter/Hello"),
            Lookup::Found(_)
        ));
        assert!(matches!(table.lookup("/Greeter/Hello"), Lookup::Found(_)));
        assert!(matches!(table.lookup("/Plain/Call"), Lookup::Found(_)));
        assert!(matches!(
            table.lookup("/any.pkg.Plain/Call"),
            Lookup::Found(_)
        ));
        assert!(matches!(
            table.lookup("/other.Greeter/Hello"),
            Lookup::UnknownService(_)
        ));
        assert!(matches!(
            table.lookup("/greeter.Greeter/Nope"),
            Lookup::UnknownMethod(_)
        ));
        assert!(matches!(
            table.lookup("/Nope/Call"),
            Lookup::UnknownService(_)
        ));
        assert!(matches!(table.lookup("/"), Lookup::UnknownService(_)));
    }

    #[test]
    fn invalid_names_and_duplicates_are_errors() {
        for bad in [
            "Hello",
            "Greeter.",
            ".Hello",
            "Greeter.Hello.Again",
            "Gree ter.Hello",
            "Greeter/Hello",
        ] {
            let r = Router::new().unary(bad, |_c, m: M| async move { Ok(m) });
            let err = Table::build(&r).err().unwrap();
            assert!(
                err.detail().contains("Service.Method"),
                "{bad}: {}",
                err.detail()
            );
        }
        let dup = router().merge(router());
        assert!(Table::build(&dup).err().unwrap().detail().contains("twice"));
    }

    #[test]
    fn endpoint_metadata() {
        let route = Route::server_stream(
            "A.B",
            |_c, _m: M, _tx: StreamSender<M>| async move { Ok(()) },
        )
        .idempotent();
        let ep = route.endpoint();
        assert_eq!(ep.metadata["stream"], "server");
        assert_eq!(ep.metadata["grpc_path"], "/A/B");
        assert!(ep.is_idempotent());
    }
}
