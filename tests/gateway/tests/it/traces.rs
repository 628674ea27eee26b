//! Tracing end to end: a request through the gateway to service A, A's call to service B, B's
//! event through the broker to subscriber C, all exported over OTLP/HTTP to a receiver that
//! decodes with the official OpenTelemetry schema (`python/otlp_receiver.py`), come back as
//! one trace under the caller's `traceparent`, every span under the one before it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use gateway_tests::pb::Echo;
use gateway_tests::*;
use micro::Service;
use micro::broker::{MemoryBroker, Publisher, SharedBroker};
use micro::client::CallOptions;
use micro::server::Router;
use micro::trace::{SpanContext, Tracer, TracerKind};
use micro_gateway::Options;
use serde_json::Value;

/// The receiver, stopped when dropped.
struct Receiver {
    child: Child,
    port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the receiver; `None` (the test skips) when Python or `opentelemetry-proto` is
/// missing, unless `MICRO_REQUIRE_PEERS=1`.
#[allow(clippy::print_stderr)] // says why the test skipped
fn receiver() -> Option<Receiver> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/otlp_receiver.py");
    let required = std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if !required => {
            eprintln!("skipped: no python3 ({e})");
            return None;
        }
        Err(e) => panic!("python3: {e}, and MICRO_REQUIRE_PEERS=1"),
    };
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    let Some(port) = line.trim().strip_prefix("port ") else {
        let _ = child.kill();
        assert!(
            !required,
            "the OTLP receiver did not start ({line:?}), and MICRO_REQUIRE_PEERS=1 (pip install -r scripts/requirements-test.txt)"
        );
        eprintln!("skipped: {}", line.trim());
        return None;
    };
    let port = port.parse().expect("a port");
    Some(Receiver { child, port })
}

