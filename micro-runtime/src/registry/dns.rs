//! The DNS registry (`MICRO_REGISTRY=dns`): read-only discovery from DNS records, for services
//! that something else publishes (a Kubernetes headless service, Consul's DNS interface, a
//! local resolver's hosts file).
//!
//! A service `NAME` is looked up, with `DOMAIN` the configured domain (if any), as:
//!
//! 1. SRV `_NAME._tcp.DOMAIN` (RFC 2782; Kubernetes' named ports, dnsmasq `srv-host`),
//! 2. SRV `NAME.DOMAIN` (Consul answers SRV on the service name itself),
//! 3. A/AAAA `NAME.DOMAIN`, with the configured port.
//!
//! Every SRV target becomes one node per address it resolves to. `register` and `deregister`
//! are accepted and do nothing (logged at debug): the names are managed elsewhere. DNS cannot
//! enumerate or push changes, so `list_services` and `watch` answer 501; clients re-resolve
//! about once a second, served mostly from the resolver's cache (which honours record TTLs).
//!
//! `MICRO_REGISTRY_ADDRESS` is a comma-separated list of name servers (`IP` or `IP:PORT`) and
//! settings `domain=...` and `port=...`; without name servers the system's (`/etc/resolv.conf`)
//! are used. For example `10.96.0.10,domain=default.svc.cluster.local,port=9090`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use super::{BoxFuture, Node, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::{Error, Result};

/// The DNS registry.
///
/// ```no_run
/// # fn main() -> micro::Result<()> {
/// let registry = micro::registry::DnsRegistry::new("127.0.0.1:5353,domain=micro.test,port=9090")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DnsRegistry {
    resolver: TokioResolver,
    /// The name servers as configured, for messages (`system` when none).
    servers: String,
    domain: Option<String>,
    port: Option<u16>,
}

impl fmt::Debug for DnsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsRegistry")
            .field("servers", &self.servers)
            .field("domain", &self.domain)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn bad(detail: String) -> Error {
    Error::bad_request(super::ID, detail)
}

impl DnsRegistry {
    /// A registry reading DNS as `address` says (see the [module docs](self)), each lookup
    /// bounded by 5 s.
    pub fn new(address: &str) -> Result<DnsRegistry> {
        DnsRegistry::with_timeout(address, Duration::from_secs(5))
    }

