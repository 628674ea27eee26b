//! Adaptive load shedding (go-zero's shedder): when the process is busy (CPU over a
//! threshold, or it shed within the last second) and more calls are in flight than the
//! server has shown it can carry, new unary calls are refused at once with
//! `RESOURCE_EXHAUSTED` instead of queueing until every caller times out.
//!
//! What the server can carry is Little's law over the last 5 s: the most calls it finished
//! in 100 ms (times 10 for a second) times the shortest average latency of a 100 ms bucket,
//! and at least four per core (calls arrive in bursts). Calls count from when they arrive,
//! so those queued behind a busy runtime are in flight too; a call whose caller's deadline
//! passed while it queued is refused without running.
//! Health checks and reflection are never shed (the priority lane), nor are streams.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Code, Error};

const BUCKETS: usize = 50;
const BUCKET: Duration = Duration::from_millis(100);
/// After shedding, the server counts as hot this long even if its CPU calmed down.
const COOL_OFF: Duration = Duration::from_secs(1);

/// Per bucket: (bucket number, calls finished, their total latency in µs).
type Bucket = (u64, u64, u64);

/// The shedder of one server.
#[derive(Debug)]
pub(crate) struct Shedder {
    /// CPU share (per mille of the cores this process may use) above which it sheds.
    threshold: u32,
    cpu: Arc<AtomicU32>,
    epoch: Instant,
    flying: AtomicUsize,
    window: Mutex<[Bucket; BUCKETS]>,
    /// When it last shed, µs since `epoch` (0: never).
    shed_at: AtomicU64,
    shed: AtomicU64,
    /// The fewest calls in flight counted as capacity (a few per core).
    floor: f64,
}

/// A call let through: ends (and is counted) when dropped.
#[derive(Debug)]
pub(crate) struct Pass {
    shedder: Arc<Shedder>,
    started: Instant,
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.shedder.finish(self.started);
    }
}

impl Shedder {
    /// A shedder that sheds above `cpu` (a share of the cores, 0.0–1.0).
    pub(crate) fn new(cpu: f64) -> Shedder {
        Shedder::with_cpu(cpu, sampler())
    }

    pub(crate) fn with_cpu(threshold: f64, cpu: Arc<AtomicU32>) -> Shedder {
        Shedder {
            threshold: (threshold.clamp(0.0, 1.0) * 1000.0) as u32,
            cpu,
            epoch: Instant::now(),
            flying: AtomicUsize::new(0),
            window: Mutex::new([(u64::MAX, 0, 0); BUCKETS]),
            shed_at: AtomicU64::new(0),
            shed: AtomicU64::new(0),
            floor: 4.0 * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64,
        }
    }

    fn tick(&self, now: Instant) -> u64 {
        const BUCKET_MS: u64 = BUCKET.as_millis() as u64;
        let d = now.duration_since(self.epoch);
        (d.as_secs() * 1000 + u64::from(d.subsec_millis())) / BUCKET_MS
    }

    fn finish(&self, started: Instant) {
        self.flying.fetch_sub(1, Ordering::Relaxed);
        let now = Instant::now();
        let d = now.duration_since(started);
        let rt = d.as_secs() * 1_000_000 + u64::from(d.subsec_micros());
        let tick = self.tick(now);
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut window[(tick % BUCKETS as u64) as usize];
        if slot.0 != tick {
            *slot = (tick, 0, 0);
        }
        slot.1 += 1;
        slot.2 = slot.2.saturating_add(rt);
    }

    /// Calls the server has shown it carries at once: max finished per second × min latency.
    fn capacity(&self, now: Instant) -> f64 {
        let tick = self.tick(now);
        let window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let mut max_pass = 0u64;
        let mut min_rt = f64::MAX;
        for &(t, n, sum) in window.iter() {
            // Complete buckets of the window only.
            if t == u64::MAX || t >= tick || t + BUCKETS as u64 <= tick || n == 0 {
                continue;
            }
            max_pass = max_pass.max(n);
            min_rt = min_rt.min(sum as f64 / n as f64);
        }
        if max_pass == 0 {
            return f64::MAX;
        }
        let per_second = max_pass as f64 * (1_000_000.0 / BUCKET.as_micros() as f64);
        // Calls arrive in bursts (one read brings many): a few per core always pass, or a
        // server whose calls take microseconds would shed most of a burst it could absorb.
        (per_second * min_rt / 1_000_000.0).max(self.floor)
    }

