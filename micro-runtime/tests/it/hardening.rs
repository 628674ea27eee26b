//! Hostile and broken peers: reused stream ids, peers that never read, oversized metadata,
//! silent and idle connections, hung servers, the connection cap, calls without deadlines.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use micro_runtime::client::{CallOptions, ClientOptions, TransportPolicy};
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{Route, Router};
use micro_runtime::stream::StreamReceiver;
use micro_runtime::{Client, Code, RunningService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::raw::{self, DATA, GOAWAY, HEADERS, PING, TRAILERS, frame, head, read_until};
use crate::support::{self, Counter, Echo};

fn addr(node: &RunningService) -> std::net::SocketAddr {
    node.local_addr().expect("a TCP port")
}

/// The request frame of an `Echo` message.
fn echo(msg: &Echo) -> Vec<u8> {
    crate::wire::frame(&prost::Message::encode_to_vec(msg)).to_vec()
}

/// Counts handlers that were dropped (cancelled) before they finished.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Wait (up to 10 s) until `f` holds.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_head_reusing_a_live_stream_id_closes_the_connection() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let router = support::echo_router("a", Counter::default()).route(Route::client_stream(
        "Sink.Hold",
        move |_ctx, mut rx: StreamReceiver<Echo>| {
            let guard = Dropped(d.clone());
            async move {
                while rx.recv().await?.is_some() {}
                drop(guard);
                Ok(Echo::default())
            }
        },
    ));
    let reg = MemoryRegistry::new();
    let node = support::start_with(support::builder(&reg, "echo"), router).await;
    let mut conn = raw::connect(addr(&node)).await;
    conn.write_all(&frame(HEADERS, 0, 1, &head("/Sink/Hold")))
        .await
        .unwrap();
    // The same id again while the first call is open: a protocol error.
    conn.write_all(&frame(HEADERS, 0, 1, &head("/Sink/Hold")))
        .await
        .unwrap();
    let kinds = raw::until_closed(&mut conn, Duration::from_secs(10)).await;
    assert_eq!(
        kinds.last(),
        Some(&GOAWAY),
        "GOAWAY, then closed: {kinds:?}"
    );
    // Nothing is orphaned: every handler that started was stopped with the connection.
    eventually("the held call is cancelled", || {
        dropped.load(Ordering::SeqCst) >= 1
    })
    .await;
    // Other connections are served.
    let rsp: Echo = support::client(&reg)
        .call("echo", "Echo.Call", &Echo::text("still"))
        .await
        .unwrap();
    assert_eq!(rsp.text, "still");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_peer_that_never_reads_is_not_read_from_and_loses_nothing() {
    const CALLS: usize = 2000;
    let calls = Counter::default();
    let c = calls.clone();
    let router = Router::new().route(
        Route::unary("Big.Get", move |_ctx, _req: Echo| {
            let calls = c.clone();
            async move {
                calls.0.fetch_add(1, Ordering::SeqCst);
                Ok(Echo {
                    payload: vec![7; 128 * 1024],
                    ..Echo::default()
                })
            }
        })
        .package("test"),
    );
    let reg = MemoryRegistry::new();
    let node = support::start_with(support::builder(&reg, "big"), router).await;
    let conn = raw::connect(addr(&node)).await;
    let (mut rd, mut wr) = conn.into_split();
    let request = echo(&Echo::text("give"));
    let writer = tokio::spawn(async move {
        for i in 0..CALLS as u32 {
            let id = 2 * i + 1;
            let mut out = frame(HEADERS, 0, id, &head("/test.Big/Get"));
            out.extend(frame(DATA, 1, id, &request));
            if wr.write_all(&out).await.is_err() {
                return None;
            }
        }
        // Kept open: a closed write half would tell the server the caller went away.
        Some(wr)
    });
    // Without reading: the handler count stops growing far below the calls sent (the
    // server stopped reading once its answers backed up).
    let mut last = usize::MAX;
    let mut same_since = Instant::now();
    let start_wait = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = calls.get();
        if now != last {
            (last, same_since) = (now, Instant::now());
        }
        if same_since.elapsed() >= Duration::from_secs(1) || now == CALLS {
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(20),
            "never settled"
        );
    }
    assert!(
        last < CALLS / 4,
        "{last} of {CALLS} calls ran while the caller read nothing: answers were queued without bound"
    );
    // Reading now, every call is answered.
    let answered = tokio::time::timeout(Duration::from_secs(60), async {
        let mut header = [0u8; 10];
        let (mut done, mut refused) = (0, 0);
        while done < CALLS {
            if let Err(e) = rd.read_exact(&mut header).await {
                panic!("after {done} answers ({} calls ran): {e}", calls.get());
            }
            let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
            let mut payload = vec![0; len];
            rd.read_exact(&mut payload).await.unwrap();
            match header[4] {
                TRAILERS => {
                    assert!(payload.is_empty(), "an OK call ends with empty trailers");
                    done += 1;
                }
                // Calls past the server's limit of open calls are refused, not lost.
                raw::CANCEL => {
                    assert_eq!(payload, [1], "refused");
                    refused += 1;
                    done += 1;
                }
                _ => {}
            }
        }
        (done, refused)
    })
    .await
    .expect("every call answered once the caller reads");
    assert_eq!(answered.0, CALLS);
    assert!(
        writer.await.unwrap().is_some(),
        "the caller could send everything"
    );
    assert_eq!(
        calls.get() + answered.1,
        CALLS,
        "each call ran or was refused"
    );
    node.stop().await.unwrap();
}

