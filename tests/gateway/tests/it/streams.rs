//! Server streams as NDJSON and SSE, client and bidirectional streams over websockets, and
//! errors mid-stream.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gateway_tests::*;
use micro_gateway::Options;
use tokio_tungstenite::tungstenite::Message;

async fn setup() -> (RunningGateway, micro::RunningService) {
    let (_, registry) = registry();
    let shop = start_shop(&registry).await;
    let gw = start_gateway(&registry, Options::default()).await;
    gw.sees(SERVICE, "Shop.Chat").await;
    (gw, shop)
}

#[tokio::test]
async fn server_streams_as_ndjson_and_sse() {
    let (gw, _shop) = setup().await;
    // Through its HTTP rule: GET /v1/count/{n}.
    let a = get(&gw.url("/v1/count/3?text=x")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["content-type"], "application/x-ndjson");
    let lines: Vec<serde_json::Value> = a
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["text"], "x#3");
    // Through the resolver, as server-sent events.
    let a = send(
        "POST",
        &gw.url("/shop/count"),
        &[
            ("accept", "text/event-stream"),
            ("content-type", "application/json"),
        ],
        r#"{"text":"e","n":"2"}"#,
    )
    .await;
    assert_eq!(a.headers["content-type"], "text/event-stream");
    let events: Vec<&str> = a.body.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 2, "{}", a.body);
    assert!(events[1].starts_with("data: {"), "{}", a.body);
    assert!(events[1].contains("\"e#2\""));
}

#[tokio::test]
async fn an_error_mid_stream_is_the_last_line_or_event() {
    let (gw, _shop) = setup().await;
    let a = get(&gw.url("/v1/count/2?text=fail")).await;
    assert_eq!(a.status, 200);
    let lines: Vec<&str> = a.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", a.body);
    let last: serde_json::Value = serde_json::from_str(lines[2]).expect("JSON");
    assert_eq!(last["error"]["code"], 500);
    assert_eq!(last["error"]["detail"], "failed after the messages");
    let a = send(
        "GET",
        &gw.url("/v1/count/1?text=fail"),
        &[("accept", "text/event-stream")],
        "",
    )
    .await;
    assert!(a.body.contains("event: error\ndata: {"), "{}", a.body);
    // An error before the first message is a plain error response.
    let a = get(&gw.url("/v1/count/-1")).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(a.json()["detail"], "n must not be negative");
}

async fn next_text(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<Message> {
    tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a frame within 10 s")
        .map(|f| f.expect("a good frame"))
}

/// Open a websocket to `path`, send `good` frames then one that is not JSON: an error frame
/// comes back.
async fn refused_after(gw: &RunningGateway, path: &str, good: &[&str]) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}{path}", gw.addr))
        .await
        .expect("websocket");
    for frame in good.iter().chain(&["not json"]) {
        ws.send(Message::Text((*frame).into())).await.expect("send");
    }
    let got = next_text(&mut ws).await.expect("an error frame");
    assert!(
        got.to_text().expect("text").contains("not valid JSON"),
        "{got:?}"
    );
}

#[tokio::test]
async fn client_and_bidirectional_streams_over_websockets() {
    let (gw, _shop) = setup().await;
    // Client stream: frames in, close, one answer.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/shop/sum", gw.addr))
        .await
        .expect("websocket");
    for n in 1..=4 {
        ws.send(Message::Text(format!("{{\"n\":{n}}}").into()))
            .await
            .expect("send");
    }
    // An empty frame ends the requests and keeps the socket open for the answer.
    ws.send(Message::Text("".into())).await.expect("half-close");
    let answer = next_text(&mut ws).await.expect("the sum");
    let v: serde_json::Value = serde_json::from_str(answer.to_text().expect("text")).expect("JSON");
    assert_eq!(v["n"], "10");
    // Then the gateway closes normally.
    match next_text(&mut ws).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("want a normal close, got {other:?}"),
    }

    // Bidirectional: each frame answered in turn.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/shop/Shop.Chat", gw.addr))
            .await
            .expect("websocket");
    for word in ["a", "b"] {
        ws.send(Message::Text(format!("{{\"text\":\"{word}\"}}").into()))
            .await
            .expect("send");
        let got = next_text(&mut ws).await.expect("an answer");
        assert!(
            got.to_text()
                .expect("text")
                .contains(&format!("re: {word}"))
        );
    }
    ws.close(None).await.expect("close");
    // A frame that is not JSON gets an error frame and a close.
    refused_after(&gw, "/shop/chat", &[]).await;
    // A bad frame after a good one cancels the call: the service never sees a finished
    // stream of the good ones.
    refused_after(&gw, "/shop/sum", &["{\"n\":7777}"]).await;
    // A socket that breaks (dropped without a close frame) cancels too.
    let (mut ws2, _) = tokio_tungstenite::connect_async(format!("ws://{}/shop/sum", gw.addr))
        .await
        .expect("websocket");
    ws2.send(Message::Text("{\"n\":8888}".into()))
        .await
        .expect("send");
    drop(ws2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sums = SUMS.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        !sums.contains(&7777),
        "a cut-off stream was taken as finished: {sums:?}"
    );
    assert!(
        !sums.contains(&8888),
        "a broken socket was taken as finished: {sums:?}"
    );
    // Without a websocket, a client stream is refused with the reason.
    let a = post(&gw.url("/shop/sum"), "{}").await;
    assert_eq!(a.status, 400);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("websocket"),
        "{}",
        a.body
    );
}
