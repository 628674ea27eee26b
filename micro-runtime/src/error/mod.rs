//! The error type of micro: go-micro's `{"id","code","detail","status"}` shape, mapped both
//! ways to gRPC status codes.
//!
//! Every failure a user can meet — an unknown service, a bad request, a deadline, a handler
//! error — is an [`Error`]. It serializes to the JSON go-micro users know:
//!
//! ```
//! let err = micro::Error::not_found("micro.client", "service greeter: not found");
//! assert_eq!(err.code(), 404);
//! assert_eq!(
//!     err.to_json(),
//!     r#"{"id":"micro.client","code":404,"detail":"service greeter: not found","status":"Not Found"}"#
//! );
//! assert_eq!(err.grpc_code(), micro::Code::NotFound);
//! ```
//!
//! On the gRPC wire an error travels as `grpc-status` and `grpc-message` (so stock gRPC clients
//! understand it) plus the full JSON in the `micro-error-bin` trailer (so micro clients get the
//! exact `id` and `code` back).
//!
//! # In handlers
//!
//! Any error type converts with `?`: it becomes a 500 whose detail callers see as `internal
//! error`, while the server logs the cause (nothing of a database message or a file path leaks
//! to callers). An empty id becomes the service's name when the error leaves the server, so
//! the short constructors of this module ([`not_found`], [`bad_request`] ...) need none:
//!
//! ```
//! # fn load(_: &str) -> std::io::Result<String> { Ok(String::new()) }
//! fn order(id: &str) -> micro::Result<String> {
//!     let text = load(id)?; // an io::Error: a concealed 500, its cause logged by the server
//!     if text.is_empty() {
//!         return Err(micro::error::not_found(format!("no order {id}")));
//!     }
//!     Ok(text)
//! }
//! ```
//!
//! An error a client call produced itself (the dependency could not be reached, had no node,
//! or ran out of time) leaves a handler as that handler's own `503`/`408` naming the
//! dependency, without its addresses; an error the dependency answered passes through as it is.

