//! The store browser: keys of a table by prefix, a page at a time; read, write and delete a
//! record. Any table of the dashboard's store engine.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::StatusCode;
use micro::store::{ListOptions, Record, Store};
use serde::Deserialize;
use serde_json::json;

use crate::Web;

/// Keys on one page at most.
const MAX_PAGE: usize = 500;

fn table(web: &Web, name: &str) -> Result<Store, Box<Response>> {
    let Some(store) = &web.options().store else {
        return Err(Box::new(crate::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this dashboard has no store (micro web uses MICRO_STORE, --store)",
        )));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(Box::new(crate::error(
            StatusCode::BAD_REQUEST,
            "name the table (a service's table is named after it)",
        )));
    }
    store
        .table(name)
        .map_err(|e| Box::new(crate::error(StatusCode::BAD_REQUEST, e.detail())))
}

/// The table and key a record request names, or the response that says what is wrong.
fn keyed(
    web: &Web,
    query: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(Store, KeyQuery), Box<Response>> {
    let Ok(Query(q)) = query else {
        return Err(Box::new(crate::error(
            StatusCode::BAD_REQUEST,
            "api/store/record takes ?table=T&key=K",
        )));
    };
    Ok((table(web, &q.table)?, q))
}

fn failed(err: &micro::Error) -> Response {
    let status = StatusCode::from_u16(u16::try_from(err.code()).unwrap_or(500))
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    crate::error(status, err.detail())
}

/// The query of `GET api/store`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    table: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: usize,
}

/// `GET api/store?table=&prefix=&limit=&offset=`: a page of keys, and whether more follow.
pub(crate) async fn list(
    State(web): State<Web>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(why) => {
            return crate::error(
                StatusCode::BAD_REQUEST,
                format!("api/store takes ?table=T&prefix=P&limit=N&offset=N: {why}"),
            );
        }
    };
    let store = match table(&web, &q.table) {
        Ok(s) => s,
        Err(rsp) => return *rsp,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let mut options = ListOptions::default();
    if !q.prefix.is_empty() {
        options = options.prefix(q.prefix.clone());
    }
    options.limit = Some(limit + 1);
    options.offset = q.offset;
    match store.list(options).await {
        Ok(mut keys) => {
            let more = keys.len() > limit;
            keys.truncate(limit);
            crate::json(
                StatusCode::OK,
                &json!({"table": q.table.trim(), "keys": keys, "more": more, "offset": q.offset}),
            )
        }
        Err(err) => failed(&err),
    }
}

/// The query naming one record.
#[derive(Debug, Deserialize)]
pub(crate) struct KeyQuery {
    table: String,
    key: String,
}

/// `GET api/store/record?table=&key=`: the value as text (or base64 when it is not UTF-8),
/// its metadata and time to live.
pub(crate) async fn read(
    State(web): State<Web>,
    query: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (store, q) = match keyed(&web, query) {
        Ok(found) => found,
        Err(rsp) => return *rsp,
    };
    match store.read_one(&q.key).await {
        Ok(Some(record)) => {
            let mut out = json!({"key": record.key, "metadata": record.metadata});
            match std::str::from_utf8(&record.value) {
                Ok(text) => out["value"] = text.into(),
                Err(_) => {
                    out["value_base64"] = base64::engine::general_purpose::STANDARD
                        .encode(&record.value)
                        .into();
                }
            }
            if let Some(ttl) = record.ttl() {
                out["ttl_ms"] = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).into();
            }
            crate::json(StatusCode::OK, &out)
        }
        Ok(None) => crate::error(
            StatusCode::NOT_FOUND,
            format!("no key {} in table {}", q.key, q.table.trim()),
        ),
        Err(err) => failed(&err),
    }
}

/// The body of `PUT api/store/record`.
#[derive(Debug, Deserialize)]
pub(crate) struct Write {
    table: String,
    key: String,
    value: String,
    #[serde(default)]
    ttl_ms: Option<u64>,
}

/// `PUT api/store/record`: store the text value (with a time to live when given).
pub(crate) async fn write(
    State(web): State<Web>,
    body: Result<Json<Write>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(w) = match body {
        Ok(b) => b,
        Err(why) => {
            return crate::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "api/store/record takes {{\"table\", \"key\", \"value\", \"ttl_ms\"}}: {why}"
                ),
            );
        }
    };
    let store = match table(&web, &w.table) {
        Ok(s) => s,
        Err(rsp) => return *rsp,
    };
    let mut record = Record::new(w.key, w.value.into_bytes());
    if let Some(ms) = w.ttl_ms.filter(|ms| *ms > 0) {
        record = record.with_ttl(std::time::Duration::from_millis(ms));
    }
    match store.write(record).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => failed(&err),
    }
}

/// `DELETE api/store/record?table=&key=`: 404 when the key was not there.
pub(crate) async fn delete(
    State(web): State<Web>,
    query: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (store, q) = match keyed(&web, query) {
        Ok(found) => found,
        Err(rsp) => return *rsp,
    };
    match store.read_one(&q.key).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return crate::error(
                StatusCode::NOT_FOUND,
                format!("no key {} in table {}", q.key, q.table.trim()),
            );
        }
        Err(err) => return failed(&err),
    }
    match store.delete(&q.key).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => failed(&err),
    }
}
