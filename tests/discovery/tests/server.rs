//! `micro server` across hosts: the server in host a (registry in its own local files,
//! messages in memory, the file store) with `MICRO_AUTH=jwt`, so that it may listen where the
//! other hosts reach it; the greeter and the shipping service (a subscriber) in host b; a
//! caller and a publisher in host c. Each host has its own MICRO_HOME and nothing is shared
//! but `MICRO_{REGISTRY,BROKER,STORE}=service` at a:8000 and a token. Calls and messages go
//! through, and through the server's gateway; a caller without a token is refused; the server is restarted with empty files,
//! the services register and subscribe again and carry on.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use discovery_tests::{Hosts, Proc, SERIAL, bin, wait_for};

/// Publish one order from host c until the subscriber prints a line for it (a publish that
/// lands before the subscription is back reaches nobody); false after 30 s.
fn delivered(hosts: &Hosts, env: &[(&str, &str)], lines: &Receiver<(Instant, String)>) -> bool {
    let publisher = bin("pubsub-publisher");
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        let out = hosts.run('c', &publisher, &["--count", "1"], env);
        assert!(
            out.status.success(),
            "publisher: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Ok((_, line)) = lines.recv_timeout(Duration::from_secs(2)) {
            assert!(line.starts_with("shipped order-1 (2 x book)"), "{line}");
            return true;
        }
    }
    false
}

/// POST `{"name":"gw"}` to `url` from host c (Python's urllib); the status, and the body
/// when it is 200.
fn gateway_call(hosts: &Hosts, url: &str, token: Option<&str>) -> String {
    let script = r#"
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b'{"name":"gw"}', method="POST",
    headers={"content-type": "application/json"})
