//! Broker throughput, publish → deliver: micro's memory, http, nats, jetstream, redis and
//! rabbitmq brokers, beside the raw client of each server (async-nats core and JetStream,
//! redis-rs streams, lapin) in one run.
//!
//! `cargo bench -p broker-tests --bench broker` (add `-- --quick` for fewer messages).
//! Each row: one publisher, one subscriber (queue group), 64-byte bodies; the clock runs
//! from the first publish to the last delivery; the median of 3 rounds is reported.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use broker_tests::{
    Engine, Fixture, delete_streams, nats_or_skip, nats_url, rabbitmq_or_skip, rabbitmq_url,
    redis_or_skip, redis_url, unique_topic, wait_for_http_subscribers,
};
use bytes::Bytes;
use futures_util::StreamExt;
use micro::broker::{Envelope, Event, SharedBroker, SubscribeOptions, handler};

const ROUNDS: usize = 3;

struct Row {
    name: &'static str,
    messages: usize,
    rates: Vec<f64>,
    lost: usize,
}

impl Row {
    fn median(&self) -> f64 {
        let mut r = self.rates.clone();
        r.sort_by(|a, b| a.total_cmp(b));
        r[r.len() / 2]
    }
}

fn body() -> Bytes {
    Bytes::from(vec![b'x'; 64])
}

/// One round through a micro broker: (messages per second, lost).
async fn micro_round(
    fixture: &Fixture,
    engine: Engine,
    publisher: &SharedBroker,
    n: usize,
    in_flight: usize,
) -> (f64, usize) {
    let topic = unique_topic("bench");
    let clock = Arc::new(Clock::default());
    let c = clock.clone();
    let sub = fixture
        .broker(engine)
        .subscribe(
            &topic,
            handler(move |_event: Event| {
                c.tick();
                async { Ok(()) }
            }),
            SubscribeOptions::queue("bench").buffer(4096),
        )
        .await
        .unwrap();
    if engine == Engine::Http {
        wait_for_http_subscribers(&fixture.registry, &topic, 1).await;
    }
    let payload = body();
    clock.start();
    let results: Vec<micro::Result<()>> = futures_util::stream::iter(0..n)
        .map(|_| publisher.publish(&topic, Envelope::new(payload.clone())))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "publishes failed");
    let result = clock.finish(n).await;
    sub.unsubscribe_within(Duration::from_secs(5)).await;
    if engine.is_durable() {
        delete_streams(&topic).await;
    }
    result
}

/// Counts deliveries and remembers when the last one came.
#[derive(Default)]
struct Clock {
    started: std::sync::OnceLock<Instant>,
    count: AtomicUsize,
    last_nanos: std::sync::atomic::AtomicU64,
}

impl Clock {
    fn start(&self) {
        let _ = self.started.set(Instant::now());
    }

    fn tick(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Some(started) = self.started.get() {
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.last_nanos.fetch_max(nanos, Ordering::Relaxed);
        }
    }

