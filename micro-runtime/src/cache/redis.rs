//! The Redis cache: `SET key value PX ttl` under `micro-cache:`.

use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;

use super::{CacheEngine, Entry};
use crate::BoxFuture;
use crate::error::Result;
use crate::redis_conn::Lazy as LazyRedis;

/// A cache on a Redis server (`MICRO_CACHE=redis`), shared by every process that uses it.
#[derive(Clone, Debug)]
pub struct RedisCache {
    redis: LazyRedis,
}

impl RedisCache {
    /// A cache on the Redis at `address`, connected on first use.
    pub fn new(address: &str, timeout: Duration) -> Result<RedisCache> {
        Ok(RedisCache {
            redis: LazyRedis::new(address, timeout)?,
        })
    }
}

fn key(key: &str) -> String {
    format!("micro-cache:{key}")
}

impl CacheEngine for RedisCache {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn get<'a>(&'a self, k: &'a str) -> BoxFuture<'a, Result<Option<Entry>>> {
        Box::pin(async move {
            let mut con = self.redis.get("redis cache").await?;
            let (value, ttl): (Option<Vec<u8>>, i64) = redis::pipe()
                .get(key(k))
                .pttl(key(k))
                .query_async(&mut con)
                .await
                .map_err(|e| self.redis.error("redis cache", e))?;
            Ok(value.map(|value| Entry {
                value: Bytes::from(value),
                expiry: u64::try_from(ttl)
                    .ok()
                    .map(|ms| std::time::SystemTime::now() + Duration::from_millis(ms)),
            }))
        })
    }

    fn put<'a>(
        &'a self,
        k: &'a str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut con = self.redis.get("redis cache").await?;
            let result: redis::RedisResult<()> = match ttl {
                Some(ttl) => {
                    let ttl = ttl.min(crate::store::MAX_TTL);
                    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                    con.pset_ex(key(k), &value[..], ms).await
                }
                None => con.set(key(k), &value[..]).await,
            };
            result.map_err(|e| self.redis.error("redis cache", e))
        })
    }

    fn delete<'a>(&'a self, k: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut con = self.redis.get("redis cache").await?;
            let _: i64 = con
                .del(key(k))
                .await
                .map_err(|e| self.redis.error("redis cache", e))?;
            Ok(())
        })
    }
}
