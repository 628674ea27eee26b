//! go-micro's sidecar API: `/registry` (get, register, deregister) and `/broker` (publish,
//! and subscribe over a websocket, one JSON message per frame).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use base64::Engine as _;
use http::{HeaderMap, StatusCode, header};
use micro::broker::{Envelope, SubscribeOptions};
use micro::registry::{RegisterOptions, Service};
use micro_gateway::reply::json;

use crate::reply::{error, refuse};
use serde::Deserialize;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use crate::Sidecar;

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new()
        .route(
            "/registry",
            get(get_service).post(register).delete(deregister),
        )
        .route("/broker", get(subscribe).post(publish))
}

#[derive(Debug, Default, Deserialize)]
struct RegistryQuery {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    ttl: Option<String>,
}

type Q<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// `GET /registry?service=NAME`: the service's records; without a name, every service.
async fn get_service(State(sidecar): State<Sidecar>, query: Q<RegistryQuery>) -> Response {
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "GET /registry takes ?service=NAME");
    };
    let registry = sidecar.inner.client.selector().registry();
    let found = match q
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(name) => match registry.get_service(name).await {
            Ok(records) if records.is_empty() => {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("service {name} is not registered"),
                );
            }
            other => other,
        },
        None => registry.list_services().await,
    };
    match found {
        Ok(records) => json(
            StatusCode::OK,
            serde_json::to_string(&records).unwrap_or_default(),
        ),
        Err(e) => micro_gateway::reply::call_failed(&e, "registry"),
    }
}

/// The service record in a body, checked: a name, and nodes with ids. A node with no
/// address is served by this sidecar (its app).
fn record(sidecar: &Sidecar, body: &[u8], verb: &str) -> Result<Service, Box<Response>> {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).map(|mut v| {
        // go-micro's sidecar takes nodes without an address (this sidecar serves them).
        if let Some(nodes) = v.get_mut("nodes").and_then(|n| n.as_array_mut()) {
            for node in nodes.iter_mut().filter_map(|n| n.as_object_mut()) {
                node.entry("address").or_insert_with(|| "".into());
            }
        }
        v
    });
    let mut service: Service = parsed.and_then(serde_json::from_value).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("{verb} /registry takes a service as JSON ({{\"name\", \"version\", \"nodes\": [{{\"id\", \"address\"}}], \"endpoints\"}}): {e}"),
        )
    })?;
    if service.name.trim().is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("{verb} /registry: the service has no name"),
        ));
    }
    if service.nodes.is_empty() {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            format!("{verb} /registry: service {} has no nodes", service.name),
        ));
    }
    let own = sidecar.node();
    for node in &mut service.nodes {
        if node.id.trim().is_empty() {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("{verb} /registry: a node of {} has no id", service.name),
            ));
        }
        if node.address.trim().is_empty() {
            let Some(own) = &own else {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    format!("{verb} /registry: node {} has no address", node.id),
                ));
            };
            node.address.clone_from(&own.address);
            for (k, v) in &own.metadata {
                node.metadata.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    Ok(service)
}

/// `POST /registry[?ttl=30s]`: register the service in the body.
async fn register(
    State(sidecar): State<Sidecar>,
    query: Q<RegistryQuery>,
    body: Bytes,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let service = match record(&sidecar, &body, "POST") {
        Ok(s) => s,
        Err(rsp) => return *rsp,
    };
    let mut options = RegisterOptions::default();
    if let Some(ttl) = q.ttl.as_deref().filter(|t| !t.trim().is_empty()) {
        match micro::options::parse_duration("ttl", ttl) {
            Ok(ttl) if ttl >= Duration::from_secs(1) => options = RegisterOptions::ttl(ttl),
            Ok(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "POST /registry: ttl must be 1s or more",
                );
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, e.detail()),
        }
    }
    let registry = sidecar.inner.client.selector().registry();
    match registry.register(&service, options).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => micro_gateway::reply::call_failed(&e, "registry"),
    }
}

/// `DELETE /registry`: deregister the service (its nodes) in the body.
async fn deregister(State(sidecar): State<Sidecar>, body: Bytes) -> Response {
    let service = match record(&sidecar, &body, "DELETE") {
        Ok(s) => s,
        Err(rsp) => return *rsp,
    };
    let registry = sidecar.inner.client.selector().registry();
    match registry.deregister(&service).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => micro_gateway::reply::call_failed(&e, "registry"),
    }
}

