//! A service: a server with endpoints, registered in the registry, refreshed while it runs,
//! and stopped gracefully.
//!
//! ```no_run
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloRequest { #[prost(string, tag = "1")] name: String }
//! # impl micro::codec::ProstSerde for HelloRequest {}
//! # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
//! # struct HelloResponse { #[prost(string, tag = "1")] msg: String }
//! # impl micro::codec::ProstSerde for HelloResponse {}
//! use micro::{Service, server::Router};
//!
//! #[tokio::main]
//! async fn main() -> micro::Result<()> {
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
//! [`ServiceBuilder::flags`]; later sources win. See [`crate::options`].
//!
//! # Middleware
//!
//! [`ServiceBuilder::wrap`] and [`ServiceBuilder::layer`] run handler wrappers (or any
//! `tower::Layer`) around every endpoint, [`ServiceBuilder::wrap_call`] around every call
//! of [`Service::client`], and [`ServiceBuilder::wrap_subscriber`] around every delivery to
//! the service's subscribers. See [`crate::middleware`].

mod auth;
mod engines;
mod limits;
mod observe;
mod run;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::{Publisher, SharedBroker, Subscriber, SubscriberWrapper};
use crate::cache::Cache;
use crate::client::{CallNext, CallRequest, CallResponse, CallWrapper, Client};
use crate::config::Config;
use crate::endpoint::Limits;
use crate::error::{BoxError, Error, Result};
use crate::options::Settings;
use crate::plugins::{self, TransportPlan};
use crate::registry::SharedRegistry;
use crate::server::{
    HandlerNext, HandlerRequest, HandlerResponse, HandlerWrapper, IntoRouter, Router,
};
use crate::store::Store;

pub use run::{RunningService, shutdown_signal};

const ID: &str = "micro.service";

/// Builds a [`Service`].
#[must_use]
pub struct ServiceBuilder {
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    router: Router,
    settings: Settings,
    use_env: bool,
    args: Option<Vec<String>>,
    registry: Option<SharedRegistry>,
    broker: Option<SharedBroker>,
    subscribers: Vec<Subscriber>,
    limits: Limits,
    handler_wrappers: Vec<HandlerWrapper>,
    call_wrappers: Vec<CallWrapper>,
    subscriber_wrappers: Vec<SubscriberWrapper>,
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

    /// Add endpoints: a [`Router`], a [`Route`](crate::server::Route), or a generated server.
    pub fn handler(mut self, handler: impl IntoRouter) -> Self {
        self.router = self.router.merge(handler);
        self
    }

    /// The address to listen on (`127.0.0.1:0`, `:8080` ...).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.settings.server_address = crate::net::normalize_address(&address.into());
        self
    }

    /// The address to publish in the registry.
    pub fn advertise(mut self, address: impl Into<String>) -> Self {
        self.settings.server_advertise = Some(address.into());
        self
    }

    /// Use this registry instead of the one the options name.
    pub fn registry(mut self, registry: SharedRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// How long the registration lives without a refresh.
    pub fn register_ttl(mut self, ttl: Duration) -> Self {
        self.settings.register_ttl = ttl;
        self
    }

    /// How often the registration is refreshed.
    pub fn register_interval(mut self, interval: Duration) -> Self {
        self.settings.register_interval = interval;
        self
    }

    /// How long in-flight calls may finish when the service stops.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.settings.shutdown_grace = grace;
        self
    }

    /// How long a stopping service keeps serving after it deregistered (default 100 ms).
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.settings.shutdown_delay = delay;
        self
    }

    /// Start from these settings instead of the defaults (the environment and flags still
    /// apply on top).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Run `wrapper` around every endpoint of the service (outside each route's own
    /// wrappers; the framework's health and reflection endpoints are left alone). Wrappers
    /// run in the order they were added, the first outermost.
    pub fn wrap(mut self, wrapper: HandlerWrapper) -> Self {
        self.handler_wrappers.push(wrapper);
        self
    }

    /// Run a `tower::Layer` around every endpoint of the service, e.g.
    /// `tower::limit::ConcurrencyLimitLayer::new(64)` (see [`ServiceBuilder::wrap`]).
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: tower::Layer<HandlerNext> + Send + Sync + 'static,
        L::Service:
            tower::Service<HandlerRequest, Response = HandlerResponse> + Clone + Send + 'static,
        <L::Service as tower::Service<HandlerRequest>>::Error: Into<BoxError>,
        <L::Service as tower::Service<HandlerRequest>>::Future: Send + 'static,
    {
        self.wrap(HandlerWrapper::layer(layer))
    }

    /// Run `wrapper` around every call made with [`Service::client`].
    pub fn wrap_call(mut self, wrapper: CallWrapper) -> Self {
        self.call_wrappers.push(wrapper);
        self
    }

    /// Run a `tower::Layer` around every call made with [`Service::client`].
    pub fn call_layer<L>(self, layer: L) -> Self
    where
        L: tower::Layer<CallNext> + Send + Sync + 'static,
        L::Service: tower::Service<CallRequest, Response = CallResponse> + Clone + Send + 'static,
        <L::Service as tower::Service<CallRequest>>::Error: Into<BoxError>,
        <L::Service as tower::Service<CallRequest>>::Future: Send + 'static,
    {
        self.wrap_call(CallWrapper::layer(layer))
    }

    /// Run `wrapper` around every delivery to the service's subscribers (outside each
    /// subscriber's own wrappers).
    pub fn wrap_subscriber(mut self, wrapper: SubscriberWrapper) -> Self {
        self.subscriber_wrappers.push(wrapper);
        self
    }

    /// Apply command-line flags (`--registry memory`, `--server_address :9000` ...); pass
    /// `std::env::args().skip(1)`. Flags win over `MICRO_*` variables, which win over code.
    ///
    /// As clap's `parse` does for a binary, [`ServiceBuilder::build`] answers `--help` (`-h`)
    /// by printing the usage and `--version` (`-V`) by printing the name and version, and
    /// exits with status 0. A binary with flags of its own parses them with clap and passes
    /// micro's on (the `clap` feature's [`Flags`](crate::options::Flags)).
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
        let mut settings = self.settings;
        if self.use_env {
            settings.apply_env(engines::env)?;
        }
        if let Some(args) = &self.args {
            if args.iter().any(|a| a == "--version" || a == "-V") {
                answer_and_exit(&format!("{} {}", self.name, self.version));
            }
            if let Err(e) = settings.apply_args(args) {
                if e.is_help() {
                    answer_and_exit(&format!(
                        "{} {}: a micro service\n\nUsage: {} [OPTIONS]\n\n{}",
                        self.name,
                        self.version,
                        program(),
                        e.detail()
                    ));
                }
                return Err(e);
            }
        }
        let name = settings.server_name.clone().unwrap_or(self.name);
        validate_name(&name)?;
        let version = settings.server_version.clone().unwrap_or(self.version);
        // Checks every route now, so a bad one fails the build rather than the start.
        self.router.check()?;
        let mut transport = plugins::transport(&settings.transport)?;
        if transport.listen == plugins::Listen::Tcp
            && let Some(config) = settings.tls.server_config()?
        {
            transport.acceptor = Arc::new(crate::transport::tls::TlsAcceptor::new(
                transport.acceptor,
                config,
            ));
            transport.secure = true;
        }
        let registry = match self.registry {
            Some(r) => r,
            None => settings.registry()?,
        };
        // Client::wrap puts a wrapper outside the others: wrap the last one first, so the
        // first added is outermost, as for handler wrappers.
        let auth = auth::plan(&settings)?;
        let mut client = Client::with_options(registry.clone(), settings.client_options()?);
        if let Some(plan) = &auth {
            client = client.wrap(auth::wrapper(plan.token.clone()));
        }
        let client = self
            .call_wrappers
            .into_iter()
            .rev()
            .fold(client, |client, w| client.wrap(w));
        let tracer = settings.tracer_for(&name)?;
        // Outermost: a call's span covers what the service's own wrappers do.
        let client = match &tracer {
            Some(tracer) => client.traced(tracer),
            None => client,
        };
        for subscriber in &self.subscribers {
            crate::broker::validate_topic(subscriber.topic())?;
        }
        let (broker, owns_broker) = match self.broker {
            Some(b) => (b, false),
            None => (settings.broker(&registry)?, true),
        };
        let store = settings.store(&name)?;
        let cache = settings.cache(&name)?;
        let limits = Limits {
            default_timeout: settings.server_timeout,
            idle_timeout: settings.server_idle_timeout,
            keepalive_interval: settings.server_keepalive,
            keepalive_timeout: settings
                .server_keepalive
                .map_or(self.limits.keepalive_timeout, |every| {
                    every.min(self.limits.keepalive_timeout)
                }),
            max_connections: settings.server_max_connections,
            max_connection_age: settings.server_max_connection_age,
            shed_cpu: settings.server_load_shedding,
            ..self.limits
        };
        let subscribers = self
            .subscribers
            .into_iter()
            .map(|s| {
                s.wrapped_in(&self.subscriber_wrappers)
                    .traced(tracer.as_ref())
            })
            .collect();
        let handler_wrappers =
            observe::wrappers(&settings, &name, tracer.as_ref(), self.handler_wrappers);
        Ok(Service {
            broker,
            owns_broker,
            subscribers,
            name,
            version,
            metadata: self.metadata,
            router: self.router,
            handler_wrappers,
            subscriber_wrappers: self.subscriber_wrappers,
            transport,
            settings,
            registry,
            client,
            limits,
            store,
            cache,
            config: Arc::default(),
            auth,
            tracer,
        })
    }
}

