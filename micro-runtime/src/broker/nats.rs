//! The NATS broker: core NATS (at most once) and JetStream (at least once).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use async_nats::{HeaderMap, HeaderName, HeaderValue};
use futures_util::StreamExt;
use tokio::sync::{OnceCell, watch};

use super::dispatch::{Delivery, Dispatcher, RemoteAck, Source, dead_letters};
use super::{
    BoxFuture, Broker, Envelope, HEADER_ID, Handler, ID, SubscribeOptions, Subscription,
    validate_topic,
};
use crate::context::Metadata;
use crate::error::{Error, Result};

/// Which NATS delivery a [`NatsBroker`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatsMode {
    /// Core NATS: at most once, to the subscribers connected when a message is published.
    /// Handler errors are retried in the subscriber.
    Core,
    /// JetStream: messages are stored in a stream per topic (interest retention: kept until
    /// every consumer acknowledged them, at most [`NatsBroker::stream_max_age`]); each queue
    /// group is a durable pull consumer, which resumes where it stopped after a restart; a
    /// message is acknowledged after its handler succeeds and redelivered otherwise. Publishes
    /// wait for the server's acknowledgement and carry the message id as `Nats-Msg-Id`, so
    /// a publish retried within two minutes is stored once.
    JetStream,
}

/// A broker on a NATS server (`MICRO_BROKER=nats` or `jetstream`,
/// `MICRO_BROKER_ADDRESS=nats://127.0.0.1:4222`).
///
/// It connects on first use (or [`Broker::connect`]) and reconnects and resubscribes by
/// itself when the connection drops. Clones share the connection.
#[derive(Clone)]
pub struct NatsBroker {
    inner: Arc<Inner>,
}

struct Inner {
    address: String,
    mode: NatsMode,
    connect_timeout: Duration,
    max_age: Duration,
    client: OnceCell<async_nats::Client>,
    jetstream: OnceCell<jetstream::Context>,
    /// Topic → the stream that captures it (JetStream).
    streams: std::sync::RwLock<HashMap<String, String>>,
    /// Held while a stream is looked up or created.
    creating: tokio::sync::Mutex<()>,
}

impl fmt::Debug for NatsBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBroker")
            .field("address", &self.inner.address)
            .field("mode", &self.inner.mode)
            .field("connected", &self.inner.client.initialized())
            .finish()
    }
}

