//! How micro's cost grows with scale: connections, registry size, nodes per service,
//! subscribers, and start-up. `micro-bench scale` runs the scenarios and prints one markdown
//! table each; the reading of each curve is in `analysis.md`.

use std::fmt::Write as _;
use std::time::Duration;

pub mod broker;
pub mod conns;
pub mod registry;
pub mod selector;
pub mod startup;

/// What the scenarios share.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Fewer repetitions and the smaller sizes only (a smoke run).
    pub quick: bool,
    /// The `micro` command, for `micro services` timings (skipped when absent).
    pub micro: Option<std::path::PathBuf>,
    /// The greeter server binary, for the start-up scenario (skipped when absent).
    pub greeter: Option<std::path::PathBuf>,
    /// The NATS server for the broker fan-out (skipped when it cannot be reached).
    pub nats: String,
}

/// A markdown table: a heading line, the column names and the rows.
#[derive(Debug, Default)]
pub struct Table {
    /// The `## ...` line.
    pub title: String,
    /// One sentence on the method.
    pub method: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with a title, a method sentence and columns.
    pub fn new(title: &str, method: &str, columns: &[&str]) -> Table {
        Table {
            title: title.to_owned(),
            method: method.to_owned(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Add a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("### {}\n\n{}\n\n", self.title, self.method);
        let _ = writeln!(out, "| {} |", self.columns.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(self.columns.len()));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out.push('\n');
        out
    }
}

/// The median of `values` (0 when empty).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A duration for a table: ns below 1 µs, µs below 10 ms, ms above.
pub fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else if us >= 1.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.0} ns", us * 1000.0)
    }
}

/// CPU time of every thread of this process so far, in nanoseconds
/// (`/proc/self/task/*/schedstat`: finer than the 10 ms ticks of `/proc/self/stat`).
pub fn cpu_ns_self() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// A fresh directory under the system's temporary directory, removed when dropped.
pub fn scratch(what: &str) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix(&format!("micro-scale-{what}-"))
        .tempdir()
        .map_err(|e| format!("a temporary directory for {what}: {e}"))
}

/// This process's soft limit of open files (`/proc/self/limits`), 1024 when unknown.
pub fn file_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(1024)
}
