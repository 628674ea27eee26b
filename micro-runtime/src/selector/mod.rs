//! Client-side load balancing: which node of a service gets the next call.
//!
//! The [`Selector`] reads nodes from the registry (cached, and refreshed by a registry watch
//! so a new or removed node is seen within the registry's propagation time: no registry
//! round trip per call), keeps the nodes that pass the [`Filter`]s, and picks one with the
//! [`Strategy`].
//!
//! When the registry cannot be reached, calls keep going to the nodes last known, for at most
//! the stale limit ([`ClientOptions::registry_stale_for`](crate::client::ClientOptions),
//! default 5 min): the outage is logged once, the registry is asked again at most once a
//! second meanwhile, in the background (a registry that hangs never holds up a call), and the
//! first good answer ends it.
//!
//! [`Selector::mark`] really steers later picks: a node whose connection just failed, or that
//! let a deadline pass, sits out a cool-off (1 s, doubling with each further failure, at
//! most 30 s), after which one call probes it while the others keep away until it answers.
//! At most half of a service's nodes (and at least one) sit out at once, as Envoy caps its
//! ejections: when more fail, those back soonest take calls again, so a fault on the
//! caller's side cannot eject every node.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

mod balance;
mod cache;
mod filter;

use crate::error::{Error, Result};
use crate::registry::{Node, Service, SharedRegistry};

pub use balance::InFlight;
pub use filter::Filter;

const ID: &str = "micro.client";

/// The first cool-off after a connection failure.
const COOL_OFF_BASE: Duration = Duration::from_secs(1);
/// The longest cool-off.
const COOL_OFF_MAX: Duration = Duration::from_secs(30);
/// The default stale limit.
const STALE_FOR: Duration = Duration::from_secs(300);

/// How a node is picked among the candidates (`MICRO_SELECTOR`: the [plugin
/// table](crate::plugins) maps the names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Uniformly at random (the default, as in go-micro).
    #[default]
    Random,
    /// In turn.
    RoundRobin,
    /// Power of two choices: of two random candidates, the one with the lower peak-EWMA
    /// latency times calls in flight, so slow and busy nodes get fewer calls.
    P2c,
}

/// What happened on a node, for [`Selector::mark`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The node answered (whatever the answer).
    Answered,
    /// The node could not be reached or its connection broke.
    ConnectionFailed,
    /// The node did not answer within the call's deadline: it may hang (a stopped process,
    /// a black-holed link), so it cools off like a node that cannot be reached.
    TimedOut,
}

#[derive(Clone, Copy, Debug)]
struct NodeHealth {
    failures: u32,
    until: Instant,
}

/// A candidate node, with the service version it belongs to.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The node (shared with the selector's cache: cloning a candidate is cheap).
    pub node: Arc<Node>,
    /// The service version record (endpoints, metadata).
    pub service: Arc<Service>,
}

/// The nodes a call may go to, in the order they should be tried.
#[derive(Debug)]
pub struct Next {
    /// Shared with the selector's cache unless filters dropped some.
    candidates: Arc<Vec<Candidate>>,
    tried: Vec<usize>,
    selector: Weak<Inner>,
}

