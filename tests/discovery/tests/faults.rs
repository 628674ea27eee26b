//! The fault suite: real processes (three `ledger` nodes, one `load` driver at 200 calls a
//! second) while a node is stopped (SIGSTOP), killed (SIGKILL), cut off or slowed (network
//! namespaces with `tc netem`). Each prints its ledger: calls attempted, succeeded, failed by
//! code, run twice; p99 while the fault lasted; time to recover.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use discovery_tests::faults::{Call, Ledger};
use discovery_tests::{Hosts, Proc, SERIAL, pairs, wait_for};

const NODES: usize = 3;

fn ledger_node() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ledger-node"))
}

fn load() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_load"))
}

/// The environment of every process of a loopback run: the local registry under `home`,
/// registrations that lapse 3 s after their node stops refreshing them.
fn env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("MICRO_REGISTRY".into(), "local".into()),
        ("MICRO_HOME".into(), home.display().to_string()),
        ("MICRO_SERVER_ADDRESS".into(), "127.0.0.1:0".into()),
        ("MICRO_REGISTER_TTL".into(), "3s".into()),
        ("MICRO_REGISTER_INTERVAL".into(), "1s".into()),
        ("MICRO_LOG_LEVEL".into(), "warn".into()),
    ]
}

/// Start the nodes and wait until all are registered.
fn start_nodes(home: &Path) -> Vec<Proc> {
    let base = env(home);
    let nodes: Vec<Proc> = (0..NODES)
        .map(|i| {
            let mut e = base.clone();
            e.push(("LEDGER_NODE".into(), format!("n{i}")));
            e.push((
                "LEDGER_FILE".into(),
                home.join(format!("n{i}.ledger")).display().to_string(),
            ));
            Proc::spawn_plain_env(&ledger_node(), &[], &pairs(&e))
        })
        .collect();
    let up = wait_for(Duration::from_secs(20), || {
        discovery_tests::registered(home, "ledger") == NODES
    });
    assert!(up, "the ledger nodes did not register: {}", nodes[0].log());
    nodes
}

/// Run the driver for `seconds` while `fault` acts on the nodes (it gets the run's start);
/// the calls.
fn drive(
    home: &Path,
    seconds: u64,
    extra: &[(&str, &str)],
    fault: impl FnOnce(Instant),
) -> Vec<Call> {
    let base = env(home);
    let mut e = pairs(&base);
    e.extend_from_slice(extra);
    let seconds_arg = seconds.to_string();
    let mut driver = Proc::spawn_plain_env(&load(), &["--seconds", &seconds_arg], &e);
    let started = Instant::now();
    fault(started);
    let (out, ok) = driver.finish(Duration::from_secs(seconds + 60));
    assert!(ok, "the driver failed: {}", driver.log());
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a call record"))
        .collect()
}

fn sleep_until(at: Instant) {
    std::thread::sleep(at.saturating_duration_since(Instant::now()));
}

fn report(ledger: &Ledger) {
    eprintln!("ledger: {}", ledger.line());
    eprintln!("{}", serde_json::to_string(ledger).unwrap());
}

#[test]
fn a_stopped_node_costs_its_calls_for_a_second_then_one_probe_per_cool_off() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let nodes = start_nodes(home.path());
    // Stop n1 2 s in, resume it 5 s in.
    let (stop, resume) = (2_000u64, 5_000u64);
    let calls = drive(home.path(), 8, &[], |t0| {
        sleep_until(t0 + Duration::from_millis(stop));
        nodes[1].signal("-STOP");
        sleep_until(t0 + Duration::from_millis(resume));
        nodes[1].signal("-CONT");
    });
    let ledger = Ledger::of(
        "SIGSTOP one of 3 nodes for 3 s",
        &calls,
        stop,
        resume,
        home.path(),
    );
    report(&ledger);
    assert_eq!(ledger.attempted, 1600);
    assert_eq!(ledger.duplicated, 0);
    // Calls started more than a second and a half after the stop no longer wait on the
    // stopped node, except one probe per cool-off (1 s, then 2 s).
    let late_failures = calls
        .iter()
        .filter(|c| c.outcome != "ok" && c.at >= stop + 1_500 && c.at < resume)
        .count();
    assert!(
        late_failures <= 3,
        "{late_failures} calls failed after the first second of the stop"
    );
    // Only calls that could have gone to the stopped node in its first second failed.
    let failed = ledger.attempted - ledger.succeeded;
    assert!(failed <= 150, "{failed} calls failed");
    assert!(
        calls
            .iter()
            .all(|c| c.outcome == "ok" || c.outcome == "DeadlineExceeded")
    );
}

#[test]
fn a_node_killed_under_load_loses_only_the_calls_it_was_running() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let home = tempfile::tempdir().unwrap();
    let nodes = start_nodes(home.path());
    let kill = 2_000u64;
    let calls = drive(home.path(), 6, &[("MICRO_SELECTOR", "random")], |t0| {
        sleep_until(t0 + Duration::from_millis(kill));
        nodes[2].signal("-9");
    });
    let ledger = Ledger::of(
        "SIGKILL one of 3 nodes",
        &calls,
        kill,
        kill + 3_000,
        home.path(),
    );
    report(&ledger);
    assert_eq!(ledger.attempted, 1200);
    assert_eq!(ledger.duplicated, 0, "no call ran twice");
    let failed = ledger.attempted - ledger.succeeded;
    // Only calls in flight on the killed node at the moment fail (the others find its
    // port closed and go to another node).
    assert!(failed <= 10, "{failed} calls failed: {:?}", ledger.failed);
    let after = calls
        .iter()
        .filter(|c| c.at >= kill + 500 && c.outcome != "ok")
        .count();
    assert_eq!(after, 0, "calls failed after the kill settled");
}

