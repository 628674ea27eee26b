//! Call heads: `grpc-timeout`, the status (`grpc-status`, `grpc-message` and micro's error
//! JSON in `micro-error-bin`) and user metadata, as HTTP/2 headers and trailers. The native
//! transport carries the same pairs, so both transports agree on every header.

use std::time::Duration;

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::context::Metadata;
use crate::error::{Code, Error};

/// `grpc-status`.
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
/// `grpc-message`.
pub(crate) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
/// `grpc-timeout`.
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
/// The full micro error as base64 JSON (binary metadata, so stock clients ignore it safely).
pub(crate) const MICRO_ERROR: HeaderName = HeaderName::from_static("micro-error-bin");
/// `google.rpc.Status` with the error's details, for stock gRPC clients.
pub(crate) const STATUS_DETAILS: HeaderName = HeaderName::from_static("grpc-status-details-bin");

/// Characters percent-encoded in `grpc-message` (the spec: everything outside 0x20..=0x7E
/// and `%` itself).
const MESSAGE_ENCODE: &AsciiSet = &CONTROLS.add(b'%');

/// Encode a timeout as `grpc-timeout`: at most 8 digits and the finest unit that fits.
pub(crate) fn encode_timeout(timeout: Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let nanos = timeout.as_nanos();
    let (value, unit) = if nanos <= MAX {
        (nanos, "n")
    } else if nanos / 1_000 <= MAX {
        (nanos.div_ceil(1_000), "u")
    } else if nanos / 1_000_000 <= MAX {
        (nanos.div_ceil(1_000_000), "m")
    } else if timeout.as_secs() as u128 <= MAX {
        (
            u128::from(timeout.as_secs()) + u128::from(timeout.subsec_nanos() > 0),
            "S",
        )
    } else if timeout.as_secs() as u128 / 60 <= MAX {
        ((timeout.as_secs() as u128).div_ceil(60), "M")
    } else {
        ((timeout.as_secs() as u128 / 3600).min(MAX), "H")
    };
    HeaderValue::from_str(&format!("{value}{unit}"))
        .unwrap_or_else(|_| HeaderValue::from_static("99999999H"))
}

/// Parse `grpc-timeout`. Values with more than 8 digits, no unit or an unknown unit are
/// rejected (`INVALID_ARGUMENT`), never silently ignored.
pub(crate) fn parse_timeout(value: &HeaderValue) -> Result<Duration, Error> {
    let bad = || {
        Error::bad_request(
            "micro.server",
            format!(
                "invalid grpc-timeout {:?}: expected up to 8 digits and a unit (H, M, S, m, u, n)",
                value.to_str().unwrap_or("<binary>")
            ),
        )
    };
    let text = value.to_str().map_err(|_| bad())?;
    if text.len() < 2 {
        return Err(bad());
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return Err(bad()),
    })
}

/// The headers (or trailers) that carry `err`.
pub(crate) fn error_headers(err: &Error, map: &mut HeaderMap) {
    map.insert(GRPC_STATUS, status_value(err.grpc_code()));
    let msg = utf8_percent_encode(err.detail(), MESSAGE_ENCODE).to_string();
    if let Ok(v) = HeaderValue::from_str(&msg) {
        map.insert(GRPC_MESSAGE, v);
    }
    let json = base64::engine::general_purpose::STANDARD_NO_PAD.encode(err.to_json());
    if let Ok(v) = HeaderValue::from_str(&json) {
        map.insert(MICRO_ERROR, v);
    }
    if let Some(details) = super::rich::encode_status(err) {
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(details);
        if let Ok(v) = HeaderValue::from_str(&text) {
            map.insert(STATUS_DETAILS, v);
        }
    }
}

fn status_value(code: Code) -> HeaderValue {
    match code {
        Code::Ok => HeaderValue::from_static("0"),
        other => HeaderValue::from(other.as_i32()),
    }
}

/// Trailers for a successful call.
pub(crate) fn ok_trailers() -> HeaderMap {
    let mut map = HeaderMap::with_capacity(1);
    map.insert(GRPC_STATUS, HeaderValue::from_static("0"));
    map
}

/// The status in a header map: `None` without `grpc-status`, `Some(Ok)` for OK, else the
/// error (the micro error JSON when present, else built from code and message).
pub(crate) fn status_from_headers(map: &HeaderMap) -> Option<Result<(), Error>> {
    let status = map.get(&GRPC_STATUS)?;
    let code = status
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map(Code::from_i32)
        .unwrap_or(Code::Unknown);
    if code == Code::Ok {
        return Some(Ok(()));
    }
    if let Some(json) = map
        .get(&MICRO_ERROR)
        .and_then(|v| decode_bin(v.as_bytes()))
        .and_then(|b| String::from_utf8(b).ok())
    {
        let err = Error::parse(&json);
        if err.code() != 0 {
            return Some(Err(err.with_grpc_code(code)));
        }
    }
    let message = map
        .get(&GRPC_MESSAGE)
        .and_then(|v| v.to_str().ok())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .unwrap_or_default();
    let err = Error::from_code("", code, message);
    Some(Err(
        match map
            .get(&STATUS_DETAILS)
            .and_then(|v| decode_bin(v.as_bytes()))
        {
            Some(bytes) => super::rich::apply_status(err, &bytes),
            None => err,
        },
    ))
}

