//! Shared helpers: an echo service with every kind of endpoint.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use micro_runtime::client::ClientOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::stream::{StreamReceiver, StreamSender};
use micro_runtime::{Client, Error, RunningService, Service, ServiceBuilder};

#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Echo {
    #[prost(string, tag = "1")]
    pub text: String,
    #[prost(uint64, tag = "2")]
    pub sleep_ms: u64,
    #[prost(int32, tag = "3")]
    pub fail_code: i32,
    #[prost(bytes = "vec", tag = "4")]
    pub payload: Vec<u8>,
    #[prost(uint32, tag = "5")]
    pub count: u32,
    #[prost(string, tag = "6")]
    pub node: String,
}

impl micro_runtime::codec::ProstSerde for Echo {}

impl Echo {
    pub fn text(text: &str) -> Echo {
        Echo {
            text: text.into(),
            ..Echo::default()
        }
    }
}

/// Counts handler executions.
#[derive(Clone, Default)]
pub struct Counter(pub Arc<AtomicUsize>);

impl Counter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Every endpoint kind, answering with `node` so tests see who served.
pub fn echo_router(node: &str, calls: Counter) -> Router {
    let n1 = node.to_owned();
    let n2 = node.to_owned();
    let c1 = calls.clone();
    Router::new()
        .route(
            Route::unary("Echo.Call", move |_ctx, req: Echo| {
                let node = n1.clone();
                let calls = c1.clone();
                async move {
                    calls.bump();
                    if req.sleep_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(req.sleep_ms)).await;
                    }
                    if req.fail_code != 0 {
                        return Err(Error::new(
                            "echo",
                            format!("failed on purpose: {}", req.text),
                            req.fail_code,
                        ));
                    }
                    Ok(Echo {
                        text: req.text,
                        node,
                        payload: req.payload,
                        ..Echo::default()
                    })
                }
            })
            .package("test.echo"),
        )
        .route(Route::unary("Echo.Meta", |ctx, req: Echo| async move {
            // Echo the caller's metadata back as a header and as a trailer.
            if let Some(v) = ctx.metadata().get("x-echo-initial") {
                ctx.set_header("x-echo-initial", v);
            }
            if let Some(v) = ctx.metadata().get("x-echo-trailing-bin") {
                ctx.set_trailer("x-echo-trailing-bin", v);
            }
            Ok(req)
        }))
        .route(Route::server_stream(
            "Echo.MetaStream",
            |ctx, req: Echo, tx: StreamSender<Echo>| async move {
                ctx.set_header(
                    "x-echo-initial",
                    ctx.metadata().get("x-echo-initial").unwrap_or("none"),
                );
                for _ in 0..req.count {
                    tx.send(&req).await?;
                }
                ctx.set_trailer("x-done", "yes");
                if req.fail_code != 0 {
                    return Err(Error::new("echo", "failed after the stream", req.fail_code));
                }
                Ok(())
            },
        ))
        .route(Route::unary("Echo.Inspect", move |ctx, _req: Echo| {
            let node = n2.clone();
            async move {
                let md: Vec<String> = ctx
                    .metadata()
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                Ok(Echo {
                    text: md.join(","),
                    sleep_ms: ctx.remaining().map(|d| d.as_millis() as u64).unwrap_or(0),
                    node,
                    ..Echo::default()
                })
            }
        }))
        .route(Route::unary("Echo.Big", |_ctx, req: Echo| async move {
            Ok(Echo {
                payload: vec![7u8; req.count as usize],
                ..Echo::default()
            })
        }))
        .route(Route::server_stream(
            "Echo.Stream",
            |_ctx, req: Echo, tx: StreamSender<Echo>| async move {
                for i in 0..req.count {
                    tx.send(&Echo::text(&i.to_string())).await?;
                }
                if req.fail_code != 0 {
                    return Err(Error::new(
                        "echo",
                        "stream failed on purpose",
                        req.fail_code,
                    ));
                }
                Ok(())
            },
        ))
        .route(Route::client_stream(
            "Echo.Sum",
            |_ctx, mut rx: StreamReceiver<Echo>| async move {
                let mut sum = 0;
                let mut n = 0;
                while let Some(msg) = rx.recv().await? {
                    sum += msg.count;
                    n += 1;
                }
                Ok(Echo {
                    count: sum,
                    text: format!("{n} messages"),
                    ..Echo::default()
                })
            },
        ))
        .route(Route::bidi_stream(
            "Echo.Chat",
            |_ctx, mut rx: StreamReceiver<Echo>, tx: StreamSender<Echo>| async move {
                while let Some(msg) = rx.recv().await? {
                    tx.send(&Echo::text(&msg.text.to_uppercase())).await?;
                }
                tx.send(&Echo::text("bye")).await?;
                Ok(())
            },
        ))
}

/// A service builder on the transport under test, listening on 127.0.0.1:0 (or a name in
/// this process).
pub fn builder(registry: &MemoryRegistry, name: &str) -> ServiceBuilder {
    Service::builder(name)
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .flags(["--transport", crate::SERVER_TRANSPORT])
}

/// Start a node of `name` in `registry`.
pub async fn start(registry: &MemoryRegistry, name: &str, router: Router) -> RunningService {
    start_with(builder(registry, name), router).await
}

/// Start `builder` (from [`builder`], with settings of the test's) serving `router`.
pub async fn start_with(builder: ServiceBuilder, router: Router) -> RunningService {
    builder
        .shutdown_delay(Duration::ZERO)
        .shutdown_grace(Duration::from_secs(5))
        .handler(router)
        .build()
        .expect("build")
        .start()
        .await
        .expect("start")
}

/// Start an echo node.
pub async fn start_echo(registry: &MemoryRegistry, node: &str) -> (RunningService, Counter) {
    let calls = Counter::default();
    let running = start(registry, "echo", echo_router(node, calls.clone())).await;
    (running, calls)
}

/// Client options on the transport under test.
pub fn options() -> ClientOptions {
    let mut options = ClientOptions::default();
    options.transport = crate::CLIENT_TRANSPORT;
    options
}

pub fn client(registry: &MemoryRegistry) -> Client {
    Client::with_options(Arc::new(registry.clone()), options())
}

/// An address where nothing listens.
pub fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}
