//! The platform as a service: `micro server` serves a registry to micro services elsewhere,
//! and the `service` registry engine (`MICRO_REGISTRY=service`,
//! `MICRO_REGISTRY_ADDRESS=host:port`) uses it, so that machines that share nothing else
//! share one registry through one address (go-micro's "service" registry plugin).
//!
//! The wire is micro's own: the service [`SERVICE`] with endpoints `Registry.Register`,
//! `Registry.Deregister`, `Registry.GetService`, `Registry.ListServices` and the server
//! stream `Registry.Watch`, JSON bodies, on either transport. What the server keeps them in
//! is its own registry (local files by default; etcd or NATS when its `MICRO_*` says).
//!
//! ```no_run
//! # async fn demo() -> micro_runtime::Result<()> {
//! use std::sync::Arc;
//! use micro_runtime::platform::{self, ServiceRegistry};
//! use micro_runtime::registry::{MemoryRegistry, Registry};
//!
//! // The server side: the routes over any registry.
//! let router = platform::router(Arc::new(MemoryRegistry::new()));
//! // A service elsewhere: the registry at the server's address.
//! let registry = ServiceRegistry::new("198.51.100.1:8000")?;
//! let services = registry.list_services().await?;
//! # let _ = (router, services); Ok(()) }
//! ```

mod registry;

pub use registry::ServiceRegistry;

use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::codec::Codec;
use crate::context::Context;
use crate::endpoint::{Route, Router};
use crate::error::{Error, Result};
use crate::registry::{Event, RegisterOptions, Service, SharedRegistry, WatchOptions};
use crate::stream::StreamSender;

/// The name `micro server` answers under.
pub const SERVICE: &str = "micro.server";

/// Where `micro server` listens unless told otherwise (go-micro v3's registry port).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8000";

const ID: &str = "micro.server";

/// `Registry.Register`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RegisterRequest {
    pub(crate) service: Service,
    /// The entry's TTL in milliseconds; none keeps it until deregistered.
    #[serde(default)]
    pub(crate) ttl_ms: Option<u64>,
}

/// `Registry.Deregister`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DeregisterRequest {
    pub(crate) service: Service,
}

/// `Registry.GetService`.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct GetRequest {
    pub(crate) name: String,
}

/// `Registry.ListServices` (no fields).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ListRequest {}

/// `Registry.Watch`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct WatchRequest {
    #[serde(default)]
    pub(crate) service: Option<String>,
}

/// The services `GetService` and `ListServices` answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ServicesResponse {
    pub(crate) services: Vec<Service>,
}

/// An empty answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Empty {}

/// The longest TTL a client may ask for (a day): past it, a typo would keep a dead node.
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// The longest name or node id kept (they become keys and file names in engines).
const MAX_NAME: usize = 255;

/// The largest record kept, encoded (the local registry reads no bigger entry).
const MAX_RECORD: usize = 1 << 20;

/// The shortest TTL kept: a shorter one would expire before the next refresh could land.
const MIN_TTL: Duration = Duration::from_secs(1);

fn check_service(service: &Service, registering: bool) -> Result<()> {
    if service.name.is_empty() || service.name.len() > MAX_NAME {
        return Err(Error::bad_request(
            ID,
            format!(
                "a service name must hold 1 to {MAX_NAME} bytes, not {}",
                service.name.len()
            ),
        ));
    }
    if service.nodes.is_empty() {
        return Err(Error::bad_request(
            ID,
            format!("service {} has no node", service.name),
        ));
    }
    for node in &service.nodes {
        if node.id.is_empty() || node.id.len() > MAX_NAME {
            return Err(Error::bad_request(
                ID,
                format!(
                    "a node of {} at {:?} needs an id of 1 to {MAX_NAME} bytes",
                    service.name, node.address
                ),
            ));
        }
        if registering && node.address.is_empty() {
            return Err(Error::bad_request(
                ID,
                format!("node {} of {} has no address", node.id, service.name),
            ));
        }
    }
    let size = serde_json::to_vec(service)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_RECORD {
        return Err(Error::new(
            ID,
            format!(
                "the record of {} is {size} bytes; the limit is {MAX_RECORD}",
                service.name
            ),
            413,
        ));
    }
    Ok(())
}

