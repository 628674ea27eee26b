//! micro's web dashboard (`micro web`): browse, describe and call the services in the
//! registry from a browser, live.
//!
//! - **Services**: every service with its versions, node count and health, updated from the
//!   registry's watch as it changes (server-sent events).
//! - **A service**: nodes with their health, endpoints with request and response shapes,
//!   streaming kind, HTTP bindings, subscribers.
//! - **Calls**: a form generated from the request's shape (or raw JSON), metadata, a node, a
//!   timeout; the reply with its headers, trailers and time; streams of every kind over a
//!   websocket (the gateway's relay).
//! - **Events** (publish, watch a topic live), the **registry** and the **store**, and a
//!   **terminal** with the `micro` command's verbs (services, describe, call, stream,
//!   health, publish).
//! - **Web proxy**: `/{name}/...` goes to the web service `<namespace>.{name}` (the
//!   gateway's `web` handler with [`micro_gateway::Options::web_base_path`]).
//!
//! The page and its JSON API live under one prefix ([`Options::base`], `/_`); the API is
//! described at `{base}/api/openapi.json` (and merged into the gateway's `/openapi.json`
//! when mounted inside `micro api`). Everything the page needs is embedded in the binary.
//!
//! **Safety**: state-changing requests need the page's CSRF token (`X-Micro-Csrf`), and a
//! browser's websocket or change from another site's page (its `Origin`) is refused. On a
//! loopback bind only requests for a loopback host name are answered (DNS rebinding); on any
//! other bind a token is required ([`Options::token`]): the page asks for it once and keeps
//! an HttpOnly session cookie (one per sign-in, 12 hours). Proxied web apps share the
//! dashboard's origin: their pages could use a signed-in dashboard, so register only apps
//! you trust under the web namespace.
//!
//! ```no_run
//! # async fn run() -> micro::Result<()> {
//! let settings = micro::Settings::from_env()?;
//! let client = micro::Client::from_settings(&settings)?;
//! let mut options = micro_web::Options::default();
//! options.loopback = true;
//! let web = micro_web::Web::new(client.clone(), options);
//! let proxy = web.proxy_options();
//! let gateway = micro_gateway::Gateway::new(client, proxy.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8082").await
//!     .map_err(|e| micro::Error::internal("example", e.to_string()))?;
//! micro_gateway::serve_router(web.standalone(&gateway), &proxy, listener, None,
//!     std::future::pending()).await
//! # }
//! ```

mod app;
mod assets;
mod call;
mod enums;
mod events;
mod guard;
mod health;
pub mod openapi;
mod services;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use micro::broker::SharedBroker;
use micro::store::Store;

pub use app::WebService;

/// What the dashboard offers and how it guards itself.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Where the page and its API are mounted (`/_`: the page at `/_/`, the API under
    /// `/_/api/`); `micro web` also serves the page at `/`.
    pub base: String,
    /// The namespace of web services (`micro.web`): `/chat/` reaches `micro.web.chat`, and
    /// the services page lists them as web apps.
    pub namespace: String,
    /// The token a browser (or `Authorization: Bearer`) must show; `None` lets every
    /// request in (loopback binds only: `micro web` refuses any other bind without one).
    pub token: Option<String>,
    /// Answer only requests for `localhost`, `127.0.0.1` or `[::1]` (set on a loopback bind,
    /// so a web page cannot reach the dashboard through a DNS name that points at 127.0.0.1).
    pub loopback: bool,
    /// The broker events are published and watched on; `None`: the events page says so.
    pub broker: Option<SharedBroker>,
    /// The store the store browser reads and writes (any table of its engine); `None`: the
    /// store page says so.
    pub store: Option<Store>,
    /// Deadline of a call that sets none.
    pub call_timeout: Duration,
    /// Deadline of a health check of one node.
    pub health_timeout: Duration,
    /// Largest request body and websocket message, in bytes.
    pub max_body: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base: "/_".to_owned(),
            namespace: "micro.web".to_owned(),
            token: None,
            loopback: false,
            broker: None,
            store: None,
            call_timeout: Duration::from_secs(30),
            health_timeout: Duration::from_secs(1),
            max_body: 4 * 1024 * 1024,
        }
    }
}

/// The dashboard: its options, the registry's services as last seen, and the client it calls
/// with.
#[derive(Clone, Debug)]
pub struct Web {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: micro::Client,
    options: Options,
    /// The CSRF token the page sends back on state-changing requests.
    csrf: String,
    /// Signed-in browsers.
    sessions: guard::Sessions,
    services: Arc<services::Live>,
}

