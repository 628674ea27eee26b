//! The erased handler every transport calls: a call's context, format and request bytes (or
//! request stream) in; a framed response message (or a stream of frames) out.
//!
//! Typed handlers come in four shapes (plus raw bytes). Each shape says only how its request
//! arrives and how its answer leaves ([`Shape`]); one adapter ([`Typed`]) does the rest for
//! all of them: decode, call, catch panics, encode, run streams in their own task.

use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::HeaderMap;
use http_body::Frame;
use tokio::sync::mpsc;

use super::StreamKind;
use crate::codec::{Codec, Format, Message};
use crate::context::{Context, Metadata};
use crate::error::{Error, Result};
use crate::stream::{STREAM_BUFFER, StreamReceiver, StreamSender};
use crate::wire::body::AbortOnDrop;
use crate::wire::frame;
use crate::wire::recv::RecvBody;
use crate::wire::status;

const ID: &str = "micro.server";

/// A boxed, `Send` future.
pub(crate) type BoxFuture<T> = crate::BoxFuture<'static, T>;

/// The request of a call as the server hands it to a handler, and as handler wrappers see it:
/// the context (endpoint, deadline, metadata, caller), the wire format and the message.
///
/// A wrapper may change the context it is given (add metadata, tighten the deadline with
/// `with_timeout`); it should not replace it with another, which would lose the slot the
/// handler's response headers and trailers go to.
pub struct HandlerRequest {
    pub(crate) ctx: Context,
    pub(crate) format: Format,
    pub(crate) input: Input,
    pub(crate) kind: StreamKind,
    pub(crate) max_send: usize,
    /// The endpoint's handler, while the request passes through the service's wrappers.
    pub(crate) target: Option<Arc<dyn DynHandler>>,
    /// The deadline the transport enforces, while the request passes through the service's
    /// wrappers: one they tightened is enforced at the end of the chain.
    pub(crate) enforced: Option<std::time::Instant>,
}

impl std::fmt::Debug for HandlerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerRequest")
            .field("endpoint", &self.endpoint())
            .field("format", &self.format)
            .field("kind", &self.kind)
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

/// The request message: one message, or the stream of them.
#[allow(clippy::large_enum_variant)] // short-lived, one per call
#[derive(Debug)]
pub(crate) enum Input {
    Unary(Bytes),
    Stream(RecvBody),
}

/// What a handler produces: a framed response message, or the frames of a stream that its
/// own task produces (ending with the trailers).
#[derive(Debug)]
pub struct HandlerResponse {
    pub(crate) output: Output,
}

#[derive(Debug)]
pub(crate) enum Output {
    /// A framed response message.
    Unary(Bytes),
    /// Frames produced by the handler's task, ending with trailers.
    Stream {
        rx: mpsc::Receiver<Frame<Bytes>>,
        task: AbortOnDrop,
    },
}

impl HandlerRequest {
    pub(crate) fn new(
        ctx: Context,
        format: Format,
        input: Input,
        kind: StreamKind,
        max_send: usize,
    ) -> HandlerRequest {
        HandlerRequest {
            ctx,
            format,
            input,
            kind,
            max_send,
            target: None,
            enforced: None,
        }
    }

    /// The call's context: endpoint, deadline, metadata and caller.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The call's context, to change (add metadata, tighten the deadline).
    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.ctx
    }

    /// The endpoint, `Service.Method`.
    pub fn endpoint(&self) -> &str {
        self.ctx.endpoint().unwrap_or_default()
    }

    /// The caller's metadata.
    pub fn metadata(&self) -> &Metadata {
        self.ctx.metadata()
    }

    /// The deadline of the call, if it has one.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.ctx.deadline()
    }

    /// The wire format of the messages.
    pub fn format(&self) -> Format {
        self.format
    }

    /// How many messages go each way.
    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The request message as received (in [`HandlerRequest::format`]); `None` for a
    /// client-streaming call, whose messages arrive later.
    pub fn message(&self) -> Option<&Bytes> {
        match &self.input {
            Input::Unary(bytes) => Some(bytes),
            Input::Stream(_) => None,
        }
    }

    /// The request message decoded as `T`; `None` for a client-streaming call.
    pub fn decode<T: Message>(&self) -> Option<Result<T>> {
        self.message()
            .map(|bytes| T::decode_as(self.format, bytes.clone()))
    }
}

impl HandlerResponse {
    /// The response message as it will be sent (without the gRPC length prefix); `None` for
    /// a streaming response.
    pub fn message(&self) -> Option<Bytes> {
        match &self.output {
            Output::Unary(frame) => Some(frame.slice(frame::HEADER.min(frame.len())..)),
            Output::Stream { .. } => None,
        }
    }

