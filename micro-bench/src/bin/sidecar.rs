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
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

const BODY: &str = r#"{"text":"hello sidecar"}"#;

fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

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

/// Start this binary with `args` and read the address it prints.
fn spawn(args: &[&str], home: &std::path::Path) -> (Child, String) {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .args(args)
        .env("MICRO_HOME", home)
        .env("MICRO_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while std::io::Read::read(&mut out, &mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    (child, String::from_utf8_lossy(&line).trim().to_owned())
}

/// One closed-loop run: `conc` connections for `seconds`; latencies in µs and calls/s.
async fn drive(
    addr: &str,
    path: &str,
    conc: usize,
    seconds: u64,
) -> (hdrhistogram::Histogram<u64>, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (stop, addr, path) = (stop.clone(), addr.to_owned(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut hist = hdrhistogram::Histogram::<u64>::new(3).expect("histogram");
            let stream = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            let _ = stream.set_nodelay(true);
            let (mut send, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(conn);
            let mut ok = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let req = http::Request::post(path.as_str())
                    .header("host", addr.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                    .expect("request");
                let start = Instant::now();
                let Ok(rsp) = send.send_request(req).await else {
                    break;
                };
                let status = rsp.status();
                let body = rsp.into_body().collect().await.map(|b| b.to_bytes());
                if status.is_success() && body.as_ref().is_ok_and(|b| b.as_ref() == BODY.as_bytes())
                {
                    let _ = hist.record(start.elapsed().as_micros() as u64);
                    ok += 1;
                }
            }
            (hist, ok)
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let mut all = hdrhistogram::Histogram::<u64>::new(3).expect("histogram");
    let mut total = 0;
    for t in tasks {
        if let Ok((h, ok)) = t.await {
            let _ = all.add(h);
            total += ok;
        }
    }
    (all, total as f64 / elapsed)
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
        let _ = drive(addr, path, 16, 1).await;
        let (one, rate1) = drive(addr, path, 1, seconds).await;
        let (sixteen, rate16) = drive(addr, path, 16, seconds).await;
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
