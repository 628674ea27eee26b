//! micro's native transport: multiplexed calls over one TCP connection with compact framing.
//!
//! The native transport carries exactly what the gRPC path carries — the endpoint path,
//! the wire format, the deadline, metadata both ways, length-prefixed messages, and the
//! status with go-micro's error JSON — without HTTP/2's header compression, per-frame
//! bookkeeping and per-write flushes. Servers accept it on the same port as gRPC (the first
//! byte of a connection tells them apart), advertise it in node metadata
//! (`transport=native,grpc`), and micro clients prefer it when a node advertises it.
//!
//! # Wire format
//!
//! A connection starts with the client's 8-byte preface [`PREFACE`]; the server answers with
//! a `SETTINGS` frame. Every frame then is
//!
//! ```text
//! +------------+--------+--------+------------+-----------+
//! | length u32 | type u8| flags u8| stream u32 | payload … |
//! +------------+--------+--------+------------+-----------+
//! ```
//!
//! (big-endian; `length` counts the payload only). Types:
//!
//! | Type | Direction | Payload |
//! |---|---|---|
//! | `SETTINGS` | server → client, stream 0 | max concurrent calls u32, stream window u32, flags u32 (bit 0: answers `PING`; absent from older servers) |
//! | `HEADERS` | client → server | format u8, timeout µs u64 (0: none), path (u16 + bytes), metadata pairs |
//! | `HEADERS` | server → client | response metadata pairs |
//! | `DATA` | both | message bytes, each message prefixed as in gRPC (flag u8, length u32); flag `END`: the sender is done |
//! | `TRAILERS` | server → client | status pairs (`grpc-status`, `grpc-message`, `micro-error-bin`) and trailer metadata; empty means OK; ends the call |
//! | `CANCEL` | both | reason u8: 0 cancelled, 1 refused (the call never reached a handler) |
//! | `CREDIT` | both | bytes u32 the receiver has consumed on a stream |
//! | `GOAWAY` | server → client, stream 0 | the highest call id u32 the server took (absent from older servers): no new calls on this connection, and calls above that id never ran (safe to retry) |
//! | `PING` | both, stream 0 | 8 opaque bytes; flag `ACK` (1) marks the answer, which echoes them |
//!
//! A server pings a connection that has been quiet for its keepalive interval and closes it
//! when nothing arrives within the keepalive timeout; a client does the same while it has
//! calls open, so a peer that hangs (stopped, or cut off without a reset) is found and its
//! connection dropped. Only peers known to answer are pinged: a client pings a server whose
//! `SETTINGS` says it answers (and pings it once at the start, which tells the server that
//! the client answers too); older peers are left alone. A request head carries at most the server's header limit of metadata
//! (counted as HTTP/2 counts it); a head reusing the id of an open call is a protocol error
//! that closes the connection.
//!
//! Metadata pairs are repeated `key (u16 + bytes) value (u32 + bytes)` to the end of the
//! payload. Streams send `DATA` only while they hold credit: each side of a stream starts
//! with the window from `SETTINGS` and gets it back with `CREDIT` as the peer consumes.

mod answer;
pub(crate) mod client;
mod connector;
mod io;
mod liveness;
pub(crate) mod server;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::codec::Format;
use crate::context::Metadata;
use crate::error::{Error, Result};
use crate::wire::recv::FrameSource;
use crate::wire::status;

pub(crate) use connector::NativeConnector;
pub(crate) use io::{Frames, Read, Reader, Writer};
pub(crate) use server::NativeAcceptor;

/// What a client writes first. The leading zero byte can start neither an HTTP/1 request nor
/// the HTTP/2 preface, so one port serves both.
pub(crate) const PREFACE: &[u8; 8] = b"\0micro/1";

/// Frame header: length u32, type u8, flags u8, stream u32.
pub(crate) const HEADER: usize = 10;

/// Bytes a stream may have in flight in one direction before the receiver grants more.
pub(crate) const WINDOW: u32 = 1024 * 1024;

/// Frame types.
pub(crate) mod kind {
    pub(crate) const SETTINGS: u8 = 0;
    pub(crate) const HEADERS: u8 = 1;
    pub(crate) const DATA: u8 = 2;
    pub(crate) const TRAILERS: u8 = 3;
    pub(crate) const CANCEL: u8 = 4;
    pub(crate) const CREDIT: u8 = 5;
    pub(crate) const GOAWAY: u8 = 6;
    pub(crate) const PING: u8 = 7;
}

/// `PING` flag: this is the answer to a ping.
pub(crate) const ACK: u8 = 1;

/// `SETTINGS` flags (a third u32, absent from older servers): the server answers `PING`.
pub(crate) const SETTINGS_PING: u32 = 1;

/// `DATA` flag: the sender has no more messages on this stream.
pub(crate) const END: u8 = 1;

/// `CANCEL` reasons.
pub(crate) const CANCELLED: u8 = 0;
pub(crate) const REFUSED: u8 = 1;

