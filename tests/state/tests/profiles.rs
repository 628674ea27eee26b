//! `MICRO_PROFILE=nats`: registry, broker, store and config of a service all on one NATS
//! server, from one setting.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use micro::config;
use state_tests::{Engine, nats_url};

#[tokio::test]
async fn the_nats_profile_puts_registry_broker_store_and_config_on_nats() {
    if !Engine::Nats.available("the_nats_profile_puts_registry_broker_store_and_config_on_nats") {
        return;
    }
    let service = micro::Service::builder("state_profiled")
        .ignore_env()
        .flags(["--profile", "nats", "--nats_address", &nats_url()])
        .build()
        .unwrap();
    assert_eq!(service.registry().name(), "nats");
    assert_eq!(service.broker().name(), "jetstream");
    let store = service.store();
    assert_eq!(store.engine_name(), "nats");
    store.put("greeting", "hello").await.unwrap();
    assert_eq!(
        store.get::<String>("greeting").await.unwrap().as_deref(),
        Some("hello")
    );
    store.delete("greeting").await.unwrap();

    // Config: what `micro config set --service state_profiled` writes reaches the service,
    // and a later change reaches its watch.
    let records = service.settings().config_store().unwrap();
    assert_eq!(records.engine_name(), "nats");
    let _ = config::del_remote(&records, "state_profiled", "greeting").await;
    config::set_remote(&records, "state_profiled", "greeting", "hi".into())
        .await
        .unwrap();
    let config = service.config().await.unwrap();
    assert_eq!(config.get::<String>("greeting").unwrap(), "hi");
    assert!(
        config
            .source_of("greeting")
            .unwrap()
            .contains("nats store record")
    );
    let mut watcher = config.watch("greeting");
    config::set_remote(&records, "state_profiled", "greeting", "bonjour".into())
        .await
        .unwrap();
    let changed = tokio::time::timeout(Duration::from_secs(10), watcher.next())
        .await
        .expect("the change did not reach watch within 10 s");
    assert_eq!(changed.unwrap(), "bonjour");
    assert!(
        config::del_remote(&records, "state_profiled", "greeting")
            .await
            .unwrap()
    );
}
