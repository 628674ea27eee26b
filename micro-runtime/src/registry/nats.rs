//! The NATS registry (`MICRO_REGISTRY=nats`): records in a JetStream key-value bucket.
//!
//! Why key-value and not go-micro's query/announce protocol on subjects: the bucket keeps
//! the records, so a process that starts (or reconnects) reads every live node at once and a
//! watch sees every change in order, with no 100 ms "who is out there?" query window to race
//! and no node lost because it missed an announcement. Registrations survive a NATS restart
//! (the bucket is on disk), and every reader sees the same records.
//!
//! * Bucket `micro_registry` (history 1; entries older than an hour are dropped by the server,
//!   so a dead node's key does not linger).
//! * Key `<service>.<node-id>`, each escaped so that only `[A-Za-z0-9_-]` remain (`=XX` for
//!   any other byte).
//! * Value `{"service": <the service record with one node>, "expires": <unix ms>}`: the TTL is
//!   in the record, because NATS 2.9 has no per-key TTL. Readers drop a record once its
//!   expiry passes (so a node killed with `kill -9` leaves every view within TTL plus the
//!   sweep's half second); this assumes the hosts' clocks agree to well within the TTL (NTP).
//!
//! Each registry handle keeps one mirror of the bucket, fed by one key-value watch: reads
//! are served from it (no round trip), watchers are fed from it, and after a reconnect the
//! bucket is read again and only the difference is reported.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;
use tokio::sync::{OnceCell, broadcast};

use super::keyed::{self, Keyed, Notice};
use super::snapshot::{self, Record};
use super::{BoxFuture, RegisterOptions, Registry, Service, WatchOptions, Watcher};
use crate::error::{Error, Result};

/// The bucket.
pub(crate) const BUCKET: &str = "micro_registry";
/// How often expired records are swept from the mirror.
const SWEEP: Duration = Duration::from_millis(500);
/// The server drops keys not written for this long.
const BUCKET_MAX_AGE: Duration = Duration::from_secs(3600);

/// A registry on a NATS server with JetStream.
///
/// ```no_run
/// # fn main() -> micro::Result<()> {
/// let registry = micro::registry::NatsRegistry::new("nats://127.0.0.1:4222")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NatsRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    address: String,
    timeout: Duration,
    /// Whether the connection is up, from the client's events.
    connected: Arc<tokio::sync::watch::Sender<bool>>,
    client: OnceCell<async_nats::Client>,
    store: OnceCell<kv::Store>,
    mirror: OnceCell<Arc<Mirror>>,
}

/// The bucket as last read, and the events to send watchers.
struct Mirror {
    records: RwLock<Keyed>,
    events: broadcast::Sender<Notice>,
}

impl fmt::Debug for NatsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsRegistry")
            .field("address", &self.inner.address)
            .finish_non_exhaustive()
    }
}

impl NatsRegistry {
    /// A registry on the NATS server(s) at `address` (`nats://host:4222`, comma separated for
    /// a cluster), each request bounded by 5 s. Nothing is contacted until the first call.
    pub fn new(address: &str) -> Result<NatsRegistry> {
        NatsRegistry::with_timeout(address, Duration::from_secs(5))
    }

    /// As [`NatsRegistry::new`], with each request bounded by `timeout`.
    pub fn with_timeout(address: &str, timeout: Duration) -> Result<NatsRegistry> {
        if address.trim().is_empty() {
            return Err(Error::bad_request(
                super::ID,
                "the nats registry needs an address (MICRO_REGISTRY_ADDRESS, e.g. nats://127.0.0.1:4222)",
            ));
        }
        Ok(NatsRegistry {
            inner: Arc::new(Inner {
                address: address.trim().to_owned(),
                timeout,
                connected: Arc::new(tokio::sync::watch::channel(true).0),
                client: OnceCell::new(),
                store: OnceCell::new(),
                mirror: OnceCell::new(),
            }),
        })
    }

    fn unreachable(&self, why: &dyn fmt::Display) -> Error {
        Error::unavailable(
            super::ID,
            format!(
                "registry nats at {}: {why}; check that nats-server runs there with JetStream (nats-server -js), or set MICRO_REGISTRY_ADDRESS (--registry_address)",
                self.inner.address
            ),
        )
    }

