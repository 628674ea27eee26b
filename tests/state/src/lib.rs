//! Shared by the state tests, the worker process and the benchmark: one store per engine on
//! the machine's real servers, and a fresh table per test.

use std::time::Duration;

use micro::broker::MemoryBroker;
use micro::platform::ServiceStore;
use micro::registry::MemoryRegistry;
use micro::store::{
    FileStore, MemoryStore, NatsStore, PostgresStore, RedisStore, SharedStore, Store, Table,
};

/// The Redis the tests use (`MICRO_TEST_REDIS`, default `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("MICRO_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The PostgreSQL the tests use (`MICRO_TEST_POSTGRES`, default database `test` on
/// 127.0.0.1:5432).
pub fn postgres_url() -> String {
    std::env::var("MICRO_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The NATS server the tests use (`MICRO_TEST_NATS`, default `nats://127.0.0.1:4222`).
pub fn nats_url() -> String {
    std::env::var("MICRO_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The store engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// In process.
    Memory,
    /// redb files in a temporary directory.
    File,
    /// The Redis server.
    Redis,
    /// The PostgreSQL server.
    Postgres,
    /// NATS JetStream key-value.
    Nats,
    /// `MICRO_STORE=service`: a `micro server` of its own (in a thread of this process,
    /// on 127.0.0.1, keeping records in files), reached through its store service.
    Service,
}

impl Engine {
    /// Every engine.
    pub const ALL: [Engine; 6] = [
        Engine::Memory,
        Engine::File,
        Engine::Redis,
        Engine::Postgres,
        Engine::Nats,
        Engine::Service,
    ];

    /// The host:port of the engine's server, if it has one.
    pub fn server(self) -> Option<String> {
        let url = match self {
            Engine::Memory | Engine::File | Engine::Service => return None,
            Engine::Redis => redis_url(),
            Engine::Postgres => postgres_url(),
            Engine::Nats => nats_url(),
        };
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        Some(rest.split('/').next().unwrap_or(rest).to_owned())
    }

    /// Whether the engine's server answers; when not: panics under `MICRO_REQUIRE_PEERS=1`
    /// (CI), else says the test is skipped.
    pub fn available(self, test: &str) -> bool {
        let Some(server) = self.server() else {
            return true;
        };
        let up = std::net::ToSocketAddrs::to_socket_addrs(&server)
            .ok()
            .and_then(|mut a| a.next())
            .is_some_and(|addr| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
            });
        if up {
            return true;
        }
        if std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
            panic!(
                "{test}: no {self:?} server at {server}, and MICRO_REQUIRE_PEERS=1 (scripts/test.sh starts one)"
            );
        }
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped {test}: no {self:?} server at {server}");
        }
        false
    }

    /// The engine, its files (for `File`) under `dir`.
    pub fn engine(self, dir: &std::path::Path) -> micro::Result<SharedStore> {
        let timeout = Duration::from_secs(10);
        Ok(match self {
            Engine::Memory => std::sync::Arc::new(MemoryStore::new()),
            Engine::File => std::sync::Arc::new(FileStore::new(dir.join("store"))?),
            Engine::Redis => std::sync::Arc::new(RedisStore::new(&redis_url(), timeout)?),
            Engine::Postgres => std::sync::Arc::new(PostgresStore::new(&postgres_url(), timeout)?),
            Engine::Nats => std::sync::Arc::new(NatsStore::new(&nats_url(), timeout)),
            Engine::Service => {
                let address = platform_server(dir.join("server"))?;
                std::sync::Arc::new(ServiceStore::with_token(&address, timeout, None)?)
            }
        })
    }
}

/// Start a `micro server` (its store in files under `dir`) in a thread of its own that
/// lives as long as the process; its address.
fn platform_server(dir: std::path::PathBuf) -> micro::Result<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = tx.send(Err(micro::Error::internal("test", e.to_string())));
                return;
            }
        };
        runtime.block_on(async move {
            let started = async {
                let store: SharedStore = std::sync::Arc::new(FileStore::new(dir)?);
                let registry = std::sync::Arc::new(MemoryRegistry::new());
                let (router, closer) = micro::platform::router(
                    registry.clone(),
                    std::sync::Arc::new(MemoryBroker::new()),
                    store,
                );
                let running = micro::Service::builder(micro::platform::SERVICE)
                    .registry(registry)
                    .address("127.0.0.1:0")
                    .build()?
                    .handler(router)
                    .start()
                    .await?;
                Ok::<_, micro::Error>((running, closer))
            };
            match started.await {
                Ok((running, closer)) => {
                    let _ = tx.send(Ok(running.node().address.clone()));
                    // Serve until the process ends.
                    std::future::pending::<()>().await;
                    drop((running, closer));
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    rx.recv()
        .map_err(|e| micro::Error::internal("test", e.to_string()))?
}

/// Remove every key of `store`'s table, so a test starts empty and runs leave nothing
/// behind on the servers but empty tables.
pub async fn clear(store: &Store) -> micro::Result<()> {
    let keys = store.list(micro::store::ListOptions::default()).await?;
    for chunk in keys.chunks(64) {
        for result in futures_util::future::join_all(chunk.iter().map(|k| store.delete(k))).await {
            result?;
        }
    }
    Ok(())
}

/// A store on `engine` with the table `test` (in database `state_tests`) emptied, and the
/// directory that must outlive it.
pub async fn fresh(engine: Engine, test: &str) -> micro::Result<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().map_err(|e| micro::Error::internal("test", e.to_string()))?;
    let store = Store::with_table(engine.engine(dir.path())?, Table::new("state_tests", test)?)?;
    clear(&store).await?;
    Ok((store, dir))
}
