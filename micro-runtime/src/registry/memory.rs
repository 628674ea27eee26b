//! The in-process registry.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::broadcast;

use super::snapshot::{self, Record, Snapshot};
use super::{Action, BoxFuture, Event, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::Result;

/// How often expired entries are swept while someone watches.
const SWEEP: Duration = Duration::from_millis(50);

/// A registry that lives in this process: for tests, and for clients and servers that share
/// one binary. Clones share the same entries.
#[derive(Clone)]
pub struct MemoryRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    records: Mutex<Snapshot>,
    events: broadcast::Sender<Event>,
    sweeping: AtomicBool,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> MemoryRegistry {
        let (events, _) = broadcast::channel(1024);
        MemoryRegistry {
            inner: Arc::new(Inner {
                records: Mutex::new(Snapshot::new()),
                events,
                sweeping: AtomicBool::new(false),
            }),
        }
    }
}

impl Default for MemoryRegistry {
    fn default() -> MemoryRegistry {
        MemoryRegistry::new()
    }
}

impl fmt::Debug for MemoryRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRegistry").finish_non_exhaustive()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn emit(&self, action: Action, service: Service) {
        // No receivers is fine: nobody watches.
        let _ = self.events.send(Event { action, service });
    }

    /// Drop expired records, telling watchers.
    fn sweep(&self) {
        let now = snapshot::now_ms();
        let expired: Vec<Record> = {
            let mut records = self.lock();
            let keys: Vec<_> = records
                .iter()
                .filter(|(_, r)| r.is_expired(now))
                .map(|(k, _)| k.clone())
                .collect();
            keys.iter().filter_map(|k| records.remove(k)).collect()
        };
        for record in expired {
            self.emit(Action::Delete, record.service);
        }
    }

    fn start_sweeper(self: &Arc<Self>) {
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                inner.sweep();
                if inner.events.receiver_count() == 0 {
                    inner.sweeping.store(false, Ordering::Release);
                    return;
                }
            }
        });
    }
}

impl Registry for MemoryRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut changes = Vec::new();
            {
                let mut records = self.inner.lock();
                for record in snapshot::split(service, options.ttl) {
                    let key = record.key();
                    let action = match records.get(&key) {
                        None => Some(Action::Create),
                        Some(old) if old.is_expired(snapshot::now_ms()) => Some(Action::Create),
                        Some(old) if old.service != record.service => Some(Action::Update),
                        Some(_) => None,
                    };
                    if let Some(action) = action {
                        changes.push((action, record.service.clone()));
                    }
                    records.insert(key, record);
                }
            }
            for (action, service) in changes {
                self.inner.emit(action, service);
            }
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let removed: Vec<Record> = {
                let mut records = self.inner.lock();
                service
                    .nodes
                    .iter()
                    .filter_map(|n| records.remove(&(service.name.clone(), n.id.clone())))
                    .collect()
            };
            for record in removed {
                self.inner.emit(Action::Delete, record.service);
            }
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            self.inner.sweep();
            let records = self.inner.lock();
            let services = snapshot::group(records.values().filter(|r| r.service.name == name));
            if services.is_empty() {
                Err(super::not_found(name))
            } else {
                Ok(services)
            }
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(async move {
            self.inner.sweep();
            let records = self.inner.lock();
            Ok(snapshot::group(records.values()))
        })
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let rx = self.inner.events.subscribe();
            self.inner.start_sweeper();
            Ok(watch_broadcast(rx, options))
        })
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// A watcher over a broadcast channel of events, filtered by service.
pub(super) fn watch_broadcast(rx: broadcast::Receiver<Event>, options: WatchOptions) -> Watcher {
    Watcher::new(futures_util::stream::unfold(rx, move |mut rx| {
        let filter = options.service.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if filter.as_ref().is_none_or(|s| *s == event.service.name) {
                            return Some((Ok(event), rx));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let err = crate::Error::internal(
                            super::ID,
                            format!("watcher fell behind by {n} events; list the registry again"),
                        );
                        return Some((Err(err), rx));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Node;

    #[tokio::test]
    async fn ttl_expiry_is_seen_by_watchers() {
        let reg = MemoryRegistry::new();
        let mut watcher = reg.watch(WatchOptions::service("a")).await.unwrap();
        let svc = Service::new("a", "1").with_node(Node::new("n1", "127.0.0.1:1"));
        reg.register(&svc, RegisterOptions::ttl(Duration::from_millis(100)))
            .await
            .unwrap();
        let created = watcher.next().await.unwrap().unwrap();
        assert_eq!(created.action, Action::Create);
        let deleted = tokio::time::timeout(Duration::from_secs(2), watcher.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(deleted.action, Action::Delete);
        assert!(reg.get_service("a").await.is_err());
    }

    #[tokio::test]
    async fn deregister_removes_only_its_nodes() {
        let reg = MemoryRegistry::new();
        let one = Service::new("a", "1").with_node(Node::new("n1", "127.0.0.1:1"));
        let two = Service::new("a", "1").with_node(Node::new("n2", "127.0.0.1:2"));
        reg.register(&one, RegisterOptions::default())
            .await
            .unwrap();
        reg.register(&two, RegisterOptions::default())
            .await
            .unwrap();
        assert_eq!(reg.get_service("a").await.unwrap()[0].nodes.len(), 2);
        reg.deregister(&one).await.unwrap();
        let left = reg.get_service("a").await.unwrap();
        assert_eq!(left[0].nodes.len(), 1);
        assert_eq!(left[0].nodes[0].id, "n2");
        let err = reg.get_service("nope").await.unwrap_err();
        assert_eq!(err.code(), 404);
        assert_eq!(err.detail(), "service nope: not found");
    }
}
