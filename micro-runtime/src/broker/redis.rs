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
use redis::aio::ConnectionManager;
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

/// Header: the Redis stream entry id of a delivered message.
pub const ENTRY_ID: &str = "micro-redis-entry";

/// Messages through Redis Streams. Clones share the connection.
#[derive(Clone, Debug)]
pub struct RedisBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    redis: Lazy,
    max_len: usize,
    max_message: usize,
}

/// The largest message (body and headers) published by default: 512 MiB, Redis's own limit
/// on one value (`proto-max-bulk-len`).
pub const DEFAULT_MAX_MESSAGE: usize = 512 << 20;

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
                max_message: DEFAULT_MAX_MESSAGE,
            }),
        })
    }

    /// Refuse messages larger than `bytes`, body and headers together (512 MiB by
    /// default).
    #[must_use]
    pub fn with_max_message_size(self, bytes: usize) -> RedisBroker {
        RedisBroker {
            inner: Arc::new(Inner {
                redis: self.inner.redis.clone(),
                max_len: self.inner.max_len,
                max_message: bytes,
            }),
        }
    }

    /// Keep about `max_len` entries per topic (default 100,000).
    #[must_use]
    pub fn with_max_len(self, max_len: usize) -> RedisBroker {
        RedisBroker {
            inner: Arc::new(Inner {
                redis: self.inner.redis.clone(),
                max_len: max_len.max(1),
                max_message: self.inner.max_message,
            }),
        }
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        unavailable(WHAT, self.inner.redis.address(), format!("{what}: {e}"))
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        message.stamp(topic);
        super::check_size(
            "redis",
            &crate::net::redact(self.inner.redis.address()),
            topic,
            &message,
            self.inner.max_message,
        )?;
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
        Error::too_large(
            ID,
            format!(
                "redis broker at {}: publishing to {topic}: {text}",
                crate::net::redact(broker.inner.redis.address())
            ),
        )
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
    /// Entries to claim back after a failure, with the delay.
    again: mpsc::UnboundedSender<(String, Duration)>,
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
                // Gone with its subscription: another member claims it after the ack wait.
                let _ = again.send((id, delay));
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
    con: ConnectionManager,
    topic: String,
    key: String,
    group: String,
    consumer: String,
    claim_idle: Duration,
    again_tx: mpsc::UnboundedSender<(String, Duration)>,
    again_rx: mpsc::UnboundedReceiver<(String, Duration)>,
    /// Failed entries due again whose claim has not gone through yet.
    due: Vec<(String, Duration)>,
    stop: watch::Receiver<bool>,
    /// Entries read and not handed out yet (last first), and when their idle time was last
    /// reset.
    ready: Vec<Delivery>,
    ready_since: tokio::time::Instant,
    /// Where the next `XAUTOCLAIM` scan of the pending list starts.
    claim_cursor: String,
    last_claim: tokio::time::Instant,
    /// Entries read at once.
    batch: usize,
}