    /// The response message decoded as `T` (in `format`, the request's); `None` for a
    /// streaming response.
    pub fn decode<T: Message>(&self, format: Format) -> Option<Result<T>> {
        self.message().map(|bytes| T::decode_as(format, bytes))
    }

    /// True when the response is a stream (the handler's task is still sending).
    pub fn is_stream(&self) -> bool {
        matches!(self.output, Output::Stream { .. })
    }
}

/// A handler with its types erased: what a route holds and transports call.
pub(crate) trait DynHandler: Send + Sync + 'static {
    fn call(&self, request: HandlerRequest) -> BoxFuture<Result<HandlerResponse>>;
    fn supports(&self, format: Format) -> bool;
}

/// The request as a typed handler takes it.
#[allow(clippy::large_enum_variant)] // one per call, moved once
pub(crate) enum Incoming<Req> {
    One(Req),
    Stream(StreamReceiver<Req>),
}

/// One shape of typed handler: how its request arrives and how its answer leaves.
pub(crate) trait Shape<Req, Resp>: Send + Sync + 'static {
    /// How many messages go each way.
    const KIND: StreamKind;
    /// The handler's future, its result mapped to the response message (`None` when the
    /// handler sent its responses through the stream).
    type Fut: Future<Output = Result<Option<Resp>>> + Send + 'static;
    /// Call the handler. `responses` is there exactly when `KIND` streams responses.
    fn invoke(
        &self,
        ctx: Context,
        format: Format,
        request: Incoming<Req>,
        responses: Option<StreamSender<Resp>>,
    ) -> Result<Self::Fut>;
}

fn wrong_input() -> Error {
    Error::internal(ID, "request shape does not match the endpoint")
}

type Answer<Resp> = fn(Result<Resp>) -> Result<Option<Resp>>;
type Done<Resp> = fn(Result<()>) -> Result<Option<Resp>>;

fn answer<Resp>(r: Result<Resp>) -> Result<Option<Resp>> {
    r.map(Some)
}

fn done<Resp>(r: Result<()>) -> Result<Option<Resp>> {
    r.map(|()| None)
}

/// `async fn(Context, Req) -> Result<Resp>`.
pub(crate) struct UnaryFn<F>(pub(crate) F);
/// `async fn(Context, Req, StreamSender<Resp>) -> Result<()>`.
pub(crate) struct ServerStreamFn<F>(pub(crate) F);
/// `async fn(Context, StreamReceiver<Req>) -> Result<Resp>`.
pub(crate) struct ClientStreamFn<F>(pub(crate) F);
/// `async fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Result<()>`.
pub(crate) struct BidiFn<F>(pub(crate) F);
/// `async fn(Context, Format, Bytes) -> Result<Bytes>`.
pub(crate) struct RawFn<F>(pub(crate) F);