if len(sys.argv) > 2:
    req.add_header("authorization", "Bearer " + sys.argv[2])
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
"#;
    let mut args = vec!["-c", script, url];
    args.extend(token);
    let out = hosts.run('c', Path::new("python3"), &args, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Run a `micro` command on this machine (files only: keys, accounts, tokens).
fn micro_here(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(bin("micro"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "micro {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start_server(hosts: &Hosts, address: &str, home: &str, keys: &Path) -> Proc {
    let public = keys.join("auth.pub");
    hosts.spawn(
        'a',
        &bin("micro"),
        &["server", "--address", address, "--api", ":8080"],
        &[
            ("MICRO_HOME", home),
            ("MICRO_AUTH", "jwt"),
            ("MICRO_AUTH_PUBLIC_KEY", public.to_str().unwrap()),
        ],
    )
}

#[test]
fn services_on_two_hosts_share_registry_broker_and_store_of_micro_server_on_a_third() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = |h: &str| dir.path().join(h).to_str().unwrap().to_owned();
    let (home_a, home_b, home_c) = (home("a"), home("b"), home("c"));
    let micro = bin("micro");

    // A key pair, an account and a token for the services (the accounts live apart from
    // the server's files, which the restart below empties).
    let keys = dir.path().join("keys");
    let issuer_home = home("issuer");
    micro_here(
        &["auth", "keys", "--dir", keys.to_str().unwrap()],
        &[("MICRO_HOME", &issuer_home)],
    );
    let issuer = [
        ("MICRO_HOME", issuer_home.as_str()),
        (
            "MICRO_AUTH_PRIVATE_KEY",
            keys.join("auth.key").to_str().unwrap(),
        ),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let issuer: Vec<(&str, &str)> = issuer.iter().map(|(k, v)| (*k, v.as_str())).collect();
    micro_here(
        &[
            "auth",
            "create",
            "account",
            "shop",
            "--secret",
            "s3cret-shop",
            "--type",
            "service",
        ],
        &issuer,
    );
    let token = micro_here(
        &[
            "auth",
            "token",
            "--id",
            "shop",
            "--secret",
            "s3cret-shop",
            "--ttl",
            "1h",
        ],
        &issuer,
    );

    let server_address = format!("{}:8000", Hosts::addr('a'));
    let mut server = start_server(&hosts, &server_address, &home_a, &keys);
    let platform = |home: &str, token: Option<&str>| {
        let mut env = vec![("MICRO_HOME", home.to_owned())];
        for (engine, address) in [
            ("MICRO_REGISTRY", "MICRO_REGISTRY_ADDRESS"),
            ("MICRO_BROKER", "MICRO_BROKER_ADDRESS"),
            ("MICRO_STORE", "MICRO_STORE_ADDRESS"),
        ] {
            env.push((engine, "service".to_owned()));
            env.push((address, server_address.clone()));
        }
        env.push(("MICRO_REGISTER_INTERVAL", "1s".to_owned()));
        env.push(("MICRO_REGISTER_TTL", "5s".to_owned()));
        if let Some(token) = token {
            env.push(("MICRO_AUTH_TOKEN", token.to_owned()));
        }
        env
    };
    let env_b = platform(&home_b, Some(&token));
    let env_b: Vec<(&str, &str)> = env_b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env_c = platform(&home_c, Some(&token));
    let env_c: Vec<(&str, &str)> = env_c.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The server answers before the services start (a first registration that fails ends
    // a service).
    let answering = wait_for(Duration::from_secs(30), || {
        hosts
            .run('c', &micro, &["services"], &env_c)
            .status
            .success()
    });
    assert!(answering, "server: {}", server.log());
    // Without a token: refused.
    let anonymous = platform(&home_c, None);
    let anonymous: Vec<(&str, &str)> = anonymous.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = hosts.run('c', &micro, &["services"], &anonymous);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("401") || why.to_lowercase().contains("unauthenticated"),
        "{why}"
    );

    let greeter = hosts.spawn('b', &bin("greeter-server"), &[], &env_b);
    let mut shipping = hosts.spawn('b', &bin("pubsub-subscriber"), &[], &env_b);
    let shipped = shipping.lines();
    let listed = wait_for(Duration::from_secs(30), || {
        let out = hosts.run('c', &micro, &["services"], &env_c);
        let text = String::from_utf8_lossy(&out.stdout);
        text.contains("greeter") && text.contains("shipping")
    });
    assert!(
        listed,
        "server: {}\ngreeter: {}\nshipping: {}",
        server.log(),
        greeter.log(),
        shipping.log()
    );
    hosts.assert_hello('c', &env_c, "from c");
    assert!(
        delivered(&hosts, &env_c, &shipped),
        "server: {}\nshipping: {}",
        server.log(),
        shipping.log()
    );
    // The gateway of micro server, from c: the token is checked there too.
    let gateway = format!("http://{}:8080/greeter/Greeter/Hello", Hosts::addr('a'));
    assert_eq!(gateway_call(&hosts, &gateway, None), "401");
    assert_eq!(
        gateway_call(&hosts, &gateway, Some(&token)),
        r#"200 {"msg":"Hello gw"}"#
    );
    // The store: config set from c is read in b.
    let set = hosts.run(
        'c',
        &micro,
        &["config", "set", "global.greeting", "\"hi\""],
        &env_c,
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let got = hosts.run('b', &micro, &["config", "get", "global.greeting"], &env_b);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "hi",
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    // A watch that lives across the restart (the service registry's reconnect and replay).
    let mut watch = hosts.spawn('c', &micro, &["registry", "watch", "greeter"], &env_c);
    let events = watch.lines();

    // Restarted with nothing in its files: the greeter registers again (every second) and
    // the subscriber subscribes again.
    server.signal("-TERM");
    let (_, stopped) = server.finish(Duration::from_secs(15));
    assert!(
        stopped,
        "micro server did not stop cleanly: {}",
        server.log()
    );
    let down = hosts.run('c', &micro, &["services"], &env_c);
    assert!(
        !down.status.success(),
        "services answered with the server down"
    );
    assert!(
        String::from_utf8_lossy(&down.stderr)
            .contains(&format!("micro server at {server_address}")),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let restarted = Instant::now();
    std::fs::remove_dir_all(&home_a).unwrap();
    let server = start_server(&hosts, &server_address, &home_a, &keys);
    let back = wait_for(Duration::from_secs(30), || {
        let out = hosts.run('c', &micro, &["services"], &env_c);
        let text = String::from_utf8_lossy(&out.stdout);
        text.contains("greeter") && text.contains("shipping")
    });
    assert!(back, "server: {}\ngreeter: {}", server.log(), greeter.log());
    hosts.assert_hello('c', &env_c, "again");
    assert!(
        delivered(&hosts, &env_c, &shipped),
        "after the restart\nserver: {}\nshipping: {}",
        server.log(),
        shipping.log()
    );
    // The watch saw the greeter again after the restart, without being restarted itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let again = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok((at, line)) => {
                let fresh = at > restarted
                    && line.contains(r#""action":"create""#)
                    && line.contains("greeter");
                seen.push(line);
                if fresh {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    assert!(again, "watch lines: {seen:#?}\nwatch: {}", watch.log());
    watch.signal("-INT");
}
