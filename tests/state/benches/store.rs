//! Store throughput: writes/s and reads/s of 1 KB values from 16 concurrent clients, on each
//! micro engine beside the raw client of the same server (redis-rs, tokio-postgres,
//! async-nats key-value), in one run.
//!
//! `cargo bench -p state-tests --bench store` (add `-- --quick` for fewer operations).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use micro::store::{Record, Store, Table};
use state_tests::{Engine, nats_url, postgres_url, redis_url};

const CLIENTS: usize = 16;

fn value() -> Vec<u8> {
    vec![b'v'; 1024]
}

/// Run `op(i)` for i in 0..n from 16 tasks; operations per second.
async fn rate<F, Fut>(n: usize, op: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let op = op.clone();
            tokio::spawn(async move {
                for i in (c..n).step_by(CLIENTS) {
                    op(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

async fn micro_row(engine: Engine, n: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::with_table(
        engine.engine(dir.path()).unwrap(),
        Table::new("state_bench", "kv").unwrap(),
    )
    .unwrap();
    let s = store.clone();
    let writes = rate(n, move |i| {
        let s = s.clone();
        async move {
            s.write(Record::new(format!("k{i}"), value()))
                .await
                .unwrap()
        }
    })
    .await;
    let s = store.clone();
    let reads = rate(n, move |i| {
        let s = s.clone();
        async move { assert!(s.read_one(&format!("k{i}")).await.unwrap().is_some()) }
    })
    .await;
    state_tests::clear(&store).await.unwrap();
    (writes, reads)
}

async fn raw_redis(n: usize) -> (f64, f64) {
    let client = redis::Client::open(redis_url()).unwrap();
    let con = client.get_multiplexed_async_connection().await.unwrap();
    let c = con.clone();
    let writes = rate(n, move |i| {
        let mut c = c.clone();
        async move {
            let _: () = redis::cmd("SET")
                .arg(format!("bench:{i}"))
                .arg(value())
                .query_async(&mut c)
                .await
                .unwrap();
        }
    })
    .await;
    let c = con.clone();
    let reads = rate(n, move |i| {
        let mut c = c.clone();
        async move {
            let v: Vec<u8> = redis::cmd("GET")
                .arg(format!("bench:{i}"))
                .query_async(&mut c)
                .await
                .unwrap();
            assert_eq!(v.len(), 1024);
        }
    })
    .await;
    let mut c = con.clone();
    for i in 0..n {
        let _: i64 = redis::cmd("DEL")
            .arg(format!("bench:{i}"))
            .query_async(&mut c)
            .await
            .unwrap();
    }
    (writes, reads)
}

async fn raw_postgres(n: usize) -> (f64, f64) {
    let (client, conn) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("DROP TABLE IF EXISTS bench_raw; CREATE TABLE bench_raw (key TEXT COLLATE \"C\" PRIMARY KEY, value BYTEA)")
        .await
        .unwrap();
    let client = Arc::new(client);
    let c = client.clone();
    let writes = rate(n, move |i| {
        let c = c.clone();
        async move {
            c.execute(
                "INSERT INTO bench_raw VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&format!("k{i}"), &value()],
            )
            .await
            .unwrap();
        }
    })
    .await;
    let c = client.clone();
    let reads = rate(n, move |i| {
        let c = c.clone();
        async move {
            let row = c
                .query_one(
                    "SELECT value FROM bench_raw WHERE key = $1",
                    &[&format!("k{i}")],
                )
                .await
                .unwrap();
            assert_eq!(row.get::<_, Vec<u8>>(0).len(), 1024);
        }
    })
    .await;
    client.batch_execute("DROP TABLE bench_raw").await.unwrap();
    (writes, reads)
}

async fn raw_nats(n: usize) -> (f64, f64) {
    // The same bucket layout micro makes (works on pre-2.10 servers too).
    let js = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let _ = js.delete_stream("KV_bench-raw").await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "KV_bench-raw".into(),
        subjects: vec!["$KV.bench-raw.>".into()],
        max_messages_per_subject: 1,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let kv = js.get_key_value("bench-raw").await.unwrap();
    let k = kv.clone();
    let writes = rate(n, move |i| {
        let k = k.clone();
        async move {
            k.put(format!("k{i}"), value().into()).await.unwrap();
        }
    })
    .await;
    let k = kv.clone();
    let reads = rate(n, move |i| {
        let k = k.clone();
        async move {
            assert!(k.get(format!("k{i}")).await.unwrap().is_some());
        }
    })
    .await;
    js.delete_stream("KV_bench-raw").await.unwrap();
    (writes, reads)
}

const ROUNDS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The median writes/s and reads/s of `ROUNDS` runs of `row`.
async fn medians<F, Fut>(row: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (f64, f64)>,
{
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..ROUNDS {
        let (w, r) = row().await;
        writes.push(w);
        reads.push(r);
    }
    (median(writes), median(reads))
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 2_000 } else { 20_000 };
    println!(
        "{n} operations per row, 1 KB values, {CLIENTS} concurrent clients, median of {ROUNDS} rounds\n"
    );
    println!(
        "| engine | micro writes/s | micro reads/s | raw client writes/s | raw reads/s | micro ÷ raw (w / r) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for engine in Engine::ALL {
        if !engine.available("store bench") {
            continue;
        }
        let (w, r) = medians(|| micro_row(engine, n)).await;
        let raw = match engine {
            Engine::Redis => Some(medians(|| raw_redis(n)).await),
            Engine::Postgres => Some(medians(|| raw_postgres(n)).await),
            Engine::Nats => Some(medians(|| raw_nats(n)).await),
            Engine::Memory | Engine::File | Engine::Service => None,
        };
        match raw {
            Some((rw, rr)) => println!(
                "| {engine:?} | {w:.0} | {r:.0} | {rw:.0} | {rr:.0} | {:.2} / {:.2} |",
                w / rw,
                r / rr
            ),
            None => println!("| {engine:?} | {w:.0} | {r:.0} | — | — | — |"),
        }
    }
}
