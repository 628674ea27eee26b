//! The broker of `micro server` and the `service` broker engine (`MICRO_BROKER=service`):
//! a publish is a call; a subscription is a server stream that the server feeds from its
//! own broker, in the subscriber's queue group, and that the engine opens again (every
//! second) when it breaks, so subscribers carry on across the server's restarts.
//!
//! Delivery is at most once between the server and the subscriber (a message in flight
//! when the stream breaks is lost); handler errors are retried in the subscriber, as on
//! core NATS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc, watch};

use super::remote::{Concept, Remote};
use super::{Empty, unary};
use crate::BoxFuture;
use crate::broker::dispatch::{Delivery, Dispatcher, Source, dead_letters};
use crate::broker::{
    Broker, Envelope, Handler, SharedBroker, SubscribeOptions, Subscription, check_size, handler,
    validate_topic, wire_size,
};
use crate::codec::Codec;
use crate::context::{Context, Metadata};
use crate::endpoint::{Route, Router};
use crate::error::{Error, Result};
use crate::stream::{StreamReceiver, StreamSender};

const ID: &str = "micro.broker";

/// How long a publish or a subscription's confirmation may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How often a broken subscription tries again.
const RECONNECT: Duration = Duration::from_secs(1);

/// The largest message the service broker sends (body and headers): in base64 it fits one
/// call of the transport's 4 MiB.
pub const MAX_MESSAGE: usize = 3 * 1024 * 1024 - 64 * 1024;

/// A message on the wire: headers, and the body in base64.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WireMessage {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: String,
}

impl WireMessage {
    fn from_envelope(message: &Envelope) -> WireMessage {
        WireMessage {
            headers: message
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            body: base64::engine::general_purpose::STANDARD.encode(&message.body),
        }
    }

    fn into_envelope(self, topic: &str) -> Result<Envelope> {
        let body = base64::engine::general_purpose::STANDARD
            .decode(self.body.as_bytes())
            .map_err(|e| {
                Error::bad_request(
                    ID,
                    format!("a message on {topic}: the body is not base64: {e}"),
                )
            })?;
        let mut headers = Metadata::new();
        for (k, v) in self.headers {
            headers.insert(k, v);
        }
        Ok(Envelope {
            headers,
            body: body.into(),
        })
    }
}

/// `Broker.Publish`.
#[derive(Debug, Serialize, Deserialize)]
struct PublishRequest {
    topic: String,
    message: WireMessage,
}

/// `Broker.Subscribe`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SubscribeRequest {
    topic: String,
    /// The queue group; none for a broadcast subscription.
    #[serde(default)]
    queue: Option<String>,
}

/// What `Broker.Subscribe` streams: first one without a message (subscribed), then one per
/// message.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Pushed {
    #[serde(default)]
    message: Option<WireMessage>,
}

async fn publish(broker: SharedBroker, _: Context, req: PublishRequest) -> Result<Empty> {
    validate_topic(&req.topic)?;
    let message = req.message.into_envelope(&req.topic)?;
    broker.publish(&req.topic, message).await?;
    Ok(Empty {})
}

/// How many messages may wait for one subscriber on the server before it counts as too
/// slow and its stream is ended (it subscribes again; NATS treats slow consumers the same).
pub const SUBSCRIBER_QUEUE: usize = 1024;

/// How many bytes (bodies and headers) may wait for one subscriber on the server.
pub const SUBSCRIBER_QUEUE_BYTES: usize = 16 << 20;

/// The messages waiting on the server for one subscriber, bounded by count and bytes; the
/// server's broker never waits on it, so a slow subscriber holds up no publisher.
struct Backlog {
    tx: mpsc::Sender<Envelope>,
    bytes: AtomicUsize,
    /// Set once a message did not fit: the subscriber is too slow.
    overflow: Notify,
}

impl Backlog {
    fn push(&self, message: Envelope) -> Result<()> {
        let size = wire_size(&message);
        let queued = self.bytes.fetch_add(size, Ordering::AcqRel) + size;
        let refused = if queued > SUBSCRIBER_QUEUE_BYTES {
            true
        } else {
            self.tx.try_send(message).is_err()
        };
        if refused {
            self.bytes.fetch_sub(size, Ordering::AcqRel);
            self.overflow.notify_one();
            return Err(Error::unavailable(
                ID,
                "the subscriber of micro server is too slow (its backlog is full)",
            ));
        }
        Ok(())
    }

    fn taken(&self, message: &Envelope) {
        self.bytes.fetch_sub(wire_size(message), Ordering::AcqRel);
    }
}

