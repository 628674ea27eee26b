//! The http broker with one member of a queue group stopped (SIGSTOP): every publish is handed
//! to the other member within the hand-off timeout, none fails, and after SIGCONT every
//! message was handled at least once (the stopped member may handle some it had been handed
//! before it was passed over).

#![allow(clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use micro::broker::{Broker, Envelope, HttpBroker};
use micro::registry::LocalRegistry;

const MESSAGES: usize = 16;

fn spawn_subscriber(home: &Path, topic: &str, file: &Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_broker-subscriber"))
        .args([topic, "inventory", &file.display().to_string()])
        .env("MICRO_BROKER", "http")
        .env("MICRO_REGISTRY", "local")
        .env("MICRO_HOME", home)
        .env("MICRO_BROKER_ADDRESS", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start broker-subscriber");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "READY", "the subscriber did not start");
    child
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {sig}");
}

fn handled(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_member_never_fails_a_publish() {
    let home = tempfile::tempdir().unwrap();
    let topic = broker_tests::unique_topic("hung");
    let (file_a, file_b) = (home.path().join("a.txt"), home.path().join("b.txt"));
    let mut a = spawn_subscriber(home.path(), &topic, &file_a);
    let mut b = spawn_subscriber(home.path(), &topic, &file_b);
    let registry = LocalRegistry::new(home.path().join("registry")).unwrap();
    let broker = HttpBroker::new(Arc::new(registry));

    signal(&b, "-STOP");
    let mut failures = Vec::new();
    for i in 0..MESSAGES {
        if let Err(e) = broker
            .publish(&topic, Envelope::new(format!("m{i:02}")))
            .await
        {
            failures.push(format!("m{i:02}: {e}"));
        }
    }
    signal(&b, "-CONT");
    assert!(failures.is_empty(), "publishes failed: {failures:?}");

    // Every message is handled at least once, by one member or the other.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let all = loop {
        let mut all = handled(&file_a);
        all.extend(handled(&file_b));
        all.sort();
        let mut distinct = all.clone();
        distinct.dedup();
        if distinct.len() == MESSAGES || tokio::time::Instant::now() >= deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut distinct = all.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), MESSAGES, "every message handled: {all:?}");
    eprintln!(
        "hung member: {} messages, {} handled by the running member, {} by the stopped one after it resumed, {} twice",
        MESSAGES,
        handled(&file_a).len(),
        handled(&file_b).len(),
        all.len() - distinct.len()
    );
    for child in [&mut a, &mut b] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
