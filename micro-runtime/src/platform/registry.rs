//! The `service` registry engine: every operation is a call to `micro server` at one
//! address; a watch survives the server's restarts (it reconnects every second and replays
//! what is registered as creates).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{
    DeregisterRequest, Empty, GetRequest, ListRequest, RegisterRequest, SERVICE, ServicesResponse,
    WatchRequest,
};
use crate::BoxFuture;
use crate::client::{CallOptions, Client};
use crate::codec::Codec;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::registry::{
    Action, Event, MemoryRegistry, RegisterOptions, Registry, Service, WatchOptions, Watcher,
};

/// How long one call to the server may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// How often a broken watch tries to reconnect.
const RECONNECT: Duration = Duration::from_secs(1);

/// A registry served by `micro server` at `address` (`MICRO_REGISTRY=service`).
#[derive(Clone, Debug)]
pub struct ServiceRegistry {
    client: Client,
    address: String,
    timeout: Duration,
}

impl ServiceRegistry {
    /// The registry of the `micro server` at `address` (`host:port`). Nothing is dialled
    /// until the first operation.
    pub fn new(address: &str) -> Result<ServiceRegistry> {
        ServiceRegistry::with_timeout(address, TIMEOUT)
    }

    /// [`ServiceRegistry::new`], with the time one call may take.
    pub fn with_timeout(address: &str, timeout: Duration) -> Result<ServiceRegistry> {
        let address = address.trim();
        let valid = !address.contains("://")
            && !address.contains(',')
            && address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
        if !valid {
            return Err(Error::bad_request(
                super::ID,
                format!(
                    "registry address {address:?} is not host:port; the service registry needs where micro server listens (MICRO_REGISTRY_ADDRESS, default {})",
                    super::DEFAULT_ADDRESS
                ),
            ));
        }
        Ok(ServiceRegistry {
            // Calls go to the address; this registry is never asked.
            client: Client::new(Arc::new(MemoryRegistry::new())),
            address: address.to_owned(),
            timeout,
        })
    }

    /// Where the server is.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn options(&self) -> CallOptions {
        CallOptions::new()
            .address(self.address.clone())
            .timeout(self.timeout)
            .retries(0)
    }

    async fn call<Req, Resp>(&self, endpoint: &str, req: &Req) -> Result<Resp>
    where
        Req: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        Resp: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    {
        self.client
            .invoke_codec(
                &Context::new(),
                SERVICE,
                endpoint,
                req,
                &self.options(),
                Codec::serde(),
                Codec::serde(),
            )
            .await
            .map(|r| r.message)
            .map_err(|e| self.unreachable(e))
    }

    /// An error that says which server did not answer.
    fn unreachable(&self, err: Error) -> Error {
        // Only what the client itself produced (no connection, no answer in time); the
        // server's own answers pass as they are.
        if err.dependency().is_some() && matches!(err.code(), 503 | 408) {
            Error::new(
                "micro.registry",
                format!(
                    "micro server at {} (MICRO_REGISTRY_ADDRESS): {}",
                    self.address,
                    err.detail()
                ),
                err.code(),
            )
        } else {
            err
        }
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
        let opened = registry
            .client
            .server_stream_codec(
                &Context::new(),
                SERVICE,
                "Registry.Watch",
                &req,
                &CallOptions::new()
                    .address(registry.address.clone())
                    .timeout(Duration::from_secs(365 * 24 * 3600))
                    .retries(0),
                Codec::serde(),
                Codec::serde(),
            )
            .await;
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
                    tracing::info!(address = %registry.address, "registry watch: micro server answers again");
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
                                tracing::warn!(address = %registry.address, error = %e, "registry watch: the stream from micro server broke; reconnecting every second");
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
            tracing::warn!(address = %registry.address, error = %e, "registry watch: micro server does not answer; reconnecting every second");
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
            let _: Empty = self.call("Registry.Register", &req).await?;
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let req = DeregisterRequest {
                service: service.clone(),
            };
            let _: Empty = self.call("Registry.Deregister", &req).await?;
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let req = GetRequest {
                name: name.to_owned(),
            };
            let rsp: ServicesResponse = self.call("Registry.GetService", &req).await?;
            Ok(rsp.services)
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(async move {
            let rsp: ServicesResponse = self.call("Registry.ListServices", &ListRequest {}).await?;
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

    #[test]
    fn the_address_must_be_host_and_port() {
        for bad in [
            "",
            "8000",
            ":8000",
            "host:",
            "host:0",
            "host:70000",
            "http://host:8000",
            "a:1,b:2",
        ] {
            let err = ServiceRegistry::new(bad)
                .err()
                .map(|e| e.detail().to_owned());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("is not host:port")),
                "{bad}: {err:?}"
            );
        }
        assert!(ServiceRegistry::new("198.51.100.1:8000").is_ok());
    }
}
