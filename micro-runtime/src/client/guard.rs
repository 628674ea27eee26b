//! What keeps a client from making an outage worse: a retry budget (retries at most a share
//! of calls, as Linkerd and Finagle budget them) and an adaptive breaker per node and
//! endpoint (client-side throttling from Google's SRE book, as go-zero runs it by default).
//!
//! The breaker counts, over a 10 s window, the attempts it let through (`requests`) and those
//! the node handled (`accepts`: an answer, even an error answer, other than overload,
//! timeout or a broken connection). It rejects a new attempt with probability
//! `max(0, (requests − k·accepts) / (requests + 1))`: nothing while the node is healthy, more
//! as it fails, and never everything, so the node is probed as it recovers. Fewer than
//! [`PROTECTION`] requests in the window never reject, a node quiet for a second always gets
//! one attempt through, and the attempts it rejected are not counted as failures (they would
//! keep it open by themselves).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Code, Error};

/// The window both guards count over, in buckets.
const WINDOW: Duration = Duration::from_secs(10);
const BUCKETS: usize = 40;

/// Below this many requests in the window the breaker lets everything through.
pub(crate) const PROTECTION: u64 = 5;

/// Counts two numbers over a sliding window of buckets.
#[derive(Debug)]
struct Window {
    epoch: Instant,
    /// Per bucket: (bucket number, a, b).
    buckets: [(u64, u64, u64); BUCKETS],
}

impl Window {
    fn new(epoch: Instant) -> Window {
        Window {
            epoch,
            buckets: [(u64::MAX, 0, 0); BUCKETS],
        }
    }

    fn tick(&self, now: Instant) -> u64 {
        const WIDTH_MS: u64 = WINDOW.as_millis() as u64 / BUCKETS as u64;
        let d = now.duration_since(self.epoch);
        (d.as_secs() * 1000 + u64::from(d.subsec_millis())) / WIDTH_MS
    }

    fn add(&mut self, now: Instant, a: u64, b: u64) {
        let tick = self.tick(now);
        let slot = &mut self.buckets[(tick % BUCKETS as u64) as usize];
        if slot.0 != u64::MAX && slot.0 > tick {
            // Older than what the slot holds now: out of the window already.
            return;
        }
        if slot.0 != tick {
            *slot = (tick, 0, 0);
        }
        slot.1 += a;
        slot.2 += b;
    }

    fn sums(&self, now: Instant) -> (u64, u64) {
        let tick = self.tick(now);
        self.buckets
            .iter()
            .filter(|(t, ..)| *t != u64::MAX && *t + BUCKETS as u64 > tick && *t <= tick)
            .fold((0, 0), |(a, b), (_, x, y)| (a + x, b + y))
    }
}

/// Retries allowed: at most `ratio` of the calls in the window, and at least a few.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    ratio: f64,
    window: Mutex<Window>,
    /// When it last said (in the log) that it is spent.
    warned: Mutex<Option<Instant>>,
}

/// Retries the budget always allows in a window, so a client making few calls can retry.
const MIN_RETRIES: u64 = 10;

impl RetryBudget {
    pub(crate) fn new(ratio: f64) -> RetryBudget {
        RetryBudget {
            ratio,
            window: Mutex::new(Window::new(Instant::now())),
            warned: Mutex::new(None),
        }
    }

    /// A call starts (its first attempt) `now`.
    pub(crate) fn call(&self, now: Instant) {
        if self.ratio > 0.0 {
            self.window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(now, 1, 0);
        }
    }

    /// May one more attempt go out? Counts it when it may. Always true with no budget set
    /// (a ratio of 0 turns the budget off).
    pub(crate) fn retry(&self, now: Instant) -> bool {
        if self.ratio <= 0.0 {
            return true;
        }
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let (calls, retries) = window.sums(now);
        let allowed = ((calls as f64 * self.ratio) as u64).max(MIN_RETRIES);
        if retries >= allowed {
            drop(window);
            let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            if warned.is_none_or(|at| now.duration_since(at) >= WINDOW) {
                *warned = Some(now);
                tracing::warn!(
                    calls,
                    retries,
                    "retry budget spent: failed attempts are not retried for now"
                );
            }
            return false;
        }
        window.add(now, 0, 1);
        true
    }
}