impl Reader {
    fn delivery(&self, entry: &StreamId, attempt: u32) -> Delivery {
        let mut message = to_envelope(&self.topic, entry);
        message.headers.insert(ENTRY_ID, entry.id.clone());
        Delivery {
            message,
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
        while let Ok(due) = self.again_rx.try_recv() {
            self.due.push(due);
        }
        if !self.due.is_empty() {
            let due = std::mem::take(&mut self.due);
            let mut entries = Vec::new();
            for (id, delay) in &due {
                // Only if nobody touched it since it failed here: a member that claimed it
                // meanwhile has reset its idle time.
                let min_idle = delay.saturating_sub(Duration::from_millis(50));
                let claimed: redis::RedisResult<redis::streams::StreamRangeReply> =
                    redis::cmd("XCLAIM")
                        .arg(&self.key)
                        .arg(&self.group)
                        .arg(&self.consumer)
                        .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
                        .arg(id)
                        .query_async(&mut self.con)
                        .await;
                match claimed {
                    Ok(reply) => entries.extend(reply.ids),
                    Err(e) => {
                        // Kept for the next round.
                        self.due = due.clone();
                        return Err(self.broker.error("claiming failed messages back", e));
                    }
                }
            }
            self.take_claimed(StreamAutoClaimReply {
                claimed: entries,
                ..StreamAutoClaimReply::default()
            })
            .await;
        }
        if self.last_claim.elapsed() >= self.claim_idle.min(Duration::from_secs(5)) / 2 {
            self.last_claim = tokio::time::Instant::now();
            let idle = u64::try_from(self.claim_idle.as_millis()).unwrap_or(u64::MAX);
            let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.key)
                .arg(&self.group)
                .arg(&self.consumer)
                .arg(idle)
                .arg(&self.claim_cursor)
                .arg("COUNT")
                .arg(BATCH)
                .query_async(&mut self.con)
                .await
                .map_err(|e| {
                    self.broker
                        .error("claiming messages of stopped consumers", e)
                })?;
            // Go on through the pending list next time; `0-0` starts over.
            self.claim_cursor = if claimed.next_stream_id.is_empty() {
                "0-0".to_owned()
            } else {
                claimed.next_stream_id.clone()
            };
            self.take_claimed(claimed).await;
        }
        if !self.ready.is_empty() {
            return Ok(());
        }
        let block = u64::try_from(BLOCK.as_millis()).unwrap_or(500);
        let read: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(self.batch)
            .arg("BLOCK")
            .arg(block)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">")
            .query_async(&mut self.con)
            .await;
        let read = match read {
            Ok(read) => read,
            Err(e) if e.code() == Some("NOGROUP") => {
                // The stream or the group went away (a Redis restart without persistence,
                // a trim to nothing, a manual delete): make them again.
                self.broker.create_group(&self.key, &self.group).await?;
                return Ok(());
            }
            Err(e) => return Err(self.broker.error(&format!("reading {}", self.key), e)),
        };
        for stream in read.map(|r| r.keys).unwrap_or_default() {
            for entry in &stream.ids {
                let delivery = self.delivery(entry, 1);
                self.ready.push(delivery);
            }
        }
        self.ready.reverse();
        self.ready_since = tokio::time::Instant::now();
        Ok(())
    }

    /// Reset the idle time of the entries waiting here, so that no other member takes them
    /// over for being idle while they only wait their turn (`JUSTID`: no delivery counted).
    async fn keep_ready(&mut self) {
        if self.ready.is_empty() || self.ready_since.elapsed() < self.claim_idle / 20 {
            return;
        }
        let ids: Vec<String> = self
            .ready
            .iter()
            .filter_map(|d| d.message.headers.get(ENTRY_ID).map(str::to_owned))
            .collect();
        let refreshed: redis::RedisResult<Value> = redis::cmd("XCLAIM")
            .arg(&self.key)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(0)
            .arg(&ids)
            .arg("JUSTID")
            .query_async(&mut self.con)
            .await;
        if let Err(e) = refreshed {
            tracing::debug!(error = %e, "redis broker: refreshing held entries failed");
        }
        self.ready_since = tokio::time::Instant::now();
    }

    async fn take_claimed(&mut self, claimed: StreamAutoClaimReply) {
        if claimed.claimed.is_empty() {
            return;
        }
        let ids: Vec<String> = claimed.claimed.iter().map(|e| e.id.clone()).collect();
        let counts = self.delivery_counts(&ids).await;
        // An entry whose count could not be read stays pending: it comes back later.
        let mut batch: Vec<Delivery> = claimed
            .claimed
            .iter()
            .filter_map(|entry| {
                let attempt = counts.get(&entry.id).copied()?;
                Some(self.delivery(entry, attempt))
            })
            .collect();
        batch.reverse();
        // Hand claimed entries out before new ones.
        batch.append(&mut self.ready);
        self.ready = batch;
        self.ready_since = tokio::time::Instant::now();
    }

    /// The next delivery, or `None` once the subscription stops.
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            self.keep_ready().await;
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
            let con = self.inner.redis.blocking(WHAT, BLOCK).await?;
            let (stop_tx, stop) = watch::channel(false);
            let (again_tx, again_rx) = mpsc::unbounded_channel();
            let consumer = unique_name();
            let reader = Reader {
                broker: self.clone(),
                con,
                topic: topic.to_owned(),
                key: key.clone(),
                group: group.clone(),
                consumer: consumer.clone(),
                claim_idle: options.ack_wait,
                again_tx,
                again_rx,
                due: Vec::new(),
                stop,
                ready: Vec::new(),
                ready_since: tokio::time::Instant::now(),
                claim_cursor: "0-0".to_owned(),
                last_claim: tokio::time::Instant::now(),
                batch: BATCH.min(options.concurrency.max(1) * 16),
            };
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let dispatcher =
                Dispatcher::with_source(topic, handler, options, dead_letter, Some(source(reader)));
            let broker = self.clone();
            Ok(
                dispatcher.into_subscription(topic, queue, stop_tx, async move {
                    let Ok(mut con) = broker.inner.redis.get(WHAT).await else {
                        return;
                    };
                    if broadcast {
                        // Nobody else reads a broadcast group: remove it and its pending.
                        let _: redis::RedisResult<Value> = redis::cmd("XGROUP")
                            .arg("DESTROY")
                            .arg(&key)
                            .arg(&group)
                            .query_async(&mut con)
                            .await;
                        return;
                    }
                    // Leave no consumer behind in the group, unless it still holds
                    // messages (removing it would drop them; a member claims them).
                    let pending: redis::RedisResult<StreamPendingCountReply> =
                        redis::cmd("XPENDING")
                            .arg(&key)
                            .arg(&group)
                            .arg("-")
                            .arg("+")
                            .arg(1)
                            .arg(&consumer)
                            .query_async(&mut con)
                            .await;
                    if pending.is_ok_and(|p| p.ids.is_empty()) {
                        let _: redis::RedisResult<Value> = redis::cmd("XGROUP")
                            .arg("DELCONSUMER")
                            .arg(&key)
                            .arg(&group)
                            .arg(&consumer)
                            .query_async(&mut con)
                            .await;
                    }
                }),
            )
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
