//! The api, event, http and web handlers and /rpc, against real services, a real broker
//! subscriber and a real HTTP service found in the registry.

use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use futures_util::{SinkExt, StreamExt};
use gateway_tests::*;
use micro::broker::{Broker, MemoryBroker, SubscribeOptions};
use micro::registry::{Node, RegisterOptions, Service as Record};
use micro_gateway::{HandlerKind, Options};

#[tokio::test]
async fn api_handler_hands_over_the_whole_request() {
    let (_, registry) = registry();
    // A service that answers micro.api.Response from micro.api.Request.
    let router = micro::server::Router::new().route(micro::server::Route::raw(
        "Orders.Create",
        |_ctx, _format, body: bytes::Bytes| async move {
            let req: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| micro::Error::bad_request("orders", e.to_string()))?;
            let text = format!(
                "{} {} id={} tag={} body={}",
                req["method"].as_str().unwrap_or(""),
                req["path"].as_str().unwrap_or(""),
                req["get"]["id"]["values"][0].as_str().unwrap_or(""),
                req["header"]["X-Tag"]["values"][0].as_str().unwrap_or(""),
                req["body"].as_str().unwrap_or(""),
            );
            let rsp = serde_json::json!({
                "statusCode": 201,
                "header": {"X-Made-By": {"key": "X-Made-By", "values": ["orders"]}},
                "body": text,
            });
            Ok(bytes::Bytes::from(rsp.to_string()))
        },
    ));
    let _orders = micro::Service::builder("go.micro.api.orders")
        .ignore_env()
        .registry(registry.clone())
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .handler(router)
        .build()
        .expect("build")
        .start()
        .await
        .expect("start");
    let mut options = Options::default();
    options.handler = HandlerKind::Api;
    options.namespace = "go.micro.api".into();
    let gw = start_gateway(&registry, options).await;
    gw.sees("go.micro.api.orders", "Orders.Create").await;
    let a = send(
        "PUT",
        &gw.url("/orders/create?id=42"),
        &[("x-tag", "t1"), ("content-type", "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.headers["x-made-by"], "orders");
    assert_eq!(a.body, "PUT /orders/create id=42 tag=t1 body=hello");
}

#[tokio::test]
async fn event_handler_publishes_to_a_real_subscriber() {
    let (_, registry) = registry();
    let broker = MemoryBroker::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _sub = broker
        .subscribe(
            "go.micro.api.orders",
            micro::broker::handler(move |event: micro::broker::Event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event.message().body.clone());
                    Ok(())
                }
            }),
            SubscribeOptions::default(),
        )
        .await
        .expect("subscribe");
    let mut options = Options::default();
    options.handler = HandlerKind::Event;
    options.namespace = "go.micro.api".into();
    let gateway = micro_gateway::Gateway::new(micro::Client::new(registry.clone()), options)
        .with_broker(std::sync::Arc::new(broker));
    let gw = serve(gateway).await;
    let a = post(&gw.url("/orders/created/eu"), r#"{"id":7}"#).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["topic"], "go.micro.api.orders");
    let body = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the event within 10 s")
        .expect("an event");
    let event: serde_json::Value = serde_json::from_slice(&body).expect("event JSON");
    assert_eq!(event["name"], "created.eu");
    assert_eq!(event["data"], r#"{"id":7}"#);
    assert_eq!(event["id"], a.json()["id"]);
    assert!(
        event["timestamp"]
            .as_str()
            .is_some_and(|t| t.parse::<u64>().is_ok())
    );
    assert_eq!(
        event["header"]["Content-Type"]["values"][0],
        "application/json"
    );
}

/// A small HTTP service: echoes the path and the forwarded host, and a websocket echo.
async fn blog() -> std::net::SocketAddr {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/blog/ws",
            get(|ws: WebSocketUpgrade| async move {
                ws.on_upgrade(|mut socket| async move {
                    while let Some(Ok(msg)) = socket.next().await {
                        if let WsMessage::Text(t) = msg {
                            let _ = socket
                                .send(WsMessage::Text(format!("echo {}", t.as_str()).into()))
                                .await;
                        }
                    }
                })
            }),
        )
        .route(
            "/blog/headers",
            get(|h: axum::http::HeaderMap| async move {
                let v = |k: &str| {
                    h.get(k)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned()
                };
                format!(
                    "auth={} xff={} proto={} real={}",
                    v("authorization"),
                    v("x-forwarded-for"),
                    v("x-forwarded-proto"),
                    v("x-real-ip")
                )
            }),
        )
        .fallback(|req: axum::extract::Request| async move {
            let host = req
                .headers()
                .get("x-forwarded-host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned();
            format!("{} {} via {host}", req.method(), req.uri())
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test]
async fn http_and_web_handlers_proxy_to_services_in_the_registry() {
    let (_, registry) = registry();
    let addr = blog().await;
    let record =
        Record::new("go.micro.api.blog", "1").with_node(Node::new("blog-1", addr.to_string()));
    registry
        .register(&record, RegisterOptions::default())
        .await
        .expect("register");
    let mut options = Options::default();
    options.handler = HandlerKind::Web;
    options.namespace = "go.micro.api".into();
    let gw = start_gateway(&registry, options).await;
    let a = get(&gw.url("/blog/posts/1?x=y")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, format!("GET /blog/posts/1?x=y via {}", gw.addr));
    // Credentials stay at the gateway; forwarding headers are the gateway's own.
    let a = send(
        "GET",
        &gw.url("/blog/headers"),
        &[
            ("authorization", "Bearer secret"),
            ("x-forwarded-for", "10.9.9.9"),
            ("x-real-ip", "10.9.9.9"),
        ],
        "",
    )
    .await;
    assert_eq!(
        a.body, "auth=- xff=127.0.0.1 proto=http real=-",
        "{}",
        a.body
    );
    // A service that is not registered.
    let a = get(&gw.url("/nothing/here")).await;
    assert_eq!(a.status, 404, "{}", a.body);
    // A websocket through the web handler.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/blog/ws", gw.addr))
        .await
        .expect("websocket through the gateway");
    ws.send(tokio_tungstenite::tungstenite::Message::Text("hi".into()))
        .await
        .expect("send");
    let got = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("an answer within 10 s")
        .expect("a frame")
        .expect("a good frame");
    assert_eq!(got.into_text().expect("text").as_str(), "echo hi");

    // The http handler does not upgrade.
    let mut options = Options::default();
    options.handler = HandlerKind::Http;
    options.namespace = "go.micro.api".into();
    let gw = start_gateway(&registry, options).await;
    let a = send(
        "POST",
        &gw.url("/blog/new"),
        &[("content-type", "text/plain")],
        "x",
    )
    .await;
    assert_eq!(
        a.body,
        format!("POST /blog/new via {}", gw.addr),
        "{}",
        a.body
    );
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{}/blog/ws", gw.addr))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn rpc_endpoint_is_off_by_default_and_refuses_addresses() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, Options::default()).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    let call = r#"{"service":"shop","endpoint":"Shop.Nap","request":{"millis":"1"}}"#;
    assert_eq!(post(&gw.url("/rpc"), call).await.status, 404);

    let mut options = Options::default();
    options.enable_rpc = true;
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    let a = post(&gw.url("/rpc"), call).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["text"], "awake");
    // method instead of endpoint, request as a JSON string, form fields.
    let a = post(
        &gw.url("/rpc"),
        r#"{"service":"shop","method":"Shop.Nap","request":"{\"millis\":\"2\"}"}"#,
    )
    .await;
    assert_eq!(a.json()["n"], "2", "{}", a.body);
    let a = send(
        "POST",
        &gw.url("/rpc"),
        &[("content-type", "application/x-www-form-urlencoded")],
        "service=shop&endpoint=Shop.Nap&request=%7B%22millis%22%3A%223%22%7D",
    )
    .await;
    assert_eq!(a.json()["n"], "3", "{}", a.body);
    // A caller-chosen address is refused.
    let a = post(
        &gw.url("/rpc"),
        r#"{"service":"shop","endpoint":"Shop.Nap","address":"10.0.0.1:80","request":{}}"#,
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    // The Timeout header, in seconds.
    let a = send(
        "POST",
        &gw.url("/rpc"),
        &[("content-type", "application/json"), ("timeout", "0.2")],
        r#"{"service":"shop","endpoint":"Shop.Nap","request":{"millis":"5000"}}"#,
    )
    .await;
    assert_eq!(a.status, 504, "{}", a.body);
    assert_eq!(send("GET", &gw.url("/rpc"), &[], "").await.status, 405);
}

#[tokio::test]
async fn sensitive_headers_stay_at_the_gateway_unless_configured() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, Options::default()).await;
    gw.sees(SERVICE, "Shop.Headers").await;
    let headers = [
        ("content-type", "application/json"),
        ("x-request-id", "r-1"),
        ("authorization", "Bearer secret"),
        ("cookie", "s=1"),
    ];
    let a = send("POST", &gw.url("/shop/headers"), &headers, "{}").await;
    assert_eq!(a.json()["text"], "x-request-id=r-1", "{}", a.body);
    let mut options = Options::default();
    options.forward_headers = vec!["authorization".into()];
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Headers").await;
    let a = send("POST", &gw.url("/shop/headers"), &headers, "{}").await;
    assert_eq!(
        a.json()["text"],
        "x-request-id=r-1;authorization=Bearer secret",
        "{}",
        a.body
    );
}

#[tokio::test]
async fn health_index_and_cors() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let mut options = Options::default();
    options.cors_origins = vec!["https://app.example".into()];
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    let a = get(&gw.url("/health")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["status"], "ok");
    assert!(get(&gw.url("/")).await.json()["version"].is_string());
    // A preflight from the allowed origin, and from another.
    let pre = [
        ("origin", "https://app.example"),
        ("access-control-request-method", "POST"),
    ];
    let a = send("OPTIONS", &gw.url("/shop/nap"), &pre, "").await;
    assert_eq!(a.status, 204);
    assert_eq!(
        a.headers["access-control-allow-origin"],
        "https://app.example"
    );
    let a = send(
        "OPTIONS",
        &gw.url("/shop/nap"),
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        "",
    )
    .await;
    assert!(a.headers.get("access-control-allow-origin").is_none());
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[
            ("origin", "https://app.example"),
            ("content-type", "application/json"),
        ],
        "{}",
    )
    .await;
    assert_eq!(
        a.headers["access-control-allow-origin"],
        "https://app.example"
    );
    // Without configured origins, no CORS headers at all.
    let gw = start_gateway(&registry, Options::default()).await;
    let a = send("OPTIONS", &gw.url("/shop/nap"), &pre, "").await;
    assert!(a.headers.get("access-control-allow-origin").is_none());
}

/// With metrics on, the gateway answers `/metrics` with its calls to services, by node (and
/// without the option it does not: its port is public).
#[tokio::test]
async fn metrics_count_the_gateways_calls_by_node() {
    micro::metrics::enable();
    let (_, registry) = registry();
    let shop = start_shop(&registry).await;
    let mut options = Options::default();
    options.metrics = true;
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    for _ in 0..3 {
        let a = post(&gw.url("/shop/nap"), r#"{"millis":"1"}"#).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let a = get(&gw.url("/metrics")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.headers[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        a.headers
    );
    let line = format!(
        r#"micro_client_requests_total{{service="{SERVICE}",endpoint="Shop.Nap",node="{}",status="OK"}} 3"#,
        shop.node().address
    );
    assert!(a.body.contains(&line), "{line} missing from:\n{}", a.body);
    let quiet = start_gateway(&registry, Options::default()).await;
    let a = get(&quiet.url("/metrics")).await;
    assert!(!a.body.contains("micro_client_requests"), "{}", a.body);
}
