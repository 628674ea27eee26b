//! A small etcd v3 client over etcd's JSON gateway (`POST /v3/...` on the client port, which
//! etcd 3.4 and later serve by default): no protoc and no generated code, only the calls the
//! registry needs. Keys and values travel base64-encoded; 64-bit numbers arrive as strings.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::registry::ID;

/// What to check when etcd cannot be reached, for every error that says so.
const HINT: &str = "check that etcd runs and listens there (etcd --listen-client-urls http://HOST:2379 --advertise-client-urls http://HOST:2379), or set MICRO_REGISTRY_ADDRESS (--registry_address) to its client addresses";

/// One key and its value.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyValue {
    pub(crate) key: String,
    pub(crate) value: Vec<u8>,
    pub(crate) mod_revision: i64,
}

/// What a watch response carries.
#[derive(Debug, Default)]
pub(crate) struct WatchResponse {
    /// The store's revision when the response was made.
    pub(crate) revision: i64,
    /// Set when the revision asked for was compacted away: the watch is cancelled.
    pub(crate) compact_revision: i64,
    /// The watch ended (compaction, or the server cancelled it).
    pub(crate) canceled: bool,
    /// The changes, oldest first.
    pub(crate) events: Vec<WatchEvent>,
}

/// One change.
#[derive(Debug)]
pub(crate) struct WatchEvent {
    /// True for a delete (or a lease expiry), false for a put.
    pub(crate) delete: bool,
    pub(crate) kv: KeyValue,
}

