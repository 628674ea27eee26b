//! Key-value state for services: go-micro's `Store`, on the engine the configuration names.
//!
//! A [`Store`] reads, writes, lists and deletes [`Record`]s (a key, a value of bytes, metadata
//! and an optional expiry) in one **table** of one **database**. Both default to the
//! service's name, so two services never see each other's keys unless they ask; a handle for
//! another table is one call away ([`Store::table`], [`Store::database`]). The engine is a
//! setting, never code: `MICRO_STORE`, `MICRO_STORE_ADDRESS`, `MICRO_STORE_DATABASE`,
//! `MICRO_STORE_TABLE`.
//!
//! | Engine | `MICRO_STORE` | Where | Guarantees |
//! |---|---|---|---|
//! | [`FileStore`] | `file` (default) | `MICRO_HOME/store/<database>.redb` (redb) | every acknowledged write is on disk (fsync at commit) and survives `kill -9`; several processes of one host share it through the file's lock, taking turns; expired records hidden and kept until overwritten |
//! | [`MemoryStore`] | `memory` | this process | gone when the process ends |
//! | `RedisStore` | `redis` (feature `redis`) | `redis://127.0.0.1:6379` | a hash per key; TTL native (`PEXPIREAT`); durability as the server is configured |
//! | `PostgresStore` | `postgres` (feature `postgres`) | `postgres://postgres@127.0.0.1:5432/postgres` | a schema per database, a table per table, made by the first write; expiry honoured on read, expired rows swept by writes |
//! | `NatsStore` | `nats` (feature `nats`) | `nats://127.0.0.1:4222` | a JetStream key-value bucket per table (one replica); expired records hidden and kept until overwritten; values up to the server's `max_payload` (1 MiB by default) |
//!
//! Every engine passes one conformance suite (`tests/state`): the same options, TTL, prefix
//! listing, paging, binary values, awkward keys, concurrent writers and what each refuses.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
//! use micro::store::{MemoryStore, ReadOptions, Record, Store};
//! use std::time::Duration;
//!
//! let store = Store::new(MemoryStore::new(), "shop", "carts")?;
//! store.put("cart/alice", &vec!["apple", "pear"]).await?;
//! let cart: Option<Vec<String>> = store.get("cart/alice").await?;
//! assert_eq!(cart.unwrap(), ["apple", "pear"]);
//!
//! store.write(Record::new("session/1", "token").with_ttl(Duration::from_secs(60))).await?;
//! let carts = store.read("cart/", ReadOptions::default().prefix()).await?;
//! assert_eq!(carts.len(), 1);
//! // A counter that two processes may increment at once: a compare-and-set loop.
//! let hits: u64 = store.update("hits", |n: Option<u64>| n.unwrap_or(0) + 1).await?;
//! assert_eq!(hits, 1);
//! # Ok(()) }
//! ```

mod blob;
mod file;
mod memory;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "postgres")]
mod postgres;
mod query;
mod record;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::BoxFuture;
use crate::error::{Error, Result};

pub use crate::net::redact;
pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "nats")]
pub use nats::NatsStore;
#[cfg(feature = "postgres")]
pub use postgres::{DEFAULT_ADDRESS as POSTGRES_DEFAULT_ADDRESS, PostgresStore};
pub use query::{ListOptions, Query, ReadOptions};
pub use record::{Metadata, Record};
#[cfg(feature = "redis")]
pub use redis::RedisStore;

const ID: &str = "micro.store";

/// The longest database or table name micro accepts (PostgreSQL's identifier limit).
pub const MAX_NAME_LEN: usize = 63;

/// What an engine accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest key, in bytes.
    pub max_key: usize,
    /// The largest value, in bytes.
    pub max_value: usize,
}

/// Where records live: a table of a database.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Table {
    /// The database (a file, a schema, a key prefix or a bucket prefix, by engine).
    pub database: String,
    /// The table inside it.
    pub table: String,
}

impl Table {
    /// A table, its names checked: 1 to [`MAX_NAME_LEN`] bytes, no control characters.
    pub fn new(database: impl Into<String>, table: impl Into<String>) -> Result<Table> {
        let table = Table {
            database: database.into(),
            table: table.into(),
        };
        check_name("database", &table.database)?;
        check_name("table", &table.table)?;
        Ok(table)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.database, self.table)
    }
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::bad_request(
            ID,
            format!("store {what} name is empty"),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::bad_request(
            ID,
            format!(
                "store {what} name {name:?} is {} bytes; the limit is {MAX_NAME_LEN}",
                name.len()
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::bad_request(
            ID,
            format!("store {what} name {name:?} holds a control character"),
        ));
    }
    Ok(())
}

