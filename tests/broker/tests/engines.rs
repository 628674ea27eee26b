//! The server brokers (NATS, Redis Streams, RabbitMQ, MQTT) given bad input or no server:
//! each a clear error naming the engine and the address, never a hang; and a subscriber that
//! keeps failing never holds up another group or topic.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use broker_tests::{
    Engine, Fixture, Recorder, delete_streams, mqtt_url, nats_or_skip, nats_url, rabbitmq_url,
    redis_url, unique_topic, wait_until,
};
use micro::broker::{
    Broker, Envelope, MqttBroker, NatsBroker, NatsMode, RabbitBroker, RedisBroker, SharedBroker,
    SubscribeOptions, handler,
};

/// A port nothing listens on.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_naming_engine_and_address() {
    let port = dead_port();
    let home = tempfile::tempdir().unwrap();
    let timeout = Duration::from_secs(2);
    let cases: Vec<(SharedBroker, String)> = vec![
        (
            Arc::new(RedisBroker::new(&format!("redis://127.0.0.1:{port}"), timeout).unwrap()),
            format!("redis broker at redis://127.0.0.1:{port}"),
        ),
        (
            Arc::new(
                RabbitBroker::new(
                    &format!("amqp://guest:secret@127.0.0.1:{port}/%2f"),
                    timeout,
                )
                .unwrap(),
            ),
            format!("rabbitmq broker at amqp://guest:***@127.0.0.1:{port}/%2f"),
        ),
        (
            Arc::new(
                MqttBroker::new(
                    &format!("mqtt://user:secret@127.0.0.1:{port}"),
                    timeout,
                    home.path(),
                )
                .unwrap(),
            ),
            format!("mqtt broker at mqtt://user:***@127.0.0.1:{port}"),
        ),
    ];
    for (broker, named) in cases {
        let started = Instant::now();
        let e = broker
            .publish("orders", Envelope::new("x"))
            .await
            .unwrap_err();
        assert!(e.detail().contains(&named), "{named}: {e}");
        assert!(
            !e.detail().contains("secret"),
            "the password stays out: {e}"
        );
        assert_eq!(e.code(), 503, "{e}");
        let e = broker
            .subscribe(
                "orders",
                Recorder::default().handler(),
                SubscribeOptions::queue("q"),
            )
            .await
            .unwrap_err();
        assert!(e.detail().contains(&named), "{named}: {e}");
        assert!(broker.connect().await.is_err());
        assert!(started.elapsed() < Duration::from_secs(30), "{named} hung");
    }
}

#[tokio::test]
async fn mqtt_wildcards_and_slashes_in_a_topic_are_refused_naming_why() {
    let home = tempfile::tempdir().unwrap();
    // No server needed: the topic is refused before anything is sent.
    let broker = MqttBroker::new(&mqtt_url(), Duration::from_secs(2), home.path()).unwrap();
    for topic in ["orders.+", "orders.#"] {
        let e = broker.publish(topic, Envelope::new("x")).await.unwrap_err();
        assert_eq!(e.code(), 400, "{e}");
        assert!(e.detail().contains("wildcard"), "{topic}: {e}");
        let e = broker
            .subscribe(
                topic,
                Recorder::default().handler(),
                SubscribeOptions::queue("q"),
            )
            .await
            .unwrap_err();
        assert!(e.detail().contains("wildcard"), "{topic}: {e}");
    }
    let e = broker
        .publish("orders/created", Envelope::new("x"))
        .await
        .unwrap_err();
    assert!(e.detail().contains("use dots"), "{e}");
    let e = MqttBroker::new("mqtts://h:8883", Duration::from_secs(1), home.path()).unwrap_err();
    assert!(e.detail().contains("mqtts"), "{e}");
}

