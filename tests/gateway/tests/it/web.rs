//! The dashboard's JSON API end to end (`micro web`'s router on a socket, the shop service,
//! a memory broker and store): services live, a service in full, calls and streams, events,
//! the store, the guard (host check, CSRF, Origin, the token wall) and the web proxy.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gateway_tests::*;
use micro::registry::SharedRegistry;
use tokio_tungstenite::tungstenite::Message;

/// A dashboard serving on 127.0.0.1:0; stops when dropped.
struct Dash {
    addr: std::net::SocketAddr,
    csrf: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Dash {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn post(&self, path: &str, json: &str) -> Answer {
        send(
            "POST",
            &self.url(path),
            &[
                ("content-type", "application/json"),
                ("x-micro-csrf", &self.csrf),
            ],
            json.to_owned(),
        )
        .await
    }
}

async fn start_dash(registry: &SharedRegistry, token: Option<&str>, loopback: bool) -> Dash {
    let client = micro::Client::new(registry.clone());
    let mut options = micro_web::Options::default();
    options.loopback = loopback;
    options.token = token.map(str::to_owned);
    options.broker = Some(Arc::new(micro::broker::MemoryBroker::new()));
    options.store = Some(
        micro::store::Store::new(micro::store::MemoryStore::new(), "micro", "micro")
            .expect("a memory store"),
    );
    let web = micro_web::Web::new(client.clone(), options);
    let proxy = web.proxy_options();
    let gateway = micro_gateway::Gateway::new(client, proxy.clone());
    let router = web.standalone(&gateway);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = micro_gateway::serve_router(router, &proxy, listener, None, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let mut dash = Dash {
        addr,
        csrf: String::new(),
        _stop: stop,
    };
    if token.is_none() {
        let session = get(&dash.url("/_/api/session")).await.json();
        dash.csrf = session["csrf"].as_str().expect("a csrf token").to_owned();
    }
    dash
}

/// Wait (30 s at most) until the services summary satisfies `ok`.
async fn summary_until(dash: &Dash, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..300 {
        last = get(&dash.url("/_/api/services")).await.json();
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the summary never got there: {last}");
}

fn shop_nodes(summary: &serde_json::Value) -> u64 {
    summary["services"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == SERVICE)
        .and_then(|s| s["nodes"].as_u64())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_page_its_files_and_the_services_live() {
    let (_, registry) = registry();
    let dash = start_dash(&registry, None, true).await;
    let page = get(&dash.url("/")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<base href=\"/_/\">"), "{}", page.body);
    assert_eq!(get(&dash.url("/_/")).await.body, page.body);
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .is_ok_and(|c| c.contains("default-src 'self'"))
    );
    let script = get(&dash.url("/_/assets/js/main.js")).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers["etag"].to_str().expect("etag").to_owned();
    let again = send(
        "GET",
        &dash.url("/_/assets/js/main.js"),
        &[("if-none-match", &etag)],
        "",
    )
    .await;
    assert_eq!(again.status, 304);
    assert_eq!(get(&dash.url("/_/nothing")).await.status, 404);

    // Two nodes arrive; the summary and the event stream say so.
    let one = start_shop(&registry).await;
    let two = start_shop(&registry).await;
    let summary = summary_until(&dash, |s| shop_nodes(s) == 2).await;
    assert_eq!(summary["counts"]["services"], 1);
    let shop = &summary["services"][0];
    assert_eq!(shop["versions"], serde_json::json!(["latest"]));
    assert!(shop["endpoints"].as_u64() >= Some(10), "{shop}");

    // The watch stream: the summary at once, then the change when a node leaves.
    let client = reqwest_like_stream(&dash.url("/_/api/watch")).await;
    let mut events = client;
    let first = next_event(&mut events, "services").await;
    assert_eq!(shop_nodes(&first), 2);
    one.stop().await.expect("stop a node");
    let after = loop {
        let e = next_event(&mut events, "services").await;
        if shop_nodes(&e) == 1 {
            break e;
        }
    };
    assert_eq!(after["counts"]["nodes"], 1);
    // While a page watches, the nodes' health is probed and shows in the summary.
    let healthy = summary_until(&dash, |s| s["services"][0]["health"] == "serving").await;
    assert_eq!(healthy["services"][0]["nodes"], 1);
    drop(two);
}

/// An open server-sent events response, read frame by frame.
type Events = http_body_util::BodyDataStream<hyper::body::Incoming>;

async fn reqwest_like_stream(url: &str) -> Events {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let rsp = client
        .get(url.parse().expect("a URL"))
        .await
        .expect("the event stream");
    assert_eq!(rsp.status(), 200);
    assert_eq!(rsp.headers()["content-type"], "text/event-stream");
    rsp.into_body().into_data_stream()
}

/// The data of the next event named `name` (30 s at most).
async fn next_event(events: &mut Events, name: &str) -> serde_json::Value {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            let event = frame.lines().find_map(|l| l.strip_prefix("event: "));
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
            if event == Some(name)
                && let Some(data) = data
            {
                return serde_json::from_str(data).expect("event data is JSON");
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("no {name} event within 30 s: {text}"))
            .expect("the stream goes on")
            .expect("a chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_service_in_full_and_calls_with_their_outcome() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let dash = start_dash(&registry, None, true).await;
    summary_until(&dash, |s| shop_nodes(s) == 1).await;
    let svc = get(&dash.url("/_/api/services/shop")).await.json();
    let version = &svc["versions"][0];
    assert_eq!(version["nodes"][0]["health"], "SERVING", "{svc}");
    let endpoints = version["endpoints"].as_array().expect("endpoints");
    let get_book = endpoints
        .iter()
        .find(|e| e["name"] == "Shop.GetBook")
        .expect("Shop.GetBook");
    assert_eq!(get_book["request"]["values"][0]["name"], "name");
    assert_eq!(get_book["http"][0]["method"], "GET", "{get_book}");
    let count = endpoints
        .iter()
        .find(|e| e["name"] == "Shop.Count")
        .expect("Count");
    assert_eq!(count["stream"], "server");
    // The enum's values, from the service's reflection.
    assert_eq!(
        svc["enums"]["gateway.shop.Genre"][1], "GENRE_NOVEL",
        "{}",
        svc["enums"]
    );
    assert_eq!(get(&dash.url("/_/api/services/nope")).await.status, 404);

    // A call: the reply with its node and time.
    let node = version["nodes"][0]["address"].as_str().expect("address");
    let body = serde_json::json!({
        "service": "shop", "endpoint": "Shop.GetBook", "request": {"name": "dune", "full": true},
        "metadata": {"X-Request-Id": "r1"}, "address": node, "timeout": 5,
    });
    let a = dash.post("/_/api/call", &body.to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let out = a.json();
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(out["message"]["title"], "Title of dune");
    assert_eq!(out["message"]["author"]["first"], "Ada");
    assert_eq!(out["node"]["address"], node);
    assert!(out["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    // Metadata goes with the call.
    let echo = dash
        .post(
            "/_/api/call",
            r#"{"service":"shop","endpoint":"Shop.Headers","metadata":{"X-Request-Id":"abc"}}"#,
        )
        .await
        .json();
    assert_eq!(echo["message"]["text"], "x-request-id=abc", "{echo}");
    // The service's error, with go-micro's fields.
    let failed = dash
        .post(
            "/_/api/call",
            r#"{"service":"shop","endpoint":"Shop.GetBook","request":{"name":"a/missing"}}"#,
        )
        .await
        .json();
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"]["code"], 404);
    assert_eq!(failed["error"]["detail"], "a/missing does not exist");
    assert_eq!(failed["error"]["id"], "shop");
    // A service that is not there: still an outcome, naming it.
    let gone = dash
        .post(
            "/_/api/call",
            r#"{"service":"ghost","endpoint":"Ghost.Boo"}"#,
        )
        .await
        .json();
    assert_eq!(gone["ok"], false);
    assert!(
        gone["error"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ghost")),
        "{gone}"
    );
}

#[tokio::test]
async fn bad_calls_are_400s_that_say_what() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let dash = start_dash(&registry, None, true).await;
    let cases = [
        ("{nope", "api/call takes"),
        (r#"{"service":"shop"}"#, "api/call takes"),
        (
            r#"{"service":"","endpoint":"Shop.GetBook"}"#,
            "name the service",
        ),
        (
            r#"{"service":"shop","endpoint":"Shop.GetBook","request":[1]}"#,
            "JSON object",
        ),
        (
            r#"{"service":"shop","endpoint":"Shop.GetBook","timeout":-1}"#,
            "between 0 and 3600",
        ),
        (
            r#"{"service":"shop","endpoint":"Shop.GetBook","address":"198.51.100.7:1"}"#,
            "not a node of shop",
        ),
    ];
    for (body, says) in cases {
        let a = dash.post("/_/api/call", body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        let detail = a.json()["error"]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(detail.contains(says), "{body}: {detail}");
    }
}

async fn ws(
    dash: &Dash,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/_/api/stream", dash.addr),
    )
    .expect("request");
    req.headers_mut().insert(
        "origin",
        format!("http://{}", dash.addr).parse().expect("origin"),
    );
    let (socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    socket
}

async fn texts(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
        match m {
            Message::Text(t) => out.push(t.to_string()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn streams_run_over_the_websocket_after_a_setup_frame() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let dash = start_dash(&registry, None, true).await;
    summary_until(&dash, |s| shop_nodes(s) == 1).await;
    // A server stream: setup, one request, an empty frame.
    let mut socket = ws(&dash).await;
    let setup = serde_json::json!({"csrf": dash.csrf, "service": "shop", "endpoint": "Shop.Count"});
    socket
        .send(Message::text(setup.to_string()))
        .await
        .expect("setup");
    socket
        .send(Message::text(r#"{"text":"x","n":3}"#))
        .await
        .expect("request");
    socket.send(Message::text("")).await.expect("end");
    let got = texts(&mut socket).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[2].contains("x#3"), "{got:?}");
    // Bidirectional: each message answered as it goes.
    let mut socket = ws(&dash).await;
    let setup = serde_json::json!({"csrf": dash.csrf, "service": "shop", "endpoint": "Shop.Chat"});
    socket
        .send(Message::text(setup.to_string()))
        .await
        .expect("setup");
    socket
        .send(Message::text(r#"{"text":"hi"}"#))
        .await
        .expect("send");
    let reply = tokio::time::timeout(Duration::from_secs(30), socket.next())
        .await
        .expect("a reply in time")
        .expect("open")
        .expect("a frame");
    assert!(
        reply.to_text().is_ok_and(|t| t.contains("re: hi")),
        "{reply:?}"
    );
    socket.send(Message::text("")).await.expect("end");
    assert!(texts(&mut socket).await.is_empty());
    // A setup without the page's token is refused with a reason.
    let mut socket = ws(&dash).await;
    socket
        .send(Message::text(
            r#"{"service":"shop","endpoint":"Shop.Count"}"#,
        ))
        .await
        .expect("setup");
    let got = texts(&mut socket).await;
    assert!(
        got.first()
            .is_some_and(|t| t.contains("csrf") && t.contains("403")),
        "{got:?}"
    );
    // Another site's page cannot open one at all.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/_/api/stream", dash.addr),
    )
    .expect("request");
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().expect("origin"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(rsp)) => assert_eq!(rsp.status(), 403),
        other => panic!("a cross-site websocket was not refused: {other:?}"),
    }
}

#[tokio::test]
async fn events_published_reach_a_page_watching_the_topic() {
    let (_, registry) = registry();
    let dash = start_dash(&registry, None, true).await;
    let mut events = reqwest_like_stream(&dash.url("/_/api/topics/orders/watch")).await;
    // The subscription is made before the answer starts; publish, then read.
    let a = dash
        .post(
            "/_/api/publish",
            r#"{"topic":"orders","message":{"id":7,"note":"<script>"},"metadata":{"X-Who":"ada"}}"#,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["ok"], true);
    let seen = next_event(&mut events, "message").await;
    assert_eq!(seen["topic"], "orders");
    assert_eq!(seen["body"]["id"], 7);
    assert_eq!(seen["body"]["note"], "<script>");
    assert_eq!(seen["headers"]["x-who"], "ada");
    let bad = dash
        .post("/_/api/publish", r#"{"topic":"","message":{}}"#)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn the_store_browser_pages_reads_writes_and_deletes() {
    let (_, registry) = registry();
    let dash = start_dash(&registry, None, true).await;
    for i in 0..5 {
        let body = serde_json::json!({"table": "carts", "key": format!("user/{i}"), "value": format!("v{i}")});
        let a = send(
            "PUT",
            &dash.url("/_/api/store/record"),
            &[
                ("content-type", "application/json"),
                ("x-micro-csrf", &dash.csrf),
            ],
            body.to_string(),
        )
        .await;
        assert_eq!(a.status, 204, "{}", a.body);
    }
    let page = get(&dash.url("/_/api/store?table=carts&prefix=user/&limit=2&offset=2"))
        .await
        .json();
    assert_eq!(page["keys"], serde_json::json!(["user/2", "user/3"]));
    assert_eq!(page["more"], true);
    let last = get(&dash.url("/_/api/store?table=carts&prefix=user/&limit=2&offset=4"))
        .await
        .json();
    assert_eq!(last["more"], false);
    let record = get(&dash.url("/_/api/store/record?table=carts&key=user/1"))
        .await
        .json();
    assert_eq!(record["value"], "v1");
    let gone = send(
        "DELETE",
        &dash.url("/_/api/store/record?table=carts&key=user/1"),
        &[("x-micro-csrf", &dash.csrf)],
        "",
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        get(&dash.url("/_/api/store/record?table=carts&key=user/1"))
            .await
            .status,
        404
    );
    assert_eq!(get(&dash.url("/_/api/store?table=")).await.status, 400);
}

#[tokio::test]
async fn the_guard_checks_host_csrf_origin_and_token() {
    let (_, registry) = registry();
    // Loopback: a page reached through another host name is refused (DNS rebinding).
    let dash = start_dash(&registry, None, true).await;
    let a = send(
        "GET",
        &dash.url("/_/api/services"),
        &[("host", "evil.example")],
        "",
    )
    .await;
    assert_eq!(a.status, 421, "{}", a.body);
    // A change without the page's token, or from another site's page.
    let a = send(
        "POST",
        &dash.url("/_/api/publish"),
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("X-Micro-Csrf"), "{}", a.body);
    let a = send(
        "POST",
        &dash.url("/_/api/publish"),
        &[
            ("content-type", "application/json"),
            ("x-micro-csrf", &dash.csrf),
            ("origin", "http://evil.example"),
        ],
        r#"{"topic":"t","message":{}}"#,
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);

    // With a token: only the page, its files, the session and the login are open.
    let token = "0123456789abcdef0123456789abcdef";
    let dash = start_dash(&registry, Some(token), false).await;
    let session = get(&dash.url("/_/api/session")).await.json();
    assert_eq!(session["token_required"], true);
    assert_eq!(session["authenticated"], false);
    assert!(session.get("csrf").is_none(), "{session}");
    assert_eq!(get(&dash.url("/")).await.status, 200);
    assert_eq!(get(&dash.url("/_/assets/app.css")).await.status, 200);
    let a = get(&dash.url("/_/api/services")).await;
    assert_eq!(a.status, 401);
    assert_eq!(get(&dash.url("/chat/")).await.status, 401);
    let wrong = send(
        "POST",
        &dash.url("/_/api/login"),
        &[("content-type", "application/json")],
        r#"{"token":"guess"}"#,
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.headers.get("set-cookie").is_none());
    let right = send(
        "POST",
        &dash.url("/_/api/login"),
        &[("content-type", "application/json")],
        format!(r#"{{"token":"{token}"}}"#),
    )
    .await;
    assert_eq!(right.status, 204, "{}", right.body);
    let cookie = right.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value");
    assert!(!pair.contains(token), "the cookie is not the token itself");
    let a = send("GET", &dash.url("/_/api/services"), &[("cookie", pair)], "").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let session = send("GET", &dash.url("/_/api/session"), &[("cookie", pair)], "")
        .await
        .json();
    assert_eq!(session["authenticated"], true);
    assert!(session["csrf"].as_str().is_some_and(|c| c.len() == 64));
    let bearer = format!("Bearer {token}");
    let a = send(
        "GET",
        &dash.url("/_/api/services"),
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(a.status, 200);
    // A sign-in from another site's page is refused; signing out ends the session.
    let foreign = send(
        "POST",
        &dash.url("/_/api/login"),
        &[
            ("content-type", "application/json"),
            ("origin", "http://evil.example"),
        ],
        format!(r#"{{"token":"{token}"}}"#),
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let csrf = session["csrf"].as_str().expect("csrf").to_owned();
    let out = send(
        "POST",
        &dash.url("/_/api/logout"),
        &[("cookie", pair), ("x-micro-csrf", &csrf)],
        "",
    )
    .await;
    assert_eq!(out.status, 204, "{}", out.body);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .is_ok_and(|c| c.contains("Max-Age=0"))
    );
    let a = send("GET", &dash.url("/_/api/services"), &[("cookie", pair)], "").await;
    assert_eq!(a.status, 401, "the session ended");
}

#[tokio::test]
async fn web_apps_are_proxied_under_their_name_with_the_base_path() {
    use axum::routing::get as route_get;
    let (_, registry) = registry();
    // A web app: answers with the path it saw and the base path header.
    let app = axum::Router::new().fallback(route_get(|req: axum::extract::Request| async move {
        let base = req
            .headers()
            .get("x-micro-web-base-path")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let cookie = req
            .headers()
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        format!("{} {base} cookie={cookie}", req.uri())
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let record = micro::registry::Service::new("micro.web.chat", "latest")
        .with_node(micro::registry::Node::new("chat-1", addr.to_string()));
    registry
        .register(&record, micro::registry::RegisterOptions::default())
        .await
        .expect("register the app");
    let dash = start_dash(&registry, None, true).await;
    let summary = summary_until(&dash, |s| {
        s["web"].as_array().is_some_and(|w| !w.is_empty())
    })
    .await;
    assert_eq!(summary["web"][0]["path"], "/chat/");
    let a = get(&dash.url("/chat/room/1?x=2")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, "/room/1?x=2 /chat cookie=-");
    // Paths whose service segments cannot be stripped name no app.
    assert_eq!(get(&dash.url("//chat/x")).await.status, 404);
    assert_eq!(get(&dash.url("/v2/")).await.status, 404);
    // The app gets its own cookies, never the dashboard's session.
    let a = send(
        "GET",
        &dash.url("/chat/"),
        &[("cookie", "micro_web_session=secret; app=1")],
        "",
    )
    .await;
    assert_eq!(a.body, "/ /chat cookie=app=1");
    let a = get(&dash.url("/chat?x=1")).await;
    assert_eq!(a.status, 308);
    assert_eq!(a.headers["location"], "/chat/?x=1");
    assert_eq!(get(&dash.url("/nothing/")).await.status, 404);
}

#[tokio::test]
async fn the_api_is_described_in_openapi() {
    let (_, registry) = registry();
    let dash = start_dash(&registry, None, true).await;
    let doc = get(&dash.url("/_/api/openapi.json")).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/_/api/call"]["post"].is_object());
    // Mounted in the gateway, the paths join the gateway's document.
    let mut options = micro_gateway::Options::default();
    options.openapi_paths = Some(Arc::new(micro_web::openapi::paths("/_")));
    let gw = start_gateway(&registry, options).await;
    let doc = get(&gw.url("/openapi.json")).await.json();
    assert!(doc["paths"]["/_/api/services"]["get"].is_object(), "{doc}");
}

#[tokio::test]
async fn mounted_in_the_gateway_the_dashboard_guards_only_its_own_paths() {
    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let client = micro::Client::new(registry.clone());
    let mut options = micro_web::Options::default();
    options.token = Some("0123456789abcdef0123456789abcdef".into());
    let web = micro_web::Web::new(client.clone(), options);
    let gateway = micro_gateway::Gateway::new(client, micro_gateway::Options::default());
    let router = web.mounted(&gateway);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = gateway.options().clone();
    tokio::spawn(async move {
        let _ = micro_gateway::serve_router(router, &options, listener, None, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let url = |p: &str| format!("http://{addr}{p}");
    // The page is at /_/, its API behind the token; the gateway's routes are as they were.
    let page = get(&url("/_/")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<base href=\"/_/\">"));
    assert_eq!(get(&url("/_/api/services")).await.status, 401);
    for _ in 0..300 {
        if gateway.table().endpoint(SERVICE, "Shop.GetBook").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = post(&url("/api/shop/Shop.GetBook"), r#"{"name":"dune"}"#).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["title"], "Title of dune");
    assert_eq!(get(&url("/health")).await.status, 200);
    assert!(
        get(&url("/")).await.body.contains("version"),
        "the gateway's own index stays"
    );
}