/// Calls of one connection by stream id: a cheap hash (ids are small integers; one
/// connection holds at most its call limit, so even ids chosen to collide cost little).
pub(crate) type ByStream<V> =
    std::collections::HashMap<u32, V, std::hash::BuildHasherDefault<StreamIdHasher>>;

/// Hashes a stream id with one multiplication, folded so every bit of the id reaches the
/// low bits the table indexes by.
#[derive(Debug, Default)]
pub(crate) struct StreamIdHasher(u64);

impl std::hash::Hasher for StreamIdHasher {
    fn finish(&self) -> u64 {
        let p = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        p ^ (p >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n);
    }
}

/// A request head, parsed: the format, the caller's timeout, the path, the metadata pairs
/// and their size as HTTP/2 counts it.
pub(crate) struct Head {
    pub(crate) format: Format,
    pub(crate) timeout: Option<std::time::Duration>,
    pub(crate) path: Bytes,
    pub(crate) pairs: Bytes,
    pub(crate) size: usize,
}

impl Head {
    /// The path as text (checked UTF-8 by [`Head::parse`]).
    pub(crate) fn path(&self) -> &str {
        std::str::from_utf8(&self.path).unwrap_or_default()
    }

    /// Parse a `HEADERS` payload.
    pub(crate) fn parse(mut p: Bytes) -> Result<Head> {
        let bad = |what: &str| {
            Error::bad_request(
                "micro.server",
                format!("malformed native request head: {what}"),
            )
        };
        if p.len() < 11 {
            return Err(bad("too short"));
        }
        let format = format_from(p.get_u8()).ok_or_else(|| bad("unknown format"))?;
        let timeout_us = p.get_u64();
        let path_len = p.get_u16() as usize;
        if p.len() < path_len {
            return Err(bad("truncated path"));
        }
        let path = p.split_to(path_len);
        std::str::from_utf8(&path).map_err(|_| bad("path is not UTF-8"))?;
        let timeout = (timeout_us > 0).then(|| std::time::Duration::from_micros(timeout_us));
        let mut size = 0usize;
        pairs(&p, |k, v| size += k.len() + v.len() + 32)?;
        Ok(Head {
            format,
            timeout,
            path,
            pairs: p,
            size,
        })
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameHeader {
    pub(crate) len: usize,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    pub(crate) stream: u32,
}

impl FrameHeader {
    pub(crate) fn parse(b: &[u8]) -> FrameHeader {
        FrameHeader {
            len: u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
            kind: b[4],
            flags: b[5],
            stream: u32::from_be_bytes([b[6], b[7], b[8], b[9]]),
        }
    }
}

pub(crate) fn format_byte(format: Format) -> u8 {
    match format {
        Format::Proto => 0,
        Format::Json => 1,
        Format::MsgPack => 2,
    }
}

pub(crate) fn format_from(b: u8) -> Option<Format> {
    match b {
        0 => Some(Format::Proto),
        1 => Some(Format::Json),
        2 => Some(Format::MsgPack),
        _ => None,
    }
}

pub(crate) fn put_pair(buf: &mut BytesMut, key: &[u8], value: &[u8]) {
    // Keys over 64 KiB cannot be written; HTTP/2 peers reject them long before.
    let klen = u16::try_from(key.len()).unwrap_or(u16::MAX);
    let vlen = u32::try_from(value.len()).unwrap_or(u32::MAX);
    buf.put_u16(klen);
    buf.put_slice(&key[..klen as usize]);
    buf.put_u32(vlen);
    buf.put_slice(&value[..vlen as usize]);
}

/// User metadata as pairs (protocol keys left out, as on the gRPC path).
pub(crate) fn put_metadata(buf: &mut BytesMut, md: &Metadata) {
    for (k, v) in md.iter() {
        if !status::is_reserved(k) {
            put_pair(buf, k.as_bytes(), v.as_bytes());
        }
    }
}

/// A header map (status and trailers) as pairs.
pub(crate) fn put_headers(buf: &mut BytesMut, map: &HeaderMap) {
    for (k, v) in map {
        put_pair(buf, k.as_str().as_bytes(), v.as_bytes());
    }
}

fn protocol_error(what: &str) -> Error {
    Error::internal("micro.native", format!("malformed native frame: {what}"))
}

/// Walk the pairs of a payload.
pub(crate) fn pairs(mut b: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> Result<()> {
    while !b.is_empty() {
        if b.len() < 2 {
            return Err(protocol_error("truncated metadata key"));
        }
        let klen = b.get_u16() as usize;
        if b.len() < klen + 4 {
            return Err(protocol_error("truncated metadata key"));
        }
        let (key, rest) = b.split_at(klen);
        b = rest;
        let vlen = b.get_u32() as usize;
        if b.len() < vlen {
            return Err(protocol_error("truncated metadata value"));
        }
        let (value, rest) = b.split_at(vlen);
        b = rest;
        f(key, value);
    }
    Ok(())
}

/// Pairs into user metadata (protocol keys and non-UTF-8 values dropped).
pub(crate) fn read_metadata(b: &[u8], md: &mut Metadata) -> Result<()> {
    pairs(b, |k, v| {
        if let (Ok(k), Ok(v)) = (std::str::from_utf8(k), std::str::from_utf8(v))
            && !status::is_reserved(k)
        {
            md.insert(k, v);
        }
    })
}

/// Pairs into a header map (entries that are not valid headers are dropped).
pub(crate) fn read_headers(b: &[u8]) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    pairs(b, |k, v| {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k), HeaderValue::from_bytes(v)) {
            map.append(k, v);
        }
    })?;
    Ok(map)
}

