//! The `api` handler (the whole HTTP request as a `micro.api.Request`, the reply a
//! `micro.api.Response`) and the `event` handler (the request published as a
//! `micro.api.Event`). Both messages are in `proto/micro/api/api.proto`, with go-micro's
//! field numbers; the gateway sends them as JSON.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use micro::broker::Envelope;
use micro::{Context, Format};
use serde_json::{Value as Json, json};

use crate::body::{self, Kind};
use crate::resolve::{self, Target};
use crate::transcode;
use crate::{Gateway, reply};

/// `map<string, Pair>` from header or form pairs.
fn pairs(items: impl Iterator<Item = (String, String)>) -> Json {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in items {
        map.entry(k).or_default().push(v);
    }
    let obj: serde_json::Map<String, Json> = map
        .into_iter()
        .map(|(k, values)| (k.clone(), json!({"key": k, "values": values})))
        .collect();
    Json::Object(obj)
}

/// The request's headers as pairs, names in canonical form (`Content-Type`), as go-micro's
/// maps hold them; credentials are left out.
fn header_map(headers: &HeaderMap) -> Json {
    pairs(
        headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "authorization"
                        | "cookie"
                        | "proxy-authorization"
                        | "x-api-key"
                        | micro::auth::ACCOUNT_HEADER
                )
            })
            .filter_map(|(k, v)| Some((canonical(k.as_str()), v.to_str().ok()?.to_owned()))),
    )
}

/// `content-type` → `Content-Type`.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn query_pairs(query: Option<&str>) -> Json {
    pairs(transcode::query_pairs(query.unwrap_or("")).into_iter())
}

/// The `api` handler: call `target` with a `micro.api.Request`.
pub(crate) async fn call(gw: &Gateway, target: Target, parts: Parts, body: Body) -> Response {
    let options = gw.options();
    // Checked first: a refused caller's body is not read.
    let opts = match body::call_options(&parts.headers, options, &target) {
        Ok(o) => o,
        Err(rsp) => return *rsp,
    };
    let bytes = match body::read(&parts.headers, body, options.max_body, options.read_timeout).await
    {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    let form = matches!(body::kind(&parts.headers), Ok(Kind::Form));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let request = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "header": header_map(&parts.headers),
        "get": query_pairs(parts.uri.query()),
        "post": if form { query_pairs(Some(&text)) } else { json!({}) },
        "body": if form { String::new() } else { text },
        "url": parts.uri.to_string(),
    });
    let rsp = gw
        .client()
        .call_raw(
            &Context::new(),
            &target.service,
            &target.endpoint,
            Format::Json,
            Bytes::from(request.to_string()),
            &opts,
        )
        .await;
    let rsp = match rsp {
        Ok(r) => r,
        Err(err) => return reply::call_failed(&err, &target.service),
    };
    let Ok(answer) = serde_json::from_slice::<Json>(&rsp.message) else {
        return reply::error(
            StatusCode::BAD_GATEWAY,
            format!("{} did not answer a micro.api.Response", target.service),
        );
    };
    let status = answer
        .get("statusCode")
        .or_else(|| answer.get("status_code"))
        .and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok()))
        .filter(|c| *c != 0)
        .unwrap_or(200);
    let Some(status) = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        return reply::error(
            StatusCode::BAD_GATEWAY,
            format!("{} answered an invalid status code", target.service),
        );
    };
    let body = answer
        .get("body")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_owned();
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    if let Some(Json::Object(headers)) = answer.get("header") {
        for (name, pair) in headers {
            let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            if matches!(
                name.as_str(),
                "connection" | "transfer-encoding" | "content-length" | "keep-alive" | "upgrade"
            ) {
                continue;
            }
            for value in pair
                .get("values")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                if let Ok(v) = HeaderValue::from_str(value) {
                    out.headers_mut().append(name.clone(), v);
                }
            }
        }
    }
    out
}

/// The `event` handler: publish the request on `<namespace>.<first segment>` (with a leading
/// version kept: `<namespace>.v1.foo`), named after the rest of the path.
pub(crate) async fn event(gw: &Gateway, parts: Parts, body: Body) -> Response {
    let Some(broker) = gw.inner.broker.get() else {
        return reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway has no broker to publish events on",
        );
    };
    let path = parts.uri.path();
    let Some(segments) = resolve::segments(path) else {
        return super::no_route(&parts.method, path);
    };
    let topic = match resolve::proxy_service(&gw.options().namespace, path) {
        Ok(t) => t,
        Err(_) => return super::no_route(&parts.method, path),
    };
    let skip = if segments.first().is_some_and(|s| resolve::versioned(s)) {
        2
    } else {
        1
    };
    let name = segments.get(skip..).unwrap_or_default().join(".");
    let options = gw.options();
    let bytes = match body::read(&parts.headers, body, options.max_body, options.read_timeout).await
    {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    let data = if bytes.is_empty() && parts.method == Method::GET {
        transcode::query_request(parts.uri.query(), None)
            .unwrap_or_default()
            .to_string()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let id = micro::broker::new_message_id();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let event = json!({
        "name": name,
        "id": id,
        "timestamp": timestamp.to_string(),
        "header": header_map(&parts.headers),
        "data": data,
    });
    let mut message = Envelope::new(event.to_string())
        .with_header("Content-Type", "application/json")
        .with_header("Micro-Id", id.clone());
    // The trace goes on in the message's headers, as a service's publish sends it.
    for key in [micro::trace::TRACEPARENT, micro::trace::TRACESTATE] {
        if let Some(value) = parts.headers.get(key).and_then(|v| v.to_str().ok()) {
            message = message.with_header(key, value);
        }
    }
    match broker.publish(&topic, message).await {
        Ok(()) => reply::json(
            StatusCode::OK,
            json!({"id": id, "topic": topic, "name": name}).to_string(),
        ),
        Err(err) => {
            tracing::warn!("the gateway could not publish on {topic}: {err}");
            reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the event could not be published on {topic}"),
            )
        }
    }
}