impl NatsBroker {
    /// A broker on the NATS server at `address` (`nats://host:port`, or several separated
    /// by commas).
    pub fn new(address: impl Into<String>, mode: NatsMode) -> NatsBroker {
        NatsBroker {
            inner: Arc::new(Inner {
                address: address.into(),
                mode,
                connect_timeout: Duration::from_secs(5),
                max_age: Duration::from_secs(24 * 3600),
                client: OnceCell::new(),
                jetstream: OnceCell::new(),
                streams: std::sync::RwLock::new(HashMap::new()),
                creating: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// A broker on an existing connection.
    pub fn with_client(client: async_nats::Client, mode: NatsMode) -> NatsBroker {
        let broker = NatsBroker::new(String::new(), mode);
        let _ = broker.inner.client.set(client);
        broker
    }

    /// How long a JetStream stream created by micro keeps messages nobody acknowledged
    /// (default 24 h). Set before first use.
    #[must_use]
    pub fn stream_max_age(self, max_age: Duration) -> NatsBroker {
        self.rebuild(|inner| inner.max_age = max_age)
    }

    /// How long connecting may take (default 5 s). Set before first use.
    #[must_use]
    pub fn connect_timeout(self, timeout: Duration) -> NatsBroker {
        self.rebuild(|inner| inner.connect_timeout = timeout)
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> NatsBroker {
        let mut inner = Inner {
            address: self.inner.address.clone(),
            mode: self.inner.mode,
            connect_timeout: self.inner.connect_timeout,
            max_age: self.inner.max_age,
            client: OnceCell::new(),
            jetstream: OnceCell::new(),
            streams: std::sync::RwLock::new(HashMap::new()),
            creating: tokio::sync::Mutex::new(()),
        };
        if let Some(client) = self.inner.client.get() {
            let _ = inner.client.set(client.clone());
        }
        change(&mut inner);
        NatsBroker {
            inner: Arc::new(inner),
        }
    }

    /// The mode.
    pub fn mode(&self) -> NatsMode {
        self.inner.mode
    }

    /// The connection, opened on first use.
    pub async fn client(&self) -> Result<&async_nats::Client> {
        let inner = &self.inner;
        inner
            .client
            .get_or_try_init(|| async {
                let connect = async_nats::ConnectOptions::new()
                    .name("micro")
                    .connection_timeout(inner.connect_timeout)
                    .connect(inner.address.as_str());
                match tokio::time::timeout(inner.connect_timeout + Duration::from_secs(1), connect)
                    .await
                {
                    Ok(Ok(client)) => Ok(client),
                    Ok(Err(e)) => Err(unreachable(&inner.address, &e.to_string())),
                    Err(_) => Err(unreachable(&inner.address, "timed out")),
                }
            })
            .await
    }

    async fn jetstream(&self) -> Result<&jetstream::Context> {
        let client = self.client().await?;
        Ok(self
            .inner
            .jetstream
            .get_or_init(|| async { jetstream::new(client.clone()) })
            .await)
    }

    fn known_stream(&self, topic: &str) -> Option<String> {
        self.inner
            .streams
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
            .cloned()
    }

    /// The stream capturing `topic`: an existing one, or `micro-<topic>` created now.
    async fn stream_for(&self, js: &jetstream::Context, topic: &str) -> Result<String> {
        if let Some(name) = self.known_stream(topic) {
            return Ok(name);
        }
        let _creating = self.inner.creating.lock().await;
        if let Some(name) = self.known_stream(topic) {
            return Ok(name);
        }
        let name = match js.stream_by_subject(topic).await {
            Ok(name) => name,
            Err(e) if e.kind() == jetstream::context::GetStreamByNameErrorKind::NotFound => {
                let config = stream::Config {
                    name: stream_name(topic),
                    subjects: vec![topic.to_owned()],
                    retention: stream::RetentionPolicy::Interest,
                    storage: stream::StorageType::File,
                    max_age: self.inner.max_age,
                    duplicate_window: Duration::from_secs(120),
                    description: Some(format!("micro topic {topic}")),
                    ..Default::default()
                };
                js.get_or_create_stream(config)
                    .await
                    .map_err(|e| js_error(&format!("creating the stream for {topic}"), &e))?
                    .cached_info()
                    .config
                    .name
                    .clone()
            }
            Err(e) => return Err(js_error(&format!("looking up the stream of {topic}"), &e)),
        };
        self.inner
            .streams
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_owned(), name.clone());
        Ok(name)
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        message.stamp(topic);
        let headers = to_nats_headers(&message.headers)?;
        match self.inner.mode {
            NatsMode::Core => self
                .client()
                .await?
                .publish_with_headers(topic.to_owned(), headers, message.body)
                .await
                .map_err(|e| publish_error(topic, &e)),
            NatsMode::JetStream => {
                let js = self.jetstream().await?;
                self.stream_for(js, topic).await?;
                let id = message.id().unwrap_or_default().to_owned();
                let publish = jetstream::message::PublishMessage::build()
                    .payload(message.body)
                    .headers(headers)
                    .message_id(id);
                let ack = js
                    .send_publish(topic.to_owned(), publish)
                    .await
                    .map_err(|e| publish_error(topic, &e))?;
                ack.await.map_err(|e| publish_error(topic, &e))?;
                Ok(())
            }
        }
    }

    async fn subscribe_core(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        stop: watch::Receiver<bool>,
    ) -> Result<Source> {
        let client = self.client().await?;
        let subscriber = match &options.queue {
            Some(queue) => {
                client
                    .queue_subscribe(topic.to_owned(), queue.clone())
                    .await
            }
            None => client.subscribe(topic.to_owned()).await,
        }
        .map_err(|e| {
            Error::unavailable(ID, format!("subscribing to {topic} on NATS failed: {e}"))
        })?;
        // Core NATS delivers only to subscriptions the server knows: make sure it does
        // before saying we are subscribed.
        client.flush().await.map_err(|e| {
            Error::unavailable(ID, format!("subscribing to {topic} on NATS failed: {e}"))
        })?;
        Ok(core_source(subscriber, stop))
    }

    async fn subscribe_jetstream(
        &self,
        topic: &str,
        options: &SubscribeOptions,
        stop: watch::Receiver<bool>,
    ) -> Result<Source> {
        let js = self.jetstream().await?;
        let stream_name = self.stream_for(js, topic).await?;
        let stream = js
            .get_stream(&stream_name)
            .await
            .map_err(|e| js_error(&format!("opening stream {stream_name}"), &e))?;
        let mut config = consumer::pull::Config {
            filter_subject: topic.to_owned(),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: options.ack_wait,
            // micro decides when a message is given up (and dead-letters it); a server-side
            // limit would drop it silently instead.
            max_deliver: -1,
            max_ack_pending: i64::try_from(options.buffer + options.concurrency)
                .unwrap_or(i64::MAX),
            description: Some(format!("micro subscriber of {topic}")),
            ..Default::default()
        };
        let consumer = match &options.queue {
            Some(queue) => {
                // One durable consumer per queue group and topic: every member pulls from
                // it, and it remembers what was acknowledged across restarts.
                let durable = consumer_name(queue);
                config.durable_name = Some(durable.clone());
                stream
                    .get_or_create_consumer(&durable, config)
                    .await
                    .map_err(|e| js_error(&format!("creating consumer {durable}"), &e))?
            }
            None => {
                config.deliver_policy = consumer::DeliverPolicy::New;
                config.inactive_threshold = Duration::from_secs(60);
                stream
                    .create_consumer(config)
                    .await
                    .map_err(|e| js_error("creating a consumer", &e))?
            }
        };
        let messages = consumer
            .messages()
            .await
            .map_err(|e| js_error(&format!("pulling from {topic}"), &e))?;
        Ok(jetstream_source(messages, stop))
    }
}

fn unreachable(address: &str, why: &str) -> Error {
    Error::unavailable(
        ID,
        format!(
            "cannot connect to NATS at {address}: {why} (is nats-server running? set MICRO_BROKER_ADDRESS or --broker_address)"
        ),
    )
}

fn js_error(what: &str, e: &dyn fmt::Display) -> Error {
    Error::unavailable(
        ID,
        format!(
            "JetStream: {what} failed: {e} (does the server run with JetStream enabled, `nats-server -js`?)"
        ),
    )
}

fn publish_error(topic: &str, e: &dyn fmt::Display) -> Error {
    let text = e.to_string();
    if text.contains("payload") {
        Error::too_large(ID, format!("publishing to {topic}: {text}"))
    } else {
        Error::unavailable(ID, format!("publishing to {topic} failed: {text}"))
    }
}

/// A stream name for `topic`: `micro-` and the topic with `.` and other characters stream
/// names cannot hold replaced, plus a short hash so that `a.b` and `a_b` differ.
fn stream_name(topic: &str) -> String {
    let clean: String = topic
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("micro-{clean}-{:08x}", fnv1a(topic) as u32)
}

fn consumer_name(queue: &str) -> String {
    queue
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn to_nats_headers(md: &Metadata) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (k, v) in md.iter() {
        if k == super::HEADER_TOPIC {
            // The subject says it; the receiver restores the header.
            continue;
        }
        if let Some(i) = KNOWN.iter().position(|known| *known == k) {
            headers.insert(
                known_names()[i].clone(),
                HeaderValue::from_str(v).map_err(|_| line_break(k))?,
            );
            continue;
        }
        let name = HeaderName::from_str(k).map_err(|_| {
            Error::bad_request(ID, format!("header name {k:?} cannot travel over NATS"))
        })?;
        let value = HeaderValue::from_str(v).map_err(|_| line_break(k))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

fn line_break(key: &str) -> Error {
    Error::bad_request(
        ID,
        format!("header {key}: its value holds a line break, which NATS headers cannot carry"),
    )
}

/// The header names of [`KNOWN`], made once.
fn known_names() -> &'static [HeaderName; 4] {
    static NAMES: std::sync::OnceLock<[HeaderName; 4]> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| KNOWN.map(HeaderName::from_static))
}

const KNOWN: [&str; 4] = [
    HEADER_ID,
    super::HEADER_TIMESTAMP,
    super::HEADER_CONTENT_TYPE,
    super::HEADER_TOPIC,
];

fn from_nats(message: async_nats::Message) -> Envelope {
    let mut headers = Metadata::new();
    if let Some(h) = &message.headers {
        for (name, values) in h.iter() {
            let Some(value) = values.last() else {
                continue;
            };
            let name: &[u8] = name.as_ref();
            // micro's own headers keep their static keys: no allocation for the name.
            match KNOWN.iter().find(|k| k.as_bytes() == name) {
                Some(known) => {
                    headers.insert_static(known, value.as_str().to_owned());
                }
                None => {
                    headers.insert(String::from_utf8_lossy(name), value.as_str());
                }
            }
        }
    }
    if headers.get(HEADER_ID).is_none() {
        // Published by something other than micro: give the message an id anyway.
        headers.insert_static(HEADER_ID, super::new_id());
    }
    if headers.get(super::HEADER_TOPIC).is_none() {
        headers.insert_static(super::HEADER_TOPIC, message.subject.as_str().to_owned());
    }
    Envelope {
        headers,
        body: message.payload,
    }
}

/// Core NATS messages as deliveries. On stop it unsubscribes, hands out what the client had
/// already buffered, then ends.
fn core_source(subscriber: async_nats::Subscriber, stop: watch::Receiver<bool>) -> Source {
    futures_util::stream::unfold(
        (subscriber, stop, false),
        |(mut sub, mut stop, mut stopping)| async move {
            loop {
                if stopping {
                    let message = sub.next().await?;
                    return Some((Delivery::local(from_nats(message)), (sub, stop, true)));
                }
                tokio::select! {
                    message = sub.next() => {
                        let message = message?;
                        return Some((Delivery::local(from_nats(message)), (sub, stop, false)));
                    }
                    _ = stop.changed() => {
                        let _ = sub.unsubscribe().await;
                        stopping = true;
                    }
                }
            }
        },
    )
    .boxed()
}

struct JetStreamAck(jetstream::message::Acker);

impl RemoteAck for JetStreamAck {
    fn ack(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.0.ack().await.map_err(|e| ack_error(&*e)) })
    }

    fn nack(&self, delay: Duration) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.0
                .ack_with(jetstream::AckKind::Nak(Some(delay)))
                .await
                .map_err(|e| ack_error(&*e))
        })
    }

    fn term(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.0
                .ack_with(jetstream::AckKind::Term)
                .await
                .map_err(|e| ack_error(&*e))
        })
    }
}

