//! The standard gRPC health service, `grpc.health.v1.Health`, served by every micro server.
//!
//! `Check` answers `SERVING` while the server runs and `NOT_SERVING` once it drains; `Watch`
//! streams every change. The service name may be empty (the whole server), the registry
//! name (`greeter`) or a full protobuf service name (`greeter.Greeter`).

use std::collections::HashSet;
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

/// The health state of one server.
#[derive(Clone, Debug)]
pub(crate) struct Health {
    serving: Arc<watch::Sender<bool>>,
    names: Arc<HashSet<String>>,
}

impl Health {
    pub(crate) fn new(names: HashSet<String>) -> Health {
        let (tx, _) = watch::channel(true);
        Health {
            serving: Arc::new(tx),
            names: Arc::new(names),
        }
    }

    pub(crate) fn set_serving(&self, serving: bool) {
        self.serving.send_replace(serving);
    }

    fn status(&self, service: &str) -> Option<ServingStatus> {
        if !service.is_empty() && !self.names.contains(service) {
            return None;
        }
        Some(if *self.serving.borrow() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
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
        let mut rx = self.serving.subscribe();
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
            if status == ServingStatus::NotServing {
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
