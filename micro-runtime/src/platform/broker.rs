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
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::remote::{Concept, Remote};
use super::{Empty, unary};
use crate::BoxFuture;
use crate::broker::dispatch::{Delivery, Dispatcher, Source, dead_letters};
use crate::broker::{
    Broker, Envelope, Handler, SharedBroker, SubscribeOptions, Subscription, check_size, handler,
    validate_topic,
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

/// The longest queue group name the server takes.
const MAX_QUEUE: usize = 255;

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

async fn publish(broker: SharedBroker, req: PublishRequest) -> Result<Empty> {
    validate_topic(&req.topic)?;
    let message = req.message.into_envelope(&req.topic)?;
    broker.publish(&req.topic, message).await?;
    Ok(Empty {})
}

/// Subscribe on the server's broker and forward each message to the caller, until the
/// caller leaves.
async fn subscribe(
    broker: SharedBroker,
    req: SubscribeRequest,
    tx: StreamSender<Pushed>,
    closing: watch::Receiver<bool>,
) -> Result<()> {
    validate_topic(&req.topic)?;
    let options = match req.queue {
        Some(queue) if queue.is_empty() || queue.len() > MAX_QUEUE => {
            return Err(Error::bad_request(
                ID,
                format!("a queue group name must hold 1 to {MAX_QUEUE} bytes"),
            ));
        }
        Some(queue) => SubscribeOptions::queue(queue),
        None => SubscribeOptions::broadcast(),
    }
    // One at a time keeps the topic's order on the way to the subscriber.
    .concurrency(1);
    let tx = Arc::new(tx);
    let forward = tx.clone();
    let subscription = broker
        .subscribe(
            &req.topic,
            handler(move |event| {
                let tx = forward.clone();
                async move {
                    let pushed = Pushed {
                        message: Some(WireMessage::from_envelope(event.message())),
                    };
                    tx.send(&pushed).await
                }
            }),
            options,
        )
        .await?;
    let confirmed = tx.send(&Pushed::default()).await;
    if confirmed.is_ok() {
        tokio::select! {
            () = tx.closed() => {}
            () = super::closed(closing) => {}
        }
    }
    subscription
        .unsubscribe_within(Duration::from_secs(1))
        .await;
    confirmed
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
        let mut stream = self.remote.follow("Broker.Subscribe", req).await?;
        let first = tokio::time::timeout(TIMEOUT, stream.recv()).await;
        match first {
            Ok(Ok(Some(Pushed { message: None }))) => Ok(stream),
            Ok(Ok(Some(Pushed { message: Some(_) }))) => Err(Error::internal(
                ID,
                format!(
                    "micro server at {} sent a message on {} before confirming the subscription",
                    self.remote.address(),
                    req.topic
                ),
            )),
            Ok(Ok(None)) => Err(Error::unavailable(
                ID,
                format!(
                    "micro server at {} closed the subscription to {} at once",
                    self.remote.address(),
                    req.topic
                ),
            )),
            Ok(Err(e)) => Err(self.remote.unreachable(e)),
            Err(_) => Err(Error::timeout(
                ID,
                format!(
                    "micro server at {} did not confirm the subscription to {} within {} s",
                    self.remote.address(),
                    req.topic,
                    TIMEOUT.as_secs()
                ),
            )),
        }
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
                match broker.open(&req).await {
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