/// Grants a stream's sender more credit as the receiver consumes its data.
#[derive(Debug)]
pub(crate) struct Grant {
    writer: std::sync::Arc<Writer>,
    stream: u32,
    pending: u32,
    /// Bytes received and not yet consumed, shared with the connection reader (server side),
    /// which ends a call whose peer sends past its credit.
    unread: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
}

impl Grant {
    pub(crate) fn new(writer: std::sync::Arc<Writer>, stream: u32) -> Grant {
        Grant {
            writer,
            stream,
            pending: 0,
            unread: None,
        }
    }

    /// Count consumed bytes off `unread`, which the connection reader adds to.
    pub(crate) fn tracking(
        mut self,
        unread: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> Grant {
        self.unread = Some(unread);
        self
    }

    /// `n` bytes were consumed: tell the sender once a quarter window has gathered.
    pub(crate) fn consumed(&mut self, n: usize) {
        if let Some(unread) = &self.unread {
            unread.fetch_sub(n, std::sync::atomic::Ordering::Relaxed);
        }
        // A frame larger than the window took the whole window, no more.
        let n = u32::try_from(n).unwrap_or(u32::MAX).min(WINDOW);
        self.pending = self.pending.saturating_add(n);
        if self.pending >= WINDOW / 4 {
            let credit = self.pending;
            self.pending = 0;
            self.writer.with(|f| {
                f.build(kind::CREDIT, 0, self.stream, |b| b.put_u32(credit));
            });
        }
    }
}

/// Send credit for one direction of a stream.
#[derive(Debug)]
pub(crate) struct Credit(tokio::sync::Semaphore);

impl Credit {
    pub(crate) fn new() -> Credit {
        Credit(tokio::sync::Semaphore::new(WINDOW as usize))
    }

    /// Wait until `len` bytes may be sent (a frame larger than the window waits for the whole
    /// window). False once the stream has ended.
    pub(crate) async fn take(&self, len: usize) -> bool {
        let n = u32::try_from(len.min(WINDOW as usize)).unwrap_or(WINDOW);
        if n == 0 {
            return !self.0.is_closed();
        }
        match self.0.acquire_many(n).await {
            Ok(permit) => {
                permit.forget();
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn add(&self, n: u32) {
        let room = tokio::sync::Semaphore::MAX_PERMITS - self.0.available_permits();
        self.0.add_permits((n as usize).min(room));
    }

    pub(crate) fn close(&self) {
        self.0.close();
    }
}

/// What the connection reader hands one call.
#[derive(Debug)]
pub(crate) enum Event {
    /// Response metadata pairs (client side).
    Head(Bytes),
    /// Message bytes.
    Data(Bytes),
    /// The sender is done (server side: the client half-closed).
    End,
    /// Status and trailer pairs; empty means OK (client side).
    Trailers(Bytes),
    /// The call failed: cancelled, refused, or the connection broke.
    Failed(Error),
}

/// The receiving end of one call, read by a [`RecvBody`](crate::wire::recv::RecvBody).
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
    /// An event read before the body was handed over (client side: the first one).
    pub(crate) first: Option<Event>,
    pub(crate) grant: Grant,
    /// Cancels the call when the receiver is dropped before its end (client side).
    pub(crate) guard: Option<client::CallGuard>,
}

impl FrameSource for Inbound {
    fn poll_frame(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>>>> {
        use std::task::Poll;
        loop {
            let event = match self.first.take() {
                Some(event) => event,
                None => match self.rx.poll_recv(cx) {
                    Poll::Ready(Some(event)) => event,
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => return Poll::Pending,
                },
            };
            match event {
                Event::Head(_) => continue,
                Event::Data(bytes) => {
                    self.grant.consumed(bytes.len());
                    return Poll::Ready(Some(Ok(http_body::Frame::data(bytes))));
                }
                Event::End => return Poll::Ready(None),
                Event::Trailers(pairs) => {
                    if let Some(guard) = &mut self.guard {
                        guard.finished();
                    }
                    let map = if pairs.is_empty() {
                        status::ok_trailers()
                    } else {
                        match read_headers(&pairs) {
                            Ok(map) => map,
                            Err(e) => return Poll::Ready(Some(Err(e))),
                        }
                    };
                    return Poll::Ready(Some(Ok(http_body::Frame::trailers(map))));
                }
                Event::Failed(e) => {
                    if let Some(guard) = &mut self.guard {
                        guard.finished();
                    }
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

/// Parse a `CREDIT` payload.
pub(crate) fn credit_of(payload: &[u8]) -> Option<u32> {
    payload
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
