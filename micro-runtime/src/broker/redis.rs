//! The Redis Streams broker (`MICRO_BROKER=redis`): a stream per topic, a consumer group per
//! queue group, acknowledged after the handler.
//!
//! - **Publish**: `XADD micro:topic:<topic> MAXLEN ~ <max_len> * h <headers as JSON> b <body>`;
//!   it returns once Redis stored the entry. The stream keeps about `max_len` entries
//!   (100,000 by default): older ones are trimmed, acknowledged or not.
//! - **Subscribe**: the queue group is a consumer group (made at the stream's end on first
//!   use, with the stream); each subscription is a consumer of it reading with
//!   `XREADGROUP ... BLOCK`. A broadcast subscription gets a consumer group of its own,
//!   removed when it unsubscribes.
//! - **Settle**: an acknowledged message is `XACK`ed. A failed one stays pending and comes
//!   back to this subscription after micro's backoff (`XCLAIM`, which counts the delivery); a
//!   message given up (dead-lettered or rejected) is `XACK`ed. Messages pending on a consumer
//!   that died are claimed by a live member of the group once idle for the ack wait
//!   (`XAUTOCLAIM`), so a crash loses nothing: at least once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::Value;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use tokio::sync::{mpsc, watch};

use super::dispatch::{Delivery, Dispatcher, RemoteAck, Source, dead_letters};
use super::{
    BoxFuture, Broker, Envelope, HEADER_ID, Handler, ID, SubscribeOptions, Subscription,
    validate_topic,
};
use crate::context::Metadata;
use crate::error::{Error, Result};
use crate::redis_conn::{Lazy, unavailable};

/// Entries a stream keeps by default.
pub const DEFAULT_MAX_LEN: usize = 100_000;

/// How long one `XREADGROUP` waits for new entries before looking at claims again.
const BLOCK: Duration = Duration::from_millis(500);

/// Entries read at once.
const BATCH: usize = 64;

const WHAT: &str = "redis broker";

/// Messages through Redis Streams. Clones share the connection.
#[derive(Clone, Debug)]
pub struct RedisBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redis: Lazy,
    max_len: usize,
}

fn stream_key(topic: &str) -> String {
    format!("micro:topic:{topic}")
}

impl RedisBroker {
    /// A broker on the Redis at `address` (`redis://host:port[/db]`), connected on first use;
    /// each request may take `timeout`.
    pub fn new(address: &str, timeout: Duration) -> Result<RedisBroker> {
        Ok(RedisBroker {
            inner: Arc::new(Inner {
                redis: Lazy::new(address, timeout)?,
                max_len: DEFAULT_MAX_LEN,
            }),
        })
    }

    /// Keep about `max_len` entries per topic (default 100,000).
    #[must_use]
    pub fn with_max_len(self, max_len: usize) -> RedisBroker {
        RedisBroker {
            inner: Arc::new(Inner {
                redis: self.inner.redis.clone(),
                max_len: max_len.max(1),
            }),
        }
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        unavailable(WHAT, self.inner.redis.address(), format!("{what}: {e}"))
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        message.stamp(topic);
        let headers: HashMap<&str, &str> = message.headers.iter().collect();
        let headers = serde_json::to_vec(&headers)
            .map_err(|e| Error::internal(ID, format!("encoding headers: {e}")))?;
        let mut con = self.inner.redis.get(WHAT).await?;
        let _: Value = redis::cmd("XADD")
            .arg(stream_key(topic))
            .arg("MAXLEN")
            .arg("~")
            .arg(self.inner.max_len)
            .arg("*")
            .arg("h")
            .arg(headers)
            .arg("b")
            .arg(&message.body[..])
            .query_async(&mut con)
            .await
            .map_err(|e| publish_error(self, topic, &e))?;
        Ok(())
    }

    /// Make the consumer group at the stream's end (and the stream); an existing group is
    /// fine.
    async fn create_group(&self, key: &str, group: &str) -> Result<()> {
        let mut con = self.inner.redis.get(WHAT).await?;
        let made: redis::RedisResult<Value> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(key)
            .arg(group)
            .arg("$")
            .arg("MKSTREAM")
            .query_async(&mut con)
            .await;
        match made {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.error(&format!("making consumer group {group} of {key}"), e)),
        }
    }
}

fn publish_error(broker: &RedisBroker, topic: &str, e: &redis::RedisError) -> Error {
    let text = e.to_string();
    if text.contains("max") && text.contains("bulk") {
        Error::too_large(ID, format!("publishing to {topic}: {text}"))
    } else {
        broker.error(&format!("publishing to {topic}"), text)
    }
}