mod details;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use details::Details;
pub use details::Violation;

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
/// [`Error::timeout`], [`Error::internal`] ...) or [`Error::new`] for any code; or convert any
/// `std::error::Error` with `?` (a concealed internal error, see the [module](self) docs).
///
/// `Error` does not implement `std::error::Error` itself (that is what lets every other error
/// convert into it, as with `anyhow::Error`); it converts into `Box<dyn std::error::Error>`
/// and gives its cause with [`Error::source`].
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
    /// The detail callers see is generic; the cause is for the server's log.
    concealed: bool,
    /// The service a client call was made to, when the client itself produced the error.
    dependency: Option<Arc<str>>,
    /// Reason, metadata and violations, when the error has any.
    details: Option<Arc<Details>>,
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
    #[serde(default, borrow, skip_serializing_if = "str::is_empty")]
    reason: std::borrow::Cow<'a, str>,
    #[serde(
        default,
        deserialize_with = "details::lenient",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    metadata: BTreeMap<String, String>,
    #[serde(
        default,
        deserialize_with = "details::lenient",
        skip_serializing_if = "Vec::is_empty"
    )]
    violations: Vec<Violation>,
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
            concealed: false,
            dependency: None,
            details: None,
        }))
    }

    /// 400 `INVALID_ARGUMENT` for a request that broke validation rules, carrying every
    /// violation (as `google.rpc.BadRequest` for stock gRPC clients); the detail lists them.
    pub fn invalid(id: impl Into<String>, violations: Vec<Violation>) -> Error {
        Error::bad_request(id, details::summary(&violations)).with_violations(violations)
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

    /// The machine-readable reason: the value name of a typed error (`USER_NOT_FOUND`), the
    /// same on every hop and transport (`google.rpc.ErrorInfo.reason` for gRPC peers).
    pub fn reason(&self) -> Option<&str> {
        self.0
            .details
            .as_deref()
            .map(|d| d.reason.as_str())
            .filter(|r| !r.is_empty())
    }

    /// True when the error's reason is `reason`.
    pub fn is_reason(&self, reason: &str) -> bool {
        self.reason() == Some(reason)
    }

    /// Metadata about the reason (`google.rpc.ErrorInfo.metadata`): string pairs a caller
    /// can act on, such as the id that was not found.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.0.details.as_deref().map_or(&EMPTY, |d| &d.metadata)
    }

    /// The rules the request broke, for a validation error (empty for any other).
    pub fn violations(&self) -> &[Violation] {
        self.0.details.as_deref().map_or(&[], |d| &d.violations)
    }

    fn details_mut(&mut self) -> &mut Details {
        Arc::make_mut(self.0.details.get_or_insert_with(Default::default))
    }

    /// Set the machine-readable reason (see [`Error::reason`]).
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Error {
        self.details_mut().reason = reason.into();
        self
    }

    /// Add one metadata pair (see [`Error::metadata`]).
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Error {
        self.details_mut().metadata.insert(key.into(), value.into());
        self
    }

    /// Set the violations of a validation error (see [`Error::invalid`]).
    #[must_use]
    pub fn with_violations(mut self, violations: Vec<Violation>) -> Error {
        self.details_mut().violations = violations;
        self
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

    /// Mark an error the client produced while calling `service` (it could not reach it,
    /// found no node, or ran out of time), unless it is an answer of the service.
    pub(crate) fn calling(mut self, service: &str) -> Error {
        // Errors of this process's client, selector or registry (ids of the remote
        // service's answers are its own).
        if self.0.failure != Failure::Answered
            || self.0.id == "micro.client"
            || self.0.id == "micro.registry"
        {
            self.0.dependency = Some(service.into());
        }
        self
    }

    /// The service a client call was made to, when the client produced this error itself
    /// (it could not reach the service, found no node of it, or ran out of time) rather than
    /// the service answering it.
    pub fn dependency(&self) -> Option<&str> {
        self.0.dependency.as_deref()
    }

    /// True for the "error" a `--help` flag is: its detail is the usage to print.
    pub fn is_help(&self) -> bool {
        self.0.id == "micro.help"
    }

    /// True when the detail callers see is generic and the cause is kept for the server's log
    /// (an error converted with `?`).
    pub fn is_concealed(&self) -> bool {
        self.0.concealed
    }

    /// The underlying cause, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }

    /// This error as it leaves the server of `service` on the wire: an empty id becomes the
    /// service's, a concealed error keeps its generic detail, and an error a client call made
    /// inside the handler produced itself becomes the service's own failure to depend on it
    /// (no addresses of the dependency's nodes).
    pub(crate) fn leaving(self, service: &str) -> Error {
        if let Some(dependency) = self.0.dependency.clone() {
            let err = match self.0.grpc {
                Code::DeadlineExceeded => Error::timeout(
                    service,
                    format!("{dependency} did not answer before the deadline"),
                ),
                Code::NotFound => Error::unavailable(
                    service,
                    format!("{dependency} is unavailable: no node of it is registered"),
                ),
                _ => Error::unavailable(
                    service,
                    format!("{dependency} is unavailable: it could not be reached"),
                ),
            };
            return err.with_source(self);
        }
        if self.0.id.is_empty() {
            let mut err = self;
            err.0.id = service.to_owned();
            return err;
        }
        self
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
        let details = self.0.details.as_deref();
        let json = Json {
            id: self.0.id.as_str().into(),
            code: self.0.code,
            detail: self.0.detail.as_str().into(),
            status: self.0.status.as_str().into(),
            reason: details.map_or("", |d| d.reason.as_str()).into(),
            metadata: details.map(|d| d.metadata.clone()).unwrap_or_default(),
            violations: details.map(|d| d.violations.clone()).unwrap_or_default(),
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
                let details = Details {
                    reason: json.reason.into_owned(),
                    metadata: json.metadata,
                    violations: json.violations,
                };
                if !details.is_empty() {
                    err.0.details = Some(Arc::new(details));
                }
                err
            }
            _ => Error::new("", text, 500),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {}", self.0.detail, self.0.code, self.0.status)?;
        match self.reason() {
            Some(reason) => write!(f, ", {reason})")?,
            None => f.write_str(")")?,
        }
        if !self.0.id.is_empty() {
            write!(f, " from {}", self.0.id)?;
        }
        if let Some(source) = &self.0.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// Readable, as `main` prints an error it returns: the error and its causes. `{:#?}` gives
/// the fields.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            let mut d = f.debug_struct("Error");
            d.field("id", &self.0.id)
                .field("code", &self.0.code)
                .field("detail", &self.0.detail)
                .field("status", &self.0.status)
                .field("grpc", &self.0.grpc);
            if let Some(details) = &self.0.details {
                d.field("reason", &details.reason)
                    .field("metadata", &details.metadata)
                    .field("violations", &details.violations);
            }
            if let Some(source) = &self.0.source {
                d.field("source", source);
            }
            return d.finish();
        }
        // A detail over several lines (a usage) reads best with the code after its first line.
        let (first, rest) = self
            .0
            .detail
            .split_once('\n')
            .unwrap_or((&self.0.detail, ""));
        write!(f, "{first} ({} {}", self.0.code, self.0.status)?;
        match self.reason() {
            Some(reason) => write!(f, ", {reason})")?,
            None => f.write_str(")")?,
        }
        if !self.0.id.is_empty() {
            write!(f, " from {}", self.0.id)?;
        }
        if !rest.is_empty() {
            write!(f, "\n{rest}")?;
        }
        let mut cause = self.source();
        while let Some(c) = cause {
            write!(f, "\n  caused by: {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

/// Any error becomes a concealed internal error: callers see `internal error`, the server
/// logs the cause.
impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(e: E) -> Error {
        let mut err = Error::internal("", "internal error").with_source(e);
        err.0.concealed = true;
        err
    }
}

/// A micro error as a standard one (what `Box<dyn Error>` and tower hold).
#[derive(Debug)]
pub(crate) struct StdError(pub(crate) Error);

impl fmt::Display for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<Error> for Box<dyn std::error::Error + Send + Sync + 'static> {
    fn from(e: Error) -> Self {
        Box::new(StdError(e))
    }
}

impl From<Error> for Box<dyn std::error::Error + 'static> {
    fn from(e: Error) -> Self {
        Box::new(StdError(e))
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::other(StdError(e))
    }
}

