//! The sidecar's overhead, side by side: the same JSON request from a client to an HTTP app
//! straight, and through two sidecars the way Dapr measures it (client → sidecar A's
//! `/v1.0/invoke/b/method/echo` → micro call → sidecar B → `POST /echo` to the app). One
//! process each for the app and the two sidecars, plus the driver, all on loopback.
//!
//! ```text
//! sidecar [--seconds 5]          run both targets at 1 and 16 in flight
//! sidecar app                    (internal) serve the echo app, print the address
//! sidecar proxy [APP]            (internal) serve a sidecar (fronting APP as b), print the address
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use micro_bench::http::{drive, flag, spawn};

const BODY: &str = r#"{"text":"hello sidecar"}"#;

/// The app: answers every POST with its body (what Dapr's test apps do).
async fn serve_app() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("{}", listener.local_addr().expect("address"));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                |req: http::Request<hyper::body::Incoming>| async move {
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let mut rsp = http::Response::new(Full::new(body));
                    rsp.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(rsp)
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A sidecar: its HTTP API on a port it prints, its micro node on another; fronting the app
/// at `app` as `b` when given.
async fn serve_proxy(app: Option<&String>) {
    let settings = micro::Settings::from_env().expect("settings");
    let registry = settings.registry().expect("registry");
    let broker: micro::broker::SharedBroker = Arc::new(micro::broker::MemoryBroker::new());
    let client =
        micro::Client::with_options(registry.clone(), settings.client_options().expect("client"));
    let mut options = micro_proxy::Options::default();
    options.app = app.map(|a| micro_proxy::App::new("b", a));
    let sidecar = micro_proxy::Sidecar::new(client, broker, None, options);
    let node = micro::Service::builder(micro_proxy::SERVICE_NAME)
        .registry(registry)
        .address("127.0.0.1:0")
        .handler(sidecar.rpc_router())
        .build()
        .expect("build the node")
        .start()
        .await
        .expect("start the node");
    sidecar.start(node.node().clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("{}", listener.local_addr().expect("address"));
    let _ = micro_gateway::serve_router(
        sidecar.router(),
        &micro_gateway::Options::default(),
        listener,
        None,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await;
}

/// Wait until sidecar A answers the invocation (b registered and reachable).
async fn ready(addr: &str, path: &str) -> bool {
    for _ in 0..200 {
        if let Ok(stream) = tokio::net::TcpStream::connect(addr).await
            && let Ok((mut send, conn)) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await
        {
            tokio::spawn(conn);
            let req = http::Request::post(path)
                .header("host", addr)
                .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                .expect("request");
            if send
                .send_request(req)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn run(args: &[String]) {
    let seconds: u64 = flag(args, "--seconds", "5").parse().unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("micro-sidecar-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut app, app_addr) = spawn(&["app"], &dir);
    let (mut b, _) = spawn(&["proxy", &app_addr], &dir);
    let (mut a, a_addr) = spawn(&["proxy"], &dir);
    let invoke = "/v1.0/invoke/b/method/echo";
    if !ready(&a_addr, invoke).await {
        eprintln!("sidecar A never reached b");
    }
    println!(
        "| target | p50 µs (1) | p99 µs (1) | calls/s (1) | p50 µs (16) | p99 µs (16) | calls/s (16) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for (name, addr, path) in [
        ("direct (client → app)", app_addr.as_str(), "/echo"),
        (
            "two sidecars (client → A → B → app)",
            a_addr.as_str(),
            invoke,
        ),
    ] {
        let _ = drive(addr, path, BODY, 16, 1).await;
        let (one, rate1) = drive(addr, path, BODY, 1, seconds).await;
        let (sixteen, rate16) = drive(addr, path, BODY, 16, seconds).await;
        println!(
            "| {name} | {} | {} | {rate1:.0} | {} | {} | {rate16:.0} |",
            one.value_at_quantile(0.5),
            one.value_at_quantile(0.99),
            sixteen.value_at_quantile(0.5),
            sixteen.value_at_quantile(0.99),
        );
        rows.push((one.value_at_quantile(0.5), one.value_at_quantile(0.99)));
    }
    if let [direct, sidecars] = rows[..] {
        println!(
            "\nadded by two sidecars at 1 in flight: p50 +{} µs, p99 +{} µs (Dapr v1.17's report: +1,060 µs p50, +2,900 µs p99)",
            sidecars.0.saturating_sub(direct.0),
            sidecars.1.saturating_sub(direct.1)
        );
    }
    for child in [&mut app, &mut b, &mut a] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // MICRO_BENCH_THREADS sets the worker threads of every process (default: one per core).
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("MICRO_BENCH_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder.enable_all().build().expect("runtime");
    match args.get(1).map(String::as_str) {
        Some("app") => runtime.block_on(serve_app()),
        Some("proxy") => runtime.block_on(serve_proxy(args.get(2))),
        _ => runtime.block_on(run(&args)),
    }
}
