//! Calls from the page: `POST api/call` (unary; the answer says how the call went, with the
//! reply's headers, trailers, node and time) and `GET api/stream` (every streaming kind over
//! a websocket: a setup frame, then the gateway's relay).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use micro::client::CallOptions;
use micro::{Context, Format};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::Web;

/// Where, what and how to call (the body of `POST api/call`, the first frame of a stream).
#[derive(Debug, Deserialize)]
pub(crate) struct Target {
    service: String,
    endpoint: String,
    #[serde(default)]
    request: Option<Box<RawValue>>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    address: Option<String>,
    /// Seconds.
    #[serde(default)]
    timeout: Option<f64>,
    /// The page's CSRF token (a stream's setup frame; `POST` sends it as a header).
    #[serde(default)]
    csrf: Option<String>,
}

/// The call options for `target`, or why not: empty names, a bad timeout, or an address
/// that is no node of the service (the dashboard calls registered nodes only).
async fn options(
    web: &Web,
    target: &Target,
    default_timeout: Duration,
) -> Result<CallOptions, String> {
    if target.service.trim().is_empty() || target.endpoint.trim().is_empty() {
        return Err("name the service and the endpoint (Service.Method)".to_owned());
    }
    let timeout = match target.timeout {
        None => default_timeout,
        Some(t) if t.is_finite() && t > 0.0 && t <= 3600.0 => Duration::from_secs_f64(t),
        Some(t) => {
            return Err(format!(
                "timeout {t} is not a number of seconds between 0 and 3600"
            ));
        }
    };
    let mut opts = CallOptions::new().timeout(timeout).format(Format::Json);
    for (k, v) in &target.metadata {
        opts = opts.metadata(k.to_ascii_lowercase(), v.clone());
    }
    if let Some(address) = target.address.as_deref().filter(|a| !a.is_empty()) {
        let records = web
            .client()
            .selector()
            .registry()
            .get_service(&target.service)
            .await
            .unwrap_or_default();
        if !records
            .iter()
            .flat_map(|r| &r.nodes)
            .any(|n| n.address == address)
        {
            return Err(format!(
                "{address} is not a node of {}: pick one of its registered nodes",
                target.service
            ));
        }
        opts = opts.address(address.to_owned());
    }
    Ok(opts)
}

/// The request as JSON bytes: an object, or a string holding one; absent or null is `{}`.
fn request_bytes(raw: Option<&RawValue>) -> Result<Bytes, String> {
    let text = raw.map_or("null", |r| r.get().trim());
    if text == "null" {
        return Ok(Bytes::from_static(b"{}"));
    }
    let inner = if text.starts_with('"') {
        serde_json::from_str::<String>(text).map_err(|e| e.to_string())?
    } else {
        text.to_owned()
    };
    match serde_json::from_str::<Value>(&inner) {
        Ok(Value::Object(_)) => Ok(Bytes::from(inner)),
        Ok(_) => Err("the request must be a JSON object".to_owned()),
        Err(e) => Err(format!("the request is not valid JSON: {e}")),
    }
}

/// go-micro's error fields of `err`.
fn error_fields(err: &micro::Error, service: &str) -> Value {
    let id = if err.id().is_empty() {
        service
    } else {
        err.id()
    };
    json!({"id": id, "code": err.code(), "detail": err.detail(), "status": err.status()})
}

fn metadata_json(md: &micro::Metadata) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in md.iter() {
        out.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Value::Object(out)
}

fn millis(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// `POST api/call`: one unary call. A call that failed is still a 200: the answer's `ok`
/// and `error` say how; a request the dashboard cannot make sense of is a 400.
pub(crate) async fn unary(
    State(web): State<Web>,
    body: Result<Json<Target>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(target) = match body {
        Ok(b) => b,
        Err(why) => {
            return crate::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "api/call takes {{\"service\", \"endpoint\", \"request\", \"metadata\", \"address\", \"timeout\"}} as JSON: {why}"
                ),
            );
        }
    };
    let opts = match options(&web, &target, web.options().call_timeout).await {
        Ok(o) => o,
        Err(why) => return crate::error(StatusCode::BAD_REQUEST, why),
    };
    let request = match request_bytes(target.request.as_deref()) {
        Ok(r) => r,
        Err(why) => return crate::error(StatusCode::BAD_REQUEST, why),
    };
    let started = Instant::now();
    let answer = web
        .client()
        .call_raw(
            &Context::new(),
            &target.service,
            &target.endpoint,
            Format::Json,
            request,
            &opts,
        )
        .await;
    let elapsed = millis(started);
    let body = match answer {
        Ok(rsp) => {
            let message = serde_json::from_slice::<Value>(&rsp.message)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&rsp.message).into()));
            json!({
                "ok": true,
                "message": message,
                "headers": metadata_json(&rsp.metadata),
                "trailers": metadata_json(&rsp.trailers),
                "node": {"id": rsp.node.id, "address": rsp.node.address},
                "elapsed_ms": elapsed,
            })
        }
        Err(err) => json!({
            "ok": false,
            "error": error_fields(&err, &target.service),
            "elapsed_ms": elapsed,
        }),
    };
    crate::json(StatusCode::OK, &body)
}

