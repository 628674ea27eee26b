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
mod guard;
mod invoke;
mod options;
mod pubsub;
mod reply;
mod secrets;
mod state;

use std::sync::{Arc, Mutex};

use micro::broker::SharedBroker;
use micro::store::Store;

pub use options::{App, Options};
pub use secrets::SecretStore;

/// The service name the sidecar's own node registers under.
pub const SERVICE_NAME: &str = "micro.proxy";

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
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                guard::guard,
            ))
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
            let task = tokio::spawn(app::maintain(self.clone(), app));
            self.inner.app.set_task(task);
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
