//! The etcd registry (`MICRO_REGISTRY=etcd`): go-micro's key layout on an etcd v3 cluster.
//!
//! Every node is one key, `/micro/registry/<service>/<node-id>` (a `/` inside either name
//! becomes `-`), whose value is the JSON service record holding that one node: the layout
//! go-micro's etcd registry writes, so each reads what the other registers. The key is
//! attached to a lease of the register TTL; every register call after the first refreshes
//! the lease (one keep-alive), writes the record again only when it changed, and when etcd no
//! longer knows the lease (it expired, or etcd lost its data) grants a new one and writes the
//! record again, logging that it did.
//!
//! Watches resume from the last revision they saw after a broken connection, and read
//! everything again (reporting the difference as events) when that revision was compacted
//! away or the cluster was replaced.
//!
//! It talks to etcd's JSON gateway over HTTP/1.1, which every etcd since 3.4 serves on its
//! client port: no protoc at build time, no extra dependency.

mod client;
mod watch;

use std::collections::HashMap;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use self::client::{EtcdClient, KeyValue};
use super::snapshot::{self, Record};
use super::{BoxFuture, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::Result;

/// Where go-micro keeps its registry in etcd.
pub(crate) const PREFIX: &str = "/micro/registry/";

/// How long one request to etcd may take by default.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A registry on an etcd v3 cluster, compatible with go-micro's.
///
/// ```no_run
/// # fn main() -> micro::Result<()> {
/// use micro::registry::EtcdRegistry;
///
/// let registry = EtcdRegistry::new("127.0.0.1:2379,127.0.0.1:22379")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EtcdRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    client: EtcdClient,
    /// Per key this process registered: its lease and the hash of the value written.
    leases: Mutex<HashMap<String, (i64, u64)>>,
}

impl fmt::Debug for EtcdRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdRegistry")
            .field("addresses", &self.inner.client.addresses())
            .finish_non_exhaustive()
    }
}

impl EtcdRegistry {
    /// A registry on the etcd members at `addresses` (comma-separated `host:port` or
    /// `http://host:port`), each request bounded by 5 s. Nothing is contacted
    /// until the first call.
    pub fn new(addresses: &str) -> Result<EtcdRegistry> {
        EtcdRegistry::with_timeout(addresses, DEFAULT_TIMEOUT)
    }

