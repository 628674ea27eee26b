//! A service: a server with endpoints, registered in the registry, refreshed while it runs,
//! and stopped gracefully.
//!
//! ```no_run
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloRequest { #[prost(string, tag = "1")] name: String }
//! # impl micro_runtime::codec::ProstSerde for HelloRequest {}
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloResponse { #[prost(string, tag = "1")] msg: String }
//! # impl micro_runtime::codec::ProstSerde for HelloResponse {}
//! use micro_runtime::{Service, server::Router};
//!
//! #[tokio::main]
//! async fn main() -> micro_runtime::Result<()> {
//!     let router = Router::new().unary("Greeter.Hello", |_ctx, req: HelloRequest| async move {
//!         Ok(HelloResponse { msg: format!("Hello {}", req.name) })
//!     });
//!     Service::builder("greeter")
//!         .version("1.0.0")
//!         .handler(router)
//!         .flags(std::env::args().skip(1))
//!         .build()?
//!         .run()
//!         .await
//! }
//! ```
//!
//! # Lifecycle
//!
//! [`Service::run`] listens, registers the node with a TTL, re-registers every interval,
//! and waits for SIGINT or SIGTERM. Then it reports `NOT_SERVING` on the health endpoint,
//! deregisters (so callers stop picking the node), stops accepting calls (new calls on open
//! connections are refused and retried elsewhere by micro clients), and lets in-flight calls
//! finish within the shutdown grace period.
//!
//! # Configuration
//!
//! Settings come from code, then `MICRO_*` environment variables, then flags passed with
//! [`ServiceBuilder::flags`]; later sources win. See [`crate::config`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::broker::{Publisher, SharedBroker, Subscriber, Subscription};
use crate::client::Client;
use crate::config::Options;
use crate::error::{Error, Result};
use crate::health::Health;
use crate::registry::{self, Node, RegisterOptions, SharedRegistry};
use crate::server::{self, Handler, Limits, Router, Table};

const ID: &str = "micro.service";

/// Builds a [`Service`].
#[must_use]
pub struct ServiceBuilder {
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    router: Router,
    options: Options,
    use_env: bool,
    args: Option<Vec<String>>,
    registry: Option<SharedRegistry>,
    broker: Option<SharedBroker>,
    subscribers: Vec<Subscriber>,
    limits: Limits,
}

impl fmt::Debug for ServiceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceBuilder")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("endpoints", &self.router.routes().len())
            .field("subscribers", &self.subscribers.len())
            .finish_non_exhaustive()
    }
}

impl ServiceBuilder {
    /// Subscribe `handler` to `topic`: `async fn(Context, T) -> Result<()>` with a protobuf
    /// message type. The service's instances share the topic's messages (queue group named
    /// after the service); see [`Subscriber`] for broadcast, other groups, serde types and
    /// delivery settings.
    pub fn subscriber<T, F, Fut>(self, topic: impl Into<String>, handler: F) -> Self
    where
        T: crate::codec::Message,
        F: Fn(crate::Context, T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        self.subscribe(Subscriber::new(topic, handler))
    }

    /// Add a configured [`Subscriber`].
    pub fn subscribe(mut self, subscriber: Subscriber) -> Self {
        self.subscribers.push(subscriber);
        self
    }

    /// Use this broker instead of the one the options name (`MICRO_BROKER`, default
    /// `http`).
    pub fn broker(mut self, broker: SharedBroker) -> Self {
        self.broker = Some(broker);
        self
    }