impl Next {
    /// The next node to try: one not tried yet, healthy if any is, else any (never
    /// ejecting the last ones).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Candidate> {
        let inner = self.selector.upgrade();
        if self.tried.is_empty() && !self.candidates.is_empty() {
            // The first pick, and no node is cooling off (the common case): no bookkeeping.
            let all_healthy = inner.as_ref().is_none_or(|s| {
                s.health
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_empty()
            });
            if all_healthy {
                let n = self.candidates.len();
                let pick = match &inner {
                    _ if n == 1 => 0,
                    Some(inner) if inner.strategy == Strategy::RoundRobin => {
                        inner.counter(&self.candidates[0].service.name) % n
                    }
                    Some(inner) if inner.strategy == Strategy::P2c => {
                        let (a, b) = two(n);
                        inner.loads.better(
                            (a, &self.candidates[a].node.address),
                            (b, &self.candidates[b].node.address),
                        )
                    }
                    _ => fastrand::usize(..n),
                };
                self.tried.push(pick);
                return Some(self.candidates[pick].clone());
            }
        }
        drop(inner);
        let open: Vec<usize> = (0..self.candidates.len())
            .filter(|i| !self.tried.contains(i))
            .collect();
        if open.is_empty() {
            return None;
        }
        let now = Instant::now();
        let health = self
            .selector
            .upgrade()
            .map(|s| s.health_snapshot(&self.candidates));
        let cooling = |i: usize| {
            health
                .as_ref()
                .and_then(|h| h.get(i).copied().flatten())
                .filter(|h| h.until > now)
                .map(|h| h.until)
        };
        // The cap: at most half the candidates (at least one) sit out; those back soonest
        // beyond it are treated as healthy.
        let mut out: Vec<(Instant, usize)> = (0..self.candidates.len())
            .filter_map(|i| cooling(i).map(|until| (until, i)))
            .collect();
        let cap = (self.candidates.len() / 2).max(1);
        out.sort_by_key(|o| std::cmp::Reverse(o.0));
        out.truncate(cap);
        let healthy: Vec<usize> = open
            .iter()
            .copied()
            .filter(|i| !out.iter().any(|(_, o)| o == i))
            .collect();
        let pool = if healthy.is_empty() {
            // Every remaining node is cooling off: fail open, soonest-back first.
            let mut open = open;
            open.sort_by_key(|i| {
                health
                    .as_ref()
                    .and_then(|h| h.get(*i).copied().flatten())
                    .map(|h| h.until)
            });
            vec![open[0]]
        } else {
            healthy
        };
        let pick = match self.selector.upgrade() {
            Some(inner) if inner.strategy == Strategy::RoundRobin => {
                let n = inner.counter(&self.candidates[0].service.name);
                pool[n % pool.len()]
            }
            Some(inner) if inner.strategy == Strategy::P2c && pool.len() > 1 => {
                let (a, b) = two(pool.len());
                let (a, b) = (pool[a], pool[b]);
                inner.loads.better(
                    (a, &self.candidates[a].node.address),
                    (b, &self.candidates[b].node.address),
                )
            }
            _ => pool[fastrand::usize(..pool.len())],
        };
        if let Some(inner) = self.selector.upgrade() {
            inner.claim_probe(&self.candidates[pick].node.address, now);
        }
        self.tried.push(pick);
        Some(self.candidates[pick].clone())
    }

    /// Split the candidates by `key`: those without a key each stand alone (first), those
    /// with one form a group per key, picked from like any `Next`.
    pub(crate) fn split_by(
        self,
        key: impl Fn(&Candidate) -> Option<String>,
    ) -> (Vec<Candidate>, Vec<Next>) {
        let mut alone = Vec::new();
        let mut groups: Vec<(String, Vec<Candidate>)> = Vec::new();
        for candidate in self.candidates.iter().cloned() {
            match key(&candidate) {
                None => alone.push(candidate),
                Some(k) => match groups.iter_mut().find(|(g, _)| *g == k) {
                    Some((_, members)) => members.push(candidate),
                    None => groups.push((k, vec![candidate])),
                },
            }
        }
        let groups = groups
            .into_iter()
            .map(|(_, candidates)| Next {
                candidates: Arc::new(candidates),
                tried: Vec::new(),
                selector: self.selector.clone(),
            })
            .collect();
        (alone, groups)
    }

    /// The candidates, in no particular order.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// How many candidates there are in all.
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// True when there are no candidates.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }
}

/// The cool-off after `failures` failures in a row: 1 s, doubling, at most 30 s.
fn cool_off(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(5);
    (COOL_OFF_BASE * factor).min(COOL_OFF_MAX)
}

/// Two different indexes below `n` (n ≥ 2), at random.
fn two(n: usize) -> (usize, usize) {
    let a = fastrand::usize(..n);
    let b = (a + 1 + fastrand::usize(..n - 1)) % n;
    (a, b)
}

struct Inner {
    registry: SharedRegistry,
    strategy: Strategy,
    loads: balance::Loads,
    cache: Mutex<HashMap<String, cache::CacheEntry>>,
    health: Mutex<HashMap<String, NodeHealth>>,
    counters: Mutex<HashMap<String, Arc<AtomicUsize>>>,
    watching: AtomicBool,
    watch_lock: tokio::sync::Mutex<()>,
    stale_for: Duration,
    outage: Mutex<Option<cache::Outage>>,
}

impl Inner {
    fn health_snapshot(&self, candidates: &[Candidate]) -> Vec<Option<NodeHealth>> {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        candidates
            .iter()
            .map(|c| health.get(&c.node.address).copied())
            .collect()
    }

    /// A node whose cool-off is over was picked: this call probes it, and the others keep
    /// away for another cool-off or until the probe answers (so a node still hanging costs
    /// one call per cool-off, not every call made while the probe waits).
    fn claim_probe(&self, address: &str, now: Instant) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = health.get_mut(address)
            && h.until <= now
        {
            h.until = now + cool_off(h.failures);
        }
    }

    fn counter(&self, service: &str) -> usize {
        let counter = {
            let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            match counters.get(service) {
                Some(counter) => counter.clone(),
                None => counters.entry(service.to_owned()).or_default().clone(),
            }
        };
        counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// Picks nodes for calls. Cheap to clone; clones share the cache and node health.
#[derive(Clone)]
pub struct Selector {
    inner: Arc<Inner>,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector")
            .field("registry", &self.inner.registry.name())
            .field("strategy", &self.inner.strategy)
            .finish_non_exhaustive()
    }
}

