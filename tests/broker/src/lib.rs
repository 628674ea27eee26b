//! Shared by the broker tests, the crash-test subscriber and the benchmark: one broker per
//! engine, a real NATS server when there is one, and small helpers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use micro::broker::{
    Broker, Event, Handler, HttpBroker, HttpBrokerOptions, MemoryBroker, MqttBroker, NatsBroker,
    NatsMode, RabbitBroker, RedisBroker, SharedBroker, handler,
};
use micro::platform::ServiceBroker;
use micro::registry::{LocalRegistry, MemoryRegistry, SharedRegistry};
use micro::store::MemoryStore;

/// The NATS server the tests use (`MICRO_TEST_NATS`, default `nats://127.0.0.1:4222`).
pub fn nats_url() -> String {
    std::env::var("MICRO_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The Redis the tests use (`MICRO_TEST_REDIS`, default `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("MICRO_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Is `host:port` reachable? When not: panics if `MICRO_REQUIRE_PEERS=1` (CI), else says the
/// test is skipped and returns false.
fn reachable_or_skip(test: &str, what: &str, url: &str, hostport: &str) -> bool {
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(hostport)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        });
    if reachable {
        return true;
    }
    if std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "{test}: no {what} at {url}, and MICRO_REQUIRE_PEERS=1 (scripts/test.sh starts one)"
        );
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipped {test}: no {what} at {url} (scripts/test.sh starts one)");
    }
    false
}

/// The RabbitMQ the tests use (`MICRO_TEST_RABBITMQ`, default guest on 127.0.0.1:5672).
pub fn rabbitmq_url() -> String {
    std::env::var("MICRO_TEST_RABBITMQ")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// Is a RabbitMQ server reachable? (As [`nats_or_skip`].)
pub fn rabbitmq_or_skip(test: &str) -> bool {
    let url = rabbitmq_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.split('/').next().unwrap_or("").to_owned();
    reachable_or_skip(test, "RabbitMQ server", &url, &hostport)
}

/// The MQTT server the tests use (`MICRO_TEST_MQTT`, default `mqtt://127.0.0.1:1883`).
pub fn mqtt_url() -> String {
    std::env::var("MICRO_TEST_MQTT").unwrap_or_else(|_| "mqtt://127.0.0.1:1883".to_owned())
}

/// Is an MQTT server reachable? (As [`nats_or_skip`].)
pub fn mqtt_or_skip(test: &str) -> bool {
    let url = mqtt_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = rest.trim_end_matches('/').to_owned();
    reachable_or_skip(test, "MQTT server", &url, &hostport)
}

/// Is a Redis server reachable? (As [`nats_or_skip`].)
pub fn redis_or_skip(test: &str) -> bool {
    let url = redis_url();
    let hostport = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned();
    reachable_or_skip(test, "Redis server", &url, &hostport)
}

/// Is a NATS server reachable? When not: panics if `MICRO_REQUIRE_PEERS=1` (CI), else says
/// the test is skipped and returns false.
pub fn nats_or_skip(test: &str) -> bool {
    let url = nats_url();
    let hostport = url.trim_start_matches("nats://").to_owned();
    reachable_or_skip(test, "NATS server", &url, &hostport)
}

/// The brokers under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// In process.
    Memory,
    /// Subscribers found through a (local, on-disk) registry.
    Http,
    /// Core NATS.
    Nats,
    /// NATS JetStream.
    JetStream,
    /// Redis Streams.
    Redis,
    /// RabbitMQ.
    RabbitMq,
    /// MQTT 5 (Mosquitto).
    Mqtt,
    /// `MICRO_BROKER=service`: through a `micro server` (in a thread of this process, its
    /// own broker in memory), which every broker of a fixture shares.
    Service,
}

impl Engine {
    /// Every engine; the NATS ones only when a server is reachable.
    pub fn all(test: &str) -> Vec<Engine> {
        let mut engines = vec![Engine::Memory, Engine::Http, Engine::Service];
        if nats_or_skip(test) {
            engines.extend([Engine::Nats, Engine::JetStream]);
        }
        if redis_or_skip(test) {
            engines.push(Engine::Redis);
        }
        if rabbitmq_or_skip(test) {
            engines.push(Engine::RabbitMq);
        }
        if mqtt_or_skip(test) {
            engines.push(Engine::Mqtt);
        }
        engines
    }