    /// The version published in the registry (default `latest`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Add service metadata published in the registry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Add endpoints: a [`Router`], a [`server::Route`], or a generated server.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.router = self.router.merge(handler);
        self
    }

    /// The address to listen on (`127.0.0.1:0`, `:8080` ...).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        let address = address.into();
        self.options.server_address = match address.strip_prefix(':') {
            Some(port) => format!("0.0.0.0:{port}"),
            None => address,
        };
        self
    }

    /// The address to publish in the registry.
    pub fn advertise(mut self, address: impl Into<String>) -> Self {
        self.options.server_advertise = Some(address.into());
        self
    }

    /// Use this registry instead of the one the options name.
    pub fn registry(mut self, registry: SharedRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// How long the registration lives without a refresh.
    pub fn register_ttl(mut self, ttl: Duration) -> Self {
        self.options.register_ttl = ttl;
        self
    }

    /// How often the registration is refreshed.
    pub fn register_interval(mut self, interval: Duration) -> Self {
        self.options.register_interval = interval;
        self
    }

    /// How long in-flight calls may finish when the service stops.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.options.shutdown_grace = grace;
        self
    }

    /// How long a stopping service keeps serving after it deregistered (default 100 ms).
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.options.shutdown_delay = delay;
        self
    }

    /// The largest message accepted or sent, in bytes (default 4 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.limits.max_recv = bytes;
        self.limits.max_send = bytes;
        self
    }

    /// The most calls served at once on one connection (default 200). Clients see it in the
    /// HTTP/2 settings and queue further calls until one ends; streams opened beyond it are
    /// refused with `REFUSED_STREAM`, which a client may retry safely.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.limits.max_concurrent_streams = streams;
        self
    }

    /// The largest header block (metadata) accepted on an HTTP/2 request, in bytes
    /// (default 16 KiB). Larger requests are answered with HTTP 431 and never reach a handler.
    /// HTTP/1.1 requests keep hyper's limits (100 headers, 400 KiB read buffer).
    pub fn max_header_list_size(mut self, bytes: u32) -> Self {
        self.limits.max_header_list_size = bytes;
        self
    }

    /// Start from these options instead of the defaults (the environment and flags still
    /// apply on top).
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Apply command-line flags (`--registry memory`, `--server_address :9000` ...); pass
    /// `std::env::args().skip(1)`.
    pub fn flags<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Do not read `MICRO_*` environment variables (for tests).
    pub fn ignore_env(mut self) -> Self {
        self.use_env = false;
        self
    }

    /// Check everything and build the service.
    pub fn build(self) -> Result<Service> {
        let mut options = self.options;
        if self.use_env {
            options.apply_env(|key| std::env::var(key).ok())?;
        }
        if let Some(args) = &self.args {
            options.apply_args(args)?;
        }
        let name = options.server_name.clone().unwrap_or(self.name);
        validate_name(&name)?;
        let version = options.server_version.clone().unwrap_or(self.version);
        let table = Table::build(&self.router)?;
        let registry = match self.registry {
            Some(r) => r,
            None => options.registry()?,
        };
        let client = Client::with_options(registry.clone(), options.client_options());
        for subscriber in &self.subscribers {
            crate::broker::validate_topic(subscriber.topic())?;
        }
        let (broker, owns_broker) = match self.broker {
            Some(b) => (b, false),
            None => (options.broker(&registry)?, true),
        };
        Ok(Service {
            broker,
            owns_broker,
            subscribers: self.subscribers,
            name,
            version,
            metadata: self.metadata,
            router: self.router,
            table,
            options,
            registry,
            client,
            limits: self.limits,
        })
    }
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_request(
            ID,
            format!(
                "invalid service name {name:?}: use letters, digits, '.', '-' and '_' (e.g. \"greeter\" or \"acme.greeter\")"
            ),
        ))
    }
}

