//! The error type of micro: go-micro's `{"id","code","detail","status"}` shape, mapped both
//! ways to gRPC status codes.
//!
//! Every failure a user can meet — an unknown service, a bad request, a deadline, a handler
//! error — is an [`Error`]. It serializes to the JSON go-micro users know:
//!
//! ```
//! let err = micro_runtime::Error::not_found("micro.client", "service greeter: not found");
//! assert_eq!(err.code(), 404);
//! assert_eq!(
//!     err.to_json(),
//!     r#"{"id":"micro.client","code":404,"detail":"service greeter: not found","status":"Not Found"}"#
//! );
//! assert_eq!(err.grpc_code(), micro_runtime::Code::NotFound);
//! ```
//!
//! On the gRPC wire an error travels as `grpc-status` and `grpc-message` (so stock gRPC clients
//! understand it) plus the full JSON in the `micro-error-bin` trailer (so micro clients get the
//! exact `id` and `code` back).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A `Result` whose error is micro's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error used as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// gRPC status codes, with the discriminants the gRPC specification gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Not an error.
    Ok = 0,
    /// The operation was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error.
    Unknown = 2,
    /// The client specified an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the operation could complete.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity that a client attempted to create already exists.
    AlreadyExists = 6,
    /// The caller does not have permission to execute the operation.
    PermissionDenied = 7,
    /// Some resource has been exhausted (for example a message size limit).
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation.
    FailedPrecondition = 9,
    /// The operation was aborted.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation is not implemented or not supported.
    Unimplemented = 12,
    /// Internal error.
    Internal = 13,
    /// The service is currently unavailable.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request does not have valid authentication credentials.
    Unauthenticated = 16,
}

impl Code {
    /// The code for a numeric gRPC status; unknown numbers become [`Code::Unknown`].
    pub const fn from_i32(value: i32) -> Code {
        match value {
            0 => Code::Ok,
            1 => Code::Cancelled,
            3 => Code::InvalidArgument,
            4 => Code::DeadlineExceeded,
            5 => Code::NotFound,
            6 => Code::AlreadyExists,
            7 => Code::PermissionDenied,
            8 => Code::ResourceExhausted,
            9 => Code::FailedPrecondition,
            10 => Code::Aborted,
            11 => Code::OutOfRange,
            12 => Code::Unimplemented,
            13 => Code::Internal,
            14 => Code::Unavailable,
            15 => Code::DataLoss,
            16 => Code::Unauthenticated,
            _ => Code::Unknown,
        }
    }

    /// The numeric gRPC status.
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// The HTTP-style code micro uses for this gRPC code (go-micro's mapping, extended).
    pub const fn http_code(self) -> i32 {
        match self {
            Code::Ok => 200,
            Code::Cancelled => 499,
            Code::Unknown => 500,
            Code::InvalidArgument => 400,
            Code::DeadlineExceeded => 408,
            Code::NotFound => 404,
            Code::AlreadyExists => 409,
            Code::PermissionDenied => 403,
            Code::ResourceExhausted => 429,
            Code::FailedPrecondition => 412,
            Code::Aborted => 409,
            Code::OutOfRange => 400,
            Code::Unimplemented => 501,
            Code::Internal => 500,
            Code::Unavailable => 503,
            Code::DataLoss => 500,
            Code::Unauthenticated => 401,
        }
    }

    /// The gRPC code for an HTTP-style micro code.
    pub const fn from_http_code(code: i32) -> Code {
        match code {
            200..=299 => Code::Ok,
            400 => Code::InvalidArgument,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::NotFound,
            405 => Code::Unimplemented,
            408 => Code::DeadlineExceeded,
            409 => Code::AlreadyExists,
            412 => Code::FailedPrecondition,
            413 | 429 => Code::ResourceExhausted,
            415 => Code::InvalidArgument,
            499 => Code::Cancelled,
            500 => Code::Internal,
            501 => Code::Unimplemented,
            502 | 503 => Code::Unavailable,
            504 => Code::DeadlineExceeded,
            _ if code >= 400 && code < 500 => Code::FailedPrecondition,
            _ => Code::Unknown,
        }
    }

