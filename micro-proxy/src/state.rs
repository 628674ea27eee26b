//! Dapr's state API on micro's store: save, get, delete and bulk get, with ETags for
//! optimistic concurrency. An ETag is a digest of the stored value; a conditional save is a
//! compare-and-swap on the value it was read with, atomic on every engine.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use micro::store::{Record, Store};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Sidecar;
use crate::reply::{dapr, dapr_call};

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new()
        .route("/v1.0/state/{store}", post(save))
        .route("/v1.0/state/{store}/bulk", post(bulk))
        .route("/v1.0/state/{store}/{key}", get(read).delete(delete))
}

/// One item of a save.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    key: String,
    value: Value,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
    #[serde(default)]
    options: ItemOptions,
}

#[derive(Debug, Default, Deserialize)]
struct ItemOptions {
    #[serde(default)]
    concurrency: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    consistency: Option<String>,
}

/// The ETag of a stored value: 64-bit FNV-1a, in hex.
fn etag(value: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn mismatch(key: &str) -> Response {
    dapr(
        StatusCode::CONFLICT,
        "ERR_STATE_SAVE",
        format!("possible etag mismatch on key {key}: it changed since it was read"),
    )
}

async fn save(State(sidecar): State<Sidecar>, Path(name): Path<String>, body: Bytes) -> Response {
    let store = match sidecar.store(&name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    let items: Vec<Item> = match serde_json::from_slice(&body) {
        Ok(items) => items,
        Err(e) => {
            return dapr(
                StatusCode::BAD_REQUEST,
                "ERR_MALFORMED_REQUEST",
                format!(
                    "a save to {name} takes a JSON list of {{\"key\", \"value\", \"etag\", \"metadata\", \"options\"}}: {e}"
                ),
            );
        }
    };
    for item in items {
        if let Err(rsp) = save_one(&store, item).await {
            return rsp;
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn save_one(store: &Store, item: Item) -> Result<(), Response> {
    let value = serde_json::to_vec(&item.value).unwrap_or_default();
    let mut record = Record::new(item.key.clone(), value);
    if let Some(ttl) = item.metadata.get("ttlInSeconds") {
        match ttl.trim().parse::<i64>() {
            Ok(secs) if secs > 0 => {
                record = record.with_ttl(std::time::Duration::from_secs(secs.unsigned_abs()));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(dapr(
                    StatusCode::BAD_REQUEST,
                    "ERR_MALFORMED_REQUEST",
                    format!(
                        "ttlInSeconds of key {} must be a whole number, not {ttl:?}",
                        item.key
                    ),
                ));
            }
        }
    }
    let first_write = item.options.concurrency.as_deref() == Some("first-write");
    let failed = |e: micro::Error| dapr_call(&e, "ERR_STATE_SAVE");
    let tag = item.etag.map(|e| e.trim().trim_matches('"').to_owned());
    match tag.filter(|e| !e.is_empty()) {
        Some(tag) => {
            let current = store.read_one(&item.key).await.map_err(failed)?;
            let Some(current) = current.filter(|c| etag(&c.value) == tag) else {
                return Err(mismatch(&item.key));
            };
            let swapped = store
                .compare_and_swap(Some(&current.value), record)
                .await
                .map_err(failed)?;
            if !swapped {
                return Err(mismatch(&item.key));
            }
        }
        None if first_write => {
            // First write wins: only where the key is not there yet.
            if !store.compare_and_swap(None, record).await.map_err(failed)? {
                return Err(mismatch(&item.key));
            }
        }
        None => store.write(record).await.map_err(failed)?,
    }
    Ok(())
}

async fn read(
    State(sidecar): State<Sidecar>,
    Path((name, key)): Path<(String, String)>,
) -> Response {
    let store = match sidecar.store(&name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    match store.read_one(&key).await {
        Ok(Some(record)) => {
            let mut rsp = micro_gateway::reply::json(StatusCode::OK, record.value.clone());
            if let Ok(tag) = HeaderValue::from_str(&etag(&record.value)) {
                rsp.headers_mut().insert(header::ETAG, tag);
            }
            rsp
        }
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => dapr_call(&e, "ERR_STATE_GET"),
    }
}

async fn delete(
    State(sidecar): State<Sidecar>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let store = match sidecar.store(&name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    let wanted = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty());
    if let Some(tag) = wanted {
        match store.read_one(&key).await {
            Ok(Some(current)) if etag(&current.value) == tag => {}
            Ok(_) => {
                return dapr(
                    StatusCode::CONFLICT,
                    "ERR_STATE_DELETE",
                    format!("possible etag mismatch on key {key}: it changed since it was read"),
                );
            }
            Err(e) => return dapr_call(&e, "ERR_STATE_DELETE"),
        }
    }
    match store.delete(&key).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => dapr_call(&e, "ERR_STATE_DELETE"),
    }
}

#[derive(Debug, Deserialize)]
struct Bulk {
    keys: Vec<String>,
}

async fn bulk(State(sidecar): State<Sidecar>, Path(name): Path<String>, body: Bytes) -> Response {
    let store = match sidecar.store(&name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    let Ok(Bulk { keys }) = serde_json::from_slice(&body) else {
        return dapr(
            StatusCode::BAD_REQUEST,
            "ERR_MALFORMED_REQUEST",
            format!("a bulk get from {name} takes {{\"keys\": [\"k1\", \"k2\"]}}"),
        );
    };
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        out.push(match store.read_one(&key).await {
            Ok(Some(record)) => {
                let data = serde_json::from_slice::<Value>(&record.value)
                    .unwrap_or_else(|_| String::from_utf8_lossy(&record.value).into());
                json!({"key": key, "data": data, "etag": etag(&record.value)})
            }
            Ok(None) => json!({"key": key}),
            Err(e) => json!({"key": key, "error": e.detail()}),
        });
    }
    micro_gateway::reply::json(StatusCode::OK, Value::from(out).to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn etags_differ_by_value() {
        assert_eq!(super::etag(b""), "cbf29ce484222325");
        assert_ne!(super::etag(b"1"), super::etag(b"2"));
    }
}