    /// Does a server hold the messages until a member acknowledges them (JetStream, Redis
    /// Streams, RabbitMQ, MQTT's persistent sessions)? Tests clean up after those.
    pub fn is_durable(self) -> bool {
        matches!(
            self,
            Engine::JetStream | Engine::Redis | Engine::RabbitMq | Engine::Mqtt
        )
    }
}

/// Makes brokers: a fresh one per call (as separate processes would have), sharing what
/// processes share (the registry directory, the NATS server, the process for `memory`).
#[derive(Debug)]
pub struct Fixture {
    /// The registry of the `http` brokers.
    pub registry: SharedRegistry,
    memory: MemoryBroker,
    dir: tempfile::TempDir,
    /// The `micro server` of the `service` brokers, started on first use.
    server: std::sync::OnceLock<String>,
}

impl Fixture {
    /// A fixture with its own registry directory.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let registry: SharedRegistry =
            Arc::new(LocalRegistry::new(dir.path().join("registry")).expect("local registry"));
        Fixture {
            registry,
            memory: MemoryBroker::new(),
            dir,
            server: std::sync::OnceLock::new(),
        }
    }

    /// A broker of `engine`, as a new process would have it.
    pub fn broker(&self, engine: Engine) -> SharedBroker {
        match engine {
            Engine::Memory => Arc::new(self.memory.clone()),
            Engine::Http => {
                let mut options = HttpBrokerOptions::default();
                options.address = "127.0.0.1:0".to_owned();
                Arc::new(HttpBroker::with_options(self.registry.clone(), options))
            }
            Engine::Nats => Arc::new(NatsBroker::new(nats_url(), NatsMode::Core)),
            Engine::JetStream => Arc::new(NatsBroker::new(nats_url(), NatsMode::JetStream)),
            Engine::Redis => Arc::new(
                RedisBroker::new(&redis_url(), Duration::from_secs(5)).expect("redis broker"),
            ),
            Engine::RabbitMq => Arc::new(
                RabbitBroker::new(&rabbitmq_url(), Duration::from_secs(5))
                    .expect("rabbitmq broker"),
            ),
            Engine::Mqtt => Arc::new(
                MqttBroker::new(
                    &mqtt_url(),
                    Duration::from_secs(5),
                    &self.dir.path().join("home"),
                )
                .expect("mqtt broker"),
            ),
            Engine::Service => {
                let address = self.server.get_or_init(platform_server);
                Arc::new(ServiceBroker::new(address).expect("service broker"))
            }
        }
    }
}

/// Start a `micro server` (messages in memory) in a thread that lives as long as the
/// process; its address.
fn platform_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return;
            }
        };
        runtime.block_on(async move {
            let registry = Arc::new(MemoryRegistry::new());
            let (router, closer) = micro::platform::router(
                registry.clone(),
                Arc::new(MemoryBroker::new()),
                Arc::new(MemoryStore::new()),
            );
            let started = match micro::Service::builder(micro::platform::SERVICE)
                .registry(registry)
                .address("127.0.0.1:0")
                .build()
            {
                Ok(service) => service.handler(router).start().await,
                Err(e) => Err(e),
            };
            match started {
                Ok(running) => {
                    let _ = tx.send(Ok(running.node().address.clone()));
                    // Serve until the process ends.
                    std::future::pending::<()>().await;
                    drop((running, closer));
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        });
    });
    match rx.recv() {
        Ok(Ok(address)) => address,
        Ok(Err(e)) => panic!("micro server for the service broker did not start: {e}"),
        Err(_) => panic!("micro server for the service broker did not start"),
    }
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

/// A topic no other test or run uses.
pub fn unique_topic(prefix: &str) -> String {
    format!("test.{prefix}.{:016x}", fastrand_u64())
}

