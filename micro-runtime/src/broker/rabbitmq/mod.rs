//! The RabbitMQ broker (`MICRO_BROKER=rabbitmq`, `MICRO_BROKER_ADDRESS=amqp://...`).
//!
//! - **Topology**: one durable topic exchange (`micro` by default, go-micro's name); a topic
//!   is its routing key. A queue group is a durable queue `micro.<topic>.<group>` (a quorum
//!   queue, which counts deliveries) bound to the topic; a broadcast subscription gets an
//!   exclusive, auto-delete queue of its own.
//! - **Publish** waits for the publisher confirm: it returns once RabbitMQ stored (or
//!   routed) the message, persistent. While RabbitMQ is unreachable a publish fails at once
//!   with an error naming the address; the next one connects again.
//! - **Consume** with manual acknowledgement after the handler and a prefetch of
//!   `concurrency + min(buffer, 64)`. A failed message is held for micro's backoff, then returned to the queue
//!   (`basic.nack` with requeue) and delivered again, counted by the quorum queue's
//!   `x-delivery-count` (by the subscription itself on broadcast queues); a message given up
//!   is rejected without requeue after micro dead-lettered it. Messages held by a process that
//!   dies go back to the queue when its connection closes: at least once. A subscription whose
//!   connection drops reconnects with backoff and consumes again (the connection is also
//!   watched every second, since a consumer does not always hear that it died, and opening
//!   has a deadline). (RabbitMQ 4 gives quorum
//!   queues a delivery limit of 20 by default: keep `max_deliver` below it.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::{Mutex as AsyncMutex, watch};

use super::dispatch::{Delivery, Dispatcher, RemoteAck, Source, dead_letters};
use super::{
    BoxFuture, Broker, Envelope, HEADER_CONTENT_TYPE, HEADER_ID, Handler, ID, SubscribeOptions,
    Subscription, validate_topic,
};
use crate::context::Metadata;

mod consume;

use crate::error::{Error, Result};
use consume::{Consuming, source};

/// The exchange used when none is set (go-micro's).
pub const DEFAULT_EXCHANGE: &str = "micro";

/// The largest message (body and headers) published by default: 16 MiB, RabbitMQ 4's
/// default `max_message_size` (RabbitMQ 3 allowed 128 MiB; raise it with
/// [`RabbitBroker::with_max_message_size`] to what the server allows).
pub const DEFAULT_MAX_MESSAGE: usize = 16 << 20;

/// AMQP's limit on queue, exchange and routing key names, in bytes.
const MAX_NAME: usize = 255;

/// Messages through RabbitMQ. Clones share the publishing connection.
#[derive(Clone, Debug)]
pub struct RabbitBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    address: String,
    exchange: String,
    timeout: Duration,
    max_message: usize,
    /// The publishing connection and its confirming channel, made on first use and again
    /// after it broke.
    publisher: AsyncMutex<Option<(Connection, Channel)>>,
}

fn redacted(address: &str) -> String {
    crate::net::redact(address)
}

impl RabbitBroker {
    /// A broker on the RabbitMQ at `address` (`amqp://user:pass@host:port/vhost`), using the
    /// exchange `micro`; each connection attempt may take `timeout`.
    pub fn new(address: &str, timeout: Duration) -> Result<RabbitBroker> {
        address.parse::<lapin::uri::AMQPUri>().map_err(|e| {
            Error::bad_request(
                ID,
                format!(
                    "rabbitmq address {:?} is not an AMQP URL: {e}",
                    redacted(address)
                ),
            )
        })?;
        Ok(RabbitBroker {
            inner: Arc::new(Inner {
                address: address.to_owned(),
                exchange: DEFAULT_EXCHANGE.to_owned(),
                timeout,
                max_message: DEFAULT_MAX_MESSAGE,
                publisher: AsyncMutex::new(None),
            }),
        })
    }

    /// Publish to and bind queues on `exchange` instead of `micro`.
    pub fn with_exchange(self, exchange: &str) -> Result<RabbitBroker> {
        check_name("exchange", exchange)?;
        Ok(RabbitBroker {
            inner: Arc::new(Inner {
                address: self.inner.address.clone(),
                exchange: exchange.to_owned(),
                timeout: self.inner.timeout,
                max_message: self.inner.max_message,
                publisher: AsyncMutex::new(None),
            }),
        })
    }

    /// Refuse messages larger than `bytes`, body and headers together (16 MiB by default,
    /// RabbitMQ 4's own limit; set it to the server's `max_message_size` when that differs).
    #[must_use]
    pub fn with_max_message_size(self, bytes: usize) -> RabbitBroker {
        RabbitBroker {
            inner: Arc::new(Inner {
                address: self.inner.address.clone(),
                exchange: self.inner.exchange.clone(),
                timeout: self.inner.timeout,
                max_message: bytes,
                publisher: AsyncMutex::new(None),
            }),
        }
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::unavailable(
            ID,
            format!(
                "rabbitmq broker at {}: {what}: {e}",
                redacted(&self.inner.address)
            ),
        )
    }

