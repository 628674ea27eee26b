//! The etcd registry's watcher: one etcd watch on a key prefix, turned into registry events.
//!
//! It keeps what it has seen (one record per key) so that deletes carry the whole service and
//! so that, when the revision it would resume from is gone (compacted, or the cluster was
//! replaced by one with fewer revisions), it can read everything again and report only the
//! difference. After a broken connection it resumes from the next revision it has not seen,
//! so no change is lost; while etcd is unreachable it reports one error (consumers keep their
//! last view) and retries with a backoff of at most two seconds.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::client::{WatchEvent, WatchStream};
use super::{Inner, decode};
use crate::error::{Error, Result};
use crate::registry::keyed::Keyed;
use crate::registry::snapshot::Record;
use crate::registry::{Event, Service, Watcher};

const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

struct State {
    inner: Arc<Inner>,
    prefix: String,
    only: Option<String>,
    /// What the watcher has seen, by etcd key.
    known: Keyed,
    /// The last revision seen: the watch resumes after it.
    revision: i64,
    stream: Option<WatchStream>,
    pending: VecDeque<Event>,
    backoff: Duration,
    /// etcd is unreachable and that has been reported.
    down: bool,
}

/// Read what is under `prefix` now (failing fast when etcd cannot be reached), then watch it.
pub(super) async fn start(
    inner: Arc<Inner>,
    prefix: String,
    only: Option<String>,
) -> Result<Watcher> {
    let mut state = State {
        inner,
        prefix,
        only,
        known: Keyed::default(),
        revision: 0,
        stream: None,
        pending: VecDeque::new(),
        backoff: BACKOFF_FIRST,
        down: false,
    };
    state.resync().await?;
    // The first read is the starting point, not news.
    state.pending.clear();
    Ok(Watcher::new(futures_util::stream::unfold(
        state,
        |mut state| async move {
            let item = state.next().await;
            Some((item, state))
        },
    )))
}

impl State {
    async fn next(&mut self) -> Result<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let Some(stream) = self.stream.as_mut() else {
                match self
                    .inner
                    .client
                    .watch(&self.prefix, self.revision + 1)
                    .await
                {
                    Ok(stream) => self.stream = Some(stream),
                    Err(e) => self.outage(e).await?,
                }
                continue;
            };
            match stream.next().await {
                Some(Ok(response)) => {
                    if self.down {
                        self.down = false;
                        self.backoff = BACKOFF_FIRST;
                        tracing::info!(etcd = %self.inner.client.addresses(), "etcd registry watch restored");
                    }
                    let replaced = response.revision != 0 && response.revision < self.revision;
                    if response.compact_revision > 0 || replaced {
                        tracing::info!(
                            prefix = %self.prefix,
                            revision = self.revision,
                            compacted = response.compact_revision,
                            "etcd no longer has the revision this watch would resume from; reading the registry again"
                        );
                        self.stream = None;
                        if let Err(e) = self.resync().await {
                            self.outage(e).await?;
                        }
                        continue;
                    }
                    if response.canceled {
                        self.stream = None;
                        continue;
                    }
                    for event in response.events {
                        self.apply(event);
                    }
                }
                Some(Err(e)) => {
                    self.stream = None;
                    tracing::debug!(error = %e, "etcd watch broke; resuming");
                }
                None => {
                    self.stream = None;
                    tracing::debug!("etcd watch connection closed; resuming");
                }
            }
        }
    }

    /// etcd cannot be reached: report it once (as an error item), then wait and retry.
    async fn outage(&mut self, e: Error) -> Result<()> {
        if !self.down {
            self.down = true;
            tracing::warn!(error = %e, "etcd registry watch lost; retrying");
            return Err(e);
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        Ok(())
    }

    /// Read everything under the prefix and queue the difference to what was known.
    async fn resync(&mut self) -> Result<()> {
        let (kvs, revision) = self.inner.client.range(&self.prefix).await?;
        let mut now = BTreeMap::new();
        for kv in &kvs {
            if let Some(record) = self.record(kv) {
                now.insert(kv.key.clone(), record);
            }
        }
        self.pending.extend(self.known.replace(now));
        self.revision = revision;
        Ok(())
    }

    /// The record in `kv`, if it is readable and of the watched service.
    fn record(&self, kv: &super::client::KeyValue) -> Option<Record> {
        decode(kv).filter(|s| self.wanted(s)).map(|service| Record {
            service,
            expires: None,
        })
    }

    fn wanted(&self, service: &Service) -> bool {
        self.only.as_ref().is_none_or(|name| *name == service.name)
    }

    fn apply(&mut self, event: WatchEvent) {
        self.revision = self.revision.max(event.kv.mod_revision);
        // A delete, or a record that became unreadable: the node is gone.
        let record = if event.delete {
            None
        } else {
            self.record(&event.kv)
        };
        self.pending.extend(self.known.put(&event.kv.key, record));
    }
}
