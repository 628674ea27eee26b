//! A service's lifecycle, one function per step: listen, describe the node, serve, subscribe,
//! register and keep the registration fresh; then stop in the reverse order.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use super::{ID, Service};
use crate::broker::{SharedBroker, Subscriber, Subscription};
use crate::client::Client;
use crate::endpoint::{Dispatch, RouteTable};
use crate::error::{Error, Result};
use crate::health::{Health, REGISTRY};
use crate::plugins::Listen;
use crate::reflection::{self, Reflection};
use crate::registry::{self, Node, RegisterOptions, SharedRegistry};
use crate::server::{self, Router, ServerHandle};
use crate::transport::Listener;
use crate::transport::memory::{self, MemoryListener};

impl Service {
    /// Run until SIGINT or SIGTERM, then stop gracefully.
    pub async fn run(self) -> Result<()> {
        let running = self.start().await?;
        tracing::info!(
            service = %running.record.name,
            version = %running.record.version,
            address = %running.node().address,
            transport = %running.node().metadata.get("transport").map_or("", String::as_str),
            registry = running.registry.name(),
            "service started"
        );
        shutdown_signal().await;
        tracing::info!("stopping: deregistering, then draining in-flight calls");
        running.stop().await
    }

    /// Listen, register and start refreshing the registration; returns a handle to stop.
    pub async fn start(self) -> Result<RunningService> {
        // Endpoints and subscribers may have been added after build.
        self.router.check()?;
        for subscriber in &self.subscribers {
            crate::broker::validate_topic(subscriber.topic())?;
        }
        let metrics = match &self.settings.metrics_address {
            Some(address) => Some(crate::metrics::Exporter::start(address).await?),
            None => None,
        };
        let (gate, rules_follower) = match &self.auth {
            Some(plan) => {
                let (gate, follower) = super::auth::start(plan, &self.store).await?;
                (Some(gate), Some(follower))
            }
            None => (None, None),
        };
        let (listener, local, advertise) = self.listen().await?;
        let record = self.record(advertise);
        if let Some(tracer) = &self.tracer {
            tracer.set_node(&record.nodes[0].id);
        }
        let (dispatch, health) = self.dispatch(gate)?;
        let server = server::start(
            listener,
            self.transport.acceptor.clone(),
            dispatch,
            self.settings.shutdown_grace,
        );
        let subscriptions = match subscribe(&self.broker, self.subscribers, &self.name).await {
            Ok(subscriptions) => subscriptions,
            Err(e) => {
                server.stop().await;
                return Err(e);
            }
        };
        let ttl = RegisterOptions::ttl(self.settings.register_ttl);
        if let Err(e) = self.registry.register(&record, ttl).await {
            unsubscribe_now(subscriptions).await;
            server.stop().await;
            return Err(e);
        }
        let heartbeat = tokio::spawn(heartbeat(
            self.registry.clone(),
            record.clone(),
            ttl,
            self.settings.register_interval,
            health.clone(),
        ));
        Ok(RunningService {
            record,
            broker: self.broker,
            owns_broker: self.owns_broker,
            subscriptions,
            grace: self.settings.shutdown_grace,
            delay: self.settings.shutdown_delay,
            registry: self.registry,
            client: self.client,
            local,
            health,
            server: Some(server),
            heartbeat,
            metrics,
            tracer: self.tracer,
            _rules_follower: rules_follower,
        })
    }

    /// Step 1: listen where the transport says (a TCP port, or a name in this process), and
    /// choose the address to publish.
    async fn listen(&self) -> Result<(Listener, Option<SocketAddr>, String)> {
        match self.transport.listen {
            Listen::Memory => {
                if self.registry.name() != "memory" {
                    tracing::warn!(
                        registry = self.registry.name(),
                        "the memory transport is reachable from this process only, but the registry is shared: other processes will find this node and fail to reach it; set MICRO_REGISTRY=memory"
                    );
                }
                let listener = MemoryListener::bind(&memory::address_for(&self.name))?;
                let name = listener.name().to_owned();
                Ok((Listener::Memory(listener), None, name))
            }
            Listen::Tcp => {
                let address = &self.settings.server_address;
                let listener = TcpListener::bind(address).await.map_err(|e| {
                    Error::internal(
                        ID,
                        format!(
                            "cannot listen on {address}: {e} (set MICRO_SERVER_ADDRESS or --server_address to a free address)"
                        ),
                    )
                })?;
                let local = listener.local_addr().map_err(|e| {
                    Error::internal(ID, format!("cannot read the listening address: {e}"))
                })?;
                let advertise = match &self.settings.server_advertise {
                    Some(a) => crate::net::advertise_with_port(a, local.port()).map_err(|why| {
                        Error::bad_request(
                            ID,
                            format!("MICRO_SERVER_ADVERTISE (--server_advertise): {why}"),
                        )
                    })?,
                    None => crate::net::advertise_address(local).to_string(),
                };
                Ok((Listener::Tcp(listener), Some(local), advertise))
            }
        }
    }

