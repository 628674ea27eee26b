//! The services' processes: each started once what it depends on is up, its output pumped
//! to the screen and its log, restarted with backoff when it dies (saying why), and stopped
//! gracefully (SIGTERM, then SIGKILL after the grace period).

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use micro::Context;
use micro::client::CallOptions;
use micro::health::{HealthCheckRequest, HealthCheckResponse, PACKAGE, ServingStatus};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use super::manifest::{Ready, Spec};
use super::out::Out;

/// Node metadata that ties a registered node to the process `micro run` started.
pub(crate) const RUN_ID: &str = "micro.run.id";

/// The first wait before a restart; it doubles up to [`MAX_BACKOFF`] while a service keeps
/// dying, and starts over once it ran for [`STEADY`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
const STEADY: Duration = Duration::from_secs(10);

/// How long a service may take to register before `micro run` says so.
const REGISTER_PATIENCE: Duration = Duration::from_secs(60);

/// Where a service is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Not started yet: building, or waiting for what it depends on.
    Waiting,
    /// Its build failed; it starts after the next good one.
    BuildFailed,
    /// Started, not yet registered and serving.
    Starting,
    /// Registered and serving (or started, for `ready = "started"`).
    Up,
    /// Died; about to be restarted.
    Exited,
    /// Stopped by `micro stop` or at the end.
    Stopped,
}

impl Status {
    /// The word `micro status` shows.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::BuildFailed => "build failed",
            Status::Starting => "starting",
            Status::Up => "up",
            Status::Exited => "restarting",
            Status::Stopped => "stopped",
        }
    }
}

/// One service as `micro status` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct State {
    /// Its name in the plan.
    pub(crate) name: String,
    /// Where it is.
    pub(crate) status: Status,
    /// Its process, while one runs.
    pub(crate) pid: Option<u32>,
    /// How often it was restarted after dying.
    pub(crate) restarts: u32,
    /// Why it last died.
    pub(crate) last_exit: Option<String>,
    /// The name it registered under and its node's address, once up.
    pub(crate) service: Option<String>,
    pub(crate) address: Option<String>,
    /// When its process started (seconds since the epoch).
    pub(crate) since: Option<u64>,
    /// Its log file.
    pub(crate) log: PathBuf,
}

/// What a service task is told.
#[derive(Debug)]
pub(crate) enum Cmd {
    /// Start (or restart) with this program: after a build.
    Start(Program),
    /// Stop for good; answer when stopped.
    Stop(oneshot::Sender<()>),
}

/// What to execute.
#[derive(Clone, Debug)]
pub(crate) enum Program {
    /// A binary with arguments.
    Exec(PathBuf, Vec<String>),
    /// A shell command line.
    Shell(String),
}

/// What every service task shares.
#[derive(Debug)]
pub(crate) struct Board {
    /// The plan, in start order.
    pub(crate) specs: Vec<Spec>,
    /// The services' states, in the same order.
    pub(crate) states: Mutex<Vec<State>>,
    /// Bumped at every change.
    pub(crate) changed: watch::Sender<u64>,
    /// The printer.
    pub(crate) out: Arc<Out>,
    /// The client for registry look-ups and health checks.
    pub(crate) client: micro::Client,
    /// `MICRO_HOME`, passed to every service.
    pub(crate) home: PathBuf,
    /// The grace period of a stop.
    pub(crate) grace: Duration,
}

impl Board {
    /// Change the state of the service at `index`.
    pub(crate) fn update(&self, index: usize, f: impl FnOnce(&mut State)) {
        {
            let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = states.get_mut(index) {
                f(s);
            }
        }
        self.changed.send_modify(|v| *v += 1);
    }

    /// A copy of every state.
    pub(crate) fn snapshot(&self) -> Vec<State> {
        self.states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn status(&self, name: &str) -> Option<Status> {
        self.states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.status)
    }

