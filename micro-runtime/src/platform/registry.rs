//! The `service` registry engine: every operation is a call to `micro server` at one
//! address; a watch survives the server's restarts (it reconnects every second and replays
//! what is registered as creates).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::remote::{Concept, Remote};
use super::{Empty, unary};
use crate::BoxFuture;
use crate::codec::Codec;
use crate::context::Context;
use crate::endpoint::{Route, Router};
use crate::error::{Error, Result};
use crate::registry::{
    Action, Event, RegisterOptions, Registry, Service, SharedRegistry, WatchOptions, Watcher,
};
use crate::stream::StreamSender;

const ID: &str = "micro.server";

/// How long one call to the server may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How often a broken watch tries to reconnect.
const RECONNECT: Duration = Duration::from_secs(1);

/// `Registry.Register`.
#[derive(Debug, Serialize, Deserialize)]
struct RegisterRequest {
    service: Service,
    /// The entry's TTL in milliseconds; none keeps it until deregistered.
    #[serde(default)]
    ttl_ms: Option<u64>,
}

/// `Registry.Deregister`.
#[derive(Debug, Serialize, Deserialize)]
struct DeregisterRequest {
    service: Service,
}

/// `Registry.GetService`.
#[derive(Debug, Serialize, Deserialize)]
struct GetRequest {
    name: String,
}

/// `Registry.ListServices` (no fields).
#[derive(Debug, Default, Serialize, Deserialize)]
struct ListRequest {}

/// `Registry.Watch`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WatchRequest {
    #[serde(default)]
    service: Option<String>,
}

/// The services `GetService` and `ListServices` answer.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ServicesResponse {
    services: Vec<Service>,
}

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

async fn register(r: SharedRegistry, _: Context, req: RegisterRequest) -> Result<Empty> {
    check_service(&req.service, true)?;
    let options = match req.ttl_ms {
        Some(ms) => RegisterOptions::ttl(Duration::from_millis(ms).clamp(MIN_TTL, MAX_TTL)),
        None => RegisterOptions::default(),
    };
    r.register(&req.service, options).await?;
    Ok(Empty {})
}

async fn deregister(r: SharedRegistry, _: Context, req: DeregisterRequest) -> Result<Empty> {
    check_service(&req.service, false)?;
    r.deregister(&req.service).await?;
    Ok(Empty {})
}

async fn get_service(r: SharedRegistry, _: Context, req: GetRequest) -> Result<ServicesResponse> {
    let services = r.get_service(&req.name).await?;
    Ok(ServicesResponse { services })
}

async fn list_services(r: SharedRegistry, _: Context, _: ListRequest) -> Result<ServicesResponse> {
    let services = r.list_services().await?;
    Ok(ServicesResponse { services })
}

/// The registry's routes over `registry`, added to `router`.
pub(super) fn routes(
    router: Router,
    registry: &SharedRegistry,
    closing: &watch::Receiver<bool>,
) -> Router {
    let r = registry.clone();
    let closing = closing.clone();
    let watch = Route::server_stream_with(
        "Registry.Watch",
        Codec::serde(),
        Codec::serde(),
        move |_: Context, req: WatchRequest, tx: StreamSender<Event>| {
            let r = r.clone();
            let closing = closing.clone();
            async move {
                let options = match req.service {
                    Some(name) => WatchOptions::service(name),
                    None => WatchOptions::all(),
                };
                let mut watcher = r.watch(options).await?;
                loop {
                    tokio::select! {
                        () = tx.closed() => return Ok(()),
                        () = super::closed(closing.clone()) => return Ok(()),
                        event = watcher.next() => match event {
                            Some(event) => tx.send(&event?).await?,
                            None => return Ok(()),
                        },
                    }
                }
            }
        },
    );
    router
        .route(unary("Registry.Register", registry, register))
        .route(unary("Registry.Deregister", registry, deregister))
        .route(unary("Registry.GetService", registry, get_service))
        .route(unary("Registry.ListServices", registry, list_services))
        .route(watch)
}

/// A registry served by `micro server` at `address` (`MICRO_REGISTRY=service`).
#[derive(Clone, Debug)]
pub struct ServiceRegistry {
    remote: Remote,
}

