//! The platform as a service: `micro server` serves a registry, a broker and a store to
//! micro services elsewhere, and the `service` engines use them
//! (`MICRO_REGISTRY=service MICRO_REGISTRY_ADDRESS=host:port`, and the same for
//! `MICRO_BROKER` and `MICRO_STORE`), so that machines that share nothing else share them
//! through one address (go-micro's "service" registry, broker and store plugins). Config
//! records live in the store, so a service on the service store reads its config from
//! the server too.
//!
//! The wire is micro's own: the service [`SERVICE`] with JSON bodies on either transport.
//!
//! | Endpoint | What it does |
//! |---|---|
//! | `Registry.Register`, `Registry.Deregister`, `Registry.GetService`, `Registry.ListServices` | the registry's operations |
//! | `Registry.Watch` (server stream) | registry events, until the caller leaves |
//! | `Broker.Publish` | publish a message (headers and a base64 body) on a topic |
//! | `Broker.Subscribe` (server stream) | a first empty answer once subscribed, then the topic's messages for the caller's queue group (or all of them, with no group) |
//! | `Store.Read`, `Store.List`, `Store.Write`, `Store.Delete`, `Store.Swap` | the store's operations on a database and table |
//!
//! What the server keeps them in is its own settings: the local registry, messages in
//! memory and the file store by default; etcd, NATS, Redis, PostgreSQL ... when its
//! `MICRO_*` says.
//!
//! ```no_run
//! # async fn demo() -> micro_runtime::Result<()> {
//! use std::sync::Arc;
//! use micro_runtime::broker::MemoryBroker;
//! use micro_runtime::platform::{self, ServiceRegistry};
//! use micro_runtime::registry::{MemoryRegistry, Registry};
//! use micro_runtime::store::MemoryStore;
//!
//! // The server side: the routes over any registry, broker and store.
//! let (router, closer) = platform::router(
//!     Arc::new(MemoryRegistry::new()),
//!     Arc::new(MemoryBroker::new()),
//!     Arc::new(MemoryStore::new()),
//! );
//! // A service elsewhere: the registry at the server's address.
//! let registry = ServiceRegistry::new("198.51.100.1:8000")?;
//! let services = registry.list_services().await?;
//! # let _ = (router, closer, services); Ok(()) }
//! ```

mod broker;
mod registry;
mod remote;
mod store;

pub use broker::{MAX_MESSAGE, SUBSCRIBER_QUEUE, SUBSCRIBER_QUEUE_BYTES, ServiceBroker};
pub use registry::ServiceRegistry;
pub use store::{ADMIN_SCOPE, ServiceStore};

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::broker::SharedBroker;
use crate::codec::Codec;
use crate::context::Context;
use crate::endpoint::{Route, Router};
use crate::error::Result;
use crate::registry::SharedRegistry;
use crate::store::SharedStore;

/// The name `micro server` answers under.
pub const SERVICE: &str = "micro.server";

/// Where `micro server` listens unless told otherwise (go-micro v3's registry port).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";

/// An empty answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Empty {}

/// A unary JSON route whose handler gets `engine` (the registry, broker or store served)
/// and the call's context.
fn unary<E, Req, Resp, F, Fut>(name: &str, engine: &E, handler: F) -> Route
where
    E: Clone + Send + Sync + 'static,
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
    F: Fn(E, Context, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
{
    let r = engine.clone();
    Route::unary_with(
        name,
        Codec::serde(),
        Codec::serde(),
        move |ctx: Context, req| handler(r.clone(), ctx, req),
    )
}

/// Ends the platform's open streams (registry watches, subscriptions) when the server
/// stops, so that it need not wait out its grace period for callers that never hang up;
/// their engines connect again to the next server.
#[derive(Clone, Debug)]
#[must_use = "keep the closer and call close() when the server stops"]
pub struct Closer(watch::Sender<bool>);

impl Closer {
    /// End every open stream now, and every one opened later at once.
    pub fn close(&self) {
        self.0.send_replace(true);
    }
}

/// Resolves once `closing` says so; never when its [`Closer`] was dropped unused.
async fn closed(mut closing: watch::Receiver<bool>) {
    if closing.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The routes of `micro server`: `registry`, `broker` and `store` served as [`SERVICE`],
/// and what ends their streams.
pub fn router(
    registry: SharedRegistry,
    broker: SharedBroker,
    store: SharedStore,
) -> (Router, Closer) {
    let (closer, closing) = watch::channel(false);
    let router = registry::routes(Router::new(), &registry, &closing);
    let router = broker::routes(router, &broker, &closing);
    (store::routes(router, &store), Closer(closer))
}
