//! The server brokers (Redis Streams, RabbitMQ) given bad input or no server: each a clear
//! error naming the engine and the address, never a hang; and a subscriber that keeps failing
//! never holds up another group or topic.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use broker_tests::{Engine, Fixture, Recorder, delete_streams, unique_topic, wait_until};
use micro::broker::{
    Broker, Envelope, RabbitBroker, RedisBroker, SharedBroker, SubscribeOptions, handler,
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
