//! Consuming: a subscription's consumer, reopened when its connection breaks, its deliveries
//! with their attempt counts, and their acknowledgements.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A delivery as a message, and how often RabbitMQ delivered it before (quorum queues).
pub(super) fn to_envelope(
    topic: &str,
    delivery: &lapin::message::Delivery,
) -> (Envelope, Option<u32>) {
    let mut headers = Metadata::new();
    let mut count = None;
    if let Some(table) = delivery.properties.headers() {
        for (k, v) in table.inner() {
            let key = k.as_str();
            if key == "x-delivery-count" {
                count = match v {
                    AMQPValue::LongLongInt(n) => u32::try_from(*n).ok(),
                    AMQPValue::LongInt(n) => u32::try_from(*n).ok(),
                    AMQPValue::LongUInt(n) => Some(*n),
                    _ => None,
                };
                continue;
            }
            let value = match v {
                AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                AMQPValue::ShortString(s) => s.as_str().to_owned(),
                other => format!("{other:?}"),
            };
            headers.insert(key, value);
        }
    }
    if headers.get(HEADER_ID).is_none()
        && let Some(id) = delivery.properties.message_id()
    {
        headers.insert(HEADER_ID, id.as_str());
    }
    if headers.get(HEADER_CONTENT_TYPE).is_none()
        && let Some(ct) = delivery.properties.content_type()
    {
        headers.insert(HEADER_CONTENT_TYPE, ct.as_str());
    }
    if headers.get(HEADER_ID).is_none() {
        headers.insert(HEADER_ID, crate::broker::new_id());
    }
    if headers.get(crate::broker::HEADER_TOPIC).is_none() {
        headers.insert(crate::broker::HEADER_TOPIC, topic);
    }
    let envelope = Envelope {
        headers,
        body: Bytes::from(delivery.data.clone()),
    };
    (envelope, count)
}

/// Deliveries per message, counted by a subscription whose queue does not count them.
type Seen = Arc<Mutex<HashMap<String, u32>>>;

/// Settles one delivery through its channel.
struct AmqpAck {
    acker: lapin::Acker,
    address: Arc<str>,
    /// The subscription's own count of this message's deliveries (broadcast queues), dropped
    /// once it is settled for good.
    seen: Option<(Seen, String)>,
}

impl AmqpAck {
    fn forget(&self) {
        if let Some((seen, key)) = &self.seen {
            seen.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        }
    }
}

fn settle_error(address: &str, e: impl std::fmt::Display) -> Error {
    // The channel closed: RabbitMQ gives the message back to the queue by itself.
    Error::unavailable(
        ID,
        format!(
            "rabbitmq broker at {}: settling a message failed: {e}",
            redacted(address)
        ),
    )
}

impl RemoteAck for AmqpAck {
    fn ack(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.forget();
            self.acker
                .ack(BasicAckOptions::default())
                .await
                .map(drop)
                .map_err(|e| settle_error(&self.address, e))
        })
    }

    fn nack(&self, delay: Duration) -> BoxFuture<'_, Result<()>> {
        // RabbitMQ has no delayed requeue: hold the message for the backoff, then give it
        // back (it counts against the prefetch meanwhile, as an unacked message should).
        let acker = self.acker.clone();
        Box::pin(async move {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                if let Err(e) = acker.nack(requeue).await {
                    tracing::debug!(error = %e, "rabbitmq: requeue failed; the closed channel requeues it");
                }
            });
            Ok(())
        })
    }

    fn term(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.forget();
            self.acker
                .reject(BasicRejectOptions { requeue: false })
                .await
                .map(drop)
                .map_err(|e| settle_error(&self.address, e))
        })
    }
}

/// What one subscription consumes with.
pub(super) struct Consuming {
    pub(super) broker: RabbitBroker,
    pub(super) topic: String,
    pub(super) queue: Option<String>,
    pub(super) prefetch: u16,
    pub(super) stop: watch::Receiver<bool>,
    /// The consumer in use; `None` between reconnects.
    pub(super) live: Option<lapin::Consumer>,
    /// Its connection, closed by the subscription once drained.
    pub(super) connection: Arc<Mutex<Option<Arc<Connection>>>>,
    /// Deliveries per message id, for queues that do not count them (broadcast).
    pub(super) seen: Seen,
    pub(super) backoff: Duration,
}

