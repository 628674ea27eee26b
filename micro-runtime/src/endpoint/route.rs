//! [`Route`]: one endpoint, its handler and what the registry says about it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::handler::{BidiFn, ClientStreamFn, DynHandler, RawFn, ServerStreamFn, Typed, UnaryFn};
use super::{HandlerWrapper, ID, StreamKind};
use crate::codec::{Codec, Descriptors, Format, Message, schema};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::registry::{Endpoint, Value};
use crate::stream::{StreamReceiver, StreamSender};

/// One endpoint: its name (`Service.Method`), its handler, and what the registry says about
/// it.
///
/// ```
/// use micro::server::Route;
/// use micro::registry::Value;
///
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Req { #[prost(string, tag = "1")] name: String }
/// # impl micro::codec::ProstSerde for Req {}
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # struct Rsp { #[prost(string, tag = "1")] msg: String }
/// # impl micro::codec::ProstSerde for Rsp {}
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
    pub(crate) handler: Arc<dyn DynHandler>,
    pub(crate) endpoint: Endpoint,
    pub(crate) package: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) internal: bool,
    /// One of the framework's own endpoints (health, reflection): service-wide wrappers
    /// leave it alone.
    pub(crate) framework: bool,
    pub(crate) descriptors: Option<&'static Descriptors>,
    pub(crate) wrappers: Vec<HandlerWrapper>,
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
    fn new(name: impl Into<String>, kind: StreamKind, handler: Arc<dyn DynHandler>) -> Route {
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
            framework: false,
            descriptors: None,
            wrappers: Vec::new(),
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
            Arc::new(Typed::new(UnaryFn(handler), req, resp)),
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
            Arc::new(Typed::new(ServerStreamFn(handler), req, resp)),
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
            Arc::new(Typed::new(ClientStreamFn(handler), req, resp)),
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
            Arc::new(Typed::new(BidiFn(handler), req, resp)),
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
        Route::new(
            name,
            StreamKind::Unary,
            Arc::new(Typed::new(RawFn(handler), Codec::raw(), Codec::raw())),
        )
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
    pub fn descriptors(mut self, descriptors: &'static Descriptors) -> Route {
        self.descriptors = Some(descriptors);
        self
    }

    /// Run `wrapper` around this endpoint's handler (inside the service-wide wrappers).
    /// Wrappers run in the order they were added, the first outermost.
    #[must_use]
    pub fn wrap(mut self, wrapper: HandlerWrapper) -> Route {
        self.wrappers.push(wrapper);
        self
    }

    /// Run a `tower::Layer` around this endpoint's handler, e.g.
    /// `tower::limit::ConcurrencyLimitLayer::new(8)` (see [`Route::wrap`]).
    #[must_use]
    pub fn layer<L>(self, layer: L) -> Route
    where
        L: tower::Layer<super::HandlerNext> + Send + Sync + 'static,
        L::Service: tower::Service<super::HandlerRequest, Response = super::HandlerResponse>
            + Clone
            + Send
            + 'static,
        <L::Service as tower::Service<super::HandlerRequest>>::Error: Into<crate::error::BoxError>,
        <L::Service as tower::Service<super::HandlerRequest>>::Future: Send + 'static,
    {
        self.wrap(HandlerWrapper::layer(layer))
    }

    /// Set the registry shapes of the request and response from the descriptors of a
    /// generated package (`greeter.HelloRequest` ...), and attach the descriptors (for
    /// reflection).
    #[must_use]
    pub fn describe(
        self,
        descriptors: &'static Descriptors,
        request: &str,
        response: &str,
    ) -> Route {
        self.descriptors(descriptors).shapes(
            schema::schema(descriptors, request),
            schema::schema(descriptors, response),
        )
    }

    /// Set the registry shapes of the request and response, where known.
    #[must_use]
    pub fn shapes(mut self, request: Option<Value>, response: Option<Value>) -> Route {
        if let Some(v) = request {
            self.endpoint.request = Some(v);
        }
        if let Some(v) = response {
            self.endpoint.response = Some(v);
        }
        self
    }

    /// Keep the endpoint out of the registry. It is still served, and still runs inside the
    /// service's wrappers.
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

    pub(crate) fn validate(&self) -> Result<()> {
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

/// What generated code calls: [`Route::describe`].
pub fn describe(
    route: Route,
    descriptors: &'static Descriptors,
    request: &str,
    response: &str,
) -> Route {
    route.describe(descriptors, request, response)
}

/// What generated code calls: [`Route::shapes`].
pub fn describe_with(route: Route, request: Option<Value>, response: Option<Value>) -> Route {
    route.shapes(request, response)
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
