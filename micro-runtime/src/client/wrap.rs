//! Client middleware: what a [`CallWrapper`] sees of a call, and what it gets back.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::call::CallPlan;
use super::{CallOptions, ClientInner};
use crate::codec::{Format, Message};
use crate::context::{Context, Metadata};
use crate::error::Result;
use crate::middleware::{Next, Wrapper};
use crate::registry::Node;
use crate::transport::{StreamStart, UnaryReply};
use crate::wire::frame;

/// A wrapper around every call a client makes (go-micro's `CallWrapper`): see
/// [`crate::middleware`]. Unary calls pass through it whole; streams pass through it while
/// they open.
///
/// ```
/// use micro::client::CallWrapper;
///
/// // Stamp every outgoing call with the caller's name.
/// let stamp = CallWrapper::new(|mut req, next| async move {
///     req.context_mut().metadata_mut().insert("x-caller", "billing");
///     next.call(req).await
/// });
/// ```
pub type CallWrapper = Wrapper<CallRequest, CallResponse>;

/// The rest of a call chain, as a [`CallWrapper`] gets it.
pub type CallNext = Next<CallRequest, CallResponse>;

/// A call as client wrappers see it: where it goes, its context and options, and (for a unary
/// call) the encoded request message.
#[derive(Debug)]
pub struct CallRequest {
    pub(crate) ctx: Context,
    pub(crate) service: String,
    pub(crate) endpoint: String,
    pub(crate) options: CallOptions,
    pub(crate) format: Format,
    /// The length-prefixed request message; `None` when a stream opens.
    pub(crate) frame: Option<Bytes>,
}

impl CallRequest {
    /// The call's context (deadline and metadata).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The call's context, to change: metadata added here is sent.
    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.ctx
    }

    /// The service called.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The endpoint called, `Service.Method`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The call's options.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// The call's options, to change (timeout, addresses, filters ...).
    pub fn options_mut(&mut self) -> &mut CallOptions {
        &mut self.options
    }

    /// The wire format of the messages.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True when a stream is opening (there is no request message yet).
    pub fn is_stream(&self) -> bool {
        self.frame.is_none()
    }

    /// The encoded request message of a unary call.
    pub fn message(&self) -> Option<Bytes> {
        self.frame
            .as_ref()
            .map(|f| f.slice(frame::HEADER.min(f.len())..))
    }

    /// The request message of a unary call, decoded as `T`.
    pub fn decode<T: Message>(&self) -> Option<Result<T>> {
        self.message().map(|bytes| T::decode_as(self.format, bytes))
    }

    pub(crate) fn plan(&self) -> CallPlan<'_> {
        CallPlan {
            ctx: &self.ctx,
            service: &self.service,
            endpoint: &self.endpoint,
            opts: &self.options,
            format: self.format,
        }
    }
}

/// What a call gave back, as client wrappers see it: the answer of a unary call, or a stream
/// that opened.
pub struct CallResponse {
    pub(crate) reply: Reply,
    pub(crate) node: Arc<Node>,
    pub(crate) format: Format,
}

pub(crate) enum Reply {
    Unary(UnaryReply),
    Stream {
        start: StreamStart,
        deadline: Instant,
    },
}

impl fmt::Debug for CallResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallResponse")
            .field("node", &self.node.address)
            .field("stream", &self.is_stream())
            .finish_non_exhaustive()
    }
}

impl CallResponse {
    /// The encoded response message of a unary call.
    pub fn message(&self) -> Option<&Bytes> {
        match &self.reply {
            Reply::Unary(reply) => Some(&reply.message),
            Reply::Stream { .. } => None,
        }
    }

    /// The response message of a unary call, decoded as `T`.
    pub fn decode<T: Message>(&self) -> Option<Result<T>> {
        self.message()
            .map(|bytes| T::decode_as(self.format, bytes.clone()))
    }

    /// The response header metadata of a unary call.
    pub fn metadata(&self) -> Option<&Metadata> {
        match &self.reply {
            Reply::Unary(reply) => Some(&reply.headers),
            Reply::Stream { .. } => None,
        }
    }

    /// The response trailer metadata of a unary call.
    pub fn trailers(&self) -> Option<&Metadata> {
        match &self.reply {
            Reply::Unary(reply) => Some(&reply.trailers),
            Reply::Stream { .. } => None,
        }
    }

    /// The node that answered.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// True for a stream that opened.
    pub fn is_stream(&self) -> bool {
        matches!(self.reply, Reply::Stream { .. })
    }
}

impl ClientInner {
    /// The call itself, below every wrapper.
    pub(crate) async fn send(&self, req: &CallRequest) -> Result<CallResponse> {
        let plan = req.plan();
        let (reply, node) = match &req.frame {
            Some(frame) => {
                let (reply, node) = self.unary(&plan, frame.clone()).await?;
                (Reply::Unary(reply), node)
            }
            None => {
                let deadline = self.deadline(&req.ctx, &req.options);
                let (start, node) = self.open(&plan, deadline).await?;
                (Reply::Stream { start, deadline }, node)
            }
        };
        Ok(CallResponse {
            reply,
            node,
            format: req.format,
        })
    }
}

impl super::Client {
    /// This client with a client span around every call (all its attempts), opened with
    /// `tracer` under the call's parent (the `traceparent` of its options or, inside a
    /// handler, of its context); the span's own id goes out as the call's `traceparent`.
    /// Services do this themselves when `MICRO_TRACER` is set; see [`crate::trace`].
    #[must_use]
    pub fn traced(&self, tracer: &crate::trace::Tracer) -> super::Client {
        self.wrap(calling_spans(tracer.clone()))
    }
}

fn calling_spans(tracer: crate::trace::Tracer) -> CallWrapper {
    use crate::trace::{SpanKind, TRACEPARENT, TRACESTATE, Text};
    use tracing::Instrument as _;
    CallWrapper::new(move |mut req, next| {
        let parent =
            crate::context::trace_parent(&req.options.metadata).or_else(|| req.ctx.trace());
        let mut span = tracer.start_rpc(
            SpanKind::Client,
            Text::Owned(req.service.clone()),
            Text::Owned(req.endpoint.clone()),
            parent,
        );
        // In the call's options: sent as given, over the context's own `traceparent`.
        if parent.is_none() {
            // It belonged to a parent that is not there (W3C): not passed on.
            req.options.metadata.remove(TRACESTATE);
            req.ctx.metadata_mut().remove(TRACESTATE);
        }
        req.options
            .metadata
            .insert_static(TRACEPARENT, span.context().traceparent());
        let work = span.tracing().in_scope(|| next.call(req));
        let scope = span.tracing().clone();
        async move {
            let result = work.instrument(scope).await;
            if let Ok(rsp) = &result
                && span.is_recording()
            {
                span.set_attribute("server.address", rsp.node.address.clone());
            }
            span.end(result.as_ref().map(|_| ()));
            result
        }
    })
}