    async fn client(&self) -> Result<&async_nats::Client> {
        let inner = &self.inner;
        inner
            .client
            .get_or_try_init(|| async {
                let connected = inner.connected.clone();
                let connect = async_nats::ConnectOptions::new()
                    .name("micro-registry")
                    .connection_timeout(inner.timeout)
                    .event_callback(move |event| {
                        let connected = connected.clone();
                        async move {
                            match event {
                                async_nats::Event::Connected => {
                                    connected.send_replace(true);
                                }
                                async_nats::Event::Disconnected => {
                                    connected.send_replace(false);
                                }
                                other => {
                                    tracing::debug!(event = %other, "nats registry connection")
                                }
                            }
                        }
                    })
                    .connect(inner.address.as_str());
                match tokio::time::timeout(inner.timeout + Duration::from_secs(1), connect).await {
                    Ok(Ok(client)) => Ok(client),
                    Ok(Err(e)) => Err(self.unreachable(&format_args!("cannot connect: {e}"))),
                    Err(_) => Err(self.unreachable(&"cannot connect: timed out")),
                }
            })
            .await
    }

    /// The bucket, created on first use.
    async fn store(&self) -> Result<&kv::Store> {
        let client = self.client().await?;
        self.inner
            .store
            .get_or_try_init(|| async {
                let js = jetstream::new(client.clone());
                let open = async {
                    match js.get_key_value(BUCKET).await {
                        Ok(store) => Ok::<_, String>(store),
                        // The key-value stream made by hand: `create_key_value` first asks
                        // for account details that NATS servers before 2.10 do not send.
                        Err(_) => {
                            js.get_or_create_stream(jetstream::stream::Config {
                                name: format!("KV_{BUCKET}"),
                                description: Some("micro service registry".to_owned()),
                                subjects: vec![format!("$KV.{BUCKET}.>")],
                                max_messages_per_subject: 1,
                                max_age: BUCKET_MAX_AGE,
                                storage: jetstream::stream::StorageType::File,
                                allow_rollup: true,
                                deny_delete: true,
                                allow_direct: true,
                                discard: jetstream::stream::DiscardPolicy::New,
                                num_replicas: 1,
                                ..Default::default()
                            })
                            .await
                            .map_err(|e| e.to_string())?;
                            js.get_key_value(BUCKET).await.map_err(|e| e.to_string())
                        }
                    }
                };
                match tokio::time::timeout(self.inner.timeout, open).await {
                    Ok(Ok(store)) => Ok(store),
                    Ok(Err(e)) => Err(self.unreachable(&format_args!(
                        "opening the key-value bucket {BUCKET} failed: {e}"
                    ))),
                    Err(_) => Err(self.unreachable(&format_args!(
                        "opening the key-value bucket {BUCKET} timed out"
                    ))),
                }
            })
            .await
    }

    /// The mirror, started and filled on first use.
    async fn mirror(&self) -> Result<&Arc<Mirror>> {
        let store = self.store().await?.clone();
        self.inner
            .mirror
            .get_or_try_init(|| async {
                let mirror = Arc::new(Mirror {
                    records: RwLock::new(Keyed::default()),
                    events: broadcast::channel(1024).0,
                });
                let (first, synced) = tokio::sync::oneshot::channel();
                tokio::spawn(follow(
                    Arc::downgrade(&mirror),
                    store,
                    self.inner.connected.subscribe(),
                    Some(first),
                ));
                match tokio::time::timeout(self.inner.timeout, synced).await {
                    Ok(Ok(Ok(()))) => Ok(mirror),
                    Ok(Ok(Err(e))) => {
                        Err(self.unreachable(&format_args!("reading the bucket failed: {e}")))
                    }
                    Ok(Err(_)) | Err(_) => Err(self.unreachable(&"reading the bucket timed out")),
                }
            })
            .await
    }