impl PartialEq for Error {
    /// Two errors are equal when their codes are (go-micro's `errors.Equal`).
    fn eq(&self, other: &Error) -> bool {
        self.0.code == other.0.code
    }
}

macro_rules! short {
    ($($(#[$doc:meta])* $name:ident => $code:literal;)*) => {$(
        $(#[$doc])*
        ///
        /// The id is left empty: the server fills in the service's name.
        pub fn $name(detail: impl Into<String>) -> Error {
            Error::new("", detail, $code)
        }
    )*};
}

short! {
    /// 400: the request was malformed.
    bad_request => 400;
    /// 401: the caller is not authenticated.
    unauthorized => 401;
    /// 403: the caller may not do this.
    forbidden => 403;
    /// 404: something was not found.
    not_found => 404;
    /// 409: a conflict.
    conflict => 409;
    /// 412: the system is not in the state the request needs.
    failed_precondition => 412;
    /// 500: something failed inside.
    internal => 500;
    /// 501: not implemented (yet).
    unimplemented => 501;
    /// 503: something this service needs is not available.
    unavailable => 503;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_error_converts_concealed_and_ids_default_to_the_service() {
        fn read() -> Result<()> {
            let _ = std::fs::read("/nonexistent/micro/file")?;
            Ok(())
        }
        let err = read().unwrap_err();
        assert_eq!(err.code(), 500);
        assert_eq!(err.detail(), "internal error");
        assert!(err.is_concealed());
        assert!(err.to_string().contains("No such file"), "{err}");
        let sent = err.leaving("orders");
        assert_eq!(sent.id(), "orders");
        assert_eq!(sent.detail(), "internal error", "the cause never leaves");
        assert!(!sent.to_json().contains("No such file"));
        assert_eq!(not_found("no order 7").leaving("orders").id(), "orders");
        assert_eq!(
            Error::not_found("stock", "x").leaving("orders").id(),
            "stock"
        );
    }

    #[test]
    fn a_dependency_failure_leaves_as_the_services_own() {
        let unreachable =
            Error::unsent("connect to", "10.0.0.7:9000", "refused").calling("inventory");
        assert_eq!(unreachable.dependency(), Some("inventory"));
        let sent = unreachable.leaving("orders");
        assert_eq!((sent.id(), sent.code()), ("orders", 503));
        assert!(!sent.detail().contains("10.0.0.7"), "{}", sent.detail());
        assert!(sent.detail().contains("inventory"), "{}", sent.detail());
        assert!(!sent.is_transport_failure(), "orders answered");

        let missing = Error::not_found("micro.client", "service inventory: not found")
            .calling("inventory")
            .leaving("orders");
        assert_eq!(missing.code(), 503, "not a 404 about the caller's request");

        let late = Error::timeout("micro.client", "call to inventory timed out")
            .calling("inventory")
            .leaving("orders");
        assert_eq!(late.code(), 408);

        // An answer of the dependency passes through.
        let answered = Error::not_found("inventory", "no sku 7").calling("inventory");
        assert_eq!(answered.dependency(), None);
        assert_eq!(answered.leaving("orders").id(), "inventory");
    }

    #[test]
    fn debug_reads_like_display_with_causes() {
        let err = Error::bad_request("micro.config", "unknown flag --x");
        assert_eq!(
            format!("{err:?}"),
            "unknown flag --x (400 Bad Request) from micro.config"
        );
        assert!(format!("{err:#?}").starts_with("Error {"));
    }

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
    fn typed_parts_of_another_shape_never_lose_the_error() {
        let err = Error::parse(
            r#"{"id":"go.micro.srv.x","code":404,"detail":"gone","metadata":null,"violations":{"x":1}}"#,
        );
        assert_eq!(
            (err.id(), err.code(), err.detail()),
            ("go.micro.srv.x", 404, "gone")
        );
        assert!(err.metadata().is_empty() && err.violations().is_empty());
        let typed =
            Error::parse(r#"{"code":409,"detail":"d","reason":"TAKEN","metadata":{"k":"v"}}"#);
        assert!(typed.is_reason("TAKEN"));
        assert_eq!(typed.metadata()["k"], "v");
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
