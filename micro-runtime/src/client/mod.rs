//! The client: typed calls and streams to services found in the registry.
//!
//! ```no_run
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloRequest { #[prost(string, tag = "1")] name: String }
//! # impl micro_runtime::codec::ProstSerde for HelloRequest {}
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloResponse { #[prost(string, tag = "1")] msg: String }
//! # impl micro_runtime::codec::ProstSerde for HelloResponse {}
//! # async fn run() -> micro_runtime::Result<()> {
//! use std::time::Duration;
//! use micro_runtime::{Client, Context, client::CallOptions};
//!
//! let client = Client::from_env()?;
//! let rsp: HelloResponse = client
//!     .call("greeter", "Greeter.Hello", &HelloRequest { name: "John".into() })
//!     .await?;
//!
//! // With a deadline, metadata and per-call options:
//! let ctx = Context::new().with_metadata("x-request-id", "42");
//! let opts = CallOptions::new().timeout(Duration::from_secs(2)).retries(2);
//! let rsp: HelloResponse = client
//!     .call_with(&ctx, "greeter", "Greeter.Hello", &HelloRequest { name: "Jane".into() }, &opts)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Retries
//!
//! A call is sent to another node only when that cannot run it twice:
//! - the request never reached a handler (connection refused, the node is gone, the
//!   stream was refused during a graceful shutdown) — such retries are free and try every
//!   candidate node within the deadline;
//! - or the endpoint is idempotent (declared by the server in the registry, or set with
//!   [`CallOptions::idempotent`]) — up to [`CallOptions::retries`] extra attempts.
//!
//! An error answered by the handler is never retried. The deadline covers all attempts.

mod pool;

pub(crate) use pool::before_send;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, TE, USER_AGENT};
use http::{Request, StatusCode};
use tokio::sync::mpsc;

use crate::codec::{Codec, Format, Message};
use crate::config::Options;
use crate::context::{Context, Metadata};
use crate::error::{Error, Failure, Result};
use crate::grpc::body::{Body, RecvBody, Side};
use crate::grpc::{self, GRPC_TIMEOUT, frame};
use crate::registry::{Node, SharedRegistry};
use crate::selector::{Candidate, Filter, Next, Outcome, Selector, Strategy};
use crate::stream::{STREAM_BUFFER, StreamReceiver, StreamSender};

use pool::Pool;

const ID: &str = "micro.client";

/// Client-wide settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Deadline of a call when neither the context nor the call sets one (default 30 s,
    /// `MICRO_CLIENT_REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// Extra attempts for idempotent calls (default 1, `MICRO_CLIENT_RETRIES`).
    pub retries: u32,
    /// How long to wait for a TCP connection (default 5 s).
    pub connect_timeout: Duration,
    /// Largest request message (default 4 MiB).
    pub max_send_message_size: usize,
    /// Largest response message (default 4 MiB).
    pub max_recv_message_size: usize,
    /// How nodes are picked (default random).
    pub strategy: Strategy,
    /// Which transport calls use (default [`Transport::Auto`], `MICRO_TRANSPORT`).
    pub transport: Transport,
}

/// The transport a client uses to reach a node.
///
/// ```
/// use micro_runtime::client::Transport;
/// assert_eq!(Transport::from_name("native")?, Transport::Native);
/// assert!(Transport::from_name("carrier-pigeon").is_err());
/// # Ok::<(), micro_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// The native transport for nodes that advertise it (`transport: native,grpc` in their
    /// metadata), gRPC for every other node.
    #[default]
    Auto,
    /// gRPC over HTTP/2 always.
    Grpc,
    /// The native transport always, also for addresses given with
    /// [`CallOptions::address`] (whose metadata is unknown).
    Native,
}

impl Transport {
    /// The transport named `auto`, `grpc` or `native`.
    pub fn from_name(name: &str) -> Result<Transport> {
        match name {
            "auto" => Ok(Transport::Auto),
            "grpc" => Ok(Transport::Grpc),
            "native" => Ok(Transport::Native),
            other => Err(Error::bad_request(
                "micro.config",
                format!("unknown transport {other:?}: use auto, grpc or native"),
            )),
        }
    }

