//! W3C trace context over the transport under test: what a traced client sends, what a
//! traced server hands its handler, what passes through untouched with tracing off, and the
//! ids in the log lines of a call.

use std::io::Write;
use std::sync::{Arc, Mutex};

use micro_runtime::client::CallOptions;
use micro_runtime::server::{Route, Router};
use micro_runtime::trace::{SpanContext, Tracer};
use micro_runtime::{Context, Error};

use crate::support::{self, Echo};

const CALLER: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// The metadata `Echo.Inspect` saw, as `key=value` pairs.
async fn inspect(client: &micro_runtime::Client, ctx: &Context) -> Vec<(String, String)> {
    let rsp: Echo = client
        .call_with(
            ctx,
            "echo",
            "Echo.Inspect",
            &Echo::default(),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    rsp.text
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn get<'a>(md: &'a [(String, String)], key: &str) -> Option<&'a str> {
    md.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn with_tracing_off_trace_context_passes_through_unchanged() {
    let reg = micro_runtime::registry::MemoryRegistry::new();
    let (_echo, _) = support::start_echo(&reg, "a").await;
    let ctx = Context::new()
        .with_metadata("traceparent", CALLER)
        .with_metadata("tracestate", "vendor=abc");
    let md = inspect(&support::client(&reg), &ctx).await;
    assert_eq!(get(&md, "traceparent"), Some(CALLER));
    assert_eq!(get(&md, "tracestate"), Some("vendor=abc"));
}

#[tokio::test]
async fn a_traced_client_sends_its_own_span_under_the_callers() {
    let reg = micro_runtime::registry::MemoryRegistry::new();
    let (_echo, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg).traced(&Tracer::new("caller"));
    let caller = SpanContext::parse(CALLER).unwrap();

    let ctx = Context::new()
        .with_metadata("traceparent", CALLER)
        .with_metadata("tracestate", "vendor=abc");
    let md = inspect(&client, &ctx).await;
    let sent = SpanContext::parse(get(&md, "traceparent").unwrap()).unwrap();
    assert_eq!(sent.trace_id(), caller.trace_id(), "the caller's trace");
    assert_ne!(
        sent.span_id(),
        caller.span_id(),
        "a span of the client's own"
    );
    assert_eq!(get(&md, "tracestate"), Some("vendor=abc"));

    // Not sampled upstream: still propagated, still not sampled.
    let unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    let md = inspect(
        &client,
        &Context::new().with_metadata("traceparent", unsampled),
    )
    .await;
    let sent = SpanContext::parse(get(&md, "traceparent").unwrap()).unwrap();
    assert!(!sent.is_sampled());
    assert_eq!(sent.trace_id(), caller.trace_id());

    // A malformed parent starts a new trace; its tracestate goes with it.
    let ctx = Context::new()
        .with_metadata("traceparent", "00-not-a-trace-01")
        .with_metadata("tracestate", "vendor=abc");
    let md = inspect(&client, &ctx).await;
    let sent = SpanContext::parse(get(&md, "traceparent").unwrap()).unwrap();
    assert_ne!(sent.trace_id(), caller.trace_id());
    assert!(sent.is_sampled(), "a new trace is sampled");
    assert_eq!(get(&md, "tracestate"), None, "{md:?}");

    // No parent at all: a new trace as well.
    let md = inspect(&client, &Context::new()).await;
    assert!(SpanContext::parse(get(&md, "traceparent").unwrap()).is_some());
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_traced_server_runs_the_handler_in_its_span_and_logs_name_the_trace() {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    // This test's runtime has one thread: the server's tasks log through this subscriber.
    let _default = tracing::subscriber::set_default(subscriber);

    let reg = micro_runtime::registry::MemoryRegistry::new();
    let router = Router::new()
        .route(Route::unary(
            "Log.Hello",
            |ctx: Context, _req: Echo| async move {
                tracing::info!("handling hello");
                let me = ctx
                    .trace()
                    .ok_or_else(|| Error::internal("log", "no trace"))?;
                Ok(Echo {
                    text: me.traceparent(),
                    ..Echo::default()
                })
            },
        ))
        .route(Route::unary(
            "Log.Fail",
            |_ctx: Context, _req: Echo| async move {
                Err::<Echo, _>(Error::internal("log", "it broke"))
            },
        ));
    let builder = support::builder(&reg, "logged").flags([
        "--transport",
        crate::SERVER_TRANSPORT,
        "--tracer",
        "log",
    ]);
    let _svc = support::start_with(builder, router).await;
    let client = support::client(&reg);
    let ctx = Context::new().with_metadata("traceparent", CALLER);
    let rsp: Echo = client
        .call_with(
            &ctx,
            "logged",
            "Log.Hello",
            &Echo::default(),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let handler = SpanContext::parse(&rsp.text).expect("the handler's span");
    let caller = SpanContext::parse(CALLER).unwrap();
    assert_eq!(handler.trace_id(), caller.trace_id());
    assert_ne!(handler.span_id(), caller.span_id());

    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("handling hello"))
        .unwrap_or_else(|| panic!("no log line of the handler in {text:?}"));
    assert!(
        line.contains(&format!("trace_id={}", caller.trace_id()))
            && line.contains(&format!("span_id={}", handler.span_id()))
            && line.contains("service=logged")
            && line.contains("logged/Log.Hello"),
        "{line}"
    );

    // A failed call's span says how it ended, in its own log line.
    let err = client
        .call::<_, Echo>("logged", "Log.Fail", &Echo::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), 500);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("span ended with an error") && l.contains("logged/Log.Fail"))
        .unwrap_or_else(|| panic!("no error line of the failed call in {text:?}"));
    assert!(
        line.contains("500 Internal Server Error: it broke"),
        "{line}"
    );
}

#[tokio::test]
async fn a_services_publisher_traces_publishes_made_outside_handlers() {
    use micro_runtime::broker::{MemoryBroker, SharedBroker, SubscribeOptions};
    let broker: SharedBroker = Arc::new(MemoryBroker::new());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _sub = broker
        .subscribe(
            "traced.outside",
            Arc::new(move |event: micro_runtime::broker::Event| {
                let _ = tx.send(
                    event
                        .message()
                        .headers
                        .get("traceparent")
                        .map(str::to_owned),
                );
                Box::pin(async { Ok(()) })
            }),
            SubscribeOptions::default(),
        )
        .await
        .unwrap();
    let reg = micro_runtime::registry::MemoryRegistry::new();
    let service = support::builder(&reg, "publisher")
        .flags(["--transport", crate::SERVER_TRANSPORT, "--tracer", "log"])
        .broker(broker.clone())
        .build()
        .unwrap();
    // The `traceparent` of what `publisher` publishes, as the subscriber gets it.
    let mut sent = async |publisher: micro_runtime::broker::Publisher<Echo>| {
        publisher.publish(&Echo::default()).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
    };
    // From `main`, a timer, a task: no handler's context, still a producer span.
    let traced = sent(service.publisher::<Echo>("traced.outside"))
        .await
        .expect("the message names its producer span");
    assert!(SpanContext::parse(&traced).is_some(), "{traced}");
    // Untraced, a publish outside a handler carries no trace.
    let plain = micro_runtime::broker::Publisher::<Echo>::new(broker.clone(), "traced.outside");
    assert_eq!(sent(plain).await, None);
}