impl Selector {
    /// A selector over `registry`, serving the last known nodes for at most 5 minutes of a
    /// registry outage.
    pub fn new(registry: SharedRegistry, strategy: Strategy) -> Selector {
        Selector::with_stale_for(registry, strategy, STALE_FOR)
    }

    /// A selector over `registry` that serves the last known nodes of a service for at most
    /// `stale_for` while the registry cannot be reached.
    pub fn with_stale_for(
        registry: SharedRegistry,
        strategy: Strategy,
        stale_for: Duration,
    ) -> Selector {
        Selector {
            inner: Arc::new(Inner {
                registry,
                strategy,
                loads: balance::Loads::default(),
                cache: Mutex::new(HashMap::new()),
                health: Mutex::new(HashMap::new()),
                counters: Mutex::new(HashMap::new()),
                watching: AtomicBool::new(false),
                watch_lock: tokio::sync::Mutex::const_new(()),
                stale_for,
                outage: Mutex::new(None),
            }),
        }
    }

    /// The registry nodes come from.
    pub fn registry(&self) -> &SharedRegistry {
        &self.inner.registry
    }

    /// The candidates for a call to `service` that pass every filter.
    ///
    /// Errors: 404 `service X: not found` when the registry has no node of the service; 503
    /// when nodes exist but none passes the filters.
    pub async fn select(&self, service: &str, filters: &[Filter]) -> Result<Next> {
        let all = self.services(service).await?;
        let keep = |c: &Candidate| filters.iter().all(|f| (f.keep)(&c.service, &c.node));
        // The cached list is shared as it is when every node passes (no filter, the common
        // case): a pick then costs the same with 1,000 nodes as with one.
        let candidates = if filters.is_empty() || all.iter().all(keep) {
            all
        } else {
            Arc::new(all.iter().filter(|c| keep(c)).cloned().collect())
        };
        if candidates.is_empty() {
            let what: Vec<String> = filters.iter().map(|f| f.what.clone()).collect();
            return Err(Error::unavailable(
                ID,
                format!("service {service}: no node matches {}", what.join(", ")),
            ));
        }
        Ok(Next {
            candidates,
            tried: Vec::new(),
            selector: Arc::downgrade(&self.inner),
        })
    }

    /// A call starts on `node`: with the [`Strategy::P2c`] strategy, the returned guard
    /// counts it in flight and records its latency when dropped; `None` otherwise (nothing
    /// to track).
    pub fn start(&self, node: &Node) -> Option<InFlight> {
        (self.inner.strategy == Strategy::P2c).then(|| self.inner.loads.start(&node.address))
    }

    /// Report what happened on a node: a connection failure or a timeout starts (or
    /// extends) its cool-off; an answer ends it.
    pub fn mark(&self, node: &Node, outcome: Outcome) {
        let mut health = self.inner.health.lock().unwrap_or_else(|e| e.into_inner());
        if health.len() > 256 {
            // Nodes come and go: forget those long recovered.
            let now = Instant::now();
            health.retain(|_, h| h.until + COOL_OFF_MAX > now);
        }
        match outcome {
            Outcome::Answered => {
                if !health.is_empty() {
                    health.remove(&node.address);
                }
            }
            Outcome::ConnectionFailed | Outcome::TimedOut => {
                let entry = health.entry(node.address.clone()).or_insert(NodeHealth {
                    failures: 0,
                    until: Instant::now(),
                });
                entry.failures = entry.failures.saturating_add(1);
                entry.until = Instant::now() + cool_off(entry.failures);
            }
        }
    }

