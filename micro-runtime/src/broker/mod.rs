//! Asynchronous messaging: publish a message on a topic, and every subscribed group gets it.
//!
//! A [`Broker`] moves [`Envelope`]s (headers and a body) from publishers to subscribers. A
//! subscription may belong to a **queue group**: each message reaches each group once, and
//! one member of the group handles it. A subscription without a group is a **broadcast**
//! subscription and gets every message. Services subscribe in a group named after
//! themselves by default, so two instances of one service share a topic's messages while two
//! different services each get all of them — go-micro's broadcast default, which made every
//! instance handle every message, is opt-in here ([`SubscribeOptions::broadcast`]).
//!
//! | Name | What it is | Delivery |
//! |---|---|---|
//! | `http` (default) | no broker server: subscribers listen on HTTP/2 and are found through the registry, as in go-micro | at most once across crashes; handler errors are retried in the subscriber |
//! | `memory` | in one process | handler errors are retried |
//! | `nats` | core NATS ([`NatsBroker`], `MICRO_BROKER=nats`) | at most once; handler errors are retried in the subscriber |
//! | `jetstream` | NATS JetStream (`MICRO_BROKER=jetstream`): a stream per topic, a durable consumer per queue group | at least once: a message is acknowledged after its handler succeeds, redelivered otherwise |
//! | `rabbitmq` | RabbitMQ (`MICRO_BROKER=rabbitmq`, [`RabbitBroker`]): a topic exchange (`micro`), a durable quorum queue per queue group, publisher confirms | at least once: acknowledged after the handler; a failed message is requeued after the backoff; what a dead process held goes back to its queue |
//! | `mqtt` | MQTT 5 (`MICRO_BROKER=mqtt`, [`MqttBroker`], Mosquitto): QoS 1, a shared subscription (`$share/<group>/<topic>`) per queue group, a persistent session per member; `orders.created` is the MQTT topic `orders/created` | at least once while a crashed member is replaced on its host (its slot and session are taken over); handler errors are retried in the subscriber; broadcast: at most once |
//! | `redis` | Redis Streams (`MICRO_BROKER=redis`, [`RedisBroker`]): a stream per topic (about 100,000 entries kept), a consumer group per queue group | at least once: acknowledged after the handler; what a dead consumer held is claimed by a live one after the ack wait |
//!
//! A handler's result decides the fate of a message: `Ok` acknowledges it; an error
//! negatively acknowledges it, and it is delivered again after a backoff until
//! [`SubscribeOptions::max_deliver`] attempts; then it is dead-lettered (logged, counted, and
//! published to [`SubscribeOptions::dead_letter`] when set). A message that cannot be decoded
//! is rejected at once — retrying cannot fix it — and never stops the subscription.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
//! use micro::broker::{Broker, MemoryBroker, Envelope, SubscribeOptions, handler};
//!
//! let broker = MemoryBroker::new();
//! let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
//! let sub = broker
//!     .subscribe(
//!         "orders.created",
//!         handler(move |event| {
//!             let tx = tx.clone();
//!             async move {
//!                 let _ = tx.send(event.message().body.clone());
//!                 Ok(())
//!             }
//!         }),
//!         SubscribeOptions::queue("billing"),
//!     )
//!     .await?;
//! broker.publish("orders.created", Envelope::new("order 1")).await?;
//! assert_eq!(rx.recv().await.unwrap(), "order 1");
//! sub.unsubscribe().await;
//! # Ok(()) }
//! ```
//!
//! Services publish and subscribe with typed messages: [`Publisher`] and [`Subscriber`]
//! (see `Service::publisher` and `ServiceBuilder::subscriber`).

pub(crate) mod dispatch;
mod http;
mod memory;
#[cfg(feature = "mqtt")]
mod mqtt;
#[cfg(feature = "nats")]
mod nats;
mod options;
#[cfg(feature = "rabbitmq")]
mod rabbitmq;
#[cfg(feature = "redis")]
mod redis;
mod typed;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::context::Metadata;
use crate::error::{Error, Result};

