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
//! A new engine is one entry in its concept's table below (behind its cargo feature), and
//! nothing else changes: settings, `--help`, the error for a name this build lacks and the
//! service's start-up all read the table.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::broker::{HttpBroker, HttpBrokerOptions, MemoryBroker, SharedBroker};
use crate::cache::{MemoryCache, SharedCache};
use crate::client::TransportPolicy;
use crate::error::{Error, Result};
use crate::registry::{LocalRegistry, MemoryRegistry, SharedRegistry};
use crate::selector::Strategy;
use crate::store::{FileStore, MemoryStore, SharedStore};
use crate::transport::{self, Acceptor};

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

/// The registries.
pub(crate) const REGISTRIES: &[Engine<SharedRegistry>] = &[
    Engine {
        name: "local",
        aliases: &[""],
        feature: None,
        build: Some(|spec| {
            let dir = match spec.address {
                Some(dir) if looks_like_host_port(dir) => {
                    return Err(Error::bad_request(
                        ID,
                        format!(
                            "registry address {dir:?} looks like host:port, but the local registry takes a directory; set MICRO_REGISTRY to the registry that listens there, or unset MICRO_REGISTRY_ADDRESS"
                        ),
                    ));
                }
                Some(dir) => Path::new(dir).to_path_buf(),
                None => spec.home.join("registry"),
            };
            Ok(Arc::new(LocalRegistry::new(dir)?))
        }),
    },
    Engine {
        name: "memory",
        aliases: &[],
        feature: None,
        build: Some(|spec| Ok(Arc::new(shared_memory_registry(spec.address.unwrap_or(""))))),
    },
    Engine {
        name: "etcd",
        aliases: &["etcdv3"],
        feature: Some("etcd"),
        build: etcd::REGISTRY,
    },
    Engine {
        name: "nats",
        aliases: &[],
        feature: Some("nats"),
        build: nats::REGISTRY,
    },
    Engine {
        name: "dns",
        aliases: &[],
        feature: Some("dns"),
        build: dns::REGISTRY,
    },
    Engine {
        name: "mdns",
        aliases: &[],
        feature: Some("mdns"),
        build: mdns::REGISTRY,
    },
    Engine {
        name: "service",
        aliases: &[],
        feature: None,
        build: Some(|spec| {
            let address = spec.address.unwrap_or(crate::platform::DEFAULT_ADDRESS);
            Ok(Arc::new(crate::platform::ServiceRegistry::with_token(
                address,
                spec.timeout,
                spec.token,
            )?))
        }),
    },
];

#[cfg(feature = "mdns")]
mod mdns {
    use super::{Build, SharedRegistry};
    use crate::registry::MdnsRegistry;

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = Some(|spec| {
        Ok(std::sync::Arc::new(MdnsRegistry::new(
            spec.address.unwrap_or(""),
        )?))
    });
}

#[cfg(not(feature = "mdns"))]
mod mdns {
    use super::{Build, SharedRegistry};

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = None;
}

#[cfg(feature = "dns")]
mod dns {
    use super::{Build, SharedRegistry};
    use crate::registry::DnsRegistry;

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = Some(|spec| {
        Ok(std::sync::Arc::new(DnsRegistry::with_timeout(
            spec.address.unwrap_or(""),
            spec.timeout,
        )?))
    });
}

#[cfg(not(feature = "dns"))]
mod dns {
    use super::{Build, SharedRegistry};

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = None;
}

#[cfg(feature = "etcd")]
mod etcd {
    use super::{Build, SharedRegistry};
    use crate::registry::EtcdRegistry;

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = Some(|spec| {
        let address = spec.address.unwrap_or("127.0.0.1:2379");
        Ok(std::sync::Arc::new(EtcdRegistry::with_timeout(
            address,
            spec.timeout,
        )?))
    });
}

#[cfg(not(feature = "etcd"))]
mod etcd {
    use super::{Build, SharedRegistry};

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = None;
}

