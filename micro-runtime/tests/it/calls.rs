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
        assert_eq!(rsp.status(), ServingStatus::Serving, "{service:?}");
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

#[tokio::test]
async fn handlers_send_headers_and_trailers() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let opts = CallOptions::new()
        .metadata("x-echo-initial", "hello")
        .metadata("x-echo-trailing-bin", "q6ur");
    let rsp = client
        .invoke::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Meta",
            &Echo::text("m"),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(rsp.metadata.get("x-echo-initial"), Some("hello"));
    assert_eq!(rsp.trailers.get("x-echo-trailing-bin"), Some("q6ur"));
    assert!(
        rsp.metadata.get("x-echo-trailing-bin").is_none(),
        "trailers stay trailers"
    );

    // Streams: headers come with the first message, trailers with the status.
    let req = Echo {
        count: 2,
        ..Echo::default()
    };
    let mut rx = client
        .server_stream::<_, Echo>(&Context::new(), "echo", "Echo.MetaStream", &req, &opts)
        .await
        .unwrap();
    assert!(rx.recv().await.unwrap().is_some());
    assert_eq!(rx.metadata().get("x-echo-initial"), Some("hello"));
    assert!(rx.recv().await.unwrap().is_some());
    assert!(rx.recv().await.unwrap().is_none());
    assert_eq!(rx.trailers().get("x-done"), Some("yes"));

    // A stream that ends before any message: trailers-only, headers still arrive.
    let req = Echo {
        count: 0,
        fail_code: 409,
        ..Echo::default()
    };
    let mut rx = client
        .server_stream::<_, Echo>(&Context::new(), "echo", "Echo.MetaStream", &req, &opts)
        .await
        .unwrap();
    let err = rx.recv().await.unwrap_err();
    assert_eq!(err.code(), 409);
    assert_eq!(rx.metadata().get("x-echo-initial"), Some("hello"));

    // An empty stream that succeeds: no message, no error.
    let mut rx = client
        .server_stream::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.MetaStream",
            &Echo::default(),
            &opts,
        )
        .await
        .unwrap();
    assert!(rx.recv().await.unwrap().is_none());
    assert_eq!(rx.trailers().get("x-done"), Some("yes"));
}

#[tokio::test]
async fn reflection_lists_services_and_resolves_symbols() {
    use micro_runtime::reflection::v1::ServerReflectionRequest;
    use micro_runtime::reflection::v1::server_reflection_client::ServerReflectionClient;
    use micro_runtime::reflection::v1::server_reflection_request::MessageRequest;
    use micro_runtime::reflection::v1::server_reflection_response::MessageResponse;

    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let reflection = ServerReflectionClient::new("echo", client)
        .with_options(CallOptions::new().address(node.node().address.clone()));
    let mut stream = reflection.server_reflection_info().await.unwrap();
    let ask = |r: MessageRequest| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(r),
    };
    stream
        .send(&ask(MessageRequest::ListServices(String::new())))
        .await
        .unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) =
        stream.recv().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list")
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    for want in [
        "test.echo.Echo",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    stream
        .send(&ask(MessageRequest::FileContainingSymbol(
            "grpc.health.v1.HealthCheckRequest".into(),
        )))
        .await
        .unwrap();
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        stream.recv().await.unwrap().unwrap().message_response
    else {
        panic!("expected files")
    };
    let file = <prost_types::FileDescriptorProto as prost::Message>::decode(
        &files.file_descriptor_proto[0][..],
    )
    .unwrap();
    assert_eq!(file.name(), "grpc/health/v1/health.proto");
    stream
        .send(&ask(MessageRequest::FileContainingSymbol(
            "no.such.Thing".into(),
        )))
        .await
        .unwrap();
    let Some(MessageResponse::ErrorResponse(err)) =
        stream.recv().await.unwrap().unwrap().message_response
    else {
        panic!("expected an error")
    };
    assert_eq!(err.error_code, 5);
    stream.close_send();
    assert!(stream.recv().await.unwrap().is_none());
}
