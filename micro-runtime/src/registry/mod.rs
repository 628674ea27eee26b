//! Service discovery: where the nodes of a service are.
//!
//! A [`Registry`] stores [`Service`] records (go-micro's data model: a service has a name, a
//! version, metadata, endpoints and nodes) and tells watchers about every change.
//!
//! | Name | What it is |
//! |---|---|
//! | `local` (default) | files under `$MICRO_HOME/registry`: zero configuration, shared by every process of one user on one host, no network traffic, TTL expiry |
//! | `memory` | in this process only; for tests and single-binary setups |
//! | `etcd` | an etcd v3 cluster, in go-micro's key layout: leases, watches that resume (feature `etcd`, on by default) |
//! | `nats` | a JetStream key-value bucket on a NATS server (feature `nats`, on by default) |
//! | `mdns` | zero configuration on one LAN, go-micro's encoding (feature `mdns`, on by default; see [`mdns`]) |
//! | `dns` | read-only: nodes from SRV and A/AAAA records (feature `dns`, on by default; see [`dns`]) |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
//! use std::time::Duration;
//! use micro::registry::{MemoryRegistry, Node, Registry, RegisterOptions, Service};
//!
//! let registry = MemoryRegistry::new();
//! let service = Service::new("greeter", "1.0.0").with_node(Node::new("greeter-1", "127.0.0.1:9000"));
//! registry.register(&service, RegisterOptions::ttl(Duration::from_secs(30))).await?;
//! let found = registry.get_service("greeter").await?;
//! assert_eq!(found[0].nodes[0].address, "127.0.0.1:9000");
//! # Ok(()) }
//! ```

mod constraints;
#[cfg(feature = "dns")]
pub mod dns;
#[cfg(feature = "etcd")]
mod etcd;
#[cfg(any(feature = "etcd", feature = "nats", feature = "mdns"))]
mod keyed;
mod local;
#[cfg(feature = "mdns")]
pub mod mdns;
mod memory;
#[cfg(feature = "nats")]
mod nats;
mod snapshot;

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use constraints::Constraints;
#[cfg(feature = "dns")]
pub use dns::DnsRegistry;
#[cfg(feature = "etcd")]
pub use etcd::EtcdRegistry;
pub use local::LocalRegistry;
#[cfg(feature = "mdns")]
pub use mdns::MdnsRegistry;
pub use memory::MemoryRegistry;
#[cfg(feature = "nats")]
pub use nats::NatsRegistry;

pub(crate) const ID: &str = "micro.registry";

pub use crate::BoxFuture;

/// A service: one version of a named service and the nodes running it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Service {
    /// The registry name, chosen by the user (`greeter`).
    pub name: String,
    /// The version (`1.0.0`, default `latest`).
    #[serde(default, deserialize_with = "null_is_default")]
    pub version: String,
    /// Free-form metadata.
    #[serde(default, deserialize_with = "null_is_default")]
    pub metadata: BTreeMap<String, String>,
    /// The endpoints the service answers.
    #[serde(default, deserialize_with = "null_is_default")]
    pub endpoints: Vec<Endpoint>,
    /// The running instances.
    #[serde(default, deserialize_with = "null_is_default")]
    pub nodes: Vec<Node>,
}

