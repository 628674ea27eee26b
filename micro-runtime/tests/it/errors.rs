use std::time::{Duration, Instant};

use bytes::Bytes;
use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::{Client, Code, Context, Format};

use crate::support::{self, Echo};

#[tokio::test]
async fn unknown_service_is_404() {
    let reg = MemoryRegistry::new();
    let client = support::client(&reg);
    let err = client
        .call::<_, Echo>("greeter", "Greeter.Hello", &Echo::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), 404);
    assert_eq!(err.detail(), "service greeter: not found");
    assert_eq!(err.id(), "micro.client");
}

#[tokio::test]
async fn unknown_endpoint_is_unimplemented() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let err = client
        .call::<_, Echo>("echo", "Echo.Nope", &Echo::default())
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::Unimplemented);
    assert_eq!(err.code(), 501);
    assert!(
        err.detail().contains("unknown endpoint Echo.Nope"),
        "{}",
        err.detail()
    );
    let err = client
        .call::<_, Echo>("echo", "Nope", &Echo::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), 400, "{err}");
}

#[tokio::test]
async fn malformed_json_is_400_with_the_parse_error() {
    let reg = MemoryRegistry::new();
    let (_n, calls) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let err = client
        .call_raw(
            &Context::new(),
            "echo",
            "Echo.Call",
            Format::Json,
            Bytes::from_static(b"{\"text\": "),
            &CallOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), 400);
    assert!(err.detail().contains("malformed JSON"), "{}", err.detail());
    assert!(err.detail().contains("line 1 column"), "{}", err.detail());
    assert_eq!(calls.get(), 0, "the handler never ran");
}

#[tokio::test]
async fn handler_errors_arrive_intact() {
    let reg = MemoryRegistry::new();
    let (_n, calls) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let req = Echo {
        text: "ünïcødé ✓ 100%\ttab".into(),
        fail_code: 409,
        ..Echo::default()
    };
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &req)
        .await
        .unwrap_err();
    assert_eq!(err.id(), "echo");
    assert_eq!(err.code(), 409);
    assert_eq!(err.status(), "Conflict");
    assert_eq!(err.detail(), "failed on purpose: ünïcødé ✓ 100%\ttab");
    assert_eq!(err.grpc_code(), Code::AlreadyExists);
    // An answered error is never retried, not even for an idempotent call.
    let opts = CallOptions::new().idempotent(true).retries(3);
    let _ = client
        .call_with::<_, Echo>(&Context::new(), "echo", "Echo.Call", &req, &opts)
        .await
        .unwrap_err();
    assert_eq!(calls.get(), 2);
}

#[tokio::test]
async fn deadline_exceeded_is_408_and_quick() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let req = Echo {
        sleep_ms: 5_000,
        ..Echo::default()
    };
    let started = Instant::now();
    let opts = CallOptions::new().timeout(Duration::from_millis(200));
    let err = client
        .call_with::<_, Echo>(&Context::new(), "echo", "Echo.Call", &req, &opts)
        .await
        .unwrap_err();
    assert_eq!(err.code(), 408);
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A context deadline works the same way.
    let ctx = Context::new().with_timeout(Duration::from_millis(100));
    let err = client
        .call_with::<_, Echo>(&ctx, "echo", "Echo.Call", &req, &CallOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), 408);
}

#[tokio::test]
async fn messages_over_the_limit_are_resource_exhausted_both_ways() {
    let reg = MemoryRegistry::new();
    let (_n, calls) = support::start_echo(&reg, "a").await;
    let five_mib = Echo {
        payload: vec![1u8; 5 * 1024 * 1024],
        ..Echo::default()
    };
    // Caught by the client before sending.
    let client = support::client(&reg);
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &five_mib)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::ResourceExhausted);
    assert_eq!(err.code(), 413);
    assert!(
        err.detail()
            .contains("larger than the limit of 4194304 bytes"),
        "{}",
        err.detail()
    );

    // A client that allows more: the server refuses it.
    let mut big = support::options();
    big.max_send_message_size = 8 * 1024 * 1024;
    big.max_recv_message_size = 8 * 1024 * 1024;
    let client = Client::with_options(std::sync::Arc::new(reg.clone()), big);
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &five_mib)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::ResourceExhausted, "{err}");
    assert_eq!(calls.get(), 0);

    // A response over the server's limit.
    let req = Echo {
        count: 5 * 1024 * 1024,
        ..Echo::default()
    };
    let err = client
        .call::<_, Echo>("echo", "Echo.Big", &req)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::ResourceExhausted, "{err}");

    // Just under the limit works.
    let ok = Echo {
        payload: vec![1u8; 4 * 1024 * 1024 - 64],
        ..Echo::default()
    };
    let client = support::client(&reg);
    let rsp: Echo = client.call("echo", "Echo.Call", &ok).await.unwrap();
    assert_eq!(rsp.payload.len(), ok.payload.len());
}