pub use http::{HTTP_BROKER_SERVICE, HttpBroker, HttpBrokerOptions};
pub use memory::MemoryBroker;
#[cfg(feature = "mqtt")]
pub use mqtt::{
    DEFAULT_MAX_MESSAGE as MQTT_DEFAULT_MAX_MESSAGE,
    DEFAULT_SESSION_EXPIRY as MQTT_DEFAULT_SESSION_EXPIRY, MqttBroker,
};
#[cfg(feature = "nats")]
pub use nats::{NatsBroker, NatsMode};
pub use options::SubscribeOptions;
#[cfg(feature = "rabbitmq")]
pub use rabbitmq::{
    DEFAULT_EXCHANGE as RABBITMQ_DEFAULT_EXCHANGE,
    DEFAULT_MAX_MESSAGE as RABBITMQ_DEFAULT_MAX_MESSAGE, RabbitBroker,
};
#[cfg(feature = "redis")]
pub use redis::{
    DEFAULT_MAX_LEN as REDIS_DEFAULT_MAX_LEN, DEFAULT_MAX_MESSAGE as REDIS_DEFAULT_MAX_MESSAGE,
    ENTRY_ID as HEADER_REDIS_ENTRY, RedisBroker,
};
pub use typed::{Publisher, Subscriber};

const ID: &str = "micro.broker";

/// Header: the message id (set on publish when missing).
pub const HEADER_ID: &str = "micro-id";
/// Header: the topic the message was published on.
pub const HEADER_TOPIC: &str = "micro-topic";
/// Header: the body's content type (`application/json`, `application/protobuf` ...).
pub const HEADER_CONTENT_TYPE: &str = "content-type";
/// Header: when the message was published, in milliseconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "micro-timestamp";
/// Header: the protobuf full name of the message (`shop.orders.v1.OrderPlaced`), set by
/// [`Publisher`] for generated messages so tools can find its descriptor (reflection).
pub const HEADER_MESSAGE_TYPE: &str = "micro-message-type";
/// Header on dead letters: why the message was dead-lettered.
pub const HEADER_ERROR: &str = "micro-error";
/// The header of a dead letter that holds the typed reason of the error that failed it
/// (`USER_NOT_FOUND`), when the error had one.
pub const HEADER_ERROR_REASON: &str = "micro-error-reason";

pub use crate::BoxFuture;

/// A message: headers (id, topic, content type, timestamp and the caller's metadata) and a
/// body (go-micro's `broker.Message`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Headers, with lower-case keys.
    pub headers: Metadata,
    /// The encoded payload.
    pub body: Bytes,
}

impl Envelope {
    /// A message with this body and no headers yet (publishing adds id, topic and
    /// timestamp).
    pub fn new(body: impl Into<Bytes>) -> Envelope {
        Envelope {
            headers: Metadata::new(),
            body: body.into(),
        }
    }

    /// Add a header.
    #[must_use]
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Envelope {
        self.headers.insert(key, value);
        self
    }

    /// The message id.
    pub fn id(&self) -> Option<&str> {
        self.headers.get(HEADER_ID)
    }

    /// The topic it was published on.
    pub fn topic(&self) -> Option<&str> {
        self.headers.get(HEADER_TOPIC)
    }

    /// The body's content type.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(HEADER_CONTENT_TYPE)
    }

    /// When it was published.
    pub fn timestamp(&self) -> Option<SystemTime> {
        let millis: u64 = self.headers.get(HEADER_TIMESTAMP)?.parse().ok()?;
        UNIX_EPOCH.checked_add(Duration::from_millis(millis))
    }

    /// Fill in the headers publishing adds: id and timestamp when missing, and the topic.
    pub(crate) fn stamp(&mut self, topic: &str) {
        if self.headers.get(HEADER_ID).is_none() {
            self.headers.insert_static(HEADER_ID, new_id());
        }
        if self.headers.get(HEADER_TIMESTAMP).is_none() {
            let millis = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            self.headers
                .insert_static(HEADER_TIMESTAMP, millis.to_string());
        }
        if self.headers.get(HEADER_TOPIC) != Some(topic) {
            self.headers.insert_static(HEADER_TOPIC, topic.to_owned());
        }
    }
}

/// About how many bytes a message takes on the wire: its body and headers.
pub(crate) fn wire_size(message: &Envelope) -> usize {
    message.body.len()
        + message
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum::<usize>()
}

/// Refuse a message over an engine's limit with a 413 naming the engine, its address, the
/// topic, the size and the limit.
pub(crate) fn check_size(
    engine: &str,
    address: &str,
    topic: &str,
    message: &Envelope,
    limit: usize,
) -> Result<()> {
    let size = wire_size(message);
    if size <= limit {
        return Ok(());
    }
    Err(Error::too_large(
        ID,
        format!(
            "{engine} broker at {address}: publishing to {topic}: the message is {size} bytes, over the limit of {limit} bytes"
        ),
    ))
}