impl<F, Fut, Req, Resp> Shape<Req, Resp> for UnaryFn<F>
where
    F: Fn(Context, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
    Resp: 'static,
{
    const KIND: StreamKind = StreamKind::Unary;
    type Fut = futures_util::future::Map<Fut, Answer<Resp>>;

    fn invoke(
        &self,
        ctx: Context,
        _: Format,
        request: Incoming<Req>,
        _: Option<StreamSender<Resp>>,
    ) -> Result<Self::Fut> {
        let Incoming::One(req) = request else {
            return Err(wrong_input());
        };
        Ok((self.0)(ctx, req).map(answer as Answer<Resp>))
    }
}

impl<F, Fut, Req, Resp> Shape<Req, Resp> for ServerStreamFn<F>
where
    F: Fn(Context, Req, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
    Resp: 'static,
{
    const KIND: StreamKind = StreamKind::ServerStream;
    type Fut = futures_util::future::Map<Fut, Done<Resp>>;

    fn invoke(
        &self,
        ctx: Context,
        _: Format,
        request: Incoming<Req>,
        responses: Option<StreamSender<Resp>>,
    ) -> Result<Self::Fut> {
        let (Incoming::One(req), Some(tx)) = (request, responses) else {
            return Err(wrong_input());
        };
        Ok((self.0)(ctx, req, tx).map(done as Done<Resp>))
    }
}

impl<F, Fut, Req, Resp> Shape<Req, Resp> for ClientStreamFn<F>
where
    F: Fn(Context, StreamReceiver<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
    Resp: 'static,
{
    const KIND: StreamKind = StreamKind::ClientStream;
    type Fut = futures_util::future::Map<Fut, Answer<Resp>>;

    fn invoke(
        &self,
        ctx: Context,
        _: Format,
        request: Incoming<Req>,
        _: Option<StreamSender<Resp>>,
    ) -> Result<Self::Fut> {
        let Incoming::Stream(rx) = request else {
            return Err(wrong_input());
        };
        Ok((self.0)(ctx, rx).map(answer as Answer<Resp>))
    }
}

impl<F, Fut, Req, Resp> Shape<Req, Resp> for BidiFn<F>
where
    F: Fn(Context, StreamReceiver<Req>, StreamSender<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
    Resp: 'static,
{
    const KIND: StreamKind = StreamKind::BidiStream;
    type Fut = futures_util::future::Map<Fut, Done<Resp>>;

    fn invoke(
        &self,
        ctx: Context,
        _: Format,
        request: Incoming<Req>,
        responses: Option<StreamSender<Resp>>,
    ) -> Result<Self::Fut> {
        let (Incoming::Stream(rx), Some(tx)) = (request, responses) else {
            return Err(wrong_input());
        };
        Ok((self.0)(ctx, rx, tx).map(done as Done<Resp>))
    }
}

impl<F, Fut> Shape<Bytes, Bytes> for RawFn<F>
where
    F: Fn(Context, Format, Bytes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Bytes>> + Send + 'static,
{
    const KIND: StreamKind = StreamKind::Unary;
    type Fut = futures_util::future::Map<Fut, Answer<Bytes>>;

    fn invoke(
        &self,
        ctx: Context,
        format: Format,
        request: Incoming<Bytes>,
        _: Option<StreamSender<Bytes>>,
    ) -> Result<Self::Fut> {
        let Incoming::One(body) = request else {
            return Err(wrong_input());
        };
        Ok((self.0)(ctx, format, body).map(answer as Answer<Bytes>))
    }
}

/// The one adapter from a typed handler of any [`Shape`] to a [`DynHandler`].
pub(crate) struct Typed<S, Req, Resp> {
    shape: S,
    req: Codec<Req>,
    resp: Codec<Resp>,
    _types: PhantomData<fn(Req) -> Resp>,
}

impl<S, Req, Resp> Typed<S, Req, Resp> {
    pub(crate) fn new(shape: S, req: Codec<Req>, resp: Codec<Resp>) -> Typed<S, Req, Resp> {
        Typed {
            shape,
            req,
            resp,
            _types: PhantomData,
        }
    }
}

impl<S, Req, Resp> DynHandler for Typed<S, Req, Resp>
where
    S: Shape<Req, Resp>,
    Req: Send + 'static,
    Resp: Send + 'static,
{
    fn call(&self, request: HandlerRequest) -> BoxFuture<Result<HandlerResponse>> {
        let HandlerRequest {
            ctx,
            format,
            input,
            max_send,
            ..
        } = request;
        let incoming = match input {
            Input::Unary(bytes) if !S::KIND.client_streams() => {
                match self.req.decode(format, bytes) {
                    Ok(req) => Incoming::One(req),
                    Err(e) => return ready(Err(e)),
                }
            }
            Input::Stream(body) if S::KIND.client_streams() => {
                Incoming::Stream(StreamReceiver::server(body, self.req, format))
            }
            _ => return ready(Err(wrong_input())),
        };
        // The handler's context is also its task's current one: calls it makes without a
        // context carry the caller's deadline and metadata.
        let current = ctx.clone();
        if S::KIND.server_streams() {
            let (tx, rx) = mpsc::channel(STREAM_BUFFER);
            let sender = StreamSender::new(tx.clone(), self.resp, format, max_send, false);
            let fut = match catch_panic(|| self.shape.invoke(ctx, format, incoming, Some(sender))) {
                Ok(fut) => fut,
                Err(e) => return ready(Err(e)),
            };
            return ready(Ok(spawn_stream(current, tx, rx, fut)));
        }
        let fut = match catch_panic(|| self.shape.invoke(ctx, format, incoming, None)) {
            Ok(fut) => fut,
            Err(e) => return ready(Err(e)),
        };
        let codec = self.resp;
        Box::pin(async move {
            let Some(resp) = current.scope(catch_panic_async(fut)).await? else {
                return Err(wrong_input());
            };
            let frame = frame::encode(&codec, &resp, format, max_send, ID, "response message")?;
            Ok(HandlerResponse {
                output: Output::Unary(frame),
            })
        })
    }

    fn supports(&self, format: Format) -> bool {
        self.req.supports(format) && self.resp.supports(format)
    }
}

/// A handler behind a chain of wrappers: the chain decides, the inner handler still says
/// which formats it takes.
pub(crate) struct Wrapped {
    pub(crate) chain: crate::middleware::Next<HandlerRequest, HandlerResponse>,
    pub(crate) inner: Arc<dyn DynHandler>,
}

impl DynHandler for Wrapped {
    fn call(&self, request: HandlerRequest) -> BoxFuture<Result<HandlerResponse>> {
        guarded(|| self.chain.call(request))
    }

    fn supports(&self, format: Format) -> bool {
        self.inner.supports(format)
    }
}

/// Start `call` (a wrapper chain), turning a panic while it starts or runs into an
/// `INTERNAL` error, as for handlers.
pub(crate) fn guarded<T: Send + 'static>(
    call: impl FnOnce() -> BoxFuture<Result<T>>,
) -> BoxFuture<Result<T>> {
    match std::panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(fut) => Box::pin(catch_panic_async(fut)),
        Err(_) => ready(Err(Error::internal(ID, "a handler wrapper panicked"))),
    }
}

/// The end of the service's wrapper chain: the endpoint's own handler, within the deadline
/// the request carries now (a wrapper may have tightened it).
pub(crate) fn call_target(mut request: HandlerRequest) -> BoxFuture<Result<HandlerResponse>> {
    let Some(handler) = request.target.take() else {
        return ready(Err(Error::internal(ID, "the request lost its endpoint")));
    };
    let tightened = match (request.ctx.deadline(), request.enforced) {
        (Some(now), Some(enforced)) if now < enforced => Some(now),
        (Some(now), None) => Some(now),
        _ => None,
    };
    let Some(at) = tightened else {
        return handler.call(request);
    };
    let endpoint: Arc<str> = request.endpoint().into();
    let work = handler.call(request);
    Box::pin(async move {
        tokio::time::timeout_at(at.into(), work)
            .await
            .unwrap_or_else(|_| Err(deadline_error(&endpoint)))
    })
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

/// Call a handler function, turning a panic into an `INTERNAL` error.
fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Error::internal(ID, "the handler panicked")))
}

/// Run `fut`, turning a panic into an `INTERNAL` error (the connection and other calls live
/// on).
async fn catch_panic_async<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(Error::internal(ID, "the handler panicked")),
    }
}