/// Subscribe on the server's broker and forward each message to the caller, until the
/// caller leaves, the server stops, or the caller falls too far behind.
async fn subscribe(
    broker: SharedBroker,
    req: SubscribeRequest,
    tx: StreamSender<Pushed>,
    closing: watch::Receiver<bool>,
) -> Result<()> {
    validate_topic(&req.topic)?;
    let options = match req.queue {
        Some(queue) => SubscribeOptions::queue(queue),
        None => SubscribeOptions::broadcast(),
    }
    // One at a time keeps the topic's order; a message that does not fit the backlog is
    // given up at once (the subscriber is about to be cut off).
    .concurrency(1)
    .max_deliver(1);
    options.validate()?;
    let (queue_tx, mut queue_rx) = mpsc::channel(SUBSCRIBER_QUEUE);
    let backlog = Arc::new(Backlog {
        tx: queue_tx,
        bytes: AtomicUsize::new(0),
        overflow: Notify::new(),
    });
    let intake = backlog.clone();
    let subscription = broker
        .subscribe(
            &req.topic,
            handler(move |event| {
                let pushed = intake.push(event.to_message());
                async move { pushed }
            }),
            options,
        )
        .await?;
    // Messages that arrive before the confirmation wait in the backlog: the caller sees
    // the confirmation first.
    let slow = || {
        tracing::warn!(topic = %req.topic, queued = SUBSCRIBER_QUEUE, bytes = SUBSCRIBER_QUEUE_BYTES, "a subscriber of micro server fell too far behind; ending its stream (it subscribes again)");
        Err(Error::unavailable(
            ID,
            format!(
                "the subscription to {} fell too far behind ({SUBSCRIBER_QUEUE} messages or {} MiB waiting)",
                req.topic,
                SUBSCRIBER_QUEUE_BYTES >> 20
            ),
        ))
    };
    let mut result = tx.send(&Pushed::default()).await;
    while result.is_ok() {
        let message = tokio::select! {
            () = tx.closed() => break,
            () = super::closed(closing.clone()) => break,
            () = backlog.overflow.notified() => {
                result = slow();
                break;
            }
            message = queue_rx.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        backlog.taken(&message);
        let pushed = Pushed {
            message: Some(WireMessage::from_envelope(&message)),
        };
        // A subscriber that stops reading is cut off here too, once its backlog fills.
        result = tokio::select! {
            sent = tx.send(&pushed) => sent,
            () = backlog.overflow.notified() => slow(),
            () = super::closed(closing.clone()) => break,
        };
    }
    subscription
        .unsubscribe_within(Duration::from_secs(1))
        .await;
    result
}

/// The broker's routes over `broker`, added to `router`.
pub(super) fn routes(
    router: Router,
    broker: &SharedBroker,
    closing: &watch::Receiver<bool>,
) -> Router {
    let b = broker.clone();
    let closing = closing.clone();
    let subscribe = Route::server_stream_with(
        "Broker.Subscribe",
        Codec::serde(),
        Codec::serde(),
        move |_: Context, req: SubscribeRequest, tx: StreamSender<Pushed>| {
            subscribe(b.clone(), req, tx, closing.clone())
        },
    );
    router
        .route(unary("Broker.Publish", broker, publish))
        .route(subscribe)
}

/// A broker served by `micro server` at `address` (`MICRO_BROKER=service`,
/// `MICRO_BROKER_ADDRESS=host:port`).
///
/// Queue groups are kept by the server: each message reaches one member of each group,
/// wherever the members run.
#[derive(Clone, Debug)]
pub struct ServiceBroker {
    remote: Remote,
}

impl ServiceBroker {
    /// The broker of the `micro server` at `address` (`host:port`). Nothing is dialled
    /// until the first publish or subscribe.
    pub fn new(address: &str) -> Result<ServiceBroker> {
        ServiceBroker::with_token(address, TIMEOUT, None)
    }

    /// [`ServiceBroker::new`], with the time one call may take and the token sent with
    /// every call (for a `micro server` that checks callers: `MICRO_AUTH_TOKEN`).
    pub fn with_token(
        address: &str,
        timeout: Duration,
        token: Option<&str>,
    ) -> Result<ServiceBroker> {
        Ok(ServiceBroker {
            remote: Remote::new(Concept::Broker, address, timeout, token)?,
        })
    }

    /// Open the subscription's stream and wait for the server to confirm it.
    async fn open(&self, req: &SubscribeRequest) -> Result<StreamReceiver<Pushed>> {
        let within = self.remote.timeout();
        let address = self.remote.address();
        let confirmed = tokio::time::timeout(within, async {
            let mut stream = self.remote.follow("Broker.Subscribe", req).await?;
            match stream.recv().await {
                Ok(Some(Pushed { message: None })) => Ok(stream),
                Ok(Some(Pushed { message: Some(_) })) => Err(Error::internal(
                    ID,
                    format!(
                        "micro server at {address} sent a message on {} before confirming the subscription",
                        req.topic
                    ),
                )),
                Ok(None) => Err(Error::unavailable(
                    ID,
                    format!(
                        "micro server at {address} closed the subscription to {} at once",
                        req.topic
                    ),
                )),
                Err(e) => Err(self.remote.unreachable(e)),
            }
        })
        .await;
        confirmed.unwrap_or_else(|_| {
            Err(Error::timeout(
                ID,
                format!(
                    "micro server at {address} did not confirm the subscription to {} within {within:?}",
                    req.topic
                ),
            ))
        })
    }
}

/// Feed the subscription's messages to `tx` until stopped, opening the stream again when it
/// breaks.
async fn pump(
    broker: ServiceBroker,
    req: SubscribeRequest,
    first: StreamReceiver<Pushed>,
    tx: mpsc::Sender<Delivery>,
    mut stop: watch::Receiver<bool>,
) {
    let mut stream = Some(first);
    let mut broken = false;
    loop {
        let mut current = match stream.take() {
            Some(s) => s,
            None => {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    () = tokio::time::sleep(RECONNECT) => {}
                }
                let opened = tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    opened = broker.open(&req) => opened,
                };
                match opened {
                    Ok(s) => {
                        tracing::info!(topic = %req.topic, address = %broker.remote.address(), "subscribed again through micro server");
                        broken = false;
                        s
                    }
                    Err(e) => {
                        if !broken {
                            broken = true;
                            tracing::warn!(topic = %req.topic, error = %e, "micro server does not take the subscription; trying every second");
                        }
                        continue;
                    }
                }
            }
        };
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                next = current.recv() => next,
            };
            match next {
                Ok(Some(Pushed {
                    message: Some(message),
                })) => match message.into_envelope(&req.topic) {
                    Ok(envelope) => {
                        tokio::select! {
                            _ = stop.wait_for(|s| *s) => return,
                            sent = tx.send(Delivery::local(envelope)) => if sent.is_err() {
                                return;
                            },
                        }
                    }
                    Err(e) => {
                        tracing::warn!(topic = %req.topic, error = %e, "a message from micro server was dropped")
                    }
                },
                Ok(Some(Pushed { message: None })) => {}
                Ok(None) | Err(_) => {
                    if !broken {
                        broken = true;
                        let why = match next {
                            Err(e) => e.detail().to_owned(),
                            _ => "the stream ended".to_owned(),
                        };
                        tracing::warn!(topic = %req.topic, address = %broker.remote.address(), error = %why, "the subscription through micro server broke; subscribing again every second");
                    }
                    break;
                }
            }
        }
    }
}

