//! The native client against a hand-written server.

use tokio::io::AsyncReadExt;

use super::*;
use crate::codec::Format;
use crate::transport::{Dialer, TcpDialer};

/// Accept one connection on `listener`: read the client's preface, send `SETTINGS`.
async fn accept_native(listener: &tokio::net::TcpListener) -> tokio::net::TcpStream {
    let (mut conn, _) = listener.accept().await.unwrap();
    let mut preface = [0u8; 8];
    conn.read_exact(&mut preface).await.unwrap();
    let mut out = BytesMut::new();
    out.put_u32(8);
    out.put_u8(kind::SETTINGS);
    out.put_u8(0);
    out.put_u32(0);
    out.put_u32(100);
    out.put_u32(super::super::WINDOW);
    conn.write_all(&out).await.unwrap();
    conn
}

/// A native server that answers every call with an empty message.
async fn answering_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut conn = accept_native(&listener).await;
        let mut header = [0u8; 10];
        while conn.read_exact(&mut header).await.is_ok() {
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
            let mut payload = vec![0u8; len as usize];
            conn.read_exact(&mut payload).await.unwrap();
            if header[4] == kind::DATA && header[5] & END != 0 {
                // An empty message, then empty trailers: OK.
                let mut t = vec![0, 0, 0, 5, kind::DATA, END];
                t.extend_from_slice(&header[6..10]);
                t.extend_from_slice(&[0; 5]);
                t.extend_from_slice(&[0, 0, 0, 0, kind::TRAILERS, 0]);
                t.extend_from_slice(&header[6..10]);
                conn.write_all(&t).await.unwrap();
            }
        }
    });
    addr
}

#[tokio::test]
async fn a_connection_retires_before_its_stream_ids_wrap() {
    let addr = answering_server().await;
    let io = TcpDialer.dial(&addr).await.unwrap();
    let conn = Conn::handshake(io, &addr, 1024, Duration::from_secs(10))
        .await
        .unwrap();
    conn.next.store(LAST_ID - 1, Ordering::Relaxed);
    let md = Metadata::new();
    let head = CallHead {
        path: "/a.B/C",
        format: Format::Proto,
        deadline: std::time::Instant::now() + Duration::from_secs(10),
        metadata: [&md, &md],
    };
    let frame = Bytes::from_static(&[0, 0, 0, 0, 0]);
    conn.unary(&head, frame.clone()).await.unwrap();
    assert!(
        !conn.is_closed(),
        "ids left: the connection still takes calls"
    );
    conn.unary(&head, frame.clone()).await.unwrap();
    assert!(
        conn.is_closed(),
        "at the last id the connection takes no new calls (the pool opens another)"
    );
    let err = conn.unary(&head, frame).await.unwrap_err();
    assert!(err.to_string().contains("closing"), "{err}");
}

/// A native server that takes two calls without answering them, then says `GOAWAY`
/// (naming call 1 as the last it took, or, like an older server, naming none) and hangs up.
async fn going_away_server(last: Option<u32>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut conn = accept_native(&listener).await;
        let mut header = [0u8; 10];
        let mut ended = 0;
        while ended < 2 && conn.read_exact(&mut header).await.is_ok() {
            let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
            let mut payload = vec![0u8; len as usize];
            conn.read_exact(&mut payload).await.unwrap();
            if header[4] == kind::DATA && header[5] & END != 0 {
                ended += 1;
            }
        }
        let mut away = BytesMut::new();
        away.put_u32(if last.is_some() { 4 } else { 0 });
        away.put_u8(kind::GOAWAY);
        away.put_u8(0);
        away.put_u32(0);
        if let Some(last) = last {
            away.put_u32(last);
        }
        conn.write_all(&away).await.unwrap();
    });
    addr
}

/// Two concurrent unary calls on a connection to `addr`: how each failed.
async fn two_calls_failures(addr: &str) -> (Failure, Failure) {
    let io = TcpDialer.dial(addr).await.unwrap();
    let conn = Conn::handshake(io, addr, 1024, Duration::from_secs(10))
        .await
        .unwrap();
    let md = Metadata::new();
    let head = CallHead {
        path: "/a.B/C",
        format: Format::Proto,
        deadline: std::time::Instant::now() + Duration::from_secs(10),
        metadata: [&md, &md],
    };
    let frame = Bytes::from_static(&[0, 0, 0, 0, 0]);
    let first = conn.unary(&head, frame.clone());
    let second = async {
        // Call 2 goes out after call 1 (ids reach the wire in order).
        tokio::task::yield_now().await;
        conn.unary(&head, frame.clone()).await
    };
    let (a, b) = tokio::join!(first, second);
    (a.unwrap_err().failure(), b.unwrap_err().failure())
}

#[tokio::test]
async fn calls_above_the_last_id_in_goaway_fail_as_never_sent() {
    let addr = going_away_server(Some(1)).await;
    assert_eq!(
        two_calls_failures(&addr).await,
        (Failure::AfterSend, Failure::BeforeSend),
        "call 1 was taken (it may have run); call 2 never ran, so it may go elsewhere"
    );
}

#[tokio::test]
async fn a_goaway_without_an_id_leaves_every_open_call_in_doubt() {
    let addr = going_away_server(None).await;
    assert_eq!(
        two_calls_failures(&addr).await,
        (Failure::AfterSend, Failure::AfterSend)
    );
}
