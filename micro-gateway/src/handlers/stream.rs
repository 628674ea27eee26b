//! Streams through the gateway: a server stream as newline-delimited JSON or server-sent
//! events; any stream over a websocket (one JSON message per frame). A close frame ends the
//! requests, and so does an empty frame, which keeps the socket open for the replies (a
//! websocket carries no message after a close frame). An error after the first message is
//! the last line, event or frame.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use micro::client::{CallOptions, Raw};
use micro::{Context, Format};

use crate::resolve::Target;
use crate::{Gateway, reply};

/// How a server stream is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One JSON message per line (`application/x-ndjson`).
    Lines,
    /// Server-sent events (`text/event-stream`).
    Events,
}

impl Framing {
    /// SSE when the client accepts `text/event-stream`, else NDJSON.
    pub(crate) fn of(headers: &HeaderMap) -> Framing {
        let sse = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/event-stream"));
        if sse { Framing::Events } else { Framing::Lines }
    }

    fn message(self, json: &[u8]) -> Bytes {
        match self {
            Framing::Lines => {
                let mut out = Vec::with_capacity(json.len() + 1);
                out.extend_from_slice(json);
                out.push(b'\n');
                Bytes::from(out)
            }
            Framing::Events => {
                let mut out = Vec::with_capacity(json.len() + 8);
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(json);
                out.extend_from_slice(b"\n\n");
                Bytes::from(out)
            }
        }
    }