/// The brokers.
pub(crate) const BROKERS: &[Engine<SharedBroker>] = &[
    Engine {
        name: "http",
        aliases: &[""],
        feature: None,
        build: Some(|spec| {
            let registry = spec.registry.ok_or_else(|| {
                Error::internal(ID, "the http broker needs a registry to find subscribers")
            })?;
            let mut options = HttpBrokerOptions::default();
            if let Some(address) = spec.address {
                options.address = address.to_owned();
            }
            Ok(Arc::new(HttpBroker::with_options(
                registry.clone(),
                options,
            )))
        }),
    },
    Engine {
        name: "memory",
        aliases: &[],
        feature: None,
        build: Some(|_| Ok(Arc::new(MemoryBroker::global()))),
    },
    Engine {
        name: "nats",
        aliases: &[],
        feature: Some("nats"),
        build: nats::CORE,
    },
    Engine {
        name: "jetstream",
        aliases: &["nats+jetstream", "natsjs"],
        feature: Some("nats"),
        build: nats::JETSTREAM,
    },
    Engine {
        name: "redis",
        aliases: &["redis-streams", "redisstreams"],
        feature: Some("redis"),
        build: redis::BROKER,
    },
    Engine {
        name: "rabbitmq",
        aliases: &["amqp"],
        feature: Some("rabbitmq"),
        build: rabbitmq::BROKER,
    },
    Engine {
        name: "mqtt",
        aliases: &["mosquitto"],
        feature: Some("mqtt"),
        build: mqtt::BROKER,
    },
    Engine {
        name: "service",
        aliases: &[],
        feature: None,
        build: Some(|spec| {
            let address = spec.address.unwrap_or(crate::platform::DEFAULT_ADDRESS);
            Ok(Arc::new(crate::platform::ServiceBroker::with_token(
                address,
                spec.timeout,
                spec.token,
            )?))
        }),
    },
];

#[cfg(feature = "mqtt")]
mod mqtt {
    use super::{Build, SharedBroker};
    use crate::broker::MqttBroker;

    pub(super) const BROKER: Option<Build<SharedBroker>> = Some(|spec| {
        Ok(std::sync::Arc::new(MqttBroker::new(
            spec.address.unwrap_or("mqtt://127.0.0.1:1883"),
            spec.timeout,
            spec.home,
        )?))
    });
}

#[cfg(not(feature = "mqtt"))]
mod mqtt {
    use super::{Build, SharedBroker};

    pub(super) const BROKER: Option<Build<SharedBroker>> = None;
}

#[cfg(feature = "rabbitmq")]
mod rabbitmq {
    use super::{Build, SharedBroker};
    use crate::broker::RabbitBroker;

    pub(super) const BROKER: Option<Build<SharedBroker>> = Some(|spec| {
        Ok(std::sync::Arc::new(RabbitBroker::new(
            spec.address
                .unwrap_or("amqp://guest:guest@127.0.0.1:5672/%2f"),
            spec.timeout,
        )?))
    });
}

#[cfg(not(feature = "rabbitmq"))]
mod rabbitmq {
    use super::{Build, SharedBroker};

    pub(super) const BROKER: Option<Build<SharedBroker>> = None;
}

#[cfg(feature = "nats")]
mod nats {
    use super::{Build, SharedBroker, SharedRegistry};
    use crate::broker::{NatsBroker, NatsMode};
    use crate::registry::NatsRegistry;

    const DEFAULT: &str = "nats://127.0.0.1:4222";

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = Some(|spec| {
        let address = spec.address.unwrap_or(DEFAULT);
        Ok(std::sync::Arc::new(NatsRegistry::with_timeout(
            address,
            spec.timeout,
        )?))
    });

