//! A cache for services: values kept for a while, on the engine the configuration names
//! (go-micro's `Cache`: `Get`, `Put` with a TTL, `Delete`).
//!
//! | Engine | `MICRO_CACHE` | What it is |
//! |---|---|---|
//! | [`MemoryCache`] | `memory` (default) | this process; bounded: the least recently used entry goes first when full (`MICRO_CACHE_ADDRESS` = the entry limit, 10,000 by default) |
//! | `RedisCache` | `redis` (feature `redis`) | shared by every process on the server (`redis://127.0.0.1:6379` by default); TTL native |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
//! use micro::cache::{Cache, MemoryCache};
//! use std::time::Duration;
//!
//! let cache = Cache::new(MemoryCache::new(1000), "prices");
//! cache.put("apple", &120u32, Some(Duration::from_secs(30))).await?;
//! assert_eq!(cache.get::<u32>("apple").await?, Some(120));
//! cache.delete("apple").await?;
//! assert_eq!(cache.get::<u32>("apple").await?, None);
//! # Ok(()) }
//! ```

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::BoxFuture;
use crate::error::{Error, Result};

pub use memory::MemoryCache;
#[cfg(feature = "redis")]
pub use redis::RedisCache;

const ID: &str = "micro.cache";

/// Entries a memory cache holds by default.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// A cached value and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The value.
    pub value: Bytes,
    /// When it goes; `None` stays until evicted or deleted.
    pub expiry: Option<SystemTime>,
}

/// A cache engine.
pub trait CacheEngine: Send + Sync + fmt::Debug + 'static {
    /// The engine's name in settings.
    fn name(&self) -> &'static str;

    /// The live entry at `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Entry>>>;

    /// Keep `value` at `key`, for `ttl` when given.
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Forget `key`.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// A shared cache engine.
pub type SharedCache = Arc<dyn CacheEngine>;

/// A cache handle: an engine and a namespace (the service's name by default) that prefixes
/// every key. Cheap to clone.
#[derive(Clone)]
pub struct Cache {
    engine: SharedCache,
    namespace: String,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("engine", &self.engine.name())
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Cache {
    /// A cache on `engine` whose keys live under `namespace`.
    pub fn new(engine: impl CacheEngine, namespace: impl Into<String>) -> Cache {
        Cache::shared(Arc::new(engine), namespace)
    }

    /// A cache on a shared engine.
    pub fn shared(engine: SharedCache, namespace: impl Into<String>) -> Cache {
        Cache {
            engine,
            namespace: namespace.into(),
        }
    }

    /// The engine's name.
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    fn key(&self, key: &str) -> Result<String> {
        if key.is_empty() {
            return Err(Error::bad_request(ID, "cache key is empty"));
        }
        Ok(format!("{}:{key}", self.namespace))
    }

    /// The raw entry at `key` (go-micro's `Get`: the value and its expiry).
    pub async fn get_raw(&self, key: &str) -> Result<Option<Entry>> {
        self.engine.get(&self.key(key)?).await
    }

    /// Keep raw bytes at `key`.
    pub async fn put_raw(
        &self,
        key: &str,
        value: impl Into<Bytes>,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.engine.put(&self.key(key)?, value.into(), ttl).await
    }

    /// The value at `key`, decoded from JSON.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(entry) = self.get_raw(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&entry.value).map(Some).map_err(|e| {
            Error::bad_request(
                ID,
                format!(
                    "cached value of {key:?} does not decode as {}: {e}",
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// Keep `value` at `key` as JSON, for `ttl` when given.
    pub async fn put<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        let json = serde_json::to_vec(value).map_err(|e| {
            Error::bad_request(
                ID,
                format!("cannot encode the value of {key:?} as JSON: {e}"),
            )
        })?;
        self.put_raw(key, json, ttl).await
    }

    /// Forget `key`.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.engine.delete(&self.key(key)?).await
    }
}
