//! Selector pick cost with 1, 10, 100 and 1,000 nodes of one service: one `select` and
//! the first `next()`, as a client does per call, on a warm cache.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use micro::registry::{MemoryRegistry, Node, RegisterOptions, Registry, Service};
use micro::selector::{Filter, Selector, Strategy};

use super::{Settings, Table, human, median};

/// One pick: what a call does before it connects.
async fn pick(selector: &Selector, filters: &[Filter]) -> Result<(), String> {
    let mut next = selector
        .select("bench", filters)
        .await
        .map_err(|e| e.to_string())?;
    black_box(next.next());
    Ok(())
}

/// The median time of one pick over `rounds` batches of `calls`.
async fn time_picks(
    selector: &Selector,
    filters: &[Filter],
    calls: u32,
    rounds: usize,
) -> Result<Duration, String> {
    for _ in 0..calls / 10 + 1 {
        pick(selector, filters).await?;
    }
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..calls {
            pick(selector, filters).await?;
        }
        per_call.push(start.elapsed().as_secs_f64() / f64::from(calls));
    }
    Ok(Duration::from_secs_f64(median(&mut per_call)))
}

/// The selector table.
pub async fn run(settings: &Settings) -> Result<Table, String> {
    let mut table = Table::new(
        "Selector pick cost by nodes of one service",
        "One `select` and the first `next()` (what a client does before each call) on a warm \
         cache, memory registry, median of 5 batches. The filtered column keeps half the \
         nodes by metadata.",
        &["nodes", "random", "round robin", "p2c", "random, filtered"],
    );
    let sizes: &[usize] = if settings.quick {
        &[1, 100]
    } else {
        &[1, 10, 100, 1000]
    };
    for &n in sizes {
        let registry = MemoryRegistry::new();
        let mut service = Service::new("bench", "1");
        for i in 0..n {
            let zone = if i % 2 == 0 { "a" } else { "b" };
            service = service.with_node(
                Node::new(
                    format!("bench-{i}"),
                    format!("10.0.{}.{}:8080", i / 250, i % 250),
                )
                .with_metadata("zone", zone),
            );
        }
        registry
            .register(&service, RegisterOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let shared: micro::registry::SharedRegistry = Arc::new(registry);
        let calls = if settings.quick { 2_000 } else { 20_000 };
        let mut row = vec![n.to_string()];
        for strategy in [Strategy::Random, Strategy::RoundRobin, Strategy::P2c] {
            let selector = Selector::new(shared.clone(), strategy);
            row.push(human(time_picks(&selector, &[], calls, 5).await?));
        }
        let selector = Selector::new(shared.clone(), Strategy::Random);
        let zone = [Filter::metadata("zone", "a")];
        row.push(human(time_picks(&selector, &zone, calls, 5).await?));
        table.row(row);
    }
    Ok(table)
}
