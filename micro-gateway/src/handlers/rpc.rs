//! The `rpc` handler: a request body (or a GET's query) as an RPC call; routes from
//! `google.api.http` rules; and go-micro's `/rpc`.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use micro::client::CallOptions;
use micro::{Context, Format};
use serde_json::Value as Json;

use crate::body::{self, Kind};
use crate::resolve::Target;
use crate::routes::{EndpointInfo, Rule, Table};
use crate::transcode::{self, Parts as Transcode};
use crate::{Gateway, reply};

use super::stream;

/// True when the request asks for a websocket.
pub(crate) fn wants_websocket(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// How the reply is written.
enum Reply {
    /// The whole JSON reply.
    Whole,
    /// One field of it (`response_body`).
    Field(String),
}

/// One call to make for a request.
struct Call {
    target: Target,
    info: Arc<EndpointInfo>,
    opts: CallOptions,
    request: Bytes,
    format: Format,
    reply_as: Reply,
}

/// Make the call and answer: unary as JSON, a server stream as NDJSON or SSE, client and
/// bidirectional streams only over a websocket.
async fn answer(gw: &Gateway, call: Call, parts: &Parts) -> Response {
    let Call {
        target,
        info,
        opts,
        request,
        format,
        reply_as,
    } = call;
    let target = &target;
    match info.stream.as_deref() {
        Some("server") => {
            let opts = body::stream_options(opts, &parts.headers);
            return stream::server(
                gw,
                target,
                opts,
                request,
                stream::Framing::of(&parts.headers),
            )
            .await;
        }
        Some(kind) => {
            return reply::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{} takes a stream of requests ({kind} stream): open a websocket to this path and send one JSON message per frame",
                    target.endpoint
                ),
            );
        }
        None => {}
    }
    let opts = if info.idempotent {
        opts.idempotent(true)
    } else {
        opts
    };
    let rsp = gw
        .client()
        .call_raw(
            &Context::new(),
            &target.service,
            &target.endpoint,
            format,
            request,
            &opts,
        )
        .await;
    match rsp {
        Err(err) => reply::call_failed(&err, &target.service),
        Ok(rsp) if format == Format::Proto => {
            let mut out = Response::new(Body::from(rsp.message));
            out.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/protobuf"),
            );
            out
        }
        Ok(rsp) => match reply_as {
            Reply::Whole => reply::json(StatusCode::OK, rsp.message),
            Reply::Field(field) => {
                let whole: Json = serde_json::from_slice(&rsp.message).unwrap_or(Json::Null);
                let picked = transcode::response_field(whole, &field, info.response.as_ref());
                reply::json(StatusCode::OK, picked.to_string())
            }
        },
    }
}

/// A request routed by an HTTP rule.
pub(crate) async fn by_rule(
    gw: &Gateway,
    table: &Table,
    rule: Rule,
    vars: Vec<(String, String)>,
    parts: Parts,
    body: Body,
) -> Response {
    let target = Target {
        service: rule.service.clone(),
        endpoint: rule.endpoint.clone(),
    };
    let info = table
        .endpoint(&rule.service, &rule.endpoint)
        .cloned()
        .unwrap_or_default();
    let opts = match body::call_options(&parts.headers, gw.options(), &target) {
        Ok(o) => o,
        Err(rsp) => return *rsp,
    };
    if wants_websocket(&parts) && info.stream.is_some() {
        let opts = body::stream_options(opts, &parts.headers);
        return stream::websocket(gw, target, opts, parts).await;
    }
    let options = gw.options();
    let bytes = match body::read(&parts.headers, body, options.max_body, options.read_timeout).await
    {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    let has_body = rule.body.is_some() && !bytes.iter().all(u8::is_ascii_whitespace);
    if has_body {
        match body::kind(&parts.headers).map(|k| body::refine(k, &bytes)) {
            Ok(Kind::Json) => {}
            Ok(_) => {
                return reply::error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "this route takes a JSON body (application/json)",
                );
            }
            Err(rsp) => return *rsp,
        }
    }
    let request = transcode::request(Transcode {
        body_field: rule.body.as_deref(),
        schema: info.request.as_ref(),
        vars: &vars,
        query: parts.uri.query(),
        body: has_body.then_some(&bytes[..]),
        strict: options.strict,
    });
    let request = match request {
        Ok(r) => r,
        Err(why) => return reply::error(StatusCode::BAD_REQUEST, why),
    };
    let reply_as = match &rule.response_body {
        Some(field) => Reply::Field(field.clone()),
        None => Reply::Whole,
    };
    let call = Call {
        target,
        info,
        opts,
        request: Bytes::from(request),
        format: Format::Json,
        reply_as,
    };
    answer(gw, call, &parts).await
}