    /// Reads need a live connection: while it is down, say so (clients keep their view).
    async fn connected_mirror(&self) -> Result<&Arc<Mirror>> {
        let mirror = self.mirror().await?;
        let client = self.client().await?;
        if client.connection_state() != async_nats::connection::State::Connected {
            return Err(self.unreachable(&"the connection is lost (reconnecting)"));
        }
        Ok(mirror)
    }

    async fn services(&self, name: Option<&str>) -> Result<Vec<Service>> {
        let mirror = self.connected_mirror().await?;
        let records = mirror.records.read().unwrap_or_else(|e| e.into_inner());
        Ok(records.services(name, snapshot::now_ms()))
    }
}

/// Keep the mirror in step with the bucket: one watch with history (every live key, then
/// every change); after it breaks, start again and report the difference. `first` hears
/// when the first full read is done. A lost connection is reported to watchers at once (and
/// nothing expires while it is lost); when it is back, the bucket is read again.
async fn follow(
    mirror: Weak<Mirror>,
    store: kv::Store,
    mut connected: tokio::sync::watch::Receiver<bool>,
    mut first: Option<tokio::sync::oneshot::Sender<std::result::Result<(), String>>>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut sweep = tokio::time::interval(SWEEP);
    loop {
        let watch = match store.watch_with_history(">").await {
            Ok(watch) => watch,
            Err(e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e.to_string()));
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        // How many keys the first pass delivers (deletes included): zero means none to wait for.
        let expected = match store.status().await {
            Ok(status) => status.values(),
            Err(e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e.to_string()));
                    return;
                }
                continue;
            }
        };
        let mut fresh: Option<BTreeMap<String, Record>> = Some(BTreeMap::new());
        if expected == 0 {
            finish(&mirror, &mut fresh, &mut first);
        }
        let mut watch = watch;
        loop {
            tokio::select! {
                entry = watch.next() => match entry {
                    Some(Ok(entry)) => {
                        backoff = Duration::from_millis(100);
                        let Some(mirror_now) = mirror.upgrade() else { return };
                        let record = match entry.operation {
                            kv::Operation::Put => decode(&entry.key, &entry.value),
                            kv::Operation::Delete | kv::Operation::Purge => None,
                        };
                        match fresh.as_mut() {
                            Some(fresh) => {
                                if let Some(record) = record {
                                    fresh.insert(entry.key.clone(), record);
                                }
                            }
                            None => {
                                let event = mirror_now
                                    .records
                                    .write()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .put(&entry.key, record);
                                if let Some(event) = event {
                                    let _ = mirror_now.events.send(Ok(event));
                                }
                            }
                        }
                        drop(mirror_now);
                        if fresh.is_some() && entry.delta == 0 {
                            finish(&mirror, &mut fresh, &mut first);
                        }
                    }
                    Some(Err(e)) => {
                        lost(&mirror, &e.to_string());
                        break;
                    }
                    None => {
                        lost(&mirror, "the key-value watch ended");
                        break;
                    }
                },
                Ok(()) = connected.changed() => {
                    if *connected.borrow_and_update() {
                        tracing::info!("nats registry connection restored; reading the bucket again");
                        break;
                    }
                    lost(&mirror, "disconnected from the NATS server");
                }
                _ = sweep.tick() => {
                    let Some(mirror) = mirror.upgrade() else { return };
                    if fresh.is_none() && *connected.borrow() {
                        let expired = mirror
                            .records
                            .write()
                            .unwrap_or_else(|e| e.into_inner())
                            .expire(snapshot::now_ms());
                        for event in expired {
                            let _ = mirror.events.send(Ok(event));
                        }
                    }
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// The full read is done: replace the mirror's records and report the difference.
fn finish(
    mirror: &Weak<Mirror>,
    fresh: &mut Option<BTreeMap<String, Record>>,
    first: &mut Option<tokio::sync::oneshot::Sender<std::result::Result<(), String>>>,
) {
    let Some(now) = fresh.take() else { return };
    let Some(mirror) = mirror.upgrade() else {
        return;
    };
    let events = mirror
        .records
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .replace(now);
    // The first read is the starting point, not news.
    if first.is_none() {
        for event in events {
            let _ = mirror.events.send(Ok(event));
        }
    }
    if let Some(first) = first.take() {
        let _ = first.send(Ok(()));
    }
}

fn lost(mirror: &Weak<Mirror>, why: &str) {
    tracing::warn!(
        error = why,
        "nats registry watch lost; reading the bucket again once it is back"
    );
    if let Some(mirror) = mirror.upgrade() {
        let _ = mirror.events.send(Err(why.to_owned()));
    }
}

/// The record stored under `key`, or `None` (with a warning naming the key) when it is not one.
/// A KV entry as the registry reads it: a key line, then the value (fuzz targets).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz(data: &[u8]) {
    let (key, value) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"svc.node"[..], data),
    };
    if let Ok(key) = std::str::from_utf8(key) {
        let _ = decode(key, value);
    }
}