/// A client of one etcd cluster, reached at any of its client addresses.
pub(crate) struct EtcdClient {
    /// `http://host:port` of each member, as configured.
    endpoints: Vec<String>,
    /// The member that answered last: tried first.
    preferred: AtomicUsize,
    http: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl fmt::Debug for EtcdClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdClient")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl EtcdClient {
    /// A client of the members at `addresses` (`host:port` or `http://host:port`, comma
    /// separated). Nothing is contacted yet.
    pub(crate) fn new(addresses: &str, timeout: Duration) -> Result<EtcdClient> {
        let mut endpoints = Vec::new();
        for address in addresses
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            if address.starts_with("https://") {
                return Err(Error::bad_request(
                    ID,
                    format!(
                        "etcd address {address:?}: TLS to etcd is not supported yet; use an http:// client URL"
                    ),
                ));
            }
            let bare = address.strip_prefix("http://").unwrap_or(address);
            let bare = bare.trim_end_matches('/');
            if bare.parse::<http::uri::Authority>().is_err() || !bare.contains(':') {
                return Err(Error::bad_request(
                    ID,
                    format!(
                        "etcd address {address:?} is not host:port (e.g. 127.0.0.1:2379); set MICRO_REGISTRY_ADDRESS to a comma-separated list of etcd client addresses"
                    ),
                ));
            }
            endpoints.push(format!("http://{bare}"));
        }
        if endpoints.is_empty() {
            return Err(Error::bad_request(
                ID,
                "the etcd registry needs at least one address (MICRO_REGISTRY_ADDRESS, e.g. 127.0.0.1:2379)",
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        // A watch is a response that never ends: without keep-alive probes, a partition
        // would leave it waiting forever. These notice a dead peer within about 10 s.
        connector.set_keepalive(Some(Duration::from_secs(3)));
        connector.set_keepalive_interval(Some(Duration::from_secs(1)));
        connector.set_keepalive_retries(Some(3));
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(EtcdClient {
            endpoints,
            preferred: AtomicUsize::new(0),
            http,
            timeout,
        })
    }

    /// The members' addresses, comma separated, for messages.
    pub(crate) fn addresses(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| e.trim_start_matches("http://"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// POST `body` to `path` on the first member that answers; the response's body.
    async fn send(
        &self,
        path: &str,
        body: &Json,
    ) -> Result<hyper::Response<hyper::body::Incoming>> {
        let payload = Bytes::from(body.to_string());
        let first = self.preferred.load(Ordering::Relaxed);
        let n = self.endpoints.len();
        let mut failures = Vec::new();
        // Each member once, and the first one again: a pooled connection may have died with
        // a restart, and the second try opens a fresh one.
        for attempt in 0..=n {
            let index = (first + attempt) % n;
            let endpoint = &self.endpoints[index];
            let request = hyper::Request::post(format!("{endpoint}{path}"))
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(payload.clone()))
                .map_err(|e| Error::internal(ID, format!("etcd request {path}: {e}")))?;
            match tokio::time::timeout(self.timeout, self.http.request(request)).await {
                Ok(Ok(response)) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(response);
                }
                Ok(Err(e)) => failures.push(format!(
                    "{}: {}",
                    endpoint.trim_start_matches("http://"),
                    cause(&e)
                )),
                Err(_) => failures.push(format!(
                    "{}: no answer within {:?}",
                    endpoint.trim_start_matches("http://"),
                    self.timeout
                )),
            }
        }
        failures.dedup();
        Err(Error::unavailable(
            ID,
            format!(
                "registry etcd at {}: cannot reach it ({}); {HINT}",
                self.addresses(),
                failures.join("; ")
            ),
        ))
    }

    /// A unary call: POST, read the whole answer, parse it.
    async fn call(&self, path: &str, body: Json) -> Result<Json> {
        let response = self.send(path, &body).await?;
        let status = response.status();
        let bytes = tokio::time::timeout(self.timeout, response.into_body().collect())
            .await
            .map_err(|_| {
                Error::unavailable(
                    ID,
                    format!(
                        "registry etcd at {}: {path} did not finish within {:?}",
                        self.addresses(),
                        self.timeout
                    ),
                )
            })?
            .map_err(|e| {
                Error::unavailable(
                    ID,
                    format!("registry etcd at {}: {path}: {e}", self.addresses()),
                )
            })?
            .to_bytes();
        let json: Json = serde_json::from_slice(&bytes).map_err(|e| {
            Error::unavailable(
                ID,
                format!(
                    "registry etcd at {}: {path} answered {status} with a body that is not JSON ({e}); is this etcd's client port?",
                    self.addresses()
                ),
            )
        })?;
        if !status.is_success() {
            let message = json
                .get("message")
                .or_else(|| json.get("error"))
                .and_then(Json::as_str)
                .unwrap_or("no message");
            return Err(Error::unavailable(
                ID,
                format!(
                    "registry etcd at {}: {path} failed ({status}): {message}",
                    self.addresses()
                ),
            ));
        }
        Ok(json)
    }

    /// Every key starting with `prefix`, and the store's revision.
    pub(crate) async fn range(&self, prefix: &str) -> Result<(Vec<KeyValue>, i64)> {
        let json = self
            .call(
                "/v3/kv/range",
                json!({"key": B64.encode(prefix), "range_end": B64.encode(prefix_end(prefix))}),
            )
            .await?;
        let kvs = json
            .get("kvs")
            .and_then(Json::as_array)
            .map(|all| all.iter().map(key_value).collect())
            .unwrap_or_default();
        Ok((kvs, revision_of(&json)))
    }

    /// Put `value` under `key`, attached to `lease` (0: none).
    pub(crate) async fn put(&self, key: &str, value: &[u8], lease: i64) -> Result<()> {
        let mut body = json!({"key": B64.encode(key), "value": B64.encode(value)});
        if lease != 0 {
            body["lease"] = json!(lease.to_string());
        }
        self.call("/v3/kv/put", body).await.map(drop)
    }

    /// Delete `key`.
    pub(crate) async fn delete(&self, key: &str) -> Result<()> {
        self.call("/v3/kv/deleterange", json!({"key": B64.encode(key)}))
            .await
            .map(drop)
    }

    /// A new lease of `ttl` seconds.
    pub(crate) async fn grant(&self, ttl: i64) -> Result<i64> {
        let json = self
            .call("/v3/lease/grant", json!({"TTL": ttl.to_string()}))
            .await?;
        match number(json.get("ID")) {
            id if id != 0 => Ok(id),
            _ => Err(Error::unavailable(
                ID,
                format!(
                    "registry etcd at {}: granting a lease failed: {}",
                    self.addresses(),
                    json.get("error")
                        .and_then(Json::as_str)
                        .unwrap_or("no lease id in the answer")
                ),
            )),
        }
    }

    /// Refresh `lease` once; false when etcd no longer has it (expired, revoked, or etcd
    /// lost its data).
    pub(crate) async fn keep_alive(&self, lease: i64) -> Result<bool> {
        let json = self
            .call("/v3/lease/keepalive", json!({"ID": lease.to_string()}))
            .await?;
        Ok(number(json.get("result").and_then(|r| r.get("TTL"))) > 0)
    }

    /// Revoke `lease`, deleting its keys.
    pub(crate) async fn revoke(&self, lease: i64) -> Result<()> {
        self.call("/v3/lease/revoke", json!({"ID": lease.to_string()}))
            .await
            .map(drop)
    }

    /// Watch every key under `prefix` from `start_revision` on.
    pub(crate) async fn watch(&self, prefix: &str, start_revision: i64) -> Result<WatchStream> {
        let body = json!({"create_request": {
            "key": B64.encode(prefix),
            "range_end": B64.encode(prefix_end(prefix)),
            "start_revision": start_revision.to_string(),
            "prev_kv": true,
        }});
        let response = self.send("/v3/watch", &body).await?;
        if !response.status().is_success() {
            return Err(Error::unavailable(
                ID,
                format!(
                    "registry etcd at {}: watch failed ({})",
                    self.addresses(),
                    response.status()
                ),
            ));
        }
        Ok(WatchStream {
            body: response.into_body(),
            buffer: BytesMut::new(),
        })
    }
}

/// The answers of one watch, one JSON object per line.
pub(crate) struct WatchStream {
    body: hyper::body::Incoming,
    buffer: BytesMut,
}

impl WatchStream {
    /// The next answer; `None` when the connection ended.
    pub(crate) async fn next(&mut self) -> Option<Result<WatchResponse>> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line = self.buffer.split_to(end + 1);
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                return Some(parse_watch(line));
            }
            match self.body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.extend_from_slice(&data);
                    }
                }
                Err(e) => {
                    return Some(Err(Error::unavailable(
                        ID,
                        format!("etcd watch connection broke: {e}"),
                    )));
                }
            }
        }
    }
}

