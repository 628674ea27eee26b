//! End to end with real processes: greeter servers, the greeter client and the `micro`
#![allow(clippy::unwrap_used, clippy::print_stderr)]
//! command, sharing one MICRO_HOME.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when the test ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn micro_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_micro"))
}

/// A binary of the greeter example, next to `micro`. `cargo test` does not build other
/// packages' binaries, so build them once here (a no-op when they are fresh).
fn greeter_bin(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "example-greeter", "--bins"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the greeter example failed");
    });
    micro_bin().with_file_name(name)
}

fn env(cmd: &mut Command, home: &Path) {
    cmd.env("MICRO_HOME", home)
        .env("MICRO_REGISTER_TTL", "3s")
        .env("MICRO_REGISTER_INTERVAL", "1s")
        .env("MICRO_SERVER_ADDRESS", "127.0.0.1:0")
        .env("MICRO_LOG_LEVEL", "warn")
        .env_remove("MICRO_REGISTRY");
}

fn greeter(home: &Path, args: &[&str]) -> Proc {
    let mut cmd = Command::new(greeter_bin("greeter-server"));
    env(&mut cmd, home);
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    Proc(cmd.spawn().expect("start greeter-server"))
}

fn micro(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(micro_bin());
    env(&mut cmd, home);
    cmd.args(args).stdin(Stdio::null());
    cmd.output().expect("run micro")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Node addresses of `greeter` per `micro describe --output json`.
fn nodes(home: &Path) -> Vec<String> {
    let out = micro(home, &["describe", "greeter", "--output", "json"]);
    if !out.status.success() {
        return Vec::new();
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("describe prints JSON");
    json.as_array()
        .into_iter()
        .flatten()
        .flat_map(|svc| svc["nodes"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n["address"].as_str().map(str::to_owned))
        .collect()
}

/// Wait until `greeter` has `n` nodes; returns how long it took.
fn wait_nodes(home: &Path, n: usize, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let found = nodes(home);
        if found.len() == n {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "expected {n} greeter nodes within {within:?}, have {found:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn sigterm(proc: &Proc) {
    let status = Command::new("kill")
        .args(["-TERM", &proc.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn two_nodes_are_listed_described_called_and_balanced() {
    let home = tempfile::tempdir().unwrap();
    let _a = greeter(home.path(), &[]);
    let _b = greeter(home.path(), &[]);
    wait_nodes(home.path(), 2, Duration::from_secs(20));

    let out = micro(home.path(), &["services"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), ["greeter"]);
    // The older spelling.
    assert_eq!(
        stdout(&micro(home.path(), &["list", "services"])),
        stdout(&out)
    );

    let out = micro(home.path(), &["describe", "greeter", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let svc = &json[0];
    assert_eq!(svc["name"], "greeter");
    assert_eq!(svc["version"], "1.0.0");
    assert_eq!(svc["nodes"].as_array().unwrap().len(), 2);
    let hello = svc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Greeter.Hello")
        .expect("Greeter.Hello is published");
    assert_eq!(hello["request"]["values"][0]["name"], "name");
    assert_eq!(hello["metadata"]["idempotent"], "true");
    let text = stdout(&micro(home.path(), &["get", "service", "greeter"]));
    assert!(
        text.contains("Greeter.Hello") && text.contains("request   HelloRequest { name string }"),
        "{text}"
    );

    let out = micro(
        home.path(),
        &["call", "greeter", "Greeter.Hello", r#"{"name":"John"}"#],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\"msg\":\"Hello John\"}\n");

    // Calls spread over both nodes.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..16 {
        let out = micro(
            home.path(),
            &["call", "-v", "greeter", "Greeter.Hello", r#"{"name":"x"}"#],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let node = stderr(&out);
        seen.insert(node.trim().to_owned());
    }
    assert_eq!(seen.len(), 2, "calls went to {seen:?}");

    let out = micro(home.path(), &["health", "greeter"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches("SERVING").count(),
        2,
        "{}",
        stdout(&out)
    );

    let mut client = Command::new(greeter_bin("greeter-client"));
    env(&mut client, home.path());
    let out = client.args(["Jane"]).output().unwrap();
    assert_eq!(stdout(&out), "Hello Jane\n");

    // Dynamic calls: the endpoint by its method name, the request from flags.
    let out = micro(home.path(), &["greeter", "hello", "--name", "Flag"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "{\"msg\":\"Hello Flag\"}\n");
    for (args, says) in [
        (
            &["greeter", "hello", "--nmae", "x"][..],
            "Greeter.Hello has no field --nmae",
        ),
        (
            &["greeter", "goodbye"][..],
            "greeter has no endpoint \"goodbye\"",
        ),
        (&["greeter", "hello", "stray"][..], "unexpected argument"),
    ] {
        let out = micro(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }

    // Streams: one JSON line per response.
    let out = micro(
        home.path(),
        &[
            "stream",
            "greeter",
            "Greeter.Stream",
            r#"{"name":"S","count":3}"#,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2].contains("Hello S #3"), "{lines:?}");
}

#[test]
fn kill_9_fails_no_call_and_sigterm_drains() {
    let home = tempfile::tempdir().unwrap();
    let a = greeter(home.path(), &[]);
    let b = greeter(home.path(), &[]);
    wait_nodes(home.path(), 2, Duration::from_secs(20));

    // A stream of calls; one node is killed with SIGKILL in the middle.
    let mut client = Command::new(greeter_bin("greeter-client"));
    env(&mut client, home.path());
    let load = client
        .args(["--count", "300", "--interval", "10ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let mut a = a;
    a.0.kill().unwrap();
    let killed = Instant::now();
    let out = load.wait_with_output().unwrap();
    let summary = stdout(&out);
    assert!(
        out.status.success(),
        "calls failed after kill -9: {summary} {}",
        stderr(&out)
    );
    assert!(summary.contains("failed: 0"), "{summary}");

    // The dead node leaves the registry within TTL + interval (3 s + 1 s).
    let left = killed.elapsed() + wait_nodes(home.path(), 1, Duration::from_secs(8));
    assert!(
        left <= Duration::from_millis(4_500),
        "the dead node lingered {left:?}"
    );

    // A slow node with a call in flight; SIGTERM both remaining nodes.
    let c = greeter(home.path(), &["--delay", "1s"]);
    wait_nodes(home.path(), 2, Duration::from_secs(20));
    let c_addr = nodes(home.path())
        .into_iter()
        .find(|addr| !summary.contains(addr.as_str()))
        .expect("the new node");
    let mut call = Command::new(micro_bin());
    env(&mut call, home.path());
    let in_flight = call
        .args([
            "call",
            "greeter",
            "Greeter.Hello",
            r#"{"name":"Slow"}"#,
            "--address",
            &c_addr,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&b);
    sigterm(&c);
    let stopped = Instant::now();
    loop {
        let out = micro(home.path(), &["services"]);
        if !stdout(&out).contains("greeter") {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(1),
            "still listed after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = in_flight.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the in-flight call failed: {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "{\"msg\":\"Hello Slow\"}\n");
    for mut p in [b, c] {
        let status = p.0.wait().unwrap();
        assert!(status.success(), "a SIGTERMed node exits cleanly: {status}");
    }
}