    /// Let a call through, or say why not (overloaded, or its `deadline` passed already).
    pub(crate) fn admit(
        self: &Arc<Self>,
        deadline: Option<Instant>,
        endpoint: &str,
    ) -> Result<Pass, Error> {
        let now = Instant::now();
        if deadline.is_some_and(|at| at <= now) {
            return Err(super::handler::deadline_error(endpoint));
        }
        let flying = self.flying.fetch_add(1, Ordering::Relaxed) + 1;
        let cpu = self.cpu.load(Ordering::Relaxed);
        let hot = cpu >= self.threshold || {
            let at = self.shed_at.load(Ordering::Relaxed);
            at != 0
                && now.duration_since(self.epoch).as_micros()
                    < u128::from(at) + COOL_OFF.as_micros()
        };
        if hot && flying > 1 && flying as f64 > self.capacity(now) {
            self.flying.fetch_sub(1, Ordering::Relaxed);
            let at = u64::try_from(now.duration_since(self.epoch).as_micros()).unwrap_or(1);
            self.shed_at.store(at.max(1), Ordering::Relaxed);
            if self
                .shed
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(1000)
            {
                tracing::warn!(
                    cpu = f64::from(cpu) / 10.0,
                    in_flight = flying,
                    "overloaded: shedding calls"
                );
            }
            return Err(Error::new(
                super::ID,
                format!(
                    "server overloaded ({} calls in flight, CPU {:.0}%): call shed, retry after 1s or on another node",
                    flying,
                    f64::from(cpu) / 10.0
                ),
                503,
            )
            .with_grpc_code(Code::ResourceExhausted));
        }
        Ok(Pass {
            shedder: self.clone(),
            started: now,
        })
    }

    /// Calls shed so far.
    #[cfg(test)]
    pub(crate) fn shed_count(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }
}

/// The CPU share this process uses of the cores it may run on, per mille, as an EWMA
/// (β 0.8) sampled every 250 ms by one thread for the process (Linux; 0 elsewhere).
fn sampler() -> Arc<AtomicU32> {
    static CPU: OnceLock<Arc<AtomicU32>> = OnceLock::new();
    CPU.get_or_init(|| {
        let cpu = Arc::new(AtomicU32::new(0));
        let out = cpu.clone();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let spawned = std::thread::Builder::new()
            .name("micro-cpu".into())
            .spawn(move || {
                // Clock ticks per second: 100 on every Linux this runs on.
                const HZ: f64 = 100.0;
                let mut last = (process_ticks(), Instant::now());
                let mut ewma = 0.0f64;
                loop {
                    std::thread::sleep(Duration::from_millis(250));
                    let now = (process_ticks(), Instant::now());
                    if let (Some(a), Some(b)) = (last.0, now.0) {
                        let used = (b.saturating_sub(a)) as f64 / HZ;
                        let wall = now.1.duration_since(last.1).as_secs_f64().max(1e-3);
                        let share = (used / wall / cores).clamp(0.0, 1.0) * 1000.0;
                        // go-zero smooths with β 0.95; 0.8 lets the shedder start within
                        // about two seconds of an overload instead of ten.
                        ewma = ewma * 0.8 + share * 0.2;
                        out.store(ewma as u32, Ordering::Relaxed);
                    }
                    last = now;
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the CPU sampler: load shedding goes by calls in flight only when CPU reads 0");
        }
        cpu
    })
    .clone()
}

/// User plus system CPU ticks of this process.
fn process_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheds_past_what_the_server_carried_only_when_hot() {
        let cpu = Arc::new(AtomicU32::new(0));
        let mut shedder = Shedder::with_cpu(0.9, cpu.clone());
        shedder.epoch -= Duration::from_secs(10);
        let shedder = Arc::new(shedder);
        // History: 10 calls per 100 ms bucket, 10 ms each: it carries about 1 at once.
        let start = Instant::now();
        {
            let mut w = shedder.window.lock().unwrap();
            let tick = shedder.tick(start);
            for i in 1..=10 {
                w[((tick - i) % BUCKETS as u64) as usize] = (tick - i, 10, 100_000);
            }
        }
        let held: Vec<Pass> = (0..40).map(|_| shedder.admit(None, "x").unwrap()).collect();
        assert_eq!(shedder.shed_count(), 0, "cool CPU: nothing shed");
        cpu.store(950, Ordering::Relaxed);
        let err = shedder.admit(None, "x").unwrap_err();
        assert_eq!(err.grpc_code(), Code::ResourceExhausted);
        assert_eq!(err.code(), 503);
        assert!(err.detail().contains("retry"), "{err}");
        // Calm again, but within the cool-off: still shedding while over capacity.
        cpu.store(100, Ordering::Relaxed);
        assert!(shedder.admit(None, "x").is_err());
        drop(held);
        // Under capacity: let through.
        assert!(shedder.admit(None, "x").is_ok());
    }

    #[test]
    fn the_process_cpu_can_be_read() {
        assert!(process_ticks().is_some());
    }
}
