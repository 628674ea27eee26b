//! The fault suite's service: `ledger` answers `Ledger.Work` with its node name (LEDGER_NODE)
//! after the requested sleep, and appends each call's id to LEDGER_FILE, so the suite can
//! count calls that ran twice. Settings come from MICRO_* as in any service. With
//! LEDGER_METRICS_MS it prints its memory, open files and tasks that often (JSON lines).

#![allow(clippy::print_stdout)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use discovery_tests::faults::{WorkReply, WorkRequest};
use micro::server::{Route, Router};

#[tokio::main]
async fn main() -> micro::Result<()> {
    let node = std::env::var("LEDGER_NODE").unwrap_or_else(|_| "node".into());
    let path = std::env::var("LEDGER_FILE").unwrap_or_else(|_| format!("{node}.ledger"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| micro::Error::internal("ledger", format!("open {path}: {e}")))?;
    let file = Arc::new(Mutex::new(file));
    let router = Router::new().route(
        Route::unary("Ledger.Work", move |_ctx, req: WorkRequest| {
            let (file, node) = (file.clone(), node.clone());
            async move {
                if req.sleep_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(req.sleep_ms)).await;
                }
                let line = format!("{}\n", req.id);
                let _ = file
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .write_all(line.as_bytes());
                Ok(WorkReply { node })
            }
        })
        .package("faults"),
    );
    if let Some(every) = std::env::var("LEDGER_METRICS_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(every));
            loop {
                tick.tick().await;
                println!("{}", discovery_tests::faults::sample());
            }
        });
    }
    micro::Service::builder("ledger")
        .handler(router)
        .build()?
        .run()
        .await
}
