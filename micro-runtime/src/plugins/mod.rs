//! The plugin table: the one place that maps a concept's engine name (and address) to an
//! engine, for every pluggable concept. Settings are checked against it (an unknown name is
//! an error that lists what this build has), and services and clients build their engines
//! from it.
//!
//! | Concept | Setting | Engines | Cargo feature |
//! |---|---|---|---|
//! | registry | `MICRO_REGISTRY`, `MICRO_REGISTRY_ADDRESS` | `local` (default), `memory` | |
//! | | | `etcd` (address default `127.0.0.1:2379`) | `etcd` (default) |
//! | | | `nats` (address default `nats://127.0.0.1:4222`) | `nats` (default) |
//! | | | `mdns` (address: `iface=NAME`) | `mdns` (default) |
//! | | | `dns` (read-only; address: name servers, `domain=`, `port=`) | `dns` (default) |
//! | | | `service` (`micro server`; address default `127.0.0.1:8000`) | |
//! | broker | `MICRO_BROKER`, `MICRO_BROKER_ADDRESS` | `http` (default), `memory` | |
//! | | | `nats`, `jetstream` | `nats` (default) |
//! | | | `redis` (Redis Streams; address default `redis://127.0.0.1:6379`) | `redis` (default) |
//! | | | `rabbitmq` (address default `amqp://guest:guest@127.0.0.1:5672/%2f`) | `rabbitmq` (default) |
//! | | | `mqtt` (MQTT 5; address default `mqtt://127.0.0.1:1883`) | `mqtt` (default) |
//! | | | `service` (`micro server`; address default `127.0.0.1:8000`) | |
//! | selector | `MICRO_SELECTOR` | `random` (default), `roundrobin` | |
//! | transport | `MICRO_TRANSPORT` | `auto` (default), `grpc`, `native`, `memory` | |
//! | store | `MICRO_STORE`, `MICRO_STORE_ADDRESS` | `file` (default; address: a directory), `memory` | |
//! | | | `redis` (address default `redis://127.0.0.1:6379`) | `redis` (default) |
//! | | | `postgres` (address default `postgres://postgres@127.0.0.1:5432/postgres`) | `postgres` (default) |
//! | | | `nats` (JetStream key-value; address default `nats://127.0.0.1:4222`) | `nats` (default) |
//! | | | `service` (`micro server`; address default `127.0.0.1:8000`) | |
//! | cache | `MICRO_CACHE`, `MICRO_CACHE_ADDRESS` | `memory` (default; address: the entry limit) | |
//! | | | `redis` (address default `redis://127.0.0.1:6379`) | `redis` (default) |
//!
//! A new engine is one entry in its concept's table in `tables.rs` (behind its cargo feature), and
//! nothing else changes: settings, `--help`, the error for a name this build lacks and the
//! service's start-up all read the table.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use crate::broker::SharedBroker;
use crate::cache::SharedCache;
use crate::error::{Error, Result};
use crate::registry::{MemoryRegistry, SharedRegistry};
use crate::selector::Strategy;
use crate::store::SharedStore;

mod tables;

pub(crate) use tables::{
    BROKERS, CACHES, Listen, REGISTRIES, SELECTORS, STORES, TRANSPORTS, TransportPlan,
};

const ID: &str = "micro.config";

/// What a builder gets: the engine's address and what some engines need besides.
#[derive(Clone, Copy)]
pub(crate) struct Spec<'a> {
    /// `MICRO_<CONCEPT>_ADDRESS`, when set.
    pub(crate) address: Option<&'a str>,
    /// `MICRO_HOME`: where embedded engines keep their files.
    pub(crate) home: &'a Path,
    /// The registry, for engines that find their peers through it (the `http` broker).
    pub(crate) registry: Option<&'a SharedRegistry>,
    /// How long one request to a networked engine may take.
    pub(crate) timeout: std::time::Duration,
    /// The token this process sends with its calls (`MICRO_AUTH_TOKEN`), for engines that
    /// are micro services themselves (the `service` engines of `micro server`).
    pub(crate) token: Option<&'a str>,
}

