//! Typed message streams, used by both sides of streaming calls.
//!
//! A [`StreamSender`] sends messages (a server-streaming handler's responses, or a client's
//! requests); a [`StreamReceiver`] receives them. Both apply backpressure: `send` waits
//! while the peer is not reading.

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::codec::{Codec, Format, Message};
use crate::context::Metadata;
use crate::error::{Error, Result};
use crate::wire::recv::{PendingHead, RecvBody, ResponseHead};
use crate::wire::{self, frame, status};

/// Messages buffered between a sender and the connection before `send` waits.
pub(crate) const STREAM_BUFFER: usize = 64;

/// An in-memory stream: what `tx` sends, `rx` receives (encoded and decoded on the way, as
/// over the network). `rx` ends when every sender is dropped.
///
/// Use it to call streaming handlers directly, in tests or in-process:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
/// let (tx, mut rx) = micro::stream::channel::<String>(8);
/// tx.send(&"hello".to_owned()).await?;
/// drop(tx);
/// assert_eq!(rx.recv().await?.as_deref(), Some("hello"));
/// assert_eq!(rx.recv().await?, None);
/// # Ok(()) }
/// ```
pub fn channel<T: Message>(capacity: usize) -> (StreamSender<T>, StreamReceiver<T>) {
    channel_with(Codec::message(), capacity)
}

/// [`channel`] for serde types (the message types of `#[micro::service]` traits).
pub fn serde_channel<T>(capacity: usize) -> (StreamSender<T>, StreamReceiver<T>)
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    channel_with(Codec::serde(), capacity)
}

/// [`channel`] with an explicit codec.
pub fn channel_with<T>(codec: Codec<T>, capacity: usize) -> (StreamSender<T>, StreamReceiver<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let format = if codec.supports(Format::Proto) {
        Format::Proto
    } else {
        codec.default_format()
    };
    let max = wire::DEFAULT_MAX_MESSAGE_SIZE;
    (
        StreamSender::new(tx, codec, format, max, false),
        StreamReceiver::server(RecvBody::channel(rx, max), codec, format),
    )
}

/// Sends a stream of messages of type `T`.
pub struct StreamSender<T> {
    tx: mpsc::Sender<Frame<Bytes>>,
    codec: Codec<T>,
    format: Format,
    max: usize,
    client: bool,
    _t: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for StreamSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSender")
            .field("format", &self.format)
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

impl<T> StreamSender<T> {
    pub(crate) fn new(
        tx: mpsc::Sender<Frame<Bytes>>,
        codec: Codec<T>,
        format: Format,
        max: usize,
        client: bool,
    ) -> Self {
        StreamSender {
            tx,
            codec,
            format,
            max,
            client,
            _t: PhantomData,
        }
    }

    /// Send one message, waiting while the peer is not keeping up.
    ///
    /// Fails when the message is over the size limit, or when the other side has gone away
    /// (on a client stream, `recv` then tells why).
    pub async fn send(&self, msg: &T) -> Result<()> {
        let (id, what) = if self.client {
            ("micro.client", "request message")
        } else {
            ("micro.server", "response message")
        };
        let bytes = frame::encode(&self.codec, msg, self.format, self.max, id, what)?;
        self.tx.send(Frame::data(bytes)).await.map_err(|_| {
            if self.client {
                Error::unavailable(
                    id,
                    "the stream was closed by the server; receive to see why",
                )
            } else {
                Error::cancelled(id, "the caller closed the stream")
            }
        })
    }

    /// True once the other side has gone away.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Wait until the other side has gone away (for a stream that sends only now and then,
    /// to stop its work when the caller leaves rather than at the next send).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// The wire format messages are sent in.
    pub fn format(&self) -> Format {
        self.format
    }
}

#[allow(clippy::large_enum_variant)] // one per stream, moved rarely
enum State {
    Pending(PendingHead),
    Ready(RecvBody),
    Done,
}

/// Receives a stream of messages of type `T`.
pub struct StreamReceiver<T> {
    state: State,
    codec: Codec<T>,
    format: Format,
    deadline: Option<Instant>,
    client: bool,
    metadata: Metadata,
    trailers: Metadata,
    _t: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for StreamReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Pending(_) => "waiting for response headers",
            State::Ready(_) => "receiving",
            State::Done => "done",
        };
        f.debug_struct("StreamReceiver")
            .field("format", &self.format)
            .field("state", &state)
            .finish()
    }
}