#[tokio::test]
async fn native_metadata_is_held_to_the_header_limit() {
    let reg = MemoryRegistry::new();
    let (node, calls) = support::start_echo(&reg, "a").await;
    let mut conn = raw::connect(addr(&node)).await;
    let text = |payload: &[u8]| String::from_utf8_lossy(payload).into_owned();
    // 40 pairs of 1 KiB: a head frame within its limit, metadata over the 16 KiB limit.
    let mut h = head("/test.echo.Echo/Call");
    for i in 0..40 {
        let key = format!("x-pad-{i}");
        h.extend_from_slice(&(key.len() as u16).to_be_bytes());
        h.extend_from_slice(key.as_bytes());
        h.extend_from_slice(&1024u32.to_be_bytes());
        h.extend_from_slice(&[b'v'; 1024]);
    }
    conn.write_all(&frame(HEADERS, 0, 1, &h)).await.unwrap();
    conn.write_all(&frame(DATA, 1, 1, &echo(&Echo::text("hi"))))
        .await
        .unwrap();
    let t = text(&read_until(&mut conn, 1, TRAILERS).await);
    assert!(
        t.contains("grpc-status") && t.contains("over the limit of 16384 bytes"),
        "{t}"
    );
    // A head frame larger than any allowed head is skipped without being buffered.
    let mut h = head("/test.echo.Echo/Call");
    h.extend_from_slice(&[0u8; 512 * 1024]);
    conn.write_all(&frame(HEADERS, 0, 3, &h)).await.unwrap();
    let t = text(&read_until(&mut conn, 3, TRAILERS).await);
    assert!(
        t.contains("request head of") && t.contains("over the limit"),
        "{t}"
    );
    assert_eq!(calls.get(), 0, "neither call reached the handler");
    // Through the client, on both transports, the same refusal.
    for transport in [TransportPolicy::Native, TransportPolicy::Grpc] {
        let mut options = ClientOptions::default();
        options.transport = transport;
        let client = Client::with_options(Arc::new(reg.clone()), options);
        let mut ctx = micro_runtime::Context::new();
        ctx.metadata_mut().insert("x-big", "v".repeat(20 * 1024));
        let err = client
            .call_with::<_, Echo>(
                &ctx,
                "echo",
                "Echo.Call",
                &Echo::text("hi"),
                &CallOptions::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.grpc_code(),
            Code::ResourceExhausted,
            "{transport:?}: {err}"
        );
        assert!(err.detail().contains("limit"), "{transport:?}: {err}");
    }
    assert_eq!(calls.get(), 0);
    node.stop().await.unwrap();
}

