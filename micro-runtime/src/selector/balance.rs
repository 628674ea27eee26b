//! Load-aware picking: power of two choices by peak-EWMA latency times calls in flight
//! (Finagle's and Linkerd's `p2c` + peak EWMA, go-zero's `p2c_ewma`).
//!
//! Each node keeps a latency estimate that jumps up to a slow answer at once and decays
//! back towards faster ones with a time constant of [`DECAY`], and a count of calls in
//! flight. A pick draws two candidates at random and takes the one whose
//! `latency × (in flight + 1)` is lower: a slow or overloaded node gets fewer calls within a
//! few of them, while randomness keeps every client from rushing the same node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How fast a latency estimate forgets a slow answer.
const DECAY: Duration = Duration::from_secs(10);

/// The latency a node starts with: unknown nodes are neither favoured nor shunned much.
const START_US: u64 = 1_000;

/// One node's load.
#[derive(Debug)]
pub(crate) struct Load {
    in_flight: AtomicUsize,
    /// Peak-EWMA latency in µs and when it was last updated (µs since `epoch`).
    ewma_us: AtomicU64,
    stamp_us: AtomicU64,
    epoch: Instant,
}

impl Load {
    fn new(epoch: Instant) -> Load {
        Load {
            in_flight: AtomicUsize::new(0),
            ewma_us: AtomicU64::new(START_US),
            stamp_us: AtomicU64::new(0),
            epoch,
        }
    }

    /// What a call to this node is expected to cost now.
    pub(crate) fn cost(&self) -> f64 {
        let ewma = self.ewma_us.load(Ordering::Relaxed) as f64;
        ewma.max(1.0) * (self.in_flight.load(Ordering::Relaxed) as f64 + 1.0)
    }

    fn observe(&self, rtt: Duration) {
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let rtt = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX).max(1);
        let last = self.stamp_us.swap(now, Ordering::Relaxed);
        let old = self.ewma_us.load(Ordering::Relaxed);
        let next = if rtt > old {
            // Peak-sensitive: a slow answer counts at once.
            rtt
        } else {
            let dt = now.saturating_sub(last) as f64;
            let w = (-dt / DECAY.as_micros() as f64).exp();
            (old as f64 * w + rtt as f64 * (1.0 - w)) as u64
        };
        self.ewma_us.store(next, Ordering::Relaxed);
    }
}

/// The latency a failed call counts as: a node that fails fast (overloaded, shedding)
/// must not look fast.
const FAILED: Duration = Duration::from_secs(1);

/// A call in flight on a node: ends (and records its latency) when dropped.
#[derive(Debug)]
pub struct InFlight {
    load: Arc<Load>,
    started: Instant,
    failed: bool,
}

impl InFlight {
    /// The call failed (overload, timeout): it counts as slow, whatever it took.
    pub fn failed(mut self) {
        self.failed = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.load.in_flight.fetch_sub(1, Ordering::Relaxed);
        let took = self.started.elapsed();
        self.load
            .observe(if self.failed { took.max(FAILED) } else { took });
    }
}

/// The loads of every node a selector picks from, by address.
#[derive(Debug)]
pub(crate) struct Loads {
    epoch: Instant,
    nodes: Mutex<HashMap<String, Arc<Load>>>,
}

impl Default for Loads {
    fn default() -> Loads {
        Loads {
            epoch: Instant::now(),
            nodes: Mutex::new(HashMap::new()),
        }
    }
}

impl Loads {
    fn load(&self, address: &str) -> Arc<Load> {
        let mut nodes = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(load) = nodes.get(address) {
            return load.clone();
        }
        if nodes.len() >= 1024 {
            // Nodes come and go: forget the idle ones (they start over when seen again).
            nodes.retain(|_, load| load.in_flight.load(Ordering::Relaxed) > 0);
        }
        let load = Arc::new(Load::new(self.epoch));
        nodes.insert(address.to_owned(), load.clone());
        load
    }

    /// A call starts on `address`.
    pub(crate) fn start(&self, address: &str) -> InFlight {
        let load = self.load(address);
        load.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            load,
            started: Instant::now(),
            failed: false,
        }
    }

    /// Of `a` and `b`, the one expected to answer sooner.
    pub(crate) fn better(&self, a: (usize, &str), b: (usize, &str)) -> usize {
        if self.load(a.1).cost() <= self.load(b.1).cost() {
            a.0
        } else {
            b.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_node_costs_more_at_once_and_recovers_slowly() {
        let loads = Loads::default();
        let fast = loads.load("fast");
        let slow = loads.load("slow");
        fast.observe(Duration::from_millis(1));
        slow.observe(Duration::from_millis(200));
        assert_eq!(loads.better((0, "fast"), (1, "slow")), 0);
        // One fast answer later, the slow node is still the worse pick.
        slow.observe(Duration::from_millis(1));
        assert!(slow.cost() > fast.cost());
    }

    #[test]
    fn calls_in_flight_count_against_a_node() {
        let loads = Loads::default();
        let busy: Vec<InFlight> = (0..5).map(|_| loads.start("busy")).collect();
        assert_eq!(loads.better((0, "busy"), (1, "idle")), 1);
        drop(busy);
        assert_eq!(loads.load("busy").in_flight.load(Ordering::Relaxed), 0);
    }
}