#[derive(Debug, Deserialize)]
struct BrokerQuery {
    #[serde(default)]
    topic: String,
    #[serde(default)]
    queue: Option<String>,
}

fn topic(query: Q<BrokerQuery>) -> Result<BrokerQuery, Box<Response>> {
    let Ok(Query(q)) = query else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "/broker takes ?topic=T[&queue=Q]",
        ));
    };
    if q.topic.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "/broker needs ?topic=T"));
    }
    micro::broker::validate_topic(&q.topic)
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e.detail()))?;
    Ok(q)
}

/// `POST /broker?topic=T`: publish the body (its content type travels with it).
async fn publish(
    State(sidecar): State<Sidecar>,
    query: Q<BrokerQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = match topic(query) {
        Ok(q) => q,
        Err(rsp) => return *rsp,
    };
    let mut message = Envelope::new(body);
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        message = message.with_header(micro::broker::HEADER_CONTENT_TYPE, ct);
    }
    match sidecar.inner.broker.publish(&q.topic, message).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => micro_gateway::reply::call_failed(&e, "broker"),
    }
}

/// A message as go-micro's sidecar sends it: `{"Header": {...}, "Body": "<base64>"}`.
fn frame(message: &Envelope) -> String {
    let header: BTreeMap<&str, &str> = message.headers.iter().collect();
    serde_json::json!({
        "Header": header,
        "Body": base64::engine::general_purpose::STANDARD.encode(&message.body),
    })
    .to_string()
}

/// Websocket `/broker?topic=T[&queue=Q]`: every message of the topic (or the queue's share)
/// as a frame. A subscriber that falls `socket_buffer` messages behind is disconnected: the
/// message that found the buffer full goes back to the broker (redelivered, to another
/// member of the queue when there is one); the frames already buffered are lost with the
/// connection.
async fn subscribe(
    State(sidecar): State<Sidecar>,
    query: Q<BrokerQuery>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let q = match topic(query) {
        Ok(q) => q,
        Err(rsp) => return *rsp,
    };
    let Ok(upgrade) = upgrade else {
        return error(
            StatusCode::BAD_REQUEST,
            "GET /broker subscribes over a websocket; publish with POST /broker?topic=T",
        );
    };
    let options = match q.queue.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(queue) => SubscribeOptions::queue(queue.to_owned()),
        None => SubscribeOptions::broadcast(),
    };
    let (tx, rx) = mpsc::channel::<String>(sidecar.options().socket_buffer.max(1));
    // Raised when the buffer is full: the reader is `socket_buffer` messages behind.
    let overflow = Arc::new(Notify::new());
    let raise = overflow.clone();
    let handler = micro::broker::handler(move |event| {
        let (tx, raise) = (tx.clone(), raise.clone());
        async move {
            match tx.try_send(frame(event.message())) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => {
                    raise.notify_one();
                    Err(micro::Error::unavailable(
                        crate::SERVICE_NAME,
                        "the websocket subscriber fell behind; disconnected",
                    ))
                }
                Err(mpsc::error::TrySendError::Closed(_)) => Err(micro::Error::unavailable(
                    crate::SERVICE_NAME,
                    "the websocket subscriber is gone",
                )),
            }
        }
    });
    let subscription = match sidecar
        .inner
        .broker
        .subscribe(&q.topic, handler, options)
        .await
    {
        Ok(s) => s,
        Err(e) => return micro_gateway::reply::call_failed(&e, "broker"),
    };
    upgrade.on_upgrade(move |socket| pump(socket, rx, subscription, overflow))
}

/// Send frames until the client leaves or falls behind, then unsubscribe.
async fn pump(
    mut socket: WebSocket,
    mut rx: mpsc::Receiver<String>,
    subscription: micro::broker::Subscription,
    overflow: Arc<Notify>,
) {
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else { break };
                tokio::select! {
                    sent = socket.send(Message::Text(frame.into())) => if sent.is_err() { break },
                    () = overflow.notified() => {
                        tracing::warn!("a /broker websocket subscriber fell behind; disconnected");
                        break;
                    }
                }
            }
            () = overflow.notified() => {
                tracing::warn!("a /broker websocket subscriber fell behind; disconnected");
                break;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    drop(rx);
    // A reader that stopped reading cannot take a close frame either: give it a moment.
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(None))).await;
    drop(socket);
    subscription.unsubscribe().await;
}
