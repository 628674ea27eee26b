//! Services that call other services and publish: handlers made from the built service,
//! context propagation by default, dependency failures, advertised addresses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use micro_runtime::broker::MemoryBroker;
use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Code, Context};

use crate::support::{self, Echo};

/// A `front` service whose handler calls `echo` and publishes, built from the built service.
async fn front(reg: &MemoryRegistry, broker: Arc<MemoryBroker>) -> micro_runtime::RunningService {
    let service = support::builder(reg, "front")
        .broker(broker)
        .build()
        .unwrap();
    let client = service.client();
    let published = service.publisher::<Echo>("front.called");
    let router = Router::new()
        .route(Route::unary("Front.Inspect", move |_ctx, req: Echo| {
            let (client, published) = (client.clone(), published.clone());
            async move {
                // No context passed: the caller's deadline and metadata go along.
                let seen: Echo = client.call("echo", "Echo.Inspect", &req).await?;
                published.publish(&seen).await?;
                Ok(seen)
            }
        }))
        .route(Route::unary("Front.Relay", {
            let client = service.client();
            move |ctx: Context, req: Echo| {
                let client = client.clone();
                async move {
                    // Credentials pass on only when the handler says so.
                    let mut own = ctx.clone();
                    own.metadata_mut().insert("cookie", "session=relayed");
                    let opts = CallOptions::new().metadata("authorization", "Bearer front");
                    let seen: Echo = client
                        .call_with(&own, "echo", "Echo.Inspect", &req, &opts)
                        .await?;
                    Ok(seen)
                }
            }
        }))
        .route(Route::unary(
            "Front.Missing",
            |_ctx, req: Echo| async move {
                let client = micro_runtime::Client::new(std::sync::Arc::new(MemoryRegistry::new()));
                let _: Echo = client.call("inventory", "Inventory.Reserve", &req).await?;
                Ok(req)
            },
        ));
    service.handler(router).start().await.unwrap()
}

#[tokio::test]
async fn a_handler_calls_and_publishes_with_the_callers_deadline_and_metadata() {
    let reg = MemoryRegistry::new();
    let broker = Arc::new(MemoryBroker::new());
    let _echo = support::start_echo(&reg, "e").await;
    let _front = front(&reg, broker.clone()).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let _sub = micro_runtime::broker::Subscriber::new("front.called", move |ctx, _e: Echo| {
        let seen = seen.clone();
        async move {
            let trace = ctx.metadata().get("x-trace").unwrap_or("-").to_owned();
            seen.lock().unwrap().push(trace);
            Ok(())
        }
    })
    .subscribe(broker.as_ref(), None)
    .await
    .unwrap();

    let ctx = Context::new()
        .with_metadata("x-trace", "t-42")
        .with_metadata("authorization", "Bearer caller")
        .with_metadata("cookie", "session=caller")
        .with_timeout(Duration::from_secs(3));
    let rsp: Echo = support::client(&reg)
        .call_with(
            &ctx,
            "front",
            "Front.Inspect",
            &Echo::text("x"),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    assert!(
        rsp.text.contains("x-trace=t-42"),
        "metadata went along: {}",
        rsp.text
    );
    assert!(
        !rsp.text.contains("authorization") && !rsp.text.contains("cookie"),
        "the caller's credentials stayed on the first hop: {}",
        rsp.text
    );
    assert!(
        rsp.sleep_ms > 0 && rsp.sleep_ms <= 3_000,
        "echo saw what was left of the caller's 3 s: {} ms",
        rsp.sleep_ms
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while events.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        *events.lock().unwrap(),
        ["t-42"],
        "the event carries the caller's metadata"
    );

    // Passed on on purpose: in the call's own metadata, or with a new value in the context.
    let rsp: Echo = support::client(&reg)
        .call_with(
            &ctx,
            "front",
            "Front.Relay",
            &Echo::text("x"),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    for entry in [
        "authorization=Bearer front",
        "cookie=session=relayed",
        "x-trace=t-42",
    ] {
        assert!(rsp.text.contains(entry), "{entry} in {}", rsp.text);
    }
    assert!(!rsp.text.contains("caller"), "{}", rsp.text);
}

#[tokio::test]
async fn a_failed_dependency_is_the_handlers_503_without_inner_details() {
    let reg = MemoryRegistry::new();
    let _front = front(&reg, Arc::new(MemoryBroker::new())).await;
    let err = support::client(&reg)
        .call::<_, Echo>("front", "Front.Missing", &Echo::text("x"))
        .await
        .unwrap_err();
    assert_eq!((err.id(), err.code()), ("front", 503), "{err}");
    assert_eq!(err.grpc_code(), Code::Unavailable);
    assert!(
        err.detail().contains("inventory is unavailable"),
        "{}",
        err.detail()
    );
    assert!(!err.is_transport_failure(), "front answered");
}

#[tokio::test]
async fn a_bare_advertised_host_takes_the_listening_port() {
    if crate::SERVER_TRANSPORT == "memory" {
        return; // names in this process have no host to advertise
    }
    let reg = MemoryRegistry::new();
    let node = support::builder(&reg, "echo")
        .advertise("127.0.0.1")
        .handler(support::echo_router("a", support::Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let port = node.local_addr().unwrap().port();
    assert_eq!(node.node().address, format!("127.0.0.1:{port}"));
    let rsp: Echo = support::client(&reg)
        .call("echo", "Echo.Call", &Echo::text("hi"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "hi");

    let err = support::builder(&reg, "echo")
        .advertise("not a host")
        .handler(support::echo_router("b", support::Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap_err();
    assert!(
        err.detail().contains("MICRO_SERVER_ADVERTISE"),
        "{}",
        err.detail()
    );
}
