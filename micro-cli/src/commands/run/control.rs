//! How other commands reach a running `micro run`: it keeps its state in
//! `MICRO_HOME/run/state.json` (rewritten at every change) and answers `stop [NAME]` on the
//! Unix socket `MICRO_HOME/run/control.sock`. `micro status`, `micro logs` and `micro stop`
//! read and use them.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::supervise::{Board, State};
use crate::cli::{Global, LogsArgs, Output, StopArgs};
use crate::commands::CliError;
use crate::output;

/// What `micro run` writes for the others.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RunState {
    /// The supervisor's process.
    pub(crate) pid: u32,
    /// What the plan was read from.
    pub(crate) origin: String,
    /// Where the gateway listens, when it runs.
    pub(crate) gateway: Option<String>,
    /// The services, in start order.
    pub(crate) services: Vec<State>,
}

/// `MICRO_HOME/run`.
pub(crate) fn dir(home: &Path) -> PathBuf {
    home.join("run")
}

fn state_path(home: &Path) -> PathBuf {
    dir(home).join("state.json")
}

fn socket_path(home: &Path) -> PathBuf {
    dir(home).join("control.sock")
}

/// `MICRO_HOME/logs`.
pub(crate) fn logs(home: &Path) -> PathBuf {
    home.join("logs")
}

/// Whether a process is alive.
pub(crate) fn alive(pid: u32) -> bool {
    i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}