    /// Forget cached nodes of `service` (all services with `None`).
    pub fn reset(&self, service: Option<&str>) {
        self.inner.invalidate(service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{MemoryRegistry, RegisterOptions, Registry};

    async fn setup(strategy: Strategy) -> (Selector, MemoryRegistry) {
        let reg = MemoryRegistry::new();
        let mut v1 = Service::new("svc", "1")
            .with_node(Node::new("a", "127.0.0.1:1").with_metadata("zone", "x"))
            .with_node(Node::new("b", "127.0.0.1:2"));
        v1.endpoints.push(crate::registry::Endpoint::new("Svc.Old"));
        let v2 = Service::new("svc", "2").with_node(Node::new("c", "127.0.0.1:3"));
        reg.register(&v1, RegisterOptions::default()).await.unwrap();
        reg.register(&v2, RegisterOptions::default()).await.unwrap();
        (Selector::new(Arc::new(reg.clone()), strategy), reg)
    }

    fn ids(next: &mut Next) -> Vec<String> {
        std::iter::from_fn(|| next.next().map(|c| c.node.id.clone())).collect()
    }

    #[tokio::test]
    async fn every_node_once_per_call() {
        let (sel, _reg) = setup(Strategy::Random).await;
        let mut next = sel.select("svc", &[]).await.unwrap();
        let mut got = ids(&mut next);
        got.sort();
        assert_eq!(got, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn filters() {
        let (sel, _reg) = setup(Strategy::Random).await;
        let mut v2 = sel.select("svc", &[Filter::version("2")]).await.unwrap();
        assert_eq!(ids(&mut v2), ["c"]);
        let mut zone = sel
            .select("svc", &[Filter::metadata("zone", "x")])
            .await
            .unwrap();
        assert_eq!(ids(&mut zone), ["a"]);
        let mut old = sel
            .select("svc", &[Filter::endpoint("Svc.Old")])
            .await
            .unwrap();
        let mut got = ids(&mut old);
        got.sort();
        assert_eq!(got, ["a", "b"]);
        let err = sel
            .select("svc", &[Filter::version("9")])
            .await
            .unwrap_err();
        assert_eq!(err.code(), 503);
        let err = sel.select("nope", &[]).await.unwrap_err();
        assert_eq!(err.code(), 404);
        assert_eq!(err.detail(), "service nope: not found");
    }

    #[tokio::test]
    async fn picks_share_the_cached_nodes_unless_a_filter_drops_some() {
        let (sel, _reg) = setup(Strategy::Random).await;
        let a = sel.select("svc", &[]).await.unwrap();
        let b = sel.select("svc", &[]).await.unwrap();
        // No copy per call: both picks read the selector's one cached list.
        assert!(Arc::ptr_eq(&a.candidates, &b.candidates));
        assert_eq!(a.len(), 3);
        // A filter every node passes shares it too; one that drops nodes gets its own.
        let all = sel
            .select("svc", &[Filter::custom("any", |_, _| true)])
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&a.candidates, &all.candidates));
        let some = sel.select("svc", &[Filter::version("1")]).await.unwrap();
        assert!(!Arc::ptr_eq(&a.candidates, &some.candidates));
        assert_eq!(some.len(), 2);
    }

    #[tokio::test]
    async fn round_robin_spreads_evenly() {
        let (sel, _reg) = setup(Strategy::RoundRobin).await;
        let mut counts = HashMap::new();
        for _ in 0..300 {
            let mut next = sel.select("svc", &[]).await.unwrap();
            *counts
                .entry(next.next().unwrap().node.id.clone())
                .or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 3);
        assert!(counts.values().all(|c| *c == 100), "{counts:?}");
    }

    #[tokio::test]
    async fn marked_nodes_are_skipped_but_never_all_ejected() {
        let (sel, _reg) = setup(Strategy::Random).await;
        let a = Node::new("a", "127.0.0.1:1");
        sel.mark(&a, Outcome::ConnectionFailed);
        for _ in 0..50 {
            let mut next = sel.select("svc", &[]).await.unwrap();
            assert_ne!(next.next().unwrap().node.id, "a");
        }
        // Only `a` remains among the candidates: it is still used.
        let mut only_a = sel
            .select("svc", &[Filter::metadata("zone", "x")])
            .await
            .unwrap();
        assert_eq!(only_a.next().unwrap().node.id, "a");
        // After an answer, it is back in rotation.
        sel.mark(&a, Outcome::Answered);
        let mut seen_a = false;
        for _ in 0..200 {
            let mut next = sel.select("svc", &[]).await.unwrap();
            seen_a |= next.next().unwrap().node.id == "a";
        }
        assert!(seen_a);
    }

    #[tokio::test]
    async fn cache_follows_registry_changes() {
        let (sel, reg) = setup(Strategy::Random).await;
        assert_eq!(sel.select("svc", &[]).await.unwrap().len(), 3);
        let gone = Service::new("svc", "2").with_node(Node::new("c", "127.0.0.1:3"));
        reg.deregister(&gone).await.unwrap();
        // The watch invalidates the cache promptly.
        let mut len = 3;
        for _ in 0..100 {
            len = sel.select("svc", &[]).await.unwrap().len();
            if len == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(len, 2);
    }
}
