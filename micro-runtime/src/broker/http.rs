//! The default broker: no broker server. Subscribers listen on HTTP/2 and register in the
//! registry; publishers find them there and hand each message over directly.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes};
use tokio::net::TcpListener;

use super::dispatch::{Delivery, Dispatcher, Intake, dead_letters, gone};
use super::{
    BoxFuture, Broker, Envelope, Handler, ID, SubscribeOptions, Subscription, new_id,
    validate_topic,
};
use crate::client::{CallOptions, Client};
use crate::codec::{Codec, Format};
use crate::context::{Context, Metadata};
use crate::endpoint::{Dispatch, Limits, RouteTable};
use crate::error::{Error, Result};
use crate::registry::{self, Node, RegisterOptions, SharedRegistry};
use crate::selector::{Candidate, Filter, Outcome};
use crate::server::{self, Route, Router, ServerHandle};
use crate::transport::{self, Listener};

/// The registry name subscriber nodes register under (one node per subscription).
pub const HTTP_BROKER_SERVICE: &str = "micro.http.broker";
const ENDPOINT: &str = "Broker.Deliver";
const PACKAGE: &str = "micro.broker";

/// Settings of an [`HttpBroker`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpBrokerOptions {
    /// Where subscribers listen (default `0.0.0.0:0`: every interface, a free port;
    /// `MICRO_BROKER_ADDRESS`).
    pub address: String,
    /// The address published in the registry (default: a private interface address).
    pub advertise: Option<String>,
    /// How long a subscription's registration lives without a refresh (default 30 s).
    pub register_ttl: Duration,
    /// How often subscriptions refresh their registration (default 10 s).
    pub register_interval: Duration,
    /// How long a publish may wait for subscribers to take a message (default 10 s).
    pub publish_timeout: Duration,
    /// How long one member of a queue group may take to accept a message before the publish
    /// hands it to another member (default 1 s): a hung member never holds a publish up.
    pub hand_off_timeout: Duration,
}

impl Default for HttpBrokerOptions {
    fn default() -> HttpBrokerOptions {
        HttpBrokerOptions {
            address: "0.0.0.0:0".to_owned(),
            advertise: None,
            register_ttl: Duration::from_secs(30),
            register_interval: Duration::from_secs(10),
            publish_timeout: Duration::from_secs(10),
            hand_off_timeout: Duration::from_secs(1),
        }
    }
}

/// Pub/sub with no broker server, as go-micro's default `http` broker: each process that
/// subscribes listens on an HTTP/2 port and registers one node per subscription in the
/// registry (service `micro.http.broker`, node metadata `topic` and `queue`); a publisher
/// looks the topic's subscribers up (cached, and refreshed by a registry watch) and hands
/// the message to every broadcast subscriber and to one member of each queue group.
///
/// A publish returns once every group took the message (it is queued in the subscriber
/// process, which then acknowledges or retries it locally). If a group's chosen member is
/// unreachable, or does not take the message within the hand-off timeout (1 s: it hangs, or
/// is stopped), another member gets it, all within the publish timeout; the slow member is
/// cooled off. A member that hung may still handle the message when it resumes, so a
/// message can reach a group twice in that case (handlers should be idempotent). Messages are
/// not stored: a subscriber process that dies loses what it had queued. With the `local`
/// registry this works across the processes of one host with nothing to install; with a
/// shared registry, across hosts.
#[derive(Clone)]
pub struct HttpBroker {
    inner: Arc<Inner>,
}

struct Inner {
    registry: SharedRegistry,
    client: Client,
    options: HttpBrokerOptions,
    subs: RwLock<HashMap<String, Arc<Sub>>>,
    listening: tokio::sync::Mutex<Option<Listening>>,
    /// When a publish that found no subscriber last re-read the registry.
    last_refresh: std::sync::Mutex<Option<Instant>>,
}

struct Sub {
    intake: Intake,
    record: registry::Service,
}

struct Listening {
    advertise: String,
    server: ServerHandle,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for HttpBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBroker")
            .field("registry", &self.inner.registry.name())
            .field("address", &self.inner.options.address)
            .finish_non_exhaustive()
    }
}