    /// Whether calls to `node` use the native transport.
    fn native_for(self, node: &Node) -> bool {
        match self {
            Transport::Grpc => false,
            Transport::Native => true,
            Transport::Auto => node
                .metadata
                .get("transport")
                .is_some_and(|t| t.split(',').any(|t| t.trim() == "native")),
        }
    }
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            request_timeout: Duration::from_secs(30),
            retries: 1,
            connect_timeout: Duration::from_secs(5),
            max_send_message_size: grpc::DEFAULT_MAX_MESSAGE_SIZE,
            max_recv_message_size: grpc::DEFAULT_MAX_MESSAGE_SIZE,
            strategy: Strategy::Random,
            transport: Transport::Auto,
        }
    }
}

/// Options for one call.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Deadline for this call (the context's deadline still wins when earlier).
    pub timeout: Option<Duration>,
    /// Metadata added to the context's.
    pub metadata: Metadata,
    /// Call these addresses instead of asking the registry.
    pub addresses: Vec<String>,
    /// Extra attempts for an idempotent call.
    pub retries: Option<u32>,
    /// Whether the call may run twice; by default what the server declared in the registry.
    pub idempotent: Option<bool>,
    /// Wire format; by default the request type's.
    pub format: Option<Format>,
    /// Protobuf package for the gRPC path, when the registry does not tell.
    pub package: Option<String>,
    /// Only nodes passing these filters.
    pub filters: Vec<Filter>,
}

impl CallOptions {
    /// Default options.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// Set the deadline of this call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Add a metadata entry.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key, value);
        self
    }

    /// Call this address (`host:port`) directly; may be given several times.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.addresses.push(address.into());
        self
    }

    /// Extra attempts for an idempotent call.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Declare whether the call may safely run twice.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Use this wire format.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Use this protobuf package in the gRPC path.
    #[must_use]
    pub fn package(mut self, package: impl Into<String>) -> Self {
        self.package = Some(package.into());
        self
    }

    /// Only call nodes that pass `filter`.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }
}

/// A response with what came with it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Response<T> {
    /// The message.
    pub message: T,
    /// Response header metadata.
    pub metadata: Metadata,
    /// Response trailer metadata.
    pub trailers: Metadata,
    /// The node that answered.
    pub node: Arc<Node>,
}

/// A message passed through as bytes, in whatever format the call uses (for proxies,
/// gateways and the CLI).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raw(pub Bytes);

impl Message for Raw {
    fn encode_as<B: bytes::BufMut>(&self, _format: Format, buf: &mut B) -> Result<()> {
        buf.put_slice(&self.0);
        Ok(())
    }

    fn decode_as(_format: Format, buf: Bytes) -> Result<Raw> {
        Ok(Raw(buf))
    }

    fn default_format() -> Format {
        Format::Json
    }

    fn supports(_format: Format) -> bool {
        true
    }
}

/// Where a call may go.
enum Targets {
    Fixed { addresses: Vec<String>, at: usize },
    Selected(Next),
}

struct Target {
    node: Arc<Node>,
    candidate: Option<Candidate>,
}

impl Targets {
    fn next(&mut self) -> Option<Target> {
        match self {
            Targets::Fixed { addresses, at } => {
                let address = addresses.get(*at)?.clone();
                *at += 1;
                Some(Target {
                    node: Arc::new(Node::new(address.clone(), address)),
                    candidate: None,
                })
            }
            Targets::Selected(next) => next.next().map(|c| Target {
                node: c.node.clone(),
                candidate: Some(c),
            }),
        }
    }
}

