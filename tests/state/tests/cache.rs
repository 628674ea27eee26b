//! The caches: memory (bounded, LRU) and Redis, with TTLs, namespaces and typed values.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use micro::Settings;
use micro::cache::{Cache, MemoryCache, RedisCache};
use state_tests::{Engine, redis_url};

async fn contract(cache: Cache) {
    cache.put("apple", &120u32, None).await.unwrap();
    assert_eq!(cache.get::<u32>("apple").await.unwrap(), Some(120));
    assert!(
        cache
            .get_raw("apple")
            .await
            .unwrap()
            .unwrap()
            .expiry
            .is_none()
    );
    cache
        .put("short", "x", Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    let entry = cache.get_raw("short").await.unwrap();
    if let Some(entry) = entry {
        assert!(entry.expiry.is_some());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while cache.get::<String>("short").await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the TTL did not expire the entry"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cache.delete("apple").await.unwrap();
    assert_eq!(cache.get::<u32>("apple").await.unwrap(), None);
    cache.put("typed", &vec![1, 2], None).await.unwrap();
    let e = cache.get::<String>("typed").await.unwrap_err();
    assert!(e.detail().contains("typed"), "{e}");
    assert!(cache.put("", &1, None).await.is_err());
    cache.delete("typed").await.unwrap();
}

#[tokio::test]
async fn memory_cache_keeps_the_contract() {
    contract(Cache::new(MemoryCache::new(100), "state_tests")).await;
}

#[tokio::test]
async fn redis_cache_keeps_the_contract_and_is_shared() {
    if !Engine::Redis.available("redis_cache_keeps_the_contract_and_is_shared") {
        return;
    }
    let engine = RedisCache::new(&redis_url(), Duration::from_secs(5)).unwrap();
    contract(Cache::new(engine.clone(), "state_tests")).await;
    // Two handles (two processes, in effect) see one entry; namespaces keep services apart.
    let a = Cache::new(engine.clone(), "svc_a");
    let a2 = Cache::new(
        RedisCache::new(&redis_url(), Duration::from_secs(5)).unwrap(),
        "svc_a",
    );
    let b = Cache::new(engine, "svc_b");
    a.put("k", "from a", Some(Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(
        a2.get::<String>("k").await.unwrap().as_deref(),
        Some("from a")
    );
    assert_eq!(b.get::<String>("k").await.unwrap(), None);
    a.delete("k").await.unwrap();
}

#[test]
fn cache_settings_pick_the_engine_and_its_size() {
    let mut settings = Settings::default();
    settings
        .apply_env(|k| (k == "MICRO_CACHE_ADDRESS").then(|| "0".to_owned()))
        .unwrap();
    let e = settings.cache("svc").unwrap_err();
    assert!(e.detail().contains("entry limit"), "{e}");
    let mut settings = Settings::default();
    settings
        .apply_env(|k| (k == "MICRO_CACHE").then(|| "memcached".to_owned()))
        .unwrap_err();
    assert_eq!(
        Settings::default().cache("svc").unwrap().engine_name(),
        "memory"
    );
}
