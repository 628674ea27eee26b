//! The store of `micro server` and the `service` store engine (`MICRO_STORE=service`):
//! every operation is a call, checked by the server against its own engine's limits.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::remote::{Concept, Remote};
use super::{Empty, unary};
use crate::BoxFuture;
use crate::context::Context;
use crate::endpoint::Router;
use crate::error::{Error, Result};
use crate::store::{Limits, Query, Record, SharedStore, Store, StoreEngine, Table};

const ID: &str = "micro.store";

/// How long one call to the server may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What the service store sends: keys up to 4 KiB, values whose base64 fits the
/// transport's 4 MiB with room for the key and metadata. The server's engine may refuse
/// less (its error passes through).
const LIMITS: Limits = Limits {
    max_key: 4096,
    max_value: 3 * 1024 * 1024 - 64 * 1024,
};

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(what: &str, text: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| Error::bad_request(ID, format!("{what} is not base64: {e}")))
}

/// A record on the wire: the value in base64, the expiry in milliseconds since the epoch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WireRecord {
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    metadata: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    expiry_ms: Option<u64>,
}

impl WireRecord {
    fn from_record(record: &Record) -> WireRecord {
        WireRecord {
            key: record.key.clone(),
            value: encode(&record.value),
            metadata: record.metadata.clone(),
            expiry_ms: record.expiry.map(|at| {
                at.duration_since(UNIX_EPOCH)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .unwrap_or(0)
            }),
        }
    }

    fn into_record(self) -> Result<Record> {
        let value = decode(&format!("the value of {:?}", self.key), &self.value)?;
        Ok(Record {
            expiry: self
                .expiry_ms
                .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms))),
            key: self.key,
            value: value.into(),
            metadata: self.metadata,
        })
    }
}

/// A query on the wire.
#[derive(Debug, Default, Serialize, Deserialize)]
struct WireQuery {
    #[serde(default)]
    exact: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    offset: usize,
}

impl WireQuery {
    fn from_query(q: &Query) -> WireQuery {
        WireQuery {
            exact: q.exact.clone(),
            prefix: q.prefix.clone(),
            suffix: q.suffix.clone(),
            limit: q.limit,
            offset: q.offset,
        }
    }

