//! The fault suite's pieces: the `ledger` service's messages, and the ledger a run of the
//! load driver makes (calls attempted, succeeded, failed by code, run twice; p99 latency
//! while the fault lasted; time to recover).

use std::collections::BTreeMap;
use std::path::Path;

/// `Ledger.Work`'s request: a call id (unique per run) and how long to take.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct WorkRequest {
    /// The call's id, written to the node's ledger file when it runs.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Milliseconds to take.
    #[prost(uint64, tag = "2")]
    pub sleep_ms: u64,
}

impl micro::codec::ProstSerde for WorkRequest {}

/// `Ledger.Work`'s answer: which node ran it.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct WorkReply {
    /// The node's name.
    #[prost(string, tag = "1")]
    pub node: String,
}

impl micro::codec::ProstSerde for WorkReply {}

/// One call the driver made: when it started (ms into the run), how long it took, `ok` or
/// the error's gRPC code name, and the node that answered.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Call {
    /// Start, ms since the run began.
    pub at: u64,
    /// Latency in ms.
    pub ms: u64,
    /// `ok`, or the gRPC code name of the error.
    pub outcome: String,
    /// The node that answered (empty on errors).
    pub node: String,
}

/// What a fault did to a run.
#[derive(Debug, serde::Serialize)]
pub struct Ledger {
    /// The scenario.
    pub scenario: String,
    /// Calls started.
    pub attempted: usize,
    /// Calls that succeeded.
    pub succeeded: usize,
    /// Failed calls by code.
    pub failed: BTreeMap<String, usize>,
    /// Calls that ran more than once (ids in the nodes' ledger files more than once).
    pub duplicated: usize,
    /// The 99th percentile latency of calls started while the fault lasted, in ms.
    pub p99_during_fault_ms: u64,
    /// From the fault's start to the start of the first call from which every call succeeded,
    /// in ms (`None`: not within the run).
    pub recovered_after_ms: Option<u64>,
}

impl Ledger {
    /// The ledger of `calls` for a fault from `from` to `to` (ms into the run), counting
    /// duplicates in the ledger files under `dir`.
    pub fn of(scenario: &str, calls: &[Call], from: u64, to: u64, dir: &Path) -> Ledger {
        let mut failed = BTreeMap::new();
        for c in calls.iter().filter(|c| c.outcome != "ok") {
            *failed.entry(c.outcome.clone()).or_insert(0) += 1;
        }
        let mut during: Vec<u64> = calls
            .iter()
            .filter(|c| c.at >= from && c.at < to)
            .map(|c| c.ms)
            .collect();
        during.sort_unstable();
        let p99 = during
            .get((during.len() * 99 / 100).min(during.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0);
        let mut sorted: Vec<&Call> = calls.iter().collect();
        sorted.sort_by_key(|c| c.at);
        let last_failure = sorted
            .iter()
            .filter(|c| c.outcome != "ok")
            .map(|c| c.at)
            .max();
        let recovered_after_ms = match last_failure {
            None => Some(0),
            Some(at) => sorted
                .iter()
                .find(|c| c.at > at)
                .map(|c| c.at.saturating_sub(from)),
        };
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == "ledger") {
                    for id in crate::lines_of(&entry.path()) {
                        *seen.entry(id).or_insert(0) += 1;
                    }
                }
            }
        }
        Ledger {
            scenario: scenario.to_owned(),
            attempted: calls.len(),
            succeeded: calls.iter().filter(|c| c.outcome == "ok").count(),
            failed,
            duplicated: seen.values().filter(|n| **n > 1).count(),
            p99_during_fault_ms: p99,
            recovered_after_ms,
        }
    }

    /// One line for the test output and RELIABILITY.md.
    pub fn line(&self) -> String {
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            self.scenario,
            self.attempted,
            self.succeeded,
            if failed.is_empty() {
                "0".to_owned()
            } else {
                failed.join(", ")
            },
            self.duplicated,
            self.p99_during_fault_ms,
            self.recovered_after_ms
                .map_or("not in the run".to_owned(), |ms| format!("{ms} ms")),
        )
    }
}

/// This process's resident memory (KiB), open files and live tokio tasks, as a JSON line.
pub fn sample() -> String {
    let rss_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let tasks = tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_alive_tasks());
    serde_json::json!({ "rss_kb": rss_kb, "fds": fds, "tasks": tasks }).to_string()
}
