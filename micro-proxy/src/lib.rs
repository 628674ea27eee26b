//! The micro sidecar (`micro proxy`): an app in any language joins the micro world over
//! plain HTTP, in go-micro's sidecar shape or in Dapr's.
//!
//! | Shape | Path | On micro |
//! |---|---|---|
//! | go-micro | `GET/POST/DELETE /registry` | the registry |
//! | go-micro | `POST /broker?topic=T`, websocket `/broker?topic=T[&queue=Q]` | the broker |
//! | go-micro | `/rpc`, `/[service]/[method]`, `/health` | the gateway's handlers |
//! | Dapr | `/v1.0/invoke/{app-id}/method/{method}` | a call (any HTTP verb) |
//! | Dapr | `/v1.0/state/{store}[/{key}]`, `/bulk` | the store, ETags by compare-and-swap |
//! | Dapr | `/v1.0/publish/{pubsub}/{topic}` | the broker, as CloudEvents 1.0 |
//! | Dapr | `/v1.0/secrets/{store}/{name}`, `/bulk` | environment and file stores |
//! | Dapr | `/v1.0/healthz`, `/v1.0/metadata` | the sidecar |
//!
//! Beside its HTTP API the sidecar serves micro's transports ([`Sidecar::rpc_router`]):
//! calls to the app it fronts arrive there and go on to the app as `POST /{Endpoint}`, and
//! calls of micro clients in proxy mode (`MICRO_PROXY`) go on to the service they name.
//! With an [`App`], the sidecar registers the app while its health URL answers, and asks it
//! `GET /dapr/subscribe` for the topics it wants delivered.

mod app;
mod cloudevents;
mod forward;
mod gomicro;
mod invoke;
mod pubsub;
mod reply;
mod secrets;
mod state;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use micro::broker::SharedBroker;
use micro::store::Store;

pub use app::App;
pub use secrets::SecretStore;

/// The service name the sidecar's own node registers under.
pub const SERVICE_NAME: &str = "micro.proxy";

/// What the sidecar serves and on which engines.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The app the sidecar fronts, if any.
    pub app: Option<App>,
    /// Namespace of go-micro's `/[service]/[method]` paths (default none).
    pub namespace: String,
    /// Dapr state stores: the name in the path and the table of micro's store it uses
    /// (default `statestore` on the table `statestore`).
    pub state_stores: Vec<(String, String)>,
    /// Dapr pub/sub names, all on the sidecar's broker (default `pubsub`).
    pub pubsubs: Vec<String>,
    /// Dapr secret stores (default none).
    pub secret_stores: Vec<SecretStore>,
    /// Deliveries of one event to the app before it is dead-lettered (default 5).
    pub max_deliver: u32,
    /// The first wait before an event is delivered again; it doubles (default 1 s).
    pub retry_backoff: Duration,
    /// Messages a `/broker` websocket subscriber may fall behind before it is disconnected
    /// (default 64).
    pub socket_buffer: usize,
    /// Deadline of calls that set none (default 30 s).
    pub call_timeout: Duration,
    /// Largest request body (default 4 MiB).
    pub max_body: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            app: None,
            namespace: String::new(),
            state_stores: vec![("statestore".into(), "statestore".into())],
            pubsubs: vec!["pubsub".into()],
            secret_stores: Vec::new(),
            max_deliver: 5,
            retry_backoff: Duration::from_secs(1),
            socket_buffer: 64,
            call_timeout: Duration::from_secs(30),
            max_body: 4 << 20,
        }
    }
}

/// The sidecar: its options, engines and the state of the app it fronts.
#[derive(Clone, Debug)]
pub struct Sidecar {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: micro::Client,
    broker: SharedBroker,
    store: Option<Store>,
    options: Options,
    http: forward::HttpClient,
    /// Where micro clients reach the sidecar's node (set by [`Sidecar::start`]).
    node: Mutex<Option<micro::registry::Node>>,
    app: app::State,
}

