//! Soak: steady load at about half of what the machine does, with connection churn (the
//! driver starts over with a new client every second) and registry churn (a fourth node
//! joins and leaves every second, alternately stopped gracefully and killed), while a node's
//! memory, open files and tasks are sampled. They stay flat; the only failures are calls
//! that were running on a node as it was killed.
//!
//! CI runs it for 30 s (samples every 5 s); `MICRO_SOAK_SECONDS=600` runs the full
//! 10 minutes (samples every 10 s).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use discovery_tests::faults::{Call, Ledger};
use discovery_tests::{Proc, SERIAL, wait_for};

#[test]
fn load_with_connection_and_registry_churn_stays_flat() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seconds: u64 = std::env::var("MICRO_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let sample_ms = if seconds >= 300 { 10_000 } else { 5_000 };
    let node_bin = PathBuf::from(env!("CARGO_BIN_EXE_ledger-node"));
    let home = tempfile::tempdir().unwrap();
    let base: Vec<(String, String)> = vec![
        ("MICRO_REGISTRY".into(), "local".into()),
        ("MICRO_HOME".into(), home.path().display().to_string()),
        ("MICRO_SERVER_ADDRESS".into(), "127.0.0.1:0".into()),
        ("MICRO_REGISTER_TTL".into(), "3s".into()),
        ("MICRO_REGISTER_INTERVAL".into(), "1s".into()),
        ("MICRO_LOG_LEVEL".into(), "error".into()),
    ];
    let node = |name: &str, metrics: bool| {
        let mut e = base.clone();
        e.push(("LEDGER_NODE".into(), name.into()));
        e.push((
            "LEDGER_FILE".into(),
            home.path()
                .join(format!("{name}.ledger"))
                .display()
                .to_string(),
        ));
        if metrics {
            e.push(("LEDGER_METRICS_MS".into(), sample_ms.to_string()));
        }
        Proc::spawn_plain_env(&node_bin, &[], &discovery_tests::pairs(&e))
    };
    let mut watched = node("n0", true);
    let samples = watched.lines();
    let _others: Vec<Proc> = (1..3).map(|i| node(&format!("n{i}"), false)).collect();
    assert!(
        wait_for(Duration::from_secs(20), || {
            discovery_tests::registered(home.path(), "ledger") >= 3
        }),
        "nodes did not register"
    );

    let env = discovery_tests::pairs(&base);
    let secs = seconds.to_string();
    let mut driver = Proc::spawn_plain_env(
        &PathBuf::from(env!("CARGO_BIN_EXE_load")),
        &[
            "--rate",
            "400",
            "--seconds",
            &secs,
            "--fresh-client-ms",
            "1000",
        ],
        &env,
    );
    // Registry churn: a node joins and leaves every second.
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut kills = Vec::new();
    let mut i = 0u64;
    while Instant::now() + Duration::from_secs(2) < end {
        let churn = node(&format!("churn{i}"), false);
        std::thread::sleep(Duration::from_millis(1000));
        let at = Instant::now();
        if i.is_multiple_of(2) {
            churn.signal("-TERM");
        } else {
            churn.signal("-9");
            kills.push(at);
        }
        drop(churn);
        i += 1;
    }
    let (out, ok) = driver.finish(Duration::from_secs(seconds + 60));
    assert!(ok, "the driver failed: {}", driver.log());
    let calls: Vec<Call> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a call record"))
        .collect();
    let ledger = Ledger::of(
        &format!("soak {seconds} s, 400 calls/s, connection and registry churn"),
        &calls,
        0,
        seconds * 1000,
        home.path(),
    );
    eprintln!("ledger: {}", ledger.line());
    let series: Vec<serde_json::Value> = samples
        .try_iter()
        .filter_map(|(_, line)| serde_json::from_str(&line).ok())
        .collect();
    eprintln!(
        "samples of n0 every {} s: {}",
        sample_ms / 1000,
        serde_json::to_string(&series).unwrap()
    );
    assert_eq!(ledger.duplicated, 0);
    // Only kills explain failures: at most a few calls per kill.
    let failed = ledger.attempted - ledger.succeeded;
    assert!(
        failed <= kills.len() * 10,
        "{failed} failures for {} kills: {:?}",
        kills.len(),
        ledger.failed
    );
    // Flat: after the first sample, memory grows by less than half and 16 MiB, open files
    // and tasks by a handful.
    assert!(series.len() >= 3, "too few samples: {series:?}");
    let get = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    let (first, last) = (&series[1], &series[series.len() - 1]);
    let (rss0, rss1) = (get(first, "rss_kb"), get(last, "rss_kb"));
    assert!(
        rss1 <= rss0 + rss0 / 2 + 16 * 1024,
        "memory grew from {rss0} KiB to {rss1} KiB"
    );
    for k in ["fds", "tasks"] {
        let (a, b) = (get(first, k), get(last, k));
        assert!(b <= a + 16, "{k} grew from {a} to {b}");
    }
    drop(watched);
}