#[tokio::test]
async fn silent_idle_and_old_connections_are_closed() {
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "echo")
            .handshake_timeout(Duration::from_millis(300))
            .idle_timeout(Some(Duration::from_millis(300))),
        support::echo_router("a", Counter::default()),
    )
    .await;
    // No byte at all, and half a preface: both closed.
    for sent in [&b""[..], &b"\0mic"[..]] {
        let mut conn = tokio::net::TcpStream::connect(addr(&node)).await.unwrap();
        conn.write_all(sent).await.unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("closed by the server")
            .unwrap_or(0);
        assert_eq!(n, 0, "sent {sent:?}");
    }
    // A native connection without calls: GOAWAY, then closed.
    let mut conn = raw::connect(addr(&node)).await;
    let kinds = raw::until_closed(&mut conn, Duration::from_secs(10)).await;
    assert_eq!(kinds, vec![GOAWAY]);
    // An HTTP/1.1 keep-alive connection after its request: closed.
    let mut conn = tokio::net::TcpStream::connect(addr(&node)).await.unwrap();
    conn.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut seen))
        .await
        .expect("closed by the server")
        .unwrap();
    assert!(seen.starts_with(b"HTTP/1.1"), "answered first");
    node.stop().await.unwrap();

    // Past its age, a busy connection is asked to go away; its call still finishes.
    let node = support::start_with(
        support::builder(&reg, "echo").max_connection_age(Some(Duration::from_millis(300))),
        support::echo_router("a", Counter::default()),
    )
    .await;
    let mut conn = raw::connect(addr(&node)).await;
    conn.write_all(&frame(HEADERS, 0, 1, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    let slow = Echo {
        sleep_ms: 1000,
        ..Echo::text("slow")
    };
    conn.write_all(&frame(DATA, 1, 1, &echo(&slow)))
        .await
        .unwrap();
    let mut kinds = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some((kind, _, id, payload)) = raw::next_frame(&mut conn).await {
            kinds.push(kind);
            if kind == TRAILERS {
                assert_eq!((id, payload.len()), (1, 0), "the call ended OK");
            }
        }
    })
    .await
    .expect("closed after the call");
    let goaway = kinds.iter().position(|k| *k == GOAWAY).expect("a GOAWAY");
    let trailers = kinds.iter().position(|k| *k == TRAILERS).expect("trailers");
    assert!(
        goaway < trailers,
        "GOAWAY came while the call ran: {kinds:?}"
    );
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_peer_that_does_not_answer_pings_is_dropped_and_one_that_does_is_kept() {
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "echo")
            .idle_timeout(None)
            .keepalive(Some(Duration::from_millis(200))),
        support::echo_router("a", Counter::default()),
    )
    .await;
    // A client that never pings is never pinged (older clients ignore pings).
    let mut old = raw::connect(addr(&node)).await;
    let quiet = tokio::time::timeout(Duration::from_millis(1500), raw::next_frame(&mut old)).await;
    assert!(quiet.is_err(), "an older client got {quiet:?}");
    // One that pinged once (so it answers pings) and then never answers: pinged, closed.
    let mut mute = raw::connect(addr(&node)).await;
    mute.write_all(&frame(PING, 0, 0, &[0; 8])).await.unwrap();
    let kinds = raw::until_closed(&mut mute, Duration::from_secs(10)).await;
    assert!(kinds.contains(&PING), "{kinds:?}");
    // Answering every ping for a while: still served.
    let mut live = raw::connect(addr(&node)).await;
    live.write_all(&frame(PING, 0, 0, &[0; 8])).await.unwrap();
    let until = Instant::now() + Duration::from_millis(1500);
    let mut pings = 0;
    while let Ok(next) = tokio::time::timeout_at(until.into(), raw::next_frame(&mut live)).await {
        let (kind, flags, _, payload) = next.expect("the connection stays open");
        if kind == PING && flags == 0 {
            pings += 1;
            live.write_all(&frame(PING, 1, 0, &payload)).await.unwrap();
        }
    }
    assert!(pings >= 1, "the server pinged");
    live.write_all(&frame(HEADERS, 0, 1, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    live.write_all(&frame(DATA, 1, 1, &echo(&Echo::text("alive"))))
        .await
        .unwrap();
    let payload = read_until(&mut live, 1, DATA).await;
    let rsp: Echo = prost::Message::decode(&payload[5..]).unwrap();
    assert_eq!(rsp.text, "alive");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_drops_a_connection_to_a_server_that_hangs() {
    let address = hung_server().await;
    let mut options = ClientOptions::default();
    options.transport = TransportPolicy::Native;
    options.keepalive = Duration::from_millis(300);
    let client = Client::with_options(Arc::new(MemoryRegistry::new()), options);
    let started = Instant::now();
    let err = client
        .call_with::<_, Echo>(
            &Default::default(),
            "any",
            "Echo.Call",
            &Echo::text("hi"),
            &CallOptions::new()
                .address(address)
                .timeout(Duration::from_secs(60)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.grpc_code(), Code::Unavailable, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the call ended when the ping went unanswered, not at its 60 s deadline"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_as_they_arrive() {
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "echo").max_connections(2),
        support::echo_router("a", Counter::default()),
    )
    .await;
    let first = raw::connect(addr(&node)).await;
    let _second = raw::connect(addr(&node)).await;
    let mut third = tokio::net::TcpStream::connect(addr(&node)).await.unwrap();
    let _ = third.write_all(b"\0micro/1").await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("closed by the server")
        .unwrap_or(0);
    assert_eq!(n, 0, "the third connection is closed without an answer");
    // One leaves: a new one is served.
    drop(first);
    let start = Instant::now();
    loop {
        let mut conn = tokio::net::TcpStream::connect(addr(&node)).await.unwrap();
        let _ = conn.write_all(b"\0micro/1").await;
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("an answer or a close")
            .unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never served again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_call_without_a_deadline_gets_the_servers_default() {
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "echo").default_timeout(Some(Duration::from_millis(300))),
        support::echo_router("a", Counter::default()),
    )
    .await;
    let mut conn = raw::connect(addr(&node)).await;
    // `head` sends timeout 0: no deadline from the caller.
    conn.write_all(&frame(HEADERS, 0, 1, &head("/test.echo.Echo/Call")))
        .await
        .unwrap();
    let slow = Echo {
        sleep_ms: 20_000,
        ..Echo::text("slow")
    };
    conn.write_all(&frame(DATA, 1, 1, &echo(&slow)))
        .await
        .unwrap();
    let t = String::from_utf8_lossy(&read_until(&mut conn, 1, TRAILERS).await).into_owned();
    assert!(
        t.contains("grpc-status") && t.contains('4'),
        "DEADLINE_EXCEEDED: {t}"
    );
    node.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_connect_body_is_413_not_429() {
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "echo").max_message_size(1024),
        support::echo_router("a", Counter::default()),
    )
    .await;
    let body = serde_json::json!({ "text": "x".repeat(4096) }).to_string();
    let mut conn = tokio::net::TcpStream::connect(addr(&node)).await.unwrap();
    let request = format!(
        "POST /test.echo.Echo/Call HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut rsp = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rsp))
        .await
        .unwrap()
        .unwrap();
    let rsp = String::from_utf8_lossy(&rsp);
    assert!(rsp.starts_with("HTTP/1.1 413"), "{rsp}");
    assert!(rsp.contains("resource_exhausted"), "{rsp}");
    node.stop().await.unwrap();
}

/// A native server that completes the handshake and then never answers (as a stopped
/// process whose kernel still holds the socket). Its address.
async fn hung_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut preface = [0u8; 8];
            if conn.read_exact(&mut preface).await.is_err() {
                continue;
            }
            // A current server (it says it answers pings), then silence.
            let mut settings = 100u32.to_be_bytes().to_vec();
            settings.extend_from_slice(&(1024u32 * 1024).to_be_bytes());
            settings.extend_from_slice(&1u32.to_be_bytes());
            let _ = conn.write_all(&frame(0, 0, 0, &settings)).await;
            held.push(conn);
        }
    });
    address
}

