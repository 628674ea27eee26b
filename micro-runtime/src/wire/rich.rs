//! gRPC's richer error model: `google.rpc.Status` in `grpc-status-details-bin`, holding
//! `google.rpc.ErrorInfo` (an error's reason and metadata) and `google.rpc.BadRequest` (the
//! violations of a request), the way grpc-go's `status.WithDetails` and Python's
//! `grpc_status.rpc_status` read them. micro writes it for errors that have a reason or
//! violations and reads it from stock servers that send one.

use std::collections::BTreeMap;

use prost::Message;

use crate::error::{Error, Violation};

const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST: &str = "type.googleapis.com/google.rpc.BadRequest";

/// `google.rpc.Status` (`google/rpc/status.proto`).
#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.ErrorInfo` (`google/rpc/error_details.proto`).
#[derive(Clone, PartialEq, Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(btree_map = "string, string", tag = "3")]
    metadata: BTreeMap<String, String>,
}

/// `google.rpc.BadRequest`.
#[derive(Clone, PartialEq, Message)]
struct BadRequest {
    #[prost(message, repeated, tag = "1")]
    field_violations: Vec<FieldViolation>,
}

/// `google.rpc.BadRequest.FieldViolation` (`reason` holds the rule id).
#[derive(Clone, PartialEq, Message)]
struct FieldViolation {
    #[prost(string, tag = "1")]
    field: String,
    #[prost(string, tag = "2")]
    description: String,
    #[prost(string, tag = "3")]
    reason: String,
}

/// The details of `err` as `Any` messages: its `ErrorInfo` when it has a reason, its
/// `BadRequest` when it has violations. Empty for a plain error.
pub(crate) fn details(err: &Error) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    if err.reason().is_some() || !err.metadata().is_empty() {
        let info = ErrorInfo {
            reason: err.reason().unwrap_or_default().to_owned(),
            domain: err.id().to_owned(),
            metadata: err.metadata().clone(),
        };
        out.push((ERROR_INFO, info.encode_to_vec()));
    }
    if !err.violations().is_empty() {
        let bad = BadRequest {
            field_violations: err
                .violations()
                .iter()
                .map(|v| FieldViolation {
                    field: v.field.clone(),
                    description: v.message.clone(),
                    reason: v.rule.clone(),
                })
                .collect(),
        };
        out.push((BAD_REQUEST, bad.encode_to_vec()));
    }
    out
}

/// `grpc-status-details-bin` for `err`, or `None` when it has nothing beyond code and
/// message.
pub(crate) fn encode_status(err: &Error) -> Option<Vec<u8>> {
    let details = details(err);
    if details.is_empty() {
        return None;
    }
    let status = Status {
        code: err.grpc_code().as_i32(),
        message: err.detail().to_owned(),
        details: details
            .into_iter()
            .map(|(type_url, value)| prost_types::Any {
                type_url: type_url.to_owned(),
                value,
            })
            .collect(),
    };
    Some(status.encode_to_vec())
}

/// Add what a `google.rpc.Status` holds (reason, metadata, violations) to `err`, built from
/// a stock server's code and message. Undecodable bytes and unknown detail types are
/// skipped: the code and message stand.
pub(crate) fn apply_status(mut err: Error, bytes: &[u8]) -> Error {
    let Ok(status) = Status::decode(bytes) else {
        return err;
    };
    for any in status.details {
        match any.type_url.as_str() {
            ERROR_INFO => {
                if let Ok(info) = ErrorInfo::decode(any.value.as_slice()) {
                    if !info.reason.is_empty() {
                        err = err.with_reason(info.reason);
                    }
                    for (k, v) in info.metadata {
                        err = err.with_metadata(k, v);
                    }
                }
            }
            BAD_REQUEST => {
                if let Ok(bad) = BadRequest::decode(any.value.as_slice()) {
                    let mut all = err.violations().to_vec();
                    all.extend(
                        bad.field_violations
                            .into_iter()
                            .map(|v| Violation::new(v.field, v.reason, v.description)),
                    );
                    err = err.with_violations(all);
                }
            }
            _ => {}
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn reason_metadata_and_violations_round_trip_through_google_rpc_status() {
        let err = Error::not_found("users", "no user 7")
            .with_reason("USER_NOT_FOUND")
            .with_metadata("id", "7")
            .with_violations(vec![Violation::new("name", "string.min_len", "too short")]);
        let bytes = encode_status(&err).expect("details");
        let status = Status::decode(bytes.as_slice()).unwrap();
        assert_eq!(status.code, Code::NotFound.as_i32());
        assert_eq!(status.details.len(), 2);
        let back = apply_status(Error::from_code("", Code::NotFound, "no user 7"), &bytes);
        assert_eq!(back.reason(), Some("USER_NOT_FOUND"));
        assert_eq!(back.metadata().get("id").map(String::as_str), Some("7"));
        assert_eq!(back.violations(), err.violations());
        assert!(encode_status(&Error::internal("x", "y")).is_none());
        // Garbage leaves the error as it was.
        let plain = apply_status(Error::internal("x", "y"), b"\xff\xff");
        assert_eq!(plain.reason(), None);
    }
}