    /// The name gRPC gives this code, e.g. `NOT_FOUND`.
    pub const fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The reason phrase for an HTTP-style code (`"Not Found"` for 404).
pub fn status_text(code: i32) -> &'static str {
    match code {
        499 => "Client Closed Request",
        _ => u16::try_from(code)
            .ok()
            .and_then(|c| http::StatusCode::from_u16(c).ok())
            .and_then(|s| s.canonical_reason())
            .unwrap_or(""),
    }
}

/// Where a call failed: decides whether the node is marked and whether a retry is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Failure {
    /// The node answered (an application error): nothing wrong with the node.
    #[default]
    Answered,
    /// The request provably never reached a handler (connect refused, stream refused):
    /// the node failed, and sending the call elsewhere cannot run it twice.
    BeforeSend,
    /// The connection failed after the request was sent: the node failed, and the request
    /// may have run, so only an idempotent call may be sent again.
    AfterSend,
}

/// An error: go-micro's `{id, code, detail, status}` plus the gRPC status it maps to.
///
/// Construct one with a constructor per kind ([`Error::bad_request`], [`Error::not_found`],
/// [`Error::timeout`], [`Error::internal`] ...) or [`Error::new`] for any code.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    id: String,
    code: i32,
    detail: String,
    status: String,
    grpc: Code,
    failure: Failure,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

#[derive(Serialize, Deserialize)]
struct Json<'a> {
    #[serde(default, borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(default)]
    code: i32,
    #[serde(default, borrow)]
    detail: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    status: std::borrow::Cow<'a, str>,
}

impl Error {
    /// An error with an explicit id, detail and HTTP-style code (go-micro's `errors.New`).
    pub fn new(id: impl Into<String>, detail: impl Into<String>, code: i32) -> Error {
        Error(Box::new(Inner {
            id: id.into(),
            code,
            detail: detail.into(),
            status: status_text(code).to_owned(),
            grpc: Code::from_http_code(code),
            failure: Failure::Answered,
            source: None,
        }))
    }

    /// An error from a gRPC code; the HTTP-style code follows [`Code::http_code`].
    pub fn from_code(id: impl Into<String>, grpc: Code, detail: impl Into<String>) -> Error {
        let mut err = Error::new(id, detail, grpc.http_code());
        err.0.grpc = grpc;
        err
    }

