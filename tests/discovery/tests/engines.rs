//! Service discovery across hosts, per registry engine: three network namespaces (a, b, c),
//! the engine in c, greeters in a and c, callers in b.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use discovery_tests::{Engine, Hosts, Proc, SERIAL, bin, engine_available, wait_for};

/// Registration TTL and interval of the greeters in these tests.
const TTL: Duration = Duration::from_secs(3);
const INTERVAL: Duration = Duration::from_secs(1);

fn env(engine: Engine, home: &Path) -> Vec<(String, String)> {
    vec![
        ("MICRO_REGISTRY".into(), engine.name().into()),
        ("MICRO_REGISTRY_ADDRESS".into(), engine.address('c')),
        ("MICRO_REGISTER_TTL".into(), format!("{}s", TTL.as_secs())),
        (
            "MICRO_REGISTER_INTERVAL".into(),
            format!("{}s", INTERVAL.as_secs()),
        ),
        ("MICRO_HOME".into(), home.to_str().unwrap().into()),
        ("MICRO_LOG_LEVEL".into(), "info".into()),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

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
    let out = hosts.run(
        'b',
        &micro,
        &["call", "greeter", "Greeter.Hello", r#"{"name":"b"}"#],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"msg":"Hello b"}"#
    );

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

/// A record go-micro would write, put into etcd by hand, is listed and called; a malformed
/// record beside it is skipped with a warning naming its key.
#[test]
fn go_micro_records_in_etcd_are_listed_and_called() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(Engine::Etcd) {
        return;
    }
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let _server = Engine::Etcd.start(&hosts, 'c', dir.path()).unwrap();
    let a = Hosts::addr('a');
    // The greeter itself registers elsewhere (memory): only the hand-written record points at it.
    let ga = hosts.spawn(
        'a',
        &bin("greeter-server"),
        &[],
        &[
            ("MICRO_REGISTRY", "memory"),
            ("MICRO_SERVER_ADDRESS", &format!("{a}:9090")),
            ("MICRO_LOG_LEVEL", "info"),
        ],
    );
    assert!(
        wait_for(Duration::from_secs(20), || ga
            .log()
            .contains("service started")),
        "{}",
        ga.log()
    );
    let record = format!(
        r#"{{"name":"greeter","version":"latest","metadata":null,"endpoints":[{{"name":"Greeter.Hello","request":{{"name":"HelloRequest","type":"HelloRequest","values":[{{"name":"name","type":"string","values":null}}]}},"response":{{"name":"HelloResponse","type":"HelloResponse","values":[{{"name":"msg","type":"string","values":null}}]}},"metadata":{{}}}}],"nodes":[{{"id":"greeter-go-1","address":"{a}:9090","metadata":{{"broker":"http","protocol":"grpc","registry":"etcd","server":"grpc","transport":"grpc"}}}}]}}"#
    );
    let endpoints = Engine::Etcd.address('c');
    let etcdctl = |args: &[&str]| {
        let mut all = vec!["--endpoints", &endpoints];
        all.extend_from_slice(args);
        let out = hosts.run('c', Path::new("etcdctl"), &all, &[("ETCDCTL_API", "3")]);
        assert!(
            out.status.success(),
            "etcdctl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    etcdctl(&["put", "/micro/registry/greeter/greeter-go-1", &record]);
    etcdctl(&["put", "/micro/registry/greeter/broken", "{not json"]);

    let env = env(Engine::Etcd, dir.path());
    let env = pairs(&env);
    let micro = bin("micro");
    let out = hosts.run('b', &micro, &["registry", "list"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("greeter-go-1") && stdout.contains(&format!("{a}:9090")),
        "{stdout}"
    );
    assert!(
        stderr.contains("/micro/registry/greeter/broken") && stderr.contains("malformed"),
        "the malformed record is not named: {stderr}"
    );
    let out = hosts.run(
        'b',
        &micro,
        &["call", "greeter", "Greeter.Hello", r#"{"name":"go"}"#],
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"msg":"Hello go"}"#
    );
}

/// An unreachable registry is an error naming the engine, the address and what to check,
/// within the registry timeout: at once when refused, after the timeout when nothing answers.
#[test]
fn unreachable_registries_fail_fast_and_say_where() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let micro = bin("micro");
    // Refused: the error is immediate.
    for (engine, address, named) in [
        ("etcd", "127.0.0.1:9", "registry etcd at 127.0.0.1:9"),
        (
            "nats",
            "nats://127.0.0.1:9",
            "registry nats at nats://127.0.0.1:9",
        ),
    ] {
        let out = std::process::Command::new(&micro)
            .args([
                "services",
                "--registry",
                engine,
                "--registry_address",
                address,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
        assert!(stderr.contains("check that"), "{stderr}");
    }
    // An unknown engine lists the ones compiled in.
    let out = std::process::Command::new(&micro)
        .args(["services", "--registry", "zookeeper"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("local, memory, etcd, nats"), "{stderr}");

    // Silent (host c cut off): the error comes within the registry timeout, not a hang; a
    // service refuses to start with the same error.
    let Some(hosts) = Hosts::up() else { return };
    hosts.link('c', false);
    for engine in [Engine::Etcd, Engine::Nats] {
        let address = engine.address('c');
        let env = [
            ("MICRO_REGISTRY", engine.name()),
            ("MICRO_REGISTRY_ADDRESS", address.as_str()),
            ("MICRO_REGISTRY_TIMEOUT", "2s"),
        ];
        let started = Instant::now();
        let out = hosts.run('b', &micro, &["services"], &env);
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("registry {} at {address}", engine.name())),
            "{stderr}"
        );
        assert!(took < Duration::from_secs(15), "{took:?}");
        let mut service = hosts.spawn('b', &bin("greeter-server"), &[], &env);
        let (_, ok) = service.finish(Duration::from_secs(30));
        assert!(!ok, "the greeter started without its registry");
    }
}

/// mDNS without multicast fails loudly, naming the interface and the way out, instead of
/// finding nothing (go-micro#435, #1591, #885).
#[test]
fn mdns_without_multicast_says_so() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(hosts) = Hosts::up() else { return };
    let micro = bin("micro");
    let env = [("MICRO_REGISTRY", "mdns")];
    let out = hosts.run(
        'a',
        Path::new("ip"),
        &["link", "set", "eth0", "multicast", "off"],
        &[],
    );
    assert!(out.status.success());
    let out = hosts.run('a', &micro, &["services"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot join the multicast group 224.0.0.251"),
        "{stderr}"
    );
    assert!(stderr.contains("eth0 has multicast turned off"), "{stderr}");
    // A service does not start on it either.
    let mut greeter = hosts.spawn('a', &bin("greeter-server"), &[], &env);
    let (_, ok) = greeter.finish(Duration::from_secs(30));
    assert!(!ok);
    assert!(greeter.log().contains("multicast"), "{}", greeter.log());
    // An interface that is not there is named, with the ones that are.
    let out = hosts.run(
        'b',
        &micro,
        &["services"],
        &[
            ("MICRO_REGISTRY", "mdns"),
            ("MICRO_REGISTRY_ADDRESS", "iface=eth9"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("interface \"eth9\" has no IPv4 address")
            && stderr.contains("eth0 (198.51.100.2)"),
        "{stderr}"
    );
}

/// A malformed record in the NATS bucket is skipped with a warning naming its key; the rest
/// of the service is still served. (Our own nats-server on a loopback port.)
#[test]
fn malformed_nats_records_are_skipped_by_key() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(Engine::Nats) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Proc::spawn_plain(
        Path::new("nats-server"),
        &[
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-js",
            "-sd",
            dir.path().to_str().unwrap(),
        ],
    );
    let address = format!("nats://127.0.0.1:{port}");
    assert!(wait_for(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    }));
    let env = [
        ("MICRO_REGISTRY", "nats"),
        ("MICRO_REGISTRY_ADDRESS", address.as_str()),
        ("MICRO_SERVER_ADDRESS", "127.0.0.1:0"),
        ("MICRO_HOME", dir.path().to_str().unwrap()),
    ];
    let greeter = Proc::spawn_plain_env(&bin("greeter-server"), &[], &env);
    let micro = bin("micro");
    let run = |args: &[&str]| {
        std::process::Command::new(&micro)
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    assert!(
        wait_for(Duration::from_secs(20), || run(&["services"])
            .stdout
            .starts_with(b"greeter")),
        "{}",
        greeter.log()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(address.as_str()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        js.publish("$KV.micro_registry.greeter.broken", "{not json".into())
            .await
            .unwrap()
            .await
            .unwrap();
    });
    let out = run(&["describe", "greeter"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Greeter.Hello"));
    assert!(
        stderr.contains("greeter.broken") && stderr.contains("malformed"),
        "{stderr}"
    );
    let out = run(&["call", "greeter", "Greeter.Hello", r#"{"name":"kv"}"#]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"msg":"Hello kv"}"#
    );
    drop(greeter);
    Engine::stop(&mut server);
}
