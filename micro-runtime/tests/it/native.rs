//! The native transport: chosen from node metadata, served beside gRPC on one port, flow
//! control, cancellation, the call limit, and malformed frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use micro_runtime::client::{CallOptions, ClientOptions, TransportPolicy};
use micro_runtime::registry::{MemoryRegistry, Registry};
use micro_runtime::server::{Route, Router};
use micro_runtime::stream::StreamSender;
use micro_runtime::{Client, Code, Service};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::raw::{frame, head, read_until};
use crate::support::{self, Echo};

fn client_on(reg: &MemoryRegistry, transport: TransportPolicy) -> Client {
    let mut options = ClientOptions::default();
    options.transport = transport;
    Client::with_options(Arc::new(reg.clone()), options)
}

#[tokio::test]
async fn one_port_serves_native_and_grpc_and_advertises_both() {
    let reg = MemoryRegistry::new();
    let (node, _) = support::start_echo(&reg, "a").await;
    let record = reg.get_service("echo").await.unwrap();
    assert_eq!(record[0].nodes[0].metadata["transport"], "native,grpc");

    for transport in [
        TransportPolicy::Auto,
        TransportPolicy::Native,
        TransportPolicy::Grpc,
    ] {
        let client = client_on(&reg, transport);
        let rsp: Echo = client
            .call("echo", "Echo.Call", &Echo::text("hi"))
            .await
            .unwrap();
        assert_eq!(rsp.text, "hi", "{transport:?}");
        // Headers, trailers and the deadline arrive the same way on both transports.
        let rsp = client
            .invoke::<_, Echo>(
                &micro_runtime::Context::new().with_metadata("x-echo-initial", "one"),
                "echo",
                "Echo.Meta",
                &Echo::text("m"),
                &CallOptions::new()
                    .metadata("x-echo-trailing-bin", "AAEC")
                    .timeout(Duration::from_secs(7)),
            )
            .await
            .unwrap();
        assert_eq!(
            rsp.metadata.get("x-echo-initial"),
            Some("one"),
            "{transport:?}"
        );
        assert_eq!(rsp.trailers.get("x-echo-trailing-bin"), Some("AAEC"));
        let seen: Echo = client
            .call("echo", "Echo.Inspect", &Echo::default())
            .await
            .unwrap();
        assert!(
            (25_000..=30_000).contains(&seen.sleep_ms),
            "the server sees the caller's deadline: {} ms left",
            seen.sleep_ms
        );
    }
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_grpc_only_server_is_called_over_grpc_and_refuses_native_clearly() {
    let reg = MemoryRegistry::new();
    let node = Service::builder("echo")
        .ignore_env()
        .registry(Arc::new(reg.clone()))
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .flags(["--transport", "grpc"])
        .handler(support::echo_router("a", support::Counter::default()))
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let record = reg.get_service("echo").await.unwrap();
    assert_eq!(record[0].nodes[0].metadata["transport"], "grpc");

    // auto follows the metadata.
    let rsp: Echo = client_on(&reg, TransportPolicy::Auto)
        .call("echo", "Echo.Call", &Echo::text("hi"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "hi");

    // Forcing native against it fails before anything was sent, with a hint.
    let err = client_on(&reg, TransportPolicy::Native)
        .call::<_, Echo>("echo", "Echo.Call", &Echo::text("hi"))
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::Unavailable, "{err}");
    assert!(err.is_retry_safe(), "{err}");
    assert!(err.detail().contains("MICRO_TRANSPORT=grpc"), "{err}");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_slow_reader_holds_the_sender_back_and_still_gets_everything_in_order() {
    let reg = MemoryRegistry::new();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let router = Router::new().route(Route::server_stream(
        "Flood.Run",
        move |_ctx, req: Echo, tx: StreamSender<Echo>| {
            let sent = counter.clone();
            async move {
                let msg = Echo {
                    payload: vec![1; 1024],
                    ..Echo::default()
                };
                for _ in 0..req.count {
                    tx.send(&msg).await?;
                    sent.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            }
        },
    ));
    let node = support::start(&reg, "flood", router).await;
    let client = client_on(&reg, TransportPolicy::Native);
    let total = 20_000u32;
    let mut rx = client
        .server_stream::<_, Echo>(
            &Default::default(),
            "flood",
            "Flood.Run",
            &Echo {
                count: total,
                ..Echo::default()
            },
            &CallOptions::new(),
        )
        .await
        .unwrap();
    // Not reading: the handler may run ahead only by the stream window (1 MiB) and the
    // buffers, not through all 20 MB.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ahead = sent.load(Ordering::SeqCst);
    assert!(
        (500..3_000).contains(&ahead),
        "the sender ran {ahead} messages ahead of a reader that read nothing"
    );
    let mut n = 0u32;
    while let Some(msg) = rx.recv().await.unwrap() {
        assert_eq!(msg.payload.len(), 1024);
        n += 1;
    }
    assert_eq!(n, total);
    node.stop().await.unwrap();
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_handler() {
    let reg = MemoryRegistry::new();
    let ended = Arc::new(AtomicUsize::new(0));
    let flag = ended.clone();
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let router = Router::new().route(Route::server_stream(
        "Forever.Run",
        move |_ctx, _req: Echo, tx: StreamSender<Echo>| {
            let guard = OnDrop(flag.clone());
            async move {
                let _guard = guard;
                loop {
                    tx.send(&Echo::text("tick")).await?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        },
    ));
    let node = support::start(&reg, "forever", router).await;
    let client = client_on(&reg, TransportPolicy::Native);
    let mut rx = client
        .server_stream::<_, Echo>(
            &Default::default(),
            "forever",
            "Forever.Run",
            &Echo::default(),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(rx.recv().await.unwrap().unwrap().text, "tick");
    drop(rx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while ended.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the handler still runs after the caller went away"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The connection is still good for the next call.
    let mut rx = client
        .server_stream::<_, Echo>(
            &Default::default(),
            "forever",
            "Forever.Run",
            &Echo::default(),
            &CallOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(rx.recv().await.unwrap().unwrap().text, "tick");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn the_client_keeps_within_the_servers_call_limit() {
    let reg = MemoryRegistry::new();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let router = Router::new().route(Route::unary("Slow.Call", move |_ctx, req: Echo| {
        let (running, peak) = (r.clone(), p.clone());
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(req)
        }
    }));
    let node = Service::builder("slow")
        .ignore_env()
        .registry(Arc::new(reg.clone()))
        .address("127.0.0.1:0")
        .shutdown_delay(Duration::ZERO)
        .max_concurrent_streams(3)
        .handler(router)
        .build()
        .unwrap()
        .start()
        .await
        .unwrap();
    let client = client_on(&reg, TransportPolicy::Native);
    let calls = (0..12).map(|i| {
        let client = client.clone();
        async move {
            client
                .call::<_, Echo>("slow", "Slow.Call", &Echo::text(&i.to_string()))
                .await
        }
    });
    for (i, result) in futures_util::future::join_all(calls)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(result.unwrap().text, i.to_string());
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3, "calls ran three at a time");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn malformed_native_frames_get_errors_and_the_server_keeps_serving() {
    let reg = MemoryRegistry::new();
    let (node, calls) = support::start_echo(&reg, "a").await;
    let addr = node.local_addr().expect("a TCP port");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"\0micro/1").await.unwrap();
    // SETTINGS first.
    let settings = read_until(&mut conn, 0, 0).await;
    assert_eq!(settings.len(), 12, "calls, window, flags");

    let text = |payload: &[u8]| String::from_utf8_lossy(payload).into_owned();
    // A head too short to parse.
    conn.write_all(&frame(1, 0, 1, &[0, 0])).await.unwrap();
    let t = text(&read_until(&mut conn, 1, 3).await);
    assert!(t.contains("grpc-status") && t.contains("malformed"), "{t}");
    // An unknown format byte.
    let mut bad = head("/test.echo.Echo/Call");
    bad[0] = 9;
    conn.write_all(&frame(1, 0, 3, &bad)).await.unwrap();
    assert!(text(&read_until(&mut conn, 3, 3).await).contains("unknown format"));
    // An unknown endpoint.
    conn.write_all(&frame(1, 0, 5, &head("/test.echo.Echo/Nope")))
        .await
        .unwrap();
    assert!(text(&read_until(&mut conn, 5, 3).await).contains("unknown endpoint"));
    // A message that is not protobuf.
    conn.write_all(&frame(1, 0, 7, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    conn.write_all(&frame(2, 1, 7, &[0, 0, 0, 0, 3, 0xff, 0xff, 0xff]))
        .await
        .unwrap();
    let t = text(&read_until(&mut conn, 7, 3).await);
    assert!(t.contains("grpc-status"), "{t}");
    // A gRPC length prefix that promises more than the frame holds.
    conn.write_all(&frame(1, 0, 9, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    conn.write_all(&frame(2, 1, 9, &[0, 0, 0, 0, 50, 1, 2]))
        .await
        .unwrap();
    assert!(text(&read_until(&mut conn, 9, 3).await).contains("truncated"));
    // A frame over the size limit: its payload is skipped, the call gets RESOURCE_EXHAUSTED.
    conn.write_all(&frame(1, 0, 11, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    let big = vec![0u8; 5 * 1024 * 1024];
    conn.write_all(&frame(2, 1, 11, &big)).await.unwrap();
    let t = text(&read_until(&mut conn, 11, 3).await);
    assert!(t.contains("grpc-status") && t.contains('8'), "{t}");
    // Data and cancels for calls that do not exist, and unknown frame types, are ignored.
    conn.write_all(&frame(2, 1, 99, b"junk")).await.unwrap();
    conn.write_all(&frame(4, 0, 98, &[0])).await.unwrap();
    conn.write_all(&frame(42, 0, 97, b"future")).await.unwrap();
    // The same connection still serves a good call.
    let msg = prost::Message::encode_to_vec(&Echo::text("fine"));
    let data = crate::wire::frame(&msg);
    conn.write_all(&frame(1, 0, 13, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    conn.write_all(&frame(2, 1, 13, &data)).await.unwrap();
    let payload = read_until(&mut conn, 13, 2).await;
    let rsp: Echo = prost::Message::decode(&payload[5..]).unwrap();
    assert_eq!(rsp.text, "fine");
    assert_eq!(calls.get(), 1, "only the good call reached the handler");

    // A wrong preface ends that connection only.
    let mut other = tokio::net::TcpStream::connect(addr).await.unwrap();
    other.write_all(b"\0garbage").await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), other.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");
    let rsp: Echo = support::client(&reg)
        .call("echo", "Echo.Call", &Echo::text("still"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "still");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_caller_past_its_limits_is_stopped_without_buffering_more() {
    let reg = MemoryRegistry::new();
    let router =
        support::echo_router("a", support::Counter::default()).route(Route::client_stream(
            "Sink.Slow",
            |_ctx, mut rx: micro_runtime::stream::StreamReceiver<Echo>| async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                while rx.recv().await?.is_some() {}
                Ok(Echo::default())
            },
        ));
    let node = support::start(&reg, "echo", router).await;
    let mut conn = tokio::net::TcpStream::connect(node.local_addr().expect("a TCP port"))
        .await
        .unwrap();
    conn.write_all(b"\0micro/1").await.unwrap();
    read_until(&mut conn, 0, 0).await;
    let text = |payload: &[u8]| String::from_utf8_lossy(payload).into_owned();

    // A unary call that keeps sending messages (never END): refused after the first one.
    let message = crate::wire::frame(&vec![0u8; 3 * 1024 * 1024]);
    conn.write_all(&frame(1, 0, 1, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    conn.write_all(&frame(2, 0, 1, &message)).await.unwrap();
    conn.write_all(&frame(2, 0, 1, &message)).await.unwrap();
    let t = text(&read_until(&mut conn, 1, 3).await);
    assert!(t.contains("more than one message"), "{t}");

    // A client stream whose caller ignores flow control: the call ends with
    // RESOURCE_EXHAUSTED instead of the server buffering without bound.
    conn.write_all(&frame(1, 0, 3, &head("/Sink/Slow")))
        .await
        .unwrap();
    let chunk = vec![0u8; 256 * 1024];
    for _ in 0..32 {
        conn.write_all(&frame(2, 0, 3, &chunk)).await.unwrap();
    }
    let t = text(&read_until(&mut conn, 3, 3).await);
    assert!(t.contains("flow-control credit"), "{t}");

    // The connection still serves.
    let msg = prost::Message::encode_to_vec(&Echo::text("fine"));
    let data = crate::wire::frame(&msg);
    conn.write_all(&frame(1, 0, 5, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    conn.write_all(&frame(2, 1, 5, &data)).await.unwrap();
    let payload = read_until(&mut conn, 5, 2).await;
    let rsp: Echo = prost::Message::decode(&payload[5..]).unwrap();
    assert_eq!(rsp.text, "fine");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_sending_more_than_one_response_message_is_cut_off() {
    // A fake native server that answers a unary call with message after message.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut preface = [0u8; 8];
        conn.read_exact(&mut preface).await.unwrap();
        let mut settings = 100u32.to_be_bytes().to_vec();
        settings.extend_from_slice(&(1024u32 * 1024).to_be_bytes());
        conn.write_all(&frame(0, 0, 0, &settings)).await.unwrap();
        let _ = read_until(&mut conn, 1, 2).await;
        let message = crate::wire::frame(&vec![0u8; 3 * 1024 * 1024]);
        for _ in 0..3 {
            if conn.write_all(&frame(2, 0, 1, &message)).await.is_err() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let client = client_on(&MemoryRegistry::new(), TransportPolicy::Native);
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        client.call_with::<_, Echo>(
            &Default::default(),
            "any",
            "Echo.Call",
            &Echo::text("hi"),
            &CallOptions::new().address(addr),
        ),
    )
    .await
    .expect("the client gives up instead of buffering")
    .unwrap_err();
    assert_eq!(err.grpc_code(), Code::ResourceExhausted, "{err}");
}
