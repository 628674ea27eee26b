//! The server side of the native transport: one reader per connection, a task per call, one
//! batching writer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes};
use http::HeaderMap;
use tokio::sync::{Notify, mpsc, watch};

use super::{Credit, END, Event, Grant, Inbound, PREFACE, REFUSED, Read, Reader, Writer, kind};
use crate::codec::Format;
use crate::context::{Context, SharedResponse};
use crate::endpoint::{Dispatch, HandlerRequest, Input, Output, Route, with_deadline};
use crate::error::{Code, Error, Result};
use crate::transport::{Acceptor, BoxFuture, Io};
use crate::wire::body::AbortOnDrop;
use crate::wire::frame::{Decoder, too_large};
use crate::wire::recv::{RecvBody, Side};
use crate::wire::status;

const ID: &str = "micro.server";

/// Room for the request head on top of the largest message a frame may carry.
const HEAD_ROOM: usize = 64 * 1024;

/// A call whose request message is still arriving.
struct Pending {
    route: Arc<Route>,
    ctx: Context,
    format: Format,
    decoder: Decoder,
}

/// A call being handled.
struct Active {
    abort: Option<tokio::task::AbortHandle>,
    credit: Arc<Credit>,
    input: Option<Requests>,
}

/// The request side of a client-streaming call: where its messages go, and how many bytes
/// wait there unread.
struct Requests {
    tx: mpsc::UnboundedSender<Event>,
    unread: Arc<AtomicUsize>,
}

pub(super) struct Conn {
    pub(super) writer: Arc<Writer>,
    /// Frames read so far (the keeper watches it move).
    pub(super) frames: std::sync::atomic::AtomicU64,
    /// No new calls: the server stops, or the connection is idle or old.
    pub(super) draining: std::sync::atomic::AtomicBool,
    /// The highest call id taken before draining began (sent in `GOAWAY`: later calls never
    /// ran, so the client may retry them elsewhere).
    highest: std::sync::atomic::AtomicU32,
    /// The peer pinged, so it answers pings (older clients ignore them: they are not
    /// pinged).
    pub(super) pings: std::sync::atomic::AtomicBool,
    calls: Mutex<super::ByStream<Active>>,
    /// Signalled whenever a call ends (a draining connection closes after the last one).
    ended: Notify,
    shared: Arc<Dispatch>,
    pub(super) peer: Option<SocketAddr>,
}

impl Conn {
    fn calls(&self) -> std::sync::MutexGuard<'_, super::ByStream<Active>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take no new calls: send `GOAWAY` with the highest call id taken so far. Done under
    /// the calls lock, where `HEADERS` are taken or refused, so every call above that id is
    /// refused and the client knows it never ran.
    pub(super) fn go_away(&self) {
        let _calls = self.calls();
        if self.draining.swap(true, Ordering::Relaxed) {
            return;
        }
        let last = self.highest.load(Ordering::Relaxed);
        self.writer
            .with(|f| f.build(kind::GOAWAY, 0, 0, |b| b.put_u32(last)));
    }

    /// No call is open.
    pub(super) fn idle(&self) -> bool {
        self.calls().is_empty()
    }

    fn finish(&self, id: u32) {
        if let Some(active) = self.calls().remove(&id) {
            active.credit.close();
        }
        self.ended.notify_one();
    }

    /// End call `id` with `err` (and whatever metadata the handler set).
    fn fail(&self, id: u32, err: &Error, response: Option<&SharedResponse>) {
        let mut map = HeaderMap::new();
        status::error_headers(err, &mut map);
        if let Some(response) = response {
            let r = response.lock().unwrap_or_else(|e| e.into_inner());
            status::metadata_to_headers(&r.trailers, &mut map);
        }
        self.writer.with(|f| {
            if let Some(response) = response {
                super::answer::head_frame(f, id, response);
            }
            f.build(kind::TRAILERS, 0, id, |b| super::put_headers(b, &map));
        });
    }
}

/// Serves the native transport on accepted connections (over TCP, or an in-process pipe).
#[derive(Debug, Default)]
pub(crate) struct NativeAcceptor;

impl Acceptor for NativeAcceptor {
    fn claims(&self, first: u8) -> bool {
        first == PREFACE[0]
    }

    fn serve(
        &self,
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        dispatch: Arc<Dispatch>,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        Box::pin(serve(io, peer, dispatch, shutdown))
    }
}