fn split_endpoint(endpoint: &str) -> Result<(&str, &str)> {
    match endpoint.split_once('.') {
        Some((svc, method)) if !svc.is_empty() && !method.is_empty() && !method.contains('.') => {
            Ok((svc, method))
        }
        _ => Err(Error::bad_request(
            ID,
            format!(
                "invalid endpoint {endpoint:?}: write it as Service.Method, e.g. Greeter.Hello"
            ),
        )),
    }
}

impl Target {
    fn path(&self, endpoint: &str, opts: &CallOptions) -> Result<String> {
        let (svc, method) = split_endpoint(endpoint)?;
        if let Some(pkg) = &opts.package {
            return Ok(format!("/{pkg}.{svc}/{method}"));
        }
        if let Some(path) = self
            .candidate
            .as_ref()
            .and_then(|c| c.service.endpoint(endpoint))
            .and_then(|e| e.metadata.get("grpc_path"))
        {
            return Ok(path.clone());
        }
        Ok(format!("/{svc}/{method}"))
    }

    fn idempotent(&self, endpoint: &str, opts: &CallOptions) -> bool {
        opts.idempotent.unwrap_or_else(|| {
            self.candidate
                .as_ref()
                .and_then(|c| c.service.endpoint(endpoint))
                .is_some_and(|e| e.is_idempotent())
        })
    }
}

/// What every attempt of one call shares.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    ctx: &'a Context,
    opts: &'a CallOptions,
    format: Format,
    deadline: Instant,
}

impl Outgoing<'_> {
    fn native_request<'p>(&'p self, path: &'p str) -> crate::native::client::Request<'p> {
        crate::native::client::Request {
            path,
            format: self.format,
            timeout: self.deadline.saturating_duration_since(Instant::now()),
            metadata: [self.ctx.metadata(), &self.opts.metadata],
        }
    }
}

struct ClientInner {
    selector: Selector,
    pool: Pool,
    options: ClientOptions,
}

/// Calls services. Cheap to clone: clones share connections, the node cache and node health.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("selector", &self.inner.selector)
            .field("options", &self.inner.options)
            .finish()
    }
}

impl Client {
    /// A client over `registry` with default options.
    pub fn new(registry: SharedRegistry) -> Client {
        Client::with_options(registry, ClientOptions::default())
    }

    /// A client over `registry`.
    pub fn with_options(registry: SharedRegistry, options: ClientOptions) -> Client {
        Client {
            inner: Arc::new(ClientInner {
                selector: Selector::new(registry, options.strategy),
                pool: Pool::new(options.connect_timeout, options.max_recv_message_size),
                options,
            }),
        }
    }

    /// A client configured from `MICRO_*` environment variables (registry, timeouts,
    /// retries).
    pub fn from_env() -> Result<Client> {
        Client::from_options(&Options::from_env()?)
    }

    /// A client configured from [`Options`].
    pub fn from_options(options: &Options) -> Result<Client> {
        let registry = options.registry()?;
        Ok(Client::with_options(registry, options.client_options()))
    }

    /// The selector (and through it the registry).
    pub fn selector(&self) -> &Selector {
        &self.inner.selector
    }

    /// The client-wide options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Call `endpoint` of `service` with default context and options.
    pub async fn call<Req: Message, Resp: Message>(
        &self,
        service: &str,
        endpoint: &str,
        request: &Req,
    ) -> Result<Resp> {
        self.call_with(
            &Context::new(),
            service,
            endpoint,
            request,
            &CallOptions::new(),
        )
        .await
    }

