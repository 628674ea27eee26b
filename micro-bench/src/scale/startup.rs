//! Start-up: from process start to registered, and to the first answered call, for the
//! greeter example (`greeter-server`), median of 20 starts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use micro::registry::{LocalRegistry, Registry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Settings, Table, human, median};

/// One JSON call over HTTP/1.1 to `addr`; true when the greeter answered.
async fn hello(addr: &str) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let body = r#"{"name":"John"}"#;
    let request = format!(
        "POST /greeter.Greeter/Hello HTTP/1.1\r\nhost: greeter\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    read.is_ok() && String::from_utf8_lossy(&answer).contains("Hello John")
}

/// One start: (registered after, answered after).
async fn start_once(greeter: &std::path::Path) -> Result<(Duration, Duration), String> {
    let home = super::scratch("startup")?;
    let registry = LocalRegistry::new(home.path().join("registry")).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut child = Command::new(greeter)
        .env("MICRO_HOME", home.path())
        .env("MICRO_REGISTRY", "local")
        .env("MICRO_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", greeter.display()))?;
    let deadline = start + Duration::from_secs(30);
    let (registered, address) = loop {
        if let Ok(services) = registry.get_service("greeter").await
            && let Some(node) = services.iter().flat_map(|s| &s.nodes).next()
        {
            break (start.elapsed(), node.address.clone());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the greeter did not register within 30 s".to_owned());
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    };
    let answered = loop {
        if hello(&address).await {
            break start.elapsed();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the greeter at {address} did not answer within 30 s"
            ));
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..500 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok((registered, answered))
}

/// The start-up table.
pub async fn run(settings: &Settings) -> Result<Table, String> {
    let mut table = Table::new(
        "Start-up of the greeter",
        "`greeter-server` (release build) on the local registry in a fresh `MICRO_HOME`: \
         from spawning the process to its node in the registry, and to the first answered \
         call (JSON over HTTP/1.1, a new connection per try). Median (and slowest) of the \
         starts.",
        &[
            "starts",
            "registered (median)",
            "answered (median)",
            "answered (slowest)",
        ],
    );
    let Some(greeter) = &settings.greeter else {
        table.row(vec!["skipped: no greeter-server binary".to_owned()]);
        return Ok(table);
    };
    let starts = if settings.quick { 5 } else { 20 };
    let mut registered = Vec::new();
    let mut answered = Vec::new();
    for _ in 0..starts {
        let (r, a) = start_once(greeter).await?;
        registered.push(r.as_secs_f64());
        answered.push(a.as_secs_f64());
    }
    let slowest = answered.iter().copied().fold(0.0, f64::max);
    table.row(vec![
        starts.to_string(),
        human(Duration::from_secs_f64(median(&mut registered))),
        human(Duration::from_secs_f64(median(&mut answered))),
        human(Duration::from_secs_f64(slowest)),
    ]);
    Ok(table)
}
