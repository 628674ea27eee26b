//! Records (one per node) and the diff between two sets of them, shared by the registries.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Action, Event, Service};

/// One node of one service version, with its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// The service with exactly one node.
    pub(crate) service: Service,
    /// Unix time in milliseconds after which the record is dead; `None` never expires.
    #[serde(default)]
    pub(crate) expires: Option<u64>,
}

/// `(service name, node id)`.
pub(crate) type Key = (String, String);

/// Every live record, by key.
pub(crate) type Snapshot = BTreeMap<Key, Record>;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Record {
    pub(crate) fn key(&self) -> Key {
        let node = self
            .service
            .nodes
            .first()
            .map(|n| n.id.clone())
            .unwrap_or_default();
        (self.service.name.clone(), node)
    }

    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// One record per node of `service`.
pub(crate) fn split(service: &Service, ttl: Option<Duration>) -> Vec<Record> {
    let expires =
        ttl.map(|ttl| now_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)));
    service
        .nodes
        .iter()
        .map(|node| {
            let mut one = service.clone();
            one.nodes = vec![node.clone()];
            Record {
                service: one,
                expires,
            }
        })
        .collect()
}

/// Merge records into services, one per `(name, version)`, sorted by name then version.
pub(crate) fn group<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<Service> {
    let mut by_version: BTreeMap<(String, String), Service> = BTreeMap::new();
    for record in records {
        let svc = &record.service;
        let entry = by_version
            .entry((svc.name.clone(), svc.version.clone()))
            .or_insert_with(|| {
                let mut s = svc.clone();
                s.nodes.clear();
                s
            });
        entry.nodes.extend(svc.nodes.iter().cloned());
    }
    by_version.into_values().collect()
}

/// The events that turn `old` into `new`. Records that differ only in expiry (a heartbeat)
/// produce no event.
pub(crate) fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    let mut events = Vec::new();
    for (key, record) in new {
        match old.get(key) {
            None => events.push(Event {
                action: Action::Create,
                service: record.service.clone(),
            }),
            Some(before) if before.service != record.service => events.push(Event {
                action: Action::Update,
                service: record.service.clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, record) in old {
        if !new.contains_key(key) {
            events.push(Event {
                action: Action::Delete,
                service: record.service.clone(),
            });
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Node;

    fn snap(records: Vec<Record>) -> Snapshot {
        records.into_iter().map(|r| (r.key(), r)).collect()
    }

    #[test]
    fn heartbeat_is_not_an_event() {
        let svc = Service::new("a", "1").with_node(Node::new("n1", "x:1"));
        let one = snap(split(&svc, Some(Duration::from_secs(1))));
        let two = snap(split(&svc, Some(Duration::from_secs(5))));
        assert!(diff(&one, &two).is_empty());
    }

    #[test]
    fn create_update_delete() {
        let a = Service::new("a", "1").with_node(Node::new("n1", "x:1"));
        let b = Service::new("a", "1").with_node(Node::new("n2", "x:2"));
        let old = snap(split(&a, None));
        let mut new = snap(split(&b, None));
        let mut changed = a.clone();
        changed.metadata.insert("k".into(), "v".into());
        new.extend(snap(split(&changed, None)));
        let events = diff(&old, &new);
        let actions: Vec<_> = events
            .iter()
            .map(|e| (e.action, e.service.nodes[0].id.clone()))
            .collect();
        assert!(actions.contains(&(Action::Create, "n2".into())));
        assert!(actions.contains(&(Action::Update, "n1".into())));
        let gone = diff(&new, &Snapshot::new());
        assert_eq!(gone.len(), 2);
        assert!(gone.iter().all(|e| e.action == Action::Delete));
    }

    #[test]
    fn group_merges_nodes_per_version() {
        let v1 = Service::new("a", "1")
            .with_node(Node::new("n1", "x:1"))
            .with_node(Node::new("n2", "x:2"));
        let v2 = Service::new("a", "2").with_node(Node::new("n3", "x:3"));
        let mut records = split(&v1, None);
        records.extend(split(&v2, None));
        let services = group(&records);
        assert_eq!(services.len(), 2);
        assert_eq!(services[0].nodes.len(), 2);
        assert_eq!(services[1].version, "2");
    }
}
