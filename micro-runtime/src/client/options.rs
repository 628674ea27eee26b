//! Client settings ([`ClientOptions`]), per-call settings ([`CallOptions`]) and the
//! [`TransportPolicy`].

use std::time::Duration;

use crate::codec::Format;
use crate::context::Metadata;
use crate::registry::Node;
use crate::selector::{Filter, Strategy};
use crate::wire::DEFAULT_MAX_MESSAGE_SIZE;

/// Client-wide settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Deadline of a call when neither the context nor the call sets one (default 30 s,
    /// `MICRO_CLIENT_REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
    /// Extra attempts for idempotent calls (default 1, `MICRO_CLIENT_RETRIES`).
    pub retries: u32,
    /// How long to wait for a TCP connection (default 5 s).
    pub connect_timeout: Duration,
    /// Largest request message (default 4 MiB).
    pub max_send_message_size: usize,
    /// Largest response message (default 4 MiB).
    pub max_recv_message_size: usize,
    /// How nodes are picked (default random).
    pub strategy: Strategy,
    /// Which transport calls use (default [`TransportPolicy::Auto`], `MICRO_TRANSPORT`).
    pub transport: TransportPolicy,
    /// How long calls keep going to the last known nodes of a service while the registry
    /// cannot be reached (default 5 min, `MICRO_REGISTRY_STALE_FOR`).
    pub registry_stale_for: Duration,
    /// A connection with calls open and nothing heard for this long is pinged, and dropped
    /// when the ping is not answered within as long again, so calls stop going to a node
    /// that hangs (default 10 s).
    pub keepalive: Duration,
    /// Retries (and attempts on further nodes) allowed, as a share of calls over 10 s, at
    /// least 10; past it a failed attempt is the call's answer, so retries cannot multiply
    /// an outage (default 0.2; 0 turns the budget off; `MICRO_CLIENT_RETRY_BUDGET`).
    pub retry_budget: f64,
    /// An adaptive breaker per node and endpoint: as a node fails, more of the attempts to it
    /// are refused at once (UNAVAILABLE, tried on another node) instead of piling on
    /// (default on; `MICRO_CLIENT_BREAKER=off`).
    pub breaker: bool,
    /// Timeouts, retries and the breaker per service and endpoint
    /// (`MICRO_CLIENT_POLICY`, see [`Policies`](super::Policies)).
    pub policies: super::Policies,
    /// TLS for dialing nodes (default none: plaintext; from `MICRO_TLS_*`, see
    /// [`crate::tls`]).
    pub tls: Option<crate::tls::ClientTls>,
    /// Send every call to this address (a `micro proxy`), which resolves the service and
    /// balances on the client's behalf: for a client in a network that cannot reach the
    /// registry or the nodes (default none, `MICRO_PROXY`). Calls name their service in the
    /// `micro-service` metadata; calls given addresses go straight to them.
    pub proxy: Option<String>,
}

/// Which transport a client uses to reach a node (`MICRO_TRANSPORT`: the [plugin
/// table](crate::plugins) maps the names).
///
/// ```
/// use micro::client::TransportPolicy;
/// use micro::registry::Node;
///
/// let node = Node::new("a", "10.0.0.7:9000").with_metadata("transport", "native,grpc");
/// assert_eq!(TransportPolicy::Auto.transport_for(&node), "native");
/// assert_eq!(TransportPolicy::Grpc.transport_for(&node), "grpc");
/// assert_eq!(TransportPolicy::Auto.transport_for(&Node::new("b", "memory:greeter-1")), "memory");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportPolicy {
    /// The first transport in the node's advertised list (`transport: native,grpc` in its
    /// metadata) that the client speaks; `memory` for `memory:` addresses; gRPC for other
    /// nodes that advertise none.
    #[default]
    Auto,
    /// gRPC over HTTP/2 always.
    Grpc,
    /// The native transport always, also for addresses given with
    /// [`CallOptions::address`] (whose metadata is unknown).
    Native,
    /// The in-process transport always (servers of this process, listening on `memory:`
    /// addresses).
    Memory,
}

impl TransportPolicy {
    /// The name of the transport calls to `node` take.
    pub fn transport_for(self, node: &Node) -> &'static str {
        match self {
            TransportPolicy::Grpc => "grpc",
            TransportPolicy::Native => "native",
            TransportPolicy::Memory => "memory",
            // A name in this process is reachable only in this process.
            TransportPolicy::Auto if node.address.starts_with(crate::transport::memory::SCHEME) => {
                "memory"
            }
            TransportPolicy::Auto => {
                let advertised = node.metadata.get("transport").map(String::as_str);
                advertised
                    .into_iter()
                    .flat_map(|list| list.split(','))
                    .map(str::trim)
                    .find_map(|t| KNOWN.iter().find(|k| **k == t).copied())
                    .unwrap_or("grpc")
            }
        }
    }
}