/// Spawn a streaming handler; its result becomes the trailers of the response body. The
/// task is aborted if the body is dropped (the caller went away).
fn spawn_stream<Resp: Send + 'static>(
    ctx: Context,
    tx: mpsc::Sender<Frame<Bytes>>,
    rx: mpsc::Receiver<Frame<Bytes>>,
    fut: impl Future<Output = Result<Option<Resp>>> + Send + 'static,
) -> HandlerResponse {
    let deadline = ctx.deadline();
    let endpoint: Arc<str> = ctx.endpoint().unwrap_or_default().into();
    let service: Option<Arc<str>> = ctx.service().map(Into::into);
    let response = ctx.response();
    // In the span the call is served in (with tracing on), so the handler's logs name it.
    let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
        let work = ctx.scope(catch_panic_async(fut));
        let expiry = deadline.map(|at| tokio::time::sleep_until(at.into()));
        tokio::pin!(expiry);
        let result = with_deadline(expiry.as_mut().as_pin_mut(), &endpoint, work).await;
        let mut trailers = match result {
            Ok(_) => status::ok_trailers(),
            Err(e) => {
                let mut map = HeaderMap::new();
                let e = leaving(e, service.as_deref().unwrap_or_default(), &endpoint);
                status::error_headers(&e, &mut map);
                map
            }
        };
        if let Some(response) = response {
            let response = response.lock().unwrap_or_else(|e| e.into_inner());
            status::metadata_to_headers(&response.trailers, &mut trailers);
        }
        let _ = tx.send(Frame::trailers(trailers)).await;
    }));
    HandlerResponse {
        output: Output::Stream {
            rx,
            task: AbortOnDrop(task.abort_handle()),
        },
    }
}

/// `err` as it leaves the server of `service` (see [`Error::leaving`]), logged: a concealed
/// error or a failed dependency at warn level with its cause, anything else at debug.
pub(crate) fn leaving(err: Error, service: &str, endpoint: &str) -> Error {
    if err.is_concealed() {
        tracing::warn!(service, endpoint, error = %err, "handler failed");
    } else if let Some(dependency) = err.dependency() {
        tracing::warn!(service, endpoint, dependency, error = %err, "a call to a dependency failed");
    } else {
        tracing::debug!(service, endpoint, error = %err, "call failed");
    }
    err.leaving(service)
}

/// The error of a call that ran past its deadline on the server.
pub(crate) fn deadline_error(endpoint: &str) -> Error {
    Error::timeout(ID, format!("deadline exceeded while handling {endpoint}"))
}

/// Run `work` until `expiry` fires (forever without one). Pass the same timer to several
/// steps of one call (reading the request, then handling it) so one deadline bounds them all.
pub(crate) async fn with_deadline<T>(
    expiry: Option<Pin<&mut tokio::time::Sleep>>,
    endpoint: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match expiry {
        Some(expiry) => tokio::select! {
            // The work first: a call that finishes as its deadline fires has finished.
            biased;
            result = work => result,
            () = expiry => Err(deadline_error(endpoint)),
        },
        None => work.await,
    }
}