impl Service {
    /// A service record with no endpoints and no nodes.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Service {
        Service {
            name: name.into(),
            version: version.into(),
            ..Service::default()
        }
    }

    /// Add a node.
    #[must_use]
    pub fn with_node(mut self, node: Node) -> Service {
        self.nodes.push(node);
        self
    }

    /// Add an endpoint.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Service {
        self.endpoints.push(endpoint);
        self
    }

    /// Add a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Service {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The endpoint called `name`, if the service declares it.
    pub fn endpoint(&self, name: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    /// Service records written by hand (`micro register service JSON`): one record or a
    /// list of them, as `micro describe -o json` prints. Each needs a name and at least one
    /// node with an id and an address; the error says which is missing. A record without a
    /// version gets `latest`.
    pub fn parse_records(text: &str) -> Result<Vec<Service>> {
        let bad = |detail: String| Error::bad_request(ID, detail);
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("the service is not valid JSON: {e}")))?;
        let mut services: Vec<Service> = match value {
            serde_json::Value::Array(_) => serde_json::from_value(value),
            _ => serde_json::from_value(value).map(|s| vec![s]),
        }
        .map_err(|e| bad(format!("not a service record: {e}")))?;
        if services.is_empty() {
            return Err(bad("no service in the list".to_owned()));
        }
        for svc in &mut services {
            if svc.version.is_empty() {
                "latest".clone_into(&mut svc.version);
            }
            if svc.name.trim().is_empty() {
                return Err(bad("the service has no name".to_owned()));
            }
            if svc.nodes.is_empty() {
                return Err(bad(format!("service {} has no nodes", svc.name)));
            }
            if svc
                .nodes
                .iter()
                .any(|n| n.id.trim().is_empty() || n.address.trim().is_empty())
            {
                return Err(bad(format!(
                    "every node of {} needs an id and an address",
                    svc.name
                )));
            }
        }
        Ok(services)
    }
}

/// A running instance of a service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Node {
    /// Unique id, e.g. `greeter-6f1c0a`.
    pub id: String,
    /// `host:port` the node answers on.
    pub address: String,
    /// Free-form metadata (`protocol`, `transport`, `registry` ...).
    #[serde(default, deserialize_with = "null_is_default")]
    pub metadata: BTreeMap<String, String>,
}

impl Node {
    /// A node with no metadata.
    pub fn new(id: impl Into<String>, address: impl Into<String>) -> Node {
        Node {
            id: id.into(),
            address: address.into(),
            metadata: BTreeMap::new(),
        }
    }

    /// Add a metadata entry.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Node {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// An endpoint: `Service.Method`, its request and response shapes, and metadata
/// (`stream`, `idempotent`, `grpc_path`, and the HTTP rule keys `method`, `path`, `body` ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Endpoint {
    /// `Service.Method`, e.g. `Greeter.Hello`.
    pub name: String,
    /// The request shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The response shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// Free-form metadata.
    #[serde(default, deserialize_with = "null_is_default")]
    pub metadata: BTreeMap<String, String>,
}

impl Endpoint {
    /// An endpoint with no schema.
    pub fn new(name: impl Into<String>) -> Endpoint {
        Endpoint {
            name: name.into(),
            ..Endpoint::default()
        }
    }

    /// True when the endpoint declares itself idempotent (safe to retry on another node).
    pub fn is_idempotent(&self) -> bool {
        self.metadata.get("idempotent").is_some_and(|v| v == "true")
    }

    /// True when the endpoint describes a subscriber (metadata `subscriber=true`, named after
    /// its topic) rather than something to call.
    pub fn is_subscriber(&self) -> bool {
        self.metadata.get("subscriber").is_some_and(|v| v == "true")
    }

    /// The streaming kind of a callable endpoint (metadata `stream`: `server`, `client` or
    /// `bidirectional`); `None` for a unary one.
    pub fn stream(&self) -> Option<&str> {
        self.metadata.get("stream").map(String::as_str)
    }
}

/// The shape of a message: a name, a type and nested fields (go-micro's `registry.Value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Value {
    /// Field or message name.
    pub name: String,
    /// Type name (`string`, `int32`, a message name ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Nested fields.
    #[serde(
        default,
        deserialize_with = "null_is_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<Value>,
    /// What the field is for: its comment in the `.proto` or its doc comment in Rust (at
    /// most 512 bytes). Empty when unknown. Not in go-micro's records, which ignore it.
    #[serde(
        default,
        deserialize_with = "null_is_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// The field must be given: a proto2 `required` field, or a serde field with neither a
    /// default nor `Option`. Not in go-micro's records, which ignore it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// What values the field accepts (its validation rules as JSON Schema keywords). Not in
    /// go-micro's records, which ignore it.
    #[serde(default, skip_serializing_if = "Constraints::is_empty")]
    pub constraints: Constraints,
}

impl Value {
    /// A value with no nested fields.
    pub fn new(name: impl Into<String>, kind: impl Into<String>) -> Value {
        Value {
            name: name.into(),
            kind: kind.into(),
            values: Vec::new(),
            description: String::new(),
            required: false,
            constraints: Constraints::default(),
        }
    }

