//! `micro run`: the developer's loop. Runs the services of a manifest (or of a cargo
//! workspace): builds them, starts them in dependency order (a dependency is up once
//! registered and serving), prefixes their output with their names, restarts what dies,
//! rebuilds and restarts what changes (`--watch`), runs the API gateway, and stops
//! everything in reverse order on Ctrl-C. `--detach` runs it in the background, where
//! `micro status`, `micro logs` and `micro stop` reach it.

mod build;
mod control;
mod manifest;
mod out;
mod supervise;
mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

pub(crate) use control::{logs_cmd as logs, status, stop};

use crate::cli::{Global, RunArgs};
use crate::commands::CliError;
use manifest::{Plan, Ready, Run, Spec};
use out::Out;
use supervise::{Board, Cmd, Program, State, Status};

/// The gateway's entry in the plan.
const GATEWAY: &str = "gateway";

/// `micro run`.
pub(crate) async fn exec(global: &Global, args: RunArgs) -> Result<(), CliError> {
    let settings = super::options(global)?;
    let home = std::path::absolute(&settings.home).unwrap_or(settings.home.clone());
    let mut plan = manifest::load(&args.path)?;
    if let Some(state) = control::running(&home)
        && state.pid != std::process::id()
    {
        return Err(CliError::usage(
            format!(
                "micro run is already running (pid {}, from {}) with MICRO_HOME={}",
                state.pid,
                state.origin,
                home.display()
            ),
            Some("micro stop ends it; another MICRO_HOME runs a second one".into()),
        ));
    }
    check_ports(&plan)?;
    let gateway = if args.no_gateway {
        None
    } else {
        let address = super::api::bind_address(&args.address);
        if let Err(e) = std::net::TcpListener::bind(&address) {
            return Err(CliError::usage(
                format!("the gateway cannot listen on {address}: {e}"),
                Some(
                    "give it another address with --address, or run without it: --no-gateway"
                        .into(),
                ),
            ));
        }
        let exe = std::env::current_exe()
            .map_err(|e| CliError::internal(format!("cannot find the micro binary: {e}")))?;
        plan.services.push(Spec {
            name: GATEWAY.to_owned(),
            run: Run::Exec(exe, vec!["api".into(), "--address".into(), address.clone()]),
            env: BTreeMap::new(),
            port: None,
            depends: Vec::new(),
            ready: Ready::Started,
            watch: Vec::new(),
            dir: PathBuf::from("."),
        });
        Some(address)
    };
    if args.detach && !args.supervisor {
        return detach(&home).await;
    }
    supervise(global, args, plan, home, gateway).await
}

/// Every `port` of the manifest free before anything starts.
fn check_ports(plan: &Plan) -> Result<(), CliError> {
    for spec in &plan.services {
        if let Some(port) = spec.port
            && !supervise::port_free(port)
        {
            return Err(CliError::usage(
                format!(
                    "{}: services.{}.port {port} is already in use",
                    plan.origin, spec.name
                ),
                Some(format!(
                    "stop what listens on {port} (ss -ltnp sport = :{port} shows it), or give {} another port",
                    spec.name
                )),
            ));
        }
    }
    Ok(())
}

/// The environment every service gets from `micro run`'s global flags.
fn shared_env(global: &Global) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    let mut put = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            env.push((k, v.clone()));
        }
    };
    put("MICRO_REGISTRY", &global.registry);
    put("MICRO_REGISTRY_ADDRESS", &global.registry_address);
    put("MICRO_BROKER", &global.broker);
    put("MICRO_BROKER_ADDRESS", &global.broker_address);
    env
}