    /// A new connection, with the exchange declared on a channel of it.
    async fn connect_channel(&self) -> Result<(Connection, Channel)> {
        let connect = Connection::connect(
            &self.inner.address,
            ConnectionProperties::default().with_connection_name("micro".into()),
        );
        let connection = tokio::time::timeout(self.inner.timeout, connect)
            .await
            .map_err(|_| self.error("cannot connect", "timed out"))?
            .map_err(|e| self.error("cannot connect", e))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| self.error("opening a channel", e))?;
        channel
            .exchange_declare(
                self.inner.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.error(&format!("declaring exchange {}", self.inner.exchange), e))?;
        Ok((connection, channel))
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        check_name("topic", topic)?;
        message.stamp(topic);
        super::check_size(
            "rabbitmq",
            &redacted(&self.inner.address),
            topic,
            &message,
            self.inner.max_message,
        )?;
        let properties = properties(&message)?;
        // The channel, (re)made under the lock; publishing itself runs outside it, so
        // publishes from many tasks pipeline on the one channel.
        let channel = {
            let mut held = self.inner.publisher.lock().await;
            let healthy = held.as_ref().is_some_and(|(connection, channel)| {
                connection.status().connected() && channel.status().connected()
            });
            if !healthy {
                let (connection, channel) = self.connect_channel().await?;
                channel
                    .confirm_select(ConfirmSelectOptions::default())
                    .await
                    .map_err(|e| self.error("enabling publisher confirms", e))?;
                *held = Some((connection, channel));
            }
            match held.as_ref() {
                Some((_, channel)) => channel.clone(),
                None => return Err(self.error("publishing", "no channel")),
            }
        };
        let confirm = channel
            .basic_publish(
                self.inner.exchange.as_str().into(),
                topic.into(),
                BasicPublishOptions::default(),
                &message.body,
                properties,
            )
            .await
            .map_err(|e| self.error(&format!("publishing to {topic}"), e))?;
        match tokio::time::timeout(self.inner.timeout, confirm).await {
            Ok(Ok(Confirmation::Ack(_) | Confirmation::NotRequested)) => Ok(()),
            Ok(Ok(Confirmation::Nack(_))) => Err(self.error(
                &format!("publishing to {topic}"),
                "RabbitMQ refused the message (publisher nack)",
            )),
            Ok(Err(e)) => Err(self.error(&format!("publishing to {topic}"), e)),
            Err(_) => Err(self.error(
                &format!("publishing to {topic}"),
                format!("no confirm within {:?}", self.inner.timeout),
            )),
        }
    }
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.len() > MAX_NAME {
        return Err(Error::bad_request(
            ID,
            format!(
                "rabbitmq {what} {name:?} is {} bytes; AMQP names stop at {MAX_NAME}",
                name.len()
            ),
        ));
    }
    Ok(())
}

fn properties(message: &Envelope) -> Result<BasicProperties> {
    let mut headers = FieldTable::default();
    for (k, v) in message.headers.iter() {
        check_name("header name", k)?;
        headers.insert(
            k.into(),
            AMQPValue::LongString(LongString::from(v.as_bytes().to_vec())),
        );
    }
    let mut properties = BasicProperties::default()
        .with_headers(headers)
        .with_delivery_mode(2);
    if let Some(id) = message.id() {
        check_name("message id", id)?;
        properties = properties.with_message_id(id.into());
    }
    if let Some(content_type) = message.content_type() {
        check_name("content type", content_type)?;
        properties = properties.with_content_type(content_type.into());
    }
    Ok(properties)
}

impl Broker for RabbitBroker {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }

    fn address(&self) -> String {
        redacted(&self.inner.address)
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.connect_channel().await.map(drop) })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if let Some((connection, _)) = self.inner.publisher.lock().await.take() {
                let _ = connection.close(200, "bye".into()).await;
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
            check_name("topic", topic)?;
            options.validate()?;
            let (stop_tx, stop) = watch::channel(false);
            let mut consuming = Consuming {
                broker: self.clone(),
                topic: topic.to_owned(),
                queue: options.queue.clone(),
                // Enough to keep the handlers busy, no more: unacked messages count against
                // RabbitMQ's consumer timeout while they wait in this process.
                prefetch: u16::try_from(options.concurrency.max(1) + options.buffer.min(64))
                    .unwrap_or(u16::MAX),
                stop,
                live: None,
                connection: Arc::default(),
                seen: Arc::default(),
                backoff: Duration::from_millis(100),
            };
            // Consume before saying we are subscribed: the queue exists and is bound.
            consuming.open().await?;
            let connection = consuming.connection.clone();
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let dispatcher = Dispatcher::with_source(
                topic,
                handler,
                options,
                dead_letter,
                Some(source(consuming)),
            );
            Ok(
                dispatcher.into_subscription(topic, queue, stop_tx, async move {
                    // Settled what it could: unacked messages go back to the queue.
                    let last = connection.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(connection) = last {
                        let _ = connection.close(200, "unsubscribed".into()).await;
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
    fn long_names_are_refused_naming_the_limit() {
        let e = check_name("queue", &"q".repeat(300)).unwrap_err();
        assert!(e.detail().contains("255"), "{e}");
        assert!(check_name("queue", "micro.orders.svc").is_ok());
    }

    #[test]
    fn bad_addresses_are_refused_without_their_password() {
        let e = RabbitBroker::new("amqp://guest:secret@[::1", Duration::from_secs(1)).unwrap_err();
        assert!(e.detail().contains("not an AMQP URL"), "{e}");
        assert!(!e.detail().contains("secret"), "{e}");
    }

    #[test]
    fn a_header_name_amqp_cannot_carry_is_an_error_not_a_panic() {
        let message = Envelope::new("x").with_header("k".repeat(300), "v");
        let e = properties(&message).unwrap_err();
        assert!(
            e.detail().contains("header name") && e.detail().contains("255"),
            "{e}"
        );
    }

    #[test]
    fn headers_travel_as_amqp_strings() {
        let message = Envelope::new("x")
            .with_header(HEADER_ID, "m1")
            .with_header("x-trace", "t");
        let properties = properties(&message).unwrap();
        let headers = properties.headers().clone().unwrap_or_default();
        assert!(headers.inner().contains_key(&ShortString::from("x-trace")));
        assert_eq!(
            properties.message_id().as_ref().map(ShortString::as_str),
            Some("m1")
        );
    }
}