impl Consuming {
    pub(super) async fn open(&mut self) -> Result<()> {
        let (connection, channel) = self.broker.connect_channel().await?;
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| self.broker.error("setting the prefetch", e))?;
        let queue_name: ShortString = match &self.queue {
            Some(group) => {
                let name = format!("micro.{}.{group}", self.topic);
                check_name("queue", &name)?;
                let mut arguments = FieldTable::default();
                arguments.insert(
                    "x-queue-type".into(),
                    AMQPValue::LongString("quorum".into()),
                );
                channel
                    .queue_declare(
                        name.as_str().into(),
                        QueueDeclareOptions {
                            durable: true,
                            ..QueueDeclareOptions::default()
                        },
                        arguments,
                    )
                    .await
                    .map_err(|e| self.broker.error(&format!("declaring queue {name}"), e))?;
                name.as_str().into()
            }
            None => {
                let queue = channel
                    .queue_declare(
                        "".into(),
                        QueueDeclareOptions {
                            exclusive: true,
                            auto_delete: true,
                            ..QueueDeclareOptions::default()
                        },
                        FieldTable::default(),
                    )
                    .await
                    .map_err(|e| self.broker.error("declaring a broadcast queue", e))?;
                queue.name().clone()
            }
        };
        channel
            .queue_bind(
                queue_name.clone(),
                self.broker.inner.exchange.as_str().into(),
                self.topic.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| {
                self.broker
                    .error(&format!("binding {queue_name} to {}", self.topic), e)
            })?;
        let consumer = channel
            .basic_consume(
                queue_name.clone(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.broker.error(&format!("consuming {queue_name}"), e))?;
        self.live = Some(consumer);
        let old = self
            .connection
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(Arc::new(connection));
        if let Some(old) = old {
            // A broken connection replaced: close what is left of it.
            tokio::spawn(async move { old.close(200, "reconnected".into()).await });
        }
        self.backoff = Duration::from_millis(100);
        Ok(())
    }

    fn delivery(&self, delivery: lapin::message::Delivery) -> Delivery {
        let (message, counted) = to_envelope(&self.topic, &delivery);
        let mut seen_key = None;
        let attempt = if self.queue.is_some() {
            // A quorum queue: x-delivery-count counts the deliveries before this one, and is
            // absent on the first.
            counted.map_or(1, |before| before.saturating_add(1))
        } else {
            // A classic (broadcast) queue counts nothing: this subscription, its only reader,
            // counts by message id, or by the body for messages without one.
            let key = match delivery.properties.message_id() {
                Some(id) => id.as_str().to_owned(),
                None => format!("body:{:016x}", fnv1a(&delivery.data)),
            };
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() > 100_000 {
                // Only messages that were never settled stay: forget the oldest guesses.
                seen.clear();
            }
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            let attempt = if delivery.redelivered {
                (*n).max(2)
            } else {
                *n
            };
            seen_key = Some(key);
            attempt
        };
        Delivery {
            message,
            attempt,
            remote: Some(Box::new(AmqpAck {
                acker: delivery.acker,
                address: self.broker.inner.address.as_str().into(),
                seen: seen_key.map(|k| (self.seen.clone(), k)),
            })),
        }
    }

    async fn next(&mut self) -> Option<Delivery> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            if self.live.is_none() {
                let mut stop = self.stop.clone();
                // Every step of opening has a deadline: a server still starting up can take
                // a connection and then not answer a declare.
                let limit = self.broker.inner.timeout.max(Duration::from_secs(5)) * 2;
                let opened = tokio::select! {
                    opened = tokio::time::timeout(limit, self.open()) => opened.unwrap_or_else(|_| {
                        Err(self.broker.error("opening the consumer", format!("no answer within {limit:?}")))
                    }),
                    _ = stop.changed() => return None,
                };
                if let Err(e) = opened {
                    tracing::warn!(topic = %self.topic, error = %e, "rabbitmq: cannot consume; retrying");
                    let wait = self.backoff;
                    self.backoff = (self.backoff * 2).min(Duration::from_secs(5));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = self.stop.changed() => return None,
                    }
                    continue;
                }
            }
            let Some(consumer) = self.live.as_mut() else {
                continue;
            };
            let connection = self
                .connection
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let next = tokio::select! {
                next = consumer.next() => next,
                _ = self.stop.changed() => return None,
                // A consumer does not always hear that its connection died (a server
                // killed and restarted): look at the connection every second.
                () = async {
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if connection.as_ref().is_none_or(|c| !c.status().connected()) {
                            return;
                        }
                    }
                } => {
                    tracing::warn!(topic = %self.topic, "rabbitmq: the consumer's connection is down; reconnecting");
                    self.live = None;
                    continue;
                }
            };
            match next {
                Some(Ok(delivery)) => return Some(self.delivery(delivery)),
                Some(Err(e)) => {
                    tracing::warn!(topic = %self.topic, error = %e, "rabbitmq: the consumer broke; reconnecting");
                    self.live = None;
                }
                None => {
                    tracing::warn!(topic = %self.topic, "rabbitmq: the consumer ended; reconnecting");
                    self.live = None;
                }
            }
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) fn source(consuming: Consuming) -> Source {
    futures_util::stream::unfold(consuming, |mut consuming| async move {
        let delivery = consuming.next().await?;
        Some((delivery, consuming))
    })
    .boxed()
}