#[test]
fn a_cut_and_a_slowed_node_across_hosts() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(hosts) = Hosts::up() else {
        return;
    };
    // etcd on host a, the driver on a, nodes on b and c.
    let data = tempfile::tempdir().unwrap();
    let engine = discovery_tests::Engine::Etcd;
    if !discovery_tests::engine_available(engine) {
        return;
    }
    let _etcd = engine.start(&hosts, 'a', data.path());
    let home = tempfile::tempdir().unwrap();
    let mut base = vec![
        ("MICRO_REGISTRY".to_owned(), "etcd".to_owned()),
        ("MICRO_REGISTRY_ADDRESS".to_owned(), engine.address('a')),
        ("MICRO_REGISTER_TTL".to_owned(), "3s".to_owned()),
        ("MICRO_REGISTER_INTERVAL".to_owned(), "1s".to_owned()),
        ("MICRO_HOME".to_owned(), home.path().display().to_string()),
        ("MICRO_LOG_LEVEL".to_owned(), "warn".to_owned()),
    ];
    let mut nodes = Vec::new();
    for host in ['b', 'c'] {
        let mut e = base.clone();
        e.push((
            "MICRO_SERVER_ADDRESS".into(),
            format!("{}:0", Hosts::addr(host)),
        ));
        e.push(("LEDGER_NODE".into(), format!("on-{host}")));
        e.push((
            "LEDGER_FILE".into(),
            home.path()
                .join(format!("{host}.ledger"))
                .display()
                .to_string(),
        ));
        nodes.push(hosts.spawn(host, &ledger_node(), &[], &pairs(&e)));
    }
    base.push(("MICRO_SELECTOR".into(), "p2c".into()));
    let env = pairs(&base);
    // Wait for both nodes in the registry (the driver looks them up once at start).
    let listed = wait_for(Duration::from_secs(20), || {
        let out = hosts.run(
            'a',
            &discovery_tests::bin("micro"),
            &["registry", "get", "ledger"],
            &env,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        text.contains("on-b") || text.matches(&Hosts::addr('b')).count() > 0
    });
    assert!(listed, "the nodes did not register: {}", nodes[0].log());
    std::thread::sleep(Duration::from_secs(2));

    for (scenario, fault, heal) in [
        (
            "host c slowed for 3 s: +200 ms and 5 % loss on what it sends",
            vec!["netem", "c", "delay", "200ms", "loss", "5%"],
            vec!["netem", "c", "delay", "0ms"],
        ),
        (
            "host c cut off for 3 s",
            vec!["cut", "c"],
            vec!["join", "c"],
        ),
    ] {
        let run = |args: &[&str]| {
            let mut full = vec![args[0].to_owned(), hosts_tag(&hosts)];
            full.extend(args[1..].iter().map(|a| (*a).to_owned()));
            let out = std::process::Command::new(discovery_tests::root().join("scripts/hosts.sh"))
                .args(&full)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "hosts.sh {full:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        if fault[0] == "netem" && !netem_works(&hosts) {
            // Some kernels are built without the netem qdisc (tc: "Specified qdisc kind is
            // unknown"); the partition below still runs.
            eprintln!("skipping {scenario:?}: this kernel has no netem qdisc");
            continue;
        }
        let mut driver = hosts.spawn('a', &load(), &["--seconds", "8"], &env);
        let t0 = Instant::now();
        sleep_until(t0 + Duration::from_secs(2));
        run(&fault);
        sleep_until(t0 + Duration::from_secs(5));
        run(&heal);
        let (out, ok) = driver.finish(Duration::from_secs(70));
        assert!(ok, "the driver failed: {}", driver.log());
        let calls: Vec<Call> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("a call record"))
            .collect();
        let ledger = Ledger::of(scenario, &calls, 2_000, 5_000, home.path());
        report(&ledger);
        assert_eq!(ledger.attempted, 1600);
        assert_eq!(ledger.duplicated, 0, "{scenario}: no call ran twice");
        let failed = ledger.attempted - ledger.succeeded;
        assert!(
            failed * 10 <= ledger.attempted,
            "{scenario}: {failed} of {} calls failed",
            ledger.attempted
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Whether `tc netem` works in the test hosts (the kernel may lack the qdisc).
fn netem_works(hosts: &Hosts) -> bool {
    let script = discovery_tests::root().join("scripts/hosts.sh");
    let ok = std::process::Command::new(&script)
        .args(["netem", hosts.tag(), "b", "delay", "0ms"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        let _ = std::process::Command::new(&script)
            .args(["netem", hosts.tag(), "b", "delay", "0ms"])
            .status();
    }
    ok
}

fn hosts_tag(hosts: &Hosts) -> String {
    hosts.tag().to_owned()
}