    /// Call with a context (deadline, metadata) and options.
    pub async fn call_with<Req: Message, Resp: Message>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        request: &Req,
        opts: &CallOptions,
    ) -> Result<Resp> {
        self.invoke(ctx, service, endpoint, request, opts)
            .await
            .map(|r| r.message)
    }

    /// Call, and also get the response metadata and the node that answered.
    pub async fn invoke<Req: Message, Resp: Message>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        request: &Req,
        opts: &CallOptions,
    ) -> Result<Response<Resp>> {
        self.invoke_codec(
            ctx,
            service,
            endpoint,
            request,
            opts,
            Codec::message(),
            Codec::message(),
        )
        .await
    }

    /// [`Client::invoke`] with explicit codecs (for example [`Codec::serde`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn invoke_codec<Req, Resp>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        request: &Req,
        opts: &CallOptions,
        req: Codec<Req>,
        resp: Codec<Resp>,
    ) -> Result<Response<Resp>> {
        let format = opts.format.unwrap_or_else(|| req.default_format());
        if !req.supports(format) || !resp.supports(format) {
            return Err(Error::bad_request(
                ID,
                format!("the message types of {endpoint} cannot be sent as {format}"),
            ));
        }
        let frame = frame::encode(
            &req,
            request,
            format,
            self.inner.options.max_send_message_size,
            ID,
            "request message",
        )?;
        let (bytes, metadata, trailers, node) = self
            .unary(ctx, service, endpoint, format, frame, opts)
            .await?;
        Ok(Response {
            message: resp.decode(format, bytes)?,
            metadata,
            trailers,
            node,
        })
    }

    fn deadline(&self, ctx: &Context, opts: &CallOptions) -> Instant {
        let timeout = opts.timeout.unwrap_or(self.inner.options.request_timeout);
        let own = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        match ctx.deadline() {
            Some(d) if d < own => d,
            _ => own,
        }
    }

    async fn targets(&self, service: &str, opts: &CallOptions) -> Result<Targets> {
        if !opts.addresses.is_empty() {
            return Ok(Targets::Fixed {
                addresses: opts.addresses.clone(),
                at: 0,
            });
        }
        Ok(Targets::Selected(
            self.inner.selector.select(service, &opts.filters).await?,
        ))
    }

    fn build(
        &self,
        call: &Outgoing<'_>,
        node: &Node,
        path: &str,
        body: Body,
    ) -> Result<Request<Body>> {
        let Outgoing {
            ctx,
            opts,
            format,
            deadline,
        } = *call;
        let uri = format!("http://{}{}", node.address, path);
        let mut req = Request::post(uri).body(body).map_err(|e| {
            Error::bad_request(ID, format!("invalid address {:?}: {e}", node.address))
        })?;
        let headers = req.headers_mut();
        grpc::metadata_to_headers(ctx.metadata(), headers);
        grpc::metadata_to_headers(&opts.metadata, headers);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.grpc_content_type()),
        );
        headers.insert(TE, HeaderValue::from_static("trailers"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("micro-rust/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(
            GRPC_TIMEOUT,
            grpc::encode_timeout(deadline.saturating_duration_since(Instant::now())),
        );
        Ok(req)
    }

    fn mark(&self, target: &Target, outcome: Outcome) {
        if target.candidate.is_some() {
            self.inner.selector.mark(&target.node, outcome);
        }
    }

    async fn unary(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        format: Format,
        frame: Bytes,
        opts: &CallOptions,
    ) -> Result<(Bytes, Metadata, Metadata, Arc<Node>)> {
        split_endpoint(endpoint)?;
        let deadline = self.deadline(ctx, opts);
        let mut targets = self.targets(service, opts).await?;
        let retries = opts.retries.unwrap_or(self.inner.options.retries);
        let mut retried = 0;
        let mut last: Option<Error> = None;
        while let Some(target) = targets.next() {
            let path = target.path(endpoint, opts)?;
            let call = Outgoing {
                ctx,
                opts,
                format,
                deadline,
            };
            let native = self.inner.options.transport.native_for(&target.node);
            // Boxed: the attempt is the large part of a call's state, and callers move the
            // call future through several layers before it is pinned.
            let attempt = Box::pin(async {
                if native {
                    self.once_native(&call, &target.node.address, &path, frame.clone())
                        .await
                } else {
                    let req =
                        self.build(&call, &target.node, &path, Body::once(frame.clone(), None))?;
                    self.once(&target.node.address, req).await
                }
            });
            let result = match tokio::time::timeout_at(deadline.into(), attempt).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(Error::timeout(
                        ID,
                        format!("call to {service} {endpoint} timed out: deadline exceeded"),
                    ));
                }
            };
            match result {
                Ok((bytes, md, trailers)) => {
                    self.mark(&target, Outcome::Answered);
                    return Ok((bytes, md, trailers, target.node));
                }
                Err(e) if !e.is_transport_failure() => {
                    self.mark(&target, Outcome::Answered);
                    return Err(e);
                }
                Err(e) => {
                    self.mark(&target, Outcome::ConnectionFailed);
                    let retry = match e.failure() {
                        // Never reached a handler: try the other nodes.
                        Failure::BeforeSend => true,
                        // May have run: only if the endpoint says running twice is fine.
                        _ => {
                            let ok = target.idempotent(endpoint, opts) && retried < retries;
                            retried += 1;
                            ok
                        }
                    };
                    tracing::debug!(service, endpoint, node = %target.node.address, error = %e, retry, "call attempt failed");
                    if !retry {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::unavailable(ID, format!("service {service}: no node available"))
        }))
    }

    /// One attempt over the native transport.
    async fn once_native(
        &self,
        call: &Outgoing<'_>,
        addr: &str,
        path: &str,
        frame: Bytes,
    ) -> Result<(Bytes, Metadata, Metadata)> {
        let conn = self.inner.pool.native(addr).await?;
        conn.unary(&call.native_request(path), frame).await
    }

    /// One attempt: send and read one response message.
    async fn once(&self, addr: &str, req: Request<Body>) -> Result<(Bytes, Metadata, Metadata)> {
        let rsp = self.inner.pool.start(addr, req).await?.await?;
        let (head, md) = response_head(rsp, self.inner.options.max_recv_message_size, addr)?;
        let mut body = match head {
            Head::Body(body) => body,
            Head::TrailersOnly(Err(e)) => return Err(e),
            Head::TrailersOnly(Ok(())) => {
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
        let trailers = body.take_trailers();
        let mut trailer_md = Metadata::new();
        if let Some(trailers) = &trailers {
            grpc::headers_to_metadata(trailers, &mut trailer_md);
        }
        match trailers.as_ref().and_then(grpc::status_from_headers) {
            Some(Ok(())) => first
                .map(|m| (m, md, trailer_md))
                .ok_or_else(|| Error::internal(ID, format!("{addr} answered without a message"))),
            Some(Err(e)) => Err(e),
            None => Err(Error::internal(
                ID,
                format!("{addr} ended the response without a gRPC status"),
            )),
        }
    }

    /// Call with a request already in the call's format (JSON text for `micro call`), and get
    /// the response in the same format.
    pub async fn call_raw(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        format: Format,
        request: Bytes,
        opts: &CallOptions,
    ) -> Result<Response<Bytes>> {
        let mut opts = opts.clone();
        opts.format = Some(format);
        let rsp: Response<Raw> = self
            .invoke(ctx, service, endpoint, &Raw(request), &opts)
            .await?;
        Ok(Response {
            message: rsp.message.0,
            metadata: rsp.metadata,
            trailers: rsp.trailers,
            node: rsp.node,
        })
    }

    /// Open a stream to `endpoint`: send requests, close the sending side, receive responses.
    /// Serves all three streaming kinds (and unary).
    ///
    /// Only connection failures before the stream starts are retried on another node.
    pub async fn stream<Req: Message, Resp: Message>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        opts: &CallOptions,
    ) -> Result<Streaming<Req, Resp>> {
        self.stream_codec(
            ctx,
            service,
            endpoint,
            opts,
            Codec::message(),
            Codec::message(),
        )
        .await
    }

    /// [`Client::stream`] with explicit codecs.
    pub async fn stream_codec<Req, Resp>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        opts: &CallOptions,
        req: Codec<Req>,
        resp: Codec<Resp>,
    ) -> Result<Streaming<Req, Resp>> {
        split_endpoint(endpoint)?;
        let format = opts.format.unwrap_or_else(|| req.default_format());
        let deadline = self.deadline(ctx, opts);
        let mut targets = self.targets(service, opts).await?;
        let mut last: Option<Error> = None;
        while let Some(target) = targets.next() {
            let path = target.path(endpoint, opts)?;
            let call = Outgoing {
                ctx,
                opts,
                format,
                deadline,
            };
            let native = self.inner.options.transport.native_for(&target.node);
            let start = async {
                if native {
                    let conn = self.inner.pool.native(&target.node.address).await?;
                    return conn.stream(&call.native_request(&path)).await;
                }
                let (tx, rx) = mpsc::channel(STREAM_BUFFER);
                let body = Body::Channel {
                    first: None,
                    rx,
                    _task: None,
                };
                let request = self.build(&call, &target.node, &path, body)?;
                let pending = self.inner.pool.start(&target.node.address, request).await?;
                let max = self.inner.options.max_recv_message_size;
                let addr = target.node.address.clone();
                let head: crate::native::client::PendingHead = Box::pin(async move {
                    let rsp = pending.await?;
                    response_head(rsp, max, &addr)
                });
                Ok::<_, Error>((tx, head))
            };
            let started = tokio::time::timeout_at(deadline.into(), start)
                .await
                .map_err(|_| {
                    Error::timeout(ID, format!("stream to {service} {endpoint} timed out"))
                })?;
            match started {
                Ok((tx, headers)) => {
                    self.mark(&target, Outcome::Answered);
                    return Ok(Streaming {
                        sender: Some(StreamSender::new(
                            tx,
                            req,
                            format,
                            self.inner.options.max_send_message_size,
                            true,
                        )),
                        receiver: StreamReceiver::client(headers, resp, format, Some(deadline)),
                        node: target.node,
                    });
                }
                Err(e) => {
                    self.mark(&target, Outcome::ConnectionFailed);
                    if !e.is_retry_safe() {
                        return Err(e);
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::unavailable(ID, format!("service {service}: no node available"))
        }))
    }

    /// Call a client-streaming endpoint: send requests, then [`ClientStreaming::finish`] for
    /// the one response.
    pub async fn client_stream<Req: Message, Resp: Message>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        opts: &CallOptions,
    ) -> Result<ClientStreaming<Req, Resp>> {
        self.client_stream_codec(
            ctx,
            service,
            endpoint,
            opts,
            Codec::message(),
            Codec::message(),
        )
        .await
    }

    /// [`Client::client_stream`] with explicit codecs.
    pub async fn client_stream_codec<Req, Resp>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        opts: &CallOptions,
        req: Codec<Req>,
        resp: Codec<Resp>,
    ) -> Result<ClientStreaming<Req, Resp>> {
        Ok(ClientStreaming {
            inner: self
                .stream_codec(ctx, service, endpoint, opts, req, resp)
                .await?,
        })
    }

    /// Call a server-streaming endpoint: send one request, get the stream of responses.
    pub async fn server_stream<Req: Message, Resp: Message>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        request: &Req,
        opts: &CallOptions,
    ) -> Result<StreamReceiver<Resp>> {
        self.server_stream_codec(
            ctx,
            service,
            endpoint,
            request,
            opts,
            Codec::message(),
            Codec::message(),
        )
        .await
    }

    /// [`Client::server_stream`] with explicit codecs.
    #[allow(clippy::too_many_arguments)]
    pub async fn server_stream_codec<Req, Resp>(
        &self,
        ctx: &Context,
        service: &str,
        endpoint: &str,
        request: &Req,
        opts: &CallOptions,
        req: Codec<Req>,
        resp: Codec<Resp>,
    ) -> Result<StreamReceiver<Resp>> {
        let mut stream = self
            .stream_codec(ctx, service, endpoint, opts, req, resp)
            .await?;
        stream.send(request).await?;
        stream.close_send();
        Ok(stream.receiver)
    }
}

