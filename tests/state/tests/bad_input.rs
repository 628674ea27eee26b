//! Bad settings and broken engines: each a clear error naming the engine and the address or
//! path, never a panic or a hang.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use micro::Settings;
use micro::store::{
    FileStore, NatsStore, PostgresStore, Record, RedisStore, SharedStore, Store, Table,
};

fn store(engine: SharedStore) -> Store {
    Store::with_table(engine, Table::new("state_tests", "bad").unwrap()).unwrap()
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn unreachable_servers_are_named_in_the_error() {
    let port = dead_port();
    let timeout = Duration::from_secs(2);
    let cases: Vec<(SharedStore, String)> = vec![
        (
            std::sync::Arc::new(
                RedisStore::new(&format!("redis://127.0.0.1:{port}"), timeout).unwrap(),
            ),
            format!("redis store at redis://127.0.0.1:{port}"),
        ),
        (
            std::sync::Arc::new(
                PostgresStore::new(
                    &format!("postgres://postgres@127.0.0.1:{port}/test"),
                    timeout,
                )
                .unwrap(),
            ),
            format!("postgres store at postgres://postgres@127.0.0.1:{port}/test"),
        ),
        (
            std::sync::Arc::new(NatsStore::new(&format!("nats://127.0.0.1:{port}"), timeout)),
            format!("nats store at nats://127.0.0.1:{port}"),
        ),
    ];
    for (engine, named) in cases {
        let store = store(engine);
        let started = std::time::Instant::now();
        let e = store.write(Record::new("k", "v")).await.unwrap_err();
        assert!(e.detail().contains(&named), "{named}: {e}");
        assert!(e.detail().contains("connect"), "{e}");
        assert_eq!(e.code(), 503, "{e}");
        assert!(started.elapsed() < Duration::from_secs(30), "{named} hung");
    }
}

#[test]
fn bad_addresses_and_names_fail_at_build() {
    let e = RedisStore::new("not a url", Duration::from_secs(1)).unwrap_err();
    assert!(e.detail().contains("not a Redis URL"), "{e}");
    let e = PostgresStore::new("postgres://[::1", Duration::from_secs(1)).unwrap_err();
    assert!(e.detail().contains("not a PostgreSQL URL"), "{e}");
    let e = Table::new("db", "").unwrap_err();
    assert!(e.detail().contains("table name is empty"), "{e}");
    let e = Table::new("x".repeat(64), "t").unwrap_err();
    assert!(e.detail().contains("limit is 63"), "{e}");
    let e = Table::new("db", "tab\nle").unwrap_err();
    assert!(e.detail().contains("control character"), "{e}");
    let mut settings = Settings::default();
    let e = settings
        .apply_env(|k| (k == "MICRO_STORE").then(|| "cassandra".to_owned()))
        .unwrap_err();
    assert!(
        e.detail().contains("MICRO_STORE") && e.detail().contains("file"),
        "{e}"
    );
    let mut settings = Settings::default();
    let e = settings
        .apply_env(|k| (k == "MICRO_PROFILE").then(|| "cloud".to_owned()))
        .unwrap_err();
    assert!(e.detail().contains("local and nats"), "{e}");
}

#[tokio::test]
async fn a_corrupt_file_store_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::new(dir.path()).unwrap();
    let path = files.path_of("state_tests");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let store = store(std::sync::Arc::new(files));
    let e = store.read_one("k").await.unwrap_err();
    assert!(e.detail().contains(&path.display().to_string()), "{e}");
    assert!(e.detail().contains("file store"), "{e}");
    // Writes fail the same way and leave the file as it was.
    assert!(store.write(Record::new("k", "v")).await.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 64 * 1024]);
}

#[test]
fn database_names_become_safe_file_names() {
    let files = FileStore::new(tempfile::tempdir().unwrap().path()).unwrap();
    let name = files.path_of("../../etc/passwd");
    assert_eq!(name.parent(), Some(files.dir()));
    assert!(!name.file_name().unwrap().to_str().unwrap().contains('/'));
    assert_ne!(files.path_of("a/b"), files.path_of("a%2Fb"));
}

#[test]
fn profiles_switch_registry_broker_and_store_together() {
    let mut settings = Settings::default();
    settings
        .apply_env(|k| match k {
            "MICRO_PROFILE" => Some("nats".into()),
            "MICRO_NATS_ADDRESS" => Some("nats://10.0.0.1:4222".into()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (
            settings.registry.as_str(),
            settings.broker.as_str(),
            settings.store.as_str()
        ),
        ("nats", "jetstream", "nats")
    );
    assert_eq!(
        settings.store_address.as_deref(),
        Some("nats://10.0.0.1:4222")
    );
    // An explicit setting still wins over the profile.
    let mut settings = Settings::default();
    settings
        .apply_env(|k| match k {
            "MICRO_PROFILE" => Some("nats".into()),
            "MICRO_STORE" => Some("redis".into()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (settings.registry.as_str(), settings.store.as_str()),
        ("nats", "redis")
    );
}