/// A unary JSON route whose handler gets the registry.
fn unary<Req, Resp, F, Fut>(name: &str, registry: &SharedRegistry, handler: F) -> Route
where
    Req: Serialize + DeserializeOwned + Send + 'static,
    Resp: Serialize + DeserializeOwned + Send + 'static,
    F: Fn(SharedRegistry, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp>> + Send + 'static,
{
    let r = registry.clone();
    Route::unary_with(
        name,
        Codec::serde(),
        Codec::serde(),
        move |_: Context, req| handler(r.clone(), req),
    )
}

async fn register(r: SharedRegistry, req: RegisterRequest) -> Result<Empty> {
    check_service(&req.service, true)?;
    let options = match req.ttl_ms {
        Some(ms) => RegisterOptions::ttl(Duration::from_millis(ms).clamp(MIN_TTL, MAX_TTL)),
        None => RegisterOptions::default(),
    };
    r.register(&req.service, options).await?;
    Ok(Empty {})
}

async fn deregister(r: SharedRegistry, req: DeregisterRequest) -> Result<Empty> {
    check_service(&req.service, false)?;
    r.deregister(&req.service).await?;
    Ok(Empty {})
}

async fn get_service(r: SharedRegistry, req: GetRequest) -> Result<ServicesResponse> {
    let services = r.get_service(&req.name).await?;
    Ok(ServicesResponse { services })
}

async fn list_services(r: SharedRegistry, _: ListRequest) -> Result<ServicesResponse> {
    let services = r.list_services().await?;
    Ok(ServicesResponse { services })
}

/// The routes of `micro server`'s registry over `registry`.
pub fn router(registry: SharedRegistry) -> Router {
    let r = registry.clone();
    let watch = Route::server_stream_with(
        "Registry.Watch",
        Codec::serde(),
        Codec::serde(),
        move |_: Context, req: WatchRequest, tx: StreamSender<Event>| {
            let r = r.clone();
            async move {
                let options = match req.service {
                    Some(name) => WatchOptions::service(name),
                    None => WatchOptions::all(),
                };
                let mut watcher = r.watch(options).await?;
                while let Some(event) = watcher.next().await {
                    tx.send(&event?).await?;
                }
                Ok(())
            }
        },
    );
    Router::new()
        .route(unary("Registry.Register", &registry, register))
        .route(unary("Registry.Deregister", &registry, deregister))
        .route(unary("Registry.GetService", &registry, get_service))
        .route(unary("Registry.ListServices", &registry, list_services))
        .route(watch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Node;

    fn service(name: &str, nodes: Vec<Node>) -> Service {
        let mut s = Service::new(name, "1.0.0");
        for n in nodes {
            s = s.with_node(n);
        }
        s
    }

    #[test]
    fn the_server_keeps_only_records_it_can_give_back() {
        let ok = service("greeter", vec![Node::new("g-1", "198.51.100.2:9000")]);
        assert!(check_service(&ok, true).is_ok());
        let detail = |s: &Service, registering| {
            check_service(s, registering)
                .err()
                .map(|e| (e.code(), e.detail().to_owned()))
        };
        assert_eq!(
            detail(&service("greeter", vec![]), true),
            Some((400, "service greeter has no node".to_owned()))
        );
        let no_address = service("greeter", vec![Node::new("g-1", "")]);
        assert_eq!(
            detail(&no_address, true),
            Some((400, "node g-1 of greeter has no address".to_owned()))
        );
        // Deregistering needs the id only.
        assert!(check_service(&no_address, false).is_ok());
        let long = "x".repeat(256);
        assert!(detail(&service(&long, vec![Node::new("g-1", "a:1")]), true).is_some());
        assert!(detail(&service("g", vec![Node::new(&long, "a:1")]), true).is_some());
        let big = service("g", vec![Node::new("g-1", "a:1")])
            .with_metadata("blob", "x".repeat(MAX_RECORD));
        assert_eq!(detail(&big, true).map(|(code, _)| code), Some(413));
    }
}
