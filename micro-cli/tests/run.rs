//! `micro run` end to end on the shop's inventory and orders (orders calls inventory):
//! both built and started in order, a `kill -9` of inventory restarted, an edit to orders'
//! source rebuilding and restarting orders only, `micro status` / `logs` / `stop`, and
//! Ctrl-C stopping both in reverse order. Its own lines are compared with
//! `tests/transcripts/run-shop.txt` (refresh with `MICRO_BLESS=1`). Besides: a service whose
//! build fails while the others run, and a port already taken.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `micro run` whose output lines are collected as they come.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(home: &Path, args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_micro"))
            .arg("run")
            .args(args)
            .env("MICRO_HOME", home)
            .env("MICRO_REGISTER_TTL", "5s")
            .env("MICRO_REGISTER_INTERVAL", "1s")
            .env("MICRO_SERVER_ADDRESS", "127.0.0.1:0")
            .env("MICRO_LOG_LEVEL", "warn")
            .env_remove("MICRO_REGISTRY")
            .env_remove("MICRO_BROKER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start micro run");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Running { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Wait until `count` lines equal `micro | TEXT` (after the name column).
    fn wait_for(&self, text: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = own(&self.lines())
                .iter()
                .filter(|l| l.starts_with(text))
                .count();
            if seen >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {count}× {text:?} within {timeout:?}; output:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    /// Ctrl-C first, so that micro run stops what it started (each service is in its own
    /// process group and would outlive a killed micro run); SIGKILL if that hangs.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `micro run`'s own lines, without the `micro     | ` column.
fn own(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("micro"))
        .filter_map(|l| l.trim_start().strip_prefix("| "))
        .map(str::to_owned)
        .collect()
}

fn micro(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micro"))
        .args(args)
        .env("MICRO_HOME", home)
        .env_remove("MICRO_REGISTRY")
        .stdin(Stdio::null())
        .output()
        .expect("run micro")
}

fn status(home: &Path) -> serde_json::Value {
    let out = micro(home, &["status", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pid(home: &Path, name: &str) -> u64 {
    status(home)["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["pid"].as_u64())
        .unwrap_or_else(|| panic!("no pid of {name}: {}", status(home)))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

/// Durations, addresses and pids replaced, for the transcript.
fn normalise(line: &str) -> String {
    let mut out = String::new();
    for word in line.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        let bare = word.trim_start_matches('(');
        if bare.parse::<f64>().is_ok() && bare.contains('.') {
            out.push_str(if word.starts_with('(') { "(N" } else { "N" });
        } else if word.contains(':')
            && word
                .split(':')
                .next_back()
                .is_some_and(|p| p.parse::<u16>().is_ok())
        {
            out.push_str("ADDR");
        } else if word.starts_with("/") || word.contains("/micro.toml") {
            out.push_str("MANIFEST");
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The line the test adds to orders' source.
const MARKER: &str = "// edited by micro-cli's run test";

/// Puts a source file back as it was, whatever happens to the test.
struct Restore(PathBuf, Vec<u8>);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, &self.1);
    }
}

#[test]
fn micro_run_starts_in_order_restarts_rebuilds_and_stops_in_reverse() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let shop = examples().canonicalize().unwrap();
    let manifest = dir.path().join("micro.toml");
    std::fs::write(
        &manifest,
        format!(
            "[services.inventory]\npath = {:?}\n\n[services.orders]\npath = {:?}\ndepends = [\"inventory\"]\n",
            shop.join("inventory"),
            shop.join("orders")
        ),
    )
    .unwrap();
    let run = Running::start(
        home.path(),
        &[
            manifest.to_str().unwrap(),
            "--no-gateway",
            "--watch",
            "--grace",
            "20s",
        ],
    );
    // Builds can take minutes on a cold cache.
    run.wait_for("orders is up", 1, Duration::from_secs(900));
    let lines = own(&run.lines());
    let at = |text: &str| lines.iter().position(|l| l.starts_with(text)).unwrap();
    assert!(at("inventory is up") < at("started orders"), "{lines:#?}");

    // orders calls inventory.
    let placed = micro(
        home.path(),
        &[
            "call",
            "orders",
            "Orders.Place",
            r#"{"sku":"book","qty":2}"#,
        ],
    );
    assert!(
        placed.status.success(),
        "{}",
        String::from_utf8_lossy(&placed.stderr)
    );
    assert!(String::from_utf8_lossy(&placed.stdout).contains("reservationId"));

    // kill -9: restarted within 2 s, and up again.
    let inventory = pid(home.path(), "inventory");
    let orders = pid(home.path(), "orders");
    let killed = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-9", &inventory.to_string()])
            .status()
            .unwrap()
            .success()
    );
    run.wait_for("started inventory", 2, Duration::from_secs(30));
    let restarted = killed.elapsed();
    assert!(
        restarted < Duration::from_secs(2),
        "restarted after {restarted:?}"
    );
    run.wait_for("inventory is up", 2, Duration::from_secs(60));
    let inventory = pid(home.path(), "inventory");
    assert_eq!(
        status(home.path())["services"][0]["last_exit"],
        "killed by signal 9 (SIGKILL)"
    );

    // An edit to orders' source: orders rebuilt and restarted, inventory left alone.
    let main = shop.join("orders/src/main.rs");
    // Without a marker line a killed earlier run may have left behind.
    let original: Vec<u8> = String::from_utf8(std::fs::read(&main).unwrap())
        .unwrap()
        .lines()
        .filter(|l| *l != MARKER)
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    let restore = Restore(main.clone(), original.clone());
    let mut edited = original.clone();
    edited.extend_from_slice(format!("{MARKER}\n").as_bytes());
    std::fs::write(&main, edited).unwrap();
    run.wait_for("orders is up", 2, Duration::from_secs(300));
    assert_ne!(
        pid(home.path(), "orders"),
        orders,
        "orders was not restarted"
    );
    assert_eq!(
        pid(home.path(), "inventory"),
        inventory,
        "inventory was restarted"
    );
    let placed = micro(
        home.path(),
        &[
            "call",
            "orders",
            "Orders.Place",
            r#"{"sku":"book","qty":1}"#,
        ],
    );
    assert!(
        placed.status.success(),
        "{}",
        String::from_utf8_lossy(&placed.stderr)
    );

    // micro status and micro logs.
    let table = String::from_utf8_lossy(&micro(home.path(), &["status"]).stdout).into_owned();
    assert!(table.contains("inventory  up"), "{table}");
    assert!(table.contains("killed by signal 9 (SIGKILL)"), "{table}");
    let logs = micro(home.path(), &["logs", "orders", "-n", "50"]);
    assert!(logs.status.success());
    let logs = micro(home.path(), &["logs", "nosuch"]);
    assert_eq!(logs.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&logs.stderr).contains("logs there: inventory, orders"));

    // Ctrl-C: orders stops before inventory, both deregistered.
    let mut run = run;
    assert!(
        Command::new("kill")
            .args(["-INT", &run.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let code = run.child.wait().unwrap();
    assert!(code.success(), "{code:?}");
    drop(restore);
    std::thread::sleep(Duration::from_millis(200));
    let lines = own(&run.lines());
    let at = |text: &str| lines.iter().position(|l| l.starts_with(text)).unwrap();
    assert!(at("orders stopped") < at("inventory stopped"), "{lines:#?}");
    // Deregistered (the node inventory had when it was killed expires with its TTL).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let services = micro(home.path(), &["registry", "list", "-o", "json"]);
        let services = String::from_utf8_lossy(&services.stdout).into_owned();
        if !services.contains("orders") && !services.contains("inventory") {
            break;
        }
        assert!(Instant::now() < deadline, "still registered: {services}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // The transcript of micro run's own lines.
    let got: String = lines.iter().map(|l| normalise(l) + "\n").collect();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/run-shop.txt");
    if std::env::var("MICRO_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&file, &got).unwrap();
    } else {
        let want = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(
            got,
            want,
            "micro run's lines differ from {} (MICRO_BLESS=1 refreshes it)",
            file.display()
        );
    }
}

#[test]
fn a_failed_build_is_shown_and_the_others_keep_running() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(broken.join("src")).unwrap();
    std::fs::write(
        broken.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        broken.join("src/main.rs"),
        "fn main() {\n    let n: u32 = \"seven\";\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("micro.toml"),
        "[services.broken]\npath = \"broken\"\n\n[services.steady]\ncommand = \"echo steady is running; exec sleep 600\"\nready = \"started\"\n\n[services.after]\ncommand = \"exec sleep 600\"\nready = \"started\"\ndepends = [\"broken\"]\n",
    )
    .unwrap();
    let run = Running::start(
        home.path(),
        &[dir.path().to_str().unwrap(), "--no-gateway", "--no-watch"],
    );
    run.wait_for("started steady", 1, Duration::from_secs(300));
    run.wait_for(
        "after waits for broken, which is not up",
        1,
        Duration::from_secs(30),
    );
    let lines = run.lines();
    assert!(
        own(&lines).iter().any(|l| l == "broken failed to build:"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("broken") && l.contains("error[E0308]: mismatched types")),
        "{lines:#?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lines_of(&run)
        .iter()
        .any(|l| l.contains("steady is running"))
    {
        assert!(Instant::now() < deadline, "{:#?}", run.lines());
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = status(home.path());
    let word = |name: &str| {
        state["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(word("broken"), "build_failed");
    assert_eq!(word("steady"), "up");
    assert_eq!(word("after"), "waiting");
    let stop = micro(home.path(), &["stop"]);
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&stop.stdout).trim(),
        format!(
            "stopped micro run (pid {}) and its 3 services",
            run.child.id()
        )
    );
}

fn lines_of(run: &Running) -> Vec<String> {
    run.lines()
}

#[test]
fn a_port_already_taken_is_named_before_anything_starts() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let manifest = dir.path().join("micro.toml");
    std::fs::write(
        &manifest,
        format!("[services.a]\ncommand = \"sleep 60\"\nport = {port}\n"),
    )
    .unwrap();
    let out = micro(
        home.path(),
        &["run", manifest.to_str().unwrap(), "--no-gateway"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("services.a.port {port} is already in use")),
        "{err}"
    );
    // The gateway's address as well.
    std::fs::write(&manifest, "[services.a]\ncommand = \"sleep 60\"\n").unwrap();
    let address = format!("127.0.0.1:{port}");
    let out = micro(
        home.path(),
        &["run", manifest.to_str().unwrap(), "--address", &address],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("the gateway cannot listen on {address}")),
        "{err}"
    );
    assert!(err.contains("--no-gateway"), "{err}");
}