/// A store engine: what [`Store`] runs on. Engines see checked tables and keys, and
/// return records in key order with expired ones left out.
pub trait StoreEngine: Send + Sync + fmt::Debug + 'static {
    /// The engine's name in settings (`file`, `redis` ...).
    fn name(&self) -> &'static str;

    /// What it accepts.
    fn limits(&self) -> Limits;

    /// The records that match `query`, in key order, paged by its limit and offset.
    fn read<'a>(&'a self, table: &'a Table, query: &'a Query)
    -> BoxFuture<'a, Result<Vec<Record>>>;

    /// The keys that match `query`, in order, paged by its limit and offset. By default the
    /// keys of [`StoreEngine::read`]; engines that can list without reading values do.
    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let records = self.read(table, query).await?;
            Ok(records.into_iter().map(|r| r.key).collect())
        })
    }

    /// Store a record, replacing what the key held.
    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>>;

    /// Remove a key; `false` when it was not there.
    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Write `record` only if its key's live value is `expected` (`None`: absent or expired),
    /// atomically; `false` when the value was something else.
    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>>;
}

/// A shared store engine.
pub type SharedStore = Arc<dyn StoreEngine>;

/// A store handle: an engine and a table. Cheap to clone; share it with handlers.
#[derive(Clone)]
pub struct Store {
    engine: SharedStore,
    table: Table,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine.name())
            .field("table", &self.table)
            .finish()
    }
}

impl Store {
    /// A handle on `engine`'s table `table` of `database`; an error when a name is empty,
    /// longer than [`MAX_NAME_LEN`] or holds a control character.
    pub fn new(
        engine: impl StoreEngine,
        database: impl Into<String>,
        table: impl Into<String>,
    ) -> Result<Store> {
        Ok(Store {
            engine: Arc::new(engine),
            table: Table::new(database, table)?,
        })
    }

    /// A handle on a shared engine's table (names checked).
    pub fn with_table(engine: SharedStore, table: Table) -> Result<Store> {
        check_name("database", &table.database)?;
        check_name("table", &table.table)?;
        Ok(Store { engine, table })
    }

    /// The same engine, another table of this database.
    pub fn table(&self, table: impl Into<String>) -> Result<Store> {
        Store::with_table(
            self.engine.clone(),
            Table::new(self.table.database.clone(), table)?,
        )
    }

    /// The same engine and table name, another database.
    pub fn database(&self, database: impl Into<String>) -> Result<Store> {
        Store::with_table(
            self.engine.clone(),
            Table::new(database, self.table.table.clone())?,
        )
    }

    /// The engine's name.
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    /// The engine.
    pub fn engine(&self) -> &SharedStore {
        &self.engine
    }

    /// The table this handle reads and writes.
    pub fn scope(&self) -> &Table {
        &self.table
    }

    /// What the engine accepts.
    pub fn limits(&self) -> Limits {
        self.engine.limits()
    }

    /// go-micro's `Read`: the record at `key`, or with [`ReadOptions::prefix`] /
    /// [`ReadOptions::suffix`] every record whose key starts / ends with `key`, paged.
    /// An exact key that is absent is a `not found` error; a prefix that matches nothing is
    /// an empty list.
    pub async fn read(&self, key: &str, options: ReadOptions) -> Result<Vec<Record>> {
        let query = options.query(key);
        if query.exact.is_some() {
            self.check_key(key)?;
        }
        let records = self.engine.read(&self.table, &query).await?;
        if query.exact.is_some() && records.is_empty() {
            return Err(self.not_found(key));
        }
        Ok(records)
    }

    /// The record at `key`, if there is one.
    pub async fn read_one(&self, key: &str) -> Result<Option<Record>> {
        self.check_key(key)?;
        let query = ReadOptions::default().query(key);
        Ok(self
            .engine
            .read(&self.table, &query)
            .await?
            .into_iter()
            .next())
    }