/// What the reader does after a frame.
enum Flow {
    Go,
    /// The peer broke the protocol: close the connection.
    Close(&'static str),
}

/// Serve native calls on `io`.
async fn serve(
    io: Box<dyn Io>,
    peer: Option<SocketAddr>,
    shared: Arc<Dispatch>,
    shutdown: watch::Receiver<bool>,
) {
    let (rd, wr) = io.into_halves();
    let limits = shared.limits;
    let mut reader = Reader::new(rd, limits.max_recv.saturating_add(HEAD_ROOM))
        .heads_up_to(head_limit(limits.max_header_list_size));
    match tokio::time::timeout(limits.handshake_timeout, reader.preface()).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(?peer, "native connection without a valid preface");
            return;
        }
        Err(_) => {
            tracing::debug!(?peer, "native connection sent no preface in time");
            return;
        }
    }
    let writer = Arc::new(Writer::default());
    let mut write_task = {
        let writer = writer.clone();
        tokio::spawn(async move { writer.run(wr).await })
    };
    // Dropped with this future (a server stopping past its grace): the tasks go too.
    let _write_guard = AbortOnDrop(write_task.abort_handle());
    writer.with(|f| {
        f.build(kind::SETTINGS, 0, 0, |b| {
            b.put_u32(limits.max_concurrent_streams);
            b.put_u32(super::WINDOW);
            b.put_u32(super::SETTINGS_PING);
        });
    });
    let conn = Arc::new(Conn {
        writer: writer.clone(),
        frames: std::sync::atomic::AtomicU64::new(0),
        draining: std::sync::atomic::AtomicBool::new(false),
        highest: std::sync::atomic::AtomicU32::new(0),
        pings: std::sync::atomic::AtomicBool::new(false),
        calls: Mutex::new(super::ByStream::default()),
        ended: Notify::new(),
        shared,
        peer,
    });
    // The reader serves calls; the keeper (beside it, so calls pay nothing for it) pings
    // quiet connections and retires idle and old ones.
    let mut reading = tokio::spawn(read_loop(conn.clone(), reader, shutdown));
    let _read_guard = AbortOnDrop(reading.abort_handle());
    let dead = tokio::select! {
        _ = &mut reading => false,
        dead = super::liveness::keep(&conn, &limits) => {
            reading.abort();
            let _ = reading.await;
            dead
        }
    };
    // The caller went away (or everything finished): stop what still runs.
    let left: Vec<Active> = conn.calls().drain().map(|(_, a)| a).collect();
    for active in left {
        cancel(active);
    }
    writer.close();
    // What is queued goes out, unless the peer is dead or does not read: then the socket is
    // closed without it.
    let flush = if dead {
        std::time::Duration::ZERO
    } else {
        limits.keepalive_timeout
    };
    if tokio::time::timeout(flush, &mut write_task).await.is_err() {
        write_task.abort();
    }
}

/// Read frames and serve the calls they start, until the peer leaves or, once the server
/// stops, the open calls are done.
async fn read_loop(
    conn: Arc<Conn>,
    mut reader: Reader<crate::transport::io::ReadHalf>,
    mut shutdown: watch::Receiver<bool>,
) {
    let writer = conn.writer.clone();
    let peer = conn.peer;
    let mut pending: super::ByStream<Pending> = super::ByStream::default();
    loop {
        if conn.draining.load(Ordering::Relaxed) && pending.is_empty() && conn.calls().is_empty() {
            break;
        }
        let draining = conn.draining.load(Ordering::Relaxed);
        // A peer that does not read its answers is not read from either: what it sends
        // would only queue more answers.
        let backed_up = writer.backlog() > BACKLOG;
        tokio::select! {
            read = reader.next(), if !backed_up => {
                conn.frames.fetch_add(1, Ordering::Relaxed);
                match read {
                    Read::Frame(head, payload) => {
                        if let Flow::Close(why) = on_frame(&conn, &mut pending, head, payload) {
                            tracing::debug!(?peer, why, "closing a native connection");
                            writer.signal(kind::GOAWAY, 0, 0);
                            break;
                        }
                    }
                    Read::TooLarge(head) => on_too_large(&conn, &mut pending, head),
                    Read::Closed => break,
                }
            }
            () = writer.drained(BACKLOG), if backed_up => {
                if writer.is_closed() {
                    // The socket failed: nothing more can be answered.
                    break;
                }
            }
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; }, if !draining => {
                // No new calls on this connection; the open ones finish.
                conn.go_away();
            }
            _ = conn.ended.notified(), if draining => {}
        }
    }
}

/// Bytes of answers queued for a peer before the server stops reading from it.
const BACKLOG: usize = super::WINDOW as usize;

/// The largest request head: format, timeout, a path of up to 64 KiB, and metadata pairs
/// whose keys and values add up to at most the header limit.
fn head_limit(max_header_list_size: u32) -> usize {
    11 + usize::from(u16::MAX) + max_header_list_size as usize
}

fn cancel(active: Active) {
    if let Some(abort) = active.abort {
        abort.abort();
    }
    active.credit.close();
    if let Some(input) = active.input {
        let _ = input.tx.send(Event::Failed(Error::cancelled(
            ID,
            "the caller cancelled the call",
        )));
    }
}