/// What a response head says comes next.
#[allow(clippy::large_enum_variant)] // one per call, short-lived
pub(crate) enum Head {
    /// Messages, then trailers.
    Body(RecvBody),
    /// No messages: the status came with the headers.
    TrailersOnly(Result<()>),
}

/// Check the response head and read its metadata.
pub(crate) fn response_head(
    rsp: http::Response<hyper::body::Incoming>,
    max: usize,
    addr: &str,
) -> Result<(Head, Metadata)> {
    let (parts, body) = rsp.into_parts();
    if parts.status != StatusCode::OK {
        let code = match parts.status {
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => crate::Code::Unimplemented,
            StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST => crate::Code::Internal,
            StatusCode::UNAUTHORIZED => crate::Code::Unauthenticated,
            StatusCode::FORBIDDEN => crate::Code::PermissionDenied,
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => crate::Code::Unavailable,
            _ => crate::Code::Unknown,
        };
        return Err(Error::from_code(
            ID,
            code,
            format!(
                "{addr} answered HTTP {} (is it a gRPC server?)",
                parts.status
            ),
        ));
    }
    let mut md = Metadata::new();
    grpc::headers_to_metadata(&parts.headers, &mut md);
    if let Some(status) = grpc::status_from_headers(&parts.headers) {
        return Ok((Head::TrailersOnly(status), md));
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
    Ok((Head::Body(RecvBody::new(body, max, Side::Client)), md))
}

/// An open stream: send requests, close the sending side, receive responses.
pub struct Streaming<Req, Resp> {
    sender: Option<StreamSender<Req>>,
    receiver: StreamReceiver<Resp>,
    node: Arc<Node>,
}

impl<Req, Resp> fmt::Debug for Streaming<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("node", &self.node.address)
            .field("sending", &self.sender.is_some())
            .finish()
    }
}

