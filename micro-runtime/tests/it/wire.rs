//! The wire seen by a client that is not micro's: raw HTTP/2 requests.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use micro_runtime::registry::MemoryRegistry;

use crate::support::{self, Echo};

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub trailers: Option<HeaderMap>,
    pub body: Bytes,
    pub elapsed: Duration,
}

impl RawResponse {
    /// grpc-status from trailers, or from headers for a trailers-only response.
    pub fn grpc_status(&self) -> Option<i32> {
        self.trailers
            .as_ref()
            .and_then(|t| t.get("grpc-status"))
            .or_else(|| self.headers.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }
}

pub fn frame(payload: &[u8]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_u8(0);
    b.put_u32(payload.len() as u32);
    b.put_slice(payload);
    b.freeze()
}

pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> RawResponse {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut tx, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("content-type", content_type)
        .header("te", "trailers");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let started = Instant::now();
    let rsp = tx
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = rsp.status().as_u16();
    let headers = rsp.headers().clone();
    let collected = rsp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    RawResponse {
        status,
        headers,
        trailers,
        body: collected.to_bytes(),
        elapsed: started.elapsed(),
    }
}

pub async fn post(
    addr: &str,
    path: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> RawResponse {
    request(addr, "POST", path, content_type, headers, body).await
}

#[tokio::test]
async fn a_plain_grpc_request_is_served() {
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let addr = &node.node().address;
    let body = frame(&prost::Message::encode_to_vec(&Echo::text("stock")));
    let rsp = post(addr, "/test.echo.Echo/Call", "application/grpc", &[], body).await;
    assert_eq!(rsp.status, 200);
    assert_eq!(rsp.headers["content-type"], "application/grpc");
    assert_eq!(rsp.grpc_status(), Some(0));
    assert_eq!(rsp.body[0], 0);
    let len = u32::from_be_bytes([rsp.body[1], rsp.body[2], rsp.body[3], rsp.body[4]]) as usize;
    let echo: Echo = prost::Message::decode(&rsp.body[5..5 + len]).unwrap();
    assert_eq!(echo.text, "stock");

    // The same endpoint in JSON over gRPC framing.
    let rsp = post(
        addr,
        "/test.echo.Echo/Call",
        "application/grpc+json",
        &[],
        frame(br#"{"text":"j"}"#),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(0));
    assert_eq!(rsp.headers["content-type"], "application/grpc+json");
    let json: serde_json::Value = serde_json::from_slice(&rsp.body[5..]).unwrap();
    assert_eq!(json["text"], "j");
}

#[tokio::test]
async fn bad_requests_get_the_right_status_and_the_server_keeps_serving() {
    let reg = MemoryRegistry::new();
    let (node, calls) = support::start_echo(&reg, "a").await;
    let addr = &node.node().address;
    let path = "/test.echo.Echo/Call";

    let rsp = request(addr, "GET", path, "application/grpc", &[], Bytes::new()).await;
    assert_eq!(rsp.status, 405);

    let rsp = post(addr, path, "text/plain", &[], Bytes::from_static(b"hi")).await;
    assert_eq!(rsp.status, 415);

    let rsp = post(addr, path, "application/grpc+thrift", &[], frame(b"")).await;
    assert_eq!(rsp.grpc_status(), Some(12));

    let rsp = post(
        addr,
        "/test.echo.Nope/Call",
        "application/grpc",
        &[],
        frame(b""),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(12));
    let rsp = post(
        addr,
        "/test.echo.Echo/Nope",
        "application/grpc",
        &[],
        frame(b""),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(12));

    // A length prefix of 4 GiB: refused before anything is buffered.
    let rsp = post(
        addr,
        path,
        "application/grpc",
        &[],
        Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2]),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(8), "{rsp:?}");

    // A truncated frame.
    let rsp = post(
        addr,
        path,
        "application/grpc",
        &[],
        Bytes::from_static(&[0, 0, 0, 0, 9, 1]),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(13));

    // A compressed frame although no compression was negotiated.
    let rsp = post(
        addr,
        path,
        "application/grpc",
        &[],
        Bytes::from_static(&[1, 0, 0, 0, 1, 1]),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(13));

    // Garbage protobuf.
    let rsp = post(
        addr,
        path,
        "application/grpc",
        &[],
        frame(&[0xff, 0xff, 0xff]),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(13));

    // No message at all, and two messages for a unary endpoint.
    let rsp = post(addr, path, "application/grpc", &[], Bytes::new()).await;
    assert_eq!(rsp.grpc_status(), Some(13));
    let mut two = BytesMut::new();
    two.extend_from_slice(&frame(b""));
    two.extend_from_slice(&frame(b""));
    let rsp = post(addr, path, "application/grpc", &[], two.freeze()).await;
    assert_eq!(rsp.grpc_status(), Some(12));

    // A grpc-timeout that does not parse.
    for bad in ["abc", "1", "123456789S", "-1m"] {
        let rsp = post(
            addr,
            path,
            "application/grpc",
            &[("grpc-timeout", bad)],
            frame(b""),
        )
        .await;
        assert_eq!(rsp.grpc_status(), Some(3), "grpc-timeout {bad}");
    }

    assert_eq!(calls.get(), 0, "no handler ran for a bad request");
    let good = frame(&prost::Message::encode_to_vec(&Echo::text("still here")));
    let rsp = post(addr, path, "application/grpc", &[], good).await;
    assert_eq!(rsp.grpc_status(), Some(0));
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn error_details_travel_as_status_and_micro_json() {
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let req = Echo {
        text: "x".into(),
        fail_code: 404,
        ..Echo::default()
    };
    let rsp = post(
        &node.node().address,
        "/test.echo.Echo/Call",
        "application/grpc",
        &[],
        frame(&prost::Message::encode_to_vec(&req)),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(5));
    let headers = rsp.trailers.as_ref().unwrap_or(&rsp.headers);
    assert_eq!(headers["grpc-message"], "failed on purpose: x");
    assert!(headers.contains_key("micro-error-bin"));
}

/// A plain HTTP/1.1 request, as curl sends it.
pub async fn http1(addr: &str, path: &str, content_type: &str, body: &'static [u8]) -> RawResponse {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("host", addr)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from_static(body)))
        .unwrap();
    let started = Instant::now();
    let rsp = tx.send_request(req).await.unwrap();
    let status = rsp.status().as_u16();
    let headers = rsp.headers().clone();
    let collected = rsp.into_body().collect().await.unwrap();
    RawResponse {
        status,
        headers,
        trailers: None,
        body: collected.to_bytes(),
        elapsed: started.elapsed(),
    }
}

#[tokio::test]
async fn plain_json_over_http1_and_http2_on_the_grpc_port() {
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let addr = &node.node().address;

    let rsp = http1(
        addr,
        "/test.echo.Echo/Call",
        "application/json",
        br#"{"text":"curl"}"#,
    )
    .await;
    assert_eq!(rsp.status, 200, "{rsp:?}");
    assert_eq!(rsp.headers["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&rsp.body).unwrap();
    assert_eq!(json["text"], "curl");

    // The same over HTTP/2, with protobuf.
    let body = Bytes::from(prost::Message::encode_to_vec(&Echo::text("h2")));
    let rsp = post(addr, "/test.echo.Echo/Call", "application/proto", &[], body).await;
    assert_eq!(rsp.status, 200);
    let echo: Echo = prost::Message::decode(&rsp.body[..]).unwrap();
    assert_eq!(echo.text, "h2");

    // Errors: an HTTP status and a JSON body with the code.
    let rsp = http1(
        addr,
        "/test.echo.Echo/Call",
        "application/json",
        br#"{"text":"x","failCode":404,"fail_code":404}"#,
    )
    .await;
    assert!(rsp.status == 404 || rsp.status == 400, "{rsp:?}");
    let rsp = http1(
        addr,
        "/test.echo.Echo/Call",
        "application/json",
        br#"{"text":"x","fail_code":404}"#,
    )
    .await;
    assert_eq!(rsp.status, 404);
    let json: serde_json::Value = serde_json::from_slice(&rsp.body).unwrap();
    assert_eq!(json["code"], "not_found");
    assert_eq!(json["message"], "failed on purpose: x");
    let rsp = http1(
        addr,
        "/test.echo.Echo/Call",
        "application/json",
        b"{not json",
    )
    .await;
    assert_eq!(rsp.status, 400);
    let json: serde_json::Value = serde_json::from_slice(&rsp.body).unwrap();
    assert_eq!(json["code"], "invalid_argument");
    assert!(json["message"].as_str().unwrap().contains("malformed JSON"));
    let rsp = http1(addr, "/test.echo.Nope/Call", "application/json", b"{}").await;
    assert_eq!(rsp.status, 501);
    let rsp = http1(addr, "/test.echo.Echo/Stream", "application/json", b"{}").await;
    assert_eq!(rsp.status, 501, "streams need gRPC");
    let rsp = http1(addr, "/test.echo.Echo/Call", "text/plain", b"hi").await;
    assert_eq!(rsp.status, 415);
}

/// A service with small limits, for the limit tests.
async fn start_limited(
    reg: &MemoryRegistry,
    tune: impl FnOnce(micro_runtime::ServiceBuilder) -> micro_runtime::ServiceBuilder,
    calls: support::Counter,
) -> micro_runtime::RunningService {
    let builder = micro_runtime::Service::builder("echo")
        .ignore_env()
        .registry(std::sync::Arc::new(reg.clone()))
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .handler(support::echo_router("a", calls));
    tune(builder)
        .build()
        .expect("build")
        .start()
        .await
        .expect("start")
}

#[tokio::test]
async fn oversized_metadata_is_refused_and_the_server_keeps_serving() {
    let reg = MemoryRegistry::new();
    let calls = support::Counter::default();
    let node = start_limited(&reg, |b| b.max_header_list_size(4096), calls.clone()).await;
    let addr = &node.local_addr().expect("a TCP port").to_string();
    let path = "/test.echo.Echo/Call";
    let good = frame(&prost::Message::encode_to_vec(&Echo::text("hi")));

    let big = "x".repeat(8192);
    let rsp = post(
        addr,
        path,
        "application/grpc",
        &[("x-big", &big)],
        good.clone(),
    )
    .await;
    assert_eq!(rsp.status, 431, "{rsp:?}");
    assert_eq!(calls.get(), 0, "the handler never ran");

    let small = "x".repeat(1024);
    let rsp = post(addr, path, "application/grpc", &[("x-small", &small)], good).await;
    assert_eq!(rsp.grpc_status(), Some(0), "{rsp:?}");
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn concurrent_streams_per_connection_are_bounded() {
    let reg = MemoryRegistry::new();
    let calls = support::Counter::default();
    let node = start_limited(&reg, |b| b.max_concurrent_streams(2), calls.clone()).await;
    let addr = node.local_addr().expect("a TCP port").to_string();

    // One HTTP/2 connection, six slow calls at once: the client learns the limit from the
    // server's SETTINGS and holds the rest back, so the calls run two at a time. (Streams
    // opened before the client saw the SETTINGS would be refused with REFUSED_STREAM, so one
    // call goes first.)
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut tx, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let slow = Echo {
        sleep_ms: 300,
        ..Echo::text("slow")
    };
    let body = frame(&prost::Message::encode_to_vec(&slow));
    let first = Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/test.echo.Echo/Call"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(frame(&prost::Message::encode_to_vec(
            &Echo::text("hi"),
        ))))
        .unwrap();
    let rsp = tx.send_request(first).await.unwrap();
    rsp.into_body().collect().await.unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let mut tx = tx.clone();
        let req = Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/test.echo.Echo/Call"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(body.clone()))
            .unwrap();
        tasks.push(tokio::spawn(async move {
            tx.ready().await.unwrap();
            let rsp = tx.send_request(req).await.unwrap();
            let collected = rsp.into_body().collect().await.unwrap();
            collected
                .trailers()
                .and_then(|t| t.get("grpc-status"))
                .map(|v| v.to_str().unwrap().to_owned())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().as_deref(), Some("0"));
    }
    // Three waves of 300 ms; with no limit all six would finish in one.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
    assert_eq!(calls.get(), 7);
}

#[tokio::test]
async fn server_enforces_the_callers_deadline() {
    // A raw grpc-timeout of 100ms: the server answers DEADLINE_EXCEEDED itself.
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let rsp = post(
        &node.node().address,
        "/test.echo.Echo/Call",
        "application/grpc",
        &[("grpc-timeout", "100m")],
        frame(&prost::Message::encode_to_vec(&Echo {
            sleep_ms: 5_000,
            ..Echo::default()
        })),
    )
    .await;
    assert_eq!(rsp.grpc_status(), Some(4), "{rsp:?}");
    assert!(rsp.elapsed < Duration::from_secs(2));
}
