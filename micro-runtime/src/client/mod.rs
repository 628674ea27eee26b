//! The client: typed calls and streams to services found in the registry.
//!
//! ```no_run
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloRequest { #[prost(string, tag = "1")] name: String }
//! # impl micro::codec::ProstSerde for HelloRequest {}
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloResponse { #[prost(string, tag = "1")] msg: String }
//! # impl micro::codec::ProstSerde for HelloResponse {}
//! # async fn run() -> micro::Result<()> {
//! use std::time::Duration;
//! use micro::{Client, Context, client::CallOptions};
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

//!
//! # Middleware
//!
//! [`Client::wrap`] and [`Client::layer`] put [`CallWrapper`]s or any `tower::Layer` around
//! every call the client makes (see [`crate::middleware`]).

mod call;
mod guard;
mod options;
mod policy;
mod pool;
mod streaming;
mod wrap;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::codec::{Codec, Format, Message};
use crate::context::{Context, Metadata};
use crate::error::{BoxError, Error, Result};
use crate::middleware::Next;
use crate::registry::{Node, SharedRegistry};
use crate::selector::Selector;
use crate::stream::{StreamReceiver, StreamSender};
use crate::transport::{self, Connector, TcpDialer};
use crate::wire::frame;

/// The metadata that names the service a call is for when it goes through a proxy
/// ([`ClientOptions::proxy`]).
pub const PROXY_SERVICE_HEADER: &str = "micro-service";

pub use options::{CallOptions, ClientOptions, TransportPolicy, call_options};
pub use policy::{Policies, Policy};
pub use streaming::{
    ClientStreaming, Streaming, forward_both, forward_requests, forward_responses,
};
pub use wrap::{CallNext, CallRequest, CallResponse, CallWrapper};

use pool::Pool;
use wrap::Reply;

const ID: &str = "micro.client";

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

struct ClientInner {
    selector: Selector,
    pool: Pool,
    options: ClientOptions,
    budget: guard::RetryBudget,
    breakers: guard::Breakers,
}

/// Calls services. Cheap to clone: clones share connections, the node cache and node health.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
    /// The wrappers, and the chain they make around the call (`None` without wrappers: calls
    /// go straight to the call itself).
    wrappers: Arc<[CallWrapper]>,
    chain: Option<Next<CallRequest, CallResponse>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("selector", &self.inner.selector)
            .field("options", &self.inner.options)
            .field("wrappers", &self.wrappers)
            .finish()
    }
}