    /// Wait until every dependency of the service at `index` is up.
    async fn dependencies_up(&self, index: usize) {
        let deps = &self.specs[index].depends;
        let mut rx = self.changed.subscribe();
        let mut said = false;
        loop {
            let waiting: Vec<&str> = deps
                .iter()
                .filter(|d| self.status(d) != Some(Status::Up))
                .map(String::as_str)
                .collect();
            if waiting.is_empty() {
                return;
            }
            // Said only when what it waits for is in trouble: a normal start is quiet.
            let stuck: Vec<&str> = waiting
                .iter()
                .copied()
                .filter(|d| matches!(self.status(d), Some(Status::BuildFailed | Status::Exited)))
                .collect();
            if !said && !stuck.is_empty() {
                said = true;
                self.out.say(&format!(
                    "{} waits for {}, which is not up",
                    self.specs[index].name,
                    stuck.join(", ")
                ));
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why a process ended, in words.
pub(crate) fn why(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            1 => " (SIGHUP)",
            2 => " (SIGINT)",
            6 => " (SIGABRT)",
            9 => " (SIGKILL)",
            11 => " (SIGSEGV)",
            15 => " (SIGTERM)",
            _ => "",
        };
        format!("killed by signal {sig}{name}")
    } else {
        match status.code() {
            Some(0) => "exited with status 0".to_owned(),
            Some(101) => "exited with status 101 (a panic)".to_owned(),
            Some(code) => format!("exited with status {code}"),
            None => "ended".to_owned(),
        }
    }
}

/// Ask a process and everything it started (its process group) to stop (SIGTERM), then
/// kill them when it has not stopped within `grace`.
pub(crate) async fn terminate(child: &mut Child, grace: Duration) -> (Option<ExitStatus>, bool) {
    let group = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => {
            // What it started and left behind goes with it.
            if let Some(group) = group {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            (status.ok(), false)
        }
        Err(_) => {
            if let Some(group) = group {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.start_kill();
            (child.wait().await.ok(), true)
        }
    }
}

/// Print every line of a stream with the service's prefix, and append it to its log.
fn pump(
    out: Arc<Out>,
    name: String,
    index: usize,
    stream: impl AsyncRead + Unpin + Send + 'static,
    log: Option<Arc<Mutex<std::fs::File>>>,
) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            // Bytes that are not UTF-8 are shown replaced, never the end of the output.
            let text = String::from_utf8_lossy(&buf);
            let line = text.trim_end_matches(['\n', '\r']);
            out.line(&name, index, line);
            if let Some(log) = &log {
                let mut f = log.lock().unwrap_or_else(|e| e.into_inner());
                let _ = std::io::Write::write_all(&mut *f, format!("{line}\n").as_bytes());
            }
        }
    });
}

