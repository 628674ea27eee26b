//! Balancing that reacts to health: p2c by latency and load, the breaker per node and
//! endpoint, the retry budget, the cap on ejected nodes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use micro_runtime::client::{CallOptions, ClientOptions, TransportPolicy};
use micro_runtime::registry::{MemoryRegistry, Node, RegisterOptions, Registry, Service};
use micro_runtime::selector::Strategy;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Client, Code, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::raw::frame;
use crate::support::{self, Counter, Echo};

/// An echo endpoint that takes `delay` and fails with `fail` (an HTTP-style code) if set,
/// counting its calls.
fn node_router(calls: Counter, delay: Duration, fail: Option<i32>) -> Router {
    Router::new().route(
        Route::unary("Echo.Call", move |_ctx, req: Echo| {
            let calls = calls.clone();
            async move {
                calls.0.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                match fail {
                    Some(code) => Err(Error::new("node", "overloaded", code)),
                    None => Ok(req),
                }
            }
        })
        .package("test.echo"),
    )
}

fn client(reg: &MemoryRegistry, tune: impl FnOnce(&mut ClientOptions)) -> Client {
    let mut options = support::options();
    tune(&mut options);
    Client::with_options(Arc::new(reg.clone()), options)
}

/// Run `calls` calls, `workers` at a time; how many failed.
async fn drive(client: &Client, calls: usize, workers: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, next, failed) = (client.clone(), next.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < calls {
                let result: micro_runtime::Result<Echo> = client
                    .call_with(
                        &Default::default(),
                        "echo",
                        "Echo.Call",
                        &Echo::text("x"),
                        &CallOptions::new().timeout(Duration::from_secs(10)),
                    )
                    .await;
                if result.is_err() {
                    failed.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    failed.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2c_sends_fewer_calls_to_a_slow_node() {
    let reg = MemoryRegistry::new();
    let (fast, slow) = (Counter::default(), Counter::default());
    let a = support::start(
        &reg,
        "echo",
        node_router(fast.clone(), Duration::ZERO, None),
    )
    .await;
    let b = support::start(
        &reg,
        "echo",
        node_router(slow.clone(), Duration::from_millis(40), None),
    )
    .await;
    let client = client(&reg, |o| o.strategy = Strategy::P2c);
    assert_eq!(drive(&client, 400, 8).await, 0);
    let (f, s) = (fast.get(), slow.get());
    assert_eq!(f + s, 400);
    assert!(
        s * 5 < f,
        "the slow node served {s} of 400 calls (random would give about half)"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_steers_calls_off_a_node_that_answers_unavailable() {
    let reg = MemoryRegistry::new();
    let (good, bad) = (Counter::default(), Counter::default());
    let a = support::start(
        &reg,
        "echo",
        node_router(good.clone(), Duration::ZERO, None),
    )
    .await;
    let b = support::start(
        &reg,
        "echo",
        node_router(bad.clone(), Duration::ZERO, Some(503)),
    )
    .await;
    let with = client(&reg, |_| {});
    let failed = drive(&with, 400, 4).await;
    assert!(
        failed < 80,
        "{failed} of 400 calls failed: the breaker should refuse most attempts to the failing node (without it about 200 fail)"
    );
    assert!(
        bad.get() < 80,
        "the failing node still got {} calls",
        bad.get()
    );
    // Without the breaker, half the calls go to the failing node and fail.
    let (good_before, bad_before) = (good.get(), bad.get());
    let without = client(&reg, |o| o.breaker = false);
    let failed = drive(&without, 400, 4).await;
    assert!(failed > 120, "without the breaker {failed} of 400 failed");
    assert_eq!(good.get() - good_before + bad.get() - bad_before, 400);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// A native server that refuses every call before it starts (as a server at its limit) and
/// counts the attempts. Its address.
async fn refusing_server(attempts: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let attempts = attempts.clone();
            tokio::spawn(async move {
                let mut preface = [0u8; 8];
                if conn.read_exact(&mut preface).await.is_err() {
                    return;
                }
                let mut settings = 100u32.to_be_bytes().to_vec();
                settings.extend_from_slice(&(1024u32 * 1024).to_be_bytes());
                let _ = conn.write_all(&frame(0, 0, 0, &settings)).await;
                let mut header = [0u8; 10];
                while conn.read_exact(&mut header).await.is_ok() {
                    let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
                    let mut payload = vec![0; len];
                    if conn.read_exact(&mut payload).await.is_err() {
                        return;
                    }
                    if header[4] == 1 {
                        attempts.fetch_add(1, Ordering::SeqCst);
                        let id = u32::from_be_bytes(header[6..10].try_into().unwrap());
                        let _ = conn.write_all(&frame(4, 0, id, &[1])).await;
                    }
                }
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_budget_holds_when_every_node_refuses() {
    const CALLS: usize = 500;
    let reg = MemoryRegistry::new();
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut record = Service::new("echo", "1");
    for i in 0..5 {
        let address = refusing_server(attempts.clone()).await;
        record = record.with_node(
            Node::new(format!("n{i}"), address.as_str()).with_metadata("transport", "native"),
        );
    }
    reg.register(&record, RegisterOptions::default())
        .await
        .unwrap();
    let native = |o: &mut ClientOptions| o.transport = TransportPolicy::Native;
    // Without budget or breaker every call tries every node.
    let unguarded = client(&reg, |o| {
        native(o);
        o.retry_budget = 0.0;
        o.breaker = false;
    });
    assert_eq!(drive(&unguarded, 100, 4).await, 100);
    assert_eq!(
        attempts.swap(0, Ordering::SeqCst),
        500,
        "5 attempts per call"
    );
    // The budget alone: retries at most 20 % of calls (plus a floor of 10).
    let budgeted = client(&reg, |o| {
        native(o);
        o.breaker = false;
    });
    assert_eq!(drive(&budgeted, CALLS, 4).await, CALLS);
    let made = attempts.swap(0, Ordering::SeqCst);
    assert!(
        made <= CALLS * 12 / 10 + 10,
        "{made} attempts for {CALLS} calls: the budget allows at most 1.2 x calls + 10"
    );
    assert!(made >= CALLS, "every call made its first attempt: {made}");
    // Each failed call answers with what the node said.
    let err = budgeted
        .call::<_, Echo>("echo", "Echo.Call", &Echo::text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::Unavailable, "{err}");
}

#[tokio::test]
async fn at_most_half_the_nodes_sit_out_at_once() {
    // Four nodes at dead addresses and none alive: after each failed once, calls still
    // spread over at least half of them rather than hammering the one back soonest.
    let reg = MemoryRegistry::new();
    let mut record = Service::new("echo", "1");
    for i in 0..4 {
        record = record.with_node(Node::new(format!("n{i}"), support::dead_address()));
    }
    reg.register(&record, RegisterOptions::default())
        .await
        .unwrap();
    let selector = micro_runtime::selector::Selector::new(Arc::new(reg.clone()), Strategy::Random);
    let mut next = selector.select("echo", &[]).await.unwrap();
    let all: Vec<_> = std::iter::from_fn(|| next.next()).collect();
    for c in &all {
        selector.mark(&c.node, micro_runtime::selector::Outcome::ConnectionFailed);
    }
    let mut firsts = std::collections::HashSet::new();
    for _ in 0..200 {
        let mut next = selector.select("echo", &[]).await.unwrap();
        firsts.insert(next.next().unwrap().node.id.clone());
    }
    assert!(
        firsts.len() >= 2,
        "first picks went to {firsts:?}: only half the nodes may be held out"
    );
}

#[tokio::test]
async fn a_policy_sets_the_timeout_per_service_and_endpoint_unless_the_call_does() {
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let policies = micro_runtime::client::Policies::parse(
        "echo: timeout=200ms retries=0; echo/Echo.Meta: timeout=5s",
    )
    .unwrap();
    let client = client(&reg, |o| o.policies = policies);
    let slow = Echo {
        sleep_ms: 1_000,
        ..Echo::text("slow")
    };
    // The service's policy: 200 ms.
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &slow)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded, "{err}");
    // The call's own timeout wins.
    let rsp: Echo = client
        .call_with(
            &Default::default(),
            "echo",
            "Echo.Call",
            &slow,
            &CallOptions::new().timeout(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(rsp.text, "slow");
    // Another service keeps the client's default.
    assert!(
        micro_runtime::client::Policies::parse("other: timeout=1ms")
            .unwrap()
            .find("echo", "Echo.Call")
            .is_none()
    );
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hedged_idempotent_call_is_answered_by_the_fast_node() {
    let reg = MemoryRegistry::new();
    let (fast, slow) = (Counter::default(), Counter::default());
    let a = support::start(
        &reg,
        "echo",
        node_router(fast.clone(), Duration::ZERO, None),
    )
    .await;
    let b = support::start(
        &reg,
        "echo",
        node_router(slow.clone(), Duration::from_millis(2000), None),
    )
    .await;
    // The retry budget is another test's subject: hedges count against it, and on a busy
    // machine a fast node that needs more than 30 ms also draws a hedge, which could spend
    // the floor of 10 and leave a later call waiting for the slow node.
    let client = client(&reg, |o| o.retry_budget = 0.0);
    let call = |hedge: Option<Duration>| {
        let client = client.clone();
        async move {
            let mut opts = CallOptions::new()
                .idempotent(true)
                .timeout(Duration::from_secs(10));
            if let Some(after) = hedge {
                opts = opts.hedge(after);
            }
            let started = std::time::Instant::now();
            let rsp: Echo = client
                .call_with(
                    &Default::default(),
                    "echo",
                    "Echo.Call",
                    &Echo::text("h"),
                    &opts,
                )
                .await
                .unwrap();
            assert_eq!(rsp.text, "h");
            started.elapsed()
        }
    };
    // Hedged after 30 ms: no call waits for the slow node's two seconds.
    for _ in 0..12 {
        let took = call(Some(Duration::from_millis(30))).await;
        assert!(
            took < Duration::from_millis(1500),
            "a hedged call took {took:?}"
        );
    }
    assert!(slow.get() > 0, "some calls went to the slow node first");
    // Without hedging, the calls the slow node gets take its two seconds.
    let mut slow_calls = 0;
    for _ in 0..12 {
        if call(None).await >= Duration::from_millis(2000) {
            slow_calls += 1;
        }
    }
    assert!(
        slow_calls > 0,
        "without hedging some calls wait for the slow node"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}
