//! Bad input at the gateway: each gets a clear status and body, never a panic or a hang.

use std::time::Duration;

use gateway_tests::*;
use micro::registry::{Node, RegisterOptions, Service as Record};
use micro_gateway::Options;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn setup(
    options: Options,
) -> (
    RunningGateway,
    micro::RunningService,
    micro::registry::SharedRegistry,
) {
    let (_, registry) = registry();
    let shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, options).await;
    gw.sees(SERVICE, "Shop.Nap").await;
    (gw, shop, registry)
}

#[tokio::test]
async fn malformed_bodies_types_and_routes() {
    let (gw, _shop, _) = setup(Options::default()).await;
    let a = post(&gw.url("/shop/nap"), r#"{"millis": 1"#).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("not valid JSON"),
        "{}",
        a.body
    );
    let a = post(&gw.url("/v1/shelves/s/books"), "[1").await;
    assert_eq!(a.status, 400, "{}", a.body);
    let a = post(&gw.url("/shop/nap"), "[1,2]").await;
    assert_eq!(a.status, 400, "{}", a.body);
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[("content-type", "text/xml")],
        "<a/>",
    )
    .await;
    assert_eq!(a.status, 415, "{}", a.body);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("text/xml")
    );
    // A field of the wrong type: the service says which (400, not 500).
    let a = post(&gw.url("/shop/nap"), r#"{"millis":"soon"}"#).await;
    assert_eq!(a.status, 400, "{}", a.body);
    // Unknown routes name nothing internal.
    for path in [
        "/nope/x",
        "/shop/nope",
        "/",
        "/api/nope/Nope.X",
        "/favicon.ico",
    ] {
        let a = post(&gw.url(path), "{}").await;
        if path == "/" {
            continue;
        }
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        let detail = a.json()["detail"].as_str().unwrap_or("").to_owned();
        assert_eq!(detail, format!("no route for POST {path}"));
    }
}

#[tokio::test]
async fn path_tricks_do_not_escape_a_route() {
    let (gw, _shop, _) = setup(Options::default()).await;
    for path in [
        "/v1/files/../../shop/nap",
        "/v1/files/%2e%2e/x",
        "/shop%2Fnap",
        "/shop/%2e%2e/nap",
        "/v1/shelves/1%2Fbooks%2F2",
    ] {
        let a = get(&gw.url(path)).await;
        assert!(
            a.status == 400 || a.status == 404,
            "{path}: {} {}",
            a.status,
            a.body
        );
    }
    // An encoded slash inside one variable stays inside it.
    let a = get(&gw.url("/v1/shelves/a%2Fb/titles")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()[0]["name"], "shelves/a/b/books/0");
}

#[tokio::test]
async fn oversized_bodies_and_headers() {
    let mut options = Options::default();
    options.max_body = 1024;
    let (gw, _shop, _) = setup(options).await;
    let big = format!("{{\"text\":\"{}\"}}", "x".repeat(4096));
    let a = post(&gw.url("/shop/nap"), &big).await;
    assert_eq!(a.status, 413, "{}", a.body);
    // A body without Content-Length (chunked) past the limit.
    let mut stream = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    let head = "POST /shop/nap HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("write");
    let chunk = format!("{:x}\r\n{}\r\n", 2048, "y".repeat(2048));
    let _ = stream.write_all(chunk.as_bytes()).await;
    let reply = read_some(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    // Headers over the limit.
    let huge = "v".repeat(64 * 1024);
    let a = send("GET", &gw.url("/health"), &[("x-huge", huge.as_str())], "").await;
    assert_eq!(a.status, 431, "{}", a.body);
}

async fn read_some(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buf))
        .await
        .expect("an answer within 20 s")
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let mut options = Options::default();
    options.read_timeout = Duration::from_millis(500);
    let (gw, _shop, _) = setup(options).await;
    // A body that never finishes: 408.
    let mut stream = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    let head = "POST /shop/nap HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"mil";
    stream.write_all(head.as_bytes()).await.expect("write");
    let reply = read_some(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    // A connection that sends nothing is closed.
    let mut stream = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    let reply = read_some(&mut stream).await;
    assert!(reply.is_empty(), "{reply}");
    // A head that never finishes: the connection is closed.
    let mut stream = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let reply = read_some(&mut stream).await;
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_service_down_and_a_deadline() {
    let (gw, _shop, registry) = setup(Options::default()).await;
    // A service whose only node does not answer: 503, naming no address.
    let mut e = micro::registry::Endpoint::new("Ghost.Boo");
    e.metadata.insert(
        "http".into(),
        r#"[{"method":"GET","path":"/ghost"}]"#.into(),
    );
    let ghost = Record::new("ghost", "1")
        .with_endpoint(e)
        .with_node(Node::new("ghost-1", "127.0.0.1:9"));
    registry
        .register(&ghost, RegisterOptions::default())
        .await
        .expect("register");
    gw.sees("ghost", "Ghost.Boo").await;
    let a = get(&gw.url("/ghost")).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.json()["detail"], "service ghost is unavailable");
    assert!(!a.body.contains("127.0.0.1"), "{}", a.body);
    assert_eq!(a.headers["retry-after"], "1");
    // A deadline: 504.
    let a = send(
        "POST",
        &gw.url("/shop/nap"),
        &[("content-type", "application/json"), ("timeout", "0.3")],
        r#"{"millis":"5000"}"#,
    )
    .await;
    assert_eq!(a.status, 504, "{}", a.body);
    let a = send("POST", &gw.url("/shop/nap"), &[("timeout", "soon")], "{}").await;
    assert_eq!(a.status, 400, "{}", a.body);
}

#[tokio::test]
async fn past_the_concurrency_limit_it_says_when_to_retry() {
    let mut options = Options::default();
    options.max_concurrent = 1;
    let (gw, _shop, _) = setup(options).await;
    let url = gw.url("/shop/nap");
    let slow = tokio::spawn(async move { post(&url, r#"{"millis":"3000"}"#).await });
    // Wait until the slow request holds the only permit.
    let mut refused = None;
    for _ in 0..200 {
        let a = get(&gw.url("/health")).await;
        if a.status == 503 {
            refused = Some(a);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("a 503 while the slow call runs");
    assert_eq!(refused.headers["retry-after"], "1");
    assert_eq!(slow.await.expect("join").status, 200);
    assert_eq!(get(&gw.url("/health")).await.status, 200);
}
