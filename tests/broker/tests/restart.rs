//! The NATS server restarted under publish and subscribe load (our own server, on its own
//! port, with JetStream on disk): a publish during the outage waits for the server (within
//! its 10 s bound here) or fails with the error; every publish that succeeded is delivered
//! once the server is back, and the subscription resumes by itself.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_tests::unique_topic;
use micro::broker::{Broker, Envelope, Event, NatsBroker, NatsMode, SubscribeOptions, handler};

fn nats_server(port: u16, dir: &std::path::Path) -> Option<Child> {
    Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

fn up(port: u16) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_survives_a_server_restart_without_losing_an_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let Some(mut server) = nats_server(port, dir.path()) else {
        assert!(
            std::env::var("MICRO_REQUIRE_PEERS").is_err(),
            "nats-server is not installed"
        );
        eprintln!("skipped: nats-server is not installed");
        return;
    };
    assert!(up(port), "our nats-server did not start");
    let url = format!("nats://127.0.0.1:{port}");
    let topic = unique_topic("restart");
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let subscriber = NatsBroker::new(url.clone(), NatsMode::JetStream);
    let s = seen.clone();
    let sub = subscriber
        .subscribe(
            &topic,
            handler(move |event: Event| {
                let body = String::from_utf8_lossy(&event.message().body).into_owned();
                *s.lock().unwrap().entry(body).or_default() += 1;
                async { Ok(()) }
            }),
            SubscribeOptions::queue("restart"),
        )
        .await
        .unwrap();
    let publisher = NatsBroker::new(url.clone(), NatsMode::JetStream);
    const MESSAGES: usize = 1000;
    let mut ok = Vec::new();
    let mut failed = 0usize;
    let mut first_error: Option<String> = None;
    // 1.5 s in, the server goes down for 2 s, then the same server (same store) again,
    // while the publisher keeps going.
    let restarter = {
        let dir = dir.path().to_owned();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            let _ = server.kill();
            let _ = server.wait();
            let down = Instant::now();
            std::thread::sleep(Duration::from_secs(2));
            let server = nats_server(port, &dir).unwrap();
            assert!(up(port), "our nats-server did not come back");
            (server, down)
        })
    };
    let mut last_failure: Option<Instant> = None;
    let mut slowest = Duration::ZERO;
    for i in 0..MESSAGES {
        let body = format!("m{i:04}");
        let sent = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            publisher.publish(&topic, Envelope::new(body.clone())),
        )
        .await;
        slowest = slowest.max(sent.elapsed());
        match result {
            Ok(Ok(())) => ok.push(body),
            Ok(Err(e)) => {
                failed += 1;
                last_failure = Some(Instant::now());
                first_error.get_or_insert_with(|| e.to_string());
            }
            Err(_) => {
                failed += 1;
                last_failure = Some(Instant::now());
                first_error.get_or_insert_with(|| "publish hung 10 s".to_owned());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (mut server, down) = restarter.join().unwrap();
    let back_at = last_failure.map(|t| t.saturating_duration_since(down));
    // Every acknowledged publish arrives.
    let end = Instant::now() + Duration::from_secs(30);
    let missing = loop {
        let missing = {
            let seen = seen.lock().unwrap();
            ok.iter().filter(|b| !seen.contains_key(*b)).count()
        };
        if missing == 0 || Instant::now() > end {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (received, duplicated) = {
        let seen = seen.lock().unwrap();
        (seen.len(), seen.values().filter(|n| **n > 1).count())
    };
    eprintln!(
        "ledger: | JetStream server restarted (down 2 s) under publish and subscribe | {MESSAGES} | {} published, {failed} refused | {} received | lost {missing} | {duplicated} | last refusal {:?} after the stop | slowest publish {slowest:?} |",
        ok.len(),
        received,
        back_at
    );
    assert!(
        slowest >= Duration::from_secs(1),
        "the outage overlapped the publishing (a publish waited for the server)"
    );
    if let Some(e) = &first_error {
        eprintln!("first publish error during the outage: {e}");
    }
    assert_eq!(missing, 0, "acknowledged messages were lost");
    assert!(
        ok.len() >= MESSAGES - 100,
        "publishing did not resume: {} ok",
        ok.len()
    );
    sub.unsubscribe().await;
    let _ = server.kill();
}
