//! Broker throughput, publish → deliver: micro's memory, http, nats, jetstream, redis,
//! rabbitmq and mqtt brokers, each beside the raw client of its server (async-nats core and
//! JetStream, redis-rs streams, lapin, rumqttc) in one run.
//!
//! `cargo bench -p broker-tests --bench broker` (add `-- --quick` for fewer messages, and
//! words to pick rows: `-- mqtt 16KiB`). Each row: one publisher and one or four members of
//! a queue group, each on a connection of its own, 64-byte or 16 KiB bodies; the clock runs
//! from the first publish to the last delivery; the median of 3 rounds is reported, and
//! micro's median over the raw client's for each engine and shape.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

mod raw;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use broker_tests::{
    Engine, Fixture, delete_streams, mqtt_or_skip, nats_or_skip, nats_url, rabbitmq_or_skip,
    redis_or_skip, unique_topic, wait_for_http_subscribers,
};
use bytes::Bytes;
use futures_util::StreamExt;
use micro::broker::{Envelope, Event, SharedBroker, SubscribeOptions, handler};

const ROUNDS: usize = 3;

/// What a row sends: the body size and the members of the queue group.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    body: usize,
    subscribers: usize,
}

impl Shape {
    fn payload(self) -> Bytes {
        Bytes::from(vec![b'x'; self.body])
    }

    fn label(self) -> String {
        let body = if self.body >= 1024 {
            format!("{} KiB", self.body / 1024)
        } else {
            format!("{} B", self.body)
        };
        format!("{body}, {} sub", self.subscribers)
    }
}

struct Row {
    name: String,
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

/// One round through a micro broker: (messages per second, lost).
async fn micro_round(
    fixture: &Fixture,
    engine: Engine,
    publisher: &SharedBroker,
    n: usize,
    in_flight: usize,
    shape: Shape,
) -> (f64, usize) {
    let topic = unique_topic("bench");
    let clock = Arc::new(Clock::default());
    let mut subs = Vec::new();
    for _ in 0..shape.subscribers {
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
        subs.push(sub);
    }
    if engine == Engine::Http {
        wait_for_http_subscribers(&fixture.registry, &topic, shape.subscribers).await;
    }
    let payload = shape.payload();
    clock.start();
    let results: Vec<micro::Result<()>> = futures_util::stream::iter(0..n)
        .map(|_| publisher.publish(&topic, Envelope::new(payload.clone())))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "publishes failed");
    let result = clock.finish(n).await;
    for sub in subs {
        sub.unsubscribe_within(Duration::from_secs(5)).await;
    }
    if engine.is_durable() {
        delete_streams(&topic).await;
    }
    result
}

/// Counts deliveries and remembers when the last one came.
#[derive(Default)]
pub(crate) struct Clock {
    started: std::sync::OnceLock<Instant>,
    count: AtomicUsize,
    last_nanos: std::sync::atomic::AtomicU64,
}

impl Clock {
    pub(crate) fn start(&self) {
        let _ = self.started.set(Instant::now());
    }