    /// Wait for `n` deliveries, or until none came for a second (at-most-once engines may
    /// drop messages under overload); returns (deliveries per second until the last one,
    /// messages lost).
    async fn finish(&self, n: usize) -> (f64, usize) {
        let mut seen = 0;
        let mut quiet = Instant::now();
        loop {
            let now = self.count.load(Ordering::Relaxed);
            if now >= n {
                break;
            }
            if now != seen {
                seen = now;
                quiet = Instant::now();
            } else if quiet.elapsed() > Duration::from_secs(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delivered = self.count.load(Ordering::Relaxed);
        let secs = self.last_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        (
            delivered as f64 / secs.max(1e-9),
            n.saturating_sub(delivered),
        )
    }
}

/// One round of raw async-nats core publish → subscribe; with `headers`, each message
/// carries the three headers micro adds (id, timestamp, content type).
async fn raw_core_round(client: &async_nats::Client, n: usize, headers: bool) -> (f64, usize) {
    let topic = unique_topic("bench-raw");
    // A connection of its own for the subscriber, as micro's rows have.
    let sub_client = async_nats::connect(nats_url()).await.unwrap();
    let mut sub = sub_client
        .queue_subscribe(topic.clone(), "bench".to_owned())
        .await
        .unwrap();
    sub_client.flush().await.unwrap();
    let clock = Arc::new(Clock::default());
    let c = clock.clone();
    let reader = tokio::spawn(async move {
        while sub.next().await.is_some() {
            c.tick();
        }
    });
    let payload = body();
    clock.start();
    for i in 0..n {
        if headers {
            let mut h = async_nats::HeaderMap::new();
            h.insert("micro-id", format!("{:032x}", i).as_str());
            h.insert("micro-timestamp", "1763683200000");
            h.insert("content-type", "application/octet-stream");
            client
                .publish_with_headers(topic.clone(), h, payload.clone())
                .await
                .unwrap();
        } else {
            client
                .publish(topic.clone(), payload.clone())
                .await
                .unwrap();
        }
    }
    client.flush().await.unwrap();
    let result = clock.finish(n).await;
    reader.abort();
    result
}

/// One round of raw async-nats JetStream: acknowledged publishes, a durable pull consumer
/// acknowledging each message.
async fn raw_jetstream_round(
    client: &async_nats::Client,
    n: usize,
    in_flight: usize,
) -> (f64, usize) {
    use async_nats::jetstream::{self, consumer, stream};
    let topic = unique_topic("bench-rawjs");
    let js = jetstream::new(client.clone());
    let name = format!("bench-{}", topic.replace('.', "_"));
    let stream = js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![topic.clone()],
            retention: stream::RetentionPolicy::Interest,
            ..Default::default()
        })
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("bench".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            max_ack_pending: 4096,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let payload = body();
    let clock = Arc::new(Clock::default());
    let c = clock.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = messages.next().await {
            let _ = m.ack().await;
            c.tick();
        }
    });
    clock.start();
    let acks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let js = js.clone();
            let topic = topic.clone();
            let payload = payload.clone();
            async move {
                match js.publish(topic, payload).await {
                    Ok(ack) => ack.await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(acks.iter().all(|ok| *ok), "raw JetStream publishes failed");
    let result = clock.finish(n).await;
    reader.abort();
    let _ = js.delete_stream(&name).await;
    result
}

/// One round of raw Redis Streams through redis-rs: XADD (`in_flight` at once), one consumer
/// of a group reading with XREADGROUP and acknowledging each entry with XACK.
async fn raw_redis_round(n: usize, in_flight: usize) -> (f64, usize) {
    let topic = unique_topic("bench-rawredis");
    let key = format!("bench:{topic}");
    let client = redis::Client::open(redis_url()).unwrap();
    let publisher = client.get_multiplexed_async_connection().await.unwrap();
    let mut reader_con = client.get_multiplexed_async_connection().await.unwrap();
    let _: redis::Value = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg("bench")
        .arg("$")
        .arg("MKSTREAM")
        .query_async(&mut reader_con)
        .await
        .unwrap();
    let clock = Arc::new(Clock::default());
    let c = clock.clone();
    let reader_key = key.clone();
    let reader = tokio::spawn(async move {
        loop {
            let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg("bench")
                .arg("c1")
                .arg("COUNT")
                .arg(64)
                .arg("BLOCK")
                .arg(100)
                .arg("STREAMS")
                .arg(&reader_key)
                .arg(">")
                .query_async(&mut reader_con)
                .await
                .unwrap_or(None);
            for stream in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in stream.ids {
                    let _: redis::RedisResult<i64> = redis::cmd("XACK")
                        .arg(&reader_key)
                        .arg("bench")
                        .arg(&entry.id)
                        .query_async(&mut reader_con)
                        .await;
                    c.tick();
                }
            }
        }
    });
    let payload = body();
    clock.start();
    let oks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let mut con = publisher.clone();
            let key = key.clone();
            let payload = payload.clone();
            async move {
                redis::cmd("XADD")
                    .arg(&key)
                    .arg("*")
                    .arg("b")
                    .arg(&payload[..])
                    .query_async::<redis::Value>(&mut con)
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(oks.iter().all(|ok| *ok), "raw XADDs failed");
    let result = clock.finish(n).await;
    reader.abort();
    let mut con = publisher.clone();
    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&key).query_async(&mut con).await;
    result
}

