//! The micro API gateway: HTTP/JSON in front of every service in the registry.
//!
//! A request goes, in order, to:
//!
//! 1. the gateway's own routes: `/health`, `/openapi.json`, `/rpc` (with
//!    [`Options::enable_rpc`]), `/metrics` (with [`Options::metrics`]) and `/` (its
//!    version);
//! 2. a `google.api.http` rule a service registered (with the default `meta` handler):
//!    path variables, query parameters and the body become the request, `response_body`
//!    picks the reply;
//! 3. go-micro v5's simple form `/api/{service}/{Service.Method}`;
//! 4. the handler of [`Options::handler`] with the service and endpoint its resolver names
//!    (`/greeter/hello` → `greeter` `Greeter.Hello`).
//!
//! Calls go through the runtime's [`micro::Client`] (selector, retries, deadlines). Unary
//! replies are JSON; server streams are newline-delimited JSON, or server-sent events with
//! `Accept: text/event-stream`; client and bidirectional streams run over a websocket (one
//! JSON message per frame). Errors are go-micro's `{"id","code","detail","status"}` with the
//! HTTP status grpc-gateway gives their gRPC code.
//!
//! ```no_run
//! # async fn run() -> micro::Result<()> {
//! let settings = micro::Settings::from_env()?;
//! let client = micro::Client::from_settings(&settings)?;
//! let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await
//!     .map_err(|e| micro::Error::internal("example", e.to_string()))?;
//! gateway.serve(listener, std::future::pending()).await
//! # }
//! ```

mod body;
mod handlers;
pub mod openapi;
mod options;
pub mod reply;
pub mod resolve;
pub mod routes;
mod serve;
pub mod template;
pub mod tls;
pub mod transcode;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use micro::broker::SharedBroker;
use tokio::sync::Semaphore;

pub use handlers::proxy::WEB_BASE_PATH;
pub use handlers::stream::relay as relay_websocket;
pub use options::{HandlerKind, Options, ResolverKind};
pub use serve::serve_router;

/// The gateway: its options, the live route table and what it calls services with.
#[derive(Clone, Debug)]
pub struct Gateway {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: micro::Client,
    broker: std::sync::OnceLock<SharedBroker>,
    options: Options,
    table: routes::Shared,
    permits: Arc<Semaphore>,
    proxy: handlers::proxy::HttpClient,
    maintained: std::sync::Once,
}

impl Gateway {
    /// A gateway that calls services with `client` and finds them in its registry.
    pub fn new(client: micro::Client, options: Options) -> Gateway {
        // With tracing on, each call gets a client span under the request's.
        let client = match &options.tracer {
            Some(tracer) => client.traced(tracer),
            None => client,
        };
        let permits = Arc::new(Semaphore::new(options.max_concurrent.max(1)));
        Gateway {
            inner: Arc::new(Inner {
                client,
                broker: std::sync::OnceLock::new(),
                options,
                table: Arc::new(RwLock::new(Arc::new(routes::Table::default()))),
                permits,
                proxy: handlers::proxy::client(),
                maintained: std::sync::Once::new(),
            }),
        }
    }

    /// Publish events (the `event` handler) on `broker` (the first broker given stays).
    #[must_use]
    pub fn with_broker(self, broker: SharedBroker) -> Gateway {
        let _ = self.inner.broker.set(broker);
        self
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The client calls go through.
    pub fn client(&self) -> &micro::Client {
        &self.inner.client
    }

    /// The current route table.
    pub fn table(&self) -> Arc<routes::Table> {
        self.inner
            .table
            .read()
            .map(|t| t.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Start keeping the route table current from the registry (once; [`Gateway::serve`]
    /// and [`Gateway::router`] call it).
    pub fn start(&self) {
        self.inner.maintained.call_once(|| {
            let registry = self.inner.client.selector().registry().clone();
            let table = self.inner.table.clone();
            tokio::spawn(routes::maintain(registry, table, Duration::from_secs(10)));
        });
    }

    /// Load the route table once now (tests and tools that need it current before serving).
    pub async fn refresh(&self) -> micro::Result<()> {
        let registry = self.inner.client.selector().registry().clone();
        let records = routes::records(&registry).await?;
        let table = Arc::new(routes::Builder::default().build(&records));
        if let Ok(mut slot) = self.inner.table.write() {
            *slot = table;
        }
        Ok(())
    }

    /// The gateway as an axum router (to mount beside other routes).
    pub fn router(&self) -> axum::Router {
        self.start();
        handlers::router(self.clone())
    }

    /// Serve on `listener` until `shutdown` completes, then finish the requests in flight.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> micro::Result<()> {
        serve::serve(self, listener, None, shutdown).await
    }

    /// [`Gateway::serve`] over TLS.
    pub async fn serve_tls(
        self,
        listener: tokio::net::TcpListener,
        tls: tls::TlsAcceptor,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> micro::Result<()> {
        serve::serve(self, listener, Some(tls), shutdown).await
    }
}