/// A request for a resolved service and endpoint: the body as the request (JSON, protobuf,
/// or form fields), or for a GET or DELETE the query.
pub(crate) async fn by_target(
    gw: &Gateway,
    table: &Table,
    target: Target,
    parts: Parts,
    body: Body,
) -> Response {
    let Some(info) = table.endpoint(&target.service, &target.endpoint).cloned() else {
        return super::no_route(&parts.method, parts.uri.path());
    };
    let opts = match body::call_options(&parts.headers, gw.options(), &target) {
        Ok(o) => o,
        Err(rsp) => return *rsp,
    };
    if wants_websocket(&parts) && info.stream.is_some() {
        let opts = body::stream_options(opts, &parts.headers);
        return stream::websocket(gw, target, opts, parts).await;
    }
    let options = gw.options();
    let kind = match body::kind(&parts.headers) {
        Ok(k) => k,
        Err(rsp) => return *rsp,
    };
    let bytes = match body::read(&parts.headers, body, options.max_body, options.read_timeout).await
    {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    let (request, format) = if bytes.is_empty()
        && matches!(parts.method, Method::GET | Method::DELETE | Method::HEAD)
    {
        match transcode::query_request(parts.uri.query(), info.request.as_ref()) {
            Ok(v) => (Bytes::from(v.to_string()), Format::Json),
            Err(why) => return reply::error(StatusCode::BAD_REQUEST, why),
        }
    } else {
        match body::refine(kind, &bytes) {
            Kind::Proto => (bytes, Format::Proto),
            Kind::Form => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                match transcode::query_request(Some(&text), info.request.as_ref()) {
                    Ok(v) => (Bytes::from(v.to_string()), Format::Json),
                    Err(why) => return reply::error(StatusCode::BAD_REQUEST, why),
                }
            }
            Kind::Json if bytes.iter().all(u8::is_ascii_whitespace) => {
                (Bytes::from_static(b"{}"), Format::Json)
            }
            Kind::Json => match body::json_object(&bytes) {
                Ok(()) => (bytes, Format::Json),
                Err(rsp) => return *rsp,
            },
        }
    };
    let call = Call {
        target,
        info,
        opts,
        request,
        format,
        reply_as: Reply::Whole,
    };
    answer(gw, call, &parts).await
}

/// go-micro's `/rpc`: POST `{service, endpoint|method, request}` as JSON or form fields.
pub(crate) async fn endpoint(
    axum::extract::State(gw): axum::extract::State<Gateway>,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let options = gw.options();
    if !options.enable_rpc {
        return super::no_route(&parts.method, parts.uri.path());
    }
    if parts.method != Method::POST {
        let mut rsp = reply::error(StatusCode::METHOD_NOT_ALLOWED, "/rpc takes POST");
        rsp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return rsp;
    }
    let kind = match body::kind(&parts.headers) {
        Ok(Kind::Proto) => {
            return reply::error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "/rpc takes JSON or form fields",
            );
        }
        Ok(k) => k,
        Err(rsp) => return *rsp,
    };
    let bytes = match body::read(&parts.headers, body, options.max_body, options.read_timeout).await
    {
        Ok(b) => b,
        Err(rsp) => return *rsp,
    };
    // The envelope's fields as JSON text: the request inside passes through unparsed.
    type Fields = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;
    let fields: Fields = match body::refine(kind, &bytes) {
        Kind::Form => transcode::query_pairs(&String::from_utf8_lossy(&bytes))
            .into_iter()
            .filter_map(|(k, v)| {
                let text = Json::String(v).to_string();
                Some((k, serde_json::value::RawValue::from_string(text).ok()?))
            })
            .collect(),
        _ => {
            if let Err(rsp) = body::json_object(&bytes) {
                return *rsp;
            }
            match serde_json::from_slice(&bytes) {
                Ok(map) => map,
                Err(_) => {
                    return reply::error(StatusCode::BAD_REQUEST, "/rpc takes a JSON object");
                }
            }
        }
    };
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .filter(|s| !s.is_empty())
    };
    let Some(service) = text("service") else {
        return reply::error(StatusCode::BAD_REQUEST, "/rpc needs a service");
    };
    let Some(endpoint) = text("endpoint").or_else(|| text("method")) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "/rpc needs an endpoint (or method)",
        );
    };
    let target = Target { service, endpoint };
    let mut opts = match body::call_options(&parts.headers, options, &target) {
        Ok(o) => o,
        Err(rsp) => return *rsp,
    };
    if let Some(address) = text("address") {
        if !options.rpc_allow_address {
            return reply::error(
                StatusCode::FORBIDDEN,
                "/rpc does not take an address unless the gateway allows it (--rpc_allow_address)",
            );
        }
        opts = opts.address(address);
    }
    let not_object = || {
        reply::error(
            StatusCode::BAD_REQUEST,
            "the request field must be a JSON object (or a string holding one)",
        )
    };
    let request = match fields.get("request").map(|raw| raw.get().trim()) {
        None | Some("null") => Bytes::from_static(b"{}"),
        Some(raw) if raw.starts_with('{') => Bytes::copy_from_slice(raw.as_bytes()),
        Some(raw) if raw.starts_with('"') => match serde_json::from_str::<String>(raw) {
            Ok(inner) if body::json_object(inner.as_bytes()).is_ok() => Bytes::from(inner),
            _ => return not_object(),
        },
        Some(_) => return not_object(),
    };
    let info = gw
        .table()
        .endpoint(&target.service, &target.endpoint)
        .cloned()
        .unwrap_or_default();
    let call = Call {
        target,
        info,
        opts,
        request,
        format: Format::Json,
        reply_as: Reply::Whole,
    };
    answer(&gw, call, &parts).await
}
