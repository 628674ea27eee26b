//! The mDNS registry (`MICRO_REGISTRY=mdns`): zero-configuration discovery on one LAN, in
//! go-micro's encoding: DNS-SD under the domain `micro.`, one record set per node (PTR
//! `SVC.micro.` to `ID.SVC.micro.`, whose SRV gives the port, A/AAAA the address and TXT
//! `hex(zlib(JSON))` of the version, endpoints and metadata), and `_services.micro.` listing
//! the services.
//!
//! Each registry handle joins the mDNS group (224.0.0.251:5353) on one interface, answers
//! queries for the nodes it registered, announces them on every register call (the
//! heartbeat) and says goodbye (TTL 0) on deregister. Everything it hears, answers and
//! announcements of other hosts alike, feeds a cache that expires each node after its TTL, so
//! a node killed with `kill -9` leaves every view within TTL + interval, and watchers get
//! every change without asking.
//!
//! What go-micro's mDNS got wrong, and what this one does instead:
//!
//! * **Silent failure.** Joining the multicast group is checked when the registry is first
//!   used; a host without multicast (no route, a container without it) gets an error that
//!   names the interface and what to do, not an empty registry.
//! * **Which interface.** `MICRO_REGISTRY_ADDRESS=iface=eth1` (or `iface=10.0.0.7`) chooses
//!   it; by default the first interface with a private IPv4 address.
//! * **A 100 ms window.** A lookup waits until answers stop coming (150 ms of quiet, at most
//!   a second), and once a service was found, its nodes come from the cache that
//!   announcements keep fresh.

mod wire;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::Record;
use tokio::net::UdpSocket;
use tokio::sync::{OnceCell, broadcast};

use super::keyed::{self, Keyed, Notice};
use super::snapshot;
use super::{BoxFuture, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::{Error, Result};

const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
const PORT: u16 = 5353;
/// A lookup ends this long after the last answer...
const QUIET: Duration = Duration::from_millis(150);
/// ...or after this long in all.
const WINDOW: Duration = Duration::from_secs(1);
/// How often expired nodes are dropped from the cache.
const SWEEP: Duration = Duration::from_millis(250);
/// TTL of records registered without one.
const DEFAULT_TTL: u32 = 120;

/// The mDNS registry.
///
/// ```no_run
/// # fn main() -> micro::Result<()> {
/// let registry = micro::registry::MdnsRegistry::new("iface=eth0")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MdnsRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    /// The interface setting: a name, an IPv4 address, or `None` for the default.
    iface: Option<String>,
    engine: OnceCell<Arc<Engine>>,
}

/// The joined socket and what was learned on it.
struct Engine {
    socket: UdpSocket,
    /// The interface's address, for messages.
    interface: String,
    cache: RwLock<Keyed>,
    /// Service names heard under `_services.micro.`.
    names: Mutex<HashSet<String>>,
    /// Services looked up at least once: later lookups trust the cache.
    queried: Mutex<HashSet<String>>,
    /// This handle's nodes (`SVC/ID`) and the records that answer for them.
    owned: Mutex<HashMap<String, (String, Vec<Record>)>>,
    events: broadcast::Sender<Notice>,
    /// A tick for every response heard (lookups wait for the answers to stop).
    heard: broadcast::Sender<()>,
}

impl fmt::Debug for MdnsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MdnsRegistry")
            .field("iface", &self.inner.iface)
            .finish_non_exhaustive()
    }
}

impl MdnsRegistry {
    /// A registry on the interface `address` names (`iface=NAME`, `iface=IP`, a bare name or
    /// IP, or empty for the default). Nothing is opened until the first call.
    pub fn new(address: &str) -> Result<MdnsRegistry> {
        let text = address.trim();
        let iface = text.strip_prefix("iface=").unwrap_or(text).trim();
        Ok(MdnsRegistry {
            inner: Arc::new(Inner {
                iface: (!iface.is_empty()).then(|| iface.to_owned()),
                engine: OnceCell::new(),
            }),
        })
    }

    async fn engine(&self) -> Result<&Arc<Engine>> {
        self.inner
            .engine
            .get_or_try_init(|| async {
                let (socket, interface) = open(self.inner.iface.as_deref())?;
                let engine = Arc::new(Engine {
                    socket,
                    interface,
                    cache: RwLock::new(Keyed::default()),
                    names: Mutex::new(HashSet::new()),
                    queried: Mutex::new(HashSet::new()),
                    owned: Mutex::new(HashMap::new()),
                    events: broadcast::channel(1024).0,
                    heard: broadcast::channel(64).0,
                });
                tokio::spawn(listen(Arc::downgrade(&engine)));
                tokio::spawn(sweep(Arc::downgrade(&engine)));
                Ok(engine)
            })
            .await
    }
}

