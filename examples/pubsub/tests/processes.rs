//! The example as a user runs it: two shipping processes and a publisher, on the defaults
//! (http broker, local registry in a temporary MICRO_HOME). Every order is shipped exactly
//! once, by one of the two, and both stop cleanly on SIGTERM.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use micro::registry::{LocalRegistry, Registry};

struct Subscriber {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

fn start(home: &std::path::Path) -> Subscriber {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pubsub-subscriber"))
        .env("MICRO_HOME", home)
        .env("MICRO_SERVER_ADDRESS", "127.0.0.1:0")
        .env("MICRO_BROKER_ADDRESS", "127.0.0.1:0")
        .env("MICRO_SHUTDOWN_DELAY", "0s")
        .env_remove("MICRO_BROKER")
        .env_remove("MICRO_REGISTRY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Subscriber { child, lines }
}

async fn wait_for_subscriptions(home: &std::path::Path, n: usize) {
    let registry = LocalRegistry::new(home.join("registry")).unwrap();
    let started = Instant::now();
    loop {
        let found = registry
            .get_service(micro::broker::HTTP_BROKER_SERVICE)
            .await
            .map(|s| s.iter().map(|s| s.nodes.len()).sum::<usize>())
            .unwrap_or(0);
        if found >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the subscribers did not register"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_shipping_processes_share_the_orders() {
    let home = tempfile::tempdir().unwrap();
    let mut a = start(home.path());
    let mut b = start(home.path());
    wait_for_subscriptions(home.path(), 2).await;

    let out = Command::new(env!("CARGO_BIN_EXE_pubsub-publisher"))
        .args(["--count", "40"])
        .env("MICRO_HOME", home.path())
        .env_remove("MICRO_BROKER")
        .env_remove("MICRO_REGISTRY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "published 40 orders on orders.placed"
    );

    let started = Instant::now();
    while a.lines.lock().unwrap().len() + b.lines.lock().unwrap().len() < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "orders were not shipped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (la, lb) = (
        a.lines.lock().unwrap().clone(),
        b.lines.lock().unwrap().clone(),
    );
    assert!(
        !la.is_empty() && !lb.is_empty(),
        "both shipped some: {} and {}",
        la.len(),
        lb.len()
    );
    let mut ids: Vec<&str> = la
        .iter()
        .chain(&lb)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    ids.sort_unstable();
    let mut want: Vec<String> = (1..=40).map(|i| format!("order-{i}")).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "each order shipped exactly once");

    for s in [&mut a, &mut b] {
        let pid = s.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }
    for s in [&mut a, &mut b] {
        let status = s.child.wait().unwrap();
        assert!(status.success(), "graceful stop: {status}");
    }
    // Both deregistered their subscriptions.
    let registry = LocalRegistry::new(home.path().join("registry")).unwrap();
    assert!(
        registry
            .get_service(micro::broker::HTTP_BROKER_SERVICE)
            .await
            .is_err()
    );
}
