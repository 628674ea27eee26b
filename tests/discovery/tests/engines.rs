//! Service discovery across hosts, per registry engine: three network namespaces (a, b, c),
//! the engine in c, greeters in a and c, callers in b.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use discovery_tests::{
    Engine, Hosts, SERIAL, bin, engine_available, pairs, service_env as env, wait_for,
};

/// Registration TTL and interval of the greeters in these tests (as `service_env` sets them).
const TTL: Duration = Duration::from_secs(3);
const INTERVAL: Duration = Duration::from_secs(1);

/// The addresses of greeter's nodes as `micro registry list -o json` prints them in `host`.
fn greeter_nodes(hosts: &Hosts, host: char, env: &[(&str, &str)]) -> Vec<String> {
    let out = hosts.run(
        host,
        &bin("micro"),
        &["registry", "list", "-o", "json"],
        env,
    );
    let Ok(services) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    let mut nodes: Vec<String> = services
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["name"] == "greeter")
        .flat_map(|s| s["nodes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n["address"].as_str().map(str::to_owned))
        .collect();
    nodes.sort();
    nodes
}

/// Wait (at most `limit`) for a `delete` of a node at `address` on a watcher's output; the
/// time it arrived.
fn deleted(lines: &Receiver<(Instant, String)>, address: &str, limit: Duration) -> Option<Instant> {
    let end = Instant::now() + limit;
    while let Ok((at, line)) = lines.recv_timeout(end.saturating_duration_since(Instant::now())) {
        let event: serde_json::Value = serde_json::from_str(&line).ok()?;
        let gone = event["action"] == "delete"
            && event["service"]["nodes"][0]["address"]
                .as_str()
                .is_some_and(|a| a.starts_with(address));
        if gone {
            return Some(at);
        }
    }
    None
}

/// A figure of greeter-client's `calls: N ok: N failed: F slowest: Tms nodes: a=x b=y`.
fn figure(summary: &str, label: &str) -> Option<u64> {
    summary
        .split_whitespace()
        .skip_while(|w| *w != label)
        .nth(1)?
        .trim_end_matches("ms")
        .parse()
        .ok()
}

fn failed(summary: &str) -> Option<u64> {
    figure(summary, "failed:")
}

fn across_hosts(engine: Engine) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(engine) {
        return;
    }
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let _server = engine.start(&hosts, 'c', dir.path());
    let env = env(engine, dir.path());
    let env = pairs(&env);
    let greeter = bin("greeter-server");
    let micro = bin("micro");
    let ga = hosts.spawn('a', &greeter, &[], &env);
    let gc = hosts.spawn('c', &greeter, &[], &env);
    let (a, c) = (Hosts::addr('a'), Hosts::addr('c'));

    // Listed from host B: both nodes, at their hosts' addresses.
    let listed = wait_for(Duration::from_secs(30), || {
        greeter_nodes(&hosts, 'b', &env).len() == 2
    });
    assert!(
        listed,
        "greeters not listed from b\na: {}\nc: {}",
        ga.log(),
        gc.log()
    );
    let nodes = greeter_nodes(&hosts, 'b', &env);
    assert!(nodes[0].starts_with(&format!("{a}:")), "{nodes:?}");
    assert!(nodes[1].starts_with(&format!("{c}:")), "{nodes:?}");

    // Described and called by `micro` from host B.
    let out = hosts.run('b', &micro, &["describe", "greeter"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Greeter.Hello"));
    hosts.assert_hello('b', &env, "b");

    // 100 calls from B spread over both hosts.
    let out = hosts.run('b', &bin("greeter-client"), &["--count", "100"], &env);
    let summary = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(failed(&summary), Some(0), "{summary}");
    assert!(
        summary.contains(&format!("{a}:")) && summary.contains(&format!("{c}:")),
        "{summary}"
    );

    // Watchers on B and C see what happens next.
    let mut wb = hosts.spawn('b', &micro, &["registry", "watch", "greeter"], &env);
    let mut wc = hosts.spawn('c', &micro, &["registry", "watch", "greeter"], &env);
    let (rb, rc) = (wb.lines(), wc.lines());
    std::thread::sleep(Duration::from_secs(1));

    // kill -9 of A's greeter while B keeps calling: no failed call.
    let mut caller = hosts.spawn(
        'b',
        &bin("greeter-client"),
        &["--count", "150", "--interval", "20ms"],
        &env,
    );
    std::thread::sleep(Duration::from_secs(1));
    ga.signal("-9");
    let killed = Instant::now();
    let (summary, _) = caller.finish(Duration::from_secs(120));
    assert_eq!(failed(&summary), Some(0), "{summary}");
    // The dead node leaves every other host's view within TTL + interval (+ slack for 2 cores).
    let bound = TTL + INTERVAL + Duration::from_secs(2);
    for (host, lines) in [('b', &rb), ('c', &rc)] {
        let at = deleted(lines, &a, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{host} never saw the killed node leave"));
        let took = at - killed;
        eprintln!(
            "{}: kill -9 -> gone from {host}'s view in {took:?}",
            engine.name()
        );
        assert!(took <= bound, "{took:?} > {bound:?}");
    }

    // SIGTERM of C's greeter: gone from every host at once (it deregisters before draining).
    gc.signal("-TERM");
    let stopped = Instant::now();
    for (host, lines) in [('b', &rb), ('c', &rc)] {
        let at = deleted(lines, &c, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{host} never saw the stopped node leave"));
        let took = at - stopped;
        eprintln!(
            "{}: SIGTERM -> gone from {host}'s view in {took:?}",
            engine.name()
        );
        assert!(took <= Duration::from_secs(2), "{took:?}");
    }
}

#[test]
fn etcd_greeters_on_two_hosts_are_found_called_and_leave_from_a_third() {
    across_hosts(Engine::Etcd);
}

#[test]
fn nats_greeters_on_two_hosts_are_found_called_and_leave_from_a_third() {
    across_hosts(Engine::Nats);
}

#[test]
fn mdns_greeters_on_two_hosts_are_found_called_and_leave_from_a_third() {
    across_hosts(Engine::Mdns);
}

/// How the registry goes away.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outage {
    /// The engine stops (connections are refused).
    Stop,
    /// Its host is cut off (nothing answers).
    Partition,
}

/// The engine goes away for 5 s and comes back while a caller in B calls every 20 ms: no call
/// fails (the client serves the nodes it knew), none waits on the registry, and the greeter
/// registers again by itself.
fn outage(engine: Engine, how: Outage) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(engine) {
        return;
    }
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut server = engine.start(&hosts, 'c', dir.path()).unwrap();
    let mut env = env(engine, dir.path());
    // Records outlive the outage; refreshes fall into it.
    env.retain(|(k, _)| !k.starts_with("MICRO_REGISTER_"));
    env.push(("MICRO_REGISTER_TTL".into(), "30s".into()));
    env.push(("MICRO_REGISTER_INTERVAL".into(), "2s".into()));
    let env = pairs(&env);
    let ga = hosts.spawn('a', &bin("greeter-server"), &[], &env);
    assert!(
        wait_for(Duration::from_secs(30), || greeter_nodes(&hosts, 'b', &env)
            .len()
            == 1),
        "greeter not listed: {}",
        ga.log()
    );
    // Calls outlast the outage: 5 s stopped, or 15 s cut off (long enough for keep-alive to
    // declare the registry's connections dead).
    let (count, away) = match how {
        Outage::Stop => ("500", Duration::from_secs(5)),
        Outage::Partition => ("1000", Duration::from_secs(15)),
    };
    let mut caller = hosts.spawn(
        'b',
        &bin("greeter-client"),
        &["--count", count, "--interval", "20ms"],
        &env,
    );
    std::thread::sleep(Duration::from_secs(2));
    let _restarted = match how {
        Outage::Stop => {
            Engine::stop(&mut server);
            std::thread::sleep(away);
            engine.start(&hosts, 'c', dir.path())
        }
        Outage::Partition => {
            hosts.link('c', false);
            std::thread::sleep(away);
            hosts.link('c', true);
            None
        }
    };
    let (summary, _) = caller.finish(Duration::from_secs(180));
    assert_eq!(failed(&summary), Some(0), "{summary}\n{}", ga.log());
    // No call waited for the registry (its timeout is 5 s).
    let slowest = figure(&summary, "slowest:").unwrap();
    assert!(slowest < 2500, "a call took {slowest} ms: {summary}");
    // The caller did see the outage, and called the nodes it knew.
    assert!(
        caller.log().contains("calling the nodes last known"),
        "{}",
        caller.log()
    );
    assert!(
        wait_for(Duration::from_secs(20), || ga
            .log()
            .contains("registered again")),
        "the greeter did not say it registered again: {}",
        ga.log()
    );
    assert!(
        ga.log().contains("refreshing the registration failed"),
        "{}",
        ga.log()
    );
    assert!(
        wait_for(Duration::from_secs(20), || greeter_nodes(&hosts, 'b', &env)
            .len()
            == 1),
        "the greeter is not registered after the restart"
    );
}

#[test]
fn etcd_restart_fails_no_call_and_services_register_again() {
    outage(Engine::Etcd, Outage::Stop);
}

#[test]
fn nats_restart_fails_no_call_and_services_register_again() {
    outage(Engine::Nats, Outage::Stop);
}

#[test]
fn etcd_partition_fails_no_call_and_services_register_again() {
    outage(Engine::Etcd, Outage::Partition);
}

/// A watch on etcd survives a partition: it notices the dead connection (TCP keep-alive),
/// resumes from the next revision once etcd is reachable again, and reads everything again
/// when that revision was compacted away meanwhile.
#[test]
fn etcd_watch_resumes_after_a_partition_and_reads_again_after_compaction() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(Engine::Etcd) {
        return;
    }
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let _server = Engine::Etcd.start(&hosts, 'c', dir.path()).unwrap();
    let env = env(Engine::Etcd, dir.path());
    let env = pairs(&env);
    let micro = bin("micro");
    let mut watcher = hosts.spawn('b', &micro, &["registry", "watch"], &env);
    let lines = watcher.lines();
    std::thread::sleep(Duration::from_secs(1));
    let register = |name: &str| {
        let record = format!(
            r#"{{"name":"{name}","version":"1","nodes":[{{"id":"{name}-1","address":"198.51.100.9:1"}}]}}"#
        );
        let out = hosts.run('a', &micro, &["register", "service", &record], &env);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Wait for a create of each of `names`, in any order.
    let created = |names: &[&str]| {
        let mut missing: Vec<&str> = names.to_vec();
        let end = Instant::now() + Duration::from_secs(90);
        while let Ok((_, line)) = lines.recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            if event["action"] == "create" {
                missing.retain(|name| event["service"]["name"] != *name);
            }
            if missing.is_empty() {
                return true;
            }
        }
        false
    };
    // Long enough for keep-alive to declare the connection dead (within about 10 s).
    let partition = Duration::from_secs(20);

    hosts.link('b', false);
    register("during-partition");
    std::thread::sleep(partition);
    hosts.link('b', true);
    assert!(created(&["during-partition"]), "{}", watcher.log());
    assert!(
        watcher.log().contains("still watching"),
        "the broken watch went unnoticed: {}",
        watcher.log()
    );

    hosts.link('b', false);
    register("before-compaction");
    // etcd keeps the revision it compacts at: compact past the one the watch resumes from.
    register("at-compaction");
    let endpoints = Engine::Etcd.address('c');
    let out = hosts.run(
        'c',
        Path::new("etcdctl"),
        &["--endpoints", &endpoints, "get", "x", "-w", "json"],
        &[("ETCDCTL_API", "3")],
    );
    let header: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let revision = header["header"]["revision"].as_u64().unwrap().to_string();
    let out = hosts.run(
        'c',
        Path::new("etcdctl"),
        &["--endpoints", &endpoints, "compact", &revision],
        &[("ETCDCTL_API", "3")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(partition);
    hosts.link('b', true);
    assert!(
        created(&["before-compaction", "at-compaction"]),
        "{}",
        watcher.log()
    );
    assert!(
        watcher.log().contains("no longer has the revision"),
        "the compaction path did not run: {}",
        watcher.log()
    );
}

/// Propagation from `register` in A to a watcher in B: 100 registrations.
fn propagation(engine: Engine) -> serde_json::Value {
    let Some(hosts) = Hosts::up() else {
        return serde_json::Value::Null;
    };
    let dir = tempfile::tempdir().unwrap();
    let _server = engine.start(&hosts, 'c', dir.path());
    let env = env(engine, dir.path());
    let env = pairs(&env);
    let tool = Path::new(env!("CARGO_BIN_EXE_propagation"));
    let watcher = hosts.spawn('b', tool, &["watch", "--count", "100"], &env);
    assert!(
        wait_for(Duration::from_secs(20), || watcher.log().contains("ready")),
        "{}",
        watcher.log()
    );
    let out = hosts.run('a', tool, &["register", "--count", "100"], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut watcher = watcher;
    let (text, ok) = watcher.finish(Duration::from_secs(60));
    assert!(ok, "{text}");
    let result: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    eprintln!("propagation: {result}");
    assert_eq!(result["count"], 100);
    // The goal is under 100 ms; the bound here only catches a broken watch (a poll, a
    // timeout) on a loaded 2-core machine.
    assert!(result["p99_ms"].as_f64().unwrap() < 2000.0, "{result}");
    result
}

#[test]
fn propagation_from_register_to_a_watcher_on_another_host() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for engine in [Engine::Etcd, Engine::Nats, Engine::Mdns] {
        if engine_available(engine) {
            propagation(engine);
        }
    }
}
