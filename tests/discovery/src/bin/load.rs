//! The fault suite's driver: calls `ledger` `Ledger.Work` at a fixed rate (open loop) for a
//! while, then prints every call as JSON lines (`faults::Call`). Settings from MICRO_*.
//!
//! load [--rate 200] [--seconds 8] [--timeout-ms 1000] [--sleep-ms 0] [--fresh-client-ms N]
//!
//! With `--fresh-client-ms` the driver starts over with a new client (new connections,
//! a new registry cache) that often: connection churn.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use discovery_tests::faults::{Call, WorkReply, WorkRequest};
use micro::client::CallOptions;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> micro::Result<()> {
    let (rate, seconds) = (arg("--rate", 200).max(1), arg("--seconds", 8));
    let (timeout, sleep_ms) = (arg("--timeout-ms", 1000), arg("--sleep-ms", 0));
    let fresh_every = arg("--fresh-client-ms", 0);
    let mut client = micro::Client::from_env()?;
    let mut fresh_at = Instant::now();
    // Find the service before the clock starts.
    let _ = client.selector().select("ledger", &[]).await?;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let every = Duration::from_micros(1_000_000 / rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..rate * seconds {
        tick.tick().await;
        if fresh_every > 0 && fresh_at.elapsed() >= Duration::from_millis(fresh_every) {
            client = micro::Client::from_env()?;
            fresh_at = Instant::now();
        }
        let (client, calls) = (client.clone(), calls.clone());
        tasks.spawn(async move {
            let at = start.elapsed();
            let request = WorkRequest {
                id: format!("c{i}"),
                sleep_ms,
            };
            let result: micro::Result<WorkReply> = client
                .call_with(
                    &micro::Context::new(),
                    "ledger",
                    "Ledger.Work",
                    &request,
                    &CallOptions::new().timeout(Duration::from_millis(timeout)),
                )
                .await;
            let ms = u64::try_from((start.elapsed() - at).as_millis()).unwrap_or(u64::MAX);
            let (outcome, node) = match result {
                Ok(reply) => ("ok".to_owned(), reply.node),
                Err(e) => (format!("{:?}", e.grpc_code()), String::new()),
            };
            calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
                at: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
                ms,
                outcome,
                node,
            });
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let calls = calls.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::new();
    for call in calls.iter() {
        out.push_str(&serde_json::to_string(call).unwrap_or_default());
        out.push('\n');
    }
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())
        .map_err(|e| micro::Error::internal("load", format!("write: {e}")))?;
    Ok(())
}
