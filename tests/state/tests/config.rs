//! Config from files, the environment and a store record: typed reads, errors that name
//! the file, line and column or the source, live changes through `watch`, and secrets.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use micro::config::Config;
use micro::store::Record;
use state_tests::{Engine, fresh};

/// The next change of `watcher`, within 10 s (the contract is 1 s; the margin is for a busy
/// machine), and how long it took (printed: `--nocapture` shows the figures).
async fn next_change(watcher: &mut micro::config::Watcher) -> (serde_json::Value, Duration) {
    let started = Instant::now();
    let value = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .expect("no change within 10 s")
        .unwrap();
    let took = started.elapsed();
    #[allow(clippy::print_stderr)]
    {
        eprintln!("config change reached watch in {took:?}");
    }
    (value, took)
}

/// Replace `path` the way deploy tools do: write a sibling, then rename it over.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn a_file_change_reaches_watch_and_a_bad_file_keeps_the_last_good_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.yaml");
    std::fs::write(&path, "database:\n  host: a\n  port: 5432\n").unwrap();
    let config = Config::builder().file(&path).build().await.unwrap();
    assert_eq!(config.get::<u16>("database.port").unwrap(), 5432);
    let mut watcher = config.watch("database.host");

    replace(&path, "database:\n  host: b\n  port: 5432\n");
    let (value, took) = next_change(&mut watcher).await;
    assert_eq!(value, "b");
    assert!(took < Duration::from_secs(10), "{took:?}");

    // A broken file is reported and changes nothing.
    std::fs::write(&path, "database:\n  host: [c\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while config.last_error().is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error = config.last_error().expect("the bad file was not reported");
    assert!(error.contains("app.yaml:"), "{error}");
    assert_eq!(config.get::<String>("database.host").unwrap(), "b");

    // Fixed again: the change comes through.
    replace(&path, "database:\n  host: d\n  port: 5432\n");
    assert_eq!(next_change(&mut watcher).await.0, "d");
    assert!(config.last_error().is_none());
}

#[tokio::test]
async fn a_bad_file_at_start_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        ("bad.yaml", "a: 1\nb:\n  - x\n  y: 2\n", ":4:"),
        ("bad.json", "{\n  \"a\": 1,\n  \"b\": nope\n}", ":3:"),
        ("bad.toml", "a = 1\n\n[b\n", ":3:"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = Config::builder().file(&path).build().await.unwrap_err();
        let want = format!("config file {}{line}", path.display());
        assert!(e.detail().starts_with(&want), "want {want}, got {e}");
    }
    let e = Config::builder()
        .file(dir.path().join("missing.toml"))
        .build()
        .await
        .unwrap_err();
    assert!(e.detail().contains("missing.toml"), "{e}");
}

#[tokio::test]
async fn sources_merge_in_order_and_errors_name_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    let over = dir.path().join("over.json");
    std::fs::write(
        &base,
        "[server]\nport = 8080\nname = \"base\"\n[pool]\nsize = 4\n",
    )
    .unwrap();
    std::fs::write(&over, r#"{"server": {"port": "eighty"}}"#).unwrap();
    let config = Config::builder()
        .defaults(serde_json::json!({"server": {"port": 1, "debug": false}}))
        .file(&base)
        .file(&over)
        .set("pool.size", 16)
        .args(["--server.name=flag", "--pool.size", "32"])
        .unwrap()
        .build()
        .await
        .unwrap();
    assert_eq!(config.get::<String>("server.name").unwrap(), "flag");
    assert_eq!(config.source_of("server.name").as_deref(), Some("flags"));
    assert!(!config.get::<bool>("server.debug").unwrap());
    assert_eq!(config.get::<u32>("pool.size").unwrap(), 32);
    assert!(Config::builder().args(["stray"]).is_err());
    assert!(Config::builder().args(["--a..b=1"]).is_err());
    let e = config.get::<u16>("server.port").unwrap_err();
    assert!(e.detail().contains("\"server.port\""), "{e}");
    assert!(
        e.detail().contains("over.json"),
        "names the file that gave it: {e}"
    );
    let missing = config.get::<u16>("server.tls.port").unwrap_err();
    assert!(missing.detail().contains("SERVER_TLS_PORT"), "{missing}");
    assert_eq!(config.get_or("server.threads", 2u8).unwrap(), 2);
}

#[tokio::test]
async fn secrets_never_show_in_dump_or_debug() {
    let config = Config::builder()
        .defaults(serde_json::json!({"db": {"user": "app", "password": "hunter2"}}))
        .secret("db.password")
        .build()
        .await
        .unwrap();
    assert_eq!(config.get::<String>("db.password").unwrap(), "hunter2");
    let dump = config.dump().to_string();
    assert!(!dump.contains("hunter2") && dump.contains("app"), "{dump}");
    assert!(!format!("{config:?}").contains("hunter2"));
    assert!(config.is_secret("db.password"));
}

#[tokio::test]
async fn a_store_record_is_a_live_remote_source() {
    if !Engine::Redis.available("a_store_record_is_a_live_remote_source") {
        return;
    }
    let (store, _dir) = fresh(Engine::Redis, "config_remote").await.unwrap();
    store
        .put("greeter", &serde_json::json!({"greeting": "hello"}))
        .await
        .unwrap();
    let config = Config::builder()
        .defaults(serde_json::json!({"greeting": "hi", "times": 1}))
        .store(store.clone(), "greeter")
        .build()
        .await
        .unwrap();
    assert_eq!(config.get::<String>("greeting").unwrap(), "hello");
    assert!(
        config
            .source_of("greeting")
            .unwrap()
            .contains("redis store record")
    );
    let mut watcher = config.watch("greeting");
    store
        .write(Record::encode("greeter", &serde_json::json!({"greeting": "bonjour"})).unwrap())
        .await
        .unwrap();
    assert_eq!(next_change(&mut watcher).await.0, "bonjour");
    assert_eq!(config.get::<u32>("times").unwrap(), 1);
    store.delete("greeter").await.unwrap();
}

#[tokio::test]
async fn a_service_reads_its_config_files_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("svc.yaml");
    std::fs::write(&path, "greeting: hello\nlimits:\n  rps: 10\n").unwrap();
    let service = micro::Service::builder("configured")
        .ignore_env()
        .flags(["--config_file", path.to_str().unwrap(), "--store", "memory"])
        .build()
        .unwrap();
    let config = service.config().await.unwrap();
    assert_eq!(config.get::<String>("greeting").unwrap(), "hello");
    assert_eq!(config.get::<u32>("limits.rps").unwrap(), 10);
    // The same handle each time.
    assert_eq!(
        service
            .config()
            .await
            .unwrap()
            .get::<u32>("limits.rps")
            .unwrap(),
        10
    );
    assert_eq!(service.store().scope().table, "configured");
}