/// Publishes a message of `bytes` and expects a 413 naming `named` and the limit.
async fn refused_as_too_large(broker: &dyn Broker, bytes: usize, named: &str, limit: &str) {
    let topic = unique_topic("large");
    let e = broker
        .publish(&topic, Envelope::new(vec![b'x'; bytes]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 413, "{named}: {e}");
    assert!(e.detail().contains(named), "{named}: {e}");
    assert!(
        e.detail().contains(limit),
        "{named}: the limit {limit}: {e}"
    );
    // The broker goes on: a small message right after is fine.
    broker
        .publish(&topic, Envelope::new("small"))
        .await
        .unwrap_or_else(|e| panic!("{named}: a small message after a large one: {e}"));
    delete_streams(&topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_engines_limit_is_a_clear_error_and_the_next_one_goes_through() {
    let engines = Engine::all("size limits");
    let has = |e: Engine| engines.contains(&e);
    if nats_or_skip("size limits") {
        // The server's own limit (max_payload, 1 MiB by default).
        for mode in [NatsMode::Core, NatsMode::JetStream] {
            let broker = NatsBroker::new(nats_url(), mode);
            refused_as_too_large(&broker, 2 << 20, "publishing to", "payload").await;
        }
    }
    let timeout = Duration::from_secs(5);
    let home = tempfile::tempdir().unwrap();
    // Client-side limits, set low here; their defaults are each server's own limit (Redis
    // 512 MiB, RabbitMQ 4's 16 MiB) or 16 MiB (MQTT).
    if has(Engine::Redis) {
        let broker = RedisBroker::new(&redis_url(), timeout)
            .unwrap()
            .with_max_message_size(64 << 10);
        refused_as_too_large(&broker, 65 << 10, "redis broker at", "65536 bytes").await;
    }
    if has(Engine::RabbitMq) {
        let broker = RabbitBroker::new(&rabbitmq_url(), timeout)
            .unwrap()
            .with_max_message_size(64 << 10);
        refused_as_too_large(&broker, 65 << 10, "rabbitmq broker at", "65536 bytes").await;
    }
    if has(Engine::Mqtt) {
        let broker = MqttBroker::new(&mqtt_url(), timeout, home.path()).unwrap();
        refused_as_too_large(&broker, 17 << 20, "mqtt broker at", "16777216 bytes").await;
    }
    // The service broker: what fits one call of the transport's 4 MiB, in base64.
    let fixture = Fixture::new();
    let broker = fixture.broker(Engine::Service);
    let limit = micro::platform::MAX_MESSAGE.to_string();
    refused_as_too_large(&*broker, 3 << 20, "service broker at", &limit).await;
}

#[tokio::test]
async fn names_the_engine_cannot_carry_are_refused() {
    let broker = RabbitBroker::new("amqp://127.0.0.1:5672/%2f", Duration::from_secs(1)).unwrap();
    let long = format!("t.{}", "x".repeat(300));
    let e = broker.publish(&long, Envelope::new("x")).await.unwrap_err();
    assert_eq!(e.code(), 400, "{e}");
    assert!(e.detail().contains("255"), "{e}");
    let e = RabbitBroker::new("http://not-amqp", Duration::from_secs(1));
    assert!(e.is_err());
    let e = RedisBroker::new("not a url", Duration::from_secs(1)).unwrap_err();
    assert!(e.detail().contains("not a Redis URL"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_keeps_failing_holds_up_no_other_group_or_topic() {
    for engine in Engine::all("failing subscriber") {
        if !engine.is_durable() {
            continue;
        }
        let fixture = Fixture::new();
        let broker = fixture.broker(engine);
        let topic = unique_topic("stuck");
        let other_topic = unique_topic("other");
        let failing = broker
            .subscribe(
                &topic,
                handler(|_| async { Err(micro::Error::internal("test", "always fails")) }),
                SubscribeOptions::queue("svc-a").retry_backoff(Duration::from_millis(200)),
            )
            .await
            .unwrap();
        let (b, c) = (Recorder::default(), Recorder::default());
        let sb = broker
            .subscribe(&topic, b.handler(), SubscribeOptions::queue("svc-b"))
            .await
            .unwrap();
        let sc = broker
            .subscribe(&other_topic, c.handler(), SubscribeOptions::queue("svc-b"))
            .await
            .unwrap();
        for i in 0..50 {
            broker
                .publish(&topic, Envelope::new(format!("m{i}")))
                .await
                .unwrap();
            broker
                .publish(&other_topic, Envelope::new(format!("o{i}")))
                .await
                .unwrap();
        }
        let done = wait_until(Duration::from_secs(20), || {
            b.distinct() == 50 && c.distinct() == 50
        })
        .await;
        assert!(
            done,
            "{engine:?}: group b {} / other topic {}",
            b.distinct(),
            c.distinct()
        );
        assert!(failing.stats().nacked > 0, "{engine:?}");
        failing.unsubscribe().await;
        sb.unsubscribe().await;
        sc.unsubscribe().await;
        delete_streams(&topic).await;
        delete_streams(&other_topic).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_metadata_travel_through_every_server_broker() {
    for engine in Engine::all("headers") {
        if !engine.is_durable() {
            continue;
        }
        let fixture = Fixture::new();
        let broker = fixture.broker(engine);
        let topic = unique_topic("headers");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let sub = broker
            .subscribe(
                &topic,
                handler(move |event| {
                    let _ = tx.send(event.message().clone());
                    async { Ok(()) }
                }),
                SubscribeOptions::queue("svc-a"),
            )
            .await
            .unwrap();
        let body: Vec<u8> = (0..=255u8).collect();
        broker
            .publish(
                &topic,
                Envelope::new(body.clone())
                    .with_header("content-type", "application/octet-stream")
                    .with_header("x-request-id", "r-1 ü"),
            )
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("delivered")
            .unwrap();
        assert_eq!(got.body, body, "{engine:?}");
        assert_eq!(got.headers.get("x-request-id"), Some("r-1 ü"), "{engine:?}");
        assert_eq!(
            got.content_type(),
            Some("application/octet-stream"),
            "{engine:?}"
        );
        assert_eq!(got.topic(), Some(topic.as_str()), "{engine:?}");
        assert_eq!(got.id().map(str::len), Some(32), "{engine:?}");
        assert!(got.timestamp().is_some(), "{engine:?}");
        sub.unsubscribe().await;
        delete_streams(&topic).await;
    }
}
