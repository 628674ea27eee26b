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

/// A binary of the greeter and pubsub examples, next to `micro`. `cargo test` does not
/// build other packages' binaries, so build them once here (a no-op when they are fresh).
fn greeter_bin(name: &str) -> PathBuf {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !*built {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "example-greeter",
                "-p",
                "example-pubsub",
                "--bins",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the examples failed");
        *built = true;
    }
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

    // A server stream through `micro call` and the dynamic form: the registry says it
    // streams, so each response is a line.
    for args in [
        &[
            "call",
            "greeter",
            "Greeter.Stream",
            r#"{"name":"C","count":2}"#,
        ][..],
        &["greeter", "stream", "--name", "D", "--count", "2"][..],
    ] {
        let out = micro(home.path(), args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 2, "{args:?}: {text}");
        assert!(text.contains("#2"), "{args:?}: {text}");
    }

    // Help from the registry: endpoints of the service, fields of an endpoint.
    let out = micro(home.path(), &["greeter", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("hello") && text.contains("Greeter.Stream (server stream)"),
        "{text}"
    );
    let out = micro(home.path(), &["greeter", "hello", "--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("--name  string"), "{}", stdout(&out));

    // A request that does not fit is refused before it is sent, naming the field.
    let out = micro(
        home.path(),
        &["call", "greeter", "Greeter.Stream", r#"{"count":"many"}"#],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("field \"count\""), "{}", stderr(&out));

    // The service answered with an error: go-micro's error JSON with -o json, and text
    // that says it answered.
    let out = micro(
        home.path(),
        &[
            "call",
            "greeter",
            "Greeter.Stream",
            r#"{"count":-1}"#,
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (err["id"].as_str(), err["code"].as_i64()),
        (Some("greeter"), Some(400)),
        "{err}"
    );
    assert!(
        stderr(&out).contains("greeter returned an error"),
        "{}",
        stderr(&out)
    );
}

/// Protobuf events read as JSON: `micro subscribe` finds the type in the event's header and
/// its descriptor through the reflection of the service that subscribes to the topic.
#[test]
fn protobuf_events_print_as_json() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(greeter_bin("pubsub-subscriber"));
    env(&mut cmd, home.path());
    let _shipping = Proc(
        cmd.env("MICRO_BROKER_ADDRESS", "127.0.0.1:0")
            .env_remove("MICRO_BROKER")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let broker_nodes = |home: &Path| -> usize {
        let out = micro(
            home,
            &["describe", micro::broker::HTTP_BROKER_SERVICE, "-o", "json"],
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .into_iter()
            .flatten()
            .map(|s| s["nodes"].as_array().map_or(0, Vec::len))
            .sum()
    };
    let wait = |n: usize| {
        let started = Instant::now();
        while broker_nodes(home.path()) < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "subscribers did not register"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait(1);
    let mut watch = Command::new(micro_bin());
    env(&mut watch, home.path());
    let watch = watch
        .env("MICRO_BROKER_ADDRESS", "127.0.0.1:0")
        .env_remove("MICRO_BROKER")
        .args(["subscribe", "orders.placed", "-n", "2", "--timeout", "60s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait(2);
    let mut publisher = Command::new(greeter_bin("pubsub-publisher"));
    env(&mut publisher, home.path());
    let out = publisher
        .env_remove("MICRO_BROKER")
        .args(["--count", "2", "--format", "proto"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = watch.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{}", stdout(&out));
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["content_type"], "application/protobuf", "{event}");
        assert_eq!(
            event["headers"]["micro-message-type"], "orders.OrderPlaced",
            "{event}"
        );
        let n = i + 1;
        assert_eq!(event["body"]["id"], format!("order-{n}"), "{event}");
        assert_eq!(event["body"]["item"], "book", "{event}");
        assert!(event.get("body_base64").is_none(), "{event}");
    }
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

/// `micro cert dev`, then a greeter that serves mutual TLS with its certificate, called by
/// `micro` with a certificate of the same CA, refused to a caller without one.
#[test]
fn cert_dev_certificates_carry_mutual_tls_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let certs = home.path().join("certs");
    let certs_arg = certs.display().to_string();
    let out = micro(
        home.path(),
        &["cert", "dev", "greeter", "caller", "--dir", &certs_arg],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("export MICRO_TLS_CA_FILE="),
        "{}",
        stdout(&out)
    );
    let tls = |cmd: &mut Command, name: &str| {
        cmd.env("MICRO_TLS_CA_FILE", certs.join("ca.pem"))
            .env("MICRO_TLS_CERT_FILE", certs.join(format!("{name}.pem")))
            .env("MICRO_TLS_KEY_FILE", certs.join(format!("{name}-key.pem")));
    };
    let mut cmd = Command::new(greeter_bin("greeter-server"));
    env(&mut cmd, home.path());
    tls(&mut cmd, "greeter");
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
    let _greeter = Proc(cmd.spawn().expect("start greeter-server"));
    wait_nodes(home.path(), 1, Duration::from_secs(60));

    let call = |name: Option<&str>, transport: &str| {
        let mut cmd = Command::new(micro_bin());
        env(&mut cmd, home.path());
        cmd.env("MICRO_TRANSPORT", transport);
        match name {
            Some(name) => tls(&mut cmd, name),
            None => {
                cmd.env("MICRO_TLS_CA_FILE", certs.join("ca.pem"));
            }
        }
        cmd.args(["call", "greeter", "Greeter.Hello", r#"{"name":"tls"}"#])
            .stdin(Stdio::null());
        cmd.output().expect("run micro")
    };
    for transport in ["auto", "grpc"] {
        let out = call(Some("caller"), transport);
        assert!(out.status.success(), "{transport}: {}", stderr(&out));
        assert!(stdout(&out).contains("Hello tls"), "{}", stdout(&out));
        let out = call(None, transport);
        assert!(
            !out.status.success(),
            "{transport}: a caller without a certificate is refused"
        );
        // Over gRPC the request may be written before the server's TLS alert is read: the
        // call then fails as a broken connection, without the reason.
        assert!(
            transport == "grpc" || stderr(&out).contains("requires a client certificate"),
            "{transport}: {}",
            stderr(&out)
        );
    }
    // The registry says the node serves TLS.
    let out = micro(home.path(), &["describe", "greeter"]);
    assert!(stdout(&out).contains("secure=true"), "{}", stdout(&out));
}

#[test]
fn auth_keys_accounts_rules_and_login_end_to_end() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = |args: &[&str]| {
        let out = micro(h, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    run(&["auth", "keys"]);
    let (key, public) = (h.join("auth/auth.key"), h.join("auth/auth.pub"));
    run(&[
        "auth",
        "create",
        "account",
        "ada",
        "--secret",
        "ada-secret",
        "--scopes",
        "staff",
    ]);
    run(&[
        "auth",
        "create",
        "rule",
        "hello-public",
        "--scope",
        "",
        "--resource",
        "service:greeter:Greeter.Hello",
    ]);
    let text = run(&[
        "auth",
        "create",
        "rule",
        "staff",
        "--scope",
        "staff",
        "--resource",
        "service:greeter:*",
    ]);
    assert!(
        !text.contains("default rule"),
        "only the first rule brings it: {text}"
    );
    run(&["auth", "delete", "rule", "default"]);
    let rules = run(&["auth", "list", "rules"]);
    assert!(
        rules.contains("hello-public") && !rules.contains("default"),
        "{rules}"
    );
    let public_arg = public.display().to_string();
    let _greeter = greeter(h, &["--auth", "jwt", "--auth_public_key", &public_arg]);
    wait_nodes(h, 1, Duration::from_secs(60));

    // Anonymous: the public endpoint answers, the other asks for a token with a hint.
    assert!(
        run(&["call", "greeter", "Greeter.Hello", r#"{"name":"anon"}"#]).contains("Hello anon")
    );
    let stream = [
        "stream",
        "greeter",
        "Greeter.Stream",
        r#"{"name":"s","count":1}"#,
    ];
    let out = micro(h, &stream);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("401") && stderr(&out).contains("micro login"),
        "{}",
        stderr(&out)
    );

    // Signed in: the token kept in MICRO_HOME goes with every call.
    let login = |secret: &str| {
        let mut cmd = Command::new(micro_bin());
        env(&mut cmd, h);
        cmd.env("MICRO_AUTH_PRIVATE_KEY", &key)
            .args(["login", "--id", "ada", "--secret", secret])
            .stdin(Stdio::null());
        cmd.output().unwrap()
    };
    let out = login("wrong-secret");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown account or wrong secret"),
        "{}",
        stderr(&out)
    );
    let out = login("ada-secret");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("signed in as ada"),
        "{}",
        stdout(&out)
    );
    assert!(run(&stream).contains("Hello s #1"));
    run(&["logout"]);
    assert!(!micro(h, &stream).status.success());
    let out = micro(
        h,
        &["auth", "token", "--id", "ada", "--secret", "ada-secret"],
    );
    assert!(
        stderr(&out).contains("MICRO_AUTH_PRIVATE_KEY"),
        "{}",
        stderr(&out)
    );
}
