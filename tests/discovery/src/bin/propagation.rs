//! `propagation`: how long a registration takes to reach a watcher, on any registry.
//!
//! ```text
//! propagation watch --count 100       # on host B: prints {"count":..,"median_ms":..,"p99_ms":..}
//! propagation register --count 100    # on host A: registers prop-0 .. prop-99, then removes them
//! ```
//!
//! The registry comes from the `MICRO_*` environment. Each record carries the wall-clock time
//! it was registered at (node metadata `sent`, unix nanoseconds); the watcher subtracts it from
//! the time the event arrived. Both hosts must share a clock: network namespaces of one
//! machine do.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use micro::registry::{Action, Node, RegisterOptions, Service, WatchOptions};

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn usage() -> std::process::ExitCode {
    eprintln!("usage: propagation watch|register [--count N]");
    std::process::ExitCode::from(2)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(role) = args.first() else {
        return usage();
    };
    let count: usize = match args.iter().position(|a| a == "--count") {
        Some(i) => match args.get(i + 1).and_then(|v| v.parse().ok()) {
            Some(n) => n,
            None => return usage(),
        },
        None => 100,
    };
    let registry = match micro::options::Settings::from_env().and_then(|s| s.registry()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("propagation: {}", e.detail());
            return std::process::ExitCode::from(2);
        }
    };
    let result = match role.as_str() {
        "watch" => watch(&registry, count).await,
        "register" => register(&registry, count).await,
        _ => return usage(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("propagation: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn watch(registry: &micro::registry::SharedRegistry, count: usize) -> Result<(), String> {
    let mut watcher = registry
        .watch(WatchOptions::all())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("ready");
    let mut latencies = Vec::with_capacity(count);
    while latencies.len() < count {
        let event = match tokio::time::timeout(Duration::from_secs(60), watcher.next()).await {
            Ok(Some(Ok(event))) => event,
            Ok(Some(Err(e))) => {
                eprintln!("watch error: {e}");
                continue;
            }
            Ok(None) => return Err("the watch ended".into()),
            Err(_) => return Err(format!("only {} events within 60 s", latencies.len())),
        };
        if event.action != Action::Create || !event.service.name.starts_with("prop-") {
            continue;
        }
        let arrived = now_nanos();
        let sent: u128 = event
            .service
            .nodes
            .first()
            .and_then(|n| n.metadata.get("sent"))
            .and_then(|s| s.parse().ok())
            .ok_or("a record without `sent`")?;
        latencies.push(arrived.saturating_sub(sent) as f64 / 1e6);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "{}",
        serde_json::json!({
            "registry": registry.name(),
            "count": latencies.len(),
            "median_ms": at(0.5),
            "p99_ms": at(0.99),
            "max_ms": at(1.0),
        })
    );
    Ok(())
}

async fn register(registry: &micro::registry::SharedRegistry, count: usize) -> Result<(), String> {
    let mut done = Vec::with_capacity(count);
    for i in 0..count {
        let service = Service::new(format!("prop-{i}"), "1").with_node(
            Node::new(format!("prop-{i}-node"), "198.51.100.250:1")
                .with_metadata("sent", now_nanos().to_string()),
        );
        registry
            .register(&service, RegisterOptions::ttl(Duration::from_secs(30)))
            .await
            .map_err(|e| e.to_string())?;
        done.push(service);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for service in &done {
        let _ = registry.deregister(service).await;
    }
    Ok(())
}
