//! Graceful stop: deregister first, keep in-flight calls, send new ones elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use micro_runtime::Context;
use micro_runtime::client::CallOptions;
use micro_runtime::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
use micro_runtime::registry::{MemoryRegistry, Registry};

use crate::support::{self, Counter, Echo};

#[tokio::test]
async fn in_flight_calls_complete_and_the_node_is_deregistered_first() {
    let reg = MemoryRegistry::new();
    let (a, _) = support::start_echo(&reg, "a").await;
    let (_b, _) = support::start_echo(&reg, "b").await;
    let client = support::client(&reg);
    let addr = a.node().address.clone();
    let slow = {
        let client = client.clone();
        let opts = CallOptions::new().address(addr.clone());
        tokio::spawn(async move {
            let req = Echo {
                text: "slow".into(),
                sleep_ms: 700,
                ..Echo::default()
            };
            client
                .call_with::<_, Echo>(&Context::new(), "echo", "Echo.Call", &req, &opts)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stopping = tokio::spawn(a.stop());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let nodes = reg.get_service("echo").await.unwrap()[0].nodes.clone();
    assert_eq!(
        nodes.len(),
        1,
        "deregistered while the call is still running"
    );
    assert_ne!(nodes[0].address, addr);

    let rsp = slow.await.unwrap().expect("the in-flight call completes");
    assert_eq!(rsp.node, "a");
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn health_is_not_serving_during_the_shutdown_delay() {
    let reg = MemoryRegistry::new();
    let node = support::builder(&reg, "echo")
        .shutdown_delay(Duration::from_millis(600))
        .handler(support::echo_router("a", Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let addr = node.node().address.clone();
    let client = support::client(&reg);
    let check = |client: micro_runtime::Client, addr: String| async move {
        let opts = CallOptions::new().address(addr).package(PACKAGE);
        client
            .call_with::<_, HealthCheckResponse>(
                &Context::new(),
                "echo",
                "Health.Check",
                &HealthCheckRequest::default(),
                &opts,
            )
            .await
            .map(|r| r.status())
    };
    assert_eq!(
        check(client.clone(), addr.clone()).await.unwrap(),
        ServingStatus::Serving
    );

    let mut watch = client
        .server_stream::<_, HealthCheckResponse>(
            &Context::new(),
            "echo",
            "Health.Watch",
            &HealthCheckRequest::default(),
            &CallOptions::new().address(addr.clone()).package(PACKAGE),
        )
        .await
        .unwrap();
    assert_eq!(
        watch.recv().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );

    let stopping = tokio::spawn(node.stop());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        check(client.clone(), addr.clone()).await.unwrap(),
        ServingStatus::NotServing
    );
    assert_eq!(
        watch.recv().await.unwrap().unwrap().status(),
        ServingStatus::NotServing
    );
    // Calls are still served during the delay.
    let rsp: Echo = client
        .call_with(
            &Context::new(),
            "echo",
            "Echo.Call",
            &Echo::text("x"),
            &CallOptions::new().address(addr.clone()),
        )
        .await
        .unwrap();
    assert_eq!(rsp.text, "x");
    stopping.await.unwrap().unwrap();
    assert!(
        check(client, addr).await.is_err(),
        "a stopped node refuses connections"
    );
}

#[tokio::test]
async fn stopping_a_node_under_load_fails_no_call() {
    let reg = MemoryRegistry::new();
    let (a, a_calls) = support::start_echo(&reg, "a").await;
    let (_b, b_calls) = support::start_echo(&reg, "b").await;
    let client = support::client(&reg);
    let failures = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = client.clone();
        let failures = failures.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..150 {
                let req = Echo {
                    sleep_ms: 2,
                    ..Echo::default()
                };
                if let Err(e) = client.call::<_, Echo>("echo", "Echo.Call", &req).await {
                    eprintln!("call failed: {e}");
                    failures.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.stop().await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert!(a_calls.get() > 0 && b_calls.get() > 0);
    assert_eq!(a_calls.get() + b_calls.get(), 600);
}