impl ServiceRegistry {
    /// The registry of the `micro server` at `address` (`host:port`). Nothing is dialled
    /// until the first operation.
    pub fn new(address: &str) -> Result<ServiceRegistry> {
        ServiceRegistry::with_timeout(address, TIMEOUT)
    }

    /// [`ServiceRegistry::new`], with the time one call may take.
    pub fn with_timeout(address: &str, timeout: Duration) -> Result<ServiceRegistry> {
        Ok(ServiceRegistry {
            remote: Remote::new(Concept::Registry, address, timeout, None)?,
        })
    }

    /// [`ServiceRegistry::with_timeout`], sending `token` with every call (for a
    /// `micro server` that checks callers: `MICRO_AUTH_TOKEN`).
    pub fn with_token(
        address: &str,
        timeout: Duration,
        token: Option<&str>,
    ) -> Result<ServiceRegistry> {
        Ok(ServiceRegistry {
            remote: Remote::new(Concept::Registry, address, timeout, token)?,
        })
    }

    /// Where the server is.
    pub fn address(&self) -> &str {
        self.remote.address()
    }
}

/// Stream the server's events into `tx` until the receiver is gone, reconnecting when the
/// stream breaks; after a reconnect, what is registered is sent again as creates so that a
/// cache built from the events catches up.
async fn follow(registry: ServiceRegistry, options: WatchOptions, tx: mpsc::Sender<Result<Event>>) {
    let mut first = true;
    // Whether the watch is known to be broken (said once per outage).
    let mut broken = false;
    loop {
        if tx.is_closed() {
            return;
        }
        let req = WatchRequest {
            service: options.service.clone(),
        };
        let opened = registry.remote.follow("Registry.Watch", &req).await;
        if let Ok(mut stream) = opened {
            if !first {
                let current = match &options.service {
                    Some(name) => registry.get_service(name).await,
                    None => registry.list_services().await,
                };
                let current = match current {
                    Ok(services) => services,
                    Err(e) if e.code() == 404 => Vec::new(),
                    Err(e) => {
                        // Not caught up: the whole reconnect again, after a pause.
                        if !broken {
                            broken = true;
                            let _ = tx.send(Err(e)).await;
                        }
                        tokio::time::sleep(RECONNECT).await;
                        continue;
                    }
                };
                if broken {
                    tracing::info!(address = %registry.remote.address(), "registry watch: micro server answers again");
                    broken = false;
                }
                for service in current {
                    let event = Event {
                        action: Action::Create,
                        service,
                    };
                    if tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
            }
            loop {
                tokio::select! {
                    _ = tx.closed() => return,
                    next = stream.recv() => match next {
                        Ok(Some(event)) => {
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            if !broken {
                                broken = true;
                                tracing::warn!(address = %registry.remote.address(), error = %e, "registry watch: the stream from micro server broke; reconnecting every second");
                                let _ = tx.send(Err(e)).await;
                            }
                            break;
                        }
                    },
                }
            }
        } else if let Err(e) = opened
            && !broken
        {
            broken = true;
            tracing::warn!(address = %registry.remote.address(), error = %e, "registry watch: micro server does not answer; reconnecting every second");
            let _ = tx.send(Err(e)).await;
        }
        first = false;
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(RECONNECT) => {}
        }
    }
}

impl Registry for ServiceRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let req = RegisterRequest {
                service: service.clone(),
                ttl_ms: options
                    .ttl
                    .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            };
            let _: Empty = self.remote.call("Registry.Register", &req).await?;
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let req = DeregisterRequest {
                service: service.clone(),
            };
            let _: Empty = self.remote.call("Registry.Deregister", &req).await?;
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let req = GetRequest {
                name: name.to_owned(),
            };
            let rsp: ServicesResponse = self.remote.call("Registry.GetService", &req).await?;
            Ok(rsp.services)
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(async move {
            let rsp: ServicesResponse = self
                .remote
                .call("Registry.ListServices", &ListRequest {})
                .await?;
            Ok(rsp.services)
        })
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let (tx, rx) = mpsc::channel(256);
            tokio::spawn(follow(self.clone(), options, tx));
            let events = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|event| (event, rx))
            });
            Ok(Watcher::new(events))
        })
    }

    fn name(&self) -> &'static str {
        "service"
    }
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