    /// Add a nested field.
    #[must_use]
    pub fn with_field(mut self, field: Value) -> Value {
        self.values.push(field);
        self
    }
}

/// Options for [`Registry::register`].
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct RegisterOptions {
    /// How long the entry lives unless registered again; `None` keeps it until deregistered.
    pub ttl: Option<Duration>,
}

impl RegisterOptions {
    /// Entries that expire after `ttl` unless refreshed.
    pub fn ttl(ttl: Duration) -> RegisterOptions {
        RegisterOptions { ttl: Some(ttl) }
    }
}

/// Options for [`Registry::watch`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct WatchOptions {
    /// Only report changes of this service.
    pub service: Option<String>,
}

impl WatchOptions {
    /// Watch every service.
    pub fn all() -> WatchOptions {
        WatchOptions::default()
    }

    /// Watch one service.
    pub fn service(name: impl Into<String>) -> WatchOptions {
        WatchOptions {
            service: Some(name.into()),
        }
    }
}

/// What happened to a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A node appeared.
    Create,
    /// A node's record changed.
    Update,
    /// A node was deregistered or expired.
    Delete,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        })
    }
}

/// A change seen by a watcher: the action and the service, holding the node it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub action: Action,
    /// The service, with the affected node in `nodes`.
    pub service: Service,
}

/// A stream of registry [`Event`]s. Dropping it stops the watch.
pub struct Watcher {
    inner: Pin<Box<dyn Stream<Item = Result<Event>> + Send>>,
}

impl Watcher {
    /// Wrap any stream of events.
    pub fn new(stream: impl Stream<Item = Result<Event>> + Send + 'static) -> Watcher {
        Watcher {
            inner: Box::pin(stream),
        }
    }

    /// The next event; `None` when the watch ended.
    pub async fn next(&mut self) -> Option<Result<Event>> {
        futures_util::StreamExt::next(self).await
    }
}

impl Stream for Watcher {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

/// Service discovery (go-micro's `registry.Registry`).
///
/// Methods return boxed futures so that a registry can be chosen at run time
/// (`Arc<dyn Registry>`).
pub trait Registry: Send + Sync + fmt::Debug + 'static {
    /// Register (or refresh) every node of `service`.
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>>;

    /// Remove every node of `service`.
    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>>;

    /// Every version of the service `name` with its live nodes; a 404 error when there are none.
    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>>;

    /// Every registered service version with its live nodes.
    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>>;

    /// A stream of changes.
    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>>;

    /// The registry's name (`local`, `memory` ...).
    fn name(&self) -> &'static str;
}

/// A shared registry handle.
pub type SharedRegistry = Arc<dyn Registry>;

/// A field that go-micro writes as `null` when empty (a nil map or slice) reads as empty.
pub(crate) fn null_is_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

pub(crate) fn not_found(name: &str) -> Error {
    Error::not_found(ID, format!("service {name}: not found"))
}

/// Every decoder of records that come from outside (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_decoders(data: &[u8]) {
    local::fuzz(data);
    #[cfg(feature = "etcd")]
    etcd::fuzz(data);
    #[cfg(feature = "nats")]
    nats::fuzz(data);
    #[cfg(feature = "mdns")]
    mdns::fuzz(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_names_follow_go_micro() {
        let svc = Service::new("greeter", "1.0.0")
            .with_endpoint(Endpoint {
                name: "Greeter.Hello".into(),
                request: Some(
                    Value::new("HelloRequest", "HelloRequest")
                        .with_field(Value::new("name", "string")),
                ),
                response: None,
                metadata: BTreeMap::new(),
            })
            .with_node(Node::new("n1", "127.0.0.1:1"));
        let json = serde_json::to_value(&svc).unwrap();
        assert_eq!(
            json["endpoints"][0]["request"]["values"][0]["type"],
            "string"
        );
        assert_eq!(json["nodes"][0]["address"], "127.0.0.1:1");
        let back: Service = serde_json::from_value(json).unwrap();
        assert_eq!(back, svc);
    }
}
