//! `micro subscribe` and `micro publish` on every broker engine with a server (NATS core and
//! JetStream, Redis Streams, RabbitMQ, MQTT): a message published by one command is printed
//! by the other, headers and all.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn micro_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_micro"))
}

/// The engines, their addresses, and whether each server answers (a failure when
/// `MICRO_REQUIRE_PEERS=1`, else a skip).
fn engines() -> Vec<(&'static str, &'static str)> {
    let all = [
        ("nats", "nats://127.0.0.1:4222", 4222),
        ("jetstream", "nats://127.0.0.1:4222", 4222),
        ("redis", "redis://127.0.0.1:6379", 6379),
        ("rabbitmq", "amqp://guest:guest@127.0.0.1:5672/%2f", 5672),
        ("mqtt", "mqtt://127.0.0.1:1883", 1883),
    ];
    let required = std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    all.into_iter()
        .filter(|(name, _, port)| {
            let up = std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok();
            assert!(up || !required, "no {name} server on 127.0.0.1:{port}");
            up
        })
        .map(|(name, address, _)| (name, address))
        .collect()
}

#[test]
fn publish_and_subscribe_work_on_every_server_engine() {
    for (engine, address) in engines() {
        let home = tempfile::tempdir().unwrap();
        let topic = format!("cli.engines.{engine}.{:08x}", std::process::id());
        let mut watch = Command::new(micro_bin())
            .env("MICRO_HOME", home.path())
            .env("MICRO_REGISTRY", "memory")
            .args(["--broker", engine, "--broker_address", address])
            .args(["subscribe", &topic, "-n", "1", "--timeout", "60s"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Subscribed once it says so.
        let stderr = watch.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut said = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains("subscribed to") => break,
                Ok(line) => said.push(line),
                Err(_) => panic!("{engine}: micro subscribe never subscribed: {said:?}"),
            }
        }
        let out = Command::new(micro_bin())
            .env("MICRO_HOME", home.path())
            .env("MICRO_REGISTRY", "memory")
            .args(["--broker", engine, "--broker_address", address])
            .args(["publish", &topic, r#"{"order":"o-1","quantity":2}"#])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{engine}: micro publish: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = watch.wait_with_output().unwrap();
        assert!(out.status.success(), "{engine}: micro subscribe failed");
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        let event: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("{engine}: not one JSON event ({e}): {line}"));
        assert_eq!(event["body"]["order"], "o-1", "{engine}: {event}");
        assert_eq!(event["body"]["quantity"], 2, "{engine}: {event}");
        assert_eq!(event["topic"], topic.as_str(), "{engine}: {event}");
        assert_eq!(
            event["content_type"], "application/json",
            "{engine}: {event}"
        );
    }
}