    /// As [`EtcdRegistry::new`], with each request bounded by `timeout`.
    pub fn with_timeout(addresses: &str, timeout: Duration) -> Result<EtcdRegistry> {
        Ok(EtcdRegistry {
            inner: Arc::new(Inner {
                client: EtcdClient::new(addresses, timeout)?,
                leases: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn leases(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, u64)>> {
        self.inner.leases.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register one record (a service with one node) under `key`.
    async fn register_one(&self, key: &str, record: &Service, ttl: Option<Duration>) -> Result<()> {
        let client = &self.inner.client;
        let value = serde_json::to_vec(record).map_err(|e| {
            crate::error::Error::internal(super::ID, format!("encoding {key}: {e}"))
        })?;
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        let hash = hasher.finish();
        let known = self.leases().get(key).copied();
        if let Some((lease, written)) = known
            && ttl.is_some()
        {
            if client.keep_alive(lease).await? {
                if written != hash {
                    client.put(key, &value, lease).await?;
                    self.leases().insert(key.to_owned(), (lease, hash));
                }
                return Ok(());
            }
            tracing::info!(
                key,
                etcd = %client.addresses(),
                "the etcd lease of this registration is gone (it expired, or etcd lost its data); registering again"
            );
        }
        let lease = match ttl {
            Some(ttl) => client.grant(ttl_seconds(ttl)).await?,
            None => 0,
        };
        client.put(key, &value, lease).await?;
        self.leases().insert(key.to_owned(), (lease, hash));
        Ok(())
    }

    /// Every record under `prefix`, grouped into services; malformed values are skipped with a
    /// warning naming their key.
    async fn read(&self, prefix: &str) -> Result<Vec<Service>> {
        let (kvs, _) = self.inner.client.range(prefix).await?;
        let records: Vec<Record> = kvs
            .iter()
            .filter_map(decode)
            .map(|service| Record {
                service,
                expires: None,
            })
            .collect();
        Ok(snapshot::group(&records))
    }
}

/// The key of one node: go-micro's `nodePath`.
pub(crate) fn node_key(service: &str, node: &str) -> String {
    format!("{}{}", service_prefix(service), node.replace('/', "-"))
}

/// The prefix of every node of one service (go-micro's `servicePath`, plus `/`).
pub(crate) fn service_prefix(service: &str) -> String {
    format!("{PREFIX}{}/", service.replace('/', "-"))
}

/// A record read from etcd, or `None` (with a warning naming the key) when it is not a service
/// record with one node.
pub(crate) fn decode(kv: &KeyValue) -> Option<Service> {
    match serde_json::from_slice::<Service>(&kv.value) {
        Ok(service) if !service.name.is_empty() && !service.nodes.is_empty() => Some(service),
        Ok(_) => {
            tracing::warn!(key = %kv.key, "skipping an etcd registry record without a service name or node");
            None
        }
        Err(e) => {
            tracing::warn!(key = %kv.key, error = %e, "skipping a malformed etcd registry record");
            None
        }
    }
}

/// A lease TTL in whole seconds, at least one.
fn ttl_seconds(ttl: Duration) -> i64 {
    i64::try_from(super::keyed::ttl_seconds(ttl)).unwrap_or(i64::MAX)
}

impl Registry for EtcdRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for record in snapshot::split(service, None) {
                let key = node_key(&service.name, &record.key().1);
                self.register_one(&key, &record.service, options.ttl)
                    .await?;
            }
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for node in &service.nodes {
                let key = node_key(&service.name, &node.id);
                self.inner.client.delete(&key).await?;
                let lease = self.leases().remove(&key);
                if let Some((lease, _)) = lease
                    && lease != 0
                    && let Err(e) = self.inner.client.revoke(lease).await
                {
                    tracing::debug!(key, error = %e, "revoking the lease failed; it expires by itself");
                }
            }
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let services = self.read(&service_prefix(name)).await?;
            // A prefix also matches keys of a differently spelled name (`a/b` and `a-b`).
            let services: Vec<Service> = services.into_iter().filter(|s| s.name == name).collect();
            if services.is_empty() {
                return Err(super::not_found(name));
            }
            Ok(services)
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(self.read(PREFIX))
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let prefix = match &options.service {
                Some(name) => service_prefix(name),
                None => PREFIX.to_owned(),
            };
            watch::start(self.inner.clone(), prefix, options.service).await
        })
    }

    fn name(&self) -> &'static str {
        "etcd"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_go_micro() {
        assert_eq!(
            node_key("greeter", "greeter-1"),
            "/micro/registry/greeter/greeter-1"
        );
        assert_eq!(
            node_key("go.micro/srv", "a/b"),
            "/micro/registry/go.micro-srv/a-b"
        );
        assert_eq!(ttl_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(ttl_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn go_micro_records_decode_with_nulls() {
        let value = br#"{"name":"greeter","version":"latest","metadata":null,"endpoints":[{"name":"Greeter.Hello","request":{"name":"Request","type":"Request","values":null},"response":null,"metadata":null}],"nodes":[{"id":"greeter-1","address":"10.0.0.7:9000","metadata":null}]}"#;
        let kv = KeyValue {
            key: "/micro/registry/greeter/greeter-1".into(),
            value: value.to_vec(),
            mod_revision: 1,
        };
        let service = decode(&kv).unwrap();
        assert_eq!(service.nodes[0].address, "10.0.0.7:9000");
        assert!(service.endpoints[0].response.is_none());
        let bad = KeyValue {
            value: b"{not json".to_vec(),
            ..kv.clone()
        };
        assert!(decode(&bad).is_none());
        let empty = KeyValue {
            value: br#"{"name":"greeter","nodes":[]}"#.to_vec(),
            ..kv
        };
        assert!(decode(&empty).is_none());
    }
}

/// An etcd watch stream and a key's value, read as the registry reads them (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz(data: &[u8]) {
    client::fuzz(data);
    let kv = client::KeyValue {
        key: "/micro/registry/svc/node".to_owned(),
        value: data.to_vec(),
        mod_revision: 1,
    };
    let _ = decode(&kv);
}
