//! What the HTTP benchmarks (`gateway`, `sidecar`) share: their flags, the processes they
//! start (this binary again, in another mode) and the closed-loop HTTP/1.1 driver.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

/// The value after `name` in `args`, or `default`.
pub fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// Start this binary with `args` (a mode and its arguments), `MICRO_HOME` at `home`, and
/// read the address it prints on its first line.
pub fn spawn(args: &[&str], home: &std::path::Path) -> (Child, String) {
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

/// An HTTP/1.1 connection to `addr`.
pub async fn connect(addr: &str) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    send
}

/// One closed-loop run: `conc` connections, each posting `body` (JSON) to `path` as soon as
/// the last answer arrived, for `seconds`. Latencies of the successful calls in
/// microseconds, and successful calls a second.
pub async fn drive(
    addr: &str,
    path: &str,
    body: &'static str,
    conc: usize,
    seconds: u64,
) -> (hdrhistogram::Histogram<u64>, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (stop, addr, path) = (stop.clone(), addr.to_owned(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut hist = hdrhistogram::Histogram::<u64>::new(3).expect("histogram");
            let mut send = connect(&addr).await;
            let mut ok = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let req = http::Request::post(path.as_str())
                    .header("host", addr.as_str())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .expect("request");
                let start = Instant::now();
                let Ok(rsp) = send.send_request(req).await else {
                    // The server closed a kept-alive connection: open another.
                    send = connect(&addr).await;
                    continue;
                };
                let status = rsp.status();
                let answer = rsp.into_body().collect().await.map(|b| b.to_bytes());
                if status.is_success() && answer.is_ok() {
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
