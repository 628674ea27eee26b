//! When settling goes wrong: a dead letter that cannot be published is not lost, and a
//! handler that never returns does not stall its subscription.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use broker_tests::{
    Engine, Fixture, delete_streams, nats_or_skip, nats_url, unique_topic, wait_until,
};
use micro::broker::{Envelope, Event, SubscribeOptions, handler};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_that_cannot_be_published_is_not_lost() {
    if !nats_or_skip("dead letters that fail") {
        return;
    }
    let topic = unique_topic("dlfail");
    let dead_topic = format!("{topic}.dead");
    // The dead-letter topic is held by a stream that is full and refuses new messages.
    let js = jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let blocker = format!("BLOCK_{}", topic.replace('.', "_"));
    let mut full = js
        .create_stream(stream::Config {
            name: blocker.clone(),
            subjects: vec![dead_topic.clone()],
            max_messages: 1,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        })
        .await
        .unwrap();
    js.publish(dead_topic.clone(), "filler".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let fixture = Fixture::new();
    let broker = fixture.broker(Engine::JetStream);
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    let sub = broker
        .subscribe(
            &topic,
            handler(move |_event: Event| {
                seen.fetch_add(1, Ordering::SeqCst);
                async { Err(micro::Error::internal("test", "always fails")) }
            }),
            SubscribeOptions::queue("worker")
                .max_deliver(2)
                .retry_backoff(Duration::from_millis(50))
                .dead_letter(&dead_topic),
        )
        .await
        .unwrap();
    broker
        .publish(&topic, Envelope::new("poison"))
        .await
        .unwrap();
    // Past max_deliver, the dead letter fails: the message comes back instead of being
    // dropped (and the handler is not run on it again).
    let back = wait_until(Duration::from_secs(20), || sub.stats().delivered >= 4).await;
    assert!(
        back,
        "the message was dropped after its dead letter failed ({:?})",
        sub.stats()
    );
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "the handler ran max_deliver times"
    );
    assert_eq!(sub.stats().dead_lettered, 0, "no dead letter went out yet");
    // Room on the dead-letter topic: the next attempt dead-letters it.
    full.purge().await.unwrap();
    let lettered = wait_until(Duration::from_secs(20), || sub.stats().dead_lettered == 1).await;
    assert!(
        lettered,
        "the message was dead-lettered once there was room"
    );
    let letter = full
        .get_last_raw_message_by_subject(&dead_topic)
        .await
        .unwrap();
    assert_eq!(&letter.payload[..], b"poison");
    let original = letter
        .headers
        .get("micro-original-topic")
        .map(|v| v.as_str().to_owned());
    assert_eq!(original.as_deref(), Some(topic.as_str()));
    assert_eq!(full.info().await.unwrap().state.messages, 1);

    sub.unsubscribe().await;
    delete_streams(&topic).await;
    let _ = js.delete_stream(&blocker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_handler_is_timed_out_and_the_subscription_goes_on() {
    for engine in Engine::all("stuck handler") {
        let fixture = Fixture::new();
        let broker = fixture.broker(engine);
        let topic = unique_topic("stuck");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, u32)>();
        let sub = broker
            .subscribe(
                &topic,
                handler(move |event: Event| {
                    let body = String::from_utf8_lossy(&event.message().body).into_owned();
                    let attempt = event.attempt();
                    let tx = tx.clone();
                    async move {
                        if body == "stuck" && attempt == 1 {
                            // Never returns on its first delivery.
                            std::future::pending::<()>().await;
                        }
                        let _ = tx.send((body, attempt));
                        Ok(())
                    }
                }),
                SubscribeOptions::queue("worker")
                    .handler_timeout(Duration::from_millis(300))
                    .retry_backoff(Duration::from_millis(20)),
            )
            .await
            .unwrap();
        if engine == Engine::Http {
            broker_tests::wait_for_http_subscribers(&fixture.registry, &topic, 1).await;
        }
        broker
            .publish(&topic, Envelope::new("stuck"))
            .await
            .unwrap();
        broker.publish(&topic, Envelope::new("next")).await.unwrap();
        let mut handled = Vec::new();
        while handled.len() < 2 {
            let got = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("{engine:?}: the subscription stalled: {handled:?}"))
                .unwrap();
            handled.push(got);
        }
        handled.sort();
        assert_eq!(
            handled,
            [("next".to_owned(), 1), ("stuck".to_owned(), 2)],
            "{engine:?}: the stuck message was timed out and delivered again"
        );
        let stats = sub.stats();
        assert_eq!(stats.nacked, 1, "{engine:?} {stats:?}");
        sub.unsubscribe().await;
        if engine.is_durable() {
            delete_streams(&topic).await;
        }
    }
}