/// A configured service, ready to run.
pub struct Service {
    name: String,
    version: String,
    metadata: BTreeMap<String, String>,
    router: Router,
    handler_wrappers: Vec<HandlerWrapper>,
    subscriber_wrappers: Vec<SubscriberWrapper>,
    transport: TransportPlan,
    settings: Settings,
    registry: SharedRegistry,
    client: Client,
    broker: SharedBroker,
    owns_broker: bool,
    subscribers: Vec<Subscriber>,
    limits: Limits,
    store: Store,
    cache: Cache,
    config: Arc<tokio::sync::OnceCell<Config>>,
    /// Token and rule checks, and this service's own token (`MICRO_AUTH=jwt`).
    auth: Option<auth::Plan>,
    /// Spans of calls and deliveries (`MICRO_TRACER`).
    tracer: Option<crate::trace::Tracer>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("registry", &self.registry.name())
            .field("broker", &self.broker.name())
            .field("address", &self.settings.server_address)
            .field("transport", &self.settings.transport)
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
            settings: Settings::default(),
            use_env: true,
            args: None,
            registry: None,
            broker: None,
            subscribers: Vec::new(),
            limits: Limits::default(),
            handler_wrappers: Vec::new(),
            call_wrappers: Vec::new(),
            subscriber_wrappers: Vec::new(),
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

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
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

