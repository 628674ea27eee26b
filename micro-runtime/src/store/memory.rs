//! The memory store: one process, gone when it ends.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use super::{Limits, Query, Record, StoreEngine, Table};
use crate::BoxFuture;
use crate::error::Result;

type Tables = HashMap<Table, BTreeMap<String, Record>>;

/// Records in this process's memory (`MICRO_STORE=memory`). Clones share the records.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The store every `MICRO_STORE=memory` service of this process shares.
    pub fn global() -> MemoryStore {
        static GLOBAL: std::sync::OnceLock<MemoryStore> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(MemoryStore::new).clone()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves whole records behind: every change is one
        // insert or remove.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn matching(&self, table: &Table, query: &Query) -> Vec<Record> {
        let now = SystemTime::now();
        let mut tables = self.lock();
        let Some(records) = tables.get_mut(table) else {
            return Vec::new();
        };
        if let Some(key) = &query.exact {
            return match records.get(key) {
                Some(r) if r.is_expired(now) => {
                    records.remove(key);
                    Vec::new()
                }
                Some(r) => vec![r.clone()],
                None => Vec::new(),
            };
        }
        let start = query.prefix.as_deref().unwrap_or("").to_owned();
        let live = records
            .range(start..)
            .take_while(|(k, _)| query.prefix.as_deref().is_none_or(|p| k.starts_with(p)))
            .filter(|(k, r)| query.matches(k) && !r.is_expired(now))
            .map(|(_, r)| r.clone());
        query.page(live)
    }
}

impl StoreEngine for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
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
        Box::pin(async move { Ok(self.matching(table, query)) })
    }

    fn write<'a>(&'a self, table: &'a Table, record: &'a Record) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.lock()
                .entry(table.clone())
                .or_default()
                .insert(record.key.clone(), record.clone());
            Ok(())
        })
    }

    fn delete<'a>(&'a self, table: &'a Table, key: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = SystemTime::now();
            Ok(self
                .lock()
                .get_mut(table)
                .and_then(|records| records.remove(key))
                .is_some_and(|r| !r.is_expired(now)))
        })
    }

    fn swap<'a>(
        &'a self,
        table: &'a Table,
        expected: Option<&'a [u8]>,
        record: &'a Record,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let now = SystemTime::now();
            let mut tables = self.lock();
            let records = tables.entry(table.clone()).or_default();
            let current = records
                .get(&record.key)
                .filter(|r| !r.is_expired(now))
                .map(|r| &r.value[..]);
            if current != expected {
                return Ok(false);
            }
            records.insert(record.key.clone(), record.clone());
            Ok(true)
        })
    }
}