/// One node and endpoint's breaker.
#[derive(Debug)]
struct Breaker {
    /// (requests, accepts).
    window: Window,
    /// When an attempt last went through.
    passed: Instant,
    /// When an attempt last failed: a breaker without failures in the window lets every
    /// attempt through without counting.
    failed: Option<Instant>,
    /// When it last said (in the log) that it refuses attempts.
    warned: Option<Instant>,
}

/// The adaptive breakers of a client, by node address and endpoint path.
#[derive(Debug)]
pub(crate) struct Breakers {
    k: f64,
    on: bool,
    epoch: Instant,
    /// By a hash of (address, path): no allocation per call; a collision of 64-bit hashes
    /// would only share one breaker between two endpoints.
    map: Mutex<HashMap<u64, Breaker, std::hash::BuildHasherDefault<KeyHasher>>>,
}

/// The keys are hashes already.
#[derive(Debug, Default)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The breaker key of a node's endpoint (64-bit FNV-1a: addresses and paths are not
/// chosen by an adversary, and a collision only shares a breaker).
pub(crate) fn key(address: &str, path: &str) -> u64 {
    #[inline(always)]
    fn mix(mut h: u64, b: &[u8]) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut i = 0;
        while i + 8 <= b.len() {
            let w = u64::from_le_bytes([
                b[i],
                b[i + 1],
                b[i + 2],
                b[i + 3],
                b[i + 4],
                b[i + 5],
                b[i + 6],
                b[i + 7],
            ]);
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
            i += 8;
        }
        let mut tail = 0u64;
        for (n, byte) in b[i..].iter().enumerate() {
            tail |= u64::from(*byte) << (8 * n);
        }
        (h.rotate_left(5) ^ tail ^ (b.len() as u64) << 56).wrapping_mul(K)
    }
    mix(
        mix(0x243F_6A88_85A3_08D3, address.as_bytes()),
        path.as_bytes(),
    )
}

impl Breakers {
    /// Whether the breakers are on by default (a call's policy may say otherwise).
    pub(crate) fn on(&self) -> bool {
        self.on
    }

    /// Breakers with multiplier `k` (1.5 by default; larger lets more through); `on: false`
    /// lets everything through.
    pub(crate) fn new(k: f64, on: bool) -> Breakers {
        Breakers {
            k,
            on,
            epoch: Instant::now(),
            map: Mutex::new(HashMap::default()),
        }
    }