    pub(super) const CORE: Option<Build<SharedBroker>> = Some(|spec| {
        let address = spec.address.unwrap_or(DEFAULT);
        Ok(std::sync::Arc::new(NatsBroker::new(
            address,
            NatsMode::Core,
        )))
    });
    pub(super) const STORE: Option<Build<super::SharedStore>> = Some(|spec| {
        Ok(std::sync::Arc::new(crate::store::NatsStore::new(
            spec.address.unwrap_or(DEFAULT),
            spec.timeout,
        )))
    });
    pub(super) const JETSTREAM: Option<Build<SharedBroker>> = Some(|spec| {
        let address = spec.address.unwrap_or(DEFAULT);
        Ok(std::sync::Arc::new(NatsBroker::new(
            address,
            NatsMode::JetStream,
        )))
    });
}

#[cfg(not(feature = "nats"))]
mod nats {
    use super::{Build, SharedBroker, SharedRegistry};

    pub(super) const REGISTRY: Option<Build<SharedRegistry>> = None;
    pub(super) const CORE: Option<Build<SharedBroker>> = None;
    pub(super) const JETSTREAM: Option<Build<SharedBroker>> = None;
    pub(super) const STORE: Option<Build<super::SharedStore>> = None;
}

/// The selector strategies.
pub(crate) const SELECTORS: &[Engine<Strategy>] = &[
    Engine {
        name: "random",
        aliases: &[""],
        feature: None,
        build: Some(|_| Ok(Strategy::Random)),
    },
    Engine {
        name: "roundrobin",
        aliases: &["round_robin", "round-robin"],
        feature: None,
        build: Some(|_| Ok(Strategy::RoundRobin)),
    },
    Engine {
        name: "p2c",
        aliases: &["p2c_ewma", "least_loaded"],
        feature: None,
        build: Some(|_| Ok(Strategy::P2c)),
    },
];

/// The stores.
pub(crate) const STORES: &[Engine<SharedStore>] = &[
    Engine {
        name: "file",
        aliases: &[""],
        feature: None,
        build: Some(|spec| {
            let dir = match spec.address {
                Some(dir) => Path::new(dir).to_path_buf(),
                None => spec.home.join("store"),
            };
            Ok(Arc::new(FileStore::new(dir)?))
        }),
    },
    Engine {
        name: "memory",
        aliases: &[],
        feature: None,
        build: Some(|_| Ok(Arc::new(MemoryStore::global()))),
    },
    Engine {
        name: "redis",
        aliases: &[],
        feature: Some("redis"),
        build: redis::STORE,
    },
    Engine {
        name: "postgres",
        aliases: &["postgresql", "pgx"],
        feature: Some("postgres"),
        build: postgres::STORE,
    },
    Engine {
        name: "nats",
        aliases: &["natsjskv", "nats-js-kv"],
        feature: Some("nats"),
        build: nats::STORE,
    },
    Engine {
        name: "service",
        aliases: &[],
        feature: None,
        build: Some(|spec| {
            let address = spec.address.unwrap_or(crate::platform::DEFAULT_ADDRESS);
            Ok(Arc::new(crate::platform::ServiceStore::with_token(
                address,
                spec.timeout,
                spec.token,
            )?))
        }),
    },
];

/// The caches.
pub(crate) const CACHES: &[Engine<SharedCache>] = &[
    Engine {
        name: "memory",
        aliases: &[""],
        feature: None,
        build: Some(|spec| {
            let capacity = match spec.address {
                Some(n) => n.trim().parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::bad_request(
                        ID,
                        format!("cache address {n:?}: the memory cache takes its entry limit, a number over 0"),
                    )
                })?,
                None => crate::cache::DEFAULT_CAPACITY,
            };
            Ok(Arc::new(MemoryCache::new(capacity)))
        }),
    },
    Engine {
        name: "redis",
        aliases: &[],
        feature: Some("redis"),
        build: redis::CACHE,
    },
];

#[cfg(feature = "redis")]
mod redis {
    use super::{Build, SharedBroker, SharedCache, SharedStore};
    use crate::broker::RedisBroker;
    use crate::cache::RedisCache;
    use crate::store::RedisStore;

