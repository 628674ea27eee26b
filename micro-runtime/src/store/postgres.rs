//! The PostgreSQL store: a schema per database and a table per store table, made on
//! demand, each `(key TEXT COLLATE "C" PRIMARY KEY, value BYTEA, metadata JSONB, expiry
//! TIMESTAMPTZ)`. Names are quoted identifiers, never spliced text, so any name is safe.
//! Expired rows are left out of every read and swept from a table at most once a minute.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row};

use super::{ID, Limits, Metadata, Query, Record, StoreEngine, Table, engine_error};
use crate::BoxFuture;
use crate::error::{Error, Result};

/// The address used when none is set.
pub const DEFAULT_ADDRESS: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Records in PostgreSQL (`MICRO_STORE=postgres`).
#[derive(Clone, Debug)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    address: String,
    config: tokio_postgres::Config,
    timeout: Duration,
    client: Mutex<Option<Arc<Client>>>,
    /// Tables known to exist, and when each was last swept.
    tables: Mutex<HashMap<Table, Instant>>,
}

/// `name` as a quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qualified(table: &Table) -> String {
    format!("{}.{}", ident(&table.database), ident(&table.table))
}

impl PostgresStore {
    /// A store on the PostgreSQL at `address` (a `postgres://` URL or `key=value` settings),
    /// connected on first use; each query may take `timeout`.
    pub fn new(address: &str, timeout: Duration) -> Result<PostgresStore> {
        let mut config: tokio_postgres::Config = address.parse().map_err(|e| {
            Error::bad_request(
                ID,
                format!("postgres address {address:?} is not a PostgreSQL URL or settings: {e}"),
            )
        })?;
        config.connect_timeout(timeout);
        config.application_name("micro");
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                address: address.to_owned(),
                config,
                timeout,
                client: Mutex::new(None),
                tables: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> Error {
        engine_error("postgres", &self.inner.address, e)
    }

    async fn client(&self) -> Result<Arc<Client>> {
        let mut held = self.inner.client.lock().await;
        if let Some(client) = held.as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let connect = self.inner.config.connect(NoTls);
        let (client, connection) = tokio::time::timeout(self.inner.timeout, connect)
            .await
            .map_err(|_| self.error(format!("no connection within {:?}", self.inner.timeout)))?
            .map_err(|e| self.error(format!("cannot connect: {e}")))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres store connection ended");
            }
        });
        let client = Arc::new(client);
        *held = Some(client.clone());
        Ok(client)
    }

    async fn run<T>(
        &self,
        what: impl std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>>,
    ) -> Result<T> {
        tokio::time::timeout(self.inner.timeout, what)
            .await
            .map_err(|_| self.error(format!("no answer within {:?}", self.inner.timeout)))?
            .map_err(|e| self.error(pg_detail(&e)))
    }

    /// The client, with `table` made if this process has not seen it yet, and swept of
    /// expired rows when due.
    async fn ready(&self, table: &Table, writing: bool) -> Result<Arc<Client>> {
        let client = self.client().await?;
        let due = {
            let tables = self.inner.tables.lock().await;
            match tables.get(table) {
                None => Some(true),
                Some(swept) if writing && swept.elapsed() > SWEEP_EVERY => Some(false),
                Some(_) => None,
            }
        };
        match due {
            Some(true) => {
                let create = format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}; \
                     CREATE TABLE IF NOT EXISTS {t} (key TEXT COLLATE \"C\" PRIMARY KEY, value BYTEA NOT NULL, metadata JSONB, expiry TIMESTAMPTZ)",
                    schema = ident(&table.database),
                    t = qualified(table),
                );
                // Two processes creating one table at once: the loser sees a unique
                // violation on the catalogue; the table exists either way.
                if let Err(e) = self.run(client.batch_execute(&create)).await {
                    self.run(client.batch_execute(&create))
                        .await
                        .map_err(|_| e)?;
                }
                self.inner
                    .tables
                    .lock()
                    .await
                    .insert(table.clone(), Instant::now());
            }
            Some(false) => {
                let sweep = format!("DELETE FROM {} WHERE expiry <= now()", qualified(table));
                self.run(client.execute(&sweep, &[])).await?;
                self.inner
                    .tables
                    .lock()
                    .await
                    .insert(table.clone(), Instant::now());
            }
            None => {}
        }
        Ok(client)
    }

    fn row(&self, row: &Row) -> Result<Record> {
        let key: String = row.get(0);
        let value: Vec<u8> = row.get(1);
        let metadata: Option<String> = row.get(2);
        let expiry: Option<SystemTime> = row.get(3);
        let metadata: Metadata = match metadata {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                self.error(format!("metadata of {key:?} is not a JSON object: {e}"))
            })?,
            None => Metadata::new(),
        };
        Ok(Record {
            key,
            value: Bytes::from(value),
            metadata,
            expiry,
        })
    }

    async fn select(&self, table: &Table, query: &Query, columns: &str) -> Result<Vec<Row>> {
        let client = self.ready(table, false).await?;
        let t = qualified(table);
        if let Some(key) = &query.exact {
            let sql = format!(
                "SELECT {columns} FROM {t} WHERE key = $1 AND (expiry IS NULL OR expiry > now())"
            );
            return self.run(client.query(&sql, &[key])).await;
        }
        let prefix = query.prefix.clone().unwrap_or_default();
        let suffix = query.suffix.clone().unwrap_or_default();
        let limit = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {columns} FROM {t} \
             WHERE key >= $1 AND starts_with(key, $1) AND right(key, char_length($2)) = $2 \
               AND (expiry IS NULL OR expiry > now()) \
             ORDER BY key LIMIT $3 OFFSET $4"
        );
        self.run(client.query(&sql, &[&prefix, &suffix, &limit, &offset]))
            .await
    }
}