    /// The service's store (`MICRO_STORE`, the `file` store by default), on the table named
    /// after the service unless `MICRO_STORE_DATABASE` / `MICRO_STORE_TABLE` say otherwise.
    /// Clone it into handlers.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// The service's configuration: the files of `MICRO_CONFIG_FILE` / `--config_file` in
    /// order, the `global` and the service's own record in the store's `micro/config` table
    /// (what `micro config set` writes), then the environment; loaded on first use, then
    /// watched. An error names the file, line and column, or the record.
    pub async fn config(&self) -> Result<Config> {
        self.config
            .get_or_try_init(|| async {
                Config::for_service(
                    &self.settings.config_file,
                    Some(self.settings.config_store()?),
                    Some(&self.name),
                    &self.settings.config_secrets,
                )
                .await
            })
            .await
            .cloned()
    }

    /// The service's cache (`MICRO_CACHE`, in memory by default), its keys under the
    /// service's name.
    pub fn cache(&self) -> Cache {
        self.cache.clone()
    }

    /// Add endpoints to the built service: handlers that call other services or publish are
    /// made from it ([`Service::client`], [`Service::publisher`]), as in go-micro.
    ///
    /// ```no_run
    /// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    /// # struct Order { #[prost(string, tag = "1")] id: String }
    /// # impl micro::codec::ProstSerde for Order {}
    /// # async fn run() -> micro::Result<()> {
    /// use micro::server::Router;
    ///
    /// let service = micro::Service::builder("orders").build()?;
    /// let client = service.client();
    /// let placed = service.publisher::<Order>("orders.placed");
    /// let router = Router::new().unary("Orders.Place", move |_ctx, order: Order| {
    ///     let (client, placed) = (client.clone(), placed.clone());
    ///     async move {
    ///         // Inside a handler, calls and events carry the caller's deadline and metadata.
    ///         let _: Order = client.call("inventory", "Inventory.Reserve", &order).await?;
    ///         placed.publish(&order).await?;
    ///         Ok(order)
    ///     }
    /// });
    /// service.handler(router).run().await
    /// # }
    /// ```
    #[must_use]
    pub fn handler(mut self, handler: impl IntoRouter) -> Service {
        self.router = self.router.merge(handler);
        self
    }

    /// Add a [`Subscriber`] to the built service (inside the service's subscriber wrappers).
    #[must_use]
    pub fn subscribe(mut self, subscriber: Subscriber) -> Service {
        self.subscribers.push(
            subscriber
                .wrapped_in(&self.subscriber_wrappers)
                .traced(self.tracer.as_ref()),
        );
        self
    }

    /// Subscribe `handler` to `topic` on the built service (see
    /// [`ServiceBuilder::subscriber`]).
    #[must_use]
    pub fn subscriber<T, F, Fut>(self, topic: impl Into<String>, handler: F) -> Service
    where
        T: crate::codec::Message,
        F: Fn(crate::Context, T) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<()>> + Send + 'static,
    {
        self.subscribe(Subscriber::new(topic, handler))
    }

    /// A publisher of messages of type `T` (generated or [`Message`](crate::codec::Message)
    /// types) on `topic`, on the service's broker; events are JSON unless
    /// [`Publisher::format`] says otherwise.
    /// Clone it into handlers that publish.
    pub fn publisher<T: crate::codec::Message>(&self, topic: impl Into<String>) -> Publisher<T> {
        Publisher::new(self.broker.clone(), topic).traced(self.tracer.as_ref())
    }

    /// A publisher with an explicit codec, e.g. [`Codec::serde`](crate::codec::Codec::serde).
    pub fn publisher_with<T>(
        &self,
        topic: impl Into<String>,
        codec: crate::codec::Codec<T>,
    ) -> Publisher<T> {
        Publisher::with_codec(self.broker.clone(), topic, codec).traced(self.tracer.as_ref())
    }
}

/// Print `text` on stdout and exit with status 0: a binary's answer to `--help`.
#[allow(clippy::print_stdout, clippy::exit)]
fn answer_and_exit(text: &str) -> ! {
    println!("{}", text.trim_end());
    std::process::exit(0)
}

/// The binary's name, as it was started.
fn program() -> String {
    std::env::args()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "service".to_owned())
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
}
