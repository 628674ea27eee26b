//! The multi-host harness of the discovery tests: hosts (network namespaces made by
//! `scripts/hosts.sh`), processes in them, and the registry engines (etcd, a NATS server)
//! started inside one of them.
//!
//! Everything is torn down on drop, also when a test fails: processes are killed and the
//! namespaces deleted; `scripts/hosts.sh gc` removes what a killed test run left behind.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

pub mod faults;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One test at a time: each builds its own hosts, and two cores are few.
pub static SERIAL: Mutex<()> = Mutex::new(());

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `MICRO_REQUIRE_PEERS=1`: a missing prerequisite fails the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// A binary of this workspace (`micro`, `greeter-server`, `greeter-client`), built once.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !*built {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "micro-cli",
                "-p",
                "example-greeter",
                "-p",
                "example-pubsub",
                "--bins",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building micro and the examples failed");
        *built = true;
    }
    // Tests run from target/<profile>/deps; binaries sit in target/<profile>.
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    deps.parent().unwrap_or(deps).join(name)
}

/// Wait until `check` holds, polling; false after `limit`.
pub fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A set of test hosts `a`, `b`, `c` on one switch.
#[derive(Debug)]
pub struct Hosts {
    tag: String,
}

impl Hosts {
    /// Make the hosts; `None` (after saying why) when this machine cannot and the test is not
    /// required to run.
    pub fn up() -> Option<Hosts> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let script = root().join("scripts/hosts.sh");
        let _ = Command::new(&script).arg("gc").status();
        let tag = format!(
            "micro-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let out = Command::new(&script)
            .args(["up", &tag])
            .output()
            .expect("run scripts/hosts.sh");
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            let _ = Command::new(&script).args(["down", &tag]).status();
            assert!(
                !required(),
                "cannot make test hosts (network namespaces need root and iproute2): {why}"
            );
            eprintln!("skipping: cannot make test hosts: {why}");
            return None;
        }
        Some(Hosts { tag })
    }

    /// The tag `scripts/hosts.sh` knows these hosts by.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The address of `host`: a=198.51.100.1, b=.2, c=.3.
    pub fn addr(host: char) -> String {
        format!("198.51.100.{}", u32::from(host) - u32::from('a') + 1)
    }

    /// `program` to run inside `host`.
    pub fn command(&self, host: char, program: &Path) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &format!("{}-{host}", self.tag)])
            .arg(program)
            .stdin(Stdio::null());
        cmd
    }

    /// Run `program` in `host` to completion.
    pub fn run(&self, host: char, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(host, program);
        cmd.args(args).envs(env.iter().copied());
        cmd.output().expect("run a command in a test host")
    }

    /// Start `program` in `host`, its stderr in a log file.
    pub fn spawn(&self, host: char, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = self.command(host, program);
        cmd.args(args).envs(env.iter().copied());
        Proc::start(cmd)
    }

    /// `micro call greeter Greeter.Hello {"name":NAME}` from `host` answers `Hello NAME`.
    pub fn assert_hello(&self, host: char, env: &[(&str, &str)], name: &str) {
        let request = format!(r#"{{"name":"{name}"}}"#);
        let out = self.run(
            host,
            &bin("micro"),
            &["call", "greeter", "Greeter.Hello", &request],
            env,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!(r#"{{"msg":"Hello {name}"}}"#)
        );
    }

    /// Disconnect `host` from the switch, or connect it again.
    pub fn link(&self, host: char, up: bool) {
        let status = Command::new(root().join("scripts/hosts.sh"))
            .args([
                if up { "join" } else { "cut" },
                &self.tag,
                &host.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/hosts.sh"))
            .args(["down", &self.tag])
            .status();
    }
}

/// A process in a test host, killed on drop.
#[derive(Debug)]
pub struct Proc {
    /// The process (`ip netns exec` execs the program, so this is the program itself).
    pub child: Child,
    log: tempfile::NamedTempFile,
}

impl Proc {
    /// Start `cmd`: stdout piped, stderr in a log file.
    pub fn start(mut cmd: Command) -> Proc {
        let log = tempfile::NamedTempFile::new().unwrap();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.reopen().unwrap());
        let child = cmd.spawn().expect("start a test process");
        Proc { child, log }
    }

    /// Start `program` on this machine (not in a test host).
    pub fn spawn_plain(program: &Path, args: &[&str]) -> Proc {
        Proc::spawn_plain_env(program, args, &[])
    }

    /// Start `program` on this machine with `env` added.
    pub fn spawn_plain_env(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(program);
        cmd.args(args).envs(env.iter().copied());
        Proc::start(cmd)
    }

    /// What it wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Send `signal` (`-9`, `-TERM`).
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
    }

    /// Wait for it to exit (at most `limit`); its stdout and whether it succeeded.
    pub fn finish(&mut self, limit: Duration) -> (String, bool) {
        let mut stdout = self.child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
            text
        });
        let end = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= end {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = self.child.kill();
        let text = reader.join().unwrap_or_default();
        (text, status.is_some_and(|s| s.success()))
    }

    /// Its stdout as lines, each with the time it was read.
    pub fn lines(&mut self) -> mpsc::Receiver<(Instant, String)> {
        let stdout = self.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        });
        rx
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A registry engine the tests run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// etcd (Debian `etcd-server`).
    Etcd,
    /// nats-server with JetStream (Debian `nats-server`).
    Nats,
    /// mDNS: no server, multicast between the hosts.
    Mdns,
}

