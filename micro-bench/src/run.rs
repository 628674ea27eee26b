//! The orchestrator: servers in their own processes on core 1, the load driver on core 0,
//! frameworks interleaved in a shuffled order each round, the median of per-round ratios
//! against tonic, and `BENCHMARKS.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::echo::{Client, Framework};
use crate::load::{self, Measured, Work};

/// How a scenario loads the server.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// This many calls in flight.
    Closed(usize),
    /// Fixed arrival rate: this fraction of tonic's median QPS in scenario `U1-16`.
    OpenAtHalfOfTonic,
}

/// One row of the benchmark.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Short id.
    pub id: &'static str,
    /// What it does.
    pub title: &'static str,
    /// The calls.
    pub work: Work,
    /// The load.
    pub mode: Mode,
    /// Server processes (client-side balancing over them).
    pub servers: usize,
    /// Only micro's transports.
    pub micro_only: bool,
}

/// Every scenario, in order (L1 needs U1-16 before it).
pub fn scenarios() -> Vec<Scenario> {
    let s = |id, title, work, mode| Scenario {
        id,
        title,
        work,
        mode,
        servers: 1,
        micro_only: false,
    };
    vec![
        s(
            "U1-1",
            "unary 16 B, 1 in flight",
            Work::Unary(16),
            Mode::Closed(1),
        ),
        s(
            "U1-16",
            "unary 16 B, 16 in flight",
            Work::Unary(16),
            Mode::Closed(16),
        ),
        s(
            "U1-256",
            "unary 16 B, 256 in flight",
            Work::Unary(16),
            Mode::Closed(256),
        ),
        s(
            "U2",
            "unary 1 KB, 16 in flight",
            Work::Unary(1024),
            Mode::Closed(16),
        ),
        s(
            "U3",
            "unary 64 KB, 16 in flight",
            Work::Unary(65536),
            Mode::Closed(16),
        ),
        s(
            "S1",
            "server stream, 10,000 x 64 B per call",
            Work::Stream {
                count: 10_000,
                size: 64,
            },
            Mode::Closed(1),
        ),
        s(
            "S2",
            "server stream, 100 x 64 KB per call",
            Work::Stream {
                count: 100,
                size: 65536,
            },
            Mode::Closed(1),
        ),
        s(
            "L1",
            "unary 16 B at a fixed rate: half of tonic's U1-16 peak",
            Work::Unary(16),
            Mode::OpenAtHalfOfTonic,
        ),
        Scenario {
            id: "B1",
            title: "unary 16 B, 16 in flight, balanced over 2 server processes",
            work: Work::Unary(16),
            mode: Mode::Closed(16),
            servers: 2,
            micro_only: true,
        },
    ]
}

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Rounds per scenario.
    pub rounds: usize,
    /// Warm-up per point.
    pub warmup: Duration,
    /// Measured window per point.
    pub window: Duration,
    /// Scenarios to run (all when empty).
    pub only: Vec<String>,
    /// Frameworks to run.
    pub frameworks: Vec<Framework>,
    /// Where to write the report.
    pub out: Option<std::path::PathBuf>,
    /// Pin the server to core 1 (the driver pins itself to core 0 before).
    pub pinned: bool,
}

/// One point: a framework in a scenario in a round.
#[derive(Clone, Debug)]
pub struct Point {
    /// The load's outcome.
    pub measured: Measured,
    /// Server CPU per call, µs.
    pub server_cpu_us: f64,
    /// Driver CPU per call, µs.
    pub client_cpu_us: f64,
    /// Server peak RSS, KiB.
    pub server_hwm_kib: u64,
    /// Server RSS right after start, KiB.
    pub server_idle_kib: u64,
}

/// A benchmark server in its own process.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("pid", &self.child.id())
            .field("addr", &self.addr)
            .finish()
    }
}

