//! The native transport's byte I/O: a batching [`Writer`] (callers queue frames; one task
//! writes every frame queued meanwhile in one write) and a [`Reader`] that splits the stream
//! into frames, skipping those over the size limit.

use std::io::IoSlice;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::{FrameHeader, HEADER, PREFACE};

/// Payloads from this size on are written from their own buffer instead of being copied
/// into the batch.
const COPY_LIMIT: usize = 16 * 1024;

/// The outgoing half of a connection: callers append frames, one task writes them out in
/// batches (every frame queued while a write is in progress goes out with the next one).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    state: Mutex<Batch>,
    ready: Notify,
    /// Bytes queued and not yet taken by the writer task.
    queued: AtomicUsize,
    /// Signalled when the writer task takes the queue while someone waits for it.
    taken: Notify,
    /// Someone waits in [`Writer::drained`].
    waiting: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct Batch {
    /// Large payloads and the bytes before them, in order.
    chunks: Vec<Bytes>,
    /// Bytes in `chunks`.
    chunk_bytes: usize,
    /// Bytes after the last chunk.
    tail: BytesMut,
    closed: bool,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.tail.is_empty()
    }

    fn len(&self) -> usize {
        self.chunk_bytes + self.tail.len()
    }

    fn header(&mut self, kind: u8, flags: u8, stream: u32, len: usize) {
        if self.tail.capacity() - self.tail.len() < HEADER {
            self.tail.reserve(4096);
        }
        self.tail.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
        self.tail.put_u8(kind);
        self.tail.put_u8(flags);
        self.tail.put_u32(stream);
    }

    fn payload(&mut self, payload: Bytes) {
        if payload.len() >= COPY_LIMIT {
            if !self.tail.is_empty() {
                let head = self.tail.split().freeze();
                self.chunk_bytes += head.len();
                self.chunks.push(head);
            }
            self.chunk_bytes += payload.len();
            self.chunks.push(payload);
        } else {
            self.tail.extend_from_slice(&payload);
        }
    }
}

impl Writer {
    /// Queue frames with `f`; false when the connection is closed.
    pub(crate) fn with(&self, f: impl FnOnce(&mut Frames<'_>)) -> bool {
        let mut batch = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if batch.closed {
            return false;
        }
        let was_empty = batch.is_empty();
        f(&mut Frames(&mut batch));
        self.queued.store(batch.len(), Ordering::Relaxed);
        if was_empty {
            drop(batch);
            self.ready.notify_one();
        }
        true
    }

    /// Queue one frame.
    pub(crate) fn frame(&self, kind: u8, flags: u8, stream: u32, payload: Bytes) -> bool {
        self.with(|f| f.frame(kind, flags, stream, payload))
    }

    /// Queue a frame with an empty payload.
    pub(crate) fn signal(&self, kind: u8, flags: u8, stream: u32) -> bool {
        self.with(|f| f.empty(kind, flags, stream))
    }

    /// Stop taking frames; the writer task ends once the queued ones are out.
    pub(crate) fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.ready.notify_one();
    }

    /// Bytes queued that the socket has not taken yet: grows while the peer does not read.
    pub(crate) fn backlog(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Wait until the backlog is at most `limit` bytes.
    pub(crate) async fn drained(&self, limit: usize) {
        loop {
            let taken = self.taken.notified();
            tokio::pin!(taken);
            taken.as_mut().enable();
            self.waiting.store(true, Ordering::SeqCst);
            if self.queued.load(Ordering::SeqCst) <= limit || self.is_closed() {
                return;
            }
            taken.await;
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed
    }

    /// Write queued frames until the writer is closed and drained, or the socket fails.
    pub(crate) async fn run<W: tokio::io::AsyncWrite + Unpin>(&self, mut io: W) {
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut spare = BytesMut::with_capacity(16 * 1024);
        loop {
            let took = {
                let mut batch = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if batch.is_empty() {
                    if batch.closed {
                        break;
                    }
                    false
                } else {
                    std::mem::swap(&mut chunks, &mut batch.chunks);
                    std::mem::swap(&mut spare, &mut batch.tail);
                    batch.chunk_bytes = 0;
                    self.queued.store(0, Ordering::SeqCst);
                    true
                }
            };
            if !took {
                self.ready.notified().await;
                continue;
            }
            if self.waiting.swap(false, Ordering::SeqCst) {
                self.taken.notify_one();
            }
            let ok = if chunks.is_empty() {
                io.write_all(&spare).await.is_ok()
            } else {
                chunks.push(spare.split().freeze());
                write_chunks(&mut io, &mut chunks).await
            };
            chunks.clear();
            spare.clear();
            if !ok {
                self.close();
                break;
            }
        }
        let _ = io.shutdown().await;
    }
}

async fn write_chunks<W: tokio::io::AsyncWrite + Unpin>(io: &mut W, chunks: &mut [Bytes]) -> bool {
    let mut at = 0;
    while at < chunks.len() {
        let slices: Vec<IoSlice<'_>> = chunks[at..]
            .iter()
            .filter(|c| !c.is_empty())
            .take(64)
            .map(|c| IoSlice::new(c))
            .collect();
        if slices.is_empty() {
            return true;
        }
        let mut n = match io.write_vectored(&slices).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        while n > 0 && at < chunks.len() {
            let len = chunks[at].len();
            if n >= len {
                n -= len;
                chunks[at].clear();
                at += 1;
            } else {
                chunks[at].advance(n);
                n = 0;
            }
        }
        while at < chunks.len() && chunks[at].is_empty() {
            at += 1;
        }
    }
    true
}

/// Frames being queued under the writer's lock.
pub(crate) struct Frames<'a>(&'a mut Batch);

impl Frames<'_> {
    /// A frame with `payload`.
    pub(crate) fn frame(&mut self, kind: u8, flags: u8, stream: u32, payload: Bytes) {
        self.0.header(kind, flags, stream, payload.len());
        self.0.payload(payload);
    }

