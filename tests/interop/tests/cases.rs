//! The interop cases, micro client against micro server, inside `cargo test`. The stock peers
//! (Python grpcio, Node grpc-js, Connect, curl) run the same cases from `scripts/interop.sh`.

use std::sync::Arc;

/// The micro interop service on a free port.
async fn start() -> micro::RunningService {
    micro::Service::builder("interop")
        .registry(Arc::new(micro::registry::MemoryRegistry::new()))
        .address("127.0.0.1:0")
        .handler(interop::pb::test_service_server::TestServiceServer::new(
            interop::TestServiceImpl,
        ))
        .build()
        .expect("build")
        .start()
        .await
        .expect("start")
}

#[tokio::test]
async fn every_case_passes_micro_to_micro() {
    let running = start().await;
    let addr = running.local_addr().expect("listens on TCP");
    let cases = interop::Cases::new(&addr.to_string());
    let mut failures = Vec::new();
    for name in interop::Cases::NAMES {
        if let Err(detail) = cases.run(name).await {
            failures.push(format!("{name}: {detail}"));
        }
    }
    running.stop().await.expect("stop");
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_cancelled_call_ends_its_handler() {
    let running = start().await;
    let addr = running.local_addr().expect("listens on TCP");
    let cases = interop::Cases::new(&addr.to_string());
    for name in ["cancel_after_begin", "cancel_after_first_response"] {
        cases
            .run(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The call was dropped while its handler waited for requests: the handler ends.
        let start = std::time::Instant::now();
        while interop::live_streams() > 0 {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{name}: the handler of the cancelled call is still running"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    running.stop().await.expect("stop");
}