/// An entry as a message: its headers (`h`, JSON) and body (`b`).
fn to_envelope(topic: &str, entry: &StreamId) -> Envelope {
    let mut headers = Metadata::new();
    if let Some(Value::BulkString(h)) = entry.map.get("h")
        && let Ok(map) = serde_json::from_slice::<HashMap<String, String>>(h)
    {
        for (k, v) in map {
            headers.insert(k, v);
        }
    }
    let body = match entry.map.get("b") {
        Some(Value::BulkString(b)) => Bytes::copy_from_slice(b),
        _ => Bytes::new(),
    };
    if headers.get(HEADER_ID).is_none() {
        headers.insert(HEADER_ID, entry.id.clone());
    }
    if headers.get(super::HEADER_TOPIC).is_none() {
        headers.insert(super::HEADER_TOPIC, topic);
    }
    Envelope { headers, body }
}

/// Settles one entry through Redis.
struct StreamAck {
    broker: RedisBroker,
    key: String,
    group: String,
    id: String,
    /// Entries to claim back after a failure.
    again: mpsc::UnboundedSender<String>,
}

impl StreamAck {
    async fn xack(&self) -> Result<()> {
        let mut con = self.broker.inner.redis.get(WHAT).await?;
        let _: i64 = redis::cmd("XACK")
            .arg(&self.key)
            .arg(&self.group)
            .arg(&self.id)
            .query_async(&mut con)
            .await
            .map_err(|e| self.broker.error(&format!("acknowledging {}", self.id), e))?;
        Ok(())
    }
}

impl RemoteAck for StreamAck {
    fn ack(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.xack())
    }

    fn nack(&self, delay: Duration) -> BoxFuture<'_, Result<()>> {
        // The entry stays pending on this consumer; after the delay the subscription claims
        // it back (counting the delivery). If the subscription is gone by then, another
        // member claims it once it has been idle for the ack wait.
        let again = self.again.clone();
        let id = self.id.clone();
        Box::pin(async move {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = again.send(id);
            });
            Ok(())
        })
    }

    fn term(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.xack())
    }
}

/// What one subscription reads with.
struct Reader {
    broker: RedisBroker,
    con: MultiplexedConnection,
    topic: String,
    key: String,
    group: String,
    consumer: String,
    claim_idle: Duration,
    again_tx: mpsc::UnboundedSender<String>,
    again_rx: mpsc::UnboundedReceiver<String>,
    stop: watch::Receiver<bool>,
    ready: Vec<Delivery>,
    last_claim: tokio::time::Instant,
}

impl Reader {
    fn delivery(&self, entry: &StreamId, attempt: u32) -> Delivery {
        Delivery {
            message: to_envelope(&self.topic, entry),
            attempt: attempt.max(1),
            remote: Some(Box::new(StreamAck {
                broker: self.broker.clone(),
                key: self.key.clone(),
                group: self.group.clone(),
                id: entry.id.clone(),
                again: self.again_tx.clone(),
            })),
        }
    }

    /// How often each of `ids` was delivered (the pending list of this consumer).
    async fn delivery_counts(&mut self, ids: &[String]) -> HashMap<String, u32> {
        let mut counts = HashMap::new();
        for id in ids {
            let reply: redis::RedisResult<StreamPendingCountReply> = redis::cmd("XPENDING")
                .arg(&self.key)
                .arg(&self.group)
                .arg(id)
                .arg(id)
                .arg(1)
                .query_async(&mut self.con)
                .await;
            if let Ok(reply) = reply
                && let Some(p) = reply.ids.first()
            {
                counts.insert(
                    p.id.clone(),
                    u32::try_from(p.times_delivered).unwrap_or(u32::MAX),
                );
            }
        }
        counts
    }