/// The interfaces of this host, for messages.
fn interfaces() -> String {
    if_addrs::get_if_addrs()
        .map(|all| {
            all.iter()
                .map(|i| format!("{} ({})", i.name, i.ip()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The name and IPv4 address of the interface `iface` names, or of the default interface.
fn interface_address(iface: Option<&str>) -> Result<(String, Ipv4Addr)> {
    let found = match iface {
        Some(wanted) => if_addrs::get_if_addrs()
            .map_err(|e| {
                Error::unavailable(
                    super::ID,
                    format!("mdns registry: cannot list interfaces: {e}"),
                )
            })?
            .into_iter()
            .filter(|i| i.name == wanted || i.ip().to_string() == wanted)
            .find_map(|i| match i.ip() {
                IpAddr::V4(ip) => Some((i.name, ip)),
                IpAddr::V6(_) => None,
            }),
        None => crate::net::default_interface(),
    };
    let interfaces = match interfaces() {
        list if list.is_empty() => "none".to_owned(),
        list => list,
    };
    found.ok_or_else(|| {
        Error::unavailable(
            super::ID,
            match iface {
                Some(i) => format!(
                    "mdns registry: interface {i:?} has no IPv4 address; this host has: {interfaces}; choose one with MICRO_REGISTRY_ADDRESS=iface=NAME"
                ),
                None => format!(
                    "mdns registry: this host has no network interface with an IPv4 address besides loopback (interfaces: {interfaces}); mDNS needs a local network"
                ),
            },
        )
    })
}

/// On Linux, an interface that is down or has multicast turned off joins the group without
/// complaint and then hears nothing: check its flags first.
fn check_flags(name: &str) -> std::result::Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        const IFF_UP: u32 = 0x1;
        const IFF_MULTICAST: u32 = 0x1000;
        let Ok(text) = std::fs::read_to_string(format!("/sys/class/net/{name}/flags")) else {
            return Ok(());
        };
        let Ok(flags) = u32::from_str_radix(text.trim().trim_start_matches("0x"), 16) else {
            return Ok(());
        };
        if flags & IFF_UP == 0 {
            return Err(format!("interface {name} is down"));
        }
        if flags & IFF_MULTICAST == 0 {
            return Err(format!(
                "interface {name} has multicast turned off (ip link set {name} multicast on)"
            ));
        }
    }
    let _ = name;
    Ok(())
}

/// Bind 5353 (shared with other responders on this host) and join the group on the interface.
fn open(iface: Option<&str>) -> Result<(UdpSocket, String)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let (name, ip) = interface_address(iface)?;
    let what = format!("{} ({ip})", iface.unwrap_or("the default interface"));
    let fail = |step: &str, e: std::io::Error| {
        Error::unavailable(
            super::ID,
            format!(
                "mdns registry: cannot {step} on {what}: {e}. mDNS needs multicast on the local network: choose the interface with MICRO_REGISTRY_ADDRESS=iface=NAME (this host has: {}), or use a registry that needs none (etcd, nats; local on one host)",
                interfaces()
            ),
        )
    };
    check_flags(&name).map_err(|why| {
        fail(
            "join the multicast group 224.0.0.251",
            std::io::Error::other(why),
        )
    })?;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| fail("open a UDP socket", e))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| fail("share port 5353", e))?;
    #[cfg(unix)]
    socket
        .set_reuse_port(true)
        .map_err(|e| fail("share port 5353", e))?;
    socket
        .bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT)).into())
        .map_err(|e| fail("bind port 5353", e))?;
    socket
        .join_multicast_v4(&GROUP, &ip)
        .map_err(|e| fail("join the multicast group 224.0.0.251", e))?;
    socket
        .set_multicast_if_v4(&ip)
        .map_err(|e| fail("send multicast", e))?;
    socket
        .set_multicast_loop_v4(true)
        .map_err(|e| fail("loop multicast back", e))?;
    socket
        .set_multicast_ttl_v4(255)
        .map_err(|e| fail("set the multicast TTL", e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| fail("make the socket non-blocking", e))?;
    let socket = UdpSocket::from_std(socket.into()).map_err(|e| fail("register the socket", e))?;
    Ok((socket, what))
}

impl Engine {
    async fn send(&self, message: &Message, to: SocketAddr) -> Result<()> {
        let bytes = message.to_vec().map_err(|e| {
            Error::internal(super::ID, format!("mdns registry: encoding a message: {e}"))
        })?;
        self.socket.send_to(&bytes, to).await.map_err(|e| {
            Error::unavailable(
                super::ID,
                format!(
                    "mdns registry: sending to {to} on {} failed: {e} (is there a multicast route?)",
                    self.interface
                ),
            )
        })?;
        Ok(())
    }

    async fn multicast(&self, message: &Message) -> Result<()> {
        self.send(message, SocketAddr::V4(SocketAddrV4::new(GROUP, PORT)))
            .await
    }

    fn learn(&self, key: &str, entry: Option<snapshot::Record>) {
        let event = self
            .cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .put(key, entry);
        if let Some(event) = event {
            let _ = self.events.send(Ok(event));
        }
    }