/// The spans the receiver holds once `count` of them arrived (waits up to 30 s).
async fn spans(port: u16, count: usize) -> Vec<Value> {
    let url = format!("http://127.0.0.1:{port}/spans");
    let mut last = Vec::new();
    for _ in 0..300 {
        let a = send("GET", &url, &[], "").await;
        last = a.json().as_array().cloned().unwrap_or_default();
        if last.len() >= count {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} spans arrived, not {count}: {last:#?}", last.len());
}

fn traced(name: &str, port: u16) -> micro::ServiceBuilder {
    Service::builder(name)
        .ignore_env()
        .flags([
            "--tracer",
            "otlp",
            "--tracer_address",
            &format!("127.0.0.1:{port}"),
        ])
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
}

#[tokio::test]
async fn a_request_through_gateway_services_and_broker_is_one_trace() {
    let Some(otlp) = receiver() else {
        return;
    };
    let (_, registry) = registry();
    let broker: SharedBroker = Arc::new(MemoryBroker::new());

    // C: takes the event, says what its context holds.
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let sink = traced("sink", otlp.port)
        .registry(registry.clone())
        .broker(broker.clone())
        .subscriber("traced.events", move |ctx: micro::Context, _: Echo| {
            let seen = seen_tx.clone();
            async move {
                let _ = seen.send((
                    ctx.trace(),
                    ctx.metadata().get("tracestate").map(str::to_owned),
                ));
                Ok(())
            }
        })
        .build()
        .expect("sink")
        .start()
        .await
        .expect("start sink");

    // B: publishes what it is given.
    let events = Publisher::<Echo>::new(broker.clone(), "traced.events");
    let back = traced("back", otlp.port)
        .registry(registry.clone())
        .broker(broker.clone())
        .handler(Router::new().unary("Back.Store", move |_ctx, req: Echo| {
            let events = events.clone();
            async move {
                events.publish(&req).await?;
                Ok(req)
            }
        }))
        .build()
        .expect("back")
        .start()
        .await
        .expect("start back");

    // A: calls B with its own client and its context.
    let front = traced("front", otlp.port)
        .registry(registry.clone())
        .broker(broker.clone())
        .build()
        .expect("front");
    let client = front.client();
    let front = front
        .handler(Router::new().unary("Front.Relay", move |ctx, req: Echo| {
            let client = client.clone();
            async move {
                let rsp: Echo = client
                    .call_with(&ctx, "back", "Back.Store", &req, &CallOptions::new())
                    .await?;
                Ok(rsp)
            }
        }))
        .start()
        .await
        .expect("start front");

    let mut options = Options::default();
    options.tracer = Tracer::from_settings(
        TracerKind::Otlp,
        Some(&format!("http://127.0.0.1:{}", otlp.port)),
        "micro.api",
    )
    .expect("tracer");
    let gw = start_gateway(&registry, options).await;
    gw.sees("front", "Front.Relay").await;

    // The gateway's own routes open no traces.
    assert_eq!(send("GET", &gw.url("/health"), &[], "").await.status, 200);

    let caller = SpanContext::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .expect("traceparent");
    let a = send(
        "POST",
        &gw.url("/front/relay"),
        &[
            ("content-type", "application/json"),
            ("traceparent", &caller.traceparent()),
            ("tracestate", "vendor=abc"),
        ],
        r#"{"text":"hi","n":"1"}"#,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["text"], "hi");

    let (trace, state) = tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("the event arrives")
        .expect("an event");
    let trace = trace.expect("the subscriber's context names its span");
    assert_eq!(
        trace.trace_id(),
        caller.trace_id(),
        "one trace, the caller's"
    );
    assert_eq!(
        state.as_deref(),
        Some("vendor=abc"),
        "tracestate travels unchanged"
    );

    let got = spans(otlp.port, 7).await;
    assert_eq!(got.len(), 7, "seven spans, none for /health: {got:#?}");
    for s in &got {
        assert_eq!(s["trace_id"], caller.trace_id(), "{s:#}");
        assert_eq!(s["scope"], "micro");
        assert!(s["end"].as_u64() >= s["start"].as_u64(), "{s:#}");
    }
    let find = |service: &str, kind: u64| -> &Value {
        got.iter()
            .find(|s| s["service"] == service && s["kind"] == kind)
            .unwrap_or_else(|| panic!("no {service} span of kind {kind}: {got:#?}"))
    };
    // OTLP kinds: 2 server, 3 client, 4 producer, 5 consumer.
    let gateway = find("micro.api", 2);
    let gateway_call = find("micro.api", 3);
    let front_serve = find("front", 2);
    let front_call = find("front", 3);
    let back_serve = find("back", 2);
    let publish = find("back", 4);
    let deliver = find("sink", 5);
    let chain = [
        gateway,
        gateway_call,
        front_serve,
        front_call,
        back_serve,
        publish,
        deliver,
    ];
    assert_eq!(gateway["parent_span_id"], caller.span_id());
    for pair in chain.windows(2) {
        assert_eq!(
            pair[1]["parent_span_id"], pair[0]["span_id"],
            "{:#} is under {:#}",
            pair[1], pair[0]
        );
    }
    assert_eq!(
        deliver["span_id"],
        trace.span_id(),
        "the subscriber runs in its span"
    );
    assert_eq!(gateway["name"], "POST");
    assert_eq!(gateway["attributes"]["http.response.status_code"], 200);
    assert_eq!(gateway_call["name"], "front/Front.Relay");
    assert_eq!(front_serve["attributes"]["rpc.method"], "Front.Relay");
    assert_eq!(
        front_serve["attributes"]["micro.node"],
        front.node().id.as_str()
    );
    assert_eq!(
        front_call["attributes"]["server.address"],
        back.node().address.as_str()
    );
    assert_eq!(back_serve["attributes"]["micro.status"], 200);
    assert_eq!(publish["name"], "publish traced.events");
    assert_eq!(
        deliver["attributes"]["messaging.destination.name"],
        "traced.events"
    );
    assert_eq!(deliver["status"], 0, "success leaves the status unset");

    drop(gw);
    for running in [front, back, sink] {
        running.stop().await.expect("stop");
    }
}
