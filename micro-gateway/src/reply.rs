//! Answers the gateway writes itself: errors in go-micro's JSON shape with an HTTP status
//! taken from the gRPC code as grpc-gateway maps it, and JSON bodies.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use micro::{Code, Error};

/// The id of errors the gateway produces itself.
pub const ID: &str = "micro.api";

/// The HTTP status for a gRPC code, as grpc-gateway maps it (`runtime/errors.go`).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// go-micro's error body for `status`: `{"id","code","detail","status"}`.
pub fn error_body(id: &str, status: StatusCode, detail: &str) -> String {
    serde_json::json!({
        "id": id,
        "code": status.as_u16(),
        "detail": detail,
        "status": status.canonical_reason().unwrap_or("Error"),
    })
    .to_string()
}

/// An error the gateway answers itself.
pub fn error(status: StatusCode, detail: impl AsRef<str>) -> Response {
    json(status, error_body(ID, status, detail.as_ref()))
}

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut rsp = Response::new(body.into());
    *rsp.status_mut() = status;
    rsp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    rsp
}

/// How a call to `service` failed, as the HTTP client sees it. Errors the service answered
/// keep their id and detail; errors of the gateway's own client (no node, unreachable,
/// out of time) get a fixed text that names the service and nothing internal.
pub fn call_error(err: &Error, service: &str) -> (StatusCode, String) {
    if err.dependency().is_some() || err.is_transport_failure() {
        let (status, detail) = match err.grpc_code() {
            Code::DeadlineExceeded => (
                StatusCode::GATEWAY_TIMEOUT,
                format!("service {service} did not answer before the deadline"),
            ),
            Code::NotFound => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("service {service} is unavailable: no node of it is registered"),
            ),
            Code::ResourceExhausted => (
                StatusCode::TOO_MANY_REQUESTS,
                format!("service {service} is overloaded"),
            ),
            Code::Cancelled => (
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                "the request was cancelled".to_owned(),
            ),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("service {service} is unavailable"),
            ),
        };
        return (status, error_body(ID, status, &detail));
    }
    let status = http_status(err.grpc_code());
    let id = if err.id().is_empty() {
        service
    } else {
        err.id()
    };
    let body = error_body(id, status, err.detail());
    if err.reason().is_none() && err.metadata().is_empty() && err.violations().is_empty() {
        return (status, body);
    }
    // A typed error keeps its reason, metadata and violations (the same keys as micro's
    // error JSON), so HTTP callers can branch on them.
    let mut value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let typed: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap_or_default();
    for key in ["reason", "metadata", "violations"] {
        if let Some(v) = typed.get(key) {
            value[key] = v.clone();
        }
    }
    (status, value.to_string())
}

/// [`call_error`] as a response.
pub fn call_failed(err: &Error, service: &str) -> Response {
    let (status, body) = call_error(err, service);
    let mut rsp = json(status, body);
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        rsp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    rsp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_gateway_status_table() {
        let rows = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::Unauthenticated, 401),
            (Code::ResourceExhausted, 429),
            (Code::Unimplemented, 501),
            (Code::Internal, 500),
            (Code::Unavailable, 503),
            (Code::DeadlineExceeded, 504),
            (Code::Cancelled, 499),
            (Code::DataLoss, 500),
        ];
        for (code, want) in rows {
            assert_eq!(http_status(code).as_u16(), want, "{code:?}");
        }
    }

    #[test]
    fn answered_errors_keep_their_words() {
        let err = Error::not_found("shop", "order 7 not found");
        let (status, body) = call_error(&err, "shop");
        assert_eq!(status, StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "shop");
        assert_eq!(v["code"], 404);
        assert_eq!(v["detail"], "order 7 not found");
        assert_eq!(v["status"], "Not Found");
        assert!(v.get("reason").is_none(), "{v}");
    }

    #[test]
    fn typed_errors_keep_reason_metadata_and_violations() {
        let err = Error::not_found("users", "no user 7")
            .with_reason("USER_NOT_FOUND")
            .with_metadata("id", "7");
        let (status, body) = call_error(&err, "users");
        assert_eq!(status, StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["reason"], "USER_NOT_FOUND");
        assert_eq!(v["metadata"]["id"], "7");
        let invalid = Error::invalid(
            "users",
            vec![micro::Violation::new(
                "email",
                "string.email",
                "value must be a valid email address",
            )],
        );
        let (status, body) = call_error(&invalid, "users");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["violations"][0]["field"], "email");
        assert_eq!(v["violations"][0]["rule"], "string.email");
    }
}