/// A node registered by this process (found by its run id), once it answers its health
/// check as serving: its service name and address.
async fn registered(board: &Board, name: &str, nonce: &str) -> (String, String) {
    let started = Instant::now();
    let mut said = false;
    loop {
        if let Ok(services) = board.client.selector().registry().list_services().await {
            for svc in services {
                for node in &svc.nodes {
                    if node.metadata.get(RUN_ID).map(String::as_str) != Some(nonce) {
                        continue;
                    }
                    let opts = CallOptions::new()
                        .address(node.address.clone())
                        .package(PACKAGE)
                        .timeout(Duration::from_secs(2));
                    let req = HealthCheckRequest {
                        service: svc.name.clone(),
                    };
                    let rsp = board
                        .client
                        .call_with::<_, HealthCheckResponse>(
                            &Context::new(),
                            &svc.name,
                            "Health.Check",
                            &req,
                            &opts,
                        )
                        .await;
                    if matches!(&rsp, Ok(r) if r.status() == ServingStatus::Serving) {
                        return (svc.name.clone(), node.address.clone());
                    }
                }
            }
        }
        if !said && started.elapsed() > REGISTER_PATIENCE {
            said = true;
            board.out.say(&format!(
                "{name} has not registered after {} s; what depends on it waits (is it a micro service on this registry? ready = \"started\" in micro.toml counts it up once started)",
                REGISTER_PATIENCE.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether `port` on loopback is free to listen on.
pub(crate) fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn spawn(board: &Board, spec: &Spec, program: &Program, nonce: &str) -> std::io::Result<Child> {
    let mut cmd = match program {
        Program::Exec(exe, args) => {
            let mut c = Command::new(exe);
            c.args(args);
            c
        }
        Program::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
    };
    let mut metadata = std::env::var("MICRO_SERVER_METADATA").unwrap_or_default();
    if let Some(own) = spec.env.get("MICRO_SERVER_METADATA") {
        metadata = own.clone();
    }
    if !metadata.is_empty() {
        metadata.push(',');
    }
    metadata.push_str(&format!("{RUN_ID}={nonce}"));
    cmd.current_dir(&spec.dir)
        .env("MICRO_HOME", &board.home)
        .envs(&spec.env)
        .env("MICRO_SERVER_METADATA", metadata)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C reaches `micro run` only, which stops the
        // services in reverse order.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(port) = spec.port {
        cmd.env("MICRO_SERVER_ADDRESS", format!("127.0.0.1:{port}"));
    }
    cmd.spawn()
}

/// A command that arrives while no process of the service runs: the program to start
/// with, or `None` when the task ends (a stop, answered once the state says so, or no more
/// commands).
fn idle(board: &Board, index: usize, cmd: Option<Cmd>) -> Option<Program> {
    match cmd {
        Some(Cmd::Start(p)) => Some(p),
        Some(Cmd::Stop(done)) => {
            board.update(index, |s| s.status = Status::Stopped);
            let _ = done.send(());
            None
        }
        None => None,
    }
}

/// The task of the service at `index`: start it when it has a program and what it depends
/// on is up, restart it when it dies, follow commands.
pub(crate) async fn service(
    board: Arc<Board>,
    index: usize,
    mut program: Option<Program>,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let spec = board.specs[index].clone();
    let name = spec.name.clone();
    let mut backoff = FIRST_BACKOFF;
    let mut generation = 0u32;
    'outer: loop {
        // A program to run: a build that succeeded.
        let Some(current) = program.clone() else {
            match idle(&board, index, rx.recv().await) {
                Some(p) => {
                    program = Some(p);
                    continue;
                }
                None => return,
            }
        };
        tokio::select! {
            _ = board.dependencies_up(index) => {}
            cmd = rx.recv() => match idle(&board, index, cmd) {
                Some(p) => { program = Some(p); continue; }
                None => return,
            },
        }
        if let Some(port) = spec.port
            && !port_free(port)
        {
            board.out.say(&format!(
                "{name}: port {port} is already in use; trying again in {} s (micro.toml: services.{name}.port)",
                MAX_BACKOFF.as_secs()
            ));
            board.update(index, |s| {
                s.status = Status::Exited;
                s.last_exit = Some(format!("port {port} in use"));
            });
            tokio::select! {
                _ = tokio::time::sleep(MAX_BACKOFF) => {}
                cmd = rx.recv() => match idle(&board, index, cmd) {
                    Some(p) => program = Some(p),
                    None => return,
                },
            }
            continue;
        }
        generation += 1;
        let nonce = format!("{}-{}-{generation}", std::process::id(), name);
        let mut child = match spawn(&board, &spec, &current, &nonce) {
            Ok(c) => c,
            Err(e) => {
                board.out.say(&format!("{name} cannot start: {e}"));
                board.update(index, |s| {
                    s.status = Status::Exited;
                    s.last_exit = Some(format!("cannot start: {e}"));
                });
                program = None;
                continue;
            }
        };
        let log = board.out.log_file(&name).map(|f| Arc::new(Mutex::new(f)));
        if let Some(stdout) = child.stdout.take() {
            pump(board.out.clone(), name.clone(), index, stdout, log.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            pump(board.out.clone(), name.clone(), index, stderr, log);
        }
        let pid = child.id();
        let started = Instant::now();
        board.out.say(&format!("started {name}"));
        board.update(index, |s| {
            s.status = if spec.ready == Ready::Started {
                Status::Up
            } else {
                Status::Starting
            };
            s.pid = pid;
            s.since = Some(now());
            s.service = None;
            s.address = None;
        });
        let ready = async {
            if spec.ready == Ready::Started {
                std::future::pending::<(String, String)>().await
            } else {
                registered(&board, &name, &nonce).await
            }
        };
        tokio::pin!(ready);
        let mut is_up = false;
        loop {
            tokio::select! {
                (svc, address) = &mut ready, if !is_up => {
                    is_up = true;
                    board.out.say(&format!(
                        "{name} is up: {svc} at {address} ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    ));
                    board.update(index, |s| {
                        s.status = Status::Up;
                        s.service = Some(svc);
                        s.address = Some(address);
                    });
                }
                status = child.wait() => {
                    let reason = status.map(why).unwrap_or_else(|e| format!("lost: {e}"));
                    if started.elapsed() >= STEADY {
                        backoff = FIRST_BACKOFF;
                    }
                    board.out.say(&format!(
                        "{name} {reason}; restarting in {:.2} s",
                        backoff.as_secs_f64()
                    ));
                    board.update(index, |s| {
                        s.status = Status::Exited;
                        s.pid = None;
                        s.restarts += 1;
                        s.last_exit = Some(reason);
                    });
                    // A command during the wait wins over the restart.
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        cmd = rx.recv() => match idle(&board, index, cmd) {
                            Some(p) => program = Some(p),
                            None => return,
                        },
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue 'outer;
                }
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Start(p)) => {
                        board.out.say(&format!("restarting {name} with its new build"));
                        let (_, killed) = terminate(&mut child, board.grace).await;
                        if killed {
                            board.out.say(&format!("{name} did not stop within {} s: killed", board.grace.as_secs()));
                        }
                        program = Some(p);
                        backoff = FIRST_BACKOFF;
                        board.update(index, |s| s.pid = None);
                        continue 'outer;
                    }
                    Some(Cmd::Stop(done)) => {
                        let (status, killed) = terminate(&mut child, board.grace).await;
                        let how = if killed {
                            format!("did not stop within {} s: killed", board.grace.as_secs())
                        } else {
                            match status {
                                Some(s) if s.success() || s.signal() == Some(15) => "stopped".to_owned(),
                                Some(s) => format!("stopped ({})", why(s)),
                                None => "stopped".to_owned(),
                            }
                        };
                        board.out.say(&format!("{name} {how}"));
                        board.update(index, |s| {
                            s.status = Status::Stopped;
                            s.pid = None;
                            s.service = None;
                            s.address = None;
                        });
                        let _ = done.send(());
                        return;
                    }
                    None => {
                        let _ = terminate(&mut child, board.grace).await;
                        return;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_said_in_words() {
        assert_eq!(why(ExitStatus::from_raw(9)), "killed by signal 9 (SIGKILL)");
        assert_eq!(why(ExitStatus::from_raw(3 << 8)), "exited with status 3");
        assert_eq!(
            why(ExitStatus::from_raw(101 << 8)),
            "exited with status 101 (a panic)"
        );
    }
}
