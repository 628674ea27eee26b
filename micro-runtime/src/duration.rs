//! Durations as people write them in settings: `30` (seconds), `500ms`, `2m`.

use std::time::Duration;

use crate::error::{Error, Result};

const ID: &str = "micro.config";

/// Parse `30` (seconds), `30s`, `500ms`, `2m`, `1h`, `250us`.
pub fn parse_duration(name: &str, value: &str) -> Result<Duration> {
    let v = value.trim();
    let bad = || {
        Error::bad_request(
            ID,
            format!(
                "{name} {value:?} is not a duration: write seconds (30) or a number with a unit (500ms, 2s, 1m, 1h)"
            ),
        )
    };
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad());
    }
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" | "µs" => n / 1e6,
        "ns" => n / 1e9,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}
