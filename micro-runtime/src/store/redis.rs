//! The Redis store: a hash per record (`v` value, `m` metadata as JSON, `e` expiry in
//! milliseconds), under `micro:<database>:<table>:<key>` (`%` and `:` in the names written as
//! `%25` and `%3A`); expiry native (`PEXPIREAT`), so reads and compare-and-swap both go by
//! the server's clock.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::redis_conn::Lazy;

use super::record::{from_millis, millis};
use super::{ID, Limits, Metadata, Query, Record, StoreEngine, Table};
use crate::BoxFuture;
use crate::error::{Error, Result};

const SWAP: &str = r"
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '1' then
  if cur ~= ARGV[2] then return 0 end
elseif cur then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[4]) end
if ARGV[5] ~= '0' then
  redis.call('HSET', KEYS[1], 'e', ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[5])
end
return 1
";

/// Records in Redis (`MICRO_STORE=redis`).
#[derive(Clone, Debug)]
pub struct RedisStore {
    redis: Lazy,
}

fn escape_name(name: &str) -> String {
    name.replace('%', "%25").replace(':', "%3A")
}

fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn namespace(table: &Table) -> String {
    format!(
        "micro:{}:{}:",
        escape_name(&table.database),
        escape_name(&table.table)
    )
}

impl RedisStore {
    /// A store on the Redis at `address` (`redis://host:port[/db]`), connected on first use;
    /// each request may take `timeout`.
    pub fn new(address: &str, timeout: Duration) -> Result<RedisStore> {
        Ok(RedisStore {
            redis: Lazy::new(address, timeout)?,
        })
    }

    async fn conn(&self) -> Result<ConnectionManager> {
        self.redis.get("redis store").await
    }

    fn error(&self, e: redis::RedisError) -> Error {
        self.redis.error("redis store", e)
    }

    /// The keys of `table` that match `query`, sorted, before paging.
    async fn keys(
        &self,
        con: &mut ConnectionManager,
        table: &Table,
        query: &Query,
    ) -> Result<Vec<String>> {
        let ns = namespace(table);
        if let Some(exact) = &query.exact {
            return Ok(vec![exact.clone()]);
        }
        let pattern = format!(
            "{}{}*",
            glob_escape(&ns),
            glob_escape(query.prefix.as_deref().unwrap_or(""))
        );
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(2000)
                .query_async(con)
                .await
                .map_err(|e| self.error(e))?;
            keys.extend(
                batch
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(ns.as_str()).map(str::to_owned))
                    .filter(|k| query.matches(k)),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    async fn records(&self, table: &Table, query: &Query) -> Result<Vec<Record>> {
        let mut con = self.conn().await?;
        let keys = self.keys(&mut con, table, query).await?;
        let ns = namespace(table);
        let limit = query.limit.unwrap_or(usize::MAX);
        let mut skip = query.offset;
        let mut out = Vec::new();
        // Paging counts live records: fetch candidates in order, in chunks, until the page
        // is full.
        for chunk in keys.chunks(500) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("HGETALL").arg(format!("{ns}{key}"));
            }
            let rows: Vec<Vec<(String, Vec<u8>)>> = pipe
                .query_async(&mut con)
                .await
                .map_err(|e| self.error(e))?;
            for (key, fields) in chunk.iter().zip(rows) {
                // Redis expires records itself (PEXPIREAT): what it returns is live, by the
                // server's clock, the same clock compare-and-swap goes by.
                let Some(record) = self.decode(key, fields)? else {
                    continue;
                };
                if skip > 0 {
                    skip -= 1;
                } else if out.len() < limit {
                    out.push(record);
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn decode(&self, key: &str, fields: Vec<(String, Vec<u8>)>) -> Result<Option<Record>> {
        if fields.is_empty() {
            return Ok(None);
        }
        let mut record = Record::new(key, Bytes::new());
        let mut has_value = false;
        for (name, value) in fields {
            match name.as_str() {
                "v" => {
                    record.value = Bytes::from(value);
                    has_value = true;
                }
                "m" => {
                    let metadata: Metadata = serde_json::from_slice(&value).map_err(|e| {
                        Error::internal(
                            ID,
                            format!(
                                "redis store at {}: metadata of {key:?} is not JSON: {e}",
                                self.redis.address()
                            ),
                        )
                    })?;
                    record.metadata = metadata;
                }
                "e" => {
                    let ms = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|t| t.parse::<u64>().ok())
                        .unwrap_or(0);
                    record.expiry = (ms != 0).then(|| from_millis(ms));
                }
                _ => {}
            }
        }
        Ok(has_value.then_some(record))
    }
}

fn metadata_json(record: &Record) -> Result<String> {
    if record.metadata.is_empty() {
        return Ok(String::new());
    }
    serde_json::to_string(&record.metadata)
        .map_err(|e| Error::bad_request(ID, format!("metadata of {:?}: {e}", record.key)))
}

impl StoreEngine for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn limits(&self) -> Limits {
        Limits {
            max_key: 64 * 1024,
            max_value: 64 * 1024 * 1024,
        }
    }

    fn read<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<Record>>> {
        Box::pin(self.records(table, query))
    }

    fn list<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            let mut con = self.conn().await?;
            let keys = self.keys(&mut con, table, query).await?;
            Ok(query.page(keys))
        })
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut con = self.conn().await?;
            let key = format!("{}{}", namespace(table), record.key);
            let mut pipe = redis::pipe();
            pipe.atomic().del(&key);
            if !record.is_expired(SystemTime::now()) {
                pipe.hset(&key, "v", &record.value[..]);
                let meta = metadata_json(record)?;
                if !meta.is_empty() {
                    pipe.hset(&key, "m", meta);
                }
                if let Some(at) = record.expiry {
                    let ms = millis(at).max(1);
                    pipe.hset(&key, "e", ms).cmd("PEXPIREAT").arg(&key).arg(ms);
                }
            }
            pipe.query_async::<()>(&mut con)
                .await
                .map_err(|e| self.error(e))
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let mut con = self.conn().await?;
            let removed: i64 = con
                .del(format!("{}{key}", namespace(table)))
                .await
                .map_err(|e| self.error(e))?;
            Ok(removed > 0)
        })
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let mut con = self.conn().await?;
            let key = format!("{}{}", namespace(table), record.key);
            let expiry = record.expiry.map_or(0, |at| millis(at).max(1));
            let done: i64 = redis::Script::new(SWAP)
                .key(key)
                .arg(if expected.is_some() { "1" } else { "0" })
                .arg(expected.unwrap_or_default())
                .arg(&record.value[..])
                .arg(metadata_json(record)?)
                .arg(expiry.to_string())
                .invoke_async(&mut con)
                .await
                .map_err(|e| self.error(e))?;
            Ok(done == 1)
        })
    }
}