/// A configured service, ready to run.
pub struct Service {
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    router: Router,
    table: Table,
    options: Options,
    registry: SharedRegistry,
    client: Client,
    broker: SharedBroker,
    owns_broker: bool,
    subscribers: Vec<Subscriber>,
    limits: Limits,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("registry", &self.registry.name())
            .field("broker", &self.broker.name())
            .field("address", &self.options.server_address)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Start building a service registered as `name`.
    pub fn builder(name: impl Into<String>) -> ServiceBuilder {
        ServiceBuilder {
            name: name.into(),
            version: "latest".into(),
            metadata: BTreeMap::new(),
            router: Router::new(),
            options: Options::default(),
            use_env: true,
            args: None,
            registry: None,
            broker: None,
            subscribers: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// The registry name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The resolved options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The registry the service registers in.
    pub fn registry(&self) -> &SharedRegistry {
        &self.registry
    }

    /// A client sharing this service's registry and options.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The broker the service publishes and subscribes with.
    pub fn broker(&self) -> &SharedBroker {
        &self.broker
    }

    /// A publisher of protobuf messages of type `T` on `topic`, on the service's broker.
    /// Clone it into handlers that publish.
    pub fn publisher<T: crate::codec::Message>(&self, topic: impl Into<String>) -> Publisher<T> {
        Publisher::new(self.broker.clone(), topic)
    }

    /// A publisher with an explicit codec, e.g. [`Codec::serde`](crate::codec::Codec::serde).
    pub fn publisher_with<T>(
        &self,
        topic: impl Into<String>,
        codec: crate::codec::Codec<T>,
    ) -> Publisher<T> {
        Publisher::with_codec(self.broker.clone(), topic, codec)
    }

    /// Run until SIGINT or SIGTERM, then stop gracefully.
    pub async fn run(self) -> Result<()> {
        let running = self.start().await?;
        tracing::info!(
            service = %running.record.name,
            version = %running.record.version,
            address = %running.node().address,
            registry = running.registry.name(),
            "service started"
        );
        wait_for_signal().await;
        tracing::info!("stopping: deregistering, then draining in-flight calls");
        running.stop().await
    }

    /// Listen, register and start refreshing the registration; returns a handle to stop.
    pub async fn start(self) -> Result<RunningService> {
        let listener = TcpListener::bind(&self.options.server_address)
            .await
            .map_err(|e| {
                Error::internal(
                    ID,
                    format!(
                        "cannot listen on {}: {e} (set MICRO_SERVER_ADDRESS or --server_address to a free address)",
                        self.options.server_address
                    ),
                )
            })?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::internal(ID, format!("cannot read the listening address: {e}")))?;
        let advertise = match &self.options.server_advertise {
            Some(a) => a.clone(),
            None => advertise_address(local).to_string(),
        };
        let mut node = Node::new(
            format!(
                "{}-{:012x}",
                self.name,
                fastrand::u64(..) & 0xffff_ffff_ffff
            ),
            advertise,
        )
        .with_metadata("protocol", "grpc")
        .with_metadata(
            "transport",
            if self.options.transport == "grpc" {
                "grpc"
            } else {
                "native,grpc"
            },
        )
        .with_metadata("server", "micro")
        .with_metadata("registry", self.registry.name())
        .with_metadata("micro", env!("CARGO_PKG_VERSION"));
        node.metadata.extend(self.options.server_metadata.clone());

        let mut record = registry::Service::new(&self.name, &self.version);
        record.metadata = self.metadata.clone();
        let mut endpoints: Vec<_> = self
            .table
            .routes()
            .filter(|r| !r.internal)
            .map(|r| r.endpoint())
            .collect();
        endpoints.sort_by(|a, b| a.name.cmp(&b.name));
        endpoints.extend(
            self.subscribers
                .iter()
                .map(|s| s.endpoint(Some(&self.name))),
        );
        record.endpoints = endpoints;
        record.nodes = vec![node];

        let mut names: HashSet<String> = self.table.services().iter().cloned().collect();
        names.insert(self.name.clone());
        names.extend(crate::reflection::SERVICES.iter().map(|s| (*s).to_owned()));
        let health = Health::new(names);
        let router = self.router.merge(health.router());
        let descriptors = router
            .routes()
            .iter()
            .filter_map(|r| r.descriptors)
            .collect();
        let services = Table::build(&router)?.services().to_vec();
        let reflection = crate::reflection::Reflection::new(descriptors, services);
        let router = router.merge(reflection.router());
        let table = Table::build(&router)?;
        let shared = Arc::new(server::Shared {
            table,
            service: self.name.as_str().into(),
            limits: self.limits,
            native: self.options.transport != "grpc",
        });
        let server = server::start(listener, shared, self.options.shutdown_grace);

        let mut subscriptions = Vec::new();
        if !self.subscribers.is_empty()
            && let Err(e) = self.broker.connect().await
        {
            server.stop().await;
            return Err(e);
        }
        for subscriber in self.subscribers {
            match subscriber
                .subscribe(self.broker.as_ref(), Some(&self.name))
                .await
            {
                Ok(sub) => subscriptions.push(sub),
                Err(e) => {
                    for sub in subscriptions {
                        sub.unsubscribe_within(Duration::ZERO).await;
                    }
                    server.stop().await;
                    return Err(e);
                }
            }
        }

        let ttl = RegisterOptions::ttl(self.options.register_ttl);
        if let Err(e) = self.registry.register(&record, ttl).await {
            for sub in subscriptions {
                sub.unsubscribe_within(Duration::ZERO).await;
            }
            server.stop().await;
            return Err(e);
        }
        let heartbeat = {
            let registry = self.registry.clone();
            let record = record.clone();
            let interval = self.options.register_interval;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    if let Err(e) = registry.register(&record, ttl).await {
                        tracing::warn!(error = %e, "refreshing the registration failed; retrying next interval");
                    }
                }
            })
        };
        Ok(RunningService {
            record,
            broker: self.broker,
            owns_broker: self.owns_broker,
            subscriptions,
            grace: self.options.shutdown_grace,
            delay: self.options.shutdown_delay,
            registry: self.registry,
            client: self.client,
            local,
            health,
            server: Some(server),
            heartbeat,
        })
    }
}

