//! `broker-subscriber TOPIC QUEUE FILE`: subscribes to TOPIC in queue group QUEUE on the
//! broker the environment names (MICRO_BROKER, MICRO_BROKER_ADDRESS), and appends each
//! message body to FILE, one line per handled message, before acknowledging it. Prints
//! `READY` once subscribed. The crash test kills it with SIGKILL mid-stream.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use micro::broker::{Event, SubscribeOptions, handler};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [topic, queue, file] = args.as_slice() else {
        eprintln!("usage: broker-subscriber TOPIC QUEUE FILE");
        return std::process::ExitCode::from(2);
    };
    match run(topic, queue, file).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker-subscriber: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(topic: &str, queue: &str, file: &str) -> micro::Result<()> {
    let options = micro::options::Settings::from_env()?;
    let registry = options.registry()?;
    let broker = options.broker(&registry)?;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| micro::Error::internal("subscriber", format!("cannot open {file}: {e}")))?;
    let out = Arc::new(Mutex::new(out));
    let handle = handler(move |event: Event| {
        let mut line = event.message().body.to_vec();
        line.push(b'\n');
        // One write per message: a kill can come before or after it, never inside it.
        let written = out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(&line)
            .map_err(|e| micro::Error::internal("subscriber", e.to_string()));
        async move { written }
    });
    let sub = broker
        .subscribe(
            topic,
            handle,
            SubscribeOptions::queue(queue).ack_wait(Duration::from_secs(2)),
        )
        .await?;
    println!("READY");
    let _ = std::io::stdout().flush();
    micro::service::shutdown_signal().await;
    sub.unsubscribe().await;
    Ok(())
}