impl Server {
    /// SIGTERM, then SIGKILL if it has not exited within a second (a graceful stop may wait
    /// for connections a client has not closed yet).
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Start this binary's `serve FRAMEWORK` in a process (on core 1 when `pinned`) and read
/// the address it listens on.
pub fn spawn_server(framework: Framework, pinned: bool) -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    if framework == Framework::MicroObserved {
        let observed = crate::echo::observed()?;
        cmd.env("MICRO_BENCH_AUTH_KEY", &observed.private_key)
            .env("MICRO_BENCH_OTLP", &observed.otlp);
    }
    cmd.args(["serve", framework.name(), "--addr", "127.0.0.1:0"])
        .env("MICRO_LOG_LEVEL", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the {} server: {e}", framework.name()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("the {} server said {line:?}", framework.name()))?;
    Ok(Server { child, addr })
}

/// utime + stime of a process, in seconds (`/proc/<pid>/stat`, 100 ticks per second).
pub fn cpu_secs(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A `KiB` line of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), 0 when unreadable.
pub fn status_kib(pid: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn point(
    scenario: &Scenario,
    framework: Framework,
    settings: &Settings,
    rate: Option<f64>,
) -> Result<Point, String> {
    let servers: Vec<Server> = (0..scenario.servers)
        .map(|_| spawn_server(framework, settings.pinned))
        .collect::<Result<_, _>>()?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pids: Vec<String> = servers.iter().map(|s| s.child.id().to_string()).collect();
    let idle = pids
        .iter()
        .map(|p| status_kib(p, "VmRSS:"))
        .max()
        .unwrap_or(0);
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let client = Client::connect(framework, &addrs).await?;
    let server_cpu0: f64 = pids.iter().map(|p| cpu_secs(p)).sum();
    let client_cpu0 = cpu_secs("self");
    let measured = match scenario.mode {
        Mode::Closed(n) => {
            load::closed_loop(&client, scenario.work, n, settings.warmup, settings.window).await
        }
        Mode::OpenAtHalfOfTonic => {
            let rate = rate.ok_or("L1 needs U1-16 first")?;
            load::open_loop(
                &client,
                scenario.work,
                rate,
                settings.warmup,
                settings.window,
            )
            .await
        }
    };
    let total = settings.warmup + settings.window;
    // CPU is counted over warm-up and window; so are the calls (scaled from the window).
    let calls_total = measured.calls as f64 * total.as_secs_f64() / settings.window.as_secs_f64();
    let server_cpu: f64 = pids.iter().map(|p| cpu_secs(p)).sum::<f64>() - server_cpu0;
    let client_cpu = cpu_secs("self") - client_cpu0;
    let hwm = pids
        .iter()
        .map(|p| status_kib(p, "VmHWM:"))
        .max()
        .unwrap_or(0);
    drop(client);
    for server in servers {
        server.stop().await;
    }
    Ok(Point {
        server_cpu_us: server_cpu * 1e6 / calls_total.max(1.0),
        client_cpu_us: client_cpu * 1e6 / calls_total.max(1.0),
        server_hwm_kib: hwm,
        server_idle_kib: idle,
        measured,
    })
}

/// Results: scenario id → framework → one point per round.
pub type Results = BTreeMap<&'static str, BTreeMap<Framework, Vec<Point>>>;

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn metric(scenario: &Scenario, p: &Point) -> f64 {
    match scenario.work {
        Work::Stream { .. } => p.measured.mps(),
        Work::Unary(_) => p.measured.qps(),
    }
}

/// Run the scenarios; prints progress to stderr.
#[allow(clippy::print_stderr)]
pub async fn run(settings: &Settings) -> Result<Results, String> {
    let mut results: Results = BTreeMap::new();
    let mut rng = fastrand_seed();
    for scenario in scenarios() {
        if !settings.only.is_empty() && !settings.only.iter().any(|o| o == scenario.id) {
            continue;
        }
        let frameworks: Vec<Framework> = settings
            .frameworks
            .iter()
            .copied()
            .filter(|f| {
                !scenario.micro_only
                    || matches!(
                        f,
                        Framework::Micro | Framework::MicroNative | Framework::MicroObserved
                    )
            })
            .filter(|f| f.streams() || !matches!(scenario.work, Work::Stream { .. }))
            .collect();
        let rate = results
            .get("U1-16")
            .and_then(|r| r.get(&Framework::Tonic))
            .map(|points| median(points.iter().map(|p| p.measured.qps()).collect()) / 2.0);
        for round in 0..settings.rounds {
            let mut order = frameworks.clone();
            shuffle(&mut order, &mut rng);
            for framework in order {
                let p = point(&scenario, framework, settings, rate).await?;
                eprintln!(
                    "{:<7} round {} {:<13} {:>10.0} {}  p50 {:>7.0} µs  p99 {:>7.0} µs  server {:>5.1} µs/call{}",
                    scenario.id,
                    round + 1,
                    framework.name(),
                    metric(&scenario, &p),
                    if matches!(scenario.work, Work::Stream { .. }) {
                        "msg/s"
                    } else {
                        "call/s"
                    },
                    p.measured.p50_us,
                    p.measured.p99_us,
                    p.server_cpu_us,
                    match &p.measured.first_error {
                        Some(e) => format!("  {} errors: {e}", p.measured.errors),
                        None => String::new(),
                    }
                );
                results
                    .entry(scenario.id)
                    .or_default()
                    .entry(framework)
                    .or_default()
                    .push(p);
            }
        }
    }
    Ok(results)
}

fn fastrand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        | 1
}

fn shuffle<T>(v: &mut [T], state: &mut u64) {
    for i in (1..v.len()).rev() {
        // xorshift64
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn box_facts() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    // Every core of the machine (the driver itself runs pinned to one).
    let cores = read("/proc/cpuinfo")
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let kernel = read("/proc/sys/kernel/osrelease");
    let load = read("/proc/loadavg");
    format!(
        "{cores} cores ({cpu}), Linux {}, load average at start {}",
        kernel.trim(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The report as Markdown.
pub fn report(results: &Results, settings: &Settings, command: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "micro against tonic 0.14 and tarpc 0.38 on one machine, in one run: the same echo service \
         (`micro-bench/proto/bench.proto`), the same load driver, frameworks in a shuffled order in \
         each of {} rounds ({} s warm-up, {} s measured per point). Servers run in their own \
         process{}; the driver runs on a current-thread runtime{}. \
         Ratios are medians of per-round ratios against tonic, with the range over rounds.\n",
        settings.rounds,
        settings.warmup.as_secs_f64(),
        settings.window.as_secs_f64(),
        if settings.pinned {
            " pinned to core 1 (current-thread runtime)"
        } else {
            " (unpinned)"
        },
        if settings.pinned {
            " pinned to core 0"
        } else {
            ""
        },
    );
    let _ = writeln!(out, "Machine: {}.\n", box_facts());
    let _ = writeln!(out, "Reproduce: `{command}`.\n");
    for scenario in scenarios() {
        let Some(by_fw) = results.get(scenario.id) else {
            continue;
        };
        let unit = match scenario.work {
            Work::Stream { .. } => "msgs/s",
            Work::Unary(_) => "calls/s",
        };
        let _ = writeln!(out, "## {} — {}\n", scenario.id, scenario.title);
        let _ = writeln!(
            out,
            "| framework | {unit} (median) | vs tonic (median, range) | vs tarpc (median, range) | p50 µs | p99 µs | p99.9 µs | server CPU µs/call | driver CPU µs/call | server peak RSS MiB |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        for (fw, points) in by_fw {
            let values: Vec<f64> = points.iter().map(|p| metric(&scenario, p)).collect();
            // The median of per-round ratios (same round, same conditions), and their range.
            let against = |other: Framework| {
                if scenario.micro_only || *fw == other {
                    return "—".to_owned();
                }
                let Some(o) = by_fw.get(&other) else {
                    return "—".to_owned();
                };
                let ratios: Vec<f64> = points
                    .iter()
                    .zip(o)
                    .map(|(p, o)| metric(&scenario, p) / metric(&scenario, o))
                    .collect();
                let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!("{:.2} ({lo:.2}–{hi:.2})", median(ratios.clone()))
            };
            let m = |f: &dyn Fn(&Point) -> f64| median(points.iter().map(f).collect());
            let errors: u64 = points.iter().map(|p| p.measured.errors).sum();
            let _ = writeln!(
                out,
                "| {}{} | {:.0} | {} | {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} |",
                fw.name(),
                if errors > 0 {
                    format!(" ({errors} errors)")
                } else {
                    String::new()
                },
                median(values),
                if *fw == Framework::Tonic {
                    "1.00".to_owned()
                } else {
                    against(Framework::Tonic)
                },
                against(Framework::Tarpc),
                m(&|p| p.measured.p50_us),
                m(&|p| p.measured.p99_us),
                m(&|p| p.measured.p999_us),
                m(&|p| p.server_cpu_us),
                m(&|p| p.client_cpu_us),
                points.iter().map(|p| p.server_hwm_kib).max().unwrap_or(0) as f64 / 1024.0,
            );
        }
        let _ = writeln!(out);
    }
    // Idle footprint: RSS of a server right after it started.
    let mut idle: BTreeMap<Framework, Vec<f64>> = BTreeMap::new();
    for by_fw in results.values() {
        for (fw, points) in by_fw {
            idle.entry(*fw)
                .or_default()
                .extend(points.iter().map(|p| p.server_idle_kib as f64 / 1024.0));
        }
    }
    let _ = writeln!(out, "## I1 — idle RSS of a server after start\n");
    let _ = writeln!(out, "| framework | RSS MiB (median) |\n|---|---|");
    for (fw, v) in idle {
        let _ = writeln!(out, "| {} | {:.1} |", fw.name(), median(v));
    }
    let _ = writeln!(out);
    out
}