impl<Req, Resp> Streaming<Req, Resp> {
    /// Send one request message (waits while the server is not reading).
    pub async fn send(&mut self, msg: &Req) -> Result<()> {
        match &self.sender {
            Some(tx) => tx.send(msg).await,
            None => Err(Error::bad_request(
                ID,
                "the sending side of this stream is already closed",
            )),
        }
    }

    /// Close the sending side (half-close): the server sees the end of the requests.
    pub fn close_send(&mut self) {
        self.sender = None;
    }

    /// The next response; `Ok(None)` when the server ended the stream successfully.
    pub async fn recv(&mut self) -> Result<Option<Resp>> {
        self.receiver.recv().await
    }

    /// The response trailers (once the stream has ended).
    pub fn trailers(&self) -> &Metadata {
        self.receiver.trailers()
    }

    /// The response header metadata.
    pub fn metadata(&self) -> &Metadata {
        self.receiver.metadata()
    }

    /// The node serving the stream.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Separate the two directions (the sender is `None` once closed).
    pub fn split(self) -> (Option<StreamSender<Req>>, StreamReceiver<Resp>) {
        (self.sender, self.receiver)
    }
}

/// A client-streaming call: send requests, then `finish` for the single response.
pub struct ClientStreaming<Req, Resp> {
    inner: Streaming<Req, Resp>,
}

impl<Req, Resp> fmt::Debug for ClientStreaming<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientStreaming")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<Req, Resp> ClientStreaming<Req, Resp> {
    /// Send one request message (waits while the server is not reading).
    pub async fn send(&mut self, msg: &Req) -> Result<()> {
        self.inner.send(msg).await
    }

    /// Close the sending side and wait for the response.
    pub async fn finish(mut self) -> Result<Resp> {
        self.inner.close_send();
        match self.inner.recv().await? {
            Some(rsp) => Ok(rsp),
            None => Err(Error::internal(
                ID,
                "the server ended the call without a response",
            )),
        }
    }

    /// The node serving the call.
    pub fn node(&self) -> &Node {
        self.inner.node()
    }
}