    /// go-micro's `Write`: store a record (its TTL or expiry included).
    pub async fn write(&self, mut record: Record) -> Result<()> {
        self.check_record(&record)?;
        record.expiry = record.expiry.map(clamp_expiry);
        self.engine.write(&self.table, &record).await
    }

    /// go-micro's `Delete`. Deleting a key that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.check_key(key)?;
        self.engine.delete(&self.table, key).await.map(drop)
    }

    /// go-micro's `List`: keys in order, filtered and paged.
    pub async fn list(&self, options: ListOptions) -> Result<Vec<String>> {
        self.engine.list(&self.table, &options.query()).await
    }

    /// Write `record` only if its key's value is `expected` now (`None`: absent), atomically
    /// on every engine; `false` when another writer got there first.
    pub async fn compare_and_swap(
        &self,
        expected: Option<&[u8]>,
        mut record: Record,
    ) -> Result<bool> {
        self.check_record(&record)?;
        record.expiry = record.expiry.map(clamp_expiry);
        self.engine.swap(&self.table, expected, &record).await
    }

    /// The value at `key` decoded from JSON, if there is one.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        match self.read_one(key).await? {
            Some(record) => record.decode().map(Some),
            None => Ok(None),
        }
    }

    /// Store `value` at `key` as JSON.
    pub async fn put<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        self.write(Record::encode(key, value)?).await
    }

    /// Read, change and write back the JSON value at `key` without losing a concurrent
    /// writer's update: `change` gets the current value (`None` when absent) and may run
    /// more than once when another writer wins the race. Returns the value written.
    pub async fn update<T, F>(&self, key: &str, mut change: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> T,
    {
        let mut backoff = Duration::from_millis(1);
        loop {
            let current = self.read_one(key).await?;
            let expected = current.as_ref().map(|r| r.value.clone());
            let old = match &current {
                Some(record) => Some(record.decode::<T>()?),
                None => None,
            };
            let new = change(old);
            let mut record = Record::encode(key, &new)?;
            // The record keeps its metadata and its expiry: a counter with a TTL stays one.
            if let Some(current) = current {
                record.metadata = current.metadata;
                record.expiry = current.expiry;
            }
            if self.compare_and_swap(expected.as_deref(), record).await? {
                return Ok(new);
            }
            // Another writer won: back off a little (jittered, up to 50 ms) and read again.
            tokio::time::sleep(backoff.mul_f64(0.5 + fastrand::f64())).await;
            backoff = (backoff * 2).min(Duration::from_millis(50));
        }
    }

    fn not_found(&self, key: &str) -> Error {
        Error::not_found(
            ID,
            format!(
                "{key:?} is not in store table {} ({})",
                self.table,
                self.engine.name()
            ),
        )
    }

    pub(crate) fn check_key(&self, key: &str) -> Result<()> {
        if key.is_empty() {
            return Err(Error::bad_request(ID, "store key is empty"));
        }
        let max = self.engine.limits().max_key;
        if key.len() > max {
            return Err(Error::too_large(
                ID,
                format!(
                    "store key of {} bytes is over the {} engine's limit of {max} bytes",
                    key.len(),
                    self.engine.name()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_record(&self, record: &Record) -> Result<()> {
        self.check_key(&record.key)?;
        let max = self.engine.limits().max_value;
        if record.value.len() > max {
            return Err(Error::too_large(
                ID,
                format!(
                    "value of {:?} is {} bytes, over the {} engine's limit of {max} bytes",
                    record.key,
                    record.value.len(),
                    self.engine.name()
                ),
            ));
        }
        Ok(())
    }
}

/// The latest expiry engines are given: 100 years from now (later ones are as good as
/// never, and some engines cannot hold them).
fn clamp_expiry(at: SystemTime) -> SystemTime {
    let latest = SystemTime::now() + MAX_TTL;
    at.min(latest)
}

/// The longest TTL kept as given; longer ones are cut to it.
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// An error from an engine's client, naming the engine and where it is (credentials in the
/// address left out).
pub(crate) fn engine_error(engine: &str, at: &str, what: impl fmt::Display) -> Error {
    Error::unavailable(ID, format!("{engine} store at {}: {what}", redact(at)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_expiries_are_clamped() {
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 100);
        assert!(clamp_expiry(far) < far);
        let soon = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(clamp_expiry(soon), soon);
    }
}
