//! The load driver, the same for every framework: closed loop (N calls in flight) for
//! throughput, open loop (a fixed arrival rate, latency from the intended send time) for
//! latency percentiles.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;

use crate::echo::Client;

/// What one measurement does.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// Unary echo of this many bytes.
    Unary(usize),
    /// One server stream per call.
    Stream {
        /// Messages per stream.
        count: u32,
        /// Bytes per message.
        size: u32,
    },
}

/// The outcome of one measurement.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Calls completed in the window.
    pub calls: u64,
    /// Messages received (streams) or calls (unary).
    pub messages: u64,
    /// Failed calls (any voids the round).
    pub errors: u64,
    /// The first error.
    pub first_error: Option<String>,
    /// The window.
    pub secs: f64,
    /// Latency in microseconds.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
}

impl Measured {
    /// Calls per second.
    pub fn qps(&self) -> f64 {
        self.calls as f64 / self.secs
    }

    /// Messages per second.
    pub fn mps(&self) -> f64 {
        self.messages as f64 / self.secs
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

#[derive(Default)]
struct Tally {
    calls: u64,
    messages: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn once(client: &Client, work: Work, payload: &Bytes) -> Result<u64, String> {
    match work {
        Work::Unary(_) => client.echo(payload.clone()).await.map(|_| 1),
        Work::Stream { count, size } => client.stream(count, size).await.map(|n| n as u64),
    }
}

/// The request payload of `work` (streams send an empty request).
fn payload(work: Work) -> Bytes {
    match work {
        Work::Unary(n) => Bytes::from(vec![0x5a; n]),
        Work::Stream { .. } => Bytes::new(),
    }
}

/// Run `concurrency` callers back to back for `warmup`, then measure for `window`. Must run
/// inside a `LocalSet`.
pub async fn closed_loop(
    client: &Client,
    work: Work,
    concurrency: usize,
    warmup: Duration,
    window: Duration,
) -> Measured {
    let payload = payload(work);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let hist = Rc::new(RefCell::new(histogram()));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, payload, hist, tally) =
            (client.clone(), payload.clone(), hist.clone(), tally.clone());
        tasks.push(tokio::task::spawn_local(async move {
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let result = once(&client, work, &payload).await;
                let t1 = Instant::now();
                if t0 < measure_from || t1 > end {
                    continue;
                }
                let mut tally = tally.borrow_mut();
                match result {
                    Ok(messages) => {
                        tally.calls += 1;
                        tally.messages += messages;
                        let us = (t1 - t0).as_micros().max(1) as u64;
                        let _ = hist.borrow_mut().record(us);
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert(e);
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    finish(&hist.borrow(), &tally.borrow(), window)
}

/// Send calls at `rate` per second for `warmup` + `window` (each from its own task),
/// measuring latency from when each call should have been sent. Must run inside a
/// `LocalSet`.
pub async fn open_loop(
    client: &Client,
    work: Work,
    rate: f64,
    warmup: Duration,
    window: Duration,
) -> Measured {
    let payload = payload(work);
    let hist = Rc::new(RefCell::new(histogram()));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut tasks = Vec::new();
    let mut i: u32 = 0;
    loop {
        let intended = start + interval * i;
        if intended >= end {
            break;
        }
        // Timers are good to a millisecond: sleep to just before the intended time, then
        // yield until it comes, so that calls leave evenly spaced instead of in bursts per
        // timer tick (the driver has its own core).
        if intended > Instant::now() + Duration::from_millis(2) {
            tokio::time::sleep_until((intended - Duration::from_millis(1)).into()).await;
        }
        while Instant::now() < intended {
            tokio::task::yield_now().await;
        }
        let (client, payload, hist, tally) =
            (client.clone(), payload.clone(), hist.clone(), tally.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let result = once(&client, work, &payload).await;
            if intended < measure_from {
                return;
            }
            let us = intended.elapsed().as_micros().max(1) as u64;
            let mut tally = tally.borrow_mut();
            match result {
                Ok(messages) => {
                    tally.calls += 1;
                    tally.messages += messages;
                    let _ = hist.borrow_mut().record(us);
                }
                Err(e) => {
                    tally.errors += 1;
                    tally.first_error.get_or_insert(e);
                }
            }
        }));
        i += 1;
        if tasks.len() > 4096 {
            tasks.retain(|t| !t.is_finished());
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    finish(&hist.borrow(), &tally.borrow(), window)
}

fn finish(hist: &Histogram<u64>, tally: &Tally, window: Duration) -> Measured {
    Measured {
        calls: tally.calls,
        messages: tally.messages,
        errors: tally.errors,
        first_error: tally.first_error.clone(),
        secs: window.as_secs_f64(),
        p50_us: hist.value_at_quantile(0.50) as f64,
        p99_us: hist.value_at_quantile(0.99) as f64,
        p999_us: hist.value_at_quantile(0.999) as f64,
    }
}
