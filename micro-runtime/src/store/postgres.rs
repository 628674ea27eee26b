//! The PostgreSQL store: a schema per database and a table per store table, made on
//! demand, each `(key TEXT COLLATE "C" PRIMARY KEY, value BYTEA, metadata JSONB, expiry
//! TIMESTAMPTZ)`. Names are quoted identifiers, never spliced text, so any name is safe.
//! Expired rows are left out of every read; a write sweeps them from its table when the
//! table was last swept over a minute ago. Reads never create anything: a table not made yet
//! reads as empty, so a read-only role can read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

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
    client: Mutex<Option<Arc<Conn>>>,
    /// Tables known to exist, and when each was last swept.
    tables: Mutex<HashMap<Table, Instant>>,
}

/// A connection and the statements prepared on it (each query is parsed once per
/// connection, not once per call).
#[derive(Debug)]
struct Conn {
    client: Client,
    statements: std::sync::Mutex<HashMap<String, Statement>>,
}

impl Conn {
    async fn statement(&self, sql: &str) -> std::result::Result<Statement, tokio_postgres::Error> {
        let cached = self
            .statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sql)
            .cloned();
        if let Some(statement) = cached {
            return Ok(statement);
        }
        let statement = self.client.prepare(sql).await?;
        self.statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Forget `sql`'s statement (after it failed: the table may have changed under it).
    fn forget(&self, sql: &str) {
        self.statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(sql);
    }

    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        let rows = self.client.query(&statement, params).await;
        if rows.is_err() {
            self.forget(sql);
        }
        rows
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        let done = self.client.execute(&statement, params).await;
        if done.is_err() {
            self.forget(sql);
        }
        done
    }
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
                format!(
                    "postgres address {:?} is not a PostgreSQL URL or settings: {e}",
                    super::redact(address)
                ),
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

    async fn client(&self) -> Result<Arc<Conn>> {
        let mut held = self.inner.client.lock().await;
        if let Some(client) = held.as_ref().filter(|c| !c.client.is_closed()) {
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
        let conn = Arc::new(Conn {
            client,
            statements: std::sync::Mutex::default(),
        });
        *held = Some(conn.clone());
        Ok(conn)
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
    async fn ready(&self, table: &Table, writing: bool) -> Result<Arc<Conn>> {
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
                if let Err(e) = self.run(client.client.batch_execute(&create)).await {
                    self.run(client.client.batch_execute(&create))
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
                self.run(client.client.execute(&sweep, &[])).await?;
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

    fn row(&self, table: &Table, row: &Row) -> Result<Record> {
        let column = |e: tokio_postgres::Error| {
            self.error(format!(
                "table {} does not have micro's columns (key text, value bytea, metadata jsonb, expiry timestamptz): {e}",
                qualified(table)
            ))
        };
        let key: String = row.try_get(0).map_err(column)?;
        let value: Vec<u8> = row.try_get(1).map_err(column)?;
        let metadata: Option<String> = row.try_get(2).map_err(column)?;
        let expiry: Option<SystemTime> = row.try_get(3).map_err(column)?;
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
        let client = self.client().await?;
        let t = qualified(table);
        if let Some(key) = &query.exact {
            let sql = format!(
                "SELECT {columns} FROM {t} WHERE key = $1 AND (expiry IS NULL OR expiry > now())"
            );
            return self.rows(&client, &sql, &[key]).await;
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
        self.rows(&client, &sql, &[&prefix, &suffix, &limit, &offset])
            .await
    }

    /// The rows `sql` selects; a table not made yet has none.
    async fn rows(
        &self,
        client: &Conn,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let answer = tokio::time::timeout(self.inner.timeout, client.query(sql, params))
            .await
            .map_err(|_| self.error(format!("no answer within {:?}", self.inner.timeout)))?;
        match answer {
            Ok(rows) => Ok(rows),
            Err(e) if is_missing(&e) => Ok(Vec::new()),
            Err(e) => Err(self.error(pg_detail(&e))),
        }
    }
}

/// A table or schema that does not exist yet.
fn is_missing(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code()
        .is_some_and(|c| *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME)
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
            rows.iter().map(|row| self.row(table, row)).collect()
        })
    }

    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let rows = self.select(table, query, "key").await?;
            rows.iter()
                .map(|row| {
                    row.try_get(0).map_err(|e| {
                        self.error(format!("table {}: key column: {e}", qualified(table)))
                    })
                })
                .collect()
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