    /// Ask for `names` (PTR) and wait until the answers stop.
    async fn ask(&self, names: &[String]) -> Result<()> {
        let mut heard = self.heard.subscribe();
        self.multicast(&wire::query(names)?).await?;
        let end = tokio::time::Instant::now() + WINDOW;
        let mut quiet_until: Option<tokio::time::Instant> = None;
        loop {
            let deadline = quiet_until.map_or(end, |q| q.min(end));
            match tokio::time::timeout_at(deadline, heard.recv()).await {
                Ok(Ok(())) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    quiet_until = Some(tokio::time::Instant::now() + QUIET);
                }
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return Ok(()),
            }
        }
    }

    /// The records answering `question` (a name and what this handle owns).
    fn answers(&self, question: &str) -> Vec<Record> {
        let owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        let services = wire::services_name();
        let mut out = Vec::new();
        for (service, records) in owned.values() {
            let mine = question == wire::service_name(service)
                || records.iter().any(|r| r.name.to_utf8() == question);
            if mine {
                out.extend(
                    records
                        .iter()
                        .filter(|r| r.name.to_utf8() != services)
                        .cloned(),
                );
            } else if question == services {
                out.extend(
                    records
                        .iter()
                        .filter(|r| r.name.to_utf8() == services)
                        .cloned(),
                );
            }
        }
        out
    }
}

/// Read every packet: answer queries for our nodes, learn from responses.
async fn listen(engine: Weak<Engine>) {
    let mut buffer = vec![0u8; 9000];
    loop {
        let Some(strong) = engine.upgrade() else {
            return;
        };
        let received = tokio::select! {
            r = strong.socket.recv_from(&mut buffer) => r,
            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
        };
        let (len, from) = match received {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "mdns registry: receive failed");
                continue;
            }
        };
        let Ok(message) = Message::from_vec(&buffer[..len]) else {
            continue;
        };
        match message.metadata.message_type {
            MessageType::Query => {
                let mut answers = Vec::new();
                for query in &message.queries {
                    answers.extend(strong.answers(&query.name.to_utf8()));
                }
                if answers.is_empty() {
                    continue;
                }
                // A query from a port other than 5353 wants a unicast answer (RFC 6762 6.7).
                let (id, to) = if from.port() == PORT {
                    (0, SocketAddr::V4(SocketAddrV4::new(GROUP, PORT)))
                } else {
                    (message.metadata.id, from)
                };
                if let Err(e) = strong.send(&wire::response(id, answers), to).await {
                    tracing::debug!(error = %e, "mdns registry: answering failed");
                }
            }
            MessageType::Response => {
                for seen in wire::nodes_in(&message) {
                    strong.learn(&seen.key, seen.entry);
                }
                strong
                    .names
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(wire::service_names_in(&message));
                let _ = strong.heard.send(());
            }
        }
    }
}

/// Drop nodes whose TTL passed without a new announcement.
async fn sweep(engine: Weak<Engine>) {
    let mut tick = tokio::time::interval(SWEEP);
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let expired = engine
            .cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .expire(snapshot::now_ms());
        for event in expired {
            let _ = engine.events.send(Ok(event));
        }
    }
}

fn ttl_seconds(options: RegisterOptions) -> u32 {
    options.ttl.map_or(DEFAULT_TTL, |ttl| {
        u32::try_from(keyed::ttl_seconds(ttl)).unwrap_or(u32::MAX)
    })
}

impl Registry for MdnsRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let engine = self.engine().await?;
            let ttl = ttl_seconds(options);
            for node in &service.nodes {
                let records = wire::records(service, node, ttl)?;
                let key = format!("{}/{}", service.name, node.id);
                engine
                    .owned
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, (service.name.clone(), records.clone()));
                engine.multicast(&wire::response(0, records)).await?;
            }
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let engine = self.engine().await?;
            for node in &service.nodes {
                let key = format!("{}/{}", service.name, node.id);
                engine
                    .owned
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&key);
                engine.learn(&key, None);
                engine
                    .multicast(&wire::response(0, wire::records(service, node, 0)?))
                    .await?;
            }
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let engine = self.engine().await?;
            let cached = || {
                engine
                    .cache
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .services(Some(name), snapshot::now_ms())
            };
            let asked = engine
                .queried
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(name);
            let mut services = cached();
            if services.is_empty() || !asked {
                engine.ask(&[wire::service_name(name)]).await?;
                services = cached();
            }
            if services.is_empty() {
                return Err(super::not_found(name));
            }
            engine
                .queried
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_owned());
            Ok(services)
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(async move {
            let engine = self.engine().await?;
            engine.ask(&[wire::services_name()]).await?;
            let names: Vec<String> = engine
                .names
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|n| wire::service_name(n))
                .collect();
            if !names.is_empty() {
                engine.ask(&names).await?;
            }
            Ok(engine
                .cache
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .services(None, snapshot::now_ms()))
        })
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let engine = self.engine().await?;
            Ok(keyed::watcher(
                engine.events.subscribe(),
                options.service,
                "mdns",
            ))
        })
    }

    fn name(&self) -> &'static str {
        "mdns"
    }
}

/// A packet as the registry reads one off the multicast group (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz(data: &[u8]) {
    if let Ok(message) = Message::from_vec(data) {
        let _ = wire::nodes_in(&message);
        let _ = wire::service_names_in(&message);
    }
}