    /// Entries to hand out now: failed ones due again, those of dead consumers, new ones.
    async fn fill(&mut self) -> Result<()> {
        let mut due = Vec::new();
        while let Ok(id) = self.again_rx.try_recv() {
            due.push(id);
        }
        if !due.is_empty() {
            let claimed: StreamAutoClaimReply = {
                // XCLAIM answers like XRANGE; parse it through XAUTOCLAIM's reply shape.
                let entries: Vec<StreamId> = redis::cmd("XCLAIM")
                    .arg(&self.key)
                    .arg(&self.group)
                    .arg(&self.consumer)
                    .arg(0)
                    .arg(&due)
                    .query_async::<redis::streams::StreamRangeReply>(&mut self.con)
                    .await
                    .map_err(|e| self.broker.error("claiming failed messages back", e))?
                    .ids;
                StreamAutoClaimReply {
                    claimed: entries,
                    ..StreamAutoClaimReply::default()
                }
            };
            self.take_claimed(claimed).await;
        }
        if self.last_claim.elapsed() >= self.claim_idle.min(Duration::from_secs(5)) / 2 {
            self.last_claim = tokio::time::Instant::now();
            let idle = u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX);
            let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.key)
                .arg(&self.group)
                .arg(&self.consumer)
                .arg(idle)
                .arg("0-0")
                .arg("COUNT")
                .arg(BATCH)
                .query_async(&mut self.con)
                .await
                .map_err(|e| {
                    self.broker
                        .error("claiming messages of stopped consumers", e)
                })?;
            self.take_claimed(claimed).await;
        }
        if !self.ready.is_empty() {
            return Ok(());
        }
        let block = u64::try_from(BLOCK.as_millis()).unwrap_or(500);
        let read: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">")
            .query_async(&mut self.con)
            .await
            .map_err(|e| self.broker.error(&format!("reading {}", self.key), e))?;
        for stream in read.map(|r| r.keys).unwrap_or_default() {
            for entry in &stream.ids {
                let delivery = self.delivery(entry, 1);
                self.ready.push(delivery);
            }
        }
        self.ready.reverse();
        Ok(())
    }

    async fn take_claimed(&mut self, claimed: StreamAutoClaimReply) {
        if claimed.claimed.is_empty() {
            return;
        }
        let ids: Vec<String> = claimed.claimed.iter().map(|e| e.id.clone()).collect();
        let counts = self.delivery_counts(&ids).await;
        let mut batch: Vec<Delivery> = claimed
            .claimed
            .iter()
            .map(|entry| {
                let attempt = counts.get(&entry.id).copied().unwrap_or(2);
                self.delivery(entry, attempt)
            })
            .collect();
        batch.reverse();
        // Hand claimed entries out before new ones.
        batch.append(&mut self.ready);
        self.ready = batch;
    }

    /// The next delivery, or `None` once the subscription stops.
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            if let Some(delivery) = self.ready.pop() {
                return Some(delivery);
            }
            let mut stop = self.stop.clone();
            let filled = tokio::select! {
                filled = self.fill() => filled,
                _ = stop.changed() => return None,
            };
            if let Err(e) = filled {
                tracing::warn!(topic = %self.topic, error = %e, "redis broker: reading failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = self.stop.changed() => return None,
                }
            }
        }
    }
}

fn source(reader: Reader) -> Source {
    futures_util::stream::unfold(reader, |mut reader| async move {
        let delivery = reader.next().await?;
        Some((delivery, reader))
    })
    .boxed()
}

fn unique_name() -> String {
    format!("{}-{:016x}", std::process::id(), fastrand::u64(..))
}

impl Broker for RedisBroker {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn address(&self) -> String {
        crate::net::redact(self.inner.redis.address())
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.inner.redis.get(WHAT).await.map(drop) })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
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
            let key = stream_key(topic);
            let broadcast = options.queue.is_none();
            let group = match &options.queue {
                Some(queue) => queue.clone(),
                None => format!("micro-broadcast-{}", unique_name()),
            };
            self.create_group(&key, &group).await?;
            // A connection of its own: XREADGROUP blocks it.
            let client = self.inner.redis.client()?;
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.inner.redis.timeout()))
                .set_response_timeout(Some(BLOCK + self.inner.redis.timeout()));
            let con = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| self.error("connecting a subscriber", e))?;
            let (stop_tx, stop) = watch::channel(false);
            let (again_tx, again_rx) = mpsc::unbounded_channel();
            let reader = Reader {
                broker: self.clone(),
                con,
                topic: topic.to_owned(),
                key: key.clone(),
                group: group.clone(),
                consumer: unique_name(),
                claim_idle: options.ack_wait,
                again_tx,
                again_rx,
                stop,
                ready: Vec::new(),
                last_claim: tokio::time::Instant::now(),
            };
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let dispatcher =
                Dispatcher::with_source(topic, handler, options, dead_letter, Some(source(reader)));
            let counters = dispatcher.counters();
            let broker = self.clone();
            Ok(Subscription::new(
                topic,
                queue,
                counters,
                Box::new(move |grace| {
                    Box::pin(async move {
                        stop_tx.send_replace(true);
                        dispatcher.drain(grace).await;
                        if broadcast {
                            // Nobody else reads a broadcast group: remove it and its pending.
                            if let Ok(mut con) = broker.inner.redis.get(WHAT).await {
                                let _: redis::RedisResult<Value> = redis::cmd("XGROUP")
                                    .arg("DESTROY")
                                    .arg(&key)
                                    .arg(&group)
                                    .query_async(&mut con)
                                    .await;
                            }
                        }
                    })
                }),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_messages_with_their_headers() {
        let mut map = HashMap::new();
        map.insert(
            "h".to_owned(),
            Value::BulkString(br#"{"micro-id":"m1","x-trace":"t"}"#.to_vec()),
        );
        map.insert("b".to_owned(), Value::BulkString(b"body".to_vec()));
        let entry = StreamId {
            id: "1-0".into(),
            map,
            ..StreamId::default()
        };
        let message = to_envelope("orders", &entry);
        assert_eq!(message.id(), Some("m1"));
        assert_eq!(message.topic(), Some("orders"));
        assert_eq!(message.headers.get("x-trace"), Some("t"));
        assert_eq!(message.body, "body");
        // Written by something else: the entry id stands in.
        let bare = to_envelope(
            "orders",
            &StreamId {
                id: "2-0".into(),
                ..StreamId::default()
            },
        );
        assert_eq!(bare.id(), Some("2-0"));
    }
}
