//! The DNS registry against a real resolver: our own dnsmasq on a loopback port, serving SRV
//! and A records for a greeter that registers nowhere else.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use discovery_tests::{Proc, bin, have, required, wait_for};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn micro(address: &str, args: &[&str]) -> Output {
    Command::new(bin("micro"))
        .args(args)
        .env("MICRO_REGISTRY", "dns")
        .env("MICRO_REGISTRY_ADDRESS", address)
        .output()
        .unwrap()
}

#[test]
fn services_are_found_by_srv_and_a_records() {
    if !have("dnsmasq") {
        assert!(
            !required(),
            "dnsmasq is not installed (scripts/test.sh installs dnsmasq-base)"
        );
        eprintln!("skipping: dnsmasq is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let greeter_port = free_port();
    let dns_port = free_port();
    let hosts = dir.path().join("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1 greeter-1.micro.test\n127.0.0.1 legacy.micro.test\n",
    )
    .unwrap();
    let _dnsmasq = Proc::spawn_plain(
        Path::new("dnsmasq"),
        &[
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            &format!("--port={dns_port}"),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            // Authoritative for the test domain: unknown names are NXDOMAIN, not refused.
            "--local=/micro.test/",
            &format!("--addn-hosts={}", hosts.display()),
            &format!("--srv-host=_greeter._tcp.micro.test,greeter-1.micro.test,{greeter_port}"),
            "--pid-file",
            "--user=root",
        ],
    );
    // The greeter registers with the dns registry too: a no-op, so it starts.
    let greeter = Proc::spawn_plain_env(
        &bin("greeter-server"),
        &[],
        &[
            ("MICRO_REGISTRY", "dns"),
            ("MICRO_REGISTRY_ADDRESS", &format!("127.0.0.1:{dns_port}")),
            ("MICRO_SERVER_ADDRESS", &format!("127.0.0.1:{greeter_port}")),
            ("MICRO_LOG_LEVEL", "info"),
        ],
    );
    assert!(
        wait_for(Duration::from_secs(20), || greeter
            .log()
            .contains("service started")),
        "{}",
        greeter.log()
    );
    let address = format!("127.0.0.1:{dns_port},domain=micro.test");
    let call = |address: &str, service: &str| {
        micro(
            address,
            &["call", service, "Greeter.Hello", r#"{"name":"dns"}"#],
        )
    };

    // SRV _greeter._tcp.micro.test -> greeter-1.micro.test:PORT -> 127.0.0.1.
    let mut out = call(&address, "greeter");
    let answered = wait_for(Duration::from_secs(20), || {
        out = call(&address, "greeter");
        out.status.success()
    });
    assert!(answered, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"msg":"Hello dns"}"#
    );
    let out = micro(&address, &["registry", "get", "greeter", "-o", "json"]);
    let services: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        services[0]["nodes"][0]["address"],
        format!("127.0.0.1:{greeter_port}")
    );

    // An A record alone needs the port from the settings, and says so when it is missing.
    let out = call(&address, "legacy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("legacy.micro.test.") && stderr.contains("port="),
        "{stderr}"
    );
    let with_port = format!("{address},port={greeter_port}");
    let out = call(&with_port, "legacy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A name DNS does not know is not registered; listing is not something DNS can do.
    let out = call(&address, "nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nobody is not registered"), "{stderr}");
    let out = micro(&address, &["registry", "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot list services"), "{stderr}");
}
