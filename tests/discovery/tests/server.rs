//! `micro server` across hosts: the server in host a (its registry in its own local files),
//! the greeter in host b and a caller in host c, each with its own MICRO_HOME and nothing
//! shared but `MICRO_REGISTRY=service MICRO_REGISTRY_ADDRESS=a:8000`. The call goes through;
//! the server is restarted with empty files, the greeter registers again and the caller
//! carries on.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::time::Duration;

use discovery_tests::{Hosts, SERIAL, bin, wait_for};

#[test]
fn services_on_two_hosts_share_the_registry_of_micro_server_on_a_third() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(hosts) = Hosts::up() else { return };
    let dir = tempfile::tempdir().unwrap();
    let home = |h: &str| dir.path().join(h).to_str().unwrap().to_owned();
    let (home_a, home_b, home_c) = (home("a"), home("b"), home("c"));
    let server_address = format!("{}:8000", Hosts::addr('a'));
    let micro = bin("micro");
    let server_args = ["server", "--address", server_address.as_str(), "--insecure"];
    let mut server = hosts.spawn('a', &micro, &server_args, &[("MICRO_HOME", &home_a)]);
    let registry = |home: &str| {
        vec![
            ("MICRO_REGISTRY", "service".to_owned()),
            ("MICRO_REGISTRY_ADDRESS", server_address.clone()),
            ("MICRO_HOME", home.to_owned()),
            ("MICRO_REGISTER_INTERVAL", "1s".to_owned()),
            ("MICRO_REGISTER_TTL", "5s".to_owned()),
        ]
    };
    let env_b = registry(&home_b);
    let env_b: Vec<(&str, &str)> = env_b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env_c = registry(&home_c);
    let env_c: Vec<(&str, &str)> = env_c.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The server answers before the greeter starts (a first registration that fails
    // ends a service).
    let answering = wait_for(Duration::from_secs(30), || {
        hosts
            .run('c', &micro, &["services"], &env_c)
            .status
            .success()
    });
    assert!(answering, "server: {}", server.log());
    let greeter = hosts.spawn('b', &bin("greeter-server"), &[], &env_b);
    let listed = wait_for(Duration::from_secs(30), || {
        let out = hosts.run('c', &micro, &["services"], &env_c);
        String::from_utf8_lossy(&out.stdout).contains("greeter")
    });
    assert!(
        listed,
        "server: {}\ngreeter: {}",
        server.log(),
        greeter.log()
    );
    hosts.assert_hello('c', &env_c, "from c");
    // A watch that lives across the restart (the service registry's reconnect and replay).
    let mut watch = hosts.spawn('c', &micro, &["registry", "watch", "greeter"], &env_c);
    let events = watch.lines();

    // Restarted with nothing in its files: the greeter registers again (every second).
    server.signal("-TERM");
    let _ = server.finish(Duration::from_secs(15));
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
    let restarted = std::time::Instant::now();
    std::fs::remove_dir_all(&home_a).unwrap();
    let server = hosts.spawn('a', &micro, &server_args, &[("MICRO_HOME", &home_a)]);
    let back = wait_for(Duration::from_secs(30), || {
        let out = hosts.run('c', &micro, &["services"], &env_c);
        String::from_utf8_lossy(&out.stdout).contains("greeter")
    });
    assert!(back, "server: {}\ngreeter: {}", server.log(), greeter.log());
    hosts.assert_hello('c', &env_c, "again");
    // The watch saw the greeter again after the restart, without being restarted itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let again = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
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