    /// May an attempt go to `address` for `path` (whose [`key`] is `k`)? `Err` says why not.
    pub(crate) fn allow(
        &self,
        on: bool,
        k: u64,
        now: Instant,
        address: &str,
        path: &str,
    ) -> Result<(), Error> {
        if !on {
            return Ok(());
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let Some(b) = map.get_mut(&k) else {
            return Ok(());
        };
        if b.failed.is_none_or(|at| now.duration_since(at) >= WINDOW) {
            // Nothing failed lately: the common case costs one lookup.
            b.passed = now;
            return Ok(());
        }
        let (requests, accepts) = b.window.sums(now);
        let quiet = now.duration_since(b.passed) >= Duration::from_secs(1);
        let p = (requests as f64 - self.k * accepts as f64) / (requests as f64 + 1.0);
        if requests < PROTECTION || quiet || p <= 0.0 || fastrand::f64() >= p {
            b.passed = now;
            return Ok(());
        }
        if b.warned.is_none_or(|at| now.duration_since(at) >= WINDOW) {
            b.warned = Some(now);
            tracing::warn!(
                endpoint = path,
                node = address,
                failed = requests - accepts,
                requests,
                "breaker refusing attempts to a failing node"
            );
        }
        Err(Error::unavailable(
            super::ID,
            format!(
                "breaker open for {path} on {address}: {} of the last {requests} attempts failed",
                requests - accepts
            ),
        ))
    }

    /// What came of an attempt (to the endpoint [`key`] `k`) the breaker let through.
    pub(crate) fn record(&self, on: bool, k: u64, now: Instant, accepted: bool) {
        if !on {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= 4096 && !map.contains_key(&k) {
            // Nodes come and go: forget breakers that saw nothing lately.
            map.retain(|_, b| now.duration_since(b.passed) < WINDOW);
        }
        let b = map.entry(k).or_insert_with(|| Breaker {
            window: Window::new(self.epoch),
            passed: now,
            failed: None,
            warned: None,
        });
        b.window.add(now, 1, u64::from(accepted));
        if !accepted {
            b.failed = Some(now);
        }
    }
}

/// Did the node handle the call? Overload, timeouts and broken connections say it did not;
/// any other answer, errors included, says it did.
pub(crate) fn accepted(result: &Result<(), &Error>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) if e.is_transport_failure() => false,
        Err(e) => !matches!(
            e.grpc_code(),
            Code::Unavailable | Code::ResourceExhausted | Code::DeadlineExceeded | Code::DataLoss
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_allows_a_share_of_calls_and_a_floor() {
        let budget = RetryBudget::new(0.2);
        // Few calls: the floor.
        let now = Instant::now();
        let floor = (0..100).take_while(|_| budget.retry(now)).count();
        assert_eq!(floor as u64, MIN_RETRIES);
        for _ in 0..1000 {
            budget.call(now);
        }
        let more = (0..1000).take_while(|_| budget.retry(now)).count();
        assert_eq!(floor + more, 200, "20 % of 1000 calls in all");
        assert!(RetryBudget::new(0.0).retry(now), "0 turns it off");
    }

    #[test]
    fn the_breaker_opens_on_failures_and_never_shuts_everything() {
        let breakers = Breakers::new(1.5, true);
        let (a, p) = ("10.0.0.1:9000", "/x.Y/Z");
        let k = key(a, p);
        assert!(breakers.allow(true, k, Instant::now(), a, p).is_ok());
        for _ in 0..100 {
            breakers.record(true, k, Instant::now(), false);
        }
        let through = (0..1000)
            .filter(|_| breakers.allow(true, k, Instant::now(), a, p).is_ok())
            .count();
        assert!(through < 100, "mostly rejected: {through} of 1000");
        let err = breakers.allow(true, k, Instant::now(), a, p).unwrap_err();
        assert!(
            err.detail()
                .contains("breaker open for /x.Y/Z on 10.0.0.1:9000"),
            "{err}"
        );
        // The same node's other endpoints, and other nodes, are not affected.
        assert!(
            breakers
                .allow(true, key(a, "/x.Y/Other"), Instant::now(), a, "/x.Y/Other")
                .is_ok()
        );
        assert!(
            breakers
                .allow(
                    true,
                    key("10.0.0.2:9000", p),
                    Instant::now(),
                    "10.0.0.2:9000",
                    p
                )
                .is_ok()
        );
        // Healthy answers keep it shut (closed).
        let fine = Breakers::new(1.5, true);
        for _ in 0..100 {
            fine.record(true, k, Instant::now(), true);
        }
        assert!((0..100).all(|_| fine.allow(true, k, Instant::now(), a, p).is_ok()));
        // Off: never rejects.
        let off = Breakers::new(1.5, false);
        for _ in 0..100 {
            off.record(off.on(), k, Instant::now(), false);
        }
        assert!((0..100).all(|_| off.allow(off.on(), k, Instant::now(), a, p).is_ok()));
    }
}