impl std::fmt::Debug for Spec<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("address", &self.address.map(crate::net::redact))
            .field("home", &self.home)
            .field("timeout", &self.timeout)
            .field("token", &self.token.map(|_| "********"))
            .finish_non_exhaustive()
    }
}

type Build<T> = fn(&Spec<'_>) -> Result<T>;

/// One engine of a concept.
pub(crate) struct Engine<T: 'static> {
    /// The name settings use.
    pub(crate) name: &'static str,
    /// Other names accepted for it.
    aliases: &'static [&'static str],
    /// The cargo feature of the `micro` crate that compiles it in, if it needs one.
    feature: Option<&'static str>,
    /// How to make it; `None` when its feature is off in this build.
    build: Option<Build<T>>,
}

impl<T> Engine<T> {
    fn answers(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

/// The engine of `concept` called `name`, or an error that says what this build has (and
/// which feature adds an engine it lacks).
fn find<'t, T>(
    concept: &str,
    table: &'t [Engine<T>],
    name: &str,
) -> Result<(&'t Engine<T>, Build<T>)> {
    let name = name.trim();
    if let Some(engine) = table.iter().find(|e| e.answers(name)) {
        return match engine.build {
            Some(build) => Ok((engine, build)),
            None => Err(Error::bad_request(
                ID,
                format!(
                    "{concept} {name:?} is not in this build: enable the micro feature {:?}",
                    engine.feature.unwrap_or(engine.name)
                ),
            )),
        };
    }
    let have: Vec<&str> = table
        .iter()
        .filter(|e| e.build.is_some())
        .map(|e| e.name)
        .collect();
    let mut detail = format!(
        "unknown {concept} {name:?}: this build has {}",
        have.join(", ")
    );
    let missing: Vec<String> = table
        .iter()
        .filter(|e| e.build.is_none())
        .map(|e| {
            format!(
                "{} (micro feature {:?})",
                e.name,
                e.feature.unwrap_or(e.name)
            )
        })
        .collect();
    if !missing.is_empty() {
        detail.push_str(&format!("; not built in: {}", missing.join(", ")));
    }
    Err(Error::bad_request(ID, detail))
}

/// Check that `name` is an engine of `concept` this build has.
pub(crate) fn check(concept: Concept, name: &str) -> Result<()> {
    match concept {
        Concept::Registry => find("registry", REGISTRIES, name).map(drop),
        Concept::Broker => find("broker", BROKERS, name).map(drop),
        Concept::Selector => find("selector", SELECTORS, name).map(drop),
        Concept::Transport => find("transport", TRANSPORTS, name).map(drop),
        Concept::Store => find("store", STORES, name).map(drop),
        Concept::Cache => find("cache", CACHES, name).map(drop),
    }
}

/// The engine names of `concept` in this build, for `--help`.
pub(crate) fn names(concept: Concept) -> Vec<&'static str> {
    fn built<T>(table: &[Engine<T>]) -> Vec<&'static str> {
        table
            .iter()
            .filter(|e| e.build.is_some())
            .map(|e| e.name)
            .collect()
    }
    match concept {
        Concept::Registry => built(REGISTRIES),
        Concept::Broker => built(BROKERS),
        Concept::Selector => built(SELECTORS),
        Concept::Transport => built(TRANSPORTS),
        Concept::Store => built(STORES),
        Concept::Cache => built(CACHES),
    }
}

/// A pluggable concept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Concept {
    Registry,
    Broker,
    Selector,
    Transport,
    Store,
    Cache,
}

/// The store called `name`.
pub(crate) fn store(name: &str, spec: &Spec<'_>) -> Result<SharedStore> {
    let (_, build) = find("store", STORES, name)?;
    build(spec)
}

/// The cache called `name`.
pub(crate) fn cache(name: &str, spec: &Spec<'_>) -> Result<SharedCache> {
    let (_, build) = find("cache", CACHES, name)?;
    build(spec)
}

