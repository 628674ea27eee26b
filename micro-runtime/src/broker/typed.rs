//! Typed publishing and subscribing: messages as protobuf or serde types.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::BytesMut;

use super::{
    Broker, Envelope, Event, HEADER_CONTENT_TYPE, HEADER_MESSAGE_TYPE, Handler, SharedBroker,
    SubscribeOptions, SubscriberWrapper, Subscription,
};
use crate::codec::{self, Codec, Descriptors, Format};
use crate::context::{CallInfo, Context};
use crate::error::Result;
use crate::middleware::{self, Next};
use crate::registry::{Endpoint, Value};
use crate::trace::{Span, SpanKind, Text, Tracer};
use tracing::Instrument as _;

/// Publishes messages of type `T` on one topic.
///
/// Events are JSON (micro's one JSON rule, see [`crate::codec`]) unless
/// [`Publisher::format`] says otherwise, as go-micro's events are: every subscriber reads it —
/// protobuf and `#[micro::service]` serde types alike — and so do `micro subscribe` and
/// non-Rust consumers. The content type travels in the headers. Choose protobuf for speed only
/// on topics whose subscribers all take it (`micro describe` lists each subscriber's codecs).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
/// use std::sync::Arc;
/// use micro::broker::{MemoryBroker, Publisher};
/// use micro::codec::Codec;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct OrderCreated { id: u64 }
///
/// let broker = Arc::new(MemoryBroker::new());
/// let orders = Publisher::with_codec(broker, "orders.created", Codec::serde());
/// orders.publish(&OrderCreated { id: 7 }).await?;
/// # Ok(()) }
/// ```
pub struct Publisher<T> {
    broker: SharedBroker,
    topic: Arc<str>,
    codec: Codec<T>,
    format: Format,
    /// A service's tracer (`Service::publisher`), for publishes whose context has none.
    tracer: Option<Tracer>,
    _marker: PhantomData<fn(&T)>,
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Publisher {
            broker: self.broker.clone(),
            topic: self.topic.clone(),
            codec: self.codec,
            format: self.format,
            tracer: self.tracer.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.topic)
            .field("broker", &self.broker.name())
            .field("format", &self.format)
            .finish()
    }
}

impl<T: codec::Message> Publisher<T> {
    /// A publisher of protobuf messages (generated types, or anything implementing
    /// [`codec::Message`]).
    pub fn new(broker: SharedBroker, topic: impl Into<String>) -> Publisher<T> {
        Publisher::with_codec(broker, topic, Codec::message())
    }
}

impl<T> Publisher<T> {
    /// A publisher with an explicit codec, e.g. [`Codec::serde`] for serde types.
    pub fn with_codec(
        broker: SharedBroker,
        topic: impl Into<String>,
        codec: Codec<T>,
    ) -> Publisher<T> {
        let format = if codec.supports(Format::Json) {
            Format::Json
        } else {
            codec.default_format()
        };
        Publisher {
            broker,
            topic: topic.into().into(),
            format,
            codec,
            tracer: None,
            _marker: PhantomData,
        }
    }

    /// Open a producer span with `tracer` for every publish whose context carries no tracer
    /// of its own (a handler's context does): what `Service::publisher` does with tracing on.
    #[must_use]
    pub fn traced(mut self, tracer: Option<&Tracer>) -> Publisher<T> {
        self.tracer = tracer.cloned();
        self
    }

