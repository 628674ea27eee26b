//! The service broker of `micro server`: what holds between the server and its subscribers.
//! A subscription is confirmed before any message reaches it, even while the topic is
//! busy; a subscriber that stops taking messages holds up neither publishers nor other
//! groups, and is cut off once its backlog on the server is full.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use broker_tests::{Engine, Fixture, Recorder, unique_topic, wait_until};
use micro::broker::{Envelope, SubscribeOptions, handler};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_confirmed_while_the_topic_is_busy() {
    let fixture = Fixture::new();
    let broker = fixture.broker(Engine::Service);
    let topic = unique_topic("busy");
    // A publisher that never pauses.
    let publisher = {
        let broker = fixture.broker(Engine::Service);
        let topic = topic.clone();
        tokio::spawn(async move {
            let mut sent = 0u64;
            loop {
                if broker
                    .publish(&topic, Envelope::new(format!("m{sent}")))
                    .await
                    .is_ok()
                {
                    sent += 1;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    for i in 0..20 {
        let recorder = Recorder::default();
        let sub = broker
            .subscribe(
                &topic,
                recorder.handler(),
                SubscribeOptions::queue(format!("g{i}")),
            )
            .await
            .unwrap_or_else(|e| panic!("subscription {i} while publishing: {e}"));
        assert!(
            wait_until(Duration::from_secs(20), || recorder.total() > 0).await,
            "subscription {i} got nothing"
        );
        sub.unsubscribe().await;
    }
    publisher.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_subscriber_holds_up_no_publisher_and_no_other_group() {
    let fixture = Fixture::new();
    let broker = fixture.broker(Engine::Service);
    let topic = unique_topic("stuck");
    // Group "stuck": a handler that never returns, with a small buffer in its process.
    let entered = Arc::new(AtomicUsize::new(0));
    let seen = entered.clone();
    let stuck = broker
        .subscribe(
            &topic,
            handler(move |_| {
                seen.fetch_add(1, Ordering::Relaxed);
                std::future::pending()
            }),
            SubscribeOptions::queue("stuck")
                .buffer(8)
                .handler_timeout(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    let healthy = Recorder::default();
    let fine = broker
        .subscribe(
            &topic,
            healthy.handler(),
            SubscribeOptions::queue("healthy"),
        )
        .await
        .unwrap();
    // More than the server keeps for one subscriber (1,024 messages), then some.
    let n = micro::platform::SUBSCRIBER_QUEUE * 2 + 500;
    let publisher = fixture.broker(Engine::Service);
    for i in 0..n {
        tokio::time::timeout(
            Duration::from_secs(30),
            publisher.publish(&topic, Envelope::new(format!("m{i}"))),
        )
        .await
        .unwrap_or_else(|_| panic!("publish {i} waited on the stuck subscriber"))
        .unwrap_or_else(|e| panic!("publish {i}: {e}"));
    }
    assert!(
        wait_until(Duration::from_secs(60), || healthy.distinct() == n).await,
        "the healthy group got {} of {n}",
        healthy.distinct()
    );
    assert_eq!(healthy.total(), n, "no duplicates in the healthy group");
    assert!(
        entered.load(Ordering::Relaxed) >= 1,
        "the stuck handler never ran"
    );
    drop(stuck);
    fine.unsubscribe().await;
}
