//! The app behind the sidecar: registered while its health URL answers 2xx, out of the
//! registry as soon as it does not, and asked once for the topics it subscribes to.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use micro::registry::{Node, RegisterOptions, Service};

use crate::Sidecar;
use crate::options::App;
use crate::pubsub::AppSubscription;

/// What the sidecar knows of the app now.
#[derive(Debug, Default)]
pub(crate) struct State {
    registered: AtomicBool,
    record: Mutex<Option<Service>>,
    subscriptions: Mutex<Vec<AppSubscription>>,
    running: tokio::sync::Mutex<Vec<micro::broker::Subscription>>,
    loaded: AtomicBool,
    stopped: AtomicBool,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl State {
    /// Keep the handle of the loop that maintains the app (ended by [`stop`]).
    pub(crate) fn set_task(&self, task: tokio::task::JoinHandle<()>) {
        if let Ok(mut slot) = self.task.lock() {
            *slot = Some(task);
        }
    }

    pub(crate) fn registered(&self) -> bool {
        self.registered.load(Ordering::Acquire)
    }

    pub(crate) fn subscriptions(&self) -> Vec<AppSubscription> {
        self.subscriptions
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
}

/// The app's registry record: the sidecar's node, serving the app's endpoints.
fn record(app: &App, node: &Node) -> Service {
    let mut own = Node::new(format!("{}-{}", app.name, node.id), node.address.clone());
    own.metadata = node.metadata.clone();
    own.metadata.insert("sidecar".into(), "micro-proxy".into());
    own.metadata
        .insert("app_address".into(), app.address.clone());
    Service::new(app.name.clone(), app.version.clone()).with_node(own)
}

/// Keep the app's registration in step with its health, until the sidecar stops.
pub(crate) async fn maintain(sidecar: Sidecar, app: App) {
    let Some(node) = sidecar.node() else {
        return;
    };
    let service = record(&app, &node);
    if let Ok(mut slot) = sidecar.inner.app.record.lock() {
        *slot = Some(service.clone());
    }
    let registry = sidecar.inner.client.selector().registry().clone();
    // Entries outlive a missed refresh or two, and no more.
    let ttl = (app.health_interval * 3).max(Duration::from_secs(5));
    let mut tick = tokio::time::interval(app.health_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut refreshed = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        if sidecar.inner.app.stopped.load(Ordering::Acquire) {
            return;
        }
        let healthy = healthy(&sidecar, &app).await;
        let was = sidecar.inner.app.registered();
        if healthy {
            // Subscriptions first: once registered, the app's events must have a way in.
            if !sidecar.inner.app.loaded.load(Ordering::Acquire) {
                crate::pubsub::load(&sidecar, &app).await;
            }
            let due = !was || refreshed.elapsed() >= ttl / 3;
            if due {
                match registry.register(&service, RegisterOptions::ttl(ttl)).await {
                    Ok(()) => {
                        refreshed = tokio::time::Instant::now();
                        if !was {
                            tracing::info!(app = %app.name, "the app is healthy: registered");
                        }
                        sidecar.inner.app.registered.store(true, Ordering::Release);
                    }
                    Err(e) => {
                        tracing::warn!(app = %app.name, error = %e, "cannot register the app")
                    }
                }
            }
        } else if was {
            sidecar.inner.app.registered.store(false, Ordering::Release);
            tracing::warn!(app = %app.name, "the app's health check failed: deregistered");
            if let Err(e) = registry.deregister(&service).await {
                tracing::warn!(app = %app.name, error = %e, "cannot deregister the app");
            }
        }
    }
}

/// Whether the app's health URL answers 2xx within the interval (no URL: yes).
async fn healthy(sidecar: &Sidecar, app: &App) -> bool {
    let Some(url) = &app.health_url else {
        return true;
    };
    let (base, path) = split_url(url);
    // A check may take as long as the interval, and never less than a second: a slow answer
    // is not a failed one.
    let wait = app.health_interval.max(Duration::from_secs(1));
    match sidecar
        .app_request(base, Method::GET, path, None, Bytes::new(), wait)
        .await
    {
        Ok(reply) => reply.status.is_success(),
        Err(e) => {
            tracing::debug!(app = %app.name, error = %e, "health check failed");
            false
        }
    }
}

/// `http://host:port/path` as the base and the path.
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(at) => url.split_at(url.len() - rest.len() + at),
        None => (url, "/"),
    }
}

/// Deregister the app and end its subscriptions.
pub(crate) async fn stop(sidecar: &Sidecar) {
    let state = &sidecar.inner.app;
    state.stopped.store(true, Ordering::Release);
    // End the loop first (it may be registering right now), then deregister.
    let task = state.task.lock().ok().and_then(|mut t| t.take());
    if let Some(task) = task {
        task.abort();
        let _ = task.await;
    }
    let record = state.record.lock().ok().and_then(|mut r| r.take());
    state.registered.store(false, Ordering::Release);
    if let Some(service) = record {
        let registry = sidecar.inner.client.selector().registry();
        if let Err(e) = registry.deregister(&service).await {
            tracing::warn!(app = %service.name, error = %e, "cannot deregister the app");
        }
    }
    let running: Vec<_> = state.running.lock().await.drain(..).collect();
    for subscription in running {
        subscription.unsubscribe().await;
    }
}

impl Sidecar {
    /// Remember the app's subscriptions and their broker subscriptions.
    pub(crate) async fn keep_subscriptions(
        &self,
        wanted: Vec<AppSubscription>,
        running: Vec<micro::broker::Subscription>,
    ) {
        if let Ok(mut slot) = self.inner.app.subscriptions.lock() {
            *slot = wanted;
        }
        self.inner.app.running.lock().await.extend(running);
        self.inner.app.loaded.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_base_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:5000/healthz"),
            ("http://127.0.0.1:5000", "/healthz")
        );
        assert_eq!(
            split_url("http://127.0.0.1:5000"),
            ("http://127.0.0.1:5000", "/")
        );
        assert_eq!(App::new("a", "127.0.0.1:1").address, "http://127.0.0.1:1");
        assert_eq!(App::new("a", "http://h:1/").address, "http://h:1");
    }
}
