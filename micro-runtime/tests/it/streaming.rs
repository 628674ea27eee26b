use std::time::Duration;

use micro_runtime::client::CallOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::{Code, Context, Format};

use crate::support::{self, Echo};

#[tokio::test]
async fn server_streaming_in_order() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let req = Echo {
        count: 2_000,
        ..Echo::default()
    };
    let mut rx = client
        .server_stream::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Stream",
            &req,
            &CallOptions::new(),
        )
        .await
        .unwrap();
    let mut n = 0;
    while let Some(msg) = rx.recv().await.unwrap() {
        assert_eq!(msg.text, n.to_string());
        n += 1;
    }
    assert_eq!(n, 2_000);
}

#[tokio::test]
async fn server_streaming_error_after_some_messages() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let req = Echo {
        count: 2,
        fail_code: 409,
        ..Echo::default()
    };
    let mut rx = client
        .server_stream::<_, Echo>(
            &Context::new(),
            "echo",
            "Echo.Stream",
            &req,
            &CallOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(rx.recv().await.unwrap().unwrap().text, "0");
    assert_eq!(rx.recv().await.unwrap().unwrap().text, "1");
    let err = rx.recv().await.unwrap_err();
    assert_eq!(err.code(), 409);
    assert_eq!(err.detail(), "stream failed on purpose");
    assert!(rx.recv().await.unwrap().is_none());
}

#[tokio::test]
async fn client_streaming_and_empty_stream() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    for count in [0u32, 1, 100] {
        let mut stream = client
            .stream::<Echo, Echo>(&Context::new(), "echo", "Echo.Sum", &CallOptions::new())
            .await
            .unwrap();
        for i in 1..=count {
            stream
                .send(&Echo {
                    count: i,
                    ..Echo::default()
                })
                .await
                .unwrap();
        }
        stream.close_send();
        let rsp = stream.recv().await.unwrap().unwrap();
        assert_eq!(rsp.count, count * (count + 1) / 2);
        assert_eq!(rsp.text, format!("{count} messages"));
        assert!(stream.recv().await.unwrap().is_none());
    }
}

#[tokio::test]
async fn bidi_ping_pong_with_half_close() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    for format in [Format::Proto, Format::Json] {
        let mut stream = client
            .stream::<Echo, Echo>(
                &Context::new(),
                "echo",
                "Echo.Chat",
                &CallOptions::new().format(format),
            )
            .await
            .unwrap();
        for word in ["ping", "pong", "zing", "zong"] {
            stream.send(&Echo::text(word)).await.unwrap();
            let rsp = stream.recv().await.unwrap().unwrap();
            assert_eq!(rsp.text, word.to_uppercase());
        }
        stream.close_send();
        assert_eq!(stream.recv().await.unwrap().unwrap().text, "bye");
        assert!(stream.recv().await.unwrap().is_none());
        assert!(stream.send(&Echo::text("late")).await.is_err());
    }
}

#[tokio::test]
async fn streams_obey_the_deadline() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let opts = CallOptions::new().timeout(Duration::from_millis(200));
    let mut stream = client
        .stream::<Echo, Echo>(&Context::new(), "echo", "Echo.Chat", &opts)
        .await
        .unwrap();
    let err = stream.recv().await.unwrap_err();
    assert_eq!(err.grpc_code(), Code::DeadlineExceeded);
}

#[tokio::test]
async fn split_stream_sends_and_receives_concurrently() {
    let reg = MemoryRegistry::new();
    let (_n, _) = support::start_echo(&reg, "a").await;
    let client = support::client(&reg);
    let stream = client
        .stream::<Echo, Echo>(&Context::new(), "echo", "Echo.Chat", &CallOptions::new())
        .await
        .unwrap();
    let (tx, mut rx) = stream.split();
    let tx = tx.unwrap();
    let sender = tokio::spawn(async move {
        for i in 0..500 {
            tx.send(&Echo::text(&format!("m{i}"))).await.unwrap();
        }
    });
    let mut got = 0;
    while let Some(msg) = rx.recv().await.unwrap() {
        if msg.text == "bye" {
            continue;
        }
        assert_eq!(msg.text, format!("M{got}"));
        got += 1;
    }
    sender.await.unwrap();
    assert_eq!(got, 500);
}