    /// A frame without payload.
    pub(crate) fn empty(&mut self, kind: u8, flags: u8, stream: u32) {
        self.0.header(kind, flags, stream, 0);
    }

    /// A frame whose payload `f` writes straight into the batch.
    pub(crate) fn build(
        &mut self,
        kind: u8,
        flags: u8,
        stream: u32,
        f: impl FnOnce(&mut BytesMut),
    ) {
        let at = self.0.tail.len();
        self.0.header(kind, flags, stream, 0);
        f(&mut self.0.tail);
        let len = self.0.tail.len() - at - HEADER;
        let len = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
        self.0.tail[at..at + 4].copy_from_slice(&len);
    }
}

/// Reads frames off a socket.
pub(crate) struct Reader<R> {
    io: R,
    buf: BytesMut,
    max: usize,
    /// The limit for `HEADERS` frames (at most `max`).
    max_head: usize,
    /// Why reading stopped, when it failed rather than ended.
    failure: Option<std::io::Error>,
}

/// What the reader got.
pub(crate) enum Read {
    Frame(FrameHeader, Bytes),
    /// A frame over the size limit; its payload was skipped.
    TooLarge(FrameHeader),
    /// The peer closed the connection (or it failed).
    Closed,
}

impl<R: tokio::io::AsyncRead + Unpin> Reader<R> {
    pub(crate) fn new(io: R, max: usize) -> Reader<R> {
        Reader {
            io,
            buf: BytesMut::with_capacity(64 * 1024),
            max,
            max_head: max,
            failure: None,
        }
    }

    /// Hold `HEADERS` frames to `max` bytes.
    pub(crate) fn heads_up_to(mut self, max: usize) -> Reader<R> {
        self.max_head = max.min(self.max);
        self
    }

    async fn fill(&mut self, want: usize) -> bool {
        use tokio::io::AsyncReadExt;
        while self.buf.len() < want {
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve((want - self.buf.len()).max(64 * 1024));
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) => return false,
                Err(e) => {
                    self.failure = Some(e);
                    return false;
                }
                Ok(_) => {}
            }
        }
        true
    }

    /// Why reading stopped, when it failed (a reset, a TLS alert) rather than ended.
    pub(crate) fn failure(&self) -> Option<&std::io::Error> {
        self.failure.as_ref()
    }

    /// The next frame.
    pub(crate) async fn next(&mut self) -> Read {
        if !self.fill(HEADER).await {
            return Read::Closed;
        }
        let head = FrameHeader::parse(&self.buf[..HEADER]);
        let max = if head.kind == super::kind::HEADERS {
            self.max_head
        } else {
            self.max
        };
        if head.len > max {
            self.buf.advance(HEADER);
            let mut left = head.len;
            while left > 0 {
                if self.buf.is_empty() && !self.fill(1).await {
                    return Read::Closed;
                }
                let n = left.min(self.buf.len());
                self.buf.advance(n);
                left -= n;
            }
            return Read::TooLarge(head);
        }
        if !self.fill(HEADER + head.len).await {
            return Read::Closed;
        }
        self.buf.advance(HEADER);
        let payload = self.buf.split_to(head.len).freeze();
        Read::Frame(head, payload)
    }

    /// Read and check the client preface.
    pub(crate) async fn preface(&mut self) -> bool {
        if !self.fill(PREFACE.len()).await || &self.buf[..PREFACE.len()] != PREFACE {
            return false;
        }
        self.buf.advance(PREFACE.len());
        true
    }
}
