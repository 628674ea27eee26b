//! Watching the sources: files through the operating system's notifications (debounced),
//! store records by polling (every 250 ms; on the `file` store a poll is a read-only open,
//! no write); and [`Watcher`], the changes of one path. The tasks end with the config.

use std::sync::{Arc, Weak};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Inner, Source, State, decode, lookup, read_store};
use crate::error::Result;

const DEBOUNCE: Duration = Duration::from_millis(100);
const POLL: Duration = Duration::from_millis(250);

/// Watch the files and poll the store records of `inner` while it lives.
pub(super) fn start(inner: &Arc<Inner>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let files: Vec<std::path::PathBuf> = inner
        .sources
        .iter()
        .filter_map(|s| match s {
            Source::File(path) => Some(path.clone()),
            _ => None,
        })
        .collect();
    if !files.is_empty() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let watched = files.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && event
                    .paths
                    .iter()
                    .any(|p| watched.iter().any(|f| p.file_name() == f.file_name()))
            {
                let _ = tx.send(());
            }
        });
        match watcher {
            Ok(mut watcher) => {
                // Watch the directories: editors and deploy tools replace files by renaming.
                for file in &files {
                    let dir = match file.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                        _ => std::path::PathBuf::from("."),
                    };
                    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
                        tracing::warn!(dir = %dir.display(), error = %e, "config: cannot watch");
                    }
                }
                let weak = Arc::downgrade(inner);
                let mut alive = inner.alive.subscribe();
                runtime.spawn(async move {
                    // The watcher (and its inotify handle) lives as long as the config.
                    let _watcher = watcher;
                    loop {
                        tokio::select! {
                            event = rx.recv() => {
                                if event.is_none() {
                                    return;
                                }
                            }
                            _ = alive.changed() => return,
                        }
                        tokio::time::sleep(DEBOUNCE).await;
                        while rx.try_recv().is_ok() {}
                        let Some(inner) = weak.upgrade() else { return };
                        tokio::task::spawn_blocking(move || inner.reload());
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "config: file watching unavailable"),
        }
    }
    let stores: Vec<(usize, crate::store::Store, String)> = inner
        .sources
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Source::Store { store, key } => Some((i, store.clone(), key.clone())),
            _ => None,
        })
        .collect();
    if !stores.is_empty() {
        let weak: Weak<Inner> = Arc::downgrade(inner);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(POLL).await;
                let Some(inner) = weak.upgrade() else { return };
                let mut changed = false;
                for (i, store, key) in &stores {
                    match read_store(store, key).await {
                        Ok(value) => {
                            let mut remote = inner.remote.lock().unwrap_or_else(|e| e.into_inner());
                            if remote.get(i) != Some(&value) {
                                remote.insert(*i, value);
                                changed = true;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "config: remote source unreadable; keeping its last value");
                        }
                    }
                }
                if changed {
                    let _ = tokio::task::spawn_blocking(move || inner.reload()).await;
                }
            }
        });
    }
}

/// The changes of one path of a [`Config`](super::Config).
#[derive(Debug)]
pub struct Watcher {
    rx: tokio::sync::watch::Receiver<Arc<State>>,
    path: String,
    last: Option<Value>,
}

impl Watcher {
    pub(super) fn new(rx: tokio::sync::watch::Receiver<Arc<State>>, path: &str) -> Watcher {
        let last = lookup(&rx.borrow().value, path).cloned();
        Watcher {
            rx,
            path: path.to_owned(),
            last,
        }
    }

    /// The path's next value (`Value::Null` once it is removed), when it changes; `None` when
    /// the config is gone.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            self.rx.changed().await.ok()?;
            let now = lookup(&self.rx.borrow_and_update().value, &self.path).cloned();
            if now != self.last {
                self.last = now.clone();
                return Some(now.unwrap_or(Value::Null));
            }
        }
    }

    /// The next value, decoded.
    pub async fn next_as<T: DeserializeOwned>(&mut self) -> Option<Result<T>> {
        let value = self.next().await?;
        let state = self.rx.borrow().clone();
        Some(decode(&state, &self.path, &value))
    }
}
