//! The client side of the native transport: one connection per node, calls multiplexed on
//! it, a reader task routing frames to calls and a batching writer.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http_body::Frame;
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::{
    CANCELLED, Credit, END, Event, Frames, Grant, Inbound, PREFACE, REFUSED, Read, Reader, Writer,
    kind,
};
use crate::context::Metadata;
use crate::error::{Code, Error, Failure, Result};
use crate::transport::io::ReadHalf;
use crate::transport::{CallHead, Io, StreamStart, UnaryReply};
use crate::wire::body::coalesce;
use crate::wire::frame::{Decoder, too_large};
use crate::wire::recv::{PendingHead, RecvBody, ResponseHead, Side};
use crate::wire::status;

const ID: &str = "micro.client";

/// The last stream id a connection hands out before it retires (the room above it covers
/// callers racing past the check).
const LAST_ID: u32 = u32::MAX - (1 << 16);

/// Room for response heads on top of the largest message a frame may carry.
const HEAD_ROOM: usize = 64 * 1024;

struct Slot {
    sink: Sink,
    credit: Option<Arc<Credit>>,
    /// One of the calls the server takes at once, given back when the call ends.
    _permit: OwnedSemaphorePermit,
}

/// Where the reader puts what arrives for a call.
enum Sink {
    /// A stream: every event, as it comes, and how many bytes wait there unread.
    Stream(mpsc::UnboundedSender<Event>, Arc<AtomicUsize>),
    /// A unary call: gathered here, handed over at the end in one piece.
    Unary {
        head: Option<Bytes>,
        first: Option<Bytes>,
        rest: Vec<Bytes>,
        done: oneshot::Sender<Reply>,
    },
}

/// A unary call's response, handed over when it ended.
struct Reply {
    head: Option<Bytes>,
    first: Option<Bytes>,
    rest: Vec<Bytes>,
    /// `Trailers` or `Failed`.
    end: Event,
}

impl Slot {
    /// Response metadata or data arrived. False when the server sent more than the call
    /// may hold: past its credit on a stream, past one message on a unary call.
    fn push(&mut self, event: Event, max: usize) -> bool {
        match &mut self.sink {
            Sink::Stream(tx, unread) => {
                if let Event::Data(bytes) = &event {
                    let held = unread.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
                    if held > 2 * super::WINDOW as usize + max + HEAD_ROOM {
                        return false;
                    }
                }
                let _ = tx.send(event);
            }
            Sink::Unary {
                head, first, rest, ..
            } => match event {
                Event::Head(pairs) => *head = Some(pairs),
                Event::Data(bytes) if first.is_none() => *first = Some(bytes),
                Event::Data(bytes) => {
                    rest.push(bytes);
                    let held: usize = first.as_ref().map_or(0, Bytes::len)
                        + rest.iter().map(Bytes::len).sum::<usize>();
                    if held > max + 5 {
                        return false;
                    }
                }
                _ => {}
            },
        }
        true
    }

    /// The call ended with `event` (`Trailers` or `Failed`).
    fn end(self, event: Event) {
        if let Some(credit) = &self.credit {
            credit.close();
        }
        match self.sink {
            Sink::Stream(tx, _) => {
                let _ = tx.send(event);
            }
            Sink::Unary {
                head,
                first,
                rest,
                done,
            } => {
                let _ = done.send(Reply {
                    head,
                    first,
                    rest,
                    end: event,
                });
            }
        }
    }
}

/// One native connection to a node.
pub(crate) struct Conn {
    addr: String,
    writer: Arc<Writer>,
    calls: Mutex<super::ByStream<Slot>>,
    next: AtomicU32,
    /// Calls the server takes at once (from its `SETTINGS`).
    limit: Arc<Semaphore>,
    /// Largest response message.
    max_recv: usize,
    /// Set when the connection broke or the server said `GOAWAY`: no new calls.
    closed: AtomicBool,
    /// The highest call id the server took, from its `GOAWAY` (`u32::MAX` until then, or
    /// from servers that do not say): a call above it never ran.
    last_taken: AtomicU32,
    /// Frames read so far (keepalive watches it move).
    frames: std::sync::atomic::AtomicU64,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Ends the writer task (and with it the connection).
        self.writer.close();
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("native::Conn")
            .field("addr", &self.addr)
            .field("closed", &self.is_closed())
            .field("calls", &self.slots_len())
            .finish_non_exhaustive()
    }
}