fn decode(key: &str, value: &[u8]) -> Option<Record> {
    match serde_json::from_slice::<Record>(value) {
        Ok(record) if !record.service.name.is_empty() && record.service.nodes.len() == 1 => {
            Some(record)
        }
        Ok(_) => {
            tracing::warn!(
                key,
                bucket = BUCKET,
                "skipping a nats registry record without a service name or with other than one node"
            );
            None
        }
        Err(e) => {
            tracing::warn!(key, bucket = BUCKET, error = %e, "skipping a malformed nats registry record");
            None
        }
    }
}

/// `<service>.<node>`, each escaped to the key-value alphabet.
pub(crate) fn key(service: &str, node: &str) -> String {
    format!("{}.{}", escape(service), escape(node))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

impl Registry for NatsRegistry {
    fn register<'a>(
        &'a self,
        service: &'a Service,
        options: RegisterOptions,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let store = self.store().await?;
            for record in snapshot::split(service, options.ttl) {
                let key = key(&service.name, &record.key().1);
                let value = serde_json::to_vec(&record).map_err(|e| {
                    Error::internal(super::ID, format!("encoding the record {key}: {e}"))
                })?;
                match tokio::time::timeout(self.inner.timeout, store.put(&key, value.into())).await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Err(self.unreachable(&format_args!("writing {key} failed: {e}")));
                    }
                    Err(_) => {
                        return Err(self.unreachable(&format_args!("writing {key} timed out")));
                    }
                }
            }
            Ok(())
        })
    }

    fn deregister<'a>(&'a self, service: &'a Service) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let store = self.store().await?;
            for node in &service.nodes {
                let key = key(&service.name, &node.id);
                match tokio::time::timeout(self.inner.timeout, store.delete(&key)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        return Err(self.unreachable(&format_args!("deleting {key} failed: {e}")));
                    }
                    Err(_) => {
                        return Err(self.unreachable(&format_args!("deleting {key} timed out")));
                    }
                }
            }
            Ok(())
        })
    }

    fn get_service<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let services = self.services(Some(name)).await?;
            if services.is_empty() {
                return Err(super::not_found(name));
            }
            Ok(services)
        })
    }

    fn list_services(&self) -> BoxFuture<'_, Result<Vec<Service>>> {
        Box::pin(self.services(None))
    }

    fn watch(&self, options: WatchOptions) -> BoxFuture<'_, Result<Watcher>> {
        Box::pin(async move {
            let mirror = self.mirror().await?;
            Ok(keyed::watcher(
                mirror.events.subscribe(),
                options.service,
                "nats",
            ))
        })
    }

    fn name(&self) -> &'static str {
        "nats"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_escaped_to_the_key_value_alphabet() {
        assert_eq!(key("greeter", "greeter-1"), "greeter.greeter-1");
        assert_eq!(key("go.micro/srv", "a b"), "go=2Emicro=2Fsrv.a=20b");
    }

    #[test]
    fn malformed_records_are_skipped() {
        assert!(decode("k", b"{nope").is_none());
        assert!(decode("k", br#"{"service":{"name":"a","nodes":[]}}"#).is_none());
        let ok = br#"{"service":{"name":"a","nodes":[{"id":"n","address":"h:1"}]},"expires":5}"#;
        assert_eq!(decode("k", ok).unwrap().expires, Some(5));
    }
}
