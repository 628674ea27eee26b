//! Overload: one server offered more than it can do, with and without micro's guards (load
//! shedding on the server, the adaptive breaker on the client). `scripts/overload.sh` runs
//! the whole experiment; the modes:
//!
//! ```text
//! overload server [--shed on|off] [--work-us 200]     serve Burn.Work on 127.0.0.1:0, one thread
//! overload peak ADDR [--seconds 10] [--concurrency 32] [--breaker on|off]
//!                                                      closed loop: the most calls a second
//! overload drive ADDR --rate R [--seconds 15] [--breaker on|off] [--skip 5]
//!                                                      open loop at R calls a second
//! ```
//!
//! Results are one JSON object on stdout.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use micro::client::{CallOptions, ClientOptions, TransportPolicy};
use micro::server::{Route, Router};
use micro::{Client, Code};

#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Work {
    #[prost(uint64, tag = "1")]
    work_us: u64,
    #[prost(uint64, tag = "2")]
    result: u64,
}

impl micro::codec::ProstSerde for Work {}

use micro_bench::http::flag;

fn num(args: &[String], name: &str, default: u64) -> u64 {
    flag(args, name, &default.to_string())
        .parse()
        .unwrap_or(default)
}

/// Burn about `us` microseconds of CPU.
fn burn(us: u64) -> u64 {
    let end = Instant::now() + Duration::from_micros(us);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while Instant::now() < end {
        for _ in 0..64 {
            x = x.rotate_left(7).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x1234;
        }
    }
    x
}

fn client(breaker: bool) -> Client {
    let mut options = ClientOptions::default();
    options.transport = TransportPolicy::Native;
    options.breaker = breaker;
    Client::with_options(Arc::new(micro::registry::MemoryRegistry::new()), options)
}

async fn call(client: &Client, addr: &str, work_us: u64, timeout: Duration) -> micro::Result<Work> {
    client
        .call_with(
            &micro::Context::new(),
            "burn",
            "Burn.Work",
            &Work { work_us, result: 0 },
            &CallOptions::new().address(addr).timeout(timeout),
        )
        .await
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match mode.as_str() {
            "server" => server(&args).await,
            "peak" => peak(&args).await,
            "drive" => drive(&args).await,
            _ => Err("usage: overload server|peak|drive ...".into()),
        }
    })
}

async fn server(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let shed = flag(args, "--shed", "on") == "on";
    let router = Router::new().route(Route::unary("Burn.Work", |_ctx, req: Work| async move {
        Ok(Work {
            result: burn(req.work_us),
            ..req
        })
    }));
    let running = micro::Service::builder("burn")
        .ignore_env()
        .registry(Arc::new(micro::registry::MemoryRegistry::new()))
        .address("127.0.0.1:0")
        .load_shedding(shed.then_some(0.9))
        .handler(router)
        .build()?
        .start()
        .await?;
    let addr = running.local_addr().ok_or("no TCP address")?;
    println!("READY {addr}");
    // Runs until the script kills it.
    std::future::pending::<()>().await;
    running.stop().await?;
    Ok(())
}

async fn peak(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let addr = args.get(1).cloned().ok_or("peak ADDR")?;
    let (seconds, concurrency) = (num(args, "--seconds", 10), num(args, "--concurrency", 32));
    let work = num(args, "--work-us", 200);
    let client = client(flag(args, "--breaker", "on") == "on");
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, addr, done) = (client.clone(), addr.clone(), done.clone());
        tasks.spawn(async move {
            while Instant::now() < until {
                if call(&client, &addr, work, Duration::from_secs(10))
                    .await
                    .is_ok()
                {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let rate = done.load(Ordering::Relaxed) as f64 / seconds as f64;
    println!("{}", serde_json::json!({ "peak_per_second": rate.round() }));
    Ok(())
}

async fn drive(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let addr = args.get(1).cloned().ok_or("drive ADDR")?;
    let rate = num(args, "--rate", 1000).max(1);
    let seconds = num(args, "--seconds", 15);
    let skip = num(args, "--skip", 5);
    let work = num(args, "--work-us", 200);
    let timeout = Duration::from_millis(num(args, "--timeout-ms", 1000));
    let client = client(flag(args, "--breaker", "on") == "on");
    let latencies = Arc::new(std::sync::Mutex::new(
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?,
    ));
    let counts = Arc::new([
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ]);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(skip);
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    while start.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let (client, addr) = (client.clone(), addr.clone());
        let (latencies, counts) = (latencies.clone(), counts.clone());
        tasks.spawn(async move {
            let at = Instant::now();
            let result = call(&client, &addr, work, timeout).await;
            if at < measure_from {
                return;
            }
            let slot = match &result {
                Ok(_) => 0,
                Err(e) if e.grpc_code() == Code::ResourceExhausted => 1,
                Err(e) if e.grpc_code() == Code::Unavailable => 2,
                Err(_) => 3,
            };
            counts[slot].fetch_add(1, Ordering::Relaxed);
            if slot == 0 {
                let us = u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX);
                let _ = latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(us.max(1));
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let measured = seconds.saturating_sub(skip).max(1) as f64;
    let h = latencies.lock().unwrap_or_else(|e| e.into_inner());
    let c: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    println!(
        "{}",
        serde_json::json!({
            "offered_per_second": rate,
            "goodput_per_second": (c[0] as f64 / measured).round(),
            "shed": c[1],
            "breaker_refused": c[2],
            "other_errors": c[3],
            "p50_ms": h.value_at_quantile(0.5) as f64 / 1000.0,
            "p99_ms": h.value_at_quantile(0.99) as f64 / 1000.0,
        })
    );
    Ok(())
}