/// The registry called `name`.
pub(crate) fn registry(name: &str, spec: &Spec<'_>) -> Result<SharedRegistry> {
    let (_, build) = find("registry", REGISTRIES, name)?;
    build(spec)
}

/// The broker called `name`.
pub(crate) fn broker(name: &str, spec: &Spec<'_>) -> Result<SharedBroker> {
    let (_, build) = find("broker", BROKERS, name)?;
    build(spec)
}

/// The selector strategy called `name`.
pub(crate) fn strategy(name: &str) -> Result<Strategy> {
    let (_, build) = find("selector", SELECTORS, name)?;
    build(&Spec {
        address: None,
        home: Path::new(""),
        registry: None,
        timeout: std::time::Duration::from_secs(5),
        token: None,
    })
}

/// The transport called `name`.
pub(crate) fn transport(name: &str) -> Result<TransportPlan> {
    let (_, build) = find("transport", TRANSPORTS, name)?;
    build(&Spec {
        address: None,
        home: Path::new(""),
        registry: None,
        timeout: std::time::Duration::from_secs(5),
        token: None,
    })
}

/// `host:port` (a network address where a path was wanted).
fn looks_like_host_port(text: &str) -> bool {
    match text.rsplit_once(':') {
        Some((host, port)) => {
            !host.contains('/') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The `memory` registry called `name` in this process: every service and client of the
/// process that names it shares it.
fn shared_memory_registry(name: &str) -> MemoryRegistry {
    static ALL: OnceLock<Mutex<Vec<(String, MemoryRegistry)>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, registry)) = all.iter().find(|(n, _)| n == name) {
        return registry.clone();
    }
    let registry = MemoryRegistry::new();
    all.push((name.to_owned(), registry.clone()));
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_what_the_build_has() {
        let err = check(Concept::Registry, "zookeeper").unwrap_err();
        assert!(
            err.detail()
                .starts_with("unknown registry \"zookeeper\": this build has local, memory"),
            "{}",
            err.detail()
        );
        let err = check(Concept::Transport, "carrier-pigeon").unwrap_err();
        assert!(
            err.detail().contains("auto, grpc, native, memory"),
            "{}",
            err.detail()
        );
        assert!(check(Concept::Broker, "natsjs").is_ok() || cfg!(not(feature = "nats")));
        assert!(check(Concept::Selector, "round-robin").is_ok());
    }

    #[cfg(not(feature = "nats"))]
    #[test]
    fn an_engine_left_out_names_its_feature() {
        let err = check(Concept::Broker, "jetstream").unwrap_err();
        assert!(
            err.detail().contains("enable the micro feature \"nats\""),
            "{}",
            err.detail()
        );
    }

    #[test]
    fn the_local_registry_takes_a_directory_not_a_network_address() {
        let spec = |address| Spec {
            address,
            home: Path::new("/nonexistent-home"),
            registry: None,
            timeout: std::time::Duration::from_secs(5),
            token: None,
        };
        let err = registry("local", &spec(Some("127.0.0.1:2379"))).unwrap_err();
        assert!(
            err.detail().contains("looks like host:port"),
            "{}",
            err.detail()
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reg");
        assert!(registry("local", &spec(path.to_str())).is_ok());
        assert!(path.is_dir());
    }

    #[test]
    fn memory_registries_are_shared_by_name() {
        let spec = |address| Spec {
            address,
            home: Path::new(""),
            registry: None,
            timeout: std::time::Duration::from_secs(5),
            token: None,
        };
        let a = registry("memory", &spec(None)).unwrap();
        let b = registry("memory", &spec(None)).unwrap();
        let other = registry("memory", &spec(Some("other"))).unwrap();
        let svc = crate::registry::Service::new("shared", "1")
            .with_node(crate::registry::Node::new("n", "127.0.0.1:1"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            a.register(&svc, Default::default()).await.unwrap();
            assert_eq!(b.get_service("shared").await.unwrap().len(), 1);
            assert!(other.get_service("shared").await.is_err());
        });
    }
}
