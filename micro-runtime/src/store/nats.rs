//! The NATS store: a JetStream key-value bucket per table, named
//! `micro-<database>-<table>` (bytes outside `[A-Za-z0-9]` written as `_XX`). Keys are
//! written with bytes outside `[A-Za-z0-9/_-]` as `=XX`, so any key is a valid NATS key and
//! prefixes stay prefixes; values hold the record with its metadata and expiry, honoured on
//! read (the server keeps one revision per key; an expired record stays until overwritten or
//! deleted).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::{self, kv};
use futures_util::TryStreamExt;
use tokio::sync::OnceCell;

use super::{Limits, Query, Record, StoreEngine, Table, blob, engine_error};
use crate::BoxFuture;
use crate::error::{Error, Result};

/// Room kept in a message for the record's header and metadata.
const OVERHEAD: usize = 4096;

/// Records in NATS JetStream key-value buckets (`MICRO_STORE=nats`).
#[derive(Clone, Debug)]
pub struct NatsStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    address: String,
    timeout: Duration,
    jetstream: OnceCell<jetstream::Context>,
    buckets: tokio::sync::Mutex<std::collections::HashMap<Table, kv::Store>>,
    max_payload: AtomicUsize,
}

fn bucket_name(table: &Table) -> String {
    let mut out = String::from("micro");
    for part in [&table.database, &table.table] {
        out.push('-');
        for b in part.bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("_{b:02X}"));
            }
        }
    }
    out
}

fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