    const DEFAULT: &str = "redis://127.0.0.1:6379";

    pub(super) const BROKER: Option<Build<SharedBroker>> = Some(|spec| {
        Ok(std::sync::Arc::new(RedisBroker::new(
            spec.address.unwrap_or(DEFAULT),
            spec.timeout,
        )?))
    });
    pub(super) const STORE: Option<Build<SharedStore>> = Some(|spec| {
        Ok(std::sync::Arc::new(RedisStore::new(
            spec.address.unwrap_or(DEFAULT),
            spec.timeout,
        )?))
    });
    pub(super) const CACHE: Option<Build<SharedCache>> = Some(|spec| {
        Ok(std::sync::Arc::new(RedisCache::new(
            spec.address.unwrap_or(DEFAULT),
            spec.timeout,
        )?))
    });
}

#[cfg(not(feature = "redis"))]
mod redis {
    use super::{Build, SharedBroker, SharedCache, SharedStore};

    pub(super) const BROKER: Option<Build<SharedBroker>> = None;
    pub(super) const STORE: Option<Build<SharedStore>> = None;
    pub(super) const CACHE: Option<Build<SharedCache>> = None;
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::{Build, SharedStore};
    use crate::store::PostgresStore;

    pub(super) const STORE: Option<Build<SharedStore>> = Some(|spec| {
        Ok(std::sync::Arc::new(PostgresStore::new(
            spec.address
                .unwrap_or(crate::store::POSTGRES_DEFAULT_ADDRESS),
            spec.timeout,
        )?))
    });
}

#[cfg(not(feature = "postgres"))]
mod postgres {
    use super::{Build, SharedStore};

    pub(super) const STORE: Option<Build<SharedStore>> = None;
}

/// How a server listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listen {
    /// A TCP port (`MICRO_SERVER_ADDRESS`).
    Tcp,
    /// A name in this process.
    Memory,
}

/// What a transport setting means for servers and clients.
#[derive(Clone, Debug)]
pub(crate) struct TransportPlan {
    /// Which transport clients use for each node.
    pub(crate) policy: TransportPolicy,
    /// How servers listen.
    pub(crate) listen: Listen,
    /// What servers serve on each connection.
    pub(crate) acceptor: Arc<dyn Acceptor>,
    /// What nodes advertise in their `transport` metadata, preferred first.
    pub(crate) advertise: &'static str,
    /// Whether the acceptor serves TLS (set by the service when a certificate is given).
    pub(crate) secure: bool,
}

/// The transports.
pub(crate) const TRANSPORTS: &[Engine<TransportPlan>] = &[
    Engine {
        name: "auto",
        aliases: &[""],
        feature: None,
        build: Some(|_| {
            Ok(TransportPlan {
                policy: TransportPolicy::Auto,
                listen: Listen::Tcp,
                acceptor: transport::tcp_acceptor(true),
                advertise: "native,grpc",
                secure: false,
            })
        }),
    },
    Engine {
        name: "grpc",
        aliases: &[],
        feature: None,
        build: Some(|_| {
            Ok(TransportPlan {
                policy: TransportPolicy::Grpc,
                listen: Listen::Tcp,
                acceptor: transport::tcp_acceptor(false),
                advertise: "grpc",
                secure: false,
            })
        }),
    },
    Engine {
        name: "native",
        aliases: &[],
        feature: None,
        build: Some(|_| {
            Ok(TransportPlan {
                policy: TransportPolicy::Native,
                listen: Listen::Tcp,
                acceptor: transport::tcp_acceptor(true),
                advertise: "native,grpc",
                secure: false,
            })
        }),
    },
    Engine {
        name: "memory",
        aliases: &[],
        feature: None,
        build: Some(|_| {
            Ok(TransportPlan {
                policy: TransportPolicy::Memory,
                listen: Listen::Memory,
                acceptor: Arc::new(transport::native::NativeAcceptor),
                advertise: "memory",
                secure: false,
            })
        }),
    },
];

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
