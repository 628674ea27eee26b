//! The gateway hop, side by side: the same JSON request sent straight to a service's HTTP
//! port (its Connect endpoint), through `micro api`'s gateway, and through nginx proxying to
//! the service's port. One service process, one gateway process, one nginx worker, and the
//! load driver, all on loopback.
//!
//! ```text
//! gateway [--seconds 5] [--nginx PATH]     run every target at 1, 16 and 256 in flight
//! gateway service                          (internal) serve Echo.Say, print the address
//! gateway gateway                          (internal) serve the gateway, print the address
//! ```
//!
//! Prints a Markdown table: p50 and p99 at 1 in flight, calls per second at 16 and 256.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use micro::server::{Route, Router};
use micro_bench::http::{drive, flag, spawn};

const BODY: &str = r#"{"text":"hello gateway"}"#;

async fn serve_service() {
    let router = Router::new().route(Route::raw("Echo.Say", |_ctx, _format, body| async move {
        Ok(body)
    }));
    let running = micro::Service::builder("echo")
        .address("127.0.0.1:0")
        .handler(router)
        .build()
        .expect("build the service")
        .start()
        .await
        .expect("start the service");
    println!("{}", running.local_addr().expect("address"));
    let _ = tokio::signal::ctrl_c().await;
}

async fn serve_gateway() {
    let settings = micro::Settings::from_env().expect("settings");
    let client = micro::Client::from_settings(&settings).expect("client");
    let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
    gateway.refresh().await.expect("routes");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("{}", listener.local_addr().expect("address"));
    gateway
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("serve");
}

fn start_nginx(nginx: &str, dir: &std::path::Path, upstream: &str) -> Option<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let conf = format!(
        "worker_processes 1;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
           fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
           upstream svc {{ server {upstream}; keepalive 512; keepalive_requests 10000000; }}\n\
           server {{\n    listen 127.0.0.1:{port};\n    keepalive_requests 10000000;\n    location / {{\n      proxy_pass http://svc;\n\
               proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n    }}\n  }}\n}}\n",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).ok()?;
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return Some((child, addr));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    None
}

/// CPU time (user + system) a process has used, in microseconds (Linux `/proc`).
fn cpu_us(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may hold spaces), 1-based from field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    ticks * 10_000
}

async fn run(args: &[String]) {
    let seconds: u64 = flag(args, "--seconds", "5").parse().unwrap_or(5);
    let nginx = flag(args, "--nginx", "nginx");
    let dir = std::env::temp_dir().join(format!("micro-gateway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut service, service_addr) = spawn(&["service"], &dir);
    let (mut gateway, gateway_addr) = spawn(&["gateway"], &dir);
    let nginx = start_nginx(&nginx, &dir, &service_addr);
    if nginx.is_none() {
        eprintln!("nginx did not start (Debian package nginx-light or nginx): its row is left out");
    }
    let mut targets = vec![
        (
            "direct (service's HTTP/JSON port)",
            service_addr.clone(),
            "/Echo/Say",
        ),
        ("micro api (gateway hop)", gateway_addr.clone(), "/echo/say"),
    ];
    if let Some((_, addr)) = &nginx {
        targets.push((
            "nginx (proxy to the service's port)",
            addr.clone(),
            "/Echo/Say",
        ));
    }
    let mut pids = vec![service.id(), gateway.id()];
    if let Some((child, _)) = &nginx {
        pids.push(child.id());
        // nginx's worker is a child of the master.
        if let Ok(children) =
            std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
        {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    println!(
        "| target | p50 µs (1) | p99 µs (1) | calls/s (1) | calls/s (16) | calls/s (256) | CPU µs/call at 16: service + proxy |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, addr, path) in &targets {
        let _ = drive(addr, path, BODY, 16, 1).await; // warm up connections and caches
        let (one, rate1) = drive(addr, path, BODY, 1, seconds).await;
        let before: Vec<u64> = pids.iter().map(|p| cpu_us(*p)).collect();
        let (_, rate16) = drive(addr, path, BODY, 16, seconds).await;
        let after: Vec<u64> = pids.iter().map(|p| cpu_us(*p)).collect();
        let calls = (rate16 * seconds as f64).max(1.0);
        let service_us = (after[0] - before[0]) as f64 / calls;
        let proxy_us: f64 = after
            .iter()
            .zip(&before)
            .skip(1)
            .map(|(a, b)| (a - b) as f64)
            .sum::<f64>()
            / calls;
        let (_, rate256) = drive(addr, path, BODY, 256, seconds).await;
        println!(
            "| {name} | {} | {} | {:.0} | {:.0} | {:.0} | {service_us:.1} + {proxy_us:.1} |",
            one.value_at_quantile(0.5),
            one.value_at_quantile(0.99),
            rate1,
            rate16,
            rate256
        );
    }
    let _ = service.kill();
    let _ = gateway.kill();
    if let Some((mut child, _)) = nginx {
        // SIGTERM to the master stops its worker too (SIGKILL would orphan it).
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
    }
    let _ = service.wait();
    let _ = gateway.wait();
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
        Some("service") => runtime.block_on(serve_service()),
        Some("gateway") => runtime.block_on(serve_gateway()),
        _ => runtime.block_on(run(&args)),
    }
}