#[tokio::test]
async fn a_node_that_lets_deadlines_pass_is_avoided() {
    use micro_runtime::registry::{Node, RegisterOptions, Registry, Service as Record};
    let reg = MemoryRegistry::new();
    let (node, served) = support::start_echo(&reg, "good").await;
    let hung = hung_server().await;
    let record = Record::new("echo", "1")
        .with_node(Node::new("hung", hung.as_str()).with_metadata("transport", "native,grpc"));
    reg.register(&record, RegisterOptions::default())
        .await
        .unwrap();
    let client = support::client(&reg);
    let mut failed = 0;
    for i in 0..20 {
        let result: micro_runtime::Result<Echo> = client
            .call_with(
                &Default::default(),
                "echo",
                "Echo.Call",
                &Echo::text(&format!("{i}")),
                &CallOptions::new().timeout(Duration::from_millis(500)),
            )
            .await;
        if let Err(e) = result {
            assert_eq!(e.grpc_code(), Code::DeadlineExceeded, "{e}");
            assert!(e.detail().contains(&hung), "names the node: {e}");
            failed += 1;
        }
    }
    assert!(
        failed <= 2,
        "{failed} of 20 calls waited out their deadline on the hung node"
    );
    assert_eq!(served.get(), 20 - failed);
    node.stop().await.unwrap();
}