fn ack_error(e: &dyn fmt::Display) -> Error {
    Error::unavailable(ID, format!("acknowledging to JetStream failed: {e}"))
}

/// JetStream messages as deliveries that acknowledge through the server. On stop it ends
/// at once: what was pulled but not handled is redelivered after the ack wait.
fn jetstream_source(messages: consumer::pull::Stream, stop: watch::Receiver<bool>) -> Source {
    futures_util::stream::unfold((messages, stop), |(mut messages, mut stop)| async move {
        loop {
            let next = tokio::select! {
                next = messages.next() => next,
                _ = stop.changed() => return None,
            };
            match next? {
                Ok(message) => {
                    let attempt = message
                        .info()
                        .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
                        .unwrap_or(1)
                        .max(1);
                    let (message, acker) = message.split();
                    let delivery = Delivery {
                        message: from_nats(message),
                        attempt,
                        remote: Some(Box::new(JetStreamAck(acker))),
                    };
                    return Some((delivery, (messages, stop)));
                }
                Err(e) => {
                    // Missed heartbeats and the like: the pull stream recovers by itself.
                    tracing::warn!(error = %e, "JetStream pull failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
    .boxed()
}

impl Broker for NatsBroker {
    fn name(&self) -> &'static str {
        match self.inner.mode {
            NatsMode::Core => "nats",
            NatsMode::JetStream => "jetstream",
        }
    }

    fn address(&self) -> String {
        self.inner.address.clone()
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.client().await?;
            Ok(())
        })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if let Some(client) = self.inner.client.get() {
                client
                    .flush()
                    .await
                    .map_err(|e| Error::unavailable(ID, format!("flushing to NATS failed: {e}")))?;
            }
            Ok(())
        })
    }

    fn publish<'a>(&'a self, topic: &'a str, message: Envelope) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.publish_message(topic, message))
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        handler: Handler,
        options: SubscribeOptions,
    ) -> BoxFuture<'a, Result<Subscription>> {
        Box::pin(async move {
            validate_topic(topic)?;
            options.validate()?;
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let (stop_tx, stop) = watch::channel(false);
            let source = match self.inner.mode {
                NatsMode::Core => self.subscribe_core(topic, &options, stop).await?,
                NatsMode::JetStream => self.subscribe_jetstream(topic, &options, stop).await?,
            };
            let dispatcher =
                Dispatcher::with_source(topic, handler, options, dead_letter, Some(source));
            Ok(dispatcher.into_subscription(topic, queue, stop_tx, async {}))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_are_valid_and_distinct() {
        let a = stream_name("orders.created");
        let b = stream_name("orders_created");
        assert!(a.starts_with("micro-orders_created-"));
        assert_ne!(a, b);
        assert!(!a.contains('.'));
        assert_eq!(consumer_name("svc.a"), "svc_a");
    }

    #[test]
    fn headers_with_line_breaks_are_refused() {
        let mut md = Metadata::new();
        md.insert("x-note", "line\nbreak");
        let err = to_nats_headers(&md).unwrap_err();
        assert!(err.detail().contains("line break"));
        let mut md = Metadata::new();
        md.insert("x-ok", "fine");
        assert!(to_nats_headers(&md).is_ok());
    }
}
