//! Events from the page: publish a JSON message on a topic, and watch a topic live (a
//! broadcast subscription for as long as the page listens: it takes nothing away from the
//! services' queues).

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::StatusCode;
use micro::broker::{
    Envelope, Event, HEADER_CONTENT_TYPE, HEADER_ID, SharedBroker, SubscribeOptions, handler,
    new_message_id,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Web;

/// Messages a slow page may fall behind by before the newest are dropped.
const BACKLOG: usize = 256;

fn broker(web: &Web) -> Result<&SharedBroker, Box<Response>> {
    web.options().broker.as_ref().ok_or_else(|| {
        Box::new(crate::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this dashboard has no broker (micro web uses MICRO_BROKER, --broker)",
        ))
    })
}

/// The body of `POST api/publish`.
#[derive(Debug, Deserialize)]
pub(crate) struct Publish {
    topic: String,
    message: Value,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// `POST api/publish`: the message as JSON on the dashboard's broker.
pub(crate) async fn publish(
    State(web): State<Web>,
    body: Result<Json<Publish>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let broker = match broker(&web) {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    let Json(publish) = match body {
        Ok(b) => b,
        Err(why) => {
            return crate::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "api/publish takes {{\"topic\", \"message\", \"metadata\"}} as JSON: {why}"
                ),
            );
        }
    };
    if let Err(err) = micro::broker::validate_topic(&publish.topic) {
        return crate::error(StatusCode::BAD_REQUEST, err.detail());
    }
    let id = new_message_id();
    let mut message = Envelope::new(publish.message.to_string())
        .with_header(HEADER_CONTENT_TYPE, "application/json")
        .with_header(HEADER_ID, id.clone());
    for (k, v) in publish.metadata {
        message = message.with_header(k.to_ascii_lowercase(), v);
    }
    match broker.publish(&publish.topic, message).await {
        Ok(()) => crate::json(
            StatusCode::OK,
            &json!({"ok": true, "id": id, "topic": publish.topic, "broker": broker.name()}),
        ),
        Err(err) => crate::error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the {} broker did not take the message: {}",
                broker.name(),
                err.detail()
            ),
        ),
    }
}

/// A delivered message as the page shows it.
fn to_json(topic: &str, message: &Envelope) -> Value {
    let mut headers = serde_json::Map::new();
    for (k, v) in message.headers.iter() {
        headers.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let body = serde_json::from_slice::<Value>(&message.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&message.body).into_owned()));
    json!({
        "topic": message.topic().unwrap_or(topic),
        "id": message.id(),
        "headers": headers,
        "body": body,
        "at": message.headers.get("micro-timestamp"),
    })
}

/// `GET api/topics/{topic}/watch`: every message on the topic while the page listens, as
/// server-sent events (`message`; a page that falls more than 256 behind misses some).
pub(crate) async fn watch(State(web): State<Web>, Path(topic): Path<String>) -> Response {
    let broker = match broker(&web) {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    if let Err(err) = micro::broker::validate_topic(&topic) {
        return crate::error(StatusCode::BAD_REQUEST, err.detail());
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(BACKLOG);
    let name = topic.clone();
    let on_message = handler(move |event: Event| {
        let seen = to_json(&name, event.message());
        let tx = tx.clone();
        async move {
            // A page that cannot keep up misses messages; the services' own deliveries
            // are not held back by it.
            if tx.try_send(seen).is_err() {
                tracing::debug!("a dashboard page fell behind on a topic; a message was not shown");
            }
            Ok(())
        }
    });
    let subscription = match broker
        .subscribe(&topic, on_message, SubscribeOptions::broadcast())
        .await
    {
        Ok(s) => s,
        Err(err) => {
            return crate::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "cannot watch {topic} on the {} broker: {}",
                    broker.name(),
                    err.detail()
                ),
            );
        }
    };
    // The subscription lives as long as the page's stream: dropping it unsubscribes.
    let events = tokio_stream::wrappers::ReceiverStream::new(rx).map(move |v| {
        let _alive = &subscription;
        Ok::<_, Infallible>(SseEvent::default().event("message").data(v.to_string()))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
