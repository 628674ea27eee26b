//! The sidecar's HTTP API without an app: go-micro's registry and broker routes, Dapr's
//! state, secrets and invoke shapes, and bad input on each (malformed JSON, unknown stores
//! and topics, ETag mismatches, a websocket subscriber that stops reading).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use gateway_tests::*;
use micro::broker::{Envelope, MemoryBroker, SharedBroker, SubscribeOptions};
use micro::registry::{MemoryRegistry, SharedRegistry};
use micro::store::{MemoryStore, Store};
use micro_proxy::{SecretStore, Sidecar};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct Api {
    addr: std::net::SocketAddr,
    registry: SharedRegistry,
    broker: SharedBroker,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn api(tune: impl FnOnce(&mut micro_proxy::Options)) -> Api {
    let registry: SharedRegistry = Arc::new(MemoryRegistry::new());
    let broker: SharedBroker = Arc::new(MemoryBroker::new());
    let store = Store::new(MemoryStore::new(), "micro", "statestore").expect("store");
    let mut options = micro_proxy::Options::default();
    tune(&mut options);
    let sidecar = Sidecar::new(
        micro::Client::new(registry.clone()),
        broker.clone(),
        Some(store),
        options,
    );
    sidecar.start(micro::registry::Node::new("proxy-1", "127.0.0.1:1"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = sidecar.router();
    tokio::spawn(async move {
        let options = micro_gateway::Options::default();
        let _ = micro_gateway::serve_router(router, &options, listener, None, async move {
            let _ = stopped.await;
        })
        .await;
    });
    Api {
        addr,
        registry,
        broker,
        _stop: stop,
    }
}

fn code(answer: &Answer) -> String {
    answer.json()["errorCode"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn registry_routes_register_get_and_deregister_and_refuse_bad_records() {
    let api = api(|_| {}).await;
    let record = json!({
        "name": "legacy", "version": "1",
        "nodes": [{"id": "legacy-1", "address": "10.0.0.9:9000"}, {"id": "legacy-2"}],
        "endpoints": [{"name": "Legacy.Call"}],
    });
    let put = post(&api.url("/registry?ttl=30s"), &record.to_string()).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let got = get(&api.url("/registry?service=legacy")).await.json();
    let nodes = got[0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    // A node without an address is the sidecar's: its app serves it.
    let own = nodes.iter().find(|n| n["id"] == "legacy-2").unwrap();
    assert_eq!(own["address"], "127.0.0.1:1");
    assert_eq!(
        get(&api.url("/registry"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let del = send("DELETE", &api.url("/registry"), &[], record.to_string()).await;
    assert_eq!(del.status, 200, "{}", del.body);
    let gone = get(&api.url("/registry?service=legacy")).await;
    assert_eq!(gone.status, 404);
    assert!(gone.json()["detail"].as_str().unwrap().contains("legacy"));

    for (body, says) in [
        ("{not json", "takes a service as JSON"),
        (
            r#"{"name":"","nodes":[{"id":"a","address":"x:1"}]}"#,
            "no name",
        ),
        (r#"{"name":"x","nodes":[]}"#, "has no nodes"),
        (
            r#"{"name":"x","nodes":[{"id":"","address":"x:1"}]}"#,
            "has no id",
        ),
    ] {
        let rsp = post(&api.url("/registry"), body).await;
        assert_eq!(rsp.status, 400, "{body}");
        let detail = rsp.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let ttl = post(&api.url("/registry?ttl=soon"), &record.to_string()).await;
    assert_eq!(ttl.status, 400);
    assert!(
        api.registry
            .get_service("legacy")
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_routes_publish_and_stream_frames_over_a_websocket() {
    let api = api(|_| {}).await;
    let url = format!("ws://{}/broker?topic=news", api.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("websocket");
    // The subscription exists once the upgrade is answered; publish through the sidecar.
    let rsp = send(
        "POST",
        &api.url("/broker?topic=news"),
        &[("content-type", "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(rsp.status, 200, "{}", rsp.body);
    let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a frame in time")
        .expect("open")
        .expect("a frame");
    let Message::Text(text) = frame else {
        panic!("{frame:?}")
    };
    let message: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(message["Body"], "aGVsbG8=", "go-micro's base64 body");
    assert_eq!(message["Header"]["content-type"], "text/plain");
    assert_eq!(message["Header"]["micro-topic"], "news");

    for path in ["/broker", "/broker?topic=", "/broker?topic=a..b"] {
        let rsp = post(&api.url(path), "x").await;
        assert_eq!(rsp.status, 400, "{path}");
    }
    let plain = get(&api.url("/broker?topic=news")).await;
    assert_eq!(plain.status, 400);
    assert!(
        plain.json()["detail"]
            .as_str()
            .unwrap()
            .contains("websocket")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_subscriber_that_stops_reading_is_cut_off_and_the_broker_goes_on() {
    let api = api(|o| o.socket_buffer = 8).await;
    let url = format!("ws://{}/broker?topic=flood", api.addr);
    // A small receive buffer, so loopback's autotuning (up to 32 MiB) cannot hide the stall.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let stream = socket.connect(api.addr).await.expect("connect");
    let (mut stalled, _) = tokio_tungstenite::client_async(&url, stream)
        .await
        .expect("websocket");
    // A healthy subscriber of the same topic counts what the broker hands out.
    let got = Arc::new(AtomicUsize::new(0));
    let counter = got.clone();
    let _healthy = api
        .broker
        .subscribe(
            "flood",
            micro::broker::handler(move |_| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }),
            SubscribeOptions::broadcast(),
        )
        .await
        .unwrap();
    // 400 messages of 64 KiB: more than socket buffers hold, while nobody reads.
    let body = vec![b'x'; 64 * 1024];
    for _ in 0..400 {
        api.broker
            .publish("flood", Envelope::new(body.clone()))
            .await
            .expect("publish goes on");
    }
    let all = tokio::time::timeout(Duration::from_secs(30), async {
        while got.load(Ordering::SeqCst) < 400 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        all.is_ok(),
        "the healthy subscriber got {} of 400",
        got.load(Ordering::SeqCst)
    );
    // The stalled reader was disconnected: reading now drains what was sent, then the end.
    let mut frames = 0;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(frame) = stalled.next().await {
            match frame {
                Ok(Message::Text(_)) => frames += 1,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled subscriber was never disconnected ({frames} frames read)"
    );
    assert!(
        frames < 400,
        "a stalled reader got all {frames} messages: nothing was bounded"
    );
}

#[tokio::test]
async fn state_saves_reads_deletes_in_bulk_with_etags_and_refuses_mismatches() {
    let api = api(|_| {}).await;
    let state = |p: &str| api.url(&format!("/v1.0/state/statestore{p}"));
    let saved = post(
        &state(""),
        r#"[{"key":"a","value":{"n":1}},{"key":"b","value":"text"}]"#,
    )
    .await;
    assert_eq!(saved.status, 204, "{}", saved.body);
    let a = get(&state("/a")).await;
    assert_eq!((a.status, a.json()), (200, json!({"n": 1})));
    let etag = a.headers["etag"].to_str().unwrap().to_owned();
    // A save with a stale ETag is 409 and changes nothing; with the current one it lands.
    let stale = post(
        &state(""),
        r#"[{"key":"a","value":{"n":2},"etag":"0000000000000000"}]"#,
    )
    .await;
    assert_eq!(
        (stale.status, code(&stale).as_str()),
        (409, "ERR_STATE_SAVE")
    );
    assert_eq!(get(&state("/a")).await.json(), json!({"n": 1}));
    let fresh = post(
        &state(""),
        &json!([{"key": "a", "value": {"n": 2}, "etag": etag}]).to_string(),
    )
    .await;
    assert_eq!(fresh.status, 204, "{}", fresh.body);
    let again = post(
        &state(""),
        &json!([{"key": "a", "value": {"n": 3}, "etag": etag}]).to_string(),
    )
    .await;
    assert_eq!(again.status, 409, "the old ETag is spent");
    // First write wins only where the key is new.
    let first = post(
        &state(""),
        r#"[{"key":"a","value":0,"options":{"concurrency":"first-write"}}]"#,
    )
    .await;
    assert_eq!(first.status, 409);
    // Bulk get: values, ETags, and missing keys without data.
    let bulk = post(&state("/bulk"), r#"{"keys":["a","b","zz"]}"#)
        .await
        .json();
    assert_eq!(bulk[0]["data"], json!({"n": 2}));
    assert_eq!(bulk[1]["data"], "text");
    assert!(bulk[0]["etag"].as_str().is_some_and(|e| e.len() == 16));
    assert!(bulk[2].get("data").is_none());
    // Delete with a stale If-Match is 409; without one it goes.
    let del = send("DELETE", &state("/b"), &[("if-match", "\"nope\"")], "").await;
    assert_eq!((del.status, code(&del).as_str()), (409, "ERR_STATE_DELETE"));
    assert_eq!(send("DELETE", &state("/b"), &[], "").await.status, 204);
    assert_eq!(get(&state("/b")).await.status, 204, "a missing key is 204");
    // TTLs: a record that expires.
    let ttl = post(
        &state(""),
        r#"[{"key":"t","value":1,"metadata":{"ttlInSeconds":"1"}}]"#,
    )
    .await;
    assert_eq!(ttl.status, 204);
    let bad_ttl = post(
        &state(""),
        r#"[{"key":"t","value":1,"metadata":{"ttlInSeconds":"soon"}}]"#,
    )
    .await;
    assert_eq!(bad_ttl.status, 400);

    // Bad input.
    let unknown = post(&api.url("/v1.0/state/nostore"), "[]").await;
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (400, "ERR_STATE_STORE_NOT_FOUND")
    );
    assert!(
        unknown.json()["message"]
            .as_str()
            .unwrap()
            .contains("statestore")
    );
    for body in [
        "{",
        r#"{"key":"a"}"#,
        r#"[{"value":1}]"#,
        r#"[{"key":"a","value":1,"extra":true}]"#,
    ] {
        let rsp = post(&state(""), body).await;
        assert_eq!(
            (rsp.status, code(&rsp).as_str()),
            (400, "ERR_MALFORMED_REQUEST"),
            "{body}"
        );
    }
    assert_eq!(post(&state("/bulk"), r#"{"key":"a"}"#).await.status, 400);
}

#[tokio::test]
async fn publish_wraps_cloudevents_and_refuses_unknown_pubsubs_and_bad_topics() {
    let api = api(|o| o.app = Some(micro_proxy::App::new("shop", "127.0.0.1:9"))).await;
    let got = Arc::new(std::sync::Mutex::new(Vec::<Envelope>::new()));
    let sink = got.clone();
    let _s = api
        .broker
        .subscribe(
            "orders",
            micro::broker::handler(move |e| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(e.to_message());
                    Ok(())
                }
            }),
            SubscribeOptions::broadcast(),
        )
        .await
        .unwrap();
    assert_eq!(
        post(&api.url("/v1.0/publish/pubsub/orders"), r#"{"id":1}"#)
            .await
            .status,
        204
    );
    let whole = r#"{"specversion":"1.0","id":"e-1","source":"elsewhere","type":"order.made","data":{"id":2}}"#;
    let rsp = send(
        "POST",
        &api.url("/v1.0/publish/pubsub/orders"),
        &[("content-type", "application/cloudevents+json")],
        whole,
    )
    .await;
    assert_eq!(rsp.status, 204, "{}", rsp.body);
    let messages = got.lock().unwrap().clone();
    assert_eq!(messages.len(), 2);
    let wrapped: Value = serde_json::from_slice(&messages[0].body).unwrap();
    assert_eq!(
        (wrapped["source"].as_str(), wrapped["data"]["id"].as_i64()),
        (Some("shop"), Some(1))
    );
    assert_eq!(
        messages[0].content_type(),
        Some("application/cloudevents+json")
    );
    let given: Value = serde_json::from_slice(&messages[1].body).unwrap();
    assert_eq!(
        (given["id"].as_str(), given["type"].as_str()),
        (Some("e-1"), Some("order.made"))
    );
    assert_eq!(messages[1].id(), Some("e-1"));

    let unknown = post(&api.url("/v1.0/publish/kafka/orders"), "{}").await;
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (404, "ERR_PUBSUB_NOT_FOUND")
    );
    let topic = post(&api.url("/v1.0/publish/pubsub/bad..topic"), "{}").await;
    assert_eq!(
        (topic.status, code(&topic).as_str()),
        (400, "ERR_TOPIC_NAME_INVALID")
    );
    let broken = send(
        "POST",
        &api.url("/v1.0/publish/pubsub/orders"),
        &[("content-type", "application/cloudevents+json")],
        r#"{"specversion":"1.0"}"#,
    )
    .await;
    assert_eq!(
        (broken.status, code(&broken).as_str()),
        (400, "ERR_PUBSUB_CLOUD_EVENTS_SER")
    );
    assert_eq!(got.lock().unwrap().len(), 2, "nothing bad was published");
}

#[tokio::test]
async fn secrets_come_from_the_environment_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.json");
    std::fs::write(&file, r#"{"db": {"password": "s3cret"}, "token": "t"}"#).unwrap();
    let path = file.display().to_string();
    // PATH is in every environment: the env store with the prefix PAT reads it as "H".
    let api = api(|o| {
        o.secret_stores = vec![
            "env=env:PAT".parse::<SecretStore>().unwrap(),
            format!("local=file:{path}").parse().unwrap(),
            "broken=file:/nonexistent/secrets.json".parse().unwrap(),
        ];
    })
    .await;
    let env = get(&api.url("/v1.0/secrets/env/H")).await;
    assert_eq!(env.status, 200, "{}", env.body);
    assert_eq!(env.json()["H"], std::env::var("PATH").unwrap());
    let nested = get(&api.url("/v1.0/secrets/local/db:password"))
        .await
        .json();
    assert_eq!(nested, json!({"db:password": "s3cret"}));
    let bulk = get(&api.url("/v1.0/secrets/local/bulk")).await.json();
    assert_eq!(bulk["token"], json!({"token": "t"}));
    let missing = get(&api.url("/v1.0/secrets/local/nope")).await;
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (404, "ERR_SECRET_GET")
    );
    let unknown = get(&api.url("/v1.0/secrets/vault/x")).await;
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (400, "ERR_SECRET_STORE_NOT_FOUND")
    );
    let broken = get(&api.url("/v1.0/secrets/broken/x")).await;
    assert_eq!(broken.status, 500);
    assert!(
        broken.json()["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/secrets.json")
    );
}

#[tokio::test]
async fn invoke_refuses_bad_methods_and_bodies_and_names_missing_services() {
    let api = api(|_| {}).await;
    let not_json = post(
        &api.url("/v1.0/invoke/greeter/method/Greeter.Hello"),
        "{oops",
    )
    .await;
    assert_eq!(
        (not_json.status, code(&not_json).as_str()),
        (400, "ERR_MALFORMED_REQUEST")
    );
    let odd = post(&api.url("/v1.0/invoke/greeter/method/a/b-c"), "{}").await;
    assert_eq!(odd.status, 400);
    assert!(odd.json()["message"].as_str().unwrap().contains("a/b-c"));
    let missing = post(&api.url("/v1.0/invoke/nowhere/method/Any.Thing"), "{}").await;
    assert!(missing.status >= 400, "{}", missing.body);
    assert!(missing.body.contains("nowhere"), "{}", missing.body);
    assert_eq!(get(&api.url("/v1.0/healthz")).await.status, 204);
    assert_eq!(get(&api.url("/v1.0/healthz/outbound")).await.status, 204);
    let meta = get(&api.url("/v1.0/metadata")).await.json();
    let names: Vec<&str> = meta["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["statestore", "pubsub"]);
}

#[tokio::test]
async fn web_pages_other_hosts_and_callers_without_the_token_are_refused() {
    let api = api(|_| {}).await;
    let url = api.url("/v1.0/state/statestore");
    // A page of another site (browsers send Origin; apps do not).
    let page = send("POST", &url, &[("origin", "https://evil.example")], "[]").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("evil.example"));
    let fetch = send("POST", &url, &[("sec-fetch-site", "cross-site")], "[]").await;
    assert_eq!(fetch.status, 403);
    let own = send("POST", &url, &[("origin", "http://127.0.0.1:8081")], "[]").await;
    assert_eq!(own.status, 204, "{}", own.body);
    // DNS rebinding: a name that points here is not a loopback host.
    let rebound = send(
        "GET",
        &api.url("/v1.0/healthz"),
        &[("host", "evil.example:8081")],
        "",
    )
    .await;
    assert_eq!(rebound.status, 403);
    // A websocket from another site's page.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/broker?topic=news", api.addr),
    )
    .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());

    // With a token: every request carries it, as Dapr's SDKs do with DAPR_API_TOKEN.
    let guarded = api_with_token().await;
    let health = guarded.url("/v1.0/healthz");
    assert_eq!(get(&health).await.status, 401);
    assert_eq!(
        send(
            "GET",
            &health,
            &[("dapr-api-token", "wrong-token-value")],
            ""
        )
        .await
        .status,
        401
    );
    assert_eq!(
        send(
            "GET",
            &health,
            &[("dapr-api-token", "a-long-sidecar-token")],
            ""
        )
        .await
        .status,
        204
    );
    let bearer = send(
        "GET",
        &health,
        &[("authorization", "Bearer a-long-sidecar-token")],
        "",
    )
    .await;
    assert_eq!(bearer.status, 204);
}

async fn api_with_token() -> Api {
    api(|o| o.token = Some("a-long-sidecar-token".into())).await
}