    /// Encode bodies in `format` instead of JSON (protobuf is smaller and faster, for topics
    /// whose subscribers all take it).
    #[must_use]
    pub fn format(mut self, format: Format) -> Publisher<T> {
        self.format = format;
        self
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Publish `msg` with the current context's metadata as headers (inside a handler: the
    /// caller's, see [`Context::current`]).
    pub async fn publish(&self, msg: &T) -> Result<()> {
        self.publish_with(&Context::current(), msg).await
    }

    /// Publish `msg` with the metadata of `ctx` as headers (a handler passes its context
    /// on, so request ids and the like follow the message; the caller's credentials do not,
    /// see [`crate::HOP_LOCAL`]).
    pub async fn publish_with(&self, ctx: &Context, msg: &T) -> Result<()> {
        let mut buf = BytesMut::new();
        self.codec.encode(msg, self.format, &mut buf)?;
        let mut message = Envelope::new(buf.freeze());
        message.headers.extend(&ctx.forwarded_metadata());
        let span = ctx.tracer().or(self.tracer.as_ref()).map(|tracer| {
            let parent = ctx.trace();
            let span = tracer.start_messaging(
                SpanKind::Producer,
                Text::Shared(self.topic.clone()),
                self.broker.name(),
                parent,
            );
            crate::context::stamp_trace(&mut message.headers, &span, parent.is_some());
            span
        });
        message
            .headers
            .insert_static(HEADER_CONTENT_TYPE, self.format.content_type().to_owned());
        if let Some((_, full_name)) = self.codec.descriptor() {
            message
                .headers
                .insert_static(HEADER_MESSAGE_TYPE, full_name.to_owned());
        }
        let result = match &span {
            Some(span) => {
                let scope = span.tracing().clone();
                self.broker
                    .publish(&self.topic, message)
                    .instrument(scope)
                    .await
            }
            None => self.broker.publish(&self.topic, message).await,
        };
        crate::metrics::published(&self.topic, result.as_ref().map(|_| ()));
        if let Some(span) = span {
            span.end(result.as_ref().map(|_| ()));
        }
        result
    }
}

enum Group {
    /// The service's name (or broadcast outside a service).
    ServiceDefault,
    Named(String),
    Broadcast,
}

/// A typed subscription to a topic, for [`ServiceBuilder::subscriber`] or
/// [`Subscriber::subscribe`].
///
/// The handler gets a [`Context`] carrying the message's headers as metadata (id, topic,
/// content type, timestamp and the publisher's metadata) and the decoded message. Bodies are
/// decoded by their content type: protobuf, JSON or MessagePack, as the codec supports. A
/// body that does not decode is rejected (dead-lettered) and never reaches the handler.
///
/// Inside a service a subscriber joins the queue group named after the service, so the
/// instances of a service share the topic; [`Subscriber::broadcast`] gives every instance
/// every message, and [`Subscriber::queue`] names another group.
///
/// [`ServiceBuilder::subscriber`]: crate::ServiceBuilder::subscriber
pub struct Subscriber {
    topic: String,
    group: Group,
    options: SubscribeOptions,
    handler: Arc<dyn Fn(Context, Event) -> super::BoxFuture<'static, Result<()>> + Send + Sync>,
    message_type: Value,
    descriptor: Option<(&'static Descriptors, &'static str)>,
    formats: Vec<Format>,
    wrappers: Vec<SubscriberWrapper>,
    /// With tracing on: the service's tracer, for a consumer span per delivery.
    tracer: Option<Tracer>,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("topic", &self.topic)
            .field("message", &self.message_type.name)
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    /// A subscriber of protobuf messages: `async fn(Context, T) -> Result<()>`.
    pub fn new<T, F, Fut>(topic: impl Into<String>, handler: F) -> Subscriber
    where
        T: codec::Message,
        F: Fn(Context, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        Subscriber::with_codec(topic, Codec::message(), handler)
    }

