//! The broker's server restarted under publish and subscribe load — NATS JetStream and
//! RabbitMQ, each our own server on its own port with its store on disk, killed (SIGKILL)
//! mid-stream and started again on the same store. (Mosquitto is not here: 2.0.11, Debian's,
//! restores a persistent session after a restart but stops delivering to it after a few dozen
//! messages, whether the member subscribes again or not; the README says so.) A publish during the outage waits for
//! the server within its bound (JetStream) or fails at once with an error naming the server
//! (RabbitMQ); every publish that succeeded is delivered once the server is back, and the
//! subscription resumes by itself.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_tests::{free_port, listening, unique_topic};
use micro::broker::{
    Envelope, Event, NatsBroker, NatsMode, RabbitBroker, SharedBroker, SubscribeOptions, handler,
};

/// How a publish behaves while the server is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outage {
    /// It waits for the server (within its deadline).
    Waits,
    /// It fails at once with an error naming the server.
    FailsFast,
}

/// Starts the same server (same port, same store) again and again.
type Start = Box<dyn Fn() -> Option<Child> + Send + Sync>;

fn nats_server(port: u16, dir: PathBuf) -> Start {
    Box::new(move || {
        Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    })
}

/// A RabbitMQ node of our own: its own node name, ports, cookie and store under `dir`.
fn rabbitmq_server(port: u16, dir: PathBuf) -> Start {
    let dist = free_port();
    let node = format!("micro-test-{port}@localhost");
    Box::new(move || {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(dir.join("enabled_plugins"), "[].\n").ok()?;
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.default = {port}\nloopback_users = none\n"),
        )
        .ok()?;
        let script = Path::new("/usr/lib/rabbitmq/bin/rabbitmq-server");
        if !script.exists() {
            return None;
        }
        Command::new(script)
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_NODE_PORT", port.to_string())
            .env("RABBITMQ_DIST_PORT", dist.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq"))
            .env("RABBITMQ_PID_FILE", dir.join("pid"))
            // erl runs in place of the script (as under systemd), so killing the child
            // kills the node.
            .env("RUNNING_UNDER_SYSTEMD", "1")
            .env("HOME", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_survives_a_server_restart_without_losing_an_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let broker = || -> SharedBroker { Arc::new(NatsBroker::new(url.clone(), NatsMode::JetStream)) };
    restart_test(
        "JetStream",
        nats_server(port, dir.path().to_owned()),
        port,
        broker(),
        broker(),
        Outage::Waits,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_survives_a_server_restart_without_losing_a_confirmed_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("amqp://guest:guest@127.0.0.1:{port}/%2f");
    let broker =
        || -> SharedBroker { Arc::new(RabbitBroker::new(&url, Duration::from_secs(5)).unwrap()) };
    restart_test(
        "RabbitMQ",
        rabbitmq_server(port, dir.path().to_owned()),
        port,
        broker(),
        broker(),
        Outage::FailsFast,
    )
    .await;
}

async fn restart_test(
    name: &str,
    start: Start,
    port: u16,
    subscriber: SharedBroker,
    publisher: SharedBroker,
    outage: Outage,
) {
    let Some(mut server) = start() else {
        assert!(
            std::env::var("MICRO_REQUIRE_PEERS").is_err(),
            "the {name} server is not installed"
        );
        eprintln!("skipped: the {name} server is not installed");
        return;
    };
    if !listening(port, Duration::from_secs(60)) {
        let _ = server.kill();
        let _ = server.wait();
        panic!("our {name} server did not start");
    }
    let topic = unique_topic("restart");
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
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
    // 1.5 s in, the server is killed; 2 s later the same server (same store) starts again,
    // while the publisher keeps going.
    let restarter = std::thread::spawn(move || {
        let mut server = server;
        std::thread::sleep(Duration::from_millis(1500));
        let _ = server.kill();
        let _ = server.wait();
        let down = Instant::now();
        std::thread::sleep(Duration::from_secs(2));
        // Killed when dropped, even if it never comes up.
        let server = KillOnDrop(start().unwrap());
        assert!(
            listening(port, Duration::from_secs(60)),
            "our server did not come back"
        );
        (server, down, Instant::now())
    });
    let mut ok = Vec::new();
    let mut failed = 0usize;
    let mut first_error: Option<String> = None;
    let mut last_failure: Option<Instant> = None;
    let mut slowest = Duration::ZERO;
    let mut after_restart = 0usize;
    let end = Instant::now() + Duration::from_secs(120);
    let mut i = 0usize;
    // Until the server is back and 200 more publishes went through.
    while after_restart < 200 && Instant::now() < end {
        let body = format!("m{i:05}");
        i += 1;
        let sent = Instant::now();
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            publisher.publish(&topic, Envelope::new(body.clone())),
        )
        .await;
        slowest = slowest.max(sent.elapsed());
        match result {
            Ok(Ok(())) => {
                ok.push(body);
                if restarter.is_finished() {
                    after_restart += 1;
                }
            }
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
    let (_server, down, up_again) = restarter.join().unwrap();
    let back_at = last_failure.map(|t| t.saturating_duration_since(down));
    // Every acknowledged publish arrives.
    let end = Instant::now() + Duration::from_secs(60);
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
        "ledger: | {name} server killed and restarted (down {:.1} s) under publish and subscribe | {i} | {} published, {failed} refused | {received} received | lost {missing} | {duplicated} | last refusal {back_at:?} after the stop | slowest publish {slowest:?} |",
        up_again.duration_since(down).as_secs_f64(),
        ok.len(),
    );
    if let Some(e) = &first_error {
        eprintln!("first publish error during the outage: {e}");
    }
    match outage {
        Outage::Waits => assert!(
            slowest >= Duration::from_secs(1),
            "the outage overlapped the publishing (a publish waited for the server)"
        ),
        Outage::FailsFast => {
            let e = first_error.as_deref().unwrap_or("");
            assert!(
                failed > 0 && e.contains(&format!("127.0.0.1:{port}")),
                "a publish during the outage failed naming the server: {failed} failed, {e:?}"
            );
            assert!(
                slowest < Duration::from_secs(10),
                "no publish hung: {slowest:?}"
            );
        }
    }
    if missing > 0 {
        let seen = seen.lock().unwrap();
        let lost: Vec<&String> = ok
            .iter()
            .filter(|b| !seen.contains_key(*b))
            .take(10)
            .collect();
        eprintln!(
            "{name}: missing after 60 s, e.g. {lost:?}; the server was down from {:?} to {:?} after the start",
            down.elapsed(),
            up_again.elapsed()
        );
    }
    assert_eq!(missing, 0, "{name}: acknowledged messages were lost");
    assert!(
        after_restart >= 200,
        "{name}: publishing did not resume after the restart"
    );
    sub.unsubscribe().await;
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