fn on_frame(
    conn: &Arc<Conn>,
    pending: &mut super::ByStream<Pending>,
    head: super::FrameHeader,
    payload: Bytes,
) -> Flow {
    let id = head.stream;
    match head.kind {
        kind::HEADERS => {
            let busy = {
                let calls = conn.calls();
                if pending.contains_key(&id) || calls.contains_key(&id) {
                    // Reusing the id of a live call would orphan it and slip past the call
                    // limit.
                    return Flow::Close("HEADERS for a stream that is still open");
                }
                // Read under the lock `go_away` holds: a call is either counted before the
                // `GOAWAY` or refused after it.
                if conn.draining.load(Ordering::Relaxed) {
                    None
                } else {
                    conn.highest.fetch_max(id, Ordering::Relaxed);
                    Some(pending.len() + calls.len())
                }
            };
            let full = |busy| busy >= conn.shared.limits.max_concurrent_streams as usize;
            if busy.is_none_or(full) {
                conn.writer.with(|f| {
                    f.build(kind::CANCEL, 0, id, |b| b.put_u8(REFUSED));
                });
                return Flow::Go;
            }
            if let Err(e) = start(conn, pending, id, payload) {
                conn.fail(id, &e, None);
            }
        }
        kind::DATA => {
            let max = conn.shared.limits.max_recv;
            if let Some(call) = pending.get_mut(&id) {
                call.decoder.push(payload);
                if call.decoder.buffered() > max + 5 {
                    // One request message is all a unary call takes: do not buffer more.
                    pending.remove(&id);
                    let err = Error::from_code(
                        ID,
                        Code::ResourceExhausted,
                        format!("the request carries more than one message of at most {max} bytes"),
                    );
                    conn.fail(id, &err, None);
                } else if head.flags & END != 0
                    && let Some(call) = pending.remove(&id)
                {
                    dispatch_unary(conn, id, call);
                }
                return Flow::Go;
            }
            let mut calls = conn.calls();
            let Some(active) = calls.get_mut(&id) else {
                return Flow::Go;
            };
            let Some(input) = &active.input else {
                return Flow::Go;
            };
            if !payload.is_empty() {
                // The peer may have a window in flight, plus one frame larger than it.
                let unread =
                    input.unread.fetch_add(payload.len(), Ordering::Relaxed) + payload.len();
                if unread > 2 * super::WINDOW as usize + max + HEAD_ROOM {
                    if let Some(active) = calls.remove(&id) {
                        drop(calls);
                        cancel(active);
                        conn.ended.notify_one();
                    }
                    let err = Error::from_code(
                        ID,
                        Code::ResourceExhausted,
                        "the caller sent past its flow-control credit",
                    );
                    conn.fail(id, &err, None);
                    return Flow::Go;
                }
                let _ = input.tx.send(Event::Data(payload));
            }
            if head.flags & END != 0 {
                let _ = input.tx.send(Event::End);
                active.input = None;
            }
        }
        kind::CANCEL => {
            if pending.remove(&id).is_some() {
                return Flow::Go;
            }
            let active = conn.calls().remove(&id);
            if let Some(active) = active {
                cancel(active);
                conn.ended.notify_one();
            }
        }
        kind::CREDIT => {
            if let Some(n) = super::credit_of(&payload)
                && let Some(active) = conn.calls().get(&id)
            {
                active.credit.add(n);
            }
        }
        kind::PING if head.flags & super::ACK == 0 => {
            // A peer that pings answers pings: keepalive may ping it.
            conn.pings.store(true, Ordering::Relaxed);
            conn.writer
                .with(|f| f.frame(kind::PING, super::ACK, 0, payload));
        }
        // Unknown frame types are ignored, so later versions can add some.
        _ => {}
    }
    Flow::Go
}

fn on_too_large(
    conn: &Arc<Conn>,
    pending: &mut super::ByStream<Pending>,
    head: super::FrameHeader,
) {
    let max = conn.shared.limits.max_recv;
    let err = match head.kind {
        kind::HEADERS => Error::new(
            ID,
            format!(
                "request head of {} bytes is over the limit of {} bytes",
                head.len,
                head_limit(conn.shared.limits.max_header_list_size)
            ),
            431,
        )
        .with_grpc_code(Code::ResourceExhausted),
        kind::DATA => too_large(ID, "request message", head.len, max),
        _ => return,
    };
    pending.remove(&head.stream);
    let active = conn.calls().remove(&head.stream);
    if let Some(active) = active {
        cancel(active);
    }
    conn.fail(head.stream, &err, None);
}

