//! The sidecar (`micro proxy`) end to end: its HTTP API on a socket, its micro node, a
//! greeter, a memory registry, broker and store, and the Python example app
//! (`examples/sidecar/app.py`) behind it: registered by its health, called, calling, keeping
//! state, subscribed; Dapr's Python SDK and the CloudEvents SDK against it; proxy mode.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_tests::*;
use micro::broker::{Envelope, MemoryBroker, SharedBroker, SubscribeOptions};
use micro::client::{CallOptions, ClientOptions};
use micro::codec::Format;
use micro::registry::{MemoryRegistry, SharedRegistry};
use micro::server::{Route, Router};
use micro::store::{MemoryStore, Store};
use micro::{RunningService, Service};
use micro_proxy::{App, Sidecar};
use serde_json::{Value, json};

/// The greeter the app calls: `Greeter.Hello` over JSON.
fn greeter() -> Router {
    Router::new().route(Route::raw(
        "Greeter.Hello",
        |_ctx, _format, body| async move {
            let req: Value = serde_json::from_slice(&body)
                .map_err(|e| micro::Error::bad_request("greeter", e.to_string()))?;
            let name = req["name"].as_str().unwrap_or("stranger");
            Ok(Bytes::from(
                json!({"msg": format!("Hello {name}")}).to_string(),
            ))
        },
    ))
}

async fn serve(name: &str, registry: &SharedRegistry, router: Router) -> RunningService {
    Service::builder(name)
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .handler(router)
        .build()
        .expect("build")
        .start()
        .await
        .expect("start")
}

/// A free loopback port (for the Python app, which picks none itself).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn example(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sidecar")
        .join(file)
}

/// The Python app, killed on drop.
struct PyApp {
    child: Child,
    url: String,
}