fn decode_key(key: &str) -> Option<String> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl NatsStore {
    /// A store on the NATS server at `address`, connected on first use; each request may
    /// take `timeout`.
    pub fn new(address: &str, timeout: Duration) -> NatsStore {
        NatsStore {
            inner: Arc::new(Inner {
                address: address.to_owned(),
                timeout,
                jetstream: OnceCell::new(),
                buckets: tokio::sync::Mutex::default(),
                max_payload: AtomicUsize::new(1024 * 1024),
            }),
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> Error {
        engine_error("nats", &self.inner.address, e)
    }

    async fn jetstream(&self) -> Result<&jetstream::Context> {
        let inner = &self.inner;
        inner
            .jetstream
            .get_or_try_init(|| async {
                let connect = async_nats::ConnectOptions::new()
                    .name("micro-store")
                    .connection_timeout(inner.timeout)
                    .connect(inner.address.as_str());
                let client = match tokio::time::timeout(inner.timeout + Duration::from_secs(1), connect).await {
                    Ok(Ok(client)) => client,
                    Ok(Err(e)) => return Err(self.error(format!("cannot connect: {e}; check that nats-server runs there with JetStream (nats-server -js)"))),
                    Err(_) => return Err(self.error("cannot connect: timed out")),
                };
                inner
                    .max_payload
                    .store(client.server_info().max_payload, Ordering::Relaxed);
                let mut js = jetstream::new(client);
                js.set_timeout(inner.timeout);
                Ok(js)
            })
            .await
    }

    async fn bucket(&self, table: &Table) -> Result<kv::Store> {
        let js = self.jetstream().await?;
        let mut buckets = self.inner.buckets.lock().await;
        if let Some(store) = buckets.get(table) {
            return Ok(store.clone());
        }
        let name = bucket_name(table);
        let store = match js.get_key_value(name.as_str()).await {
            Ok(store) => store,
            Err(e) if e.kind() != jetstream::context::KeyValueErrorKind::GetBucket => {
                return Err(self.error(format!("cannot open bucket {name}: {e}")));
            }
            Err(_) => {
                // The bucket's stream, made as the key-value convention lays it out
                // (`KV_<bucket>` on `$KV.<bucket>.>`, one revision per key): this works on
                // every JetStream server, where the client's own bucket request needs 2.10+.
                js.get_or_create_stream(jetstream::stream::Config {
                    name: format!("KV_{name}"),
                    subjects: vec![format!("$KV.{name}.>")],
                    max_messages_per_subject: 1,
                    discard: jetstream::stream::DiscardPolicy::New,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    max_message_size: -1,
                    ..jetstream::stream::Config::default()
                })
                .await
                .map_err(|e| self.error(format!("cannot make bucket {name}: {e}")))?;
                js.get_key_value(name.as_str())
                    .await
                    .map_err(|e| self.error(format!("cannot open bucket {name}: {e}")))?
            }
        };
        buckets.insert(table.clone(), store.clone());
        Ok(store)
    }

    async fn entry(&self, store: &kv::Store, key: &str) -> Result<Option<(Record, u64)>> {
        let entry = store
            .entry(encode_key(key))
            .await
            .map_err(|e| self.error(format!("reading {key:?} in bucket {}: {e}", store.name)))?;
        let Some(entry) = entry.filter(|e| e.operation == kv::Operation::Put) else {
            return Ok(None);
        };
        let what = format!("nats store at {}", self.inner.address);
        let record = blob::decode(key, entry.value, &what)?;
        if record.is_expired(SystemTime::now()) {
            return Ok(None);
        }
        Ok(Some((record, entry.revision)))
    }

    async fn keys(&self, store: &kv::Store, query: &Query) -> Result<Vec<String>> {
        if let Some(exact) = &query.exact {
            return Ok(vec![exact.clone()]);
        }
        let keys = store
            .keys()
            .await
            .map_err(|e| self.error(format!("listing keys: {e}")))?;
        let mut keys: Vec<String> = keys
            .try_filter_map(|k| async move { Ok(decode_key(&k)) })
            .try_filter(|k| std::future::ready(query.matches(k)))
            .try_collect()
            .await
            .map_err(|e| self.error(format!("listing keys: {e}")))?;
        keys.sort_unstable();
        Ok(keys)
    }

    async fn records(&self, table: &Table, query: &Query) -> Result<Vec<Record>> {
        let store = self.bucket(table).await?;
        let keys = self.keys(&store, query).await?;
        let limit = query.limit.unwrap_or(usize::MAX);
        let mut skip = query.offset;
        let mut out = Vec::new();
        for chunk in keys.chunks(64) {
            let found =
                futures_util::future::try_join_all(chunk.iter().map(|key| self.entry(&store, key)))
                    .await?;
            for (record, _) in found.into_iter().flatten() {
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
}

impl StoreEngine for NatsStore {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn limits(&self) -> Limits {
        Limits {
            max_key: 1024,
            max_value: self
                .inner
                .max_payload
                .load(Ordering::Relaxed)
                .saturating_sub(OVERHEAD),
        }
    }

    fn read<'a>(
        &'a self,
        table: &'a Table,
        query: &'a Query,
    ) -> BoxFuture<'a, Result<Vec<Record>>> {
        Box::pin(self.records(table, query))
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let store = self.bucket(table).await?;
            let bytes = blob::encode(record)?;
            store
                .put(encode_key(&record.key), bytes)
                .await
                .map_err(|e| {
                    self.error(format!(
                        "writing {:?} in bucket {}: {e}",
                        record.key, store.name
                    ))
                })?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let store = self.bucket(table).await?;
            let existed = self.entry(&store, key).await?.is_some();
            store
                .purge(encode_key(key))
                .await
                .map_err(|e| self.error(format!("deleting {key:?}: {e}")))?;
            Ok(existed)
        })
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let store = self.bucket(table).await?;
            let key = encode_key(&record.key);
            let bytes = blob::encode(record)?;
            // The revision the write must follow: the live record's, or for "absent" the
            // last entry's (an expired record or a delete marker), or none at all.
            let last = store
                .entry(key.as_str())
                .await
                .map_err(|e| self.error(format!("reading {:?}: {e}", record.key)))?;
            let what = format!("nats store at {}", self.inner.address);
            let current = match &last {
                Some(entry) if entry.operation == kv::Operation::Put => {
                    let old = blob::decode(&record.key, entry.value.clone(), &what)?;
                    (!old.is_expired(SystemTime::now())).then_some(old.value)
                }
                _ => None,
            };
            if current.as_deref() != expected {
                return Ok(false);
            }
            let result = match last {
                Some(entry) => store
                    .update(key.as_str(), bytes, entry.revision)
                    .await
                    .map_err(|e| match e.kind() {
                        kv::UpdateErrorKind::WrongLastRevision => None,
                        _ => Some(self.error(format!("writing {:?}: {e}", record.key))),
                    }),
                None => store
                    .create(key.as_str(), bytes)
                    .await
                    .map_err(|e| match e.kind() {
                        kv::CreateErrorKind::AlreadyExists => None,
                        _ => Some(self.error(format!("writing {:?}: {e}", record.key))),
                    }),
            };
            match result {
                Ok(_) => Ok(true),
                Err(None) => Ok(false),
                Err(Some(e)) => Err(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_keep_prefixes() {
        for key in ["a/b:c d", "ünï", "x.y", "=", "plain-key_1"] {
            let encoded = encode_key(key);
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_-=".contains(&b)),
                "{encoded}"
            );
            assert_eq!(decode_key(&encoded).as_deref(), Some(key));
        }
        assert!(encode_key("user:1:x").starts_with(&encode_key("user:1")));
    }

    #[test]
    fn bucket_names_are_valid_and_distinct() {
        let a = bucket_name(&Table::new("a-b", "c").unwrap());
        let b = bucket_name(&Table::new("a", "b-c").unwrap());
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