    /// Step 2: the registry record: the service, its endpoints and subscribers, and this
    /// node with its metadata.
    fn record(&self, advertise: String) -> registry::Service {
        let mut node = Node::new(
            format!(
                "{}-{:012x}",
                self.name,
                fastrand::u64(..) & 0xffff_ffff_ffff
            ),
            advertise,
        )
        .with_metadata("protocol", "grpc")
        .with_metadata("transport", self.transport.advertise)
        .with_metadata("server", "micro")
        .with_metadata("registry", self.registry.name())
        .with_metadata("broker", self.broker.name())
        .with_metadata("micro", env!("CARGO_PKG_VERSION"));
        if self.transport.secure {
            node.metadata.insert("secure".into(), "true".into());
        }
        node.metadata.extend(self.settings.server_metadata.clone());

        let mut record = registry::Service::new(&self.name, &self.version);
        record.metadata = self.metadata.clone();
        let mut endpoints: Vec<_> = self
            .router
            .routes()
            .iter()
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
        record
    }

    /// Step 3: the route table the transports serve: the service's endpoints (with its
    /// wrappers) plus the framework's health and reflection services.
    fn dispatch(&self, gate: Option<Arc<crate::auth::Gate>>) -> Result<(Arc<Dispatch>, Health)> {
        let mut names: HashSet<String> = self.router.service_names().into_iter().collect();
        names.insert(self.name.clone());
        names.extend(reflection::SERVICES.iter().map(|s| (*s).to_owned()));
        let health = Health::new(names);
        let router = self.router.clone().merge(health.router());
        // Reflection answers for the messages of routes and of protobuf subscribers.
        let descriptors = router
            .routes()
            .iter()
            .filter_map(|r| r.descriptors)
            .chain(self.subscribers.iter().filter_map(Subscriber::descriptors))
            .collect();
        let services = router.service_names();
        let router: Router = router.merge(Reflection::new(descriptors, services).router());
        let dispatch = Arc::new(
            Dispatch::new(
                RouteTable::build(&router)?,
                &self.name,
                self.limits,
                &self.handler_wrappers,
            )
            .with_gate(gate),
        );
        Ok((dispatch, health))
    }
}

/// Step 4: subscribe every subscriber (connecting the broker first, to fail fast); on an
/// error, undo what was done.
async fn subscribe(
    broker: &SharedBroker,
    subscribers: Vec<Subscriber>,
    service: &str,
) -> Result<Vec<Subscription>> {
    if subscribers.is_empty() {
        return Ok(Vec::new());
    }
    broker.connect().await?;
    let mut subscriptions = Vec::new();
    for subscriber in subscribers {
        match subscriber.subscribe(broker.as_ref(), Some(service)).await {
            Ok(sub) => subscriptions.push(sub),
            Err(e) => {
                unsubscribe_now(subscriptions).await;
                return Err(e);
            }
        }
    }
    Ok(subscriptions)
}

async fn unsubscribe_now(subscriptions: Vec<Subscription>) {
    for sub in subscriptions {
        sub.unsubscribe_within(Duration::ZERO).await;
    }
}

/// Step 5: register again every interval, so the entry outlives its TTL while the node runs.
/// While that fails (the registry is down, or lost the entry), health's [`REGISTRY`]
/// component is `NOT_SERVING` and the registration is retried every second; the first success
/// is logged and turns it back to `SERVING`.
async fn heartbeat(
    registry: SharedRegistry,
    record: registry::Service,
    ttl: RegisterOptions,
    interval: Duration,
    health: Health,
) {
    let retry = interval.min(Duration::from_secs(1));
    let mut failing_since: Option<Instant> = None;
    loop {
        tokio::time::sleep(if failing_since.is_some() {
            retry
        } else {
            interval
        })
        .await;
        match registry.register(&record, ttl).await {
            Ok(()) => {
                if let Some(since) = failing_since.take() {
                    health.set_ready(REGISTRY, true);
                    tracing::info!(
                        registry = registry.name(),
                        service = %record.name,
                        node = %record.nodes[0].id,
                        down_for = ?since.elapsed(),
                        "registered again"
                    );
                }
            }
            Err(e) => {
                if failing_since.is_none() {
                    failing_since = Some(Instant::now());
                    health.set_ready(REGISTRY, false);
                    tracing::warn!(
                        registry = registry.name(),
                        error = %e,
                        "refreshing the registration failed; health reports micro.registry NOT_SERVING and the registration is retried every {retry:?}"
                    );
                } else {
                    tracing::debug!(error = %e, "registering again failed");
                }
                crate::metrics::heartbeat_failed(&record.name, registry.name());
            }
        }
    }
}

/// How long a stopping service waits for its last spans to be exported.
const FLUSH_WITHIN: Duration = Duration::from_secs(5);

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
    local: Option<SocketAddr>,
    health: Health,
    server: Option<ServerHandle>,
    heartbeat: tokio::task::JoinHandle<()>,
    /// The `/metrics` endpoint (`MICRO_METRICS_ADDRESS`).
    metrics: Option<crate::metrics::Exporter>,
    /// Exports the service's spans (`MICRO_TRACER`).
    tracer: Option<crate::trace::Tracer>,
    /// Reloads the auth rules while the service runs.
    _rules_follower: Option<crate::auth::Following>,
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
    /// The address the server listens on; `None` on the `memory` transport, which listens on
    /// a name in this process (see [`RunningService::node`]).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local
    }

    /// Where Prometheus metrics are served (`http://ADDR/metrics`), when
    /// `MICRO_METRICS_ADDRESS` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(crate::metrics::Exporter::addr)
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
        self.metrics.take();
        if let Some(tracer) = &self.tracer {
            // The spans of the last calls go out before the process ends.
            tracer.flush(FLUSH_WITHIN).await;
        }
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

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere): what [`Service::run`] waits for, for
/// binaries that [`Service::start`] themselves.
pub async fn shutdown_signal() {
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
