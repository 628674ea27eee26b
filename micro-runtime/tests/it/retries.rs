//! Retries go to another node only when the call cannot run twice.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use micro_runtime::client::CallOptions;
use micro_runtime::registry::{MemoryRegistry, Node, RegisterOptions, Registry, Service};
use micro_runtime::selector::Strategy;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Client, Code, Context};
use tokio::sync::Notify;

use crate::support::{self, Counter, Echo};

/// A gRPC node that accepts a call and then drops the connection without answering: the
/// request reached it, so it may have run.
async fn dropping_node() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen2.clone();
            tokio::spawn(async move {
                let kill = Arc::new(Notify::new());
                let k = kill.clone();
                let svc = hyper::service::service_fn(move |_req| {
                    seen.fetch_add(1, Ordering::SeqCst);
                    k.notify_one();
                    async move {
                        std::future::pending::<()>().await;
                        Ok::<_, Infallible>(http::Response::new(Full::new(bytes::Bytes::new())))
                    }
                });
                let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc);
                tokio::select! {
                    _ = conn => {}
                    _ = kill.notified() => {} // dropping the connection closes the socket
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_dead_node_is_skipped_without_failing_calls() {
    let reg = MemoryRegistry::new();
    let (_good, calls) = support::start_echo(&reg, "good").await;
    let dead = Service::new("echo", "latest").with_node(Node::new("dead", support::dead_address()));
    reg.register(&dead, RegisterOptions::default())
        .await
        .unwrap();
    let client = support::client(&reg);
    // Even with no retries allowed: a refused connection never reached a handler.
    let opts = CallOptions::new().retries(0);
    for _ in 0..50 {
        let rsp: Echo = client
            .call_with(
                &Context::new(),
                "echo",
                "Echo.Call",
                &Echo::text("x"),
                &opts,
            )
            .await
            .unwrap();
        assert_eq!(rsp.node, "good");
    }
    assert_eq!(calls.get(), 50);
}

#[tokio::test]
async fn a_call_that_may_have_run_is_not_repeated_unless_idempotent() {
    let reg = MemoryRegistry::new();
    let (good, good_calls) = support::start_echo(&reg, "good").await;
    let (dropping, seen) = dropping_node().await;
    let client = support::client(&reg);

    // Not idempotent: the error surfaces, and the good node never sees a duplicate.
    let opts = CallOptions::new()
        .address(dropping.clone())
        .address(good.node().address.clone());
    let err = client
        .call_with::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Call",
            &Echo::text("pay"),
            &opts,
        )
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::Unavailable, "{err}");
    assert!(err.is_transport_failure());
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    assert_eq!(
        good_calls.get(),
        0,
        "a non-idempotent call must not run twice"
    );

    // Idempotent: retried on the next node.
    let rsp: Echo = client
        .call_with(
            &Context::new(),
            "echo",
            "Echo.Call",
            &Echo::text("get"),
            &opts.clone().idempotent(true),
        )
        .await
        .unwrap();
    assert_eq!(rsp.node, "good");
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    assert_eq!(good_calls.get(), 1);
}

#[tokio::test]
async fn idempotency_declared_by_the_server_allows_retries() {
    let reg = MemoryRegistry::new();
    let calls = Counter::default();
    let c = calls.clone();
    let router = Router::new().route(
        Route::unary("Echo.Get", move |_ctx, req: Echo| {
            let c = c.clone();
            async move {
                c.0.fetch_add(1, Ordering::SeqCst);
                Ok(req)
            }
        })
        .idempotent(),
    );
    let good = support::start(&reg, "idem", router).await;
    let (dropping, seen) = dropping_node().await;
    let mut record = good.record().clone();
    record.nodes = vec![Node::new("dropping", dropping)];
    reg.register(&record, RegisterOptions::default())
        .await
        .unwrap();

    let mut options = support::options();
    options.strategy = Strategy::RoundRobin;
    let client = Client::with_options(Arc::new(reg.clone()), options);
    for _ in 0..10 {
        let rsp: Echo = client
            .call("idem", "Echo.Get", &Echo::text("x"))
            .await
            .unwrap();
        assert_eq!(rsp.text, "x");
    }
    assert!(
        seen.load(Ordering::SeqCst) >= 1,
        "the dropping node was tried"
    );
    assert_eq!(calls.get(), 10);
}
