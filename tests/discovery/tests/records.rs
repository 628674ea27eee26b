//! Bad input and compatibility, per registry engine: records go-micro writes, malformed
//! records, unreachable registries, and mDNS without multicast.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::time::{Duration, Instant};

use discovery_tests::{
    Engine, Hosts, Proc, SERIAL, bin, engine_available, pairs, service_env as env, wait_for,
};

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
    hosts.assert_hello('b', &env, "go");
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