impl Engine {
    /// `MICRO_REGISTRY`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Etcd => "etcd",
            Engine::Nats => "nats",
            Engine::Mdns => "mdns",
        }
    }

    /// `MICRO_REGISTRY_ADDRESS` when it runs in `host`.
    pub fn address(self, host: char) -> String {
        match self {
            Engine::Etcd => format!("{}:2379", Hosts::addr(host)),
            Engine::Nats => format!("nats://{}:4222", Hosts::addr(host)),
            Engine::Mdns => "iface=eth0".to_owned(),
        }
    }

    /// Start it in `host`, keeping its data in `dir` (so a restart finds it), and wait until
    /// it answers; `None` for mDNS, which has no server.
    pub fn start(self, hosts: &Hosts, host: char, dir: &Path) -> Option<Proc> {
        let ip = Hosts::addr(host);
        let proc = match self {
            Engine::Mdns => return None,
            Engine::Etcd => {
                let client = format!("http://{ip}:2379");
                let peer = format!("http://{ip}:2380");
                hosts.spawn(
                    host,
                    Path::new("etcd"),
                    &[
                        "--name",
                        "t",
                        "--data-dir",
                        dir.join("etcd").to_str().unwrap(),
                        "--listen-client-urls",
                        &client,
                        "--advertise-client-urls",
                        &client,
                        "--listen-peer-urls",
                        &peer,
                        "--initial-advertise-peer-urls",
                        &peer,
                        "--initial-cluster",
                        &format!("t={peer}"),
                    ],
                    &[],
                )
            }
            Engine::Nats => hosts.spawn(
                host,
                Path::new("nats-server"),
                &[
                    "-a",
                    &ip,
                    "-p",
                    "4222",
                    "-js",
                    "-sd",
                    dir.join("nats").to_str().unwrap(),
                ],
                &[],
            ),
        };
        let port = match self {
            Engine::Etcd => "2379",
            Engine::Nats | Engine::Mdns => "4222",
        };
        let probe = format!("exec 3<>/dev/tcp/{ip}/{port}");
        let up = wait_for(Duration::from_secs(20), || {
            hosts
                .command(host, Path::new("bash"))
                .args(["-c", &probe])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(up, "{} did not start: {}", self.name(), proc.log());
        Some(proc)
    }

    /// Stop it (SIGTERM) and wait until it exited.
    pub fn stop(proc: &mut Proc) {
        proc.signal("-TERM");
        let _ = wait_for(Duration::from_secs(20), || {
            proc.child.try_wait().ok().flatten().is_some()
        });
    }
}

/// Is `program` on PATH?
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The prerequisites of `engine`: present, or (when not required) a reason to skip.
pub fn engine_available(engine: Engine) -> bool {
    let program = match engine {
        Engine::Etcd => "etcd",
        Engine::Nats => "nats-server",
        Engine::Mdns => return true,
    };
    if have(program) {
        return true;
    }
    assert!(
        !required(),
        "{program} is not installed (scripts/test.sh installs it)"
    );
    eprintln!("skipping: {program} is not installed");
    false
}

/// A log file's lines (for reading a service's log after the fact).
pub fn lines_of(path: &Path) -> Vec<String> {
    File::open(path)
        .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
        .unwrap_or_default()
}

/// The environment of a service or client on `engine` (in host c), with a TTL of 3 s and
/// an interval of 1 s.
pub fn service_env(engine: Engine, home: &Path) -> Vec<(String, String)> {
    vec![
        ("MICRO_REGISTRY".into(), engine.name().into()),
        ("MICRO_REGISTRY_ADDRESS".into(), engine.address('c')),
        ("MICRO_REGISTER_TTL".into(), "3s".to_owned()),
        ("MICRO_REGISTER_INTERVAL".into(), "1s".to_owned()),
        ("MICRO_HOME".into(), home.to_str().unwrap().into()),
        ("MICRO_LOG_LEVEL".into(), "info".into()),
    ]
}

/// How many nodes of `service` the local registry under `home` lists.
pub fn registered(home: &Path, service: &str) -> usize {
    use micro::registry::Registry;
    let Ok(registry) = micro::registry::LocalRegistry::new(home.join("registry")) else {
        return 0;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(registry.get_service(service))
        .map(|s| s.iter().map(|v| v.nodes.len()).sum())
        .unwrap_or(0)
}

/// `env` as `(&str, &str)` pairs.
pub fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