/// A running service. Stop it with [`RunningService::stop`].
pub struct RunningService {
    record: registry::Service,
    broker: SharedBroker,
    owns_broker: bool,
    subscriptions: Vec<Subscription>,
    grace: Duration,
    delay: Duration,
    registry: SharedRegistry,
    client: Client,
    local: SocketAddr,
    health: Health,
    server: Option<server::Running>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for RunningService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningService")
            .field("name", &self.record.name)
            .field("listening", &self.local)
            .field("node", &self.node().address)
            .finish_non_exhaustive()
    }
}

impl RunningService {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The node as registered (id, advertised address, metadata).
    pub fn node(&self) -> &Node {
        &self.record.nodes[0]
    }

    /// The registry record.
    pub fn record(&self) -> &registry::Service {
        &self.record
    }

    /// A client sharing the service's registry.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The broker the service publishes and subscribes with.
    pub fn broker(&self) -> &SharedBroker {
        &self.broker
    }

    /// The subscriptions of the service's subscribers, in the order they were added.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// Stop: report `NOT_SERVING`, deregister and stop taking messages, keep serving calls
    /// for the shutdown delay, then refuse new calls and let in-flight calls and messages
    /// finish within the grace period.
    pub async fn stop(mut self) -> Result<()> {
        self.health.set_serving(false);
        self.heartbeat.abort();
        let deregistered = self.registry.deregister(&self.record).await;
        let grace = self.grace;
        let drained = futures_util::future::join_all(
            std::mem::take(&mut self.subscriptions)
                .into_iter()
                .map(|s| s.unsubscribe_within(grace)),
        );
        let calls = async {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            if let Some(server) = self.server.take() {
                server.stop().await;
            }
        };
        tokio::join!(drained, calls);
        if self.owns_broker
            && let Err(e) = self.broker.disconnect().await
        {
            tracing::warn!(error = %e, "disconnecting the broker failed");
        }
        deregistered
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// The address to publish for a server listening on `local`: never `0.0.0.0`.
pub(crate) fn advertise_address(local: SocketAddr) -> SocketAddr {
    if !local.ip().is_unspecified() {
        return local;
    }
    SocketAddr::new(
        interface_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        local.port(),
    )
}

/// A private IPv4 address of a non-loopback interface (as go-micro's address extraction).
fn interface_ip() -> Option<IpAddr> {
    let addrs = if_addrs::get_if_addrs().ok()?;
    let v4: Vec<Ipv4Addr> = addrs
        .iter()
        .filter(|a| !a.is_loopback())
        .filter_map(|a| match a.ip() {
            IpAddr::V4(ip) if !ip.is_link_local() => Some(ip),
            _ => None,
        })
        .collect();
    v4.iter()
        .find(|ip| ip.is_private())
        .or_else(|| v4.first())
        .map(|ip| IpAddr::V4(*ip))
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere): what [`Service::run`] waits for, for
/// binaries that [`Service::start`] themselves.
pub async fn shutdown_signal() {
    wait_for_signal().await;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("greeter").is_ok());
        assert!(validate_name("go.micro.srv-greeter_1").is_ok());
        for bad in ["", "has space", "a/b", "ünï"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn advertise_is_never_unspecified() {
        let local: SocketAddr = "0.0.0.0:1234".parse().unwrap();
        let adv = advertise_address(local);
        assert!(!adv.ip().is_unspecified());
        assert_eq!(adv.port(), 1234);
        let fixed: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(advertise_address(fixed), fixed);
    }
}
