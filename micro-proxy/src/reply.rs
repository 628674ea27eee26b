//! Dapr's error body, and the sidecar's own routes: `/v1.0/healthz` and `/v1.0/metadata`.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use http::StatusCode;
use serde_json::json;

use crate::Sidecar;

/// Dapr's error: `{"errorCode","message"}` with `status`.
pub(crate) fn dapr(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({"errorCode": code, "message": message.into()});
    micro_gateway::reply::json(status, body.to_string())
}

/// go-micro's error body from the sidecar.
pub(crate) fn error(status: StatusCode, detail: impl AsRef<str>) -> Response {
    let body = micro_gateway::reply::error_body(crate::SERVICE_NAME, status, detail.as_ref());
    micro_gateway::reply::json(status, body)
}

/// [`error`], boxed, for the `Err` of a check.
pub(crate) fn refuse(status: StatusCode, detail: impl AsRef<str>) -> Box<Response> {
    Box::new(error(status, detail))
}

/// [`dapr`], boxed, for the `Err` of a check.
pub(crate) fn refuse_dapr(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
) -> Box<Response> {
    Box::new(dapr(status, code, message))
}

/// A micro error as Dapr's body, with the HTTP status of its code.
pub(crate) fn dapr_call(err: &micro::Error, code: &str) -> Response {
    let status = micro_gateway::reply::http_status(err.grpc_code());
    dapr(status, code, err.detail())
}

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new()
        .route("/v1.0/healthz", get(healthz))
        .route("/v1.0/healthz/outbound", get(healthz))
        .route("/v1.0/metadata", get(metadata))
}

async fn healthz() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// What the sidecar runs: the app id, components and the app's subscriptions.
async fn metadata(State(sidecar): State<Sidecar>) -> Response {
    let options = sidecar.options();
    let broker = sidecar.inner.broker.name();
    let mut components = Vec::new();
    let engine = sidecar
        .inner
        .store
        .as_ref()
        .map_or("none", Store::engine_name);
    for (name, table) in &options.state_stores {
        components.push(json!({
            "name": name, "type": format!("state.micro.{engine}"), "version": "v1",
            "capabilities": ["ETAG", "TTL"], "table": table,
        }));
    }
    for name in &options.pubsubs {
        components
            .push(json!({"name": name, "type": format!("pubsub.micro.{broker}"), "version": "v1"}));
    }
    for store in &options.secret_stores {
        components.push(json!({"name": store.name(), "type": store.kind(), "version": "v1"}));
    }
    let subscriptions: Vec<_> = sidecar
        .inner
        .app
        .subscriptions()
        .iter()
        .map(|s| {
            json!({
                "pubsubname": s.pubsub, "topic": s.topic,
                "rules": {"rules": [{"path": s.route}]},
                "deadLetterTopic": s.dead_letter,
            })
        })
        .collect();
    let body = json!({
        "id": options.app.as_ref().map_or("", |a| a.name.as_str()),
        "runtimeVersion": concat!("micro-proxy ", env!("CARGO_PKG_VERSION")),
        "enabledFeatures": [],
        "components": components,
        "subscriptions": subscriptions,
        "appConnectionProperties": options.app.as_ref().map(|a| json!({
            "channelAddress": a.address,
            "health": {
                "healthCheckPath": a.health_url,
                "healthProbeInterval": format!("{}ms", a.health_interval.as_millis()),
                "healthy": sidecar.app_registered(),
            },
        })),
        "extended": {
            "registry": sidecar.inner.client.selector().registry().name(),
            "broker": broker,
            "node": sidecar.node().map(|n| n.address),
        },
    });
    micro_gateway::reply::json(StatusCode::OK, body.to_string())
}

use micro::store::Store;
