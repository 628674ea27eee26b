//! The standard gRPC health service, `grpc.health.v1.Health`, served by every micro server.
//!
//! `Check` answers `SERVING` while the server runs and `NOT_SERVING` once it drains; `Watch`
//! streams every change. The service name may be empty (the whole server), the registry
//! name (`greeter`) or a full protobuf service name (`greeter.Greeter`).
//!
//! The name [`REGISTRY`] (`micro.registry`) is the readiness of the service's registration:
//! `NOT_SERVING` while the service cannot register (the registry is unreachable, or its
//! lease was lost and not yet renewed), `SERVING` again once a registration succeeds. The
//! server itself keeps answering calls meanwhile, so liveness (the empty name) stays
//! `SERVING`.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use tokio::sync::watch;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::server::Router;
use crate::stream::StreamSender;

/// The generated code of `grpc.health.v1` (messages, client, server).
#[allow(missing_docs, clippy::all)]
pub mod pb {
    include!("generated/grpc.health.v1.rs");
}

pub use pb::health_check_response::ServingStatus;
pub use pb::{HealthCheckRequest, HealthCheckResponse};

/// The package of the health service.
pub const PACKAGE: &str = "grpc.health.v1";

/// The health name of the registration's readiness.
pub const REGISTRY: &str = "micro.registry";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct State {
    /// The server is stopping.
    draining: bool,
    /// Components (such as [`REGISTRY`]) that are not ready.
    down: BTreeSet<&'static str>,
}

/// The health state of one server.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    state: Arc<watch::Sender<State>>,
    names: Arc<HashSet<String>>,
}

impl Health {
    pub(crate) fn new(names: HashSet<String>) -> Health {
        let (tx, _) = watch::channel(State::default());
        Health {
            state: Arc::new(tx),
            names: Arc::new(names),
        }
    }

    pub(crate) fn set_serving(&self, serving: bool) {
        self.state.send_if_modified(|s| {
            let changed = s.draining == serving;
            s.draining = !serving;
            changed
        });
    }

    /// Report whether `component` (e.g. [`REGISTRY`]) is ready.
    pub(crate) fn set_ready(&self, component: &'static str, ready: bool) {
        self.state.send_if_modified(|s| {
            if ready {
                s.down.remove(component)
            } else {
                s.down.insert(component)
            }
        });
    }

    fn status(&self, service: &str) -> Option<ServingStatus> {
        let state = self.state.borrow();
        let known = service.is_empty() || self.names.contains(service) || service == REGISTRY;
        if !known {
            return None;
        }
        let down = state.draining || (service == REGISTRY && state.down.contains(REGISTRY));
        Some(if down {
            ServingStatus::NotServing
        } else {
            ServingStatus::Serving
        })
    }

    pub(crate) fn router(&self) -> Router {
        Router::new()
            .merge(pb::health_server::HealthServer::new(self.clone()))
            .framework()
    }
}

impl pb::health_server::Health for Health {
    async fn check(
        &self,
        _ctx: Context,
        request: HealthCheckRequest,
    ) -> Result<HealthCheckResponse> {
        match self.status(&request.service) {
            Some(status) => Ok(HealthCheckResponse {
                status: status as i32,
            }),
            None => Err(Error::not_found(
                "micro.health",
                format!("unknown service {:?}", request.service),
            )),
        }
    }

    async fn watch(
        &self,
        _ctx: Context,
        request: HealthCheckRequest,
        responses: StreamSender<HealthCheckResponse>,
    ) -> Result<()> {
        let mut rx = self.state.subscribe();
        let mut last = None;
        loop {
            let status = self
                .status(&request.service)
                .unwrap_or(ServingStatus::ServiceUnknown);
            if last != Some(status) {
                responses
                    .send(&HealthCheckResponse {
                        status: status as i32,
                    })
                    .await?;
                last = Some(status);
            }
            if rx.borrow().draining {
                // The server is draining: end the watch so the drain does not wait for it.
                return Err(Error::unavailable(
                    "micro.health",
                    "the server is shutting down",
                ));
            }
            if rx.changed().await.is_err() {
                return Ok(());
            }
        }
    }
}
