//! Prometheus metrics: a service serves `/metrics`, and a real Prometheus (Debian
//! `prometheus`) scrapes it and answers its query API with the count of calls made.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use micro_runtime::Service;
use micro_runtime::registry::MemoryRegistry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, Echo};

/// `GET path` from `addr` over HTTP/1.1: (status line, body).
async fn get(addr: &str, path: &str) -> (String, String) {
    try_get(addr, path).await.expect("GET")
}

/// `GET path` from `addr`, or `None` when nothing answers there (yet).
async fn try_get(addr: &str, path: &str) -> Option<(String, String)> {
    let mut conn = tokio::net::TcpStream::connect(addr).await.ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut raw))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or("").to_owned();
    // A chunked body (Prometheus answers so): join the chunks.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if size == 0 || after.len() < size {
                break;
            }
            out.push_str(&after[..size]);
            rest = after[size..].trim_start_matches("\r\n");
        }
        out
    } else {
        body.to_owned()
    };
    Some((status, body))
}

/// An echo node of `name` serving metrics on a free port.
async fn metered(registry: &MemoryRegistry, name: &str) -> micro_runtime::service::RunningService {
    let builder = Service::builder(name)
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .flags([
            "--transport",
            crate::SERVER_TRANSPORT,
            "--metrics_address",
            "127.0.0.1:0",
        ]);
    support::start_with(
        builder,
        support::echo_router(name, support::Counter::default()),
    )
    .await
}

#[tokio::test]
async fn metrics_count_calls_by_endpoint_status_and_node() {
    let reg = MemoryRegistry::new();
    let running = metered(&reg, "metered").await;
    let addr = running.metrics_addr().expect("metrics served").to_string();
    let client = support::client(&reg);
    for i in 0..7 {
        let _: Echo = client
            .call("metered", "Echo.Call", &Echo::text(&format!("{i}")))
            .await
            .unwrap();
    }
    let err = client
        .call::<_, Echo>("metered", "Echo.Missing", &Echo::text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), micro_runtime::error::Code::Unimplemented);

    // A call whose deadline passes while the handler still runs: the server drops it and
    // counts it as CANCELLED.
    let slow = Echo {
        sleep_ms: 2_000,
        ..Echo::default()
    };
    let err = client
        .call_with::<_, Echo>(
            &micro_runtime::Context::new(),
            "metered",
            "Echo.Call",
            &slow,
            &micro_runtime::client::CallOptions::new().timeout(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.grpc_code(),
        micro_runtime::error::Code::DeadlineExceeded,
        "{err}"
    );
    let cancelled = r#"micro_server_requests_total{service="metered",endpoint="Echo.Call",status="CANCELLED"} 1"#;
    let started = Instant::now();
    let (status, text) = loop {
        let (status, text) = get(&addr, "/metrics").await;
        if text.contains(cancelled) || started.elapsed() > Duration::from_secs(30) {
            break (status, text);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(text.contains(cancelled), "{text}");
    assert!(status.contains("200"), "{status}");
    let served =
        r#"micro_server_requests_total{service="metered",endpoint="Echo.Call",status="OK"} 7"#;
    assert!(text.contains(served), "{text}");
    assert!(
        text.contains(
            r#"micro_server_requests_in_flight{service="metered",endpoint="Echo.Call"} 0"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"micro_server_request_duration_seconds_count{service="metered",endpoint="Echo.Call"} 8"#
        ),
        "{text}"
    );
    let node = running.node().address.clone();
    let attempts = format!(
        r#"micro_client_requests_total{{service="metered",endpoint="Echo.Call",node="{node}",status="OK"}} 7"#
    );
    assert!(text.contains(&attempts), "{text}");
    let unknown = format!(
        r#"micro_client_requests_total{{service="metered",endpoint="unknown",node="{node}",status="UNIMPLEMENTED"}} 1"#
    );
    assert!(
        text.contains(&unknown) && !text.contains("Echo.Missing"),
        "an endpoint the service lacks is counted under one label: {text}"
    );
    let (status, _) = get(&addr, "/other").await;
    assert!(status.contains("404"), "{status}");
    running.stop().await.unwrap();
}

/// A Prometheus of our own on a free port, scraping `target` every second.
struct Prometheus {
    child: Child,
    addr: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> Option<String> {
    let found = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(str::to_owned);
    if found.is_none() {
        assert!(
            !std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1"),
            "no prometheus binary, and MICRO_REQUIRE_PEERS=1 (scripts/test.sh installs Debian prometheus)"
        );
        eprintln!("skipped: no prometheus binary (Debian prometheus)");
    }
    found
}

fn start_prometheus(binary: &str, dir: &Path, target: &str) -> Prometheus {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: micro\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    Prometheus {
        child,
        addr: format!("127.0.0.1:{port}"),
    }
}

#[tokio::test]
async fn prometheus_scrapes_a_service_and_its_query_api_returns_the_calls_made() {
    let Some(binary) = prometheus_binary() else {
        return;
    };
    let reg = MemoryRegistry::new();
    let running = metered(&reg, "scraped").await;
    let target = running.metrics_addr().unwrap().to_string();
    let client = support::client(&reg);
    // A short load: 40 calls from 4 tasks.
    let mut tasks = Vec::new();
    for t in 0..4 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let _: Echo = client
                    .call("scraped", "Echo.Call", &Echo::text(&format!("{t}-{i}")))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start_prometheus(&binary, dir.path(), &target);
    let query = "/api/v1/query?query=micro_server_requests_total%7Bservice%3D%22scraped%22%2Cstatus%3D%22OK%22%7D";
    let started = Instant::now();
    let mut last = String::new();
    loop {
        if let Some((_, body)) = try_get(&prometheus.addr, query).await {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) {
                let value = json["data"]["result"][0]["value"][1]
                    .as_str()
                    .map(str::to_owned);
                if value.as_deref() == Some("40") {
                    assert_eq!(
                        json["data"]["result"][0]["metric"]["endpoint"], "Echo.Call",
                        "{body}"
                    );
                    break;
                }
            }
            last = body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "Prometheus never returned 40 calls; its last answer: {last}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    running.stop().await.unwrap();
}