    /// A subscriber with an explicit codec, e.g. [`Codec::serde`] for serde types.
    pub fn with_codec<T, F, Fut>(
        topic: impl Into<String>,
        codec: Codec<T>,
        handler: F,
    ) -> Subscriber
    where
        T: Send + 'static,
        F: Fn(Context, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let default = codec.default_format();
        let handler = Arc::new(
            move |ctx: Context, event: Event| -> super::BoxFuture<'static, Result<()>> {
                let format = match event.message().content_type() {
                    None => Some(default),
                    Some(ct) => Format::from_content_type(ct),
                };
                let decoded = match format {
                    Some(format) => codec
                        .decode(format, event.message().body.clone())
                        .map_err(|e| e.detail().to_owned()),
                    None => Err(format!(
                        "content type {:?} is not protobuf, JSON or MessagePack",
                        event.message().content_type().unwrap_or_default()
                    )),
                };
                match decoded {
                    Ok(msg) => Box::pin(handler(ctx, msg)),
                    Err(why) => Box::pin(async move {
                        tracing::error!(topic = event.topic(), id = event.message().id().unwrap_or(""), error = %why, "message does not decode: dead-lettered");
                        event
                            .reject(&format!("the message does not decode: {why}"))
                            .await
                    }),
                }
            },
        );
        let name = short_type_name::<T>();
        let message_type = codec.schema().unwrap_or_else(|| Value::new(name, name));
        let formats = [Format::Proto, Format::Json, Format::MsgPack]
            .into_iter()
            .filter(|f| codec.supports(*f))
            .collect();
        Subscriber {
            topic: topic.into(),
            group: Group::ServiceDefault,
            options: SubscribeOptions::default(),
            handler,
            message_type,
            descriptor: codec.descriptor(),
            formats,
            wrappers: Vec::new(),
            tracer: None,
        }
    }

    /// A subscriber that gets raw [`Event`]s (headers and bytes).
    pub fn raw(topic: impl Into<String>, handler: Handler) -> Subscriber {
        Subscriber {
            topic: topic.into(),
            group: Group::ServiceDefault,
            options: SubscribeOptions::default(),
            handler: Arc::new(move |_ctx, event| handler(event)),
            message_type: Value::new("bytes", "bytes"),
            descriptor: None,
            formats: Vec::new(),
            wrappers: Vec::new(),
            tracer: None,
        }
    }

    /// Join queue group `name` instead of the service's.
    #[must_use]
    pub fn queue(mut self, name: impl Into<String>) -> Subscriber {
        self.group = Group::Named(name.into());
        self
    }

    /// Get every message, in every instance.
    #[must_use]
    pub fn broadcast(mut self) -> Subscriber {
        self.group = Group::Broadcast;
        self
    }

    /// Delivery settings (the queue group set here is overridden by [`Subscriber::queue`] /
    /// [`Subscriber::broadcast`] when called after).
    #[must_use]
    pub fn options(mut self, options: SubscribeOptions) -> Subscriber {
        if let Some(queue) = &options.queue {
            self.group = Group::Named(queue.clone());
        }
        self.options = options;
        self
    }