/// Parse a request head and start the call (or wait for its message).
fn start(
    conn: &Arc<Conn>,
    pending: &mut super::ByStream<Pending>,
    id: u32,
    p: Bytes,
) -> Result<()> {
    let head = super::Head::parse(p)?;
    let (format, timeout, size) = (head.format, head.timeout, head.size);
    let shared = &conn.shared;
    let route = shared.route(head.path())?;
    let p = head.pairs;
    let limit = shared.limits.max_header_list_size as usize;
    if size > limit {
        return Err(Error::new(
            ID,
            format!("request metadata of {size} bytes is over the limit of {limit} bytes"),
            431,
        )
        .with_grpc_code(Code::ResourceExhausted));
    }
    let mut ctx = shared.accept(&route, format, timeout, conn.peer)?;
    super::read_metadata(&p, ctx.metadata_mut())?;
    // Before the message is read: a refused call's body is dropped as it arrives.
    shared.authorize(&route, &mut ctx)?;
    ctx.mark_received();
    let max = shared.limits.max_recv;
    if route.kind.client_streams() {
        let (tx, rx) = mpsc::unbounded_channel();
        let unread = Arc::new(AtomicUsize::new(0));
        let inbound = Inbound {
            rx,
            first: None,
            grant: Grant::new(conn.writer.clone(), id).tracking(unread.clone()),
            guard: None,
        };
        let body = RecvBody::new(inbound, max, Side::Server);
        let requests = Requests { tx, unread };
        spawn_call(
            conn,
            id,
            (route, ctx, format),
            Input::Stream(body),
            Some(requests),
            None,
        );
    } else {
        pending.insert(
            id,
            Pending {
                route,
                ctx,
                format,
                decoder: Decoder::new(max, ID, "request message"),
            },
        );
    }
    Ok(())
}

/// The request message of a unary (or server-streaming) call is complete: run it.
fn dispatch_unary(conn: &Arc<Conn>, id: u32, mut call: Pending) {
    let message = (|| {
        let Some(first) = call.decoder.next()? else {
            call.decoder.finish()?;
            return Err(Error::internal(ID, "the request has no message"));
        };
        if call.decoder.next()?.is_some() {
            return Err(Error::unimplemented(
                ID,
                "expected one request message, got more (is the endpoint client-streaming?)",
            ));
        }
        call.decoder.finish()?;
        Ok(first)
    })();
    let message = message.and_then(|m| {
        // Admitted (or shed) as it arrives, so calls queued behind a busy runtime count as
        // in flight, and a call whose caller already gave up is not run.
        let pass = conn.shared.admit(&call.route, call.ctx.deadline())?;
        Ok((m, pass))
    });
    match message {
        Ok((message, pass)) => spawn_call(
            conn,
            id,
            (call.route, call.ctx, call.format),
            Input::Unary(message),
            None,
            pass,
        ),
        Err(e) => conn.fail(id, &e, None),
    }
}

fn spawn_call(
    conn: &Arc<Conn>,
    id: u32,
    (route, ctx, format): (Arc<Route>, Context, Format),
    input: Input,
    requests: Option<Requests>,
    pass: Option<crate::endpoint::Pass>,
) {
    let credit = Arc::new(Credit::new());
    // Register before the task can finish, so `finish` always finds the entry.
    let mut calls = conn.calls();
    calls.insert(
        id,
        Active {
            abort: None,
            credit: credit.clone(),
            input: requests,
        },
    );
    let task = tokio::spawn(run_call(
        conn.clone(),
        id,
        (route, ctx, format),
        input,
        credit,
        pass,
    ));
    if let Some(active) = calls.get_mut(&id) {
        active.abort = Some(task.abort_handle());
    }
}

async fn run_call(
    conn: Arc<Conn>,
    id: u32,
    (route, ctx, format): (Arc<Route>, Context, Format),
    input: Input,
    credit: Arc<Credit>,
    pass: Option<crate::endpoint::Pass>,
) {
    let deadline = ctx.deadline();
    let response = ctx.response().unwrap_or_default();
    let max_send = conn.shared.limits.max_send;
    let request = HandlerRequest::new(ctx, format, input, route.kind, max_send);
    let work = conn.shared.call(&route, request);
    let expiry = deadline.map(|at| tokio::time::sleep_until(at.into()));
    tokio::pin!(expiry);
    let result = with_deadline(expiry.as_mut().as_pin_mut(), &route.name, work).await;
    match result.map(|r| r.output) {
        Ok(Output::Unary(frame)) => {
            conn.writer.with(|f| {
                super::answer::head_frame(f, id, &response);
                f.frame(kind::DATA, END, id, frame);
                super::answer::ok_trailers(f, id, &response);
            });
        }
        Ok(Output::Stream { rx, task }) => {
            super::answer::pump(&conn.writer, id, rx, task, &response, &credit).await
        }
        Err(e) => {
            let e = crate::endpoint::leaving(e, &conn.shared.service, &route.name);
            conn.fail(id, &e, Some(&response));
        }
    }
    drop(pass);
    conn.finish(id);
}
