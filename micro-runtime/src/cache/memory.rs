//! The memory cache: bounded, least recently used first out.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use lru::LruCache;

use super::{CacheEngine, Entry};
use crate::BoxFuture;
use crate::error::Result;

/// A cache in this process's memory holding at most a given number of entries
/// (`MICRO_CACHE=memory`). Clones share the entries.
#[derive(Clone, Debug)]
pub struct MemoryCache {
    entries: Arc<Mutex<LruCache<String, Entry>>>,
}

impl MemoryCache {
    /// A cache of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> MemoryCache {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        MemoryCache {
            entries: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    /// How many entries it holds now (expired ones included until they are touched).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CacheEngine for MemoryCache {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Entry>>> {
        Box::pin(async move {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            let expired = match entries.get(key) {
                None => return Ok(None),
                Some(entry) => entry.expiry.is_some_and(|at| at <= SystemTime::now()),
            };
            if expired {
                entries.pop(key);
                return Ok(None);
            }
            Ok(entries.get(key).cloned())
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let entry = Entry {
                value,
                expiry: ttl.map(|ttl| SystemTime::now() + ttl.min(crate::store::MAX_TTL)),
            };
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(key.to_owned(), entry);
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop(key);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn evicts_the_least_recently_used_when_full() {
        let cache = MemoryCache::new(2);
        cache.put("a", Bytes::from("1"), None).await.unwrap();
        cache.put("b", Bytes::from("2"), None).await.unwrap();
        assert!(cache.get("a").await.unwrap().is_some()); // a is now the most recent
        cache.put("c", Bytes::from("3"), None).await.unwrap();
        assert!(cache.get("b").await.unwrap().is_none());
        assert!(cache.get("a").await.unwrap().is_some());
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn expired_entries_are_gone() {
        let cache = MemoryCache::new(10);
        cache
            .put("a", Bytes::from("1"), Some(Duration::ZERO))
            .await
            .unwrap();
        assert!(cache.get("a").await.unwrap().is_none());
        assert!(cache.is_empty());
    }
}