/// Decode a `-bin` value: standard base64, padded or not (the spec allows both).
pub(crate) fn decode_bin(value: &[u8]) -> Option<Vec<u8>> {
    let trimmed: Vec<u8> = value.iter().copied().filter(|b| *b != b'=').collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()
}

/// Headers that belong to the protocol and are never user metadata.
pub(crate) fn is_reserved(name: &str) -> bool {
    name.starts_with("grpc-")
        || name.starts_with(':')
        || matches!(
            name,
            "content-type"
                | "te"
                | "user-agent"
                | "content-length"
                | "accept-encoding"
                | "host"
                | "connection"
                | "micro-error-bin"
        )
}

/// Copy user metadata into headers; entries that are not valid header names or values are
/// skipped.
pub(crate) fn metadata_to_headers(md: &Metadata, map: &mut HeaderMap) {
    for (k, v) in md.iter() {
        if is_reserved(k) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            map.insert(name, value);
        }
    }
}

/// The user metadata in headers.
pub(crate) fn headers_to_metadata(map: &HeaderMap, md: &mut Metadata) {
    for (name, value) in map {
        let key = name.as_str();
        if is_reserved(key) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            // Several `tracestate` fields are one list (W3C): combined, in order.
            if key == crate::trace::TRACESTATE
                && let Some(earlier) = md.get(key)
            {
                let joined = format!("{earlier},{v}");
                md.insert(key, joined);
                continue;
            }
            md.insert(key, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_tracestate_fields_are_one_list() {
        let mut map = HeaderMap::new();
        map.append("tracestate", HeaderValue::from_static("a=1"));
        map.append("tracestate", HeaderValue::from_static("b=2"));
        map.append("x-other", HeaderValue::from_static("one"));
        map.append("x-other", HeaderValue::from_static("two"));
        let mut md = Metadata::new();
        headers_to_metadata(&map, &mut md);
        assert_eq!(md.get("tracestate"), Some("a=1,b=2"));
        assert_eq!(md.get("x-other"), Some("two"), "other keys: the last value");
    }

    #[test]
    fn timeouts_round_trip_within_a_unit() {
        for d in [
            Duration::from_nanos(1),
            Duration::from_millis(1),
            Duration::from_millis(1500),
            Duration::from_secs(30),
            Duration::from_secs(3600 * 24 * 400),
        ] {
            let v = encode_timeout(d);
            assert!(v.len() <= 9, "{v:?}");
            let back = parse_timeout(&v).unwrap();
            assert!(back >= d, "{d:?} -> {v:?} -> {back:?}");
        }
        assert_eq!(
            encode_timeout(Duration::from_secs(30)).to_str().unwrap(),
            "30000000u"
        );
    }

    #[test]
    fn bad_timeouts_are_rejected() {
        for bad in ["", "1", "S", "123456789S", "-1m", "1x", "abcS", "1.5S"] {
            let v = HeaderValue::from_str(bad).unwrap();
            let err = parse_timeout(&v).unwrap_err();
            assert_eq!(err.code(), 400, "{bad}");
        }
        let huge = HeaderValue::from_static("99999999H");
        assert!(parse_timeout(&huge).is_ok());
    }

    #[test]
    fn error_round_trips_through_headers() {
        let err = Error::not_found("greeter", "no such user: \u{1F600}\n100%");
        let mut map = HeaderMap::new();
        error_headers(&err, &mut map);
        assert_eq!(map.get(&GRPC_STATUS).unwrap(), "5");
        let back = status_from_headers(&map).unwrap().unwrap_err();
        assert_eq!(back.id(), "greeter");
        assert_eq!(back.code(), 404);
        assert_eq!(back.detail(), "no such user: \u{1F600}\n100%");

        // Without the micro trailer (a stock server), code and message still come through.
        map.remove(&MICRO_ERROR);
        let back = status_from_headers(&map).unwrap().unwrap_err();
        assert_eq!(back.grpc_code(), Code::NotFound);
        assert_eq!(back.detail(), "no such user: \u{1F600}\n100%");
    }

    #[test]
    fn bin_values_padded_or_not() {
        assert_eq!(decode_bin(b"aGk=").unwrap(), b"hi");
        assert_eq!(decode_bin(b"aGk").unwrap(), b"hi");
        assert!(decode_bin(b"!!").is_none());
    }
}
