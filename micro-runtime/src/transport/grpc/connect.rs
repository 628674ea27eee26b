//! Plain HTTP on the gRPC port: the Connect protocol's unary form.
//!
//! `POST /<package>.<Service>/<Method>` with `Content-Type: application/json` (or
//! `application/proto`) and the bare message as the body; the response is the bare message,
//! or an error as JSON (`{"code":"not_found","message":".."}`) with the matching HTTP status.
//! So `curl` and Connect clients call any micro service, over HTTP/1.1 or HTTP/2.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::server::ID;
use crate::codec::Format;
use crate::context::{Context, SharedResponse};
use crate::endpoint::{Dispatch, HandlerRequest, Input, Output, Route, StreamKind, with_deadline};
use crate::error::{Code, Error};
use crate::wire::body::Body;
use crate::wire::status;

/// `Connect-Timeout-Ms`.
pub(super) const TIMEOUT: HeaderName = HeaderName::from_static("connect-timeout-ms");

/// The format of a Connect unary content type.
pub(super) fn format(content_type: &str) -> Option<Format> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    match essence {
        "application/json" => Some(Format::Json),
        "application/proto" | "application/protobuf" | "application/x-protobuf" => {
            Some(Format::Proto)
        }
        "application/msgpack" => Some(Format::MsgPack),
        _ => None,
    }
}

fn content_type(format: Format) -> HeaderValue {
    HeaderValue::from_static(match format {
        Format::Proto => "application/proto",
        Format::MsgPack => "application/msgpack",
        _ => "application/json",
    })
}

/// `Connect-Timeout-Ms`: at most 10 digits of milliseconds.
pub(super) fn parse_timeout(value: &HeaderValue) -> crate::error::Result<Duration> {
    let text = value.to_str().unwrap_or("");
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::bad_request(
            ID,
            format!(
                "invalid Connect-Timeout-Ms {text:?}: expected up to 10 digits of milliseconds"
            ),
        ));
    }
    Ok(Duration::from_millis(text.parse().unwrap_or(u64::MAX)))
}

/// The Connect name of a code.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status of a code (the Connect specification's table).
fn http_status(code: Code) -> StatusCode {
    let n = match code {
        Code::Ok => 200,
        Code::Cancelled => 499,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::DeadlineExceeded => 504,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::PermissionDenied => 403,
        Code::ResourceExhausted => 429,
        Code::Unimplemented => 501,
        Code::Unavailable => 503,
        Code::Unauthenticated => 401,
        Code::Unknown | Code::Internal | Code::DataLoss => 500,
    };
    StatusCode::from_u16(n).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn add_metadata(rsp: &mut Response<Body>, response: Option<&SharedResponse>) {
    let Some(response) = response else { return };
    let response = response.lock().unwrap_or_else(|e| e.into_inner());
    status::metadata_to_headers(&response.headers, rsp.headers_mut());
    let mut trailers = crate::context::Metadata::new();
    for (k, v) in response.trailers.iter() {
        trailers.insert(format!("trailer-{k}"), v);
    }
    status::metadata_to_headers(&trailers, rsp.headers_mut());
}

/// An error as Connect sends it: an HTTP status and `{"code","message"}`. The micro error
/// (id and HTTP-style code) rides along in `micro-error-bin`, as on the gRPC path.
pub(super) fn error_response(err: &Error, response: Option<&SharedResponse>) -> Response<Body> {
    let mut body = serde_json::json!({
        "code": code_name(err.grpc_code()),
        "message": err.detail(),
    });
    // Connect's error details: `{"type", "value"}` with the message's full name and its
    // bytes in unpadded base64 (`google.rpc.ErrorInfo`, `google.rpc.BadRequest`).
    let details: Vec<serde_json::Value> = crate::wire::rich::details(err)
        .into_iter()
        .map(|(type_url, value)| {
            use base64::Engine as _;
            serde_json::json!({
                "type": type_url.trim_start_matches("type.googleapis.com/"),
                "value": base64::engine::general_purpose::STANDARD_NO_PAD.encode(value),
            })
        })
        .collect();
    if !details.is_empty() {
        body["details"] = serde_json::Value::Array(details);
    }
    let mut rsp = Response::new(Body::once(Bytes::from(body.to_string()), None));
    // A body or header over the limit is the caller's to fix, not a reason to retry later:
    // 413 / 431 as the error says, where the code table would give 429.
    *rsp.status_mut() = match err.code() {
        413 => StatusCode::PAYLOAD_TOO_LARGE,
        431 => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => http_status(err.grpc_code()),
    };
    add_metadata(&mut rsp, response);
    rsp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut map = http::HeaderMap::new();
    status::error_headers(err, &mut map);
    if let Some(v) = map.remove(status::MICRO_ERROR) {
        rsp.headers_mut().insert(status::MICRO_ERROR, v);
    }
    rsp
}

pub(super) async fn call(
    shared: &Dispatch,
    route: Arc<Route>,
    ctx: Context,
    format: Format,
    body: Incoming,
    response: SharedResponse,
) -> Response<Body> {
    if route.kind != StreamKind::Unary {
        let err = Error::unimplemented(
            ID,
            format!("{} is a streaming endpoint: call it over gRPC", route.name),
        );
        return error_response(&err, None);
    }
    let deadline = ctx.deadline();
    let max = shared.limits.max_recv;
    let max_send = shared.limits.max_send;
    let name = route.name.clone();
    let work = async move {
        let _pass = shared.admit(&route, deadline)?;
        let bytes = match Limited::new(body, max).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(Error::too_large(
                    ID,
                    format!("request body is larger than the limit of {max} bytes"),
                )
                .with_grpc_code(Code::ResourceExhausted));
            }
            Err(e) => {
                return Err(Error::cancelled(
                    ID,
                    format!("the caller went away while sending the request: {e}"),
                ));
            }
        };
        let request = HandlerRequest::new(ctx, format, Input::Unary(bytes), route.kind, max_send);
        shared.call(&route, request).await.map(|r| r.output)
    };
    let expiry = deadline.map(|at| tokio::time::sleep_until(at.into()));
    tokio::pin!(expiry);
    match with_deadline(expiry.as_mut().as_pin_mut(), &name, work).await {
        Ok(Output::Unary(frame)) => {
            // Drop the gRPC length prefix: Connect unary bodies are bare messages.
            let message = frame.slice(5.min(frame.len())..);
            let mut rsp = Response::new(Body::once(message, None));
            add_metadata(&mut rsp, Some(&response));
            rsp.headers_mut().insert(CONTENT_TYPE, content_type(format));
            rsp
        }
        Ok(Output::Stream { .. }) => error_response(
            &Error::internal(ID, format!("{name} answered with a stream")),
            None,
        ),
        Err(e) => {
            let e = crate::endpoint::leaving(e, &shared.service, &name);
            error_response(&e, Some(&response))
        }
    }
}