    fn into_query(self) -> Query {
        Query {
            exact: self.exact,
            prefix: self.prefix,
            suffix: self.suffix,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// `Store.Read` and `Store.List`.
#[derive(Debug, Serialize, Deserialize)]
struct QueryRequest {
    database: String,
    table: String,
    query: WireQuery,
}

/// `Store.Write`.
#[derive(Debug, Serialize, Deserialize)]
struct WriteRequest {
    database: String,
    table: String,
    record: WireRecord,
}

/// `Store.Delete`.
#[derive(Debug, Serialize, Deserialize)]
struct DeleteRequest {
    database: String,
    table: String,
    key: String,
}

/// `Store.Swap`: write `record` if the live value is `expected` (base64; none: absent).
#[derive(Debug, Serialize, Deserialize)]
struct SwapRequest {
    database: String,
    table: String,
    #[serde(default)]
    expected: Option<String>,
    record: WireRecord,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordsResponse {
    records: Vec<WireRecord>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysResponse {
    keys: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct DoneResponse {
    done: bool,
}

/// The scope a caller needs for the auth directory (`micro/auth`) beyond reading its rules.
pub const ADMIN_SCOPE: &str = "admin";

/// The server's handle on `database`/`table`: names checked, keys checked against its
/// engine's limits. The auth directory (`micro/auth`, where accounts with their hashed
/// secrets and the rules live) is kept to callers with the [`ADMIN_SCOPE`], except reading
/// the rules, which every service that checks calls needs.
fn handle(
    engine: &SharedStore,
    ctx: &Context,
    database: String,
    table: String,
    rules_only: bool,
) -> Result<Store> {
    if database == "micro" && table == "auth" && !rules_only {
        let admin = ctx.account().is_some_and(|a| a.has_scope(ADMIN_SCOPE));
        if !admin {
            return Err(Error::new(
                ID,
                format!(
                    "the auth directory (micro/auth) of micro server is kept to accounts with the {ADMIN_SCOPE:?} scope, except reading its rules"
                ),
                403,
            ));
        }
    }
    Store::with_table(engine.clone(), Table { database, table })
}

/// Whether `query` reads the rules of the auth directory only.
fn rules_only(query: &Query) -> bool {
    let within = |key: &str| key.starts_with("rules/") || key == "rules-configured";
    match (&query.exact, &query.prefix) {
        (Some(key), _) => within(key),
        (None, Some(prefix)) => prefix.starts_with("rules/"),
        (None, None) => false,
    }
}

async fn read(engine: SharedStore, ctx: Context, req: QueryRequest) -> Result<RecordsResponse> {
    let query = req.query.into_query();
    let store = handle(&engine, &ctx, req.database, req.table, rules_only(&query))?;
    if let Some(key) = &query.exact {
        store.check_key(key)?;
    }
    let records = engine.read(store.scope(), &query).await?;
    Ok(RecordsResponse {
        records: records.iter().map(WireRecord::from_record).collect(),
    })
}

async fn list(engine: SharedStore, ctx: Context, req: QueryRequest) -> Result<KeysResponse> {
    let query = req.query.into_query();
    let store = handle(&engine, &ctx, req.database, req.table, rules_only(&query))?;
    if let Some(key) = &query.exact {
        store.check_key(key)?;
    }
    let keys = engine.list(store.scope(), &query).await?;
    Ok(KeysResponse { keys })
}

async fn write(engine: SharedStore, ctx: Context, req: WriteRequest) -> Result<Empty> {
    let store = handle(&engine, &ctx, req.database, req.table, false)?;
    store.write(req.record.into_record()?).await?;
    Ok(Empty {})
}

async fn delete(engine: SharedStore, ctx: Context, req: DeleteRequest) -> Result<DoneResponse> {
    let store = handle(&engine, &ctx, req.database, req.table, false)?;
    store.check_key(&req.key)?;
    let done = engine.delete(store.scope(), &req.key).await?;
    Ok(DoneResponse { done })
}

async fn swap(engine: SharedStore, ctx: Context, req: SwapRequest) -> Result<DoneResponse> {
    let store = handle(&engine, &ctx, req.database, req.table, false)?;
    let expected = match &req.expected {
        Some(text) => Some(decode("the expected value", text)?),
        None => None,
    };
    let done = store
        .compare_and_swap(expected.as_deref(), req.record.into_record()?)
        .await?;
    Ok(DoneResponse { done })
}

/// The store's routes over `store`, added to `router`.
pub(super) fn routes(router: Router, store: &SharedStore) -> Router {
    router
        .route(unary("Store.Read", store, read))
        .route(unary("Store.List", store, list))
        .route(unary("Store.Write", store, write))
        .route(unary("Store.Delete", store, delete))
        .route(unary("Store.Swap", store, swap))
}

/// A store served by `micro server` at `address` (`MICRO_STORE=service`,
/// `MICRO_STORE_ADDRESS=host:port`). Config records live in the store, so a service on
/// this store reads its config (`micro config set`) from the server too.
#[derive(Clone, Debug)]
pub struct ServiceStore {
    remote: Remote,
}

impl ServiceStore {
    /// The store of the `micro server` at `address` (`host:port`). Nothing is dialled
    /// until the first operation.
    pub fn new(address: &str) -> Result<ServiceStore> {
        ServiceStore::with_token(address, TIMEOUT, None)
    }

    /// [`ServiceStore::new`], with the time one call may take and the token sent with
    /// every call (for a `micro server` that checks callers: `MICRO_AUTH_TOKEN`).
    pub fn with_token(
        address: &str,
        timeout: Duration,
        token: Option<&str>,
    ) -> Result<ServiceStore> {
        Ok(ServiceStore {
            remote: Remote::new(Concept::Store, address, timeout, token)?,
        })
    }

    fn query(table: &Table, query: &Query) -> QueryRequest {
        QueryRequest {
            database: table.database.clone(),
            table: table.table.clone(),
            query: WireQuery::from_query(query),
        }
    }
}

impl StoreEngine for ServiceStore {
    fn name(&self) -> &'static str {
        "service"
    }

    fn limits(&self) -> Limits {
        LIMITS
    }

    fn read<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<Record>>> {
        Box::pin(async move {
            let rsp: RecordsResponse = self
                .remote
                .call("Store.Read", &ServiceStore::query(table, query))
                .await?;
            rsp.records
                .into_iter()
                .map(WireRecord::into_record)
                .collect()
        })
    }

    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let rsp: KeysResponse = self
                .remote
                .call("Store.List", &ServiceStore::query(table, query))
                .await?;
            Ok(rsp.keys)
        })
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let req = WriteRequest {
                database: table.database.clone(),
                table: table.table.clone(),
                record: WireRecord::from_record(record),
            };
            let _: Empty = self.remote.call("Store.Write", &req).await?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let req = DeleteRequest {
                database: table.database.clone(),
                table: table.table.clone(),
                key: key.to_owned(),
            };
            let rsp: DoneResponse = self.remote.call("Store.Delete", &req).await?;
            Ok(rsp.done)
        })
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let req = SwapRequest {
                database: table.database.clone(),
                table: table.table.clone(),
                expected: expected.map(encode),
                record: WireRecord::from_record(record),
            };
            let rsp: DoneResponse = self.remote.call("Store.Swap", &req).await?;
            Ok(rsp.done)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_cross_the_wire_whole() {
        let mut record =
            Record::new("cart/alice", vec![0u8, 255, 10]).with_ttl(Duration::from_secs(60));
        record
            .metadata
            .insert("owner".to_owned(), serde_json::json!({"id": 7}));
        // Milliseconds are what the wire keeps.
        let millis = record
            .expiry
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        record.expiry = UNIX_EPOCH.checked_add(Duration::from_millis(millis as u64));
        let wire = serde_json::to_vec(&WireRecord::from_record(&record)).unwrap();
        let back: WireRecord = serde_json::from_slice(&wire).unwrap();
        assert_eq!(back.into_record().unwrap(), record);
        let bad = WireRecord {
            key: "k".to_owned(),
            value: "%%".to_owned(),
            ..WireRecord::default()
        };
        let err = bad.into_record().unwrap_err();
        assert!(
            err.detail().contains("the value of \"k\" is not base64"),
            "{err}"
        );
    }

    #[test]
    fn the_auth_directory_is_kept_to_admins_but_its_rules() {
        let engine: SharedStore = std::sync::Arc::new(crate::store::MemoryStore::new());
        let anyone = Context::new();
        let rules = Query {
            prefix: Some("rules/".to_owned()),
            ..Query::default()
        };
        let accounts = Query {
            prefix: Some("accounts/".to_owned()),
            ..Query::default()
        };
        let configured = Query {
            exact: Some("rules-configured".to_owned()),
            ..Query::default()
        };
        assert!(rules_only(&rules) && rules_only(&configured));
        assert!(!rules_only(&accounts) && !rules_only(&Query::default()));
        let auth = |ctx: &Context, only| {
            handle(&engine, ctx, "micro".into(), "auth".into(), only).map(|_| ())
        };
        assert!(auth(&anyone, true).is_ok());
        let refused = auth(&anyone, false).unwrap_err();
        assert_eq!(refused.code(), 403);
        assert!(refused.detail().contains("\"admin\" scope"), "{refused}");
        let mut admin = Context::new();
        admin.set_account(std::sync::Arc::new(crate::auth::Account::new(
            "ada",
            ["admin"],
        )));
        assert!(auth(&admin, false).is_ok());
        let mut staff = Context::new();
        staff.set_account(std::sync::Arc::new(crate::auth::Account::new(
            "bob",
            ["staff"],
        )));
        assert_eq!(auth(&staff, false).unwrap_err().code(), 403);
        // Other tables are anyone's who may call.
        assert!(handle(&engine, &anyone, "shop".into(), "auth".into(), false).is_ok());
    }

    #[test]
    fn the_store_refuses_a_server_address_that_is_not_host_and_port() {
        let err = ServiceStore::new("redis://127.0.0.1:6379").unwrap_err();
        assert!(err.detail().contains("MICRO_STORE_ADDRESS"), "{err}");
    }
}