    pub(crate) fn tick(&self) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Some(started) = self.started.get() {
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.last_nanos.fetch_max(nanos, Ordering::Relaxed);
        }
    }

    /// Wait for `n` deliveries, or until none came for a second (at-most-once engines may
    /// drop messages under overload); returns (deliveries per second until the last one,
    /// messages lost).
    pub(crate) async fn finish(&self, n: usize) -> (f64, usize) {
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

/// A raw client's rounds.
#[derive(Clone, Copy, Debug)]
enum Raw {
    Core,
    CoreHeaders,
    JetStream,
    Redis,
    Lapin,
    Mqtt,
}

/// One engine's pair of rows: the raw client and micro's broker on the same server.
struct Pair {
    engine: Option<Engine>,
    micro: &'static str,
    raw: Option<(Raw, &'static str)>,
    messages: usize,
    in_flight: usize,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // Other arguments (not flags) select rows by words of their names: `-- mqtt 16`.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let scale: usize = if quick { 10 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fixture = Fixture::new();
        let nats = nats_or_skip("the NATS rows of the benchmark");
        let pair = |engine, micro, raw, messages, in_flight| Pair {
            engine,
            micro,
            raw,
            messages: messages / scale,
            in_flight,
        };
        let mut plan = vec![
            pair(Some(Engine::Memory), "micro memory", None, 200_000, 1),
            pair(
                Some(Engine::Http),
                "micro http (local registry)",
                None,
                20_000,
                64,
            ),
        ];
        if nats {
            plan.push(pair(
                None,
                "",
                Some((Raw::Core, "raw async-nats core")),
                200_000,
                1,
            ));
            plan.push(pair(
                Some(Engine::Nats),
                "micro nats (core)",
                Some((Raw::CoreHeaders, "raw async-nats core + 3 headers")),
                200_000,
                1,
            ));
            plan.push(pair(
                Some(Engine::JetStream),
                "micro jetstream",
                Some((Raw::JetStream, "raw async-nats JetStream")),
                20_000,
                256,
            ));
        }
        if redis_or_skip("the Redis rows of the benchmark") {
            plan.push(pair(
                Some(Engine::Redis),
                "micro redis",
                Some((Raw::Redis, "raw redis-rs streams")),
                20_000,
                256,
            ));
        }
        if rabbitmq_or_skip("the RabbitMQ rows of the benchmark") {
            plan.push(pair(
                Some(Engine::RabbitMq),
                "micro rabbitmq",
                Some((Raw::Lapin, "raw lapin (confirms, quorum)")),
                20_000,
                256,
            ));
        }
        if mqtt_or_skip("the MQTT rows of the benchmark") {
            plan.push(pair(
                Some(Engine::Mqtt),
                "micro mqtt",
                Some((Raw::Mqtt, "raw rumqttc (QoS 1, shared)")),
                20_000,
                256,
            ));
        }
        let raw_client = if nats {
            Some(async_nats::connect(nats_url()).await.unwrap())
        } else {
            None
        };
        let shapes = [
            Shape {
                body: 64,
                subscribers: 1,
            },
            Shape {
                body: 16 << 10,
                subscribers: 1,
            },
            Shape {
                body: 64,
                subscribers: 4,
            },
            Shape {
                body: 16 << 10,
                subscribers: 4,
            },
        ];
        let mut ratios = Vec::new();
        for shape in shapes {
            println!("\n--- {} ---", shape.label());
            for pair in &plan {
                // 16 KiB bodies: a quarter of the messages.
                let n = if shape.body > 1024 {
                    (pair.messages / 4).max(100)
                } else {
                    pair.messages
                };
                let mut medians = [None, None];
                for (slot, name) in [pair.raw.map(|(_, name)| name), Some(pair.micro)]
                    .into_iter()
                    .enumerate()
                {
                    let Some(name) = name.filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    let full = format!("{name} [{}]", shape.label());
                    if !only.is_empty() && !only.iter().all(|o| full.contains(o.as_str())) {
                        continue;
                    }
                    let mut row = Row {
                        name: full,
                        messages: n,
                        rates: Vec::new(),
                        lost: 0,
                    };
                    // The publisher is made once per row, so its connection (and caches)
                    // are warm after the first round, as in a running service.
                    let publisher = pair.engine.filter(|_| slot == 1).map(|e| fixture.broker(e));
                    for _ in 0..ROUNDS {
                        let (rate, lost) = match (&publisher, pair.raw) {
                            (Some(p), _) => {
                                let engine = pair.engine.unwrap();
                                micro_round(&fixture, engine, p, n, pair.in_flight, shape).await
                            }
                            (None, Some((raw, _))) => {
                                let c = raw_client.as_ref();
                                match raw {
                                    Raw::Core => raw::core(c.unwrap(), n, shape, false).await,
                                    Raw::CoreHeaders => raw::core(c.unwrap(), n, shape, true).await,
                                    Raw::JetStream => {
                                        raw::jetstream(c.unwrap(), n, pair.in_flight, shape).await
                                    }
                                    Raw::Redis => raw::redis(n, pair.in_flight, shape).await,
                                    Raw::Lapin => raw::rabbitmq(n, pair.in_flight, shape).await,
                                    Raw::Mqtt => raw::mqtt(n, shape).await,
                                }
                            }
                            (None, None) => unreachable!(),
                        };
                        row.rates.push(rate);
                        row.lost += lost;
                    }
                    println!(
                        "{:<52} {:>7} msgs  median {:>9.0} msgs/s  (rounds: {})  lost {}",
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
                    medians[slot] = Some(row.median());
                }
                if let ([Some(raw), Some(ours)], Some((_, raw_name))) = (medians, pair.raw) {
                    ratios.push(format!(
                        "{:<20} / {:<32} [{}]: {:.2}",
                        pair.micro,
                        raw_name,
                        shape.label(),
                        ours / raw
                    ));
                }
            }
        }
        println!();
        for line in ratios {
            println!("{line}");
        }
    });
}