impl Sidecar {
    /// A sidecar that calls with `client`, publishes and subscribes on `broker` and keeps
    /// Dapr state in `store` (none: the state API answers that no store is configured).
    pub fn new(
        client: micro::Client,
        broker: SharedBroker,
        store: Option<Store>,
        options: Options,
    ) -> Sidecar {
        Sidecar {
            inner: Arc::new(Inner {
                client,
                broker,
                store,
                options,
                http: forward::client(),
                node: Mutex::new(None),
                app: app::State::default(),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The HTTP API: go-micro's sidecar routes and Dapr's, with the gateway's `/rpc`,
    /// `/health` and `/[service]/[method]` behind them.
    pub fn router(&self) -> axum::Router {
        let mut options = micro_gateway::Options::default();
        options.enable_rpc = true;
        options.namespace.clone_from(&self.inner.options.namespace);
        options.call_timeout = self.inner.options.call_timeout;
        options.max_body = self.inner.options.max_body;
        let gateway = micro_gateway::Gateway::new(self.inner.client.clone(), options);
        let limit = axum::extract::DefaultBodyLimit::max(self.inner.options.max_body);
        gomicro::routes()
            .merge(invoke::routes())
            .merge(state::routes())
            .merge(pubsub::routes())
            .merge(secrets::routes())
            .merge(reply::routes())
            .with_state(self.clone())
            .layer(limit)
            .merge(gateway.router())
    }

    /// The endpoints the sidecar serves over micro's transports: every call goes to the app
    /// (when it names no other service) or, from a client in proxy mode, to the service it
    /// names.
    pub fn rpc_router(&self) -> micro::server::Router {
        let sidecar = self.clone();
        micro::server::Router::new().fallback(move |ctx, format, body| {
            let sidecar = sidecar.clone();
            async move { sidecar.take_call(ctx, format, body).await }
        })
    }

    /// Start fronting the app (registering it while healthy, loading its subscriptions),
    /// with `node` the sidecar's own node, where micro clients reach the app.
    pub fn start(&self, node: micro::registry::Node) {
        if let Ok(mut slot) = self.inner.node.lock() {
            *slot = Some(node);
        }
        if let Some(app) = self.inner.options.app.clone() {
            tokio::spawn(app::maintain(self.clone(), app));
        }
    }

    /// Stop fronting the app: take it out of the registry and end its subscriptions.
    pub async fn stop(&self) {
        app::stop(self).await;
    }

    /// Whether the app is registered now (its health URL answered last time).
    pub fn app_registered(&self) -> bool {
        self.inner.app.registered()
    }

    fn node(&self) -> Option<micro::registry::Node> {
        self.inner.node.lock().ok().and_then(|n| n.clone())
    }

    fn store(&self, name: &str) -> Result<Store, Box<axum::response::Response>> {
        let Some((_, table)) = self
            .inner
            .options
            .state_stores
            .iter()
            .find(|(n, _)| n == name)
        else {
            let known: Vec<&str> = self
                .inner
                .options
                .state_stores
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(reply::refuse_dapr(
                http::StatusCode::BAD_REQUEST,
                "ERR_STATE_STORE_NOT_FOUND",
                format!(
                    "state store {name} is not found; this sidecar has {}",
                    list(&known)
                ),
            ));
        };
        let Some(store) = &self.inner.store else {
            return Err(reply::refuse_dapr(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "ERR_STATE_STORES_NOT_CONFIGURED",
                "this sidecar has no store engine (MICRO_STORE)",
            ));
        };
        store.table(table.clone()).map_err(|e| {
            reply::refuse_dapr(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "ERR_STATE_STORE_NOT_CONFIGURED",
                e.detail(),
            )
        })
    }
}

/// `a, b and c`, or `none`.
fn list(names: &[&str]) -> String {
    match names {
        [] => "none".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