impl HttpBroker {
    /// A broker whose subscribers are found through `registry`.
    pub fn new(registry: SharedRegistry) -> HttpBroker {
        HttpBroker::with_options(registry, HttpBrokerOptions::default())
    }

    /// A broker with settings.
    pub fn with_options(registry: SharedRegistry, options: HttpBrokerOptions) -> HttpBroker {
        HttpBroker {
            inner: Arc::new(Inner {
                client: Client::new(registry.clone()),
                registry,
                options,
                subs: RwLock::new(HashMap::new()),
                listening: tokio::sync::Mutex::new(None),
                last_refresh: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The address subscribers of this process are published at, once one subscribed.
    pub async fn advertised_address(&self) -> Option<String> {
        self.inner
            .listening
            .lock()
            .await
            .as_ref()
            .map(|l| l.advertise.clone())
    }

    /// Start listening (once) and return the advertised address.
    async fn listen(&self) -> Result<String> {
        let mut listening = self.inner.listening.lock().await;
        if let Some(l) = listening.as_ref() {
            return Ok(l.advertise.clone());
        }
        let options = &self.inner.options;
        let listener = TcpListener::bind(&options.address).await.map_err(|e| {
            Error::internal(
                ID,
                format!(
                    "the http broker cannot listen on {}: {e} (set MICRO_BROKER_ADDRESS to a free address)",
                    options.address
                ),
            )
        })?;
        let local = listener.local_addr().map_err(|e| {
            Error::internal(
                ID,
                format!("cannot read the broker's listening address: {e}"),
            )
        })?;
        let advertise = match &options.advertise {
            Some(a) => a.clone(),
            None => crate::net::advertise_address(local).to_string(),
        };
        let weak = Arc::downgrade(&self.inner);
        let route = Route::unary(ENDPOINT, move |_ctx: Context, envelope: WireMessage| {
            let weak = weak.clone();
            async move { accept(&weak, envelope).await }
        })
        .package(PACKAGE);
        let dispatch = Arc::new(Dispatch::new(
            RouteTable::build(&Router::new().route(route))?,
            HTTP_BROKER_SERVICE,
            Limits {
                // Deliveries are not shed: the publisher would only retry them.
                shed_cpu: None,
                ..Limits::default()
            },
            &[],
        ));
        let server = server::start(
            Listener::Tcp(listener),
            transport::tcp_acceptor(true),
            dispatch,
            Duration::from_secs(5),
        );
        let heartbeat = tokio::spawn(heartbeat(
            Arc::downgrade(&self.inner),
            options.register_interval,
            options.register_ttl,
        ));
        *listening = Some(Listening {
            advertise: advertise.clone(),
            server,
            heartbeat,
        });
        Ok(advertise)
    }

    async fn publish_message(&self, topic: &str, mut message: Envelope) -> Result<()> {
        validate_topic(topic)?;
        message.stamp(topic);
        let selector = self.inner.client.selector();
        let filters = [Filter::metadata("topic", topic)];
        let next = match selector.select(HTTP_BROKER_SERVICE, &filters).await {
            Ok(next) => next,
            Err(e) if e.code() == 404 || e.code() == 503 => {
                // No subscriber in the cached view. It may be one that subscribed a moment
                // ago, before the registry watch told us: read the registry again (at most
                // every 100 ms).
                let refresh = {
                    let mut last = self
                        .inner
                        .last_refresh
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
                    if due {
                        *last = Some(Instant::now());
                    }
                    due
                };
                if !refresh {
                    return Ok(());
                }
                selector.reset(Some(HTTP_BROKER_SERVICE));
                match selector.select(HTTP_BROKER_SERVICE, &filters).await {
                    Ok(next) => next,
                    // Nobody subscribes: like NATS, the message goes nowhere.
                    Err(e) if e.code() == 404 || e.code() == 503 => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let (broadcast, groups) = next.split_by(|c| c.node.metadata.get("queue").cloned());
        // A subscriber that cannot read the message's format would only dead-letter it: refuse
        // to publish, loudly, naming who cannot read it.
        let format = message.content_type().and_then(Format::from_content_type);
        if let Some(format) = format {
            let unable = broadcast
                .iter()
                .chain(groups.iter().flat_map(|g| g.candidates()))
                .find(|c| {
                    c.node
                        .metadata
                        .get("codecs")
                        .is_some_and(|codecs| !codecs.split(',').any(|n| n == format.name()))
                });
            if let Some(c) = unable {
                return Err(Error::new(
                    ID,
                    format!(
                        "a subscriber of {topic} (queue {}) reads {} only; this message is {format}: publish JSON (the default) or a format every subscriber reads",
                        c.node.metadata.get("queue").map_or("none", String::as_str),
                        c.node.metadata.get("codecs").map_or("", String::as_str),
                    ),
                    415,
                ));
            }
        }
        let headers: HashMap<String, String> = message
            .headers
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let envelope = WireMessage {
            subscription: String::new(),
            headers,
            body: message.body,
        };
        let mut sends: Vec<BoxFuture<'_, Result<()>>> = Vec::new();
        for candidate in broadcast {
            let envelope = envelope.clone();
            sends.push(Box::pin(async move {
                let deadline = Instant::now() + self.inner.options.publish_timeout;
                if let Err(e) = self.send(&candidate, envelope, deadline).await {
                    // Broadcast subscribers come and go (a `micro subscribe` that was
                    // killed): one that cannot be reached does not fail the publish.
                    tracing::debug!(node = %candidate.node.id, error = %e, "broadcast subscriber unreachable");
                }
                Ok(())
            }));
        }
        let deadline = Instant::now() + self.inner.options.publish_timeout;
        for mut group in groups {
            let envelope = envelope.clone();
            sends.push(Box::pin(async move {
                let mut last = None;
                while let Some(candidate) = group.next() {
                    match self.send(&candidate, envelope.clone(), deadline).await {
                        Ok(()) => return Ok(()),
                        // Unreachable, the subscription just left, or the member did not take
                        // it in time: another member may take it.
                        Err(e) if e.is_retry_safe() || e.code() == 404 || e.code() == 408 => {
                            last = Some(e);
                        }
                        Err(e) => return Err(e),
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                Err(last.unwrap_or_else(|| {
                    Error::unavailable(ID, format!("no subscriber of {topic} could be reached"))
                }))
            }));
        }
        let results = futures_util::future::join_all(sends).await;
        results.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
    }

    /// Hand `envelope` to one subscription, within the hand-off timeout and `deadline`.
    async fn send(
        &self,
        candidate: &Candidate,
        mut envelope: WireMessage,
        deadline: Instant,
    ) -> Result<()> {
        envelope.subscription.clone_from(&candidate.node.id);
        let left = deadline.saturating_duration_since(Instant::now());
        let opts = CallOptions::new()
            .address(candidate.node.address.clone())
            .package(PACKAGE)
            .timeout(self.inner.options.hand_off_timeout.min(left))
            .retries(0);
        let result = self
            .inner
            .client
            .invoke_codec(
                &Context::new(),
                HTTP_BROKER_SERVICE,
                ENDPOINT,
                &envelope,
                &opts,
                Codec::message(),
                Codec::<()>::message(),
            )
            .await;
        let selector = self.inner.client.selector();
        match &result {
            // Unreachable, or too slow to take a message: cool it off.
            Err(e) if e.is_transport_failure() || e.code() == 408 => {
                selector.mark(&candidate.node, Outcome::ConnectionFailed);
            }
            _ => selector.mark(&candidate.node, Outcome::Answered),
        }
        result.map(|_| ())
    }

    async fn remove(&self, id: &str) {
        let sub = self
            .inner
            .subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(sub) = sub {
            if let Err(e) = self.inner.registry.deregister(&sub.record).await {
                tracing::warn!(error = %e, "deregistering a subscription failed; it expires after its TTL");
            }
            self.inner
                .client
                .selector()
                .reset(Some(HTTP_BROKER_SERVICE));
        }
    }
}

/// The receiving end: queue the message for its subscription.
async fn accept(weak: &Weak<Inner>, envelope: WireMessage) -> Result<()> {
    let inner = weak
        .upgrade()
        .ok_or_else(|| Error::unavailable(ID, "the broker is shutting down"))?;
    let sub = inner
        .subs
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&envelope.subscription)
        .cloned();
    let Some(sub) = sub else {
        return Err(gone(&envelope.subscription));
    };
    let mut headers = Metadata::new();
    for (k, v) in envelope.headers {
        headers.insert(k, v);
    }
    let message = Envelope {
        headers,
        body: envelope.body,
    };
    sub.intake
        .deliver(Delivery::local(message))
        .await
        .map_err(|_| gone(&envelope.subscription))
}

async fn heartbeat(weak: Weak<Inner>, interval: Duration, ttl: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let records: Vec<registry::Service> = inner
            .subs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|s| s.record.clone())
            .collect();
        for record in records {
            if let Err(e) = inner
                .registry
                .register(&record, RegisterOptions::ttl(ttl))
                .await
            {
                tracing::warn!(error = %e, "refreshing a subscription's registration failed; retrying next interval");
            }
        }
    }
}

impl Broker for HttpBroker {
    fn name(&self) -> &'static str {
        "http"
    }

    fn address(&self) -> String {
        self.inner.options.address.clone()
    }

    fn connect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn disconnect(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let ids: Vec<String> = self
                .inner
                .subs
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .cloned()
                .collect();
            for id in ids {
                self.remove(&id).await;
            }
            if let Some(listening) = self.inner.listening.lock().await.take() {
                listening.heartbeat.abort();
                listening.server.stop().await;
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
            let advertise = self.listen().await?;
            let dead_letter = dead_letters(self, &options);
            let queue = options.queue.clone();
            let accepts = options.accepts.clone();
            let dispatcher = Dispatcher::new(topic, handler, options, dead_letter);
            let id = format!("{HTTP_BROKER_SERVICE}-{}", &new_id()[..16]);
            let mut node = Node::new(&id, advertise)
                .with_metadata("topic", topic)
                .with_metadata("broker", "http");
            if let Some(queue) = &queue {
                node = node.with_metadata("queue", queue.clone());
            }
            if !accepts.is_empty() {
                let names: Vec<&str> = accepts.iter().map(|f| f.name()).collect();
                node = node.with_metadata("codecs", names.join(","));
            }
            let record = registry::Service::new(HTTP_BROKER_SERVICE, "latest").with_node(node);
            self.inner
                .subs
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    id.clone(),
                    Arc::new(Sub {
                        intake: dispatcher.intake(),
                        record: record.clone(),
                    }),
                );
            let ttl = RegisterOptions::ttl(self.inner.options.register_ttl);
            if let Err(e) = self.inner.registry.register(&record, ttl).await {
                self.inner
                    .subs
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                return Err(e);
            }
            self.inner
                .client
                .selector()
                .reset(Some(HTTP_BROKER_SERVICE));
            let counters = dispatcher.counters();
            let broker = self.clone();
            Ok(Subscription::new(
                topic,
                queue,
                counters,
                Box::new(move |grace| {
                    Box::pin(async move {
                        broker.remove(&id).await;
                        dispatcher.drain(grace).await;
                    })
                }),
            ))
        })
    }
}

/// What travels from publisher to subscriber: the subscription it is for, the headers and
/// the body (protobuf, on the `micro.broker.Broker/Deliver` endpoint).
#[derive(Clone, PartialEq, prost::Message)]
struct WireMessage {
    #[prost(string, tag = "1")]
    subscription: String,
    #[prost(map = "string, string", tag = "2")]
    headers: HashMap<String, String>,
    #[prost(bytes = "bytes", tag = "3")]
    body: Bytes,
}

impl crate::codec::Message for WireMessage {
    fn encode_as<B: BufMut>(&self, format: Format, buf: &mut B) -> Result<()> {
        match format {
            Format::Proto => prost::Message::encode(self, buf)
                .map_err(|e| Error::internal(ID, format!("encoding a message failed: {e}"))),
            other => Err(crate::codec::unsupported(other)),
        }
    }

    fn decode_as(format: Format, buf: Bytes) -> Result<Self> {
        match format {
            Format::Proto => prost::Message::decode(buf).map_err(|e| crate::codec::proto_error(&e)),
            other => Err(crate::codec::unsupported(other)),
        }
    }

    fn supports(format: Format) -> bool {
        format == Format::Proto
    }
}
