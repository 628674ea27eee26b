//! Proxy mode across hosts: a client in host c that can reach only the sidecar (`micro
//! proxy` in host a) calls the greeter in host b, which c has no route to; the sidecar
//! resolves it in the registry (etcd in b) and forwards the call.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::time::Duration;

use discovery_tests::{Engine, Hosts, SERIAL, bin, engine_available, wait_for};

#[test]
fn a_client_that_reaches_only_the_proxy_calls_a_service_on_another_host() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !engine_available(Engine::Etcd) {
        return;
    }
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let _etcd = Engine::Etcd.start(&hosts, 'b', dir.path());
    let home = dir.path().join("home");
    let home = home.to_str().unwrap();
    let registry = [
        ("MICRO_REGISTRY", "etcd"),
        ("MICRO_REGISTRY_ADDRESS", &*Engine::Etcd.address('b')),
        ("MICRO_HOME", home),
    ];
    let greeter = hosts.spawn('b', &bin("greeter-server"), &[], &registry);
    let a = Hosts::addr('a');
    let proxy = hosts.spawn(
        'a',
        &bin("micro"),
        &[
            "proxy",
            "--address",
            &format!("{a}:8081"),
            "--rpc_address",
            &format!("{a}:8085"),
        ],
        &registry,
    );
    // Both registered (the proxy's own node too).
    let micro = bin("micro");
    let listed = wait_for(Duration::from_secs(30), || {
        let out = hosts.run('b', &micro, &["services"], &registry);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("greeter") && text.contains("micro.proxy")
    });
    assert!(listed, "greeter: {}\nproxy: {}", greeter.log(), proxy.log());

    // Host c has no route to b: neither the registry nor the greeter.
    let b = Hosts::addr('b');
    let cut = hosts.run(
        'c',
        Path::new("ip"),
        &["route", "add", "unreachable", &format!("{b}/32")],
        &[],
    );
    assert!(
        cut.status.success(),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    let c_home = dir.path().join("c-home");
    let c_home = c_home.to_str().unwrap();
    let started = std::time::Instant::now();
    let direct = hosts.run(
        'c',
        &micro,
        &["call", "greeter", "Greeter.Hello", r#"{"name":"c"}"#],
        &[
            ("MICRO_REGISTRY", "etcd"),
            ("MICRO_REGISTRY_ADDRESS", &*Engine::Etcd.address('b')),
            ("MICRO_REGISTRY_TIMEOUT", "2s"),
            ("MICRO_HOME", c_home),
        ],
    );
    assert!(!direct.status.success(), "c reached b directly");
    eprintln!("direct call from c failed in {:?}", started.elapsed());

    // Through the proxy: the call goes to a, which resolves and forwards it to b.
    let via = [
        ("MICRO_PROXY", &*format!("{a}:8085")),
        ("MICRO_HOME", c_home),
    ];
    hosts.assert_hello('c', &via, "c");
    // And the sidecar's HTTP API from c: go-micro's shape and Dapr's.
    let curl = |path: &str, body: &str| {
        let script = "import sys, urllib.request as u; \
            r = u.urlopen(u.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST'), timeout=10); \
            print(r.read().decode(), end='')";
        let url = format!("http://{a}:8081{path}");
        let out = hosts.run('c', Path::new("python3"), &["-c", script, &url, body], &[]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        curl("/greeter/hello", r#"{"name":"gm"}"#),
        r#"{"msg":"Hello gm"}"#
    );
    assert_eq!(
        curl(
            "/v1.0/invoke/greeter/method/Greeter.Hello",
            r#"{"name":"dapr"}"#
        ),
        r#"{"msg":"Hello dapr"}"#
    );
}