#[tokio::test]
async fn a_peer_reset_while_its_answers_are_backed_up_frees_its_connection() {
    let router = Router::new().route(
        Route::unary("Big.Get", |_ctx, _req: Echo| async move {
            Ok(Echo {
                payload: vec![7; 256 * 1024],
                ..Echo::default()
            })
        })
        .package("test"),
    );
    let reg = MemoryRegistry::new();
    let node = support::start_with(
        support::builder(&reg, "big").max_connections(1),
        router.merge(support::echo_router("a", Counter::default())),
    )
    .await;
    {
        let mut conn = raw::connect(addr(&node)).await;
        let request = echo(&Echo::text("give"));
        let mut out = Vec::new();
        for i in 0..64u32 {
            out.extend(frame(HEADERS, 0, 2 * i + 1, &head("/test.Big/Get")));
            out.extend(frame(DATA, 1, 2 * i + 1, &request));
        }
        conn.write_all(&out).await.unwrap();
        // Let the answers back up, then go away without reading them (closing with unread
        // data resets the connection).
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The server does not spin on the dead connection: over a second it uses little CPU.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_seconds() - before;
    assert!(
        used < 0.5,
        "{used:.2} s of CPU in a second after the peer went away"
    );
    // The one connection the server takes is free again.
    let start = Instant::now();
    loop {
        let result: micro_runtime::Result<Echo> = tokio::time::timeout(
            Duration::from_secs(10),
            support::client(&reg).call_with(
                &Default::default(),
                "big",
                "Echo.Call",
                &Echo::text("next"),
                &CallOptions::new()
                    .package("test.echo")
                    .timeout(Duration::from_secs(2)),
            ),
        )
        .await
        .expect("the server answers: it is not spinning on the dead connection");
        if result.is_ok() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{result:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.stop().await.unwrap();
}

/// CPU seconds this process has used (user and system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}
