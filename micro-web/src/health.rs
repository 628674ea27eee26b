//! Nodes' health: `grpc.health.v1.Health/Check` on each node of a micro server, as
//! `micro health` asks it.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use futures_util::StreamExt;
use http::StatusCode;
use micro::Context;
use micro::client::CallOptions;
use micro::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
use micro::registry::{Node, Service};
use serde_json::json;

use crate::Web;

/// Health checks in flight at once.
const AT_ONCE: usize = 16;

/// True for a node of a micro server (the ones that answer `grpc.health.v1`).
pub(crate) fn is_micro_node(node: &Node) -> bool {
    node.metadata.get("server").is_some_and(|s| s == "micro")
}

/// One node's health: `SERVING`, `NOT_SERVING`, or `ERROR: why`.
pub(crate) async fn probe(web: &Web, service: &str, node: &Node) -> String {
    let opts = CallOptions::new()
        .address(node.address.clone())
        .package(PACKAGE)
        .timeout(web.options().health_timeout);
    let req = HealthCheckRequest {
        service: service.to_owned(),
    };
    let asked = web
        .client()
        .call_with::<_, HealthCheckResponse>(&Context::new(), service, "Health.Check", &req, &opts)
        .await;
    match asked {
        Ok(rsp) => match rsp.status() {
            ServingStatus::Serving => "SERVING".to_owned(),
            other => other.as_str_name().to_owned(),
        },
        Err(err) => format!("ERROR: {}", err.detail()),
    }
}

/// The health of every micro node of `records`, by node id (other nodes are left out).
pub(crate) async fn probe_all(web: &Web, records: &[Service]) -> HashMap<String, String> {
    let mut nodes = Vec::new();
    for svc in records {
        for node in svc.nodes.iter().filter(|n| is_micro_node(n)) {
            nodes.push((svc.name.clone(), node.clone()));
        }
    }
    futures_util::stream::iter(nodes)
        .map(|(service, node)| async move {
            let health = probe(web, &service, &node).await;
            (node.id, health)
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await
}

/// `GET api/health/{name}`: every node of the service with its health.
pub(crate) async fn service(State(web): State<Web>, Path(name): Path<String>) -> Response {
    let records = match web.client().selector().registry().get_service(&name).await {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => {
            return crate::error(
                StatusCode::NOT_FOUND,
                format!("no service {name} is registered"),
            );
        }
        Err(err) if err.grpc_code() == micro::Code::NotFound => {
            return crate::error(StatusCode::NOT_FOUND, err.detail());
        }
        Err(err) => {
            return crate::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the registry did not answer for {name}: {}", err.detail()),
            );
        }
    };
    let probed = probe_all(&web, &records).await;
    let nodes: Vec<_> = records
        .iter()
        .flat_map(|svc| {
            svc.nodes.iter().map(|n| {
                json!({
                    "id": n.id,
                    "address": n.address,
                    "version": svc.version,
                    "health": probed.get(&n.id).map_or("UNKNOWN", String::as_str),
                })
            })
        })
        .collect();
    crate::json(StatusCode::OK, &json!({"service": name, "nodes": nodes}))
}