/// A fresh message id: 128 random bits in hex.
pub(crate) fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// A fresh message id, the kind publishing adds when a message has none (set it yourself
/// to know it in advance, or to make a retried publish recognisable as the same message).
pub fn new_message_id() -> String {
    new_id()
}

/// Check a topic name: letters, digits and `. - _ : /`, not empty, at most 255 bytes, no
/// empty `.`-separated part. The same rule holds on every broker, so a topic that works in
/// development works on NATS.
pub fn validate_topic(topic: &str) -> Result<()> {
    let chars_ok = topic
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/'));
    let parts_ok = topic.split('.').all(|p| !p.is_empty());
    if topic.is_empty() || topic.len() > 255 || !chars_ok || !parts_ok {
        return Err(Error::bad_request(
            ID,
            format!(
                "invalid topic {topic:?}: use letters, digits and . - _ : / (e.g. \"orders.created\"), no empty parts, at most 255 bytes"
            ),
        ));
    }
    Ok(())
}

/// A delivered message, as a raw [`Handler`] sees it.
///
/// With automatic acknowledgement (the default) the handler's result settles the message.
/// A handler may settle it itself first with [`Event::ack`], [`Event::nack`] or
/// [`Event::reject`]; later settlements have no effect.
pub struct Event {
    settle: dispatch::Settle,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("topic", &self.topic())
            .field("id", &self.message().id())
            .field("attempt", &self.attempt())
            .finish_non_exhaustive()
    }
}

impl Event {
    /// The topic the message arrived on.
    pub fn topic(&self) -> &str {
        self.settle.topic()
    }

    /// The message.
    pub fn message(&self) -> &Envelope {
        self.settle.message()
    }

    /// A copy of the message, to keep beyond the handler.
    pub fn to_message(&self) -> Envelope {
        self.message().clone()
    }

    /// The body decoded as `T`, in the format its content type names (protobuf when it names
    /// none).
    pub fn decode<T: crate::codec::Message>(&self) -> Result<T> {
        let message = self.message();
        let format = match message.content_type() {
            None => crate::codec::Format::Proto,
            Some(ct) => crate::codec::Format::from_content_type(ct).ok_or_else(|| {
                Error::bad_request(ID, format!("content type {ct:?} is not a micro format"))
            })?,
        };
        T::decode_as(format, message.body.clone())
    }

    /// Which delivery this is: 1 the first time, more on redelivery.
    pub fn attempt(&self) -> u32 {
        self.settle.attempt()
    }

    /// Acknowledge: the message was handled.
    pub async fn ack(&self) -> Result<()> {
        self.settle.settle(dispatch::Verdict::Ack).await
    }

    /// Negatively acknowledge: deliver it again later (until `max_deliver`).
    pub async fn nack(&self) -> Result<()> {
        self.settle
            .settle(dispatch::Verdict::Nack(
                "the subscriber nacked it".to_owned(),
            ))
            .await
    }

    /// Reject: never deliver it again; dead-letter it (for messages that cannot be handled,
    /// such as ones that do not decode).
    pub async fn reject(&self, reason: &str) -> Result<()> {
        self.settle
            .settle(dispatch::Verdict::Reject(reason.to_owned()))
            .await
    }
}

/// A wrapper around every delivery to a subscriber (go-micro's `SubscriberWrapper`): see
/// [`crate::middleware`]. It sees the [`Event`] (topic, headers, body, attempt) before the
/// body is decoded; returning an error nacks the message, as a handler error does.
///
/// ```
/// use micro::broker::SubscriberWrapper;
///
/// let audit = SubscriberWrapper::new(|event, next| async move {
///     tracing::info!(topic = event.topic(), attempt = event.attempt(), "delivery");
///     next.call(event).await
/// });
/// ```
pub type SubscriberWrapper = crate::middleware::Wrapper<Event, ()>;

/// A raw message handler: called once per delivery.
pub type Handler = Arc<dyn Fn(Event) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// Make a [`Handler`] from an async closure.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Arc::new(move |event| Box::pin(f(event)))
}

