//! What micro receives: a [`RecvBody`] turns the frames of any transport (an HTTP/2 body, a
//! native-transport call, an in-process channel) back into messages, checking each against
//! the size limit before buffering it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;
use tokio::sync::mpsc;

use super::frame::Decoder;
use crate::context::Metadata;
use crate::error::{Error, Result};

/// Which side reads the body: decides how a broken body is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The server reads a request: a broken body means the caller went away.
    Server,
    /// The client reads a response: a broken body means the node or connection failed.
    Client,
}

/// Where the frames of a received body come from: each transport implements it over its own
/// connection (and reports a broken one as an error of its own words).
pub(crate) trait FrameSource: Send + fmt::Debug {
    /// The next frame (data or trailers); `None` at the end.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>>;
}

/// Frames from this process (an in-memory stream pair).
impl FrameSource for mpsc::Receiver<Frame<Bytes>> {
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        self.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}

/// Reads messages out of a received body.
#[derive(Debug)]
pub(crate) struct RecvBody {
    body: Box<dyn FrameSource>,
    decoder: Decoder,
    trailers: Option<HeaderMap>,
    ended: bool,
}

impl RecvBody {
    /// A body fed by `source`, holding messages of at most `max` bytes.
    pub(crate) fn new(source: impl FrameSource + 'static, max: usize, side: Side) -> RecvBody {
        let (id, what) = match side {
            Side::Server => ("micro.server", "request message"),
            Side::Client => ("micro.client", "response message"),
        };
        RecvBody {
            body: Box::new(source),
            decoder: Decoder::new(max, id, what),
            trailers: None,
            ended: false,
        }
    }

    /// A server-side body fed by frames from this process.
    pub(crate) fn channel(rx: mpsc::Receiver<Frame<Bytes>>, max: usize) -> RecvBody {
        RecvBody::new(rx, max, Side::Server)
    }

    async fn frame(&mut self) -> Option<Result<Frame<Bytes>>> {
        std::future::poll_fn(|cx| self.body.poll_frame(cx)).await
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
            match self.frame().await {
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

    /// The one message of a unary request: an error when there is none, or more than one.
    pub(crate) async fn single(&mut self) -> Result<Bytes> {
        let Some(first) = self.message().await? else {
            return Err(Error::internal(
                "micro.server",
                "the request has no message",
            ));
        };
        if self.message().await?.is_some() {
            return Err(Error::unimplemented(
                "micro.server",
                "expected one request message, got more (is the endpoint client-streaming?)",
            ));
        }
        Ok(first)
    }

    /// Read and drop what is left of the body, for at most `patience` (and 64 MiB): a caller
    /// answered before it finished sending would otherwise see its upload cut off (a broken
    /// pipe on HTTP/1.1, a reset stream on HTTP/2) instead of the answer.
    pub(crate) async fn discard(&mut self, patience: std::time::Duration) {
        const MOST: usize = 64 * 1024 * 1024;
        if self.ended {
            return;
        }
        let _ = tokio::time::timeout(patience, async {
            let mut seen = 0;
            while let Some(Ok(frame)) = self.frame().await {
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

/// What a response head says comes next.
#[allow(clippy::large_enum_variant)] // one per call, short-lived
pub(crate) enum ResponseHead {
    /// Messages, then trailers.
    Body(RecvBody),
    /// No messages: the status came with the headers.
    TrailersOnly(Result<()>),
}

/// The head of a streaming response, once it arrives: what comes next, and the response
/// header metadata.
pub(crate) type PendingHead =
    Pin<Box<dyn Future<Output = Result<(ResponseHead, Metadata)>> + Send>>;
