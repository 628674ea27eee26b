//! Middleware: handler, call and subscriber wrappers, as closures and as tower layers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use micro_runtime::broker::{MemoryBroker, Subscriber, SubscriberWrapper};
use micro_runtime::client::{CallOptions, CallWrapper};
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{HandlerWrapper, Route, Router};
use micro_runtime::{Code, Context, Error};

use crate::support::{self, Counter, Echo};

type Log = Arc<Mutex<Vec<String>>>;

/// A handler wrapper that logs `name in` / `name out` around the rest of the chain.
fn logging(log: &Log, name: &'static str) -> HandlerWrapper {
    let log = log.clone();
    HandlerWrapper::new(move |req, next| {
        let log = log.clone();
        async move {
            log.lock()
                .unwrap()
                .push(format!("{name} in {}", req.endpoint()));
            let rsp = next.call(req).await;
            log.lock().unwrap().push(format!("{name} out"));
            rsp
        }
    })
}

#[tokio::test]
async fn service_wrappers_run_outside_route_wrappers_in_the_order_added() {
    let reg = MemoryRegistry::new();
    let log: Log = Arc::default();
    let handler_log = log.clone();
    let route = Route::unary("Echo.Call", move |_ctx, req: Echo| {
        let log = handler_log.clone();
        async move {
            log.lock().unwrap().push("handler".to_owned());
            Ok(req)
        }
    })
    .wrap(logging(&log, "route"));
    let _node = support::builder(&reg, "echo")
        .wrap(logging(&log, "outer"))
        .wrap(logging(&log, "inner"))
        .handler(Router::new().route(route))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let rsp: Echo = client
        .call("echo", "Echo.Call", &Echo::text("x"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "x");
    assert_eq!(
        *log.lock().unwrap(),
        [
            "outer in Echo.Call",
            "inner in Echo.Call",
            "route in Echo.Call",
            "handler",
            "route out",
            "inner out",
            "outer out"
        ]
    );
}

#[tokio::test]
async fn a_wrapper_error_short_circuits_and_the_handler_never_runs() {
    let reg = MemoryRegistry::new();
    let calls = Counter::default();
    let deny = HandlerWrapper::new(|req, next| async move {
        if req.metadata().get("authorization") != Some("Bearer yes") {
            return Err(Error::unauthorized("auth", "no token"));
        }
        next.call(req).await
    });
    let _node = support::builder(&reg, "echo")
        .wrap(deny)
        .handler(support::echo_router("a", calls.clone()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &Echo::text("x"))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.id()), (401, "auth"));
    assert_eq!(err.grpc_code(), Code::Unauthenticated);
    assert_eq!(calls.get(), 0, "the handler never ran");

    let opts = CallOptions::new().metadata("authorization", "Bearer yes");
    let rsp: Echo = client
        .call_with(
            &Context::new(),
            "echo",
            "Echo.Call",
            &Echo::text("x"),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(rsp.node, "a");
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn wrappers_see_endpoint_metadata_deadline_and_messages_raw_or_typed() {
    let reg = MemoryRegistry::new();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let inspect = HandlerWrapper::new(move |req, next| {
        let seen = record.clone();
        async move {
            let typed: Echo = req.decode().expect("a unary request").expect("decodes");
            let raw = req.message().expect("a unary request").len();
            let left = req
                .deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            let line = format!(
                "{} text={} raw_bytes={} trace={} deadline_within_5s={}",
                req.endpoint(),
                typed.text,
                raw,
                req.metadata().get("x-trace").unwrap_or("-"),
                left.is_some_and(|d| d <= Duration::from_secs(5)),
            );
            let format = req.format();
            let rsp = next.call(req).await?;
            let answer: Echo = rsp
                .decode(format)
                .expect("a unary response")
                .expect("decodes");
            seen.lock()
                .unwrap()
                .push(format!("{line} answer={}", answer.text));
            Ok(rsp)
        }
    });
    let endpoints: Arc<Mutex<Vec<String>>> = Arc::default();
    let names = endpoints.clone();
    let by_name = HandlerWrapper::new(move |req, next| {
        let names = names.clone();
        async move {
            names.lock().unwrap().push(format!(
                "{} {:?} trace={}",
                req.endpoint(),
                req.kind(),
                req.metadata().get("x-trace").unwrap_or("-")
            ));
            next.call(req).await
        }
    });
    let _node = support::builder(&reg, "echo")
        .wrap(by_name)
        .handler(
            support::echo_router("a", Counter::default())
                .route(Route::unary("Peek.Call", |_c, r: Echo| async move { Ok(r) }).wrap(inspect)),
        )
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let ctx = Context::new()
        .with_metadata("x-trace", "t-1")
        .with_timeout(Duration::from_secs(5));
    let _: Echo = client
        .call_with(
            &ctx,
            "echo",
            "Peek.Call",
            &Echo::text("typed"),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let mut stream = client
        .server_stream::<_, Echo>(
            &ctx,
            "echo",
            "Echo.Stream",
            &Echo {
                count: 3,
                ..Echo::default()
            },
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let mut got = 0;
    while stream.recv().await.unwrap().is_some() {
        got += 1;
    }
    assert_eq!(got, 3, "a streaming call passes through wrappers whole");
    assert_eq!(
        *endpoints.lock().unwrap(),
        [
            "Peek.Call Unary trace=t-1",
            "Echo.Stream ServerStream trace=t-1"
        ]
    );
    assert_eq!(
        *seen.lock().unwrap(),
        ["Peek.Call text=typed raw_bytes=7 trace=t-1 deadline_within_5s=true answer=typed"]
    );
}

/// Two endpoints that count how many calls run at once, across both.
fn gauge_router(now: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> Router {
    let hold = move |_ctx, req: Echo| {
        let (now, peak) = (now.clone(), peak.clone());
        async move {
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(req.sleep_ms)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            Ok(req)
        }
    };
    Router::new()
        .route(Route::unary("Gauge.Hold", hold.clone()))
        .route(Route::unary("Gauge.Other", hold))
}

#[tokio::test]
async fn a_tower_concurrency_limit_holds_under_200_concurrent_calls() {
    let reg = MemoryRegistry::new();
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let _node = support::builder(&reg, "gauge")
        .layer(tower::limit::ConcurrencyLimitLayer::new(8))
        .handler(gauge_router(now.clone(), peak.clone()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let req = Echo {
        sleep_ms: 5,
        ..Echo::default()
    };
    // Half the calls on each endpoint: the limit is the service's, not each endpoint's.
    let calls = (0..200).map(|i| {
        let endpoint = if i % 2 == 0 {
            "Gauge.Hold"
        } else {
            "Gauge.Other"
        };
        client.call::<_, Echo>("gauge", endpoint, &req)
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "every call is served");
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        peak <= 8,
        "at most 8 calls ran at once across both endpoints, saw {peak}"
    );
    assert!(peak >= 2, "calls did run concurrently (peak {peak})");
    assert_eq!(now.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_tower_limit_on_the_client_holds_too() {
    let reg = MemoryRegistry::new();
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let _node = support::start(&reg, "gauge", gauge_router(now, peak.clone())).await;
    let client = support::client(&reg).layer(tower::limit::ConcurrencyLimitLayer::new(3));
    let req = Echo {
        sleep_ms: 5,
        ..Echo::default()
    };
    let calls = (0..200).map(|_| client.call::<_, Echo>("gauge", "Gauge.Hold", &req));
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&peak),
        "the client kept 3 calls in flight at most, saw {peak}"
    );
}

#[tokio::test]
async fn tower_timeout_and_load_shed_become_micro_errors() {
    let reg = MemoryRegistry::new();
    let route = Route::unary("Slow.Call", |_ctx, req: Echo| async move {
        tokio::time::sleep(Duration::from_millis(req.sleep_ms)).await;
        Ok(req)
    })
    .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50)));
    let _node = support::start(&reg, "slow", Router::new().route(route)).await;
    let client = support::client(&reg);
    let slow = Echo {
        sleep_ms: 2_000,
        ..Echo::default()
    };
    let err = client
        .call::<_, Echo>("slow", "Slow.Call", &slow)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded, "{err}");
    let fast: Echo = client
        .call("slow", "Slow.Call", &Echo::text("quick"))
        .await
        .unwrap();
    assert_eq!(fast.text, "quick");

    // Shedding on the client: a call over the limit fails at once, never sent. Each layer
    // goes outside the ones before it, so the shedding sits in front of the limit.
    let shedding = client
        .layer(tower::limit::ConcurrencyLimitLayer::new(1))
        .layer(tower::load_shed::LoadShedLayer::new());
    let held = Echo {
        sleep_ms: 300,
        ..Echo::default()
    };
    let short = Echo {
        sleep_ms: 30,
        ..held.clone()
    };
    let (first, second) = tokio::join!(
        shedding.call::<_, Echo>("slow", "Slow.Call", &short),
        async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            shedding.call::<_, Echo>("slow", "Slow.Call", &held).await
        }
    );
    assert!(first.is_ok());
    let err = second.unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    assert!(err.is_retry_safe(), "a shed call was never sent");
}

#[tokio::test]
async fn call_wrappers_change_what_is_sent_and_see_the_answer() {
    let reg = MemoryRegistry::new();
    let _node = support::start_echo(&reg, "a").await;
    let answers: Log = Arc::default();
    let seen = answers.clone();
    let stamp = CallWrapper::new(move |mut req, next| {
        let seen = seen.clone();
        async move {
            req.context_mut()
                .metadata_mut()
                .insert("x-caller", "billing");
            let text = req.decode::<Echo>().map(|r| r.unwrap().text);
            let endpoint = req.endpoint().to_owned();
            let rsp = next.call(req).await?;
            let node = rsp.decode::<Echo>().map(|r| r.unwrap().node);
            seen.lock().unwrap().push(format!(
                "{endpoint} {text:?} -> {node:?} stream={}",
                rsp.is_stream()
            ));
            Ok(rsp)
        }
    });
    let client = support::client(&reg).wrap(stamp);
    let rsp: Echo = client
        .call("echo", "Echo.Inspect", &Echo::text("hi"))
        .await
        .unwrap();
    assert!(rsp.text.contains("x-caller=billing"), "{}", rsp.text);
    let mut stream = client
        .server_stream::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Stream",
            &Echo {
                count: 2,
                ..Echo::default()
            },
            &CallOptions::new(),
        )
        .await
        .unwrap();
    while stream.recv().await.unwrap().is_some() {}
    assert_eq!(
        *answers.lock().unwrap(),
        [
            "Echo.Inspect Some(\"hi\") -> Some(\"a\") stream=false",
            "Echo.Stream None -> None stream=true"
        ]
    );
}

#[tokio::test]
async fn a_subscriber_wrapper_sees_every_delivery() {
    let reg = MemoryRegistry::new();
    let broker = Arc::new(MemoryBroker::new());
    let deliveries: Log = Arc::default();
    let seen = deliveries.clone();
    let audit = SubscriberWrapper::new(move |event, next| {
        let seen = seen.clone();
        async move {
            let order: Echo = event.decode()?;
            seen.lock().unwrap().push(format!(
                "{} {} #{}",
                event.topic(),
                order.text,
                event.attempt()
            ));
            next.call(event).await
        }
    });
    let handled = Counter::default();
    let count = handled.clone();
    let failed_once = Arc::new(AtomicUsize::new(0));
    let node = support::builder(&reg, "orders")
        .broker(broker.clone())
        .wrap_subscriber(audit)
        .subscribe(
            Subscriber::new("orders.placed", move |_ctx, order: Echo| {
                let count = count.clone();
                let failed_once = failed_once.clone();
                async move {
                    if order.text == "flaky" && failed_once.fetch_add(1, Ordering::SeqCst) == 0 {
                        return Err(Error::internal("orders", "try again"));
                    }
                    count.0.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            })
            .options(
                micro_runtime::broker::SubscribeOptions::default()
                    .retry_backoff(Duration::from_millis(5)),
            ),
        )
        .handler(Router::new())
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let publisher = micro_runtime::broker::Publisher::<Echo>::new(broker.clone(), "orders.placed");
    for text in ["a", "flaky", "b"] {
        publisher.publish(&Echo::text(text)).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while handled.get() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(handled.get(), 3);
    let mut log = deliveries.lock().unwrap().clone();
    log.sort();
    assert_eq!(
        log,
        [
            "orders.placed a #1",
            "orders.placed b #1",
            "orders.placed flaky #1",
            "orders.placed flaky #2"
        ]
    );
    node.stop().await.unwrap();
}

#[tokio::test]
async fn framework_endpoints_are_not_wrapped_but_internal_user_endpoints_are() {
    let reg = MemoryRegistry::new();
    let deny_all = HandlerWrapper::new(|_req, _next| async move {
        Err::<micro_runtime::server::HandlerResponse, _>(Error::forbidden("gate", "closed"))
    });
    let hidden = Route::unary("Admin.Reset", |_c, r: Echo| async move { Ok(r) }).internal();
    let node = support::builder(&reg, "echo")
        .wrap(deny_all)
        .handler(support::echo_router("a", Counter::default()).route(hidden))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let err = client
        .call::<_, Echo>("echo", "Echo.Call", &Echo::text("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), 403);
    // Out of the registry, still behind the service's wrappers.
    let err = client
        .call_with::<_, Echo>(
            &Context::new(),
            "echo",
            "Admin.Reset",
            &Echo::text("x"),
            &CallOptions::new().address(node.node().address.clone()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), 403, "{err}");
    let health: micro_runtime::health::HealthCheckResponse = client
        .call_with(
            &Context::new(),
            "echo",
            "Health.Check",
            &micro_runtime::health::HealthCheckRequest::default(),
            &CallOptions::new()
                .address(node.node().address.clone())
                .package(micro_runtime::health::PACKAGE),
        )
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        micro_runtime::health::ServingStatus::Serving
    );
}

#[tokio::test]
async fn a_panicking_wrapper_fails_its_call_and_the_server_lives_on() {
    let reg = MemoryRegistry::new();
    let calls = Counter::default();
    let explosive = HandlerWrapper::new(|req, next| async move {
        if req.metadata().get("x-boom").is_some() {
            panic!("a wrapper bug");
        }
        next.call(req).await
    });
    let _node = support::builder(&reg, "echo")
        .wrap(explosive)
        .handler(support::echo_router("a", calls.clone()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = support::client(&reg);
    let boom = CallOptions::new().metadata("x-boom", "1");
    for _ in 0..3 {
        let err = client
            .call_with::<_, Echo>(
                &Context::new(),
                "echo",
                "Echo.Call",
                &Echo::text("x"),
                &boom,
            )
            .await
            .unwrap_err();
        assert_eq!(err.grpc_code(), Code::Internal, "{err}");
        assert!(err.detail().contains("panicked"), "{err}");
    }
    let rsp: Echo = client
        .call("echo", "Echo.Call", &Echo::text("after"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "after");
    assert_eq!(
        calls.get(),
        1,
        "only the call without the bug reached the handler"
    );
}

#[tokio::test]
async fn a_wrapper_can_tighten_the_deadline() {
    let reg = MemoryRegistry::new();
    let hurry = HandlerWrapper::new(|mut req, next| async move {
        let ctx = req
            .context()
            .clone()
            .with_timeout(Duration::from_millis(50));
        *req.context_mut() = ctx;
        next.call(req).await
    });
    let _node = support::builder(&reg, "echo")
        .wrap(hurry)
        .handler(support::echo_router("a", Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let slow = Echo {
        sleep_ms: 5_000,
        ..Echo::default()
    };
    let err = support::client(&reg)
        .call::<_, Echo>("echo", "Echo.Call", &slow)
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded, "{err}");
}