    /// As [`DnsRegistry::new`], each lookup bounded by `timeout`.
    pub fn with_timeout(address: &str, timeout: Duration) -> Result<DnsRegistry> {
        let mut servers: Vec<SocketAddr> = Vec::new();
        let mut domain = None;
        let mut port = None;
        for part in address.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(value) = part.strip_prefix("domain=") {
                domain = Some(value.trim_matches('.').to_owned()).filter(|d| !d.is_empty());
            } else if let Some(value) = part.strip_prefix("port=") {
                port = Some(value.parse::<u16>().map_err(|_| {
                    bad(format!("dns registry: port {value:?} is not a port number"))
                })?);
            } else if let Ok(ip) = part.parse::<IpAddr>() {
                servers.push(SocketAddr::new(ip, 53));
            } else if let Ok(addr) = part.parse::<SocketAddr>() {
                servers.push(addr);
            } else {
                return Err(bad(format!(
                    "dns registry: {part:?} is neither a name server (IP or IP:PORT) nor domain=... or port=...; e.g. MICRO_REGISTRY_ADDRESS=127.0.0.1:53,domain=svc.cluster.local,port=9090"
                )));
            }
        }
        let provider = TokioRuntimeProvider::default();
        let mut builder = if servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| {
                bad(format!(
                    "dns registry: cannot read the system's resolver configuration ({e}); name a server in MICRO_REGISTRY_ADDRESS"
                ))
            })?
        } else {
            let configs = servers
                .iter()
                .map(|addr| {
                    let mut config = NameServerConfig::udp_and_tcp(addr.ip());
                    for connection in &mut config.connections {
                        connection.port = addr.port();
                    }
                    config
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(configs), provider)
        };
        let options = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        options.ndots = 0;
        let resolver = builder
            .build()
            .map_err(|e| bad(format!("dns registry: cannot build the resolver: {e}")))?;
        let servers = if servers.is_empty() {
            "the system's name servers".to_owned()
        } else {
            servers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        Ok(DnsRegistry {
            resolver,
            servers,
            domain,
            port,
        })
    }

    /// `name` under the configured domain, as an absolute name.
    fn fqdn(&self, name: &str) -> String {
        match &self.domain {
            Some(domain) => format!("{name}.{domain}."),
            None => format!("{name}."),
        }
    }

    fn failed(&self, what: &str, e: &dyn fmt::Display) -> Error {
        Error::unavailable(
            super::ID,
            format!(
                "registry dns at {}: looking up {what} failed: {e}; check the name server and MICRO_REGISTRY_ADDRESS",
                self.servers
            ),
        )
    }

    /// SRV records of `name`: `(target, port)`; empty when there are none.
    async fn srv(&self, name: &str) -> Result<Vec<(String, u16)>> {
        match self.resolver.srv_lookup(name).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some((srv.target.to_utf8(), srv.port)),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.failed(&format!("SRV {name}"), &e)),
        }
    }

    /// The addresses `host` resolves to; empty when it has none.
    async fn ips(&self, host: &str) -> Result<Vec<IpAddr>> {
        match self.resolver.lookup_ip(host).await {
            Ok(lookup) => Ok(lookup.iter().collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.failed(&format!("A/AAAA {host}"), &e)),
        }
    }

    async fn nodes(&self, name: &str) -> Result<Vec<Node>> {
        let fqdn = self.fqdn(name);
        let mut targets = self.srv(&self.fqdn(&format!("_{name}._tcp"))).await?;
        if targets.is_empty() {
            targets = self.srv(&fqdn).await?;
        }
        let mut nodes = Vec::new();
        if targets.is_empty() {
            let ips = self.ips(&fqdn).await?;
            if ips.is_empty() {
                return Ok(nodes);
            }
            let port = self.port.ok_or_else(|| {
                Error::unavailable(
                    super::ID,
                    format!(
                        "registry dns: {fqdn} has addresses but no SRV record tells the port; add port=... to MICRO_REGISTRY_ADDRESS"
                    ),
                )
            })?;
            targets.push((fqdn, port));
        }
        for (target, port) in targets {
            for ip in self.ips(&target).await? {
                let address = SocketAddr::new(ip, port).to_string();
                nodes.push(
                    Node::new(
                        format!("{}-{address}", target.trim_end_matches('.')),
                        address,
                    )
                    .with_metadata("registry", "dns"),
                );
            }
        }
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        nodes.dedup_by(|a, b| a.id == b.id);
        Ok(nodes)
    }
}

fn not_supported(what: &str) -> Error {
    Error::unimplemented(
        super::ID,
        format!(
            "the dns registry cannot {what}: DNS has no way to; ask for one service (micro registry get NAME)"
        ),
    )
}

impl Registry for DnsRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        _: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        tracing::debug!(service = %service.name, "dns registry: register is a no-op; publish the name in DNS");
        Box::pin(async { Ok(()) })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        tracing::debug!(service = %service.name, "dns registry: deregister is a no-op");
        Box::pin(async { Ok(()) })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let nodes = self.nodes(name).await?;
            if nodes.is_empty() {
                return Err(super::not_found(name));
            }
            let mut service = Service::new(name, "latest");
            service.nodes = nodes;
            Ok(vec![service])
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(async { Err(not_supported("list services")) })
    }

    fn watch(&self, _: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async { Err(not_supported("watch")) })
    }

    fn name(&self) -> &'static str {
        "dns"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn addresses_parse_and_bad_ones_say_why() {
        let r = DnsRegistry::new("127.0.0.1:5353, domain=svc.cluster.local., port=9090").unwrap();
        assert_eq!(r.servers, "127.0.0.1:5353");
        assert_eq!(r.fqdn("greeter"), "greeter.svc.cluster.local.");
        assert_eq!(r.port, Some(9090));
        let err = DnsRegistry::new("dns.example").unwrap_err();
        assert!(
            err.detail().contains("neither a name server"),
            "{}",
            err.detail()
        );
        let err = DnsRegistry::new("10.0.0.1,port=http").unwrap_err();
        assert!(
            err.detail().contains("not a port number"),
            "{}",
            err.detail()
        );
    }
}
