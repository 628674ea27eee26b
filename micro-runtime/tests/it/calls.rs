use std::time::Duration;

use bytes::Bytes;
use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::Router;
use micro_runtime::{Context, Format};

use crate::support::{self, Echo};

#[tokio::test]
async fn unary_in_protobuf_and_json() {
    let reg = MemoryRegistry::new();
    let (_node, calls) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);

    let rsp: Echo = client
        .call("echo", "Echo.Call", &Echo::text("hi"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "hi");
    assert_eq!(rsp.node, "a");

    let opts = CallOptions::new().format(Format::Json);
    let rsp: Echo = client
        .call_with(
            &Context::new(),
            "echo",
            "Echo.Call",
            &Echo::text("json"),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(rsp.text, "json");
    assert_eq!(calls.get(), 2);
}

#[tokio::test]
async fn raw_json_passes_through() {
    let reg = MemoryRegistry::new();
    let (_node, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let rsp = client
        .call_raw(
            &Context::new(),
            "echo",
            "Echo.Call",
            Format::Json,
            Bytes::from_static(br#"{"text":"raw"}"#),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&rsp.message).unwrap();
    assert_eq!(json["text"], "raw");
    assert_eq!(json["node"], "a");
}

#[tokio::test]
async fn calls_spread_over_nodes_and_address_option_pins_one() {
    let reg = MemoryRegistry::new();
    let (a, a_calls) = support::start_echo(&reg, "a").await;
    let (_b, b_calls) = support::start_echo(&reg, "b").await;
    let client = support::client(&reg);
    for _ in 0..100 {
        let _: Echo = client
            .call("echo", "Echo.Call", &Echo::text("x"))
            .await
            .unwrap();
    }
    assert_eq!(a_calls.get() + b_calls.get(), 100);
    assert!(
        a_calls.get() > 10 && b_calls.get() > 10,
        "{} / {}",
        a_calls.get(),
        b_calls.get()
    );

    let opts = CallOptions::new().address(a.node().address.clone());
    for _ in 0..10 {
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
        assert_eq!(rsp.node, "a");
    }
}

#[tokio::test]
async fn metadata_and_deadline_propagate_to_downstream_calls() {
    let reg = MemoryRegistry::new();
    let (_b, _) = support::start_echo(&reg, "b").await;
    let downstream = support::client(&reg);
    // `front` calls echo with the context it was given.
    let front = Router::new().unary("Front.Call", move |ctx, req: Echo| {
        let client = downstream.clone();
        async move {
            let remaining_here = ctx.remaining().map(|d| d.as_millis() as u64).unwrap_or(0);
            let rsp: Echo = client
                .call_with(&ctx, "echo", "Echo.Inspect", &req, &CallOptions::new())
                .await?;
            Ok(Echo {
                text: rsp.text,
                sleep_ms: rsp.sleep_ms,
                count: remaining_here as u32,
                ..Echo::default()
            })
        }
    });
    let _front = support::start(&reg, "front", front).await;
    let client = support::client(&reg);
    let ctx = Context::new().with_metadata("x-trace-id", "abc123");
    let opts = CallOptions::new()
        .timeout(Duration::from_millis(1500))
        .metadata("x-tenant", "t1");
    let rsp: Echo = client
        .call_with(&ctx, "front", "Front.Call", &Echo::default(), &opts)
        .await
        .unwrap();
    assert!(rsp.text.contains("x-trace-id=abc123"), "{}", rsp.text);
    assert!(rsp.text.contains("x-tenant=t1"), "{}", rsp.text);
    // The deadline shrinks at every hop and never grows.
    let front_ms = u64::from(rsp.count);
    let echo_ms = rsp.sleep_ms;
    assert!(front_ms > 0 && front_ms <= 1500, "front saw {front_ms} ms");
    assert!(
        echo_ms > 0 && echo_ms <= front_ms,
        "echo saw {echo_ms} ms, front {front_ms} ms"
    );
}

#[tokio::test]
async fn health_check_and_registry_record() {
    use micro_runtime::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    for service in ["", "echo", "test.echo.Echo"] {
        let opts = CallOptions::new()
            .address(node.node().address.clone())
            .package(PACKAGE);
        let rsp: HealthCheckResponse = client
            .call_with(
                &Context::new(),
                "echo",
                "Health.Check",
                &HealthCheckRequest {
                    service: service.into(),
                },
                &opts,
            )
            .await
            .unwrap();
        assert_eq!(rsp.serving_status(), ServingStatus::Serving, "{service:?}");
    }
    let opts = CallOptions::new()
        .address(node.node().address.clone())
        .package(PACKAGE);
    let err = client
        .call_with::<_, HealthCheckResponse>(
            &Context::new(),
            "echo",
            "Health.Check",
            &HealthCheckRequest {
                service: "other".into(),
            },
            &opts,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), 404);

    // The registry record lists the endpoints (not the health ones) with their paths.
    let record = node.record();
    let names: Vec<_> = record.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"Echo.Call") && names.contains(&"Echo.Chat"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("Health.")));
    let call = record.endpoint("Echo.Call").unwrap();
    assert_eq!(call.metadata["grpc_path"], "/test.echo.Echo/Call");
    assert_eq!(
        record.endpoint("Echo.Chat").unwrap().metadata["stream"],
        "bidirectional"
    );
    assert_eq!(record.nodes[0].metadata["protocol"], "grpc");
}