async fn supervise(
    global: &Global,
    args: RunArgs,
    mut plan: Plan,
    home: PathBuf,
    gateway: Option<String>,
) -> Result<(), CliError> {
    std::fs::create_dir_all(control::dir(&home)).map_err(|e| {
        CliError::internal(format!(
            "cannot create {}: {e}",
            control::dir(&home).display()
        ))
    })?;
    for spec in &mut plan.services {
        for (k, v) in shared_env(global) {
            spec.env.entry(k.to_owned()).or_insert(v);
        }
    }
    let out = Arc::new(Out::new(
        plan.services.iter().map(|s| s.name.as_str()),
        &control::logs(&home),
    ));
    let client = super::plain_client(global)?;
    let states = plan
        .services
        .iter()
        .map(|s| State {
            name: s.name.clone(),
            status: Status::Waiting,
            pid: None,
            restarts: 0,
            last_exit: None,
            service: None,
            address: None,
            since: None,
            log: out.log_path(&s.name),
        })
        .collect();
    let (changed, _) = tokio::sync::watch::channel(0);
    let board = Arc::new(Board {
        specs: plan.services.clone(),
        states: Mutex::new(states),
        changed,
        out: out.clone(),
        client,
        home: home.clone(),
        grace: args.grace,
    });
    control::keep_written(board.clone(), plan.origin.clone(), gateway.clone());
    let (stop_tx, mut stop_rx) = mpsc::channel::<control::StopRequest>(8);
    control::listen(&home, stop_tx)?;

    let count = plan.services.iter().filter(|s| s.name != GATEWAY).count();
    out.say(&format!(
        "running {count} service{} from {}{}",
        if count == 1 { "" } else { "s" },
        plan.origin,
        match &gateway {
            Some(g) => format!("; the gateway on {g}"),
            None => String::new(),
        }
    ));

    // Signals are heard from now on, also while cargo builds (a Ctrl-C reaches cargo too,
    // in micro run's process group, and ends its build at once).
    let mut signals = signals();

    let (rebuild_tx, mut rebuild_rx) = mpsc::channel::<Vec<usize>>(4);
    let _watcher = if args.watching() {
        match watch::start(&plan.services, rebuild_tx) {
            Ok(w) => {
                out.say("watching sources: a change rebuilds and restarts its service");
                Some(w)
            }
            Err(e) => {
                out.say(&format!(
                    "cannot watch sources ({e}); going on without --watch"
                ));
                None
            }
        }
    } else {
        drop(rebuild_tx);
        None
    };

    // The first builds, one service after another; a stop or a signal meanwhile ends them.
    let mut programs = Vec::new();
    let mut early: Option<Option<oneshot::Sender<String>>> = None;
    for (index, spec) in plan.services.iter().enumerate() {
        if let Ok(()) = signals.try_recv() {
            early = Some(None);
            break;
        }
        if let Ok((_, done)) = stop_rx.try_recv() {
            early = Some(Some(done));
            break;
        }
        programs.push(match &spec.run {
            Run::Cargo { .. } => build_step(&board, index, args.release)
                .await
                .map(|(exe, _)| Program::Exec(exe, Vec::new())),
            Run::Shell(line) => Some(Program::Shell(line.clone())),
            Run::Exec(exe, a) => Some(Program::Exec(exe.clone(), a.clone())),
        });
    }

    let mut senders = Vec::new();
    if early.is_none() {
        for (index, program) in programs.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(8);
            senders.push(tx);
            tokio::spawn(supervise::service(board.clone(), index, program, rx));
        }
    }

    let answer_all = if let Some(early) = early {
        early
    } else {
        loop {
            tokio::select! {
                _ = signals.recv() => break None,
                request = stop_rx.recv() => match request {
                    Some((None, done)) => break Some(done),
                    Some((Some(name), done)) => {
                        let answer = match plan.services.iter().position(|s| s.name == name) {
                            Some(index) => {
                                stop_one(&senders[index]).await;
                                format!("stopped {name}")
                            }
                            None => format!("error: micro run runs no service {name:?}"),
                        };
                        let _ = done.send(answer);
                    }
                    None => break None,
                },
                batch = rebuild_rx.recv(), if !rebuild_rx.is_closed() => {
                    let Some(batch) = batch else { continue };
                    for index in batch {
                        if matches!(plan.services[index].run, Run::Cargo { .. })
                            && let Some(exe) = rebuild(&board, index, args.release).await
                        {
                            let _ = senders[index].send(Cmd::Start(Program::Exec(exe, Vec::new()))).await;
                        }
                    }
                }
            }
        }
    };
    out.say("stopping");
    for tx in senders.iter().rev() {
        stop_one(tx).await;
    }
    control::forget(&home);
    out.say("stopped");
    if let Some(done) = answer_all {
        let _ = done.send(format!(
            "stopped micro run (pid {}) and its {count} service{}",
            std::process::id(),
            if count == 1 { "" } else { "s" }
        ));
        // Let the answer go out before the process ends.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// SIGINT, SIGTERM and SIGHUP (the terminal closed), heard by one task for the whole run
/// so that none is missed while `micro run` builds or stops a service.
fn signals() -> mpsc::Receiver<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = mpsc::channel(4);
    let kinds = [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ];
    for kind in kinds {
        let tx = tx.clone();
        if let Ok(mut sig) = signal(kind) {
            tokio::spawn(async move {
                while sig.recv().await.is_some() {
                    if tx.send(()).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
    rx
}

/// Tell a service task to stop and wait until it has.
async fn stop_one(tx: &mpsc::Sender<Cmd>) {
    let (done, wait) = oneshot::channel();
    if tx.send(Cmd::Stop(done)).await.is_ok() {
        let _ = wait.await;
    }
}

/// Rebuild after a change: the new binary when there is one to restart with.
async fn rebuild(board: &Board, index: usize, release: bool) -> Option<PathBuf> {
    let name = &board.specs[index].name;
    board.out.say(&format!("{name} changed: rebuilding"));
    match build_step(board, index, release).await {
        Some((exe, false)) => Some(exe),
        Some((_, true)) => {
            board.out.say(&format!("{name} is up to date"));
            None
        }
        None => {
            board
                .out
                .say(&format!("{name} keeps running its last good build"));
            None
        }
    }
}

/// Build the service at `index`: its binary and whether cargo found it fresh, or `None`
/// (the compiler's output shown).
async fn build_step(board: &Board, index: usize, release: bool) -> Option<(PathBuf, bool)> {
    let spec = &board.specs[index];
    let Run::Cargo {
        manifest,
        package,
        bin,
    } = &spec.run
    else {
        return None;
    };
    let name = &spec.name;
    let started = Instant::now();
    board.out.status(&format!("building {name}"));
    let result = build::cargo(manifest, package, bin, release, |n, last| {
        board
            .out
            .status(&format!("building {name}: {n} crates compiled ({last})"));
    })
    .await;
    match result {
        Ok(built) => {
            board.out.say(&format!(
                "built {name} in {:.1} s",
                started.elapsed().as_secs_f64()
            ));
            Some((built.exe, built.fresh))
        }
        Err(output) => {
            board.out.say(&format!("{name} failed to build:"));
            for line in output.lines() {
                board.out.line(name, index, line);
            }
            board.update(index, |s| {
                if s.pid.is_none() {
                    s.status = Status::BuildFailed;
                }
                s.last_exit = Some("build failed".into());
            });
            None
        }
    }
}

/// `micro run --detach`: start the supervisor in the background and wait until its
/// services are started.
async fn detach(home: &std::path::Path) -> Result<(), CliError> {
    let logs = control::logs(home);
    std::fs::create_dir_all(&logs)
        .map_err(|e| CliError::internal(format!("cannot create {}: {e}", logs.display())))?;
    let log_path = logs.join("micro-run.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| CliError::internal(format!("cannot open {}: {e}", log_path.display())))?;
    let err_log = log
        .try_clone()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::internal(format!("cannot find the micro binary: {e}")))?;
    let mut child = std::process::Command::new(exe);
    child
        .args(std::env::args_os().skip(1))
        .arg("--supervisor")
        .env("MICRO_HOME", home)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log);
    std::os::unix::process::CommandExt::process_group(&mut child, 0);
    let mut child = child.spawn().map_err(|e| {
        CliError::internal(format!("cannot start micro run in the background: {e}"))
    })?;
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last: Vec<&str> = tail.lines().rev().take(20).collect();
            let last: Vec<&str> = last.into_iter().rev().collect();
            return Err(CliError::internal(format!(
                "micro run stopped at once ({}):\n{}",
                supervise::why(status),
                last.join("\n")
            )));
        }
        if let Some(state) = control::read(home).filter(|s| s.pid == pid)
            && settled(&state.services)
        {
            let up = state
                .services
                .iter()
                .filter(|s| s.status == Status::Up)
                .count();
            crate::output::print(&format!(
                "micro run is running in the background (pid {pid}): {up} of {} up\nmicro status shows them, micro logs -f follows them, micro stop ends them (its own log: {})",
                state.services.len(),
                log_path.display()
            ));
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CliError::internal(format!(
                "micro run (pid {pid}) is still running but has not started every service in 10 minutes; micro status shows where each is, micro stop ends it"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a start has come as far as it will: every service up, failed or dying, or
/// waiting while something else failed (what it waits for, or a build before it).
fn settled(services: &[State]) -> bool {
    let trouble = services
        .iter()
        .any(|s| matches!(s.status, Status::BuildFailed | Status::Exited));
    services.iter().all(|s| match s.status {
        Status::Up | Status::BuildFailed | Status::Exited | Status::Stopped => true,
        Status::Waiting => trouble,
        Status::Starting => false,
    })
}