impl Web {
    /// A dashboard that calls services with `client` and finds them in its registry.
    pub fn new(client: micro::Client, mut options: Options) -> Web {
        options.base = normalize_base(&options.base);
        options.namespace = options.namespace.trim_end_matches('.').to_owned();
        Web {
            inner: Arc::new(Inner {
                services: Arc::new(services::Live::new()),
                client,
                options,
                csrf: guard::random_hex(),
                sessions: guard::Sessions::default(),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The client calls go through.
    pub fn client(&self) -> &micro::Client {
        &self.inner.client
    }

    /// The options of the gateway [`Web::standalone`] proxies web apps with: the `web`
    /// handler in [`Options::namespace`], the service's prefix stripped and named in
    /// `X-Micro-Web-Base-Path`, and the apps' own cookies and `Authorization` passed on (the
    /// dashboard's own session cookie and token are taken out first).
    pub fn proxy_options(&self) -> micro_gateway::Options {
        let mut proxy = micro_gateway::Options::default();
        proxy.handler = micro_gateway::HandlerKind::Web;
        proxy.namespace = self.inner.options.namespace.clone();
        proxy.web_base_path = true;
        proxy.call_timeout = self.inner.options.call_timeout;
        proxy.forward_headers = vec!["cookie".to_owned(), "authorization".to_owned()];
        proxy
    }

    /// The page and its JSON API, relative to [`Options::base`] (nest it there).
    fn dashboard(&self) -> Router {
        Router::new()
            .route("/", get(assets::index))
            .route("/assets/{*path}", get(assets::file))
            .route("/api/session", get(guard::session))
            .route("/api/login", post(guard::login))
            .route("/api/logout", post(guard::logout))
            .route("/api/services", get(services::list))
            .route("/api/services/{name}", get(services::describe))
            .route("/api/watch", get(services::watch))
            .route("/api/health/{name}", get(health::service))
            .route("/api/registry", get(services::registry))
            .route("/api/call", post(call::unary))
            .route("/api/stream", get(call::stream))
            .route("/api/publish", post(events::publish))
            .route("/api/topics/{topic}/watch", get(events::watch))
            .route("/api/store", get(store::list))
            .route(
                "/api/store/record",
                get(store::read).put(store::write).delete(store::delete),
            )
            .route("/api/openapi.json", get(openapi::serve))
            .fallback(guard::not_found)
            .layer(axum::extract::DefaultBodyLimit::max(
                self.inner.options.max_body,
            ))
            .with_state(self.clone())
    }

    /// `micro web`: the page at `/` and under [`Options::base`], and every other path to
    /// `gateway` (a `web`-handler gateway: the web proxy). The token wall covers the
    /// proxied apps too.
    pub fn standalone(&self, gateway: &micro_gateway::Gateway) -> Router {
        self.services().start(self);
        Router::new()
            .route("/", get(assets::index))
            .route(&format!("{}/", self.inner.options.base), get(assets::index))
            .with_state(self.clone())
            .nest(&self.inner.options.base, self.dashboard())
            .fallback_service(gateway.router())
            .layer(middleware::from_fn_with_state(
                guard::Scope::Everything(self.clone()),
                guard::guard,
            ))
    }

    /// `micro api --web`: the dashboard under [`Options::base`] beside `gateway`'s routes,
    /// which it leaves as they are (the gateway guards its own).
    pub fn mounted(&self, gateway: &micro_gateway::Gateway) -> Router {
        self.services().start(self);
        Router::new()
            // `nest` answers `{base}` itself but not `{base}/`, where the page is.
            .route(&format!("{}/", self.inner.options.base), get(assets::index))
            .with_state(self.clone())
            .nest(&self.inner.options.base, self.dashboard())
            .fallback_service(gateway.router())
            .layer(middleware::from_fn_with_state(
                guard::Scope::Dashboard(self.clone()),
                guard::guard,
            ))
    }

    fn services(&self) -> &Arc<services::Live> {
        &self.inner.services
    }

    fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    fn upgrade(weak: &std::sync::Weak<Inner>) -> Option<Web> {
        weak.upgrade().map(|inner| Web { inner })
    }
}

/// A new random token for the dashboard (64 hex digits): what `micro web` prints when it
/// listens beyond loopback and `MICRO_WEB_TOKEN` is unset.
pub fn new_token() -> String {
    guard::random_hex()
}

/// `/_`, `_/`, `/_/` → `/_`; empty → `/_`.
fn normalize_base(base: &str) -> String {
    let trimmed = base.trim_matches('/');
    if trimmed.is_empty() {
        "/_".to_owned()
    } else {
        format!("/{trimmed}")
    }
}

/// The dashboard's error answer: go-micro's fields under `error`.
pub(crate) fn error(status: http::StatusCode, detail: impl AsRef<str>) -> axum::response::Response {
    let body = serde_json::json!({"error": {
        "id": "micro.web",
        "code": status.as_u16(),
        "detail": detail.as_ref(),
        "status": status.canonical_reason().unwrap_or("Error"),
    }});
    json(status, &body)
}

/// A JSON answer.
pub(crate) fn json(status: http::StatusCode, body: &serde_json::Value) -> axum::response::Response {
    micro_gateway::reply::json(status, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_one_leading_slash_and_no_trailing_one() {
        assert_eq!(normalize_base("/_"), "/_");
        assert_eq!(normalize_base("_/"), "/_");
        assert_eq!(normalize_base("/dash/"), "/dash");
        assert_eq!(normalize_base(""), "/_");
        assert_eq!(normalize_base("/"), "/_");
    }
}
