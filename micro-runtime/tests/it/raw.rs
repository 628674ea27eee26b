//! Speaking the native transport by hand: frames, request heads, reading answers.

#![allow(dead_code)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Frame types.
pub const SETTINGS: u8 = 0;
pub const HEADERS: u8 = 1;
pub const DATA: u8 = 2;
pub const TRAILERS: u8 = 3;
pub const CANCEL: u8 = 4;
pub const GOAWAY: u8 = 6;
pub const PING: u8 = 7;

/// A native frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A request head for `path`.
pub fn head(path: &str) -> Vec<u8> {
    let mut p = vec![0u8];
    p.extend_from_slice(&0u64.to_be_bytes());
    p.extend_from_slice(&(path.len() as u16).to_be_bytes());
    p.extend_from_slice(path.as_bytes());
    p
}

/// Read frames until the one of `stream` with type `kind`; its payload.
pub async fn read_until(conn: &mut tokio::net::TcpStream, stream: u32, kind: u8) -> Vec<u8> {
    loop {
        let mut header = [0u8; 10];
        tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut header))
            .await
            .expect("an answer")
            .expect("an open connection");
        let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
        let mut payload = vec![0; len];
        conn.read_exact(&mut payload).await.unwrap();
        let id = u32::from_be_bytes(header[6..10].try_into().unwrap());
        if id == stream && header[4] == kind {
            return payload;
        }
    }
}

/// One frame: (type, flags, stream, payload); `None` when the connection closed.
pub async fn next_frame(conn: &mut tokio::net::TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut header = [0u8; 10];
    conn.read_exact(&mut header).await.ok()?;
    let len = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
    let mut payload = vec![0; len];
    conn.read_exact(&mut payload).await.ok()?;
    let id = u32::from_be_bytes(header[6..10].try_into().unwrap());
    Some((header[4], header[5], id, payload))
}

/// A connection to `addr` past the preface and the server's SETTINGS.
pub async fn connect(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"\0micro/1").await.unwrap();
    let settings = read_until(&mut conn, 0, SETTINGS).await;
    assert_eq!(settings.len(), 12, "calls, window, flags");
    conn
}

/// Frame types seen until the server closes the connection (panics after `within`).
pub async fn until_closed(conn: &mut tokio::net::TcpStream, within: Duration) -> Vec<u8> {
    tokio::time::timeout(within, async {
        let mut kinds = Vec::new();
        while let Some((kind, ..)) = next_frame(conn).await {
            kinds.push(kind);
        }
        kinds
    })
    .await
    .expect("the server closes the connection")
}