impl Drop for PyApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sidecar on sockets, with its greeter and (optionally) the Python app behind it.
struct Rig {
    registry: SharedRegistry,
    broker: SharedBroker,
    sidecar: Sidecar,
    http: SocketAddr,
    node: RunningService,
    app: Option<PyApp>,
    _greeter: RunningService,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Rig {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    fn app_url(&self, path: &str) -> String {
        format!("{}{path}", self.app.as_ref().expect("an app").url)
    }

    async fn registered(&self, name: &str) -> bool {
        !self
            .registry
            .get_service(name)
            .await
            .unwrap_or_default()
            .is_empty()
    }

    /// Wait until `check` holds; false after `limit`.
    async fn until<F: std::future::Future<Output = bool>>(
        limit: Duration,
        mut check: impl FnMut() -> F,
    ) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    async fn events(&self) -> Vec<Value> {
        get(&self.app_url("/events"))
            .await
            .json()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

const INTERVAL: Duration = Duration::from_millis(500);

async fn rig(with_app: bool, tune: impl FnOnce(&mut micro_proxy::Options)) -> Rig {
    let registry: SharedRegistry = Arc::new(MemoryRegistry::new());
    let broker: SharedBroker = Arc::new(MemoryBroker::new());
    let store = Store::new(MemoryStore::new(), "micro", "statestore").expect("store");
    let greeter = serve("greeter", &registry, greeter()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let http = listener.local_addr().expect("addr");
    let port = free_port();
    let mut options = micro_proxy::Options::default();
    if with_app {
        let url = format!("http://127.0.0.1:{port}");
        options.app = Some(App::new("orders", &url).health(format!("{url}/health"), INTERVAL));
    }
    options.retry_backoff = Duration::from_millis(50);
    tune(&mut options);
    let client = micro::Client::new(registry.clone());
    let sidecar = Sidecar::new(client, broker.clone(), Some(store), options);
    let node = serve(micro_proxy::SERVICE_NAME, &registry, sidecar.rpc_router()).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = sidecar.router();
    tokio::spawn(async move {
        let gateway = micro_gateway::Options::default();
        let _ = micro_gateway::serve_router(router, &gateway, listener, None, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let app = with_app.then(|| {
        let child = Command::new("python3")
            .arg(example("app.py"))
            .args([
                "--port",
                &port.to_string(),
                "--sidecar",
                &format!("http://{http}"),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs the example app");
        PyApp {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    });
    sidecar.start(node.node().clone());
    Rig {
        registry,
        broker,
        sidecar,
        http,
        node,
        app,
        _greeter: greeter,
        _stop: stop,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_app_is_registered_called_calls_keeps_state_and_subscribes() {
    let rig = rig(true, |_| {}).await;
    assert!(
        Rig::until(Duration::from_secs(20), || rig.registered("orders")).await,
        "the app never got registered"
    );
    // Called like any micro service; it calls the greeter and keeps state through the sidecar.
    let client = micro::Client::new(rig.registry.clone());
    let rsp = client
        .call_raw(
            &micro::Context::new(),
            "orders",
            "Orders.Place",
            Format::Json,
            Bytes::from_static(br#"{"item":"tea","name":"Ada"}"#),
            &CallOptions::new(),
        )
        .await
        .expect("micro call orders Orders.Place");
    let placed: Value = serde_json::from_slice(&rsp.message).expect("JSON");
    assert_eq!(placed["greeting"], "Hello Ada");
    assert_eq!(placed["stored"], json!({"item": "tea", "name": "Ada"}));
    let etag = placed["etag"].as_str().expect("an ETag").to_owned();
    let read = get(&rig.url("/v1.0/state/statestore/order-tea")).await;
    assert_eq!(read.headers["etag"].to_str().ok(), Some(etag.as_str()));
    // The app's own publish came back to it as a CloudEvent.
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            !rig.events().await.is_empty()
        })
        .await,
        "the app's subscription got nothing"
    );
    let first = &rig.events().await[0];
    assert_eq!(
        first["headers"]["content-type"],
        "application/cloudevents+json"
    );
    let event: Value = serde_json::from_str(first["body"].as_str().unwrap()).unwrap();
    assert_eq!(event["data"]["item"], "tea");
    assert_eq!(
        (event["specversion"].as_str(), event["source"].as_str()),
        (Some("1.0"), Some("orders"))
    );
    // A micro publisher's message reaches it wrapped.
    rig.broker
        .publish(
            "orders.placed",
            Envelope::new(r#"{"item":"cake"}"#).with_header("content-type", "application/json"),
        )
        .await
        .unwrap();
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            rig.events().await.len() == 2
        })
        .await,
        "the micro publisher's message did not arrive"
    );
    let second: Value =
        serde_json::from_str(rig.events().await[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(second["data"]["item"], "cake");
    // The sidecar's metadata names the subscription.
    let meta = get(&rig.url("/v1.0/metadata")).await.json();
    assert_eq!(meta["id"], "orders");
    assert_eq!(meta["subscriptions"][0]["topic"], "orders.placed");

    // Its health fails: out of the registry within an interval (and a check); back after.
    post(&rig.app_url("/admin/health"), r#"{"healthy":false}"#).await;
    let failed = Instant::now();
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            !rig.registered("orders").await
        })
        .await,
        "an unhealthy app stayed registered"
    );
    let left = failed.elapsed();
    eprintln!("health check failing -> deregistered in {left:?} (interval {INTERVAL:?})");
    // One interval and the failed check, with room for a busy machine.
    assert!(left <= INTERVAL + Duration::from_secs(4), "{left:?}");
    post(&rig.app_url("/admin/health"), r#"{"healthy":true}"#).await;
    assert!(
        Rig::until(Duration::from_secs(10), || rig.registered("orders")).await,
        "a recovered app was not registered again"
    );
    rig.sidecar.stop().await;
    assert!(
        !rig.registered("orders").await,
        "stopping the sidecar deregisters the app"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_the_app_fails_are_redelivered_then_dead_lettered() {
    let rig = rig(true, |o| o.max_deliver = 3).await;
    assert!(Rig::until(Duration::from_secs(20), || rig.registered("orders")).await);
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            !rig.sidecar.options().pubsubs.is_empty()
                && get(&rig.url("/v1.0/metadata")).await.json()["subscriptions"][0]["topic"]
                    == "orders.placed"
        })
        .await,
        "the app's subscriptions were not loaded"
    );
    let dead = Arc::new(Mutex::new(Vec::<Envelope>::new()));
    let seen = dead.clone();
    let _dl = rig
        .broker
        .subscribe(
            "orders.dead",
            micro::broker::handler(move |event| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(event.to_message());
                    Ok(())
                }
            }),
            SubscribeOptions::broadcast(),
        )
        .await
        .unwrap();
    post(&rig.app_url("/admin/deliveries"), r#"{"fail":true}"#).await;
    let published = post(
        &rig.url("/v1.0/publish/pubsub/orders.placed"),
        r#"{"item":"bad"}"#,
    )
    .await;
    assert_eq!(published.status, 204, "{}", published.body);
    assert!(
        Rig::until(Duration::from_secs(20), || async {
            !dead.lock().unwrap().is_empty()
        })
        .await,
        "the failed event was never dead-lettered"
    );
    assert_eq!(rig.events().await.len(), 3, "delivered max_deliver times");
    let letter = dead.lock().unwrap()[0].clone();
    let reason = letter
        .headers
        .get("micro-error")
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("500"), "{reason}");
    let event: Value = serde_json::from_slice(&letter.body).unwrap();
    assert_eq!(event["data"]["item"], "bad");
}

/// Python packages the SDK test needs; `None` (skip) when absent and not required.
fn have_python_sdks() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import dapr.clients, cloudevents.v1.http"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("MICRO_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
        panic!(
            "the Dapr and CloudEvents Python SDKs are missing: pip install -r scripts/requirements-test.txt"
        );
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dapr_python_sdk_invokes_through_the_sidecar_and_cloudevents_parses_deliveries() {
    if !have_python_sdks() {
        eprintln!("skipped: no dapr / cloudevents Python packages");
        return;
    }
    let rig = rig(true, |_| {}).await;
    assert!(Rig::until(Duration::from_secs(20), || rig.registered("orders")).await);
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            get(&rig.url("/v1.0/metadata")).await.json()["subscriptions"][0]["topic"]
                == "orders.placed"
        })
        .await
    );
    let published = post(
        &rig.url("/v1.0/publish/pubsub/orders.placed"),
        r#"{"item":"jam"}"#,
    )
    .await;
    assert_eq!(published.status, 204);
    assert!(
        Rig::until(Duration::from_secs(10), || async {
            !rig.events().await.is_empty()
        })
        .await
    );
    let app = rig.app_url("");
    let port = rig.http.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(example("sdk_check.py"))
            .args(["--app", &app])
            .env("DAPR_HTTP_PORT", &port)
            .env("DAPR_RUNTIME_HOST", "127.0.0.1")
            .env("DAPR_API_METHOD_INVOCATION_PROTOCOL", "http")
            .env("DAPR_HEALTH_TIMEOUT", "10")
            .output()
            .expect("python3 runs the SDK check")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(found["greeting"]["msg"], "Hello dapr sdk");
    assert_eq!(found["neworder"]["received"]["n"], 1);
    let event = &found["events"][0];
    assert_eq!(
        (event["specversion"].as_str(), event["type"].as_str()),
        (Some("1.0"), Some("com.dapr.event.sent"))
    );
    assert_eq!(event["data"]["item"], "jam");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_in_proxy_mode_needs_only_the_proxy() {
    let rig = rig(false, |_| {}).await;
    // A registry of its own that knows nothing: the proxy resolves.
    let empty: SharedRegistry = Arc::new(MemoryRegistry::new());
    let mut options = ClientOptions::default();
    options.proxy = Some(rig.node.node().address.clone());
    let client = micro::Client::with_options(empty.clone(), options);
    let rsp = client
        .call_raw(
            &micro::Context::new(),
            "greeter",
            "Greeter.Hello",
            Format::Json,
            Bytes::from_static(br#"{"name":"far"}"#),
            &CallOptions::new(),
        )
        .await
        .expect("a call through the proxy");
    assert_eq!(rsp.message, Bytes::from_static(br#"{"msg":"Hello far"}"#));
    // A service the proxy cannot find either is the proxy's clear error.
    let err = client
        .call_raw(
            &micro::Context::new(),
            "nowhere",
            "No.Where",
            Format::Json,
            Bytes::from_static(b"{}"),
            &CallOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(err.detail().contains("nowhere"), "{err}");
    // Without the proxy the same client finds nothing.
    let direct = micro::Client::new(empty);
    assert!(
        direct
            .call_raw(
                &micro::Context::new(),
                "greeter",
                "Greeter.Hello",
                Format::Json,
                Bytes::from_static(b"{}"),
                &CallOptions::new()
            )
            .await
            .is_err()
    );
}
