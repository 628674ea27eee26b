//! HTTP/2 bodies: what micro sends (one message, or a channel of frames) and a reader that
//! turns a received body back into messages.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::frame::Decoder;
use crate::error::{Error, Result};

/// Aborts a task when dropped: a streaming handler stops when its caller goes away.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A body micro sends.
#[derive(Debug)]
pub(crate) enum Body {
    /// Nothing (a trailers-only response, or an empty request).
    Empty,
    /// One data frame and optional trailers.
    Once {
        data: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    /// Frames produced by another task (after `first`, if set).
    Channel {
        first: Option<Frame<Bytes>>,
        rx: mpsc::Receiver<Frame<Bytes>>,
        _task: Option<AbortOnDrop>,
    },
}

impl Body {
    pub(crate) fn once(data: Bytes, trailers: Option<HeaderMap>) -> Body {
        Body::Once {
            data: Some(data),
            trailers,
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Once { data, trailers } => {
                if let Some(d) = data.take() {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t))))
            }
            Body::Channel { first, rx, .. } => {
                let frame = match first.take() {
                    Some(frame) => frame,
                    None => match rx.poll_recv(cx) {
                        Poll::Ready(Some(frame)) => frame,
                        Poll::Ready(None) => return Poll::Ready(None),
                        Poll::Pending => return Poll::Pending,
                    },
                };
                let data = match frame.into_data() {
                    Ok(data) => data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                };
                Poll::Ready(Some(Ok(Frame::data(coalesce(data, rx, first)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Once { data, trailers } => data.is_none() && trailers.is_none(),
            Body::Channel { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Once {
                data: Some(d),
                trailers: None,
            } => SizeHint::with_exact(d.len() as u64),
            _ => SizeHint::default(),
        }
    }
}

/// Up to this many bytes of messages already queued go out in one DATA frame.
pub(crate) const COALESCE: usize = 64 * 1024;

/// `data` followed by the data frames queued behind it (up to [`COALESCE`] bytes): many
/// small stream messages become one HTTP/2 frame and one write instead of one each. The
/// first frame that does not fit (or is not data) waits in `first`.
pub(crate) fn coalesce(
    data: Bytes,
    rx: &mut mpsc::Receiver<Frame<Bytes>>,
    first: &mut Option<Frame<Bytes>>,
) -> Bytes {
    if data.len() >= COALESCE {
        return data;
    }
    let mut buf: Option<bytes::BytesMut> = None;
    let mut len = data.len();
    while let Ok(next) = rx.try_recv() {
        match next.into_data() {
            Ok(more) if len + more.len() <= COALESCE => {
                let b = buf.get_or_insert_with(|| {
                    let mut b = bytes::BytesMut::with_capacity(COALESCE.min(len * 16));
                    b.extend_from_slice(&data);
                    b
                });
                b.extend_from_slice(&more);
                len += more.len();
            }
            Ok(more) => {
                *first = Some(Frame::data(more));
                break;
            }
            Err(other) => {
                *first = Some(other);
                break;
            }
        }
    }
    match buf {
        Some(b) => b.freeze(),
        None => data,
    }
}

/// Which side reads the body: decides how a broken body is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The server reads a request: a broken body means the caller went away.
    Server,
    /// The client reads a response: a broken body means the node or connection failed.
    Client,
}

/// Where a received body comes from.
#[derive(Debug)]
enum Source {
    /// An HTTP/2 stream.
    Http(hyper::body::Incoming),
    /// Frames from this process (an in-memory stream pair).
    Channel(mpsc::Receiver<Frame<Bytes>>),
    /// A call on a native-transport connection.
    Native(crate::native::Inbound),
}

impl Source {
    async fn frame(&mut self, side: Side) -> Option<Result<Frame<Bytes>>> {
        match self {
            Source::Http(body) => body
                .frame()
                .await
                .map(|r| r.map_err(|e| body_error(side, &e))),
            Source::Channel(rx) => rx.recv().await.map(Ok),
            Source::Native(inbound) => inbound.frame().await,
        }
    }
}

/// Reads messages out of a received body.
#[derive(Debug)]
pub(crate) struct RecvBody {
    body: Source,
    decoder: Decoder,
    trailers: Option<HeaderMap>,
    ended: bool,
    side: Side,
}

impl RecvBody {
    pub(crate) fn new(body: hyper::body::Incoming, max: usize, side: Side) -> RecvBody {
        RecvBody::from_source(Source::Http(body), max, side)
    }

    /// A body fed by frames from this process.
    pub(crate) fn channel(rx: mpsc::Receiver<Frame<Bytes>>, max: usize) -> RecvBody {
        RecvBody::from_source(Source::Channel(rx), max, Side::Server)
    }

    /// A body fed by a native-transport connection.
    pub(crate) fn native(inbound: crate::native::Inbound, max: usize, side: Side) -> RecvBody {
        RecvBody::from_source(Source::Native(inbound), max, side)
    }

    fn from_source(body: Source, max: usize, side: Side) -> RecvBody {
        let (id, what) = match side {
            Side::Server => ("micro.server", "request message"),
            Side::Client => ("micro.client", "response message"),
        };
        RecvBody {
            body,
            decoder: Decoder::new(max, id, what),
            trailers: None,
            ended: false,
            side,
        }
    }

    /// The next message; `None` at the end of the body.
    pub(crate) async fn message(&mut self) -> Result<Option<Bytes>> {
        loop {
            if let Some(m) = self.decoder.next()? {
                return Ok(Some(m));
            }
            if self.ended {
                self.decoder.finish()?;
                return Ok(None);
            }
            match self.body.frame(self.side).await {
                None => self.ended = true,
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => self.decoder.push(data),
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.trailers = Some(trailers);
                        }
                        self.ended = true;
                    }
                },
                Some(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
            }
        }
    }

    /// Read and drop what is left of the body, for at most `patience` (and 64 MiB): a caller
    /// answered before it finished sending would otherwise see its upload cut off (a broken
    /// pipe on HTTP/1.1, a reset stream on HTTP/2) instead of the answer.
    pub(crate) async fn discard(&mut self, patience: std::time::Duration) {
        const MOST: usize = 64 * 1024 * 1024;
        if self.ended {
            return;
        }
        let side = self.side;
        let body = &mut self.body;
        let _ = tokio::time::timeout(patience, async {
            let mut seen = 0;
            while let Some(Ok(frame)) = body.frame(side).await {
                seen += frame.data_ref().map_or(0, Bytes::len);
                if seen > MOST {
                    break;
                }
            }
        })
        .await;
        self.ended = true;
    }

    /// The trailers, once the body has ended.
    pub(crate) fn take_trailers(&mut self) -> Option<HeaderMap> {
        self.trailers.take()
    }
}

pub(crate) fn reason_of(e: &hyper::Error) -> Option<h2::Reason> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h2) = s.downcast_ref::<h2::Error>() {
            return h2.reason();
        }
        source = s.source();
    }
    None
}

fn body_error(side: Side, e: &hyper::Error) -> Error {
    match side {
        Side::Server => Error::cancelled(
            "micro.server",
            format!("the caller cancelled the call: {e}"),
        ),
        Side::Client => {
            if reason_of(e) == Some(h2::Reason::CANCEL) {
                Error::cancelled("micro.client", "the server cancelled the call")
            } else {
                Error::unavailable(
                    "micro.client",
                    format!("connection lost while reading the response: {e}"),
                )
                .with_failure(crate::error::Failure::AfterSend)
            }
        }
    }
}