/// Every transport this build has, as connectors with the client's settings.
fn connectors(options: &ClientOptions) -> Vec<Arc<dyn Connector>> {
    let dial = transport::DialSettings {
        connect_timeout: options.connect_timeout,
        max_recv: options.max_recv_message_size,
        keepalive: options.keepalive,
    };
    let tcp: Arc<dyn transport::Dialer> = Arc::new(TcpDialer);
    let (native, grpc): (Arc<dyn transport::Dialer>, Arc<dyn transport::Dialer>) =
        match &options.tls {
            Some(tls) => (
                Arc::new(transport::tls::TlsDialer::new(
                    tcp.clone(),
                    tls.native.clone(),
                )),
                Arc::new(transport::tls::TlsDialer::new(tcp, tls.grpc.clone())),
            ),
            None => (tcp.clone(), tcp),
        };
    vec![
        Arc::new(transport::native::NativeConnector::new(
            "native", native, dial,
        )),
        Arc::new(transport::grpc::GrpcConnector::new(
            grpc,
            dial,
            options.tls.is_some(),
        )),
        Arc::new(transport::native::NativeConnector::new(
            "memory",
            Arc::new(transport::memory::MemoryDialer),
            dial,
        )),
    ]
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
                selector: Selector::with_stale_for(
                    registry,
                    options.strategy,
                    options.registry_stale_for,
                ),
                pool: Pool::new(connectors(&options)),
                budget: guard::RetryBudget::new(options.retry_budget),
                breakers: guard::Breakers::new(1.5, options.breaker),
                options,
            }),
            wrappers: Arc::from([]),
            chain: None,
        }
    }

    /// The selector (and through it the registry).
    pub fn selector(&self) -> &Selector {
        &self.inner.selector
    }

    /// The client-wide options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// This client with `wrapper` around every call, outside the wrappers it already has
    /// (`client.wrap(a).wrap(b)` runs `b` first). The new client shares connections, node
    /// cache and node health with this one, and the wrappers it already has (a tower
    /// layer's state, such as a concurrency limit, is shared too).
    #[must_use]
    pub fn wrap(&self, wrapper: CallWrapper) -> Client {
        let next = match &self.chain {
            Some(chain) => chain.clone(),
            None => {
                let inner = self.inner.clone();
                Next::boxed(move |req: CallRequest| {
                    let inner = inner.clone();
                    Box::pin(async move { inner.send(&req).await })
                })
            }
        };
        Client {
            inner: self.inner.clone(),
            chain: Some(wrapper.wrap(next)),
            wrappers: self.wrappers.iter().cloned().chain([wrapper]).collect(),
        }
    }

    /// This client with a `tower::Layer` around every call, outside the wrappers it already
    /// has, e.g. `tower::limit::ConcurrencyLimitLayer::new(64)` (see [`Client::wrap`]).
    #[must_use]
    pub fn layer<L>(&self, layer: L) -> Client
    where
        L: tower::Layer<CallNext> + Send + Sync + 'static,
        L::Service: tower::Service<CallRequest, Response = CallResponse> + Clone + Send + 'static,
        <L::Service as tower::Service<CallRequest>>::Error: Into<BoxError>,
        <L::Service as tower::Service<CallRequest>>::Future: Send + 'static,
    {
        self.wrap(CallWrapper::layer(layer))
    }

    /// The wrappers around every call, in the order they were added (the last outermost).
    pub fn wrappers(&self) -> &[CallWrapper] {
        &self.wrappers
    }

    /// Call `endpoint` of `service` with the current context (inside a handler: the caller's
    /// deadline and metadata, see [`Context::current`]) and default options.
    pub async fn call<Req: Message, Resp: Message>(
        &self,
        service: &str,
        endpoint: &str,
        request: &Req,
    ) -> Result<Resp> {
        self.call_with(
            &Context::current(),
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
        let opts = &*self.inner.policed(service, endpoint, opts);
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
        let (reply, node) = match &self.chain {
            None => {
                let plan = call::CallPlan {
                    ctx,
                    service,
                    endpoint,
                    opts,
                    format,
                };
                self.inner.unary(&plan, frame).await?
            }
            Some(chain) => {
                // The deadline starts now: time spent in wrappers (queued behind a limit ...)
                // counts.
                let request = CallRequest {
                    ctx: ctx.clone().with_deadline(self.inner.deadline(ctx, opts)),
                    service: service.to_owned(),
                    endpoint: endpoint.to_owned(),
                    options: opts.clone(),
                    format,
                    frame: Some(frame),
                };
                let rsp = chain.call(request).await?;
                match rsp.reply {
                    Reply::Unary(reply) => (reply, rsp.node),
                    Reply::Stream { .. } => {
                        return Err(Error::internal(
                            ID,
                            "a call wrapper answered a unary call with a stream",
                        ));
                    }
                }
            }
        };
        Ok(Response {
            message: resp.decode(format, reply.message)?,
            metadata: reply.headers,
            trailers: reply.trailers,
            node,
        })
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
        self.invoke_codec(
            ctx,
            service,
            endpoint,
            &request,
            &opts,
            Codec::raw(),
            Codec::raw(),
        )
        .await
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
        let opts = &*self.inner.policed(service, endpoint, opts);
        let format = opts.format.unwrap_or_else(|| req.default_format());
        let (start, node, deadline) = match &self.chain {
            None => {
                let plan = call::CallPlan {
                    ctx,
                    service,
                    endpoint,
                    opts,
                    format,
                };
                let deadline = self.inner.deadline(ctx, opts);
                let (start, node) = self.inner.open(&plan, deadline).await?;
                (start, node, deadline)
            }
            Some(chain) => {
                let request = CallRequest {
                    ctx: ctx.clone().with_deadline(self.inner.deadline(ctx, opts)),
                    service: service.to_owned(),
                    endpoint: endpoint.to_owned(),
                    options: opts.clone(),
                    format,
                    frame: None,
                };
                let rsp = chain.call(request).await?;
                match rsp.reply {
                    Reply::Stream { start, deadline } => (start, rsp.node, deadline),
                    Reply::Unary(_) => {
                        return Err(Error::internal(
                            ID,
                            "a call wrapper answered a stream with a unary reply",
                        ));
                    }
                }
            }
        };
        Ok(Streaming {
            sender: Some(StreamSender::new(
                start.requests,
                req,
                format,
                self.inner.options.max_send_message_size,
                true,
            )),
            receiver: StreamReceiver::client(start.head, resp, format, Some(deadline)),
            node,
        })
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
