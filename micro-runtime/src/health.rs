//! The standard gRPC health service, `grpc.health.v1.Health`, served by every micro server.
//!
//! `Check` answers `SERVING` while the server runs and `NOT_SERVING` once it drains; `Watch`
//! streams every change. The service name may be empty (the whole server), the registry
//! name (`greeter`) or a full protobuf service name (`greeter.Greeter`).

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::server::{Route, Router};
use crate::stream::StreamSender;

/// The package of the health service.
pub const PACKAGE: &str = "grpc.health.v1";

/// `HealthCheckRequest`.
#[derive(Clone, PartialEq, Eq, prost::Message, Serialize, Deserialize)]
pub struct HealthCheckRequest {
    /// The service to check; empty for the whole server.
    #[prost(string, tag = "1")]
    #[serde(default)]
    pub service: String,
}

/// `HealthCheckResponse`.
#[derive(Clone, PartialEq, Eq, prost::Message, Serialize, Deserialize)]
pub struct HealthCheckResponse {
    /// A [`ServingStatus`] value.
    #[prost(enumeration = "ServingStatus", tag = "1")]
    #[serde(default, with = "status_json")]
    pub status: i32,
}

impl crate::codec::ProstSerde for HealthCheckRequest {}
impl crate::codec::ProstSerde for HealthCheckResponse {}

impl HealthCheckResponse {
    /// The status as an enum.
    pub fn serving_status(&self) -> ServingStatus {
        ServingStatus::try_from(self.status).unwrap_or(ServingStatus::Unknown)
    }
}

/// The serving status of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ServingStatus {
    /// Unknown.
    Unknown = 0,
    /// Serving requests.
    Serving = 1,
    /// Not serving (for example draining before shutdown).
    NotServing = 2,
    /// The service is not known to this server (only sent by `Watch`).
    ServiceUnknown = 3,
}

impl ServingStatus {
    /// The name gRPC gives the status, e.g. `SERVING`.
    pub fn name(self) -> &'static str {
        match self {
            ServingStatus::Unknown => "UNKNOWN",
            ServingStatus::Serving => "SERVING",
            ServingStatus::NotServing => "NOT_SERVING",
            ServingStatus::ServiceUnknown => "SERVICE_UNKNOWN",
        }
    }

    /// The status called `name` (`SERVING` ...).
    pub fn from_name(name: &str) -> Option<ServingStatus> {
        [
            ServingStatus::Unknown,
            ServingStatus::Serving,
            ServingStatus::NotServing,
            ServingStatus::ServiceUnknown,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

mod status_json {
    use super::ServingStatus;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &i32, s: S) -> Result<S::Ok, S::Error> {
        match ServingStatus::try_from(*value) {
            Ok(status) => s.serialize_str(status.name()),
            Err(_) => s.serialize_i32(*value),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Name(String),
            Number(i32),
        }
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(n),
            Either::Name(name) => ServingStatus::from_name(&name)
                .map(|s| s as i32)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown serving status {name:?}"))
                }),
        }
    }
}

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
        let check = self.clone();
        let watch = self.clone();
        Router::new()
            .route(
                Route::unary(
                    "Health.Check",
                    move |_ctx: Context, req: HealthCheckRequest| {
                        let status = check.status(&req.service);
                        async move {
                            match status {
                                Some(status) => Ok(HealthCheckResponse {
                                    status: status as i32,
                                }),
                                None => Err(Error::not_found(
                                    "micro.health",
                                    format!("unknown service {:?}", req.service),
                                )),
                            }
                        }
                    },
                )
                .package(PACKAGE)
                .internal(),
            )
            .route(
                Route::server_stream(
                    "Health.Watch",
                    move |_ctx: Context,
                          req: HealthCheckRequest,
                          tx: StreamSender<HealthCheckResponse>| {
                        let health = watch.clone();
                        async move { health.watch(req.service, tx).await }
                    },
                )
                .package(PACKAGE)
                .internal(),
            )
    }

    async fn watch(&self, service: String, tx: StreamSender<HealthCheckResponse>) -> Result<()> {
        let mut rx = self.serving.subscribe();
        let mut last = None;
        loop {
            let status = self
                .status(&service)
                .unwrap_or(ServingStatus::ServiceUnknown);
            if last != Some(status) {
                tx.send(&HealthCheckResponse {
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