fn fastrand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Records the bodies a subscription handled, and how often.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Recorder {
    /// A handler that records each body (as text) and acknowledges.
    pub fn handler(&self) -> Handler {
        let seen = self.seen.clone();
        handler(move |event: Event| {
            let body = String::from_utf8_lossy(&event.message().body).into_owned();
            *seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(body)
                .or_default() += 1;
            async { Ok(()) }
        })
    }

    /// Messages handled, duplicates included.
    pub fn total(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Distinct messages handled.
    pub fn distinct(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// How often each body was handled.
    pub fn counts(&self) -> HashMap<String, usize> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Wait until `done` holds, at most `limit`; returns whether it did.
pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

/// Wait until the registry lists `n` http-broker subscriptions of `topic`.
pub async fn wait_for_http_subscribers(registry: &SharedRegistry, topic: &str, n: usize) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let found = registry
            .get_service(micro::broker::HTTP_BROKER_SERVICE)
            .await
            .map(|services| {
                services
                    .iter()
                    .flat_map(|s| &s.nodes)
                    .filter(|node| node.metadata.get("topic").map(String::as_str) == Some(topic))
                    .count()
            })
            .unwrap_or(0);
        if found >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} subscribers of {topic} did not appear in the registry");
}

/// The queue groups the broker tests use (their RabbitMQ queues are deleted after a test).
pub const TEST_GROUPS: [&str; 7] = [
    "svc-a",
    "svc-b",
    "dlq",
    "worker",
    "shop",
    "crash-test",
    "bench",
];

/// Delete the JetStream streams, the Redis stream and the RabbitMQ queues micro created for
/// `topic` (tests clean up after themselves).
pub async fn delete_streams(topic: &str) {
    if let Ok(connection) =
        lapin::Connection::connect(&rabbitmq_url(), lapin::ConnectionProperties::default()).await
    {
        if let Ok(channel) = connection.create_channel().await {
            for group in TEST_GROUPS {
                let _ = channel
                    .queue_delete(
                        format!("micro.{topic}.{group}").as_str().into(),
                        lapin::options::QueueDeleteOptions::default(),
                    )
                    .await;
            }
        }
        let _ = connection.close(200, "done".into()).await;
    }
    if let Ok(client) = redis::Client::open(redis_url())
        && let Ok(mut con) = client.get_multiplexed_async_connection().await
    {
        let _: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(format!("micro:topic:{topic}"))
            .query_async(&mut con)
            .await;
    }
    let Ok(client) = async_nats::connect(nats_url()).await else {
        return;
    };
    let js = async_nats::jetstream::new(client);
    if let Ok(name) = js.stream_by_subject(topic).await {
        let _ = js.delete_stream(&name).await;
    }
}

/// Publish `bodies` on `topic`, up to `in_flight` at once.
pub async fn publish_all(
    broker: &dyn Broker,
    topic: &str,
    bodies: impl IntoIterator<Item = String>,
    in_flight: usize,
) -> micro::Result<()> {
    use futures_util::StreamExt;
    let results: Vec<micro::Result<()>> = futures_util::stream::iter(bodies)
        .map(|body| broker.publish(topic, micro::broker::Envelope::new(body)))
        .buffer_unordered(in_flight.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Wait (up to `limit`) until something listens on `127.0.0.1:port`.
pub fn listening(port: u16, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A server process of a test's own (killed when dropped).
#[derive(Debug)]
pub struct OwnServer {
    /// The process.
    pub child: std::process::Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a Mosquitto of the test's own on `port`, configured as micro's README says for at
/// least once: persistent sessions kept in `dir` (as root it stays root, to write there), no limit on the messages queued for a
/// member that is away (Mosquitto drops those past 1000 by default). `None` when mosquitto
/// is not installed.
pub fn start_mosquitto(dir: &std::path::Path, port: u16) -> Option<std::process::Child> {
    let conf = dir.join("mosquitto.conf");
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 0\nlog_dest file {}/mosquitto.log\nuser root\n",
            dir.display(),
            dir.display()
        ),
    )
    .ok()?;
    let binary = if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    };
    std::process::Command::new(binary)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// [`start_mosquitto`], waited for; `None` when mosquitto is not installed (a failure when
/// `MICRO_REQUIRE_PEERS=1`).
pub fn own_mosquitto(dir: &std::path::Path, port: u16) -> Option<OwnServer> {
    let Some(child) = start_mosquitto(dir, port) else {
        assert!(
            !std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1"),
            "mosquitto is not installed, and MICRO_REQUIRE_PEERS=1"
        );
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: mosquitto is not installed");
        }
        return None;
    };
    let server = OwnServer { child, port };
    assert!(
        listening(port, Duration::from_secs(10)),
        "our mosquitto did not start on {port}"
    );
    Some(server)
}