/// How long a stream may run when its setup sets no timeout.
const STREAM_DEADLINE: Duration = Duration::from_secs(3600);

/// How long the page has to send the setup frame.
const SETUP_WITHIN: Duration = Duration::from_secs(10);

/// `GET api/stream`: a websocket whose first frame names the call; the gateway's relay runs
/// the rest (each frame a request, an empty frame ends them, each reply a frame).
pub(crate) async fn stream(State(web): State<Web>, upgrade: WebSocketUpgrade) -> Response {
    let max = web.options().max_body;
    upgrade
        .max_message_size(max)
        .on_upgrade(move |socket| run_stream(web, socket))
        .into_response()
}

async fn refuse(mut socket: WebSocket, status: StatusCode, detail: &str) {
    let body = json!({"error": {
        "id": "micro.web", "code": status.as_u16(), "detail": detail,
        "status": status.canonical_reason().unwrap_or("Error"),
    }});
    let _ = socket.send(Message::Text(body.to_string().into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: "refused".into(),
        })))
        .await;
}

async fn run_stream(web: Web, mut socket: WebSocket) {
    let first = tokio::time::timeout(SETUP_WITHIN, socket.recv()).await;
    let text = match first {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(Message::Binary(b)))) => match std::str::from_utf8(&b) {
            Ok(t) => t.into(),
            Err(_) => {
                return refuse(
                    socket,
                    StatusCode::BAD_REQUEST,
                    "the setup frame is not text",
                )
                .await;
            }
        },
        Err(_) => {
            return refuse(
                socket,
                StatusCode::REQUEST_TIMEOUT,
                "no setup frame within 10 s",
            )
            .await;
        }
        _ => return,
    };
    let target: Target = match serde_json::from_str(text.as_str()) {
        Ok(t) => t,
        Err(why) => {
            let detail = format!(
                "the first frame names the call: {{\"csrf\", \"service\", \"endpoint\", \"metadata\", \"address\", \"timeout\"}} ({why})"
            );
            return refuse(socket, StatusCode::BAD_REQUEST, &detail).await;
        }
    };
    if !target
        .csrf
        .as_deref()
        .is_some_and(|c| crate::guard::same(c, &web.inner.csrf))
    {
        return refuse(
            socket,
            StatusCode::FORBIDDEN,
            "missing or wrong csrf in the setup frame (the page's token from GET api/session)",
        )
        .await;
    }
    let opts = match options(&web, &target, STREAM_DEADLINE).await {
        Ok(o) => o,
        Err(why) => return refuse(socket, StatusCode::BAD_REQUEST, &why).await,
    };
    micro_gateway::relay_websocket(
        web.client().clone(),
        target.service,
        target.endpoint,
        opts,
        socket,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("valid JSON")
    }

    #[test]
    fn requests_are_objects_or_strings_holding_one() {
        assert_eq!(request_bytes(None).as_deref(), Ok(&b"{}"[..]));
        assert_eq!(request_bytes(Some(&raw("null"))).as_deref(), Ok(&b"{}"[..]));
        assert_eq!(
            request_bytes(Some(&raw(r#"{"name":"John"}"#))).as_deref(),
            Ok(&br#"{"name":"John"}"#[..])
        );
        assert_eq!(
            request_bytes(Some(&raw(r#""{\"a\":1}""#))).as_deref(),
            Ok(&br#"{"a":1}"#[..])
        );
        assert!(request_bytes(Some(&raw("[1]"))).is_err());
        let err = request_bytes(Some(&raw(r#""{nope""#))).unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
