//! Load shedding: past what it carries, a busy server refuses calls at once and keeps
//! answering health checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Code, RunningService};

use crate::support::{self, Echo};

/// A node whose `Echo.Call` can work on two calls at a time, 10 ms each.
async fn narrow_node(reg: &MemoryRegistry, shed: Option<f64>) -> RunningService {
    let gate = Arc::new(tokio::sync::Semaphore::new(2));
    let router = Router::new().route(
        Route::unary("Echo.Call", move |_ctx, req: Echo| {
            let gate = gate.clone();
            async move {
                let _permit = gate.acquire().await.expect("open");
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(req)
            }
        })
        .package("test.echo"),
    );
    // The test cannot load the CPU on purpose: a threshold of 0 counts it as hot.
    support::start_with(support::builder(reg, "echo").load_shedding(shed), router).await
}

/// `workers` callers for `run`: (ok, shed, other errors).
async fn offer(reg: &MemoryRegistry, workers: usize, run: Duration) -> (usize, usize, usize) {
    // The server's shedding alone (the client's breaker would refuse calls too).
    let mut options = support::options();
    options.breaker = false;
    let client = micro_runtime::Client::with_options(Arc::new(reg.clone()), options);
    let counts = Arc::new([
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    ]);
    let until = Instant::now() + run;
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, counts) = (client.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let result: micro_runtime::Result<Echo> = client
                    .call_with(
                        &Default::default(),
                        "echo",
                        "Echo.Call",
                        &Echo::text("x"),
                        &CallOptions::new().timeout(Duration::from_secs(30)),
                    )
                    .await;
                let slot = match &result {
                    Ok(_) => 0,
                    Err(e) if e.grpc_code() == Code::ResourceExhausted => 1,
                    Err(_) => 2,
                };
                counts[slot].fetch_add(1, Ordering::SeqCst);
                if slot == 1 {
                    // A shed call is told to back off.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
        counts[2].load(Ordering::SeqCst),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_past_its_capacity_sheds_and_still_answers_health_checks() {
    let reg = MemoryRegistry::new();
    let node = narrow_node(&reg, Some(0.0)).await;
    // It learns what it carries, one call at a time.
    let (ok, shed, other) = offer(&reg, 1, Duration::from_millis(1000)).await;
    assert_eq!((shed, other), (0, 0), "warm-up: {ok} ok");
    // Twenty callers: most of the excess is refused at once.
    let health = tokio::spawn({
        let reg = reg.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let client = support::client(&reg);
            let rsp: micro_runtime::Result<micro_runtime::health::HealthCheckResponse> = client
                .call_with(
                    &Default::default(),
                    "echo",
                    "Health.Check",
                    &micro_runtime::health::HealthCheckRequest::default(),
                    &CallOptions::new().package("grpc.health.v1"),
                )
                .await;
            rsp
        }
    });
    let (ok, shed, other) = offer(&reg, 20, Duration::from_secs(2)).await;
    assert!(shed > 0, "overloaded: {ok} ok, {shed} shed, {other} failed");
    assert!(ok > 0, "it kept serving: {ok} ok, {shed} shed");
    assert_eq!(other, 0, "no other failures");
    let health = health.await.unwrap();
    assert!(health.is_ok(), "health checks are never shed: {health:?}");
    node.stop().await.unwrap();

    // Shedding off: the same load queues instead (and is never refused).
    let reg = MemoryRegistry::new();
    let node = narrow_node(&reg, None).await;
    let (ok, shed, other) = offer(&reg, 20, Duration::from_secs(1)).await;
    assert_eq!((shed, other), (0, 0), "{ok} ok");
    node.stop().await.unwrap();
}
