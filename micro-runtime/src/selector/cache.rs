//! The selector's cache of registry answers: kept fresh by a registry watch, refetched after
//! its TTL, and served stale (within the stale limit) while the registry cannot be reached.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{Candidate, ID, Inner, Selector};
use crate::error::{Error, Result};
use crate::registry::WatchOptions;

/// Cached registry answers are refetched after this long even if no watch event came.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Cache lifetime while the registry watch is not running.
const CACHE_TTL_UNWATCHED: Duration = Duration::from_secs(1);
/// While the registry is unreachable, it is asked again at most this often.
const OUTAGE_RETRY: Duration = Duration::from_secs(1);

pub(super) struct CacheEntry {
    /// Every node of every version, unfiltered.
    services: Arc<Vec<Candidate>>,
    fetched: Instant,
    /// False once a watch event (or a watch failure) said the registry may know better.
    fresh: bool,
}

/// The registry could not be reached: since when, and when to ask it again.
#[derive(Clone, Copy)]
pub(super) struct Outage {
    since: Instant,
    retry_at: Instant,
}

impl Inner {
    /// Mark cached nodes as needing a fresh read; they stay as the fallback for an outage.
    pub(super) fn invalidate(&self, service: Option<&str>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match service {
            Some(name) => {
                if let Some(entry) = cache.get_mut(name) {
                    entry.fresh = false;
                }
            }
            None => cache.values_mut().for_each(|entry| entry.fresh = false),
        }
    }

    /// The cached nodes of `name`: fresh ones, or (while the registry is down) stale ones within
    /// the stale limit, with whether it is time to ask the registry again (in the background:
    /// a registry that does not answer never holds up a call that has nodes to go to).
    fn cached(&self, name: &str, ttl: Duration) -> Option<(Arc<Vec<Candidate>>, bool)> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cache.get(name)?;
        if entry.fresh && entry.fetched.elapsed() < ttl {
            return Some((entry.services.clone(), false));
        }
        let mut outage = self.outage.lock().unwrap_or_else(|e| e.into_inner());
        match outage.as_mut() {
            Some(outage) if entry.fetched.elapsed() < self.stale_for => {
                let now = Instant::now();
                let ask = now >= outage.retry_at;
                if ask {
                    outage.retry_at = now + OUTAGE_RETRY;
                }
                Some((entry.services.clone(), ask))
            }
            _ => None,
        }
    }

    /// The registry failed: the last known nodes of `name` if there are any within the stale
    /// limit (logging the outage once), else `None` (the caller gets the registry's error).
    fn fall_back(&self, name: &str, error: &Error) -> Option<Arc<Vec<Candidate>>> {
        let services = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let entry = cache.get(name)?;
            if entry.fetched.elapsed() >= self.stale_for {
                cache.remove(name);
                return None;
            }
            entry.services.clone()
        };
        self.note_outage(error);
        Some(services)
    }

    /// The registry cannot be reached (a lookup failed, or the watch broke): start serving the
    /// last known nodes, logging it once; ask again in a second.
    fn note_outage(&self, error: &Error) {
        let now = Instant::now();
        let mut outage = self.outage.lock().unwrap_or_else(|e| e.into_inner());
        match outage.as_mut() {
            Some(o) => o.retry_at = now + OUTAGE_RETRY,
            None => {
                tracing::warn!(
                    registry = self.registry.name(),
                    error = %error,
                    stale_for = ?self.stale_for,
                    "the registry cannot be reached; calling the nodes last known until it can"
                );
                *outage = Some(Outage {
                    since: now,
                    retry_at: now + OUTAGE_RETRY,
                });
            }
        }
    }

    /// The registry answered: end an outage.
    fn reachable(&self) {
        let mut outage = self.outage.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = outage.take() {
            tracing::info!(
                registry = self.registry.name(),
                after = ?o.since.elapsed(),
                "the registry answers again"
            );
        }
    }
}

impl Selector {
    pub(super) async fn services(&self, name: &str) -> Result<Arc<Vec<Candidate>>> {
        self.ensure_watch().await;
        let ttl = if self.inner.watching.load(Ordering::Acquire) {
            CACHE_TTL
        } else {
            CACHE_TTL_UNWATCHED
        };
        if let Some((services, ask)) = self.inner.cached(name, ttl) {
            if ask {
                let this = self.clone();
                let name = name.to_owned();
                tokio::spawn(async move {
                    let _ = this.fetch(&name).await;
                });
            }
            return Ok(services);
        }
        self.fetch(name).await
    }

    /// Ask the registry for `name` and cache the answer; on a failure, the last known nodes
    /// (within the stale limit) or the registry's error.
    async fn fetch(&self, name: &str) -> Result<Arc<Vec<Candidate>>> {
        let fetched = match self.inner.registry.get_service(name).await {
            Ok(services) => {
                self.inner.reachable();
                services
            }
            Err(e) if e.code() == 404 => {
                self.inner.reachable();
                self.inner
                    .cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(name);
                return Err(Error::not_found(ID, format!("service {name}: not found")));
            }
            Err(e) => {
                return match self.inner.fall_back(name, &e) {
                    Some(services) => Ok(services),
                    None => Err(e),
                };
            }
        };
        let mut all = Vec::new();
        for service in fetched {
            let service = Arc::new(service);
            for node in &service.nodes {
                all.push(Candidate {
                    node: Arc::new(node.clone()),
                    service: service.clone(),
                });
            }
        }
        let services = Arc::new(all);
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                name.to_owned(),
                CacheEntry {
                    services: services.clone(),
                    fetched: Instant::now(),
                    fresh: true,
                },
            );
        Ok(services)
    }

    /// Start the registry watch that keeps the cache fresh, once.
    async fn ensure_watch(&self) {
        if self.inner.watching.load(Ordering::Acquire) {
            return;
        }
        let _guard = self.inner.watch_lock.lock().await;
        if self.inner.watching.load(Ordering::Acquire) {
            return;
        }
        let watcher = match self.inner.registry.watch(WatchOptions::all()).await {
            Ok(w) => w,
            Err(e) => {
                tracing::debug!(error = %e, "registry watch failed; caching briefly instead");
                return;
            }
        };
        self.inner.watching.store(true, Ordering::Release);
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(watch_loop(weak, watcher));
    }
}

async fn watch_loop(weak: Weak<Inner>, mut watcher: crate::registry::Watcher) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match watcher.next().await {
            Some(Ok(event)) => {
                let Some(inner) = weak.upgrade() else { return };
                inner.invalidate(Some(&event.service.name));
                backoff = Duration::from_millis(100);
            }
            Some(Err(e)) => {
                // The registry went away: what is cached may be stale, and asking the registry
                // would wait for its timeout. Serve the cache, refresh in the background.
                let Some(inner) = weak.upgrade() else { return };
                inner.invalidate(None);
                inner.note_outage(&e);
            }
            None => {
                let Some(inner) = weak.upgrade() else { return };
                inner.invalidate(None);
                inner.watching.store(false, Ordering::Release);
                let registry = inner.registry.clone();
                drop(inner);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                match registry.watch(WatchOptions::all()).await {
                    Ok(w) => {
                        let Some(inner) = weak.upgrade() else { return };
                        inner.invalidate(None);
                        inner.watching.store(true, Ordering::Release);
                        watcher = w;
                    }
                    Err(_) => continue,
                }
            }
        }
        if weak.strong_count() == 0 {
            return;
        }
    }
}