    /// 400: the request was malformed.
    pub fn bad_request(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 400)
    }

    /// 401: the caller is not authenticated.
    pub fn unauthorized(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 401)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 403)
    }

    /// 404: something was not found.
    pub fn not_found(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 404)
    }

    /// 405: the method is not allowed.
    pub fn method_not_allowed(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 405)
    }

    /// 408: the deadline passed.
    pub fn timeout(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 408)
    }

    /// 409: a conflict.
    pub fn conflict(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 409)
    }

    /// 413: a message is larger than the configured limit (gRPC `RESOURCE_EXHAUSTED`).
    pub fn too_large(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 413)
    }

    /// 500: something failed inside.
    pub fn internal(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 500)
    }

    /// 501: the endpoint is not implemented (gRPC `UNIMPLEMENTED`).
    pub fn unimplemented(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 501)
    }

    /// 503: no node could take the call.
    pub fn unavailable(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 503)
    }

    /// 499: the call was cancelled.
    pub fn cancelled(id: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::new(id, detail, 499)
    }

    /// The id of the component that produced the error, e.g. `micro.client` or `greeter`.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The HTTP-style code, e.g. 404.
    pub fn code(&self) -> i32 {
        self.0.code
    }

    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// The reason phrase of the code, e.g. `Not Found`.
    pub fn status(&self) -> &str {
        &self.0.status
    }

    /// The gRPC status code this error travels as.
    pub fn grpc_code(&self) -> Code {
        self.0.grpc
    }

    /// Attach the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.0.source = Some(Arc::from(source.into()));
        self
    }

    /// Set the gRPC code explicitly (when it is not the one [`Code::from_http_code`] picks).
    #[must_use]
    pub fn with_grpc_code(mut self, code: Code) -> Error {
        self.0.grpc = code;
        self
    }

    /// A call that provably never reached a handler (`what` failed on `addr` before the
    /// request left): 503, and safe to send to another node.
    pub(crate) fn unsent(what: &str, addr: &str, cause: impl fmt::Display) -> Error {
        Error::unavailable("micro.client", format!("{what} {addr} failed: {cause}"))
            .with_failure(Failure::BeforeSend)
    }

    pub(crate) fn with_failure(mut self, failure: Failure) -> Error {
        self.0.failure = failure;
        self
    }

    pub(crate) fn failure(&self) -> Failure {
        self.0.failure
    }

    /// True when the request provably never reached a handler, so sending it to another node
    /// cannot run it twice.
    pub fn is_retry_safe(&self) -> bool {
        self.0.failure == Failure::BeforeSend
    }

    /// True when the call failed because of the node or the connection to it, not because of
    /// what the handler answered.
    pub fn is_transport_failure(&self) -> bool {
        self.0.failure != Failure::Answered
    }

    /// go-micro's JSON form: `{"id":..,"code":..,"detail":..,"status":..}`.
    pub fn to_json(&self) -> String {
        let json = Json {
            id: self.0.id.as_str().into(),
            code: self.0.code,
            detail: self.0.detail.as_str().into(),
            status: self.0.status.as_str().into(),
        };
        serde_json::to_string(&json).unwrap_or_else(|_| String::from("{}"))
    }

    /// Parse go-micro's JSON form; any other text becomes the detail of a 500 error
    /// (go-micro's `errors.Parse`).
    pub fn parse(text: &str) -> Error {
        match serde_json::from_str::<Json<'_>>(text) {
            Ok(json) if json.code != 0 || !json.detail.is_empty() => {
                let code = if json.code == 0 { 500 } else { json.code };
                let mut err = Error::new(json.id.into_owned(), json.detail.into_owned(), code);
                if !json.status.is_empty() {
                    err.0.status = json.status.into_owned();
                }
                err
            }
            _ => Error::new("", text, 500),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("id", &self.0.id)
            .field("code", &self.0.code)
            .field("detail", &self.0.detail)
            .field("status", &self.0.status)
            .field("grpc", &self.0.grpc);
        if let Some(source) = &self.0.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {})", self.0.detail, self.0.code, self.0.status)?;
        if !self.0.id.is_empty() {
            write!(f, " from {}", self.0.id)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for Error {
    /// Two errors are equal when their codes are (go-micro's `errors.Equal`).
    fn eq(&self, other: &Error) -> bool {
        self.0.code == other.0.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let err = Error::timeout("micro.client", "call timeout: deadline exceeded");
        let back = Error::parse(&err.to_json());
        assert_eq!(back.id(), "micro.client");
        assert_eq!(back.code(), 408);
        assert_eq!(back.status(), "Request Timeout");
        assert_eq!(back.grpc_code(), Code::DeadlineExceeded);
    }

    #[test]
    fn parse_plain_text_is_a_500_detail() {
        let err = Error::parse("boom");
        assert_eq!(err.code(), 500);
        assert_eq!(err.detail(), "boom");
    }

    #[test]
    fn codes_map_both_ways() {
        for code in [
            Code::InvalidArgument,
            Code::DeadlineExceeded,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::Unavailable,
            Code::Cancelled,
            Code::ResourceExhausted,
        ] {
            assert_eq!(Code::from_http_code(code.http_code()), code, "{code}");
            assert_eq!(Code::from_i32(code.as_i32()), code);
        }
        assert_eq!(Code::from_i32(99), Code::Unknown);
        assert_eq!(
            Error::too_large("x", "y").grpc_code(),
            Code::ResourceExhausted
        );
    }

    #[test]
    fn display_is_human() {
        let err = Error::not_found("micro.client", "service greeter: not found");
        assert_eq!(
            err.to_string(),
            "service greeter: not found (404 Not Found) from micro.client"
        );
    }
}