/// Counters of one subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Deliveries handed to the handler (redeliveries included).
    pub delivered: u64,
    /// Messages acknowledged.
    pub acked: u64,
    /// Negative acknowledgements (handler errors), each followed by a redelivery or a
    /// dead letter.
    pub nacked: u64,
    /// Messages rejected without retry (for example, ones that did not decode).
    pub rejected: u64,
    /// Messages given up on: rejected, or nacked `max_deliver` times.
    pub dead_lettered: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    delivered: AtomicU64,
    acked: AtomicU64,
    nacked: AtomicU64,
    rejected: AtomicU64,
    dead_lettered: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        Stats {
            delivered: self.delivered.load(Ordering::Relaxed),
            acked: self.acked.load(Ordering::Relaxed),
            nacked: self.nacked.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
        }
    }
}

type Closer = Box<dyn FnOnce(Duration) -> BoxFuture<'static, ()> + Send>;

/// How long [`Subscription::unsubscribe`] waits for received messages to be handled.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

/// A live subscription. [`Subscription::unsubscribe`] stops it gracefully: no new messages,
/// and the ones already received are handled. Dropping it stops it too, without waiting.
#[must_use = "a subscription stops when dropped; keep it, or call unsubscribe"]
pub struct Subscription {
    topic: String,
    queue: Option<String>,
    counters: Arc<Counters>,
    /// Stops the intake (engine side), then drains the dispatcher.
    closer: Option<Closer>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic)
            .field("queue", &self.queue)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Subscription {
    pub(crate) fn new(
        topic: &str,
        queue: Option<String>,
        counters: Arc<Counters>,
        closer: Closer,
    ) -> Subscription {
        Subscription {
            topic: topic.to_owned(),
            queue,
            counters,
            closer: Some(closer),
        }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The queue group, `None` for a broadcast subscription.
    pub fn queue(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Stop receiving, and wait until the messages already received are handled (at most
    /// [`DEFAULT_DRAIN`]).
    pub async fn unsubscribe(self) {
        self.unsubscribe_within(DEFAULT_DRAIN).await;
    }

    /// Stop receiving, and wait at most `grace` for the messages already received to be
    /// handled.
    pub async fn unsubscribe_within(mut self, grace: Duration) {
        if let Some(close) = self.closer.take() {
            close(grace).await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(close) = self.closer.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(close(DEFAULT_DRAIN));
        }
    }
}

/// A message broker (go-micro's `broker.Broker`).
///
/// Methods return boxed futures so that a broker can be chosen at run time
/// (`Arc<dyn Broker>`). Brokers connect lazily on first use; [`Broker::connect`] connects
/// early, to fail fast.
pub trait Broker: Send + Sync + fmt::Debug + 'static {
    /// The broker's name (`http`, `memory`, `nats`, `jetstream`).
    fn name(&self) -> &'static str;

    /// Where it connects or listens.
    fn address(&self) -> String;

    /// Connect now.
    fn connect(&self) -> BoxFuture<'_, Result<()>>;

    /// Close every subscription and the connection.
    fn disconnect(&self) -> BoxFuture<'_, Result<()>>;

    /// Publish `message` on `topic`. Adds the id (when missing), topic and timestamp headers.
    /// Returns when the engine took the message: handed to each group's subscriber (`http`,
    /// `memory`), written to the connection (`nats`) or stored (`jetstream`).
    fn publish<'a>(&'a self, topic: &'a str, message: Envelope) -> BoxFuture<'a, Result<()>>;

    /// Subscribe `handler` to `topic`.
    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        handler: Handler,
        options: SubscribeOptions,
    ) -> BoxFuture<'a, Result<Subscription>>;
}

/// A shared broker handle.
pub type SharedBroker = Arc<dyn Broker>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        for ok in ["orders", "orders.created", "a-b_c:d/e", "x.y.z"] {
            assert!(validate_topic(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a..b", ".a", "a.", "a*", "a.>", "ü"] {
            let err = validate_topic(bad).unwrap_err();
            assert!(err.detail().contains("invalid topic"), "{bad}");
        }
    }

    #[test]
    fn stamp_fills_missing_headers_only() {
        let mut m = Envelope::new("x").with_header(HEADER_ID, "given");
        m.stamp("t");
        assert_eq!(m.id(), Some("given"));
        assert_eq!(m.topic(), Some("t"));
        assert!(m.timestamp().is_some());
        let mut m = Envelope::new("x");
        m.stamp("t");
        assert_eq!(m.id().map(str::len), Some(32));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = SubscribeOptions::default();
        assert_eq!(o.backoff(1), Duration::from_millis(100));
        assert_eq!(o.backoff(2), Duration::from_millis(200));
        assert_eq!(o.backoff(3), Duration::from_millis(400));
        assert_eq!(o.backoff(30), Duration::from_secs(10));
    }
}