/// The server's message with its detail and hint, not just "db error".
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            text
        }
        None => e.to_string(),
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.contains('\0') {
        return Err(Error::bad_request(
            ID,
            format!("postgres store keys cannot hold a NUL character: {key:?}"),
        ));
    }
    Ok(())
}

fn metadata_json(record: &Record) -> Result<Option<String>> {
    if record.metadata.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(&record.metadata)
        .map(Some)
        .map_err(|e| Error::bad_request(ID, format!("metadata of {:?}: {e}", record.key)))
}

impl StoreEngine for PostgresStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn limits(&self) -> Limits {
        // A B-tree entry must fit a third of a page: keys stay well under 2,704 bytes.
        Limits {
            max_key: 2048,
            max_value: 64 * 1024 * 1024,
        }
    }

    fn read<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<Record>>> {
        Box::pin(async move {
            if let Some(key) = &query.exact {
                check_key(key)?;
            }
            let rows = self
                .select(table, query, "key, value, metadata::text, expiry")
                .await?;
            rows.iter().map(|row| self.row(row)).collect()
        })
    }

    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let rows = self.select(table, query, "key").await?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            check_key(&record.key)?;
            let client = self.ready(table, true).await?;
            let sql = format!(
                "INSERT INTO {} (key, value, metadata, expiry) VALUES ($1, $2, $3::text::jsonb, $4) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, metadata = EXCLUDED.metadata, expiry = EXCLUDED.expiry",
                qualified(table)
            );
            let meta = metadata_json(record)?;
            self.run(client.execute(
                &sql,
                &[&record.key, &&record.value[..], &meta, &record.expiry],
            ))
            .await
            .map(drop)
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            check_key(key)?;
            let client = self.ready(table, true).await?;
            let sql = format!(
                "DELETE FROM {} WHERE key = $1 AND (expiry IS NULL OR expiry > now())",
                qualified(table)
            );
            Ok(self.run(client.execute(&sql, &[&key])).await? > 0)
        })
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            check_key(&record.key)?;
            let client = self.ready(table, true).await?;
            let t = qualified(table);
            let meta = metadata_json(record)?;
            let value = &record.value[..];
            let changed = match expected {
                Some(old) => {
                    let sql = format!(
                        "UPDATE {t} SET value = $2, metadata = $3::text::jsonb, expiry = $4 \
                         WHERE key = $1 AND value = $5 AND (expiry IS NULL OR expiry > now())"
                    );
                    self.run(
                        client.execute(&sql, &[&record.key, &value, &meta, &record.expiry, &old]),
                    )
                    .await?
                }
                None => {
                    let sql = format!(
                        "INSERT INTO {t} AS t (key, value, metadata, expiry) VALUES ($1, $2, $3::text::jsonb, $4) \
                         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, metadata = EXCLUDED.metadata, expiry = EXCLUDED.expiry \
                         WHERE t.expiry IS NOT NULL AND t.expiry <= now()"
                    );
                    self.run(client.execute(&sql, &[&record.key, &value, &meta, &record.expiry]))
                        .await?
                }
            };
            Ok(changed == 1)
        })
    }
}