/// The state a `micro run` wrote, if there is one.
pub(crate) fn read(home: &Path) -> Option<RunState> {
    let text = std::fs::read_to_string(state_path(home)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The state of a `micro run` that is still running on this home: its process lives and
/// its control socket answers (a pid reused after a reboot does not count).
pub(crate) fn running(home: &Path) -> Option<RunState> {
    read(home)
        .filter(|s| alive(s.pid))
        .filter(|_| std::os::unix::net::UnixStream::connect(socket_path(home)).is_ok())
}

/// Remove the socket and the state: this run is over.
pub(crate) fn forget(home: &Path) {
    let _ = std::fs::remove_file(socket_path(home));
    let _ = std::fs::remove_file(state_path(home));
}

/// Write the state (a new file renamed over the old one).
pub(crate) fn write(home: &Path, state: &RunState) {
    let path = state_path(home);
    let tmp = path.with_extension("json.new");
    if let Ok(text) = serde_json::to_vec_pretty(state)
        && std::fs::write(&tmp, text).is_ok()
    {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// Keep the state file current until the board is dropped.
pub(crate) fn keep_written(board: Arc<Board>, origin: String, gateway: Option<String>) {
    let home = board.home.clone();
    let mut rx = board.changed.subscribe();
    let pid = std::process::id();
    tokio::spawn(async move {
        loop {
            let state = RunState {
                pid,
                origin: origin.clone(),
                gateway: gateway.clone(),
                services: board.snapshot(),
            };
            write(&home, &state);
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
}

/// A request on the control socket: stop everything (`None`) or one service; answered
/// through the sender once done.
pub(crate) type StopRequest = (Option<String>, tokio::sync::oneshot::Sender<String>);

/// Listen on the control socket; requests go to `tx`.
pub(crate) fn listen(home: &Path, tx: mpsc::Sender<StopRequest>) -> Result<(), CliError> {
    let path = socket_path(home);
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| CliError::internal(format!("cannot listen on {}: {e}", path.display())))?;
    tokio::spawn(async move {
        loop {
            let conn = match listener.accept().await {
                Ok((conn, _)) => conn,
                Err(_) => {
                    // Out of descriptors or the like: try again shortly, never give up.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = conn.into_split();
                let mut line = String::new();
                if BufReader::new(read).read_line(&mut line).await.is_err() {
                    return;
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                let answer = match words.as_slice() {
                    ["stop"] | ["stop", _] => {
                        let (done, wait) = tokio::sync::oneshot::channel();
                        let name = words.get(1).map(|s| (*s).to_owned());
                        if tx.send((name, done)).await.is_err() {
                            "error: micro run is stopping".to_owned()
                        } else {
                            wait.await.unwrap_or_else(|_| {
                                "error: micro run ended before it could answer".to_owned()
                            })
                        }
                    }
                    _ => format!("error: unknown request {:?}", line.trim()),
                };
                let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
            });
        }
    });
    Ok(())
}

fn not_running(home: &Path) -> CliError {
    CliError {
        message: format!("micro run is not running (MICRO_HOME={})", home.display()),
        hint: Some("start it with micro run -d; MICRO_HOME must be the same as its".into()),
        exit_code: 1,
        error: None,
    }
}

fn home(global: &Global) -> Result<PathBuf, CliError> {
    Ok(crate::commands::options(global)?.home)
}

fn ago(since: Option<u64>) -> String {
    let Some(since) = since else {
        return "-".to_owned();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(since);
    let s = now.saturating_sub(since);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

/// `micro status`.
pub(crate) fn status(global: &Global) -> Result<(), CliError> {
    let home = home(global)?;
    let Some(state) = running(&home) else {
        return Err(not_running(&home));
    };
    if global.output == Output::Json {
        output::print(&serde_json::to_string_pretty(&state).unwrap_or_default());
        return Ok(());
    }
    let rows: Vec<Vec<String>> = state
        .services
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.status.word().to_owned(),
                s.pid.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                if s.status == super::supervise::Status::Up || s.pid.is_some() {
                    ago(s.since)
                } else {
                    "-".into()
                },
                s.restarts.to_string(),
                s.address.clone().unwrap_or_else(|| "-".into()),
                s.last_exit.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let gateway = match &state.gateway {
        Some(g) => format!(", gateway on {g}"),
        None => String::new(),
    };
    output::print(&format!(
        "micro run (pid {}) from {}{gateway}\n\n{}",
        state.pid,
        state.origin,
        output::table(
            &[
                "SERVICE",
                "STATUS",
                "PID",
                "UPTIME",
                "RESTARTS",
                "ADDRESS",
                "LAST EXIT"
            ],
            &rows
        )
    ));
    Ok(())
}

/// `micro stop [SERVICE]`.
pub(crate) async fn stop(global: &Global, args: &StopArgs) -> Result<(), CliError> {
    let home = home(global)?;
    let Some(state) = running(&home) else {
        return Err(not_running(&home));
    };
    if let Some(name) = &args.service
        && !state.services.iter().any(|s| &s.name == name)
    {
        let names: Vec<&str> = state.services.iter().map(|s| s.name.as_str()).collect();
        return Err(CliError::usage(
            format!(
                "micro run runs no service {name:?} (it runs: {})",
                names.join(", ")
            ),
            None,
        ));
    }
    let mut conn = UnixStream::connect(socket_path(&home)).await.map_err(|e| {
        CliError::internal(format!("cannot reach micro run (pid {}): {e}", state.pid))
    })?;
    let request = match &args.service {
        Some(name) => format!("stop {name}\n"),
        None => "stop\n".to_owned(),
    };
    conn.write_all(request.as_bytes())
        .await
        .map_err(|e| CliError::internal(format!("cannot reach micro run: {e}")))?;
    let mut reader = BufReader::new(conn);
    let mut answer = String::new();
    let _ = reader.read_line(&mut answer).await;
    let answer = answer.trim();
    if answer.is_empty() {
        return Err(CliError::internal(format!(
            "micro run (pid {}) closed the connection without an answer",
            state.pid
        )));
    }
    if let Some(err) = answer.strip_prefix("error: ") {
        return Err(CliError::internal(err.to_owned()));
    }
    if args.service.is_none() {
        // The supervisor exits once it answered: its end of the socket closes then.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut rest),
        )
        .await;
    }
    output::print(answer);
    Ok(())
}

/// The last `n` lines of a file.
fn tail(path: &Path, n: usize) -> std::io::Result<(Vec<String>, u64)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    // Read back from the end in blocks until there are enough lines.
    let mut start = len;
    let mut buf = Vec::new();
    while start > 0 && bytecount(&buf) <= n {
        let step = start.min(64 * 1024);
        start -= step;
        f.seek(SeekFrom::Start(start))?;
        let mut block = vec![0; step as usize];
        f.read_exact(&mut block)?;
        block.extend_from_slice(&buf);
        buf = block;
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let skip = lines.len().saturating_sub(n);
    Ok((lines[skip..].to_vec(), len))
}

fn bytecount(buf: &[u8]) -> usize {
    buf.iter().filter(|b| **b == b'\n').count()
}

/// `micro logs [SERVICE] [-f] [-n N]`.
pub(crate) async fn logs_cmd(global: &Global, args: &LogsArgs) -> Result<(), CliError> {
    let home = home(global)?;
    let dir = logs(&home);
    let names: Vec<String> = match &args.service {
        Some(name) => {
            if !dir.join(format!("{name}.log")).is_file() {
                let mut known: Vec<String> = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()
                            .and_then(|n| n.strip_suffix(".log"))
                            .map(str::to_owned)
                    })
                    .collect();
                known.sort();
                return Err(CliError::usage(
                    format!("no log of {name:?} in {}", dir.display()),
                    Some(if known.is_empty() {
                        "micro run writes one log per service there".to_owned()
                    } else {
                        format!("logs there: {}", known.join(", "))
                    }),
                ));
            }
            vec![name.clone()]
        }
        None => match read(&home) {
            Some(state) => state.services.into_iter().map(|s| s.name).collect(),
            None => return Err(not_running(&home)),
        },
    };
    let prefix = names.len() > 1;
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let mut offsets = Vec::new();
    let mut out = std::io::stdout().lock();
    for name in &names {
        let path = dir.join(format!("{name}.log"));
        let (lines, len) = tail(&path, args.lines).unwrap_or_default();
        for line in lines {
            let _ = if prefix {
                writeln!(out, "{name:<width$} | {line}")
            } else {
                writeln!(out, "{line}")
            };
        }
        offsets.push((name.clone(), path, len));
    }
    let _ = out.flush();
    drop(out);
    if !args.follow {
        return Ok(());
    }
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for (name, path, offset) in &mut offsets {
            let Ok(mut f) = std::fs::File::open(&*path) else {
                continue;
            };
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len < *offset {
                *offset = 0; // truncated
            }
            if len == *offset || f.seek(SeekFrom::Start(*offset)).is_err() {
                continue;
            }
            let mut reader = std::io::BufReader::new(f);
            let mut out = std::io::stdout().lock();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !line.ends_with('\n') {
                    break; // the rest of it is still being written
                }
                *offset += line.len() as u64;
                let _ = if prefix {
                    write!(out, "{name:<width$} | {line}")
                } else {
                    write!(out, "{line}")
                };
                line.clear();
            }
            if out.flush().is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_gives_the_last_lines() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("x.log");
        let text: String = (0..200_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        let (lines, len) = tail(&path, 3).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lines, ["line 199997", "line 199998", "line 199999"]);
        assert_eq!(len, text.len() as u64);
        let (lines, _) = tail(&path, 0).unwrap_or_else(|e| panic!("{e}"));
        assert!(lines.is_empty());
    }
}