    /// Handle up to `n` messages at once (default 1, in order).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Subscriber {
        self.options = self.options.concurrency(n);
        self
    }

    /// Deliver a failing message at most `n` times (default 5).
    #[must_use]
    pub fn max_deliver(mut self, n: u32) -> Subscriber {
        self.options = self.options.max_deliver(n);
        self
    }

    /// Publish dead letters to `topic`.
    #[must_use]
    pub fn dead_letter(mut self, topic: impl Into<String>) -> Subscriber {
        self.options = self.options.dead_letter(topic);
        self
    }

    /// The message shape shown in the registry (default: the type's name).
    #[must_use]
    pub fn message(mut self, value: Value) -> Subscriber {
        self.message_type = value;
        self
    }

    /// Run `wrapper` around every delivery, before the message is decoded (inside the
    /// service-wide subscriber wrappers). Wrappers run in the order they were added, the
    /// first outermost.
    #[must_use]
    pub fn wrap(mut self, wrapper: SubscriberWrapper) -> Subscriber {
        self.wrappers.push(wrapper);
        self
    }

    /// Open a consumer span per delivery with `tracer` (the service's, when tracing is on).
    pub(crate) fn traced(mut self, tracer: Option<&Tracer>) -> Subscriber {
        self.tracer = tracer.cloned();
        self
    }

    /// Put `wrappers` outside the ones this subscriber has (a service's own).
    pub(crate) fn wrapped_in(mut self, wrappers: &[SubscriberWrapper]) -> Subscriber {
        if !wrappers.is_empty() {
            self.wrappers.splice(0..0, wrappers.iter().cloned());
        }
        self
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The descriptors of a protobuf message type, which the service answers reflection for.
    pub(crate) fn descriptors(&self) -> Option<&'static Descriptors> {
        self.descriptor.map(|(descriptors, _)| descriptors)
    }

    /// The queue group this subscriber joins in service `service`.
    pub fn queue_for(&self, service: Option<&str>) -> Option<String> {
        match &self.group {
            Group::ServiceDefault => service.map(str::to_owned),
            Group::Named(name) => Some(name.clone()),
            Group::Broadcast => None,
        }
    }

    /// The registry endpoint describing this subscriber in `service`: named after the topic,
    /// with metadata `subscriber=true`, `topic`, `queue` (or `broadcast=true`), `codecs` (the
    /// formats it reads) and, for protobuf messages, `message` (the full name, which the
    /// service answers reflection for), and the message shape as the request.
    pub fn endpoint(&self, service: Option<&str>) -> Endpoint {
        let mut endpoint = Endpoint::new(self.topic.clone());
        endpoint.request = Some(self.message_type.clone());
        endpoint.metadata.insert("subscriber".into(), "true".into());
        endpoint.metadata.insert("topic".into(), self.topic.clone());
        match self.queue_for(service) {
            Some(queue) => endpoint.metadata.insert("queue".into(), queue),
            None => endpoint.metadata.insert("broadcast".into(), "true".into()),
        };
        if !self.formats.is_empty() {
            let names: Vec<&str> = self.formats.iter().map(|f| f.name()).collect();
            endpoint.metadata.insert("codecs".into(), names.join(","));
        }
        if let Some((_, full_name)) = self.descriptor {
            endpoint.metadata.insert("message".into(), full_name.into());
        }
        endpoint
    }

    /// Subscribe on `broker`, as a member of `service` (whose name is the default queue
    /// group) or, with `None`, on its own (broadcast unless a queue was named).
    pub async fn subscribe(
        self,
        broker: &dyn Broker,
        service: Option<&str>,
    ) -> Result<Subscription> {
        let mut options = self.options.clone();
        options.queue = self.queue_for(service);
        options.accepts.clone_from(&self.formats);
        let info = CallInfo {
            service: service.unwrap_or_default().into(),
            endpoint: self.topic.as_str().into(),
            peer: None,
        };
        let typed = self.handler;
        let tracer = self.tracer;
        let system = broker.name();
        let handler: Handler = Arc::new(move |event: Event| {
            let mut ctx = Context::new();
            ctx.metadata_mut().extend(&event.message().headers);
            ctx.set_call(info.clone());
            let Some(tracer) = &tracer else {
                // As for handlers: calls and events the subscriber makes carry the event's
                // metadata.
                let work = typed(ctx.clone(), event);
                return Box::pin(ctx.scope(work));
            };
            let span = delivery_span(tracer, system, &mut ctx, &event);
            let work = typed(ctx.clone(), event);
            let scope = span.tracing().clone();
            Box::pin(async move {
                let result = ctx.scope(work).instrument(scope).await;
                span.end(result.as_ref().map(|_| ()));
                result
            })
        });
        let handler = if self.wrappers.is_empty() {
            handler
        } else {
            let chain = middleware::chain(&self.wrappers, Next::boxed(move |event| handler(event)));
            Arc::new(move |event| chain.call(event))
        };
        broker.subscribe(&self.topic, handler, options).await
    }
}

/// The consumer span of one delivery, under the span the message's `traceparent` names; the
/// context's `traceparent` becomes the span's, for what the subscriber does.
fn delivery_span(tracer: &Tracer, system: &'static str, ctx: &mut Context, event: &Event) -> Span {
    let parent = crate::context::trace_parent(ctx.metadata());
    let topic = Text::Owned(event.topic().to_owned());
    let mut span = tracer.start_messaging(SpanKind::Consumer, topic, system, parent);
    if let Some(id) = event.message().id() {
        span.set_attribute("messaging.message.id", id.to_owned());
    }
    span.set_int("micro.attempt", i64::from(event.attempt()));
    crate::context::stamp_trace(ctx.metadata_mut(), &span, parent.is_some());
    ctx.set_tracer(tracer.clone());
    span
}

/// `my_crate::events::OrderCreated` → `OrderCreated`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