/// One round of raw RabbitMQ through lapin: confirmed, persistent publishes (`in_flight` at
/// once) through a topic exchange to a durable quorum queue, a consumer acknowledging each
/// message: the path micro's messages take, without micro's headers and dispatch.
async fn raw_rabbitmq_round(n: usize, in_flight: usize) -> (f64, usize) {
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
    };
    use lapin::types::FieldTable;
    let queue = unique_topic("bench-rawamqp");
    let connection =
        lapin::Connection::connect(&rabbitmq_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let publisher = connection.create_channel().await.unwrap();
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let consumer_channel = connection.create_channel().await.unwrap();
    consumer_channel
        .basic_qos(4096, BasicQosOptions::default())
        .await
        .unwrap();
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        lapin::types::AMQPValue::LongString("quorum".into()),
    );
    publisher
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .unwrap();
    // Routed through a topic exchange, as micro's messages are.
    publisher
        .exchange_declare(
            "micro-bench-raw".into(),
            lapin::ExchangeKind::Topic,
            lapin::options::ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    publisher
        .queue_bind(
            queue.as_str().into(),
            "micro-bench-raw".into(),
            queue.as_str().into(),
            lapin::options::QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut consumer = consumer_channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let clock = Arc::new(Clock::default());
    let c = clock.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(delivery)) = consumer.next().await {
            let _ = delivery.acker.ack(BasicAckOptions::default()).await;
            c.tick();
        }
    });
    let payload = body();
    clock.start();
    let oks: Vec<bool> = futures_util::stream::iter(0..n)
        .map(|_| {
            let publisher = publisher.clone();
            let queue = queue.clone();
            let payload = payload.clone();
            async move {
                let properties = lapin::BasicProperties::default().with_delivery_mode(2);
                match publisher
                    .basic_publish(
                        "micro-bench-raw".into(),
                        queue.as_str().into(),
                        BasicPublishOptions::default(),
                        &payload,
                        properties,
                    )
                    .await
                {
                    Ok(confirm) => confirm.await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(oks.iter().all(|ok| *ok), "raw lapin publishes failed");
    let result = clock.finish(n).await;
    reader.abort();
    let _ = publisher
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = connection.close(200, "done".into()).await;
    result
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // Other arguments (not flags) select rows by name: `-- memory jetstream`.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let scale = if quick { 10 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fixture = Fixture::new();
        let nats = nats_or_skip("the NATS rows of the benchmark");
        let mut plan: Vec<(&'static str, Option<Engine>, usize, usize)> = vec![
            ("micro memory", Some(Engine::Memory), 200_000 / scale, 1),
            (
                "micro http (local registry)",
                Some(Engine::Http),
                20_000 / scale,
                64,
            ),
        ];
        if nats {
            plan.extend([
                ("raw async-nats core", None, 200_000 / scale, 1),
                ("raw async-nats core + 3 headers", None, 200_000 / scale, 1),
                ("micro nats (core)", Some(Engine::Nats), 200_000 / scale, 1),
                ("raw async-nats JetStream", None, 20_000 / scale, 256),
                (
                    "micro jetstream",
                    Some(Engine::JetStream),
                    20_000 / scale,
                    256,
                ),
            ]);
        }
        if redis_or_skip("the Redis rows of the benchmark") {
            plan.extend([
                ("raw redis-rs streams", None, 20_000 / scale, 256),
                ("micro redis", Some(Engine::Redis), 20_000 / scale, 256),
            ]);
        }
        if rabbitmq_or_skip("the RabbitMQ rows of the benchmark") {
            plan.extend([
                (
                    "raw lapin (confirms, quorum queue)",
                    None,
                    20_000 / scale,
                    256,
                ),
                (
                    "micro rabbitmq",
                    Some(Engine::RabbitMq),
                    20_000 / scale,
                    256,
                ),
            ]);
        }
        let raw_client = if nats {
            Some(async_nats::connect(nats_url()).await.unwrap())
        } else {
            None
        };
        let mut rows = Vec::new();
        for (name, engine, n, in_flight) in plan {
            if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
                continue;
            }
            let mut row = Row {
                name,
                messages: n,
                rates: Vec::new(),
                lost: 0,
            };
            // The publisher is made once per row, so its connection (and caches) are warm
            // after the first round, as in a running service.
            let publisher = engine.map(|e| fixture.broker(e));
            for _ in 0..ROUNDS {
                let (rate, lost) = match (engine, &publisher, &raw_client) {
                    (Some(e), Some(p), _) => micro_round(&fixture, e, p, n, in_flight).await,
                    (None, _, _) if name.contains("redis") => raw_redis_round(n, in_flight).await,
                    (None, _, _) if name.contains("lapin") => {
                        raw_rabbitmq_round(n, in_flight).await
                    }
                    (None, _, Some(c)) if name.contains("core") => {
                        raw_core_round(c, n, name.contains("headers")).await
                    }
                    (None, _, Some(c)) => raw_jetstream_round(c, n, in_flight).await,
                    _ => unreachable!(),
                };
                row.rates.push(rate);
                row.lost += lost;
            }
            println!(
                "{:<30} {:>8} msgs  median {:>10.0} msgs/s  (rounds: {})  lost {}",
                row.name,
                row.messages,
                row.median(),
                row.rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                row.lost
            );
            rows.push(row);
        }
        let rate = |name: &str| rows.iter().find(|r| r.name == name).map(Row::median);
        println!();
        if let (Some(ours), Some(raw)) = (rate("micro nats (core)"), rate("raw async-nats core")) {
            println!(
                "micro nats / raw async-nats core:                {:.2}",
                ours / raw
            );
        }
        if let (Some(ours), Some(raw)) = (
            rate("micro nats (core)"),
            rate("raw async-nats core + 3 headers"),
        ) {
            println!(
                "micro nats / raw async-nats core + 3 headers:    {:.2}",
                ours / raw
            );
        }
        if let (Some(ours), Some(raw)) = (rate("micro redis"), rate("raw redis-rs streams")) {
            println!("micro redis / raw redis-rs streams: {:.2}", ours / raw);
        }
        if let (Some(ours), Some(raw)) = (
            rate("micro rabbitmq"),
            rate("raw lapin (confirms, quorum queue)"),
        ) {
            println!("micro rabbitmq / raw lapin: {:.2}", ours / raw);
        }
        if let (Some(ours), Some(raw)) = (rate("micro jetstream"), rate("raw async-nats JetStream"))
        {
            println!(
                "micro jetstream / raw async-nats JetStream: {:.2}",
                ours / raw
            );
        }
    });
}