/// Each line of `data` as a watch response line (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz(data: &[u8]) {
    for line in data.split(|b| *b == b'\n') {
        let _ = parse_watch(line);
    }
}

fn parse_watch(line: &[u8]) -> Result<WatchResponse> {
    let json: Json = serde_json::from_slice(line).map_err(|e| {
        Error::unavailable(ID, format!("etcd watch sent a line that is not JSON: {e}"))
    })?;
    let Some(result) = json.get("result") else {
        let message = json
            .get("error")
            .and_then(|e| e.get("message").or(Some(e)))
            .map(|m| m.to_string())
            .unwrap_or_else(|| json.to_string());
        return Err(Error::unavailable(
            ID,
            format!("etcd watch failed: {message}"),
        ));
    };
    let events = result
        .get("events")
        .and_then(Json::as_array)
        .map(|all| {
            all.iter()
                .map(|e| WatchEvent {
                    delete: e.get("type").and_then(Json::as_str) == Some("DELETE"),
                    kv: e.get("kv").map(key_value).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(WatchResponse {
        revision: revision_of(result),
        compact_revision: number(result.get("compact_revision")),
        canceled: result.get("canceled").and_then(Json::as_bool) == Some(true),
        events,
    })
}

fn key_value(json: &Json) -> KeyValue {
    let bytes = |field: &str| {
        json.get(field)
            .and_then(Json::as_str)
            .and_then(|s| B64.decode(s).ok())
            .unwrap_or_default()
    };
    KeyValue {
        key: String::from_utf8_lossy(&bytes("key")).into_owned(),
        value: bytes("value"),
        mod_revision: number(json.get("mod_revision")),
    }
}

fn revision_of(json: &Json) -> i64 {
    number(json.get("header").and_then(|h| h.get("revision")))
}

/// A 64-bit number the gateway sends as a string (or, for small ones, as a number).
fn number(json: Option<&Json>) -> i64 {
    match json {
        Some(Json::String(s)) => s.parse().unwrap_or(0),
        Some(Json::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// The first key after every key starting with `prefix` (etcd's `range_end`).
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// The innermost cause of a hyper client error (`connection refused`, not `client error`).
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key() {
        assert_eq!(prefix_end("/micro/registry/"), b"/micro/registry0");
        assert_eq!(prefix_end("a\u{7f}"), [b'a', 0x80]);
    }

    #[test]
    fn addresses_are_checked() {
        let t = Duration::from_secs(1);
        assert!(EtcdClient::new("127.0.0.1:2379, http://10.0.0.2:2379", t).is_ok());
        let err = EtcdClient::new("", t).unwrap_err();
        assert!(
            err.detail().contains("at least one address"),
            "{}",
            err.detail()
        );
        let err = EtcdClient::new("localhost", t).unwrap_err();
        assert!(err.detail().contains("not host:port"), "{}", err.detail());
        let err = EtcdClient::new("https://10.0.0.2:2379", t).unwrap_err();
        assert!(err.detail().contains("TLS"), "{}", err.detail());
    }

    #[test]
    fn watch_lines_parse() {
        let line = br#"{"result":{"header":{"revision":"7"},"events":[{"type":"DELETE","kv":{"key":"L21pY3JvL3g=","mod_revision":"7"}},{"kv":{"key":"L21pY3JvL3k=","value":"eA==","mod_revision":"6"}}]}}"#;
        let response = parse_watch(line).unwrap();
        assert_eq!(response.revision, 7);
        assert!(response.events[0].delete);
        assert_eq!(response.events[0].kv.key, "/micro/x");
        assert!(!response.events[1].delete);
        assert_eq!(response.events[1].kv.value, b"x");
        let compacted =
            parse_watch(br#"{"result":{"header":{},"canceled":true,"compact_revision":"3"}}"#)
                .unwrap();
        assert!(compacted.canceled);
        assert_eq!(compacted.compact_revision, 3);
        assert!(parse_watch(b"not json").is_err());
    }
}