/// The transports a client speaks.
pub(crate) const KNOWN: [&str; 3] = ["native", "grpc", "memory"];

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            request_timeout: Duration::from_secs(30),
            retries: 1,
            connect_timeout: Duration::from_secs(5),
            max_send_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_recv_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            strategy: Strategy::Random,
            transport: TransportPolicy::Auto,
            registry_stale_for: Duration::from_secs(300),
            keepalive: Duration::from_secs(10),
            retry_budget: 0.2,
            breaker: true,
            policies: super::Policies::default(),
            tls: None,
            proxy: None,
        }
    }
}

/// Options for one call.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Deadline for this call (the context's deadline still wins when earlier).
    pub timeout: Option<Duration>,
    /// Metadata added to the context's.
    pub metadata: Metadata,
    /// Call these addresses instead of asking the registry.
    pub addresses: Vec<String>,
    /// Extra attempts for an idempotent call.
    pub retries: Option<u32>,
    /// Whether the call may run twice; by default what the server declared in the registry.
    pub idempotent: Option<bool>,
    /// The adaptive breaker for this call, on or off; by default the client's.
    pub breaker: Option<bool>,
    /// Hedging for an idempotent endpoint: when the first node has not answered within this,
    /// a second node gets the call too and the first answer wins (default none).
    pub hedge: Option<Duration>,
    /// Wire format; by default the request type's.
    pub format: Option<Format>,
    /// Protobuf package for the gRPC path, when the registry does not tell.
    pub package: Option<String>,
    /// Only nodes passing these filters.
    pub filters: Vec<Filter>,
    /// Check the request's validation rules before sending it (generated clients), so a
    /// request the server would refuse never leaves; off by default (the server checks).
    pub validate: bool,
}

impl CallOptions {
    /// Default options.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// Check the request's validation rules before sending (see [`CallOptions::validate`]).
    #[must_use]
    pub fn validate(mut self, yes: bool) -> Self {
        self.validate = yes;
        self
    }

    /// Set the deadline of this call.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Add a metadata entry.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key, value);
        self
    }

    /// Call this address (`host:port`) directly; may be given several times.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.addresses.push(address.into());
        self
    }

    /// Extra attempts for an idempotent call.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = Some(retries);
        self
    }

    /// Declare whether the call may safely run twice.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Guard this call with the adaptive breaker, or not (by default the client's setting).
    #[must_use]
    pub fn breaker(mut self, on: bool) -> Self {
        self.breaker = Some(on);
        self
    }

    /// Hedge the call (idempotent endpoints only): when the first node has not answered
    /// within `after`, a second node gets it too (within the retry budget); the first
    /// success wins and the other attempt is cancelled.
    #[must_use]
    pub fn hedge(mut self, after: Duration) -> Self {
        self.hedge = Some(after);
        self
    }

    /// Use this wire format.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Use this protobuf package in the gRPC path.
    #[must_use]
    pub fn package(mut self, package: impl Into<String>) -> Self {
        self.package = Some(package.into());
        self
    }

    /// Only call nodes that pass `filter`.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }
}

impl CallOptions {
    /// These options with `over` laid on top: what `over` sets wins (timeout, retries,
    /// idempotency, format, package, addresses), metadata and filters add up.
    ///
    /// ```
    /// use std::time::Duration;
    /// use micro::client::CallOptions;
    ///
    /// let client_wide = CallOptions::new().timeout(Duration::from_secs(2)).metadata("x-team", "shop");
    /// let this_call = CallOptions::new().retries(0).metadata("x-request-id", "42");
    /// let both = client_wide.merged(&this_call);
    /// assert_eq!(both.timeout, Some(Duration::from_secs(2)));
    /// assert_eq!(both.retries, Some(0));
    /// assert_eq!(both.metadata.get("x-team"), Some("shop"));
    /// assert_eq!(both.metadata.get("x-request-id"), Some("42"));
    /// ```
    pub fn merged(&self, over: &CallOptions) -> CallOptions {
        let mut out = self.clone();
        out.timeout = over.timeout.or(self.timeout);
        out.metadata.extend(&over.metadata);
        if !over.addresses.is_empty() {
            out.addresses.clone_from(&over.addresses);
        }
        out.retries = over.retries.or(self.retries);
        out.idempotent = over.idempotent.or(self.idempotent);
        out.breaker = over.breaker.or(self.breaker);
        out.hedge = over.hedge.or(self.hedge);
        out.format = over.format.or(self.format);
        if over.package.is_some() {
            out.package.clone_from(&over.package);
        }
        out.filters.extend(over.filters.iter().cloned());
        out.validate = over.validate || self.validate;
        out
    }

    /// What a generated client passes: these options, plus the protobuf package for the
    /// gRPC path and the method's timeout where they are not set.
    pub fn for_method(&self, package: Option<&str>, timeout_ms: Option<u64>) -> CallOptions {
        let mut options = self.clone();
        if options.package.is_none() {
            options.package = package.map(str::to_owned);
        }
        if options.timeout.is_none() {
            options.timeout = timeout_ms.map(Duration::from_millis);
        }
        options
    }
}

/// What generated code calls: [`CallOptions::for_method`].
pub fn call_options(
    options: &CallOptions,
    package: Option<&str>,
    timeout_ms: Option<u64>,
) -> CallOptions {
    options.for_method(package, timeout_ms)
}
