//! Three hops, each a service on its own TCP port: a caller's cancellation reaches the
//! handler of the last hop, and its deadline shrinks along the way but holds across all.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::{Code, Context, RunningService};

use crate::support::{self, Echo};

/// A service `name` whose `Hop.Next` calls `next`'s `Hop.Next` (or, at the end, waits
/// `sleep_ms` and reports its remaining deadline), counting handlers dropped unfinished.
async fn hop(
    reg: &MemoryRegistry,
    name: &str,
    next: Option<&'static str>,
    dropped: Arc<AtomicUsize>,
) -> RunningService {
    struct Guard(Arc<AtomicUsize>, bool);
    impl Drop for Guard {
        fn drop(&mut self) {
            if !self.1 {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let client = support::client(reg);
    let router = Router::new().route(Route::unary("Hop.Next", move |ctx: Context, req: Echo| {
        let (client, dropped) = (client.clone(), dropped.clone());
        async move {
            let mut guard = Guard(dropped, false);
            let rsp = match next {
                // The context passes on: deadline and cancellation travel with the call.
                Some(next) => {
                    client
                        .call_with(&ctx, next, "Hop.Next", &req, &CallOptions::new())
                        .await?
                }
                None => {
                    tokio::time::sleep(Duration::from_millis(req.sleep_ms)).await;
                    Echo {
                        sleep_ms: ctx.remaining().map_or(0, |d| d.as_millis() as u64),
                        ..req
                    }
                }
            };
            guard.1 = true;
            Ok(rsp)
        }
    }));
    support::start(reg, name, router).await
}

/// Wait (up to 10 s) until the three hops' handlers were dropped.
async fn all_dropped(dropped: &AtomicUsize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while dropped.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_holds_across_three_hops_and_a_cancellation_reaches_the_last() {
    let reg = MemoryRegistry::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    let _c = hop(&reg, "hop-c", None, dropped.clone()).await;
    let _b = hop(&reg, "hop-b", Some("hop-c"), dropped.clone()).await;
    let _a = hop(&reg, "hop-a", Some("hop-b"), dropped.clone()).await;
    let client = support::client(&reg);

    // The last hop sees what is left of the caller's 2 s: less, but most of it.
    let rsp: Echo = client
        .call_with(
            &Context::new(),
            "hop-a",
            "Hop.Next",
            &Echo::default(),
            &CallOptions::new().timeout(Duration::from_secs(2)),
        )
        .await
        .unwrap();
    assert!(
        rsp.sleep_ms > 1_000 && rsp.sleep_ms < 2_000,
        "the last hop had {} ms left of 2,000",
        rsp.sleep_ms
    );

    // Past the deadline the whole chain stops: the caller gets DEADLINE_EXCEEDED at its
    // deadline, and every hop's handler is dropped.
    let started = Instant::now();
    let err = client
        .call_with::<_, Echo>(
            &Context::new(),
            "hop-a",
            "Hop.Next",
            &Echo {
                sleep_ms: 10_000,
                ..Echo::default()
            },
            &CallOptions::new().timeout(Duration::from_millis(500)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    all_dropped(&dropped).await;
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "every hop stopped at the deadline"
    );

    // A caller that gives up (drops its call) stops every hop, the last one included.
    dropped.store(0, Ordering::SeqCst);
    let call = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .call_with::<_, Echo>(
                    &Context::new(),
                    "hop-a",
                    "Hop.Next",
                    &Echo {
                        sleep_ms: 10_000,
                        ..Echo::default()
                    },
                    &CallOptions::new().timeout(Duration::from_secs(30)),
                )
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    call.abort();
    all_dropped(&dropped).await;
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "the cancellation reached every hop, the last one included"
    );
}
