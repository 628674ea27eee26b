//! The engine tables: one entry per engine of each concept, each behind its cargo feature.

use std::path::Path;
use std::sync::Arc;

use super::{Build, Engine, ID, looks_like_host_port, shared_memory_registry};
use crate::broker::{HttpBroker, HttpBrokerOptions, MemoryBroker, SharedBroker};
use crate::cache::{MemoryCache, SharedCache};
use crate::client::TransportPolicy;
use crate::error::Error;
use crate::registry::{LocalRegistry, SharedRegistry};
use crate::selector::Strategy;
use crate::store::{FileStore, MemoryStore, SharedStore};
use crate::transport::{self, Acceptor};

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
