//! What every handler reads from a request: the body (bounded in size and time), its
//! format, the metadata to forward and the deadline.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use micro::client::CallOptions;

use crate::Options;
use crate::reply;

/// Read the whole body: 413 above `limit`, 408 when it does not arrive within `timeout`.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Box<Response>> {
    let too_large = || {
        reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the gateway's limit of {limit} bytes"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(Box::new(too_large()));
    }
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Box::new(reply::error(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {timeout:?}"),
        ))),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Box::new(too_large())),
        Ok(Err(_)) => Err(Box::new(reply::error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// The format of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `application/json` (or no content type).
    Json,
    /// `application/protobuf`, `application/x-protobuf`, `application/octet-stream`.
    Proto,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// The body's format from `Content-Type`; 415 naming the type when the gateway does not take
/// it.
pub(crate) fn kind(headers: &HeaderMap) -> Result<Kind, Box<Response>> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(Kind::Json);
    };
    let text = value.to_str().unwrap_or("");
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "" | "application/json" | "text/json" => Ok(Kind::Json),
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(Kind::Json),
        "application/protobuf" | "application/x-protobuf" | "application/octet-stream" => {
            Ok(Kind::Proto)
        }
        "application/x-www-form-urlencoded" => Ok(Kind::Form),
        _ => Err(Box::new(reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content type {text:?} is not supported: send application/json, application/protobuf or application/x-www-form-urlencoded"
            ),
        ))),
    }
}

/// `curl -d '{...}'` sends JSON labelled as a form: a form body that starts like JSON is
/// read as JSON.
pub(crate) fn refine(kind: Kind, bytes: &[u8]) -> Kind {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if kind == Kind::Form && matches!(first, Some(b'{' | b'[')) {
        Kind::Json
    } else {
        kind
    }
}

/// Parse a JSON body; 400 with the parser's position when it is not JSON.
pub(crate) fn json(bytes: &[u8]) -> Result<serde_json::Value, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(reply::error(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid JSON: {e}"),
        ))
    })
}

/// Check that a body is one JSON object without building it (the service parses it); 400
/// with the parser's position when it is not.
pub(crate) fn json_object(bytes: &[u8]) -> Result<(), Box<Response>> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: let the parser say what it is, or what is wrong.
        json(bytes)?;
        return Err(Box::new(reply::error(
            StatusCode::BAD_REQUEST,
            "the request body must be a JSON object",
        )));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| {
            Box::new(reply::error(
                StatusCode::BAD_REQUEST,
                format!("the request body is not valid JSON: {e}"),
            ))
        })
}

/// Headers never forwarded as metadata: hop-by-hop, framing, the gateway's own, and the
/// verified-identity header servers set (a caller must not bring its own).
const NOT_FORWARDED: [&str; 22] = [
    micro::auth::ACCOUNT_HEADER,
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "content-encoding",
    "accept",
    "accept-encoding",
    "timeout",
    "grpc-timeout",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
];

/// Headers forwarded only when [`Options::forward_headers`] names them.
pub(crate) const SENSITIVE: [&str; 5] = [
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "proxy-authorization",
];

/// The request headers a call carries as metadata.
pub(crate) fn metadata(headers: &HeaderMap, options: &Options) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if NOT_FORWARDED.contains(&name) || name.starts_with("grpc-") {
            continue;
        }
        // With auth on, the caller's token goes on: the service checks it too.
        let token = name == "authorization" && options.auth.is_some();
        if SENSITIVE.contains(&name) && !token && !options.forward_headers.iter().any(|h| h == name)
        {
            continue;
        }
        if let Ok(value) = value.to_str() {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// The call options for a request: its metadata and its deadline (the `Timeout` header in
/// seconds, as go-micro's `/rpc` reads it, else the gateway's default). 400 for a bad
/// `Timeout`.
/// With auth on ([`Options::auth`]), a request the rules refuse is answered here, before
/// its body is read: 401 (with `WWW-Authenticate: Bearer`) or 403, as go-micro's error JSON.
pub(crate) fn call_options(
    headers: &HeaderMap,
    options: &Options,
    target: &crate::resolve::Target,
) -> Result<CallOptions, Box<Response>> {
    if let Some(gate) = &options.auth {
        if headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .nth(1)
            .is_some()
        {
            return Err(Box::new(reply::error(
                StatusCode::BAD_REQUEST,
                "send one Authorization header, not several",
            )));
        }
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("\u{fffd}"));
        if let Err(err) = gate.check_endpoint(authorization, &target.service, &target.endpoint) {
            let mut rsp = reply::call_failed(&err, &target.service);
            if err.code() == 401 {
                rsp.headers_mut().insert(
                    http::header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Bearer"),
                );
            }
            return Err(Box::new(rsp));
        }
    }
    let mut opts = CallOptions::new().timeout(options.call_timeout);
    if let Some(value) = headers.get("timeout") {
        let secs = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
            .ok_or_else(|| {
                Box::new(reply::error(
                    StatusCode::BAD_REQUEST,
                    "the Timeout header must be a number of seconds between 0 and 3600",
                ))
            })?;
        opts = opts.timeout(Duration::from_secs_f64(secs));
    }
    for (k, v) in metadata(headers, options) {
        opts = opts.metadata(k, v);
    }
    Ok(opts)
}

/// How long a stream may run when the request sets no `Timeout`: streams (server-sent
/// events, websockets) outlive the deadline of a unary call.
pub(crate) const STREAM_DEADLINE: Duration = Duration::from_secs(3600);

/// The options for a stream: without a `Timeout` header, [`STREAM_DEADLINE`] instead of the
/// unary default.
pub(crate) fn stream_options(opts: CallOptions, headers: &HeaderMap) -> CallOptions {
    if headers.contains_key("timeout") {
        opts
    } else {
        opts.timeout(STREAM_DEADLINE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_and_hop_headers_stay_behind() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer x".parse().unwrap());
        h.insert("cookie", "a=b".parse().unwrap());
        h.insert("connection", "keep-alive".parse().unwrap());
        h.insert("x-request-id", "r1".parse().unwrap());
        let md = metadata(&h, &Options::default());
        assert_eq!(md, vec![("x-request-id".to_owned(), "r1".to_owned())]);
        let opts = Options {
            forward_headers: vec!["authorization".into()],
            ..Options::default()
        };
        assert!(
            metadata(&h, &opts)
                .iter()
                .any(|(k, _)| k == "authorization")
        );
    }

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert_eq!(kind(&h).ok(), Some(Kind::Json));
        h.insert(
            "content-type",
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert_eq!(kind(&h).ok(), Some(Kind::Json));
        h.insert("content-type", "application/x-protobuf".parse().unwrap());
        assert_eq!(kind(&h).ok(), Some(Kind::Proto));
        h.insert("content-type", "text/xml".parse().unwrap());
        let rsp = kind(&h).unwrap_err();
        assert_eq!(rsp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
