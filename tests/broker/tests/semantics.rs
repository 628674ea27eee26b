//! Queue groups, broadcast, redelivery, dead letters and bad input, on every broker: memory,
//! http (through a registry on disk, as between processes) and a real NATS server (core and
//! JetStream).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use broker_tests::{
    Engine, Fixture, Recorder, delete_streams, publish_all, unique_topic,
    wait_for_http_subscribers, wait_until,
};
use micro::broker::{Envelope, Event, SubscribeOptions, Subscriber, handler};
use micro::codec::Codec;

const N: usize = 200;

fn bodies(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| format!("m{i}"))
}

async fn settle_subscriptions(fixture: &Fixture, engine: Engine, topic: &str, n: usize) {
    if engine == Engine::Http {
        wait_for_http_subscribers(&fixture.registry, topic, n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_groups_share_a_topic_and_different_groups_each_get_everything() {
    for engine in Engine::all("queue_groups") {
        let fixture = Fixture::new();
        let topic = unique_topic("queue");
        // Two instances of service a (two "processes"), one instance of service b.
        let (a1, a2, b) = (
            Recorder::default(),
            Recorder::default(),
            Recorder::default(),
        );
        let s1 = fixture
            .broker(engine)
            .subscribe(&topic, a1.handler(), SubscribeOptions::queue("svc-a"))
            .await
            .unwrap();
        let s2 = fixture
            .broker(engine)
            .subscribe(&topic, a2.handler(), SubscribeOptions::queue("svc-a"))
            .await
            .unwrap();
        let s3 = fixture
            .broker(engine)
            .subscribe(&topic, b.handler(), SubscribeOptions::queue("svc-b"))
            .await
            .unwrap();
        settle_subscriptions(&fixture, engine, &topic, 3).await;

        let publisher = fixture.broker(engine);
        publish_all(publisher.as_ref(), &topic, bodies(N), 16)
            .await
            .unwrap();
        let done = wait_until(Duration::from_secs(20), || {
            a1.total() + a2.total() >= N && b.total() >= N
        })
        .await;
        assert!(
            done,
            "{engine:?}: a1 {} + a2 {} of {N}, b {} of {N}",
            a1.total(),
            a2.total(),
            b.total()
        );
        // Fences, published until every member handled one: each member handles its
        // messages one at a time in order, so a duplicate still on its way would have been
        // handled before its fence.
        let fenced = |r: &Recorder| r.counts().keys().any(|k| k.starts_with("fence"));
        let mut fences = 0;
        while !(fenced(&a1) && fenced(&a2) && fenced(&b)) {
            assert!(
                fences < 500,
                "{engine:?}: the fences never reached every member"
            );
            publisher
                .publish(
                    &topic,
                    micro::broker::Envelope::new(format!("fence{fences}")),
                )
                .await
                .unwrap();
            fences += 1;
            wait_until(Duration::from_millis(200), || {
                fenced(&a1) && fenced(&a2) && fenced(&b)
            })
            .await;
        }
        let unfenced = |r: &Recorder| {
            let counts = r.counts();
            let real: Vec<(&String, &usize)> = counts
                .iter()
                .filter(|(k, _)| !k.starts_with("fence"))
                .collect();
            (real.iter().map(|(_, n)| **n).sum::<usize>(), real.len())
        };
        let (a1_total, a2_total, b_counts) = (unfenced(&a1).0, unfenced(&a2).0, unfenced(&b));
        // Group a handled every message exactly once, between its two members.
        let mut a_ids: Vec<String> = a1
            .counts()
            .into_keys()
            .filter(|k| !k.starts_with("fence"))
            .collect();
        a_ids.extend(a2.counts().into_keys().filter(|k| !k.starts_with("fence")));
        let distinct: HashSet<&String> = a_ids.iter().collect();
        assert_eq!(
            a1_total + a2_total,
            N,
            "{engine:?}: group a handled a message twice"
        );
        assert_eq!(distinct.len(), N, "{engine:?}: group a missed messages");
        assert!(
            a1_total > 0 && a2_total > 0,
            "{engine:?}: one member got everything (a1 {a1_total}, a2 {a2_total})"
        );
        // Group b, on its own, handled every message once.
        assert_eq!(b_counts, (N, N), "{engine:?}: group b");

        for s in [s1, s2, s3] {
            s.unsubscribe().await;
        }
        if engine.is_durable() {
            delete_streams(&topic).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_subscriptions_each_get_every_message() {
    for engine in Engine::all("broadcast") {
        let fixture = Fixture::new();
        let topic = unique_topic("broadcast");
        let (x, y) = (Recorder::default(), Recorder::default());
        let sx = fixture
            .broker(engine)
            .subscribe(&topic, x.handler(), SubscribeOptions::broadcast())
            .await
            .unwrap();
        let sy = fixture
            .broker(engine)
            .subscribe(&topic, y.handler(), SubscribeOptions::broadcast())
            .await
            .unwrap();
        settle_subscriptions(&fixture, engine, &topic, 2).await;
        let publisher = fixture.broker(engine);
        publish_all(publisher.as_ref(), &topic, bodies(N), 16)
            .await
            .unwrap();
        let done = wait_until(Duration::from_secs(20), || x.total() >= N && y.total() >= N).await;
        assert!(done, "{engine:?}: x {} y {} of {N}", x.total(), y.total());
        assert_eq!((x.distinct(), y.distinct()), (N, N), "{engine:?}");
        sx.unsubscribe().await;
        sy.unsubscribe().await;
        if engine.is_durable() {
            delete_streams(&topic).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_gets_the_message_again_then_it_is_dead_lettered() {
    for engine in Engine::all("redelivery") {
        let fixture = Fixture::new();
        let broker = fixture.broker(engine);
        let topic = unique_topic("redeliver");
        let dead_topic = format!("{topic}.dead");

        // The dead letters, as another subscriber sees them.
        let (dead_tx, mut dead_rx) = tokio::sync::mpsc::unbounded_channel::<Envelope>();
        let dead = broker
            .subscribe(
                &dead_topic,
                handler(move |event: Event| {
                    let _ = dead_tx.send(event.message().clone());
                    async { Ok(()) }
                }),
                SubscribeOptions::queue("dlq"),
            )
            .await
            .unwrap();

        // "flaky" succeeds on its third delivery; "poison" always fails.
        let attempts = Arc::new(AtomicU32::new(0));
        let (ok_tx, mut ok_rx) = tokio::sync::mpsc::unbounded_channel::<u32>();
        let seen = attempts.clone();
        let sub = broker
            .subscribe(
                &topic,
                handler(move |event: Event| {
                    let body = event.message().body.clone();
                    let attempt = event.attempt();
                    let seen = seen.clone();
                    let ok_tx = ok_tx.clone();
                    async move {
                        if &body[..] == b"fence" {
                            let _ = ok_tx.send(0);
                            return Ok(());
                        }
                        seen.fetch_add(1, Ordering::SeqCst);
                        if &body[..] == b"flaky" && attempt >= 3 {
                            let _ = ok_tx.send(attempt);
                            return Ok(());
                        }
                        // A typed error: its reason rides on the dead letter.
                        Err(
                            micro::Error::internal("test", format!("cannot handle {attempt}"))
                                .with_reason("POISONED"),
                        )
                    }
                }),
                SubscribeOptions::queue("worker")
                    .max_deliver(4)
                    .retry_backoff(Duration::from_millis(20))
                    .dead_letter(&dead_topic),
            )
            .await
            .unwrap();
        settle_subscriptions(&fixture, engine, &topic, 1).await;
        settle_subscriptions(&fixture, engine, &dead_topic, 1).await;

        broker
            .publish(&topic, Envelope::new("flaky"))
            .await
            .unwrap();
        let attempt = tokio::time::timeout(Duration::from_secs(20), ok_rx.recv())
            .await
            .expect("flaky was handled")
            .unwrap();
        assert_eq!(attempt, 3, "{engine:?}");

        broker
            .publish(&topic, Envelope::new("poison"))
            .await
            .unwrap();
        let letter = tokio::time::timeout(Duration::from_secs(20), dead_rx.recv())
            .await
            .expect("poison was dead-lettered")
            .unwrap();
        assert_eq!(&letter.body[..], b"poison");
        let why = letter.headers.get("micro-error").unwrap_or_default();
        assert!(why.contains("failed 4 times"), "{engine:?}: {why}");
        assert_eq!(
            letter.headers.get("micro-error-reason"),
            Some("POISONED"),
            "{engine:?}"
        );
        assert_eq!(
            letter.headers.get("micro-original-topic"),
            Some(topic.as_str())
        );

        // 3 deliveries of flaky, 4 of poison, and no more: a fence published after them is
        // handled after anything still due (one member, one message at a time, in order).
        broker
            .publish(&topic, Envelope::new("fence"))
            .await
            .unwrap();
        let fence = tokio::time::timeout(Duration::from_secs(20), ok_rx.recv())
            .await
            .expect("the fence was handled")
            .unwrap();
        assert_eq!(fence, 0, "{engine:?}");
        assert_eq!(attempts.load(Ordering::SeqCst), 7, "{engine:?}");
        // The fence is settled just after its handler returned.
        wait_until(Duration::from_secs(10), || sub.stats().acked == 2).await;
        let stats = sub.stats();
        assert_eq!(stats.delivered, 8, "{engine:?} {stats:?}");
        assert_eq!(stats.acked, 2, "{engine:?} {stats:?}");
        assert_eq!(stats.nacked, 6, "{engine:?} {stats:?}");
        assert_eq!(stats.dead_lettered, 1, "{engine:?} {stats:?}");

        sub.unsubscribe().await;
        dead.unsubscribe().await;
        if engine.is_durable() {
            delete_streams(&topic).await;
            delete_streams(&dead_topic).await;
        }
    }
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Order {
    id: u64,
    item: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_does_not_decode_is_rejected_and_the_subscriber_goes_on() {
    for engine in Engine::all("bad_input") {
        let fixture = Fixture::new();
        let broker = fixture.broker(engine);
        let topic = unique_topic("orders");
        let dead_topic = format!("{topic}.dead");
        let dead = Recorder::default();
        let dead_sub = broker
            .subscribe(&dead_topic, dead.handler(), SubscribeOptions::queue("dlq"))
            .await
            .unwrap();

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Order>();
        let sub = Subscriber::with_codec(&topic, Codec::serde(), move |_ctx, order: Order| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(order);
                Ok(())
            }
        })
        .queue("shop")
        .dead_letter(&dead_topic)
        .subscribe(broker.as_ref(), None)
        .await
        .unwrap();
        settle_subscriptions(&fixture, engine, &topic, 1).await;
        settle_subscriptions(&fixture, engine, &dead_topic, 1).await;

        let json = |body: &str| {
            Envelope::new(body.to_owned()).with_header("content-type", "application/json")
        };
        for bad in [
            json("{not json"),
            json(r#"{"id":"seven","item":"x"}"#),
            Envelope::new("\u{1}\u{2}").with_header("content-type", "application/x-thrift"),
        ] {
            broker.publish(&topic, bad).await.unwrap();
        }
        broker
            .publish(&topic, json(r#"{"id":7,"item":"book"}"#))
            .await
            .unwrap();

        let order = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("the good message was handled")
            .unwrap();
        assert_eq!(
            order,
            Order {
                id: 7,
                item: "book".into()
            }
        );
        assert!(
            wait_until(Duration::from_secs(10), || dead.total() == 3).await,
            "{engine:?}: {} dead letters",
            dead.total()
        );
        let stats = sub.stats();
        assert_eq!(stats.rejected, 3, "{engine:?} {stats:?}");
        assert_eq!(stats.dead_lettered, 3, "{engine:?} {stats:?}");
        assert_eq!(
            stats.nacked, 0,
            "{engine:?}: bad input is not retried {stats:?}"
        );
        assert_eq!(stats.delivered, 4, "{engine:?} {stats:?}");

        sub.unsubscribe().await;
        dead_sub.unsubscribe().await;
        if engine.is_durable() {
            delete_streams(&topic).await;
            delete_streams(&dead_topic).await;
        }
    }
}

#[tokio::test]
async fn bad_topics_and_queues_are_refused_with_a_hint() {
    let fixture = Fixture::new();
    let broker = fixture.broker(Engine::Memory);
    for topic in ["", "a b", "a..b", "orders.*", "orders.>"] {
        let err = broker.publish(topic, Envelope::new("x")).await.unwrap_err();
        assert_eq!(err.code(), 400);
        assert!(err.detail().contains("invalid topic"), "{}", err.detail());
    }
    let recorder = Recorder::default();
    let err = broker
        .subscribe(
            "ok",
            recorder.handler(),
            SubscribeOptions::queue("bad queue"),
        )
        .await
        .unwrap_err();
    assert!(
        err.detail().contains("invalid queue group"),
        "{}",
        err.detail()
    );
}