    fn error(self, body: &str) -> Bytes {
        match self {
            Framing::Lines => Bytes::from(format!("{{\"error\":{body}}}\n")),
            Framing::Events => Bytes::from(format!("event: error\ndata: {body}\n\n")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Framing::Lines => "application/x-ndjson",
            Framing::Events => "text/event-stream",
        }
    }
}

/// Call a server-streaming endpoint with one request and stream the responses. An error
/// before the first response is a plain error response with its status.
pub(crate) async fn server(
    gw: &Gateway,
    target: &Target,
    opts: CallOptions,
    request: Bytes,
    framing: Framing,
) -> Response {
    let opts = opts.format(Format::Json);
    let service = target.service.clone();
    let mut call = match gw
        .client()
        .stream::<Raw, Raw>(&Context::new(), &target.service, &target.endpoint, &opts)
        .await
    {
        Ok(c) => c,
        Err(err) => return reply::call_failed(&err, &service),
    };
    if let Err(err) = call.send(&Raw(request)).await {
        return reply::call_failed(&err, &service);
    }
    call.close_send();
    let first = match call.recv().await {
        Err(err) => return reply::call_failed(&err, &service),
        Ok(first) => first,
    };
    let head = first.map(|Raw(m)| framing.message(&m));
    let rest = futures_util::stream::unfold(Some(call), move |state| {
        let service = service.clone();
        async move {
            let mut call = state?;
            match call.recv().await {
                Ok(Some(Raw(m))) => {
                    Some((Ok::<_, std::io::Error>(framing.message(&m)), Some(call)))
                }
                Ok(None) => None,
                Err(err) => {
                    let (_, body) = reply::call_error(&err, &service);
                    Some((Ok(framing.error(&body)), None))
                }
            }
        }
    });
    let all = futures_util::stream::iter(head.map(Ok)).chain(rest);
    let mut rsp = Response::new(Body::from_stream(all));
    let h = rsp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(framing.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    rsp
}

/// Upgrade to a websocket and relay frames to and from a stream of `target`.
pub(crate) async fn websocket(
    gw: &Gateway,
    target: Target,
    opts: CallOptions,
    mut parts: Parts,
) -> Response {
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let client = gw.client().clone();
    let max = gw.options().max_body;
    // The relay counts against the concurrency limit for as long as it runs.
    let held = parts.extensions.get::<crate::handlers::Held>().cloned();
    upgrade
        .max_message_size(max)
        .on_upgrade(move |socket| relay_held(client, target, opts, socket, held))
}

fn error_frame(body: &str) -> Message {
    Message::Text(format!("{{\"error\":{body}}}").into())
}

/// Relay an open websocket to a stream of `endpoint` of `service` called with `client`:
/// each text or binary frame is one JSON request, a close frame or an empty frame ends the
/// requests, each reply is one text frame, an error is a last `{"error":{...}}` frame before
/// the close. A frame that is not JSON, or a socket that breaks, cancels the call. The
/// gateway's websockets run on it; so do the dashboard's.
pub async fn relay(
    client: micro::Client,
    service: String,
    endpoint: String,
    opts: CallOptions,
    socket: WebSocket,
) {
    relay_held(client, Target { service, endpoint }, opts, socket, None).await;
}

async fn relay_held(
    client: micro::Client,
    target: Target,
    opts: CallOptions,
    socket: WebSocket,
    held: Option<crate::handlers::Held>,
) {
    let (mut out, mut incoming) = socket.split();
    let opts = opts.format(Format::Json);
    let call = match client
        .stream::<Raw, Raw>(&Context::new(), &target.service, &target.endpoint, &opts)
        .await
    {
        Ok(c) => c,
        Err(err) => {
            let (_, body) = reply::call_error(&err, &target.service);
            let _ = out.send(error_frame(&body)).await;
            let _ = out.send(close(1011, "call failed")).await;
            drop(held);
            return;
        }
    };
    let (sender, mut receiver) = call.split();
    // Why the client's side stopped, when it was not a clean end of requests.
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<Stopped>(1);
    // Frames from the client become requests. A close frame or an empty frame ends the
    // requests (the sender is dropped: the service sees their end). Anything else that stops
    // the requests — a frame that is not JSON, the socket failing or ending without a close
    // frame — cancels the call instead: the sender is handed back and outlives the
    // receiver, so the service never takes a cut-off stream for a finished one.
    let pump = tokio::spawn(async move {
        let sender = sender?;
        loop {
            let frame = match incoming.next().await {
                Some(Ok(frame)) => frame,
                _ => {
                    let _ = stop_tx.send(Stopped::Broken).await;
                    return Some(sender);
                }
            };
            let bytes = match frame {
                Message::Text(t) => Bytes::copy_from_slice(t.as_str().as_bytes()),
                Message::Binary(b) => b,
                Message::Close(_) => return None,
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            if bytes.is_empty() {
                return None;
            }
            if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
                let _ = stop_tx.send(Stopped::NotJson).await;
                return Some(sender);
            }
            if sender.send(&Raw(bytes)).await.is_err() {
                // The call ended; the receiver says how.
                return Some(sender);
            }
        }
    });
    let mut watching = true;
    loop {
        tokio::select! {
            stopped = stop_rx.recv(), if watching => match stopped {
                Some(Stopped::NotJson) => {
                    let body = reply::error_body(
                        reply::ID,
                        StatusCode::BAD_REQUEST,
                        "a frame is not valid JSON",
                    );
                    let _ = out.send(error_frame(&body)).await;
                    let _ = out.send(close(1007, "invalid JSON")).await;
                    break;
                }
                Some(Stopped::Broken) => break,
                None => watching = false,
            },
            next = receiver.recv() => match next {
                Ok(Some(Raw(m))) => {
                    let text = String::from_utf8_lossy(&m).into_owned();
                    if out.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Ok(None) => {
                    let _ = out.send(close(1000, "")).await;
                    break;
                }
                Err(err) => {
                    let (_, body) = reply::call_error(&err, &target.service);
                    let _ = out.send(error_frame(&body)).await;
                    let _ = out.send(close(1011, "stream failed")).await;
                    break;
                }
            }
        }
    }
    // Cancel first (dropping the receiver), then let go of the requests' side.
    drop(receiver);
    pump.abort();
    let sender = pump.await.ok().flatten();
    drop(sender);
    drop(held);
}

/// Why a websocket's requests stopped early.
enum Stopped {
    /// A frame that is not JSON.
    NotJson,
    /// The socket failed, or ended without a close frame.
    Broken,
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