impl<T> StreamReceiver<T> {
    /// A server-side receiver over a request body.
    pub(crate) fn server(body: RecvBody, codec: Codec<T>, format: Format) -> Self {
        StreamReceiver {
            state: State::Ready(body),
            codec,
            format,
            deadline: None,
            client: false,
            metadata: Metadata::new(),
            trailers: Metadata::new(),
            _t: PhantomData,
        }
    }

    /// A client-side receiver that first waits for the response headers.
    pub(crate) fn client(
        pending: PendingHead,
        codec: Codec<T>,
        format: Format,
        deadline: Option<Instant>,
    ) -> Self {
        StreamReceiver {
            state: State::Pending(pending),
            codec,
            format,
            deadline,
            client: true,
            metadata: Metadata::new(),
            trailers: Metadata::new(),
            _t: PhantomData,
        }
    }

    /// The next message; `Ok(None)` when the stream ended normally.
    ///
    /// On a client, an error status from the server (or the deadline) is returned here.
    pub async fn recv(&mut self) -> Result<Option<T>> {
        match self.deadline {
            Some(deadline) => {
                match tokio::time::timeout_at(deadline.into(), self.recv_inner()).await {
                    Ok(result) => result,
                    Err(_) => {
                        self.state = State::Done;
                        Err(Error::timeout(
                            "micro.client",
                            "deadline exceeded while streaming",
                        ))
                    }
                }
            }
            None => self.recv_inner().await,
        }
    }

    async fn recv_inner(&mut self) -> Result<Option<T>> {
        loop {
            match &mut self.state {
                State::Done => return Ok(None),
                State::Pending(pending) => match pending.await {
                    Ok((ResponseHead::Body(body), md)) => {
                        self.metadata = md;
                        self.state = State::Ready(body);
                    }
                    Ok((ResponseHead::TrailersOnly(status), md)) => {
                        // The headers were the trailers: no messages, the status is here.
                        self.trailers = md.clone();
                        self.metadata = md;
                        self.state = State::Done;
                        return status.map(|()| None);
                    }
                    Err(e) => {
                        self.state = State::Done;
                        return Err(e);
                    }
                },
                State::Ready(body) => {
                    let next = body.message().await;
                    match next {
                        Ok(Some(bytes)) => return self.codec.decode(self.format, bytes).map(Some),
                        Ok(None) if !self.client => {
                            self.state = State::Done;
                            return Ok(None);
                        }
                        Ok(None) => {
                            let trailers = body.take_trailers();
                            self.state = State::Done;
                            let Some(trailers) = trailers else {
                                return Err(Error::internal(
                                    "micro.client",
                                    "the stream ended without a gRPC status",
                                ));
                            };
                            status::headers_to_metadata(&trailers, &mut self.trailers);
                            return match status::status_from_headers(&trailers) {
                                Some(Ok(())) => Ok(None),
                                Some(Err(e)) => Err(e),
                                None => Err(Error::internal(
                                    "micro.client",
                                    "the stream ended without a gRPC status",
                                )),
                            };
                        }
                        Err(e) => {
                            self.state = State::Done;
                            return Err(e);
                        }
                    }
                }
            }
        }
    }

    /// On a client: the metadata the server sent in its trailers (once the stream ended).
    pub fn trailers(&self) -> &Metadata {
        &self.trailers
    }

    /// On a client: the metadata the server sent in its response headers.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The receiver as a [`Stream`] of messages.
    pub fn into_stream(self) -> impl Stream<Item = Result<T>> + Send
    where
        T: Send + 'static,
    {
        futures_util::stream::unfold(self, |mut rx| async move {
            match rx.recv().await {
                Ok(Some(msg)) => Some((Ok(msg), rx)),
                Ok(None) => None,
                Err(e) => Some((Err(e), rx)),
            }
        })
    }
}
