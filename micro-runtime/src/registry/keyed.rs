//! What a networked registry's reader has seen: one record per key of the engine (an etcd key,
//! a NATS key-value key), turned into registry events as keys change, vanish, expire, or are
//! read again after a reconnect.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::broadcast;

use super::snapshot::{self, Record, Snapshot};
use super::{Action, Event, Service, Watcher};
use crate::error::Error;

/// What a registry's reader tells its watchers: a change, or why the connection was lost.
pub(crate) type Notice = std::result::Result<Event, String>;

/// A watcher fed by a registry's broadcast of notices, keeping only `only`'s events if given.
/// A lost connection and a watcher that fell behind are error items; the watch goes on.
pub(crate) fn watcher(
    rx: broadcast::Receiver<Notice>,
    only: Option<String>,
    engine: &'static str,
) -> Watcher {
    Watcher::new(futures_util::stream::unfold(rx, move |mut rx| {
        let only = only.clone();
        async move {
            loop {
                let item = match rx.recv().await {
                    Ok(Ok(event)) => {
                        if only.as_ref().is_some_and(|n| *n != event.service.name) {
                            continue;
                        }
                        Ok(event)
                    }
                    Ok(Err(why)) => Err(Error::unavailable(
                        super::ID,
                        format!("{engine} registry watch lost: {why}"),
                    )),
                    Err(broadcast::error::RecvError::Lagged(n)) => Err(Error::unavailable(
                        super::ID,
                        format!("{engine} registry watcher fell {n} events behind"),
                    )),
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                return Some((item, rx));
            }
        }
    }))
}

/// A TTL in whole seconds, at least one.
pub(crate) fn ttl_seconds(ttl: Duration) -> u64 {
    (ttl.as_secs_f64().ceil() as u64).max(1)
}

/// Records by engine key.
#[derive(Debug, Default)]
pub(crate) struct Keyed {
    known: BTreeMap<String, Record>,
}

impl Keyed {
    /// `key` now holds `record` (`None`: it was deleted, or holds something unreadable); the
    /// event that makes, if any. A record that differs only in expiry (a refresh) is none.
    pub(crate) fn put(&mut self, key: &str, record: Option<Record>) -> Option<Event> {
        match record {
            Some(record) => {
                let service = record.service.clone();
                let action = match self.known.insert(key.to_owned(), record) {
                    None => Action::Create,
                    Some(before) if before.service != service => Action::Update,
                    Some(_) => return None,
                };
                Some(Event { action, service })
            }
            None => self.known.remove(key).map(|before| Event {
                action: Action::Delete,
                service: before.service,
            }),
        }
    }

    /// Everything was read again: the events from what was known to `now`.
    pub(crate) fn replace(&mut self, now: BTreeMap<String, Record>) -> Vec<Event> {
        let by_node = |map: &BTreeMap<String, Record>| -> Snapshot {
            map.values().map(|r| (r.key(), r.clone())).collect()
        };
        let events = snapshot::diff(&by_node(&self.known), &by_node(&now));
        self.known = now;
        events
    }

    /// Drop the records whose expiry (unix ms) is before `now`: their delete events.
    pub(crate) fn expire(&mut self, now: u64) -> Vec<Event> {
        let dead: Vec<String> = self
            .known
            .iter()
            .filter(|(_, r)| r.is_expired(now))
            .map(|(k, _)| k.clone())
            .collect();
        dead.iter().filter_map(|key| self.put(key, None)).collect()
    }

    /// The live services, one per name and version; only those called `name` if given.
    pub(crate) fn services(&self, name: Option<&str>, now: u64) -> Vec<Service> {
        snapshot::group(
            self.known
                .values()
                .filter(|r| !r.is_expired(now))
                .filter(|r| name.is_none_or(|n| r.service.name == n)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Node;

    fn record(node: &str, expires: Option<u64>) -> Record {
        Record {
            service: Service::new("svc", "1").with_node(Node::new(node, "127.0.0.1:1")),
            expires,
        }
    }

    #[test]
    fn puts_refreshes_deletes_and_expiry() {
        let mut keyed = Keyed::default();
        let created = keyed.put("k1", Some(record("a", Some(10)))).unwrap();
        assert_eq!(created.action, Action::Create);
        assert!(
            keyed.put("k1", Some(record("a", Some(20)))).is_none(),
            "a refresh is no event"
        );
        keyed.put("k2", Some(record("b", Some(5))));
        assert_eq!(keyed.services(Some("svc"), 0)[0].nodes.len(), 2);
        let expired = keyed.expire(6);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].service.nodes[0].id, "b");
        let deleted = keyed.put("k1", None).unwrap();
        assert_eq!(deleted.action, Action::Delete);
        assert!(keyed.put("k1", None).is_none());
    }

    #[test]
    fn replace_reports_the_difference() {
        let mut keyed = Keyed::default();
        keyed.put("k1", Some(record("a", None)));
        let events = keyed.replace(BTreeMap::from([("k2".to_owned(), record("b", None))]));
        let mut actions: Vec<_> = events
            .iter()
            .map(|e| (e.action, e.service.nodes[0].id.clone()))
            .collect();
        actions.sort_by_key(|(_, id)| id.clone());
        assert_eq!(
            actions,
            [
                (Action::Delete, "a".to_owned()),
                (Action::Create, "b".to_owned())
            ]
        );
    }
}