/// Cancels a call that is dropped before it ended.
#[derive(Debug)]
pub(crate) struct CallGuard {
    conn: Weak<Conn>,
    id: u32,
    done: bool,
}

impl CallGuard {
    pub(crate) fn finished(&mut self) {
        self.done = true;
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(conn) = self.conn.upgrade() {
            let slot = conn.slots().remove(&self.id);
            if let Some(slot) = slot {
                if let Some(credit) = &slot.credit {
                    credit.close();
                }
                drop(slot);
                conn.writer.with(|f| {
                    f.build(kind::CANCEL, 0, self.id, |b| b.put_u8(CANCELLED));
                });
            }
        }
    }
}

/// A call's `HEADERS` payload.
fn encode_head(head: &CallHead<'_>, b: &mut BytesMut) {
    b.put_u8(super::format_byte(head.format));
    let us = u64::try_from(head.timeout().as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    b.put_u64(us);
    let path = head.path.as_bytes();
    let len = u16::try_from(path.len()).unwrap_or(u16::MAX);
    b.put_u16(len);
    b.put_slice(&path[..len as usize]);
    for md in head.metadata {
        super::put_metadata(b, md);
    }
}

impl Conn {
    /// Agree on the native transport over `io`, a fresh connection to `addr`.
    pub(crate) async fn handshake(
        io: Box<dyn Io>,
        addr: &str,
        max_recv: usize,
        keepalive: Duration,
    ) -> Result<Arc<Conn>> {
        let (rd, mut wr) = io.into_halves();
        wr.write_all(PREFACE)
            .await
            .map_err(|e| Error::unsent("native handshake with", addr, e))?;
        let mut reader = Reader::new(rd, max_recv.saturating_add(HEAD_ROOM));
        let settings = match reader.next().await {
            Read::Frame(head, payload) if head.kind == kind::SETTINGS && payload.len() >= 8 => {
                payload
            }
            Read::Closed => {
                let why = match reader.failure() {
                    Some(e) => crate::transport::tls::explain(e),
                    None => "the server closed the connection: it may serve TLS only (set MICRO_TLS_CA_FILE), require a client certificate (MICRO_TLS_CERT_FILE, MICRO_TLS_KEY_FILE) or speak gRPC only (MICRO_TRANSPORT=grpc)".to_owned(),
                };
                return Err(Error::unsent("native handshake with", addr, why));
            }
            _ => {
                return Err(Error::unsent(
                    "native handshake with",
                    addr,
                    "the server does not speak micro's native transport (set MICRO_TRANSPORT=grpc)",
                ));
            }
        };
        let max_calls = u32::from_be_bytes([settings[0], settings[1], settings[2], settings[3]]);
        let max_calls = max_calls.max(1);
        let conn = Arc::new(Conn {
            addr: addr.to_owned(),
            writer: Arc::new(Writer::default()),
            calls: Mutex::new(super::ByStream::default()),
            next: AtomicU32::new(1),
            limit: Arc::new(Semaphore::new(max_calls as usize)),
            max_recv,
            closed: AtomicBool::new(false),
            last_taken: AtomicU32::new(u32::MAX),
            frames: std::sync::atomic::AtomicU64::new(0),
        });
        let writer = conn.writer.clone();
        let writing = tokio::spawn(async move { writer.run(wr).await });
        let reading = tokio::spawn(read_loop(Arc::downgrade(&conn), reader));
        // Keepalive only with a server that says it answers pings (older ones ignore them);
        // the first ping tells the server this client answers its pings too.
        let flags = settings
            .get(8..12)
            .map_or(0, |f| u32::from_be_bytes([f[0], f[1], f[2], f[3]]));
        if flags & super::SETTINGS_PING != 0 {
            conn.writer
                .with(|f| f.frame(kind::PING, 0, 0, Bytes::from_static(&[0; 8])));
            tokio::spawn(keep::keep_alive(
                Arc::downgrade(&conn),
                keepalive,
                [reading.abort_handle(), writing.abort_handle()],
            ));
        }
        Ok(conn)
    }

    /// The connection is gone: no new calls, and every open call fails.
    fn lost_all(&self) {
        self.closed.store(true, Ordering::Release);
        self.writer.close();
        let slots: Vec<(u32, Slot)> = self.slots().drain().collect();
        let last = self.last_taken.load(Ordering::Acquire);
        for (id, slot) in slots {
            let err = if id > last {
                // The server said it stopped taking calls before this one: it never ran.
                Error::unsent(
                    "call to",
                    &self.addr,
                    "the server stopped taking calls before this one",
                )
            } else {
                lost(&self.addr)
            };
            slot.end(Event::Failed(err));
        }
        self.limit.close();
    }

    fn slots_len(&self) -> usize {
        self.slots().len()
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, super::ByStream<Slot>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True once no new calls may start on this connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.writer.is_closed()
    }

    fn refused(&self) -> Error {
        Error::unsent("call to", &self.addr, "the connection is closing")
    }

    /// Register a new call (waiting while the server's limit of calls is reached) and queue
    /// its first frames with `write`. The id is taken under the writer's lock, so calls reach
    /// the wire in id order: a `GOAWAY` naming the last call taken then tells exactly which
    /// calls never ran.
    async fn open(
        self: &Arc<Self>,
        sink: Sink,
        credit: Option<Arc<Credit>>,
        write: impl FnOnce(&mut Frames<'_>, u32),
    ) -> Result<(u32, CallGuard)> {
        let permit = self
            .limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| self.refused())?;
        let mut opened = None;
        self.writer.with(|f| {
            if self.closed.load(Ordering::Acquire) {
                return;
            }
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            if id >= LAST_ID {
                // Ids are never reused on a connection: retire it before they wrap, so the
                // next call opens a fresh one.
                self.closed.store(true, Ordering::Release);
                if id > u32::MAX - 16 {
                    return;
                }
            }
            self.slots().insert(
                id,
                Slot {
                    sink,
                    credit,
                    _permit: permit,
                },
            );
            write(f, id);
            opened = Some(id);
        });
        let id = opened.ok_or_else(|| self.refused())?;
        let guard = CallGuard {
            conn: Arc::downgrade(self),
            id,
            done: false,
        };
        Ok((id, guard))
    }

    /// One unary call: the request frame out, the response message and metadata back.
    pub(crate) async fn unary(
        self: &Arc<Self>,
        head: &CallHead<'_>,
        frame: Bytes,
    ) -> Result<UnaryReply> {
        let (done, reply) = oneshot::channel();
        let sink = Sink::Unary {
            head: None,
            first: None,
            rest: Vec::new(),
            done,
        };
        let (_, mut guard) = self
            .open(sink, None, |f, id| {
                f.build(kind::HEADERS, 0, id, |b| encode_head(head, b));
                f.frame(kind::DATA, END, id, frame);
            })
            .await?;
        let reply = reply.await;
        guard.finished();
        let Ok(reply) = reply else {
            return Err(lost(&self.addr));
        };
        let pairs = match reply.end {
            Event::Trailers(pairs) => pairs,
            Event::Failed(e) => return Err(e),
            _ => return Err(lost(&self.addr)),
        };
        let trailers = status(&pairs, &self.addr)?;
        let mut md = Metadata::new();
        if let Some(head) = &reply.head {
            super::read_metadata(head, &mut md)?;
        }
        let mut decoder = Decoder::new(self.max_recv, ID, "response message");
        if let Some(first) = reply.first {
            decoder.push(first);
        }
        for more in reply.rest {
            decoder.push(more);
        }
        let Some(message) = decoder.next()? else {
            decoder.finish()?;
            return Err(Error::internal(
                ID,
                format!("{} answered without a message", self.addr),
            ));
        };
        if decoder.next()?.is_some() {
            return Err(Error::internal(
                ID,
                format!("{} sent more than one response message", self.addr),
            ));
        }
        decoder.finish()?;
        Ok(UnaryReply {
            message,
            headers: md,
            trailers,
        })
    }

    /// Open a stream: requests go through the returned sender, responses come through the
    /// returned head (which resolves once the server answered).
    pub(crate) async fn stream(self: &Arc<Self>, head: &CallHead<'_>) -> Result<StreamStart> {
        let credit = Arc::new(Credit::new());
        let (tx, rx) = mpsc::unbounded_channel();
        let unread = Arc::new(AtomicUsize::new(0));
        let sink = Sink::Stream(tx, unread.clone());
        let (id, guard) = self
            .open(sink, Some(credit.clone()), |f, id| {
                f.build(kind::HEADERS, 0, id, |b| encode_head(head, b));
            })
            .await?;
        let (tx, body_rx) = mpsc::channel(crate::stream::STREAM_BUFFER);
        tokio::spawn(send_loop(self.clone(), id, body_rx, credit));
        let inbound = Inbound {
            rx,
            first: None,
            grant: Grant::new(self.writer.clone(), id).tracking(unread),
            guard: Some(guard),
        };
        let head: PendingHead = Box::pin(response_head(inbound, self.max_recv, self.addr.clone()));
        Ok(StreamStart { requests: tx, head })
    }
}

/// The response head of a stream: headers, or the status of a trailers-only answer.
async fn response_head(
    mut inbound: Inbound,
    max: usize,
    addr: String,
) -> Result<(ResponseHead, Metadata)> {
    let mut md = Metadata::new();
    loop {
        match inbound.rx.recv().await {
            Some(Event::Head(pairs)) => {
                super::read_metadata(&pairs, &mut md)?;
                return Ok((
                    ResponseHead::Body(RecvBody::new(inbound, max, Side::Client)),
                    md,
                ));
            }
            Some(event @ (Event::Data(_) | Event::Failed(_))) => {
                inbound.first = Some(event);
                return Ok((
                    ResponseHead::Body(RecvBody::new(inbound, max, Side::Client)),
                    md,
                ));
            }
            Some(Event::Trailers(pairs)) => {
                if let Some(guard) = &mut inbound.guard {
                    guard.finished();
                }
                // Trailers-only: the status (and metadata) came without messages.
                let result = status(&pairs, &addr).map(|trailers| {
                    md = trailers;
                });
                return Ok((ResponseHead::TrailersOnly(result), md));
            }
            Some(Event::End) => {}
            None => return Err(lost(&addr)),
        }
    }
}

fn lost(addr: &str) -> Error {
    Error::unavailable(ID, format!("connection to {addr} was lost during the call"))
        .with_failure(Failure::AfterSend)
}

/// The status in a `TRAILERS` payload: the trailer metadata, or the error.
fn status(pairs: &[u8], addr: &str) -> Result<Metadata> {
    let mut trailers = Metadata::new();
    if pairs.is_empty() {
        return Ok(trailers);
    }
    let map = super::read_headers(pairs)?;
    status::headers_to_metadata(&map, &mut trailers);
    match status::status_from_headers(&map) {
        Some(Ok(())) => Ok(trailers),
        Some(Err(e)) => Err(e),
        None => Err(Error::internal(
            ID,
            format!("{addr} ended the call without a status"),
        )),
    }
}

/// Send a stream's request messages within its credit; half-close when the sender is
/// dropped.
async fn send_loop(
    conn: Arc<Conn>,
    id: u32,
    mut rx: mpsc::Receiver<Frame<Bytes>>,
    credit: Arc<Credit>,
) {
    let mut next: Option<Frame<Bytes>> = None;
    loop {
        let frame = match next.take() {
            Some(frame) => frame,
            None => match rx.recv().await {
                Some(frame) => frame,
                None => {
                    conn.writer.signal(kind::DATA, END, id);
                    break;
                }
            },
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let data = coalesce(data, &mut rx, &mut next);
        if !credit.take(data.len()).await {
            break;
        }
        if !conn.writer.frame(kind::DATA, 0, id, data) {
            break;
        }
    }
}

async fn read_loop(conn: Weak<Conn>, mut reader: Reader<ReadHalf>) {
    loop {
        let read = reader.next().await;
        let Some(conn) = conn.upgrade() else {
            return;
        };
        conn.frames.fetch_add(1, Ordering::Relaxed);
        match read {
            Read::Frame(head, payload) => {
                let id = head.stream;
                match head.kind {
                    kind::HEADERS | kind::DATA => {
                        let mut slots = conn.slots();
                        let event = if head.kind == kind::HEADERS {
                            Event::Head(payload)
                        } else {
                            Event::Data(payload)
                        };
                        let held = slots
                            .get_mut(&id)
                            .is_none_or(|slot| slot.push(event, conn.max_recv));
                        if !held && let Some(slot) = slots.remove(&id) {
                            drop(slots);
                            slot.end(Event::Failed(Error::from_code(
                                ID,
                                Code::ResourceExhausted,
                                format!(
                                    "{} sent more than the call may hold (past its flow-control credit, or more than one response message)",
                                    conn.addr
                                ),
                            )));
                            conn.writer.with(|f| {
                                f.build(kind::CANCEL, 0, id, |b| b.put_u8(CANCELLED));
                            });
                        }
                    }
                    kind::TRAILERS => {
                        let slot = conn.slots().remove(&id);
                        if let Some(slot) = slot {
                            slot.end(Event::Trailers(payload));
                        }
                    }
                    kind::CANCEL => {
                        let slot = conn.slots().remove(&id);
                        if let Some(slot) = slot {
                            let err = if payload.first() == Some(&REFUSED) {
                                Error::unsent("call to", &conn.addr, "the server refused the call")
                            } else {
                                Error::cancelled(ID, "the server cancelled the call")
                            };
                            slot.end(Event::Failed(err));
                        }
                    }
                    kind::CREDIT => {
                        if let Some(n) = super::credit_of(&payload)
                            && let Some(Some(credit)) =
                                conn.slots().get(&id).map(|s| s.credit.clone())
                        {
                            credit.add(n);
                        }
                    }
                    kind::GOAWAY => {
                        if let Some(last) = payload.get(..4) {
                            let last = u32::from_be_bytes([last[0], last[1], last[2], last[3]]);
                            conn.last_taken.store(last, Ordering::Release);
                        }
                        conn.closed.store(true, Ordering::Release);
                    }
                    kind::PING if head.flags & super::ACK == 0 => {
                        conn.writer
                            .with(|f| f.frame(kind::PING, super::ACK, 0, payload));
                    }
                    _ => {}
                }
            }
            Read::TooLarge(head) => {
                let slot = conn.slots().remove(&head.stream);
                if let Some(slot) = slot {
                    let err = if head.kind == kind::DATA {
                        too_large(ID, "response message", head.len, conn.max_recv)
                    } else {
                        Error::from_code(ID, Code::ResourceExhausted, "response head too large")
                    };
                    slot.end(Event::Failed(err));
                    conn.writer.with(|f| {
                        f.build(kind::CANCEL, 0, head.stream, |b| b.put_u8(CANCELLED));
                    });
                }
            }
            Read::Closed => {
                conn.lost_all();
                return;
            }
        }
    }
}

mod keep;
#[cfg(test)]
mod tests;