impl Broker for ServiceBroker {
    fn name(&self) -> &'static str {
        "service"
    }

    fn address(&self) -> String {
        self.remote.address().to_owned()
    }

    /// Nothing to connect: each publish is a call, each subscription its own stream.
    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Nothing to disconnect: subscriptions end when unsubscribed.
    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn publish<'a>(&'a self, topic: &'a str, mut message: Envelope) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            validate_topic(topic)?;
            message.stamp(topic);
            check_size(
                "service",
                self.remote.address(),
                topic,
                &message,
                MAX_MESSAGE,
            )?;
            let req = PublishRequest {
                topic: topic.to_owned(),
                message: WireMessage::from_envelope(&message),
            };
            let _: Empty = self.remote.call("Broker.Publish", &req).await?;
            Ok(())
        })
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
            let req = SubscribeRequest {
                topic: topic.to_owned(),
                queue: options.queue.clone(),
            };
            let first = self.open(&req).await?;
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let (stop_tx, stop) = watch::channel(false);
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(pump(self.clone(), req, first, tx, stop));
            let source: Source = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|d| (d, rx))
            }));
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
    fn messages_cross_the_wire_whole() {
        let message = Envelope::new(vec![0u8, 159, 146, 150, 255])
            .with_header("micro-id", "m-1")
            .with_header("x-tenant", "acme");
        let wire = serde_json::to_vec(&WireMessage::from_envelope(&message)).unwrap();
        let back: WireMessage = serde_json::from_slice(&wire).unwrap();
        assert_eq!(back.into_envelope("orders").unwrap(), message);
        let bad = WireMessage {
            headers: BTreeMap::new(),
            body: "not base64!".to_owned(),
        };
        let err = bad.into_envelope("orders").unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(
            err.detail().contains("on orders: the body is not base64"),
            "{err}"
        );
    }
}
