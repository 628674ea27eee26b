//! What micro sends: one framed message, or a channel of frames fed by another task (a
//! streaming handler, or a client's stream of requests), coalesced into large writes.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

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
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Infallible>>> {
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
