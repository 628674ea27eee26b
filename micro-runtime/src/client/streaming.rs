//! Streaming calls on the client: [`Streaming`] (both directions) and [`ClientStreaming`]
//! (requests, then one response).

use std::fmt;
use std::sync::Arc;

use super::ID;
use crate::context::Metadata;
use crate::error::{Error, Result};
use crate::registry::Node;
use crate::stream::{StreamReceiver, StreamSender};

/// An open stream: send requests, close the sending side, receive responses.
pub struct Streaming<Req, Resp> {
    pub(crate) sender: Option<StreamSender<Req>>,
    pub(crate) receiver: StreamReceiver<Resp>,
    pub(crate) node: Arc<Node>,
}

impl<Req, Resp> fmt::Debug for Streaming<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming")
            .field("node", &self.node.address)
            .field("sending", &self.sender.is_some())
            .finish()
    }
}

impl<Req, Resp> Streaming<Req, Resp> {
    /// Send one request message (waits while the server is not reading).
    pub async fn send(&mut self, msg: &Req) -> Result<()> {
        match &self.sender {
            Some(tx) => tx.send(msg).await,
            None => Err(Error::bad_request(
                ID,
                "the sending side of this stream is already closed",
            )),
        }
    }

    /// Close the sending side (half-close): the server sees the end of the requests.
    pub fn close_send(&mut self) {
        self.sender = None;
    }

    /// The next response; `Ok(None)` when the server ended the stream successfully.
    pub async fn recv(&mut self) -> Result<Option<Resp>> {
        self.receiver.recv().await
    }

    /// The response trailers (once the stream has ended).
    pub fn trailers(&self) -> &Metadata {
        self.receiver.trailers()
    }

    /// The response header metadata.
    pub fn metadata(&self) -> &Metadata {
        self.receiver.metadata()
    }

    /// The node serving the stream.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Separate the two directions (the sender is `None` once closed).
    pub fn split(self) -> (Option<StreamSender<Req>>, StreamReceiver<Resp>) {
        (self.sender, self.receiver)
    }
}

/// A client-streaming call: send requests, then `finish` for the single response.
pub struct ClientStreaming<Req, Resp> {
    pub(crate) inner: Streaming<Req, Resp>,
}

impl<Req, Resp> fmt::Debug for ClientStreaming<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientStreaming")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<Req, Resp> ClientStreaming<Req, Resp> {
    /// Send one request message (waits while the server is not reading).
    pub async fn send(&mut self, msg: &Req) -> Result<()> {
        self.inner.send(msg).await
    }

    /// Close the sending side and wait for the response.
    pub async fn finish(mut self) -> Result<Resp> {
        self.inner.close_send();
        match self.inner.recv().await? {
            Some(rsp) => Ok(rsp),
            None => Err(Error::internal(
                ID,
                "the server ended the call without a response",
            )),
        }
    }

    /// The node serving the call.
    pub fn node(&self) -> &Node {
        self.inner.node()
    }
}

/// A client used through the service trait, server-streaming method: pass the responses on.
pub async fn forward_responses<T>(mut from: StreamReceiver<T>, to: StreamSender<T>) -> Result<()> {
    while let Some(msg) = from.recv().await? {
        to.send(&msg).await?;
    }
    Ok(())
}

/// A client used through the service trait, client-streaming method: pass the requests on,
/// then return the response.
pub async fn forward_requests<Req, Resp>(
    mut from: StreamReceiver<Req>,
    mut call: ClientStreaming<Req, Resp>,
) -> Result<Resp> {
    while let Some(msg) = from.recv().await? {
        call.send(&msg).await?;
    }
    call.finish().await
}

/// A client used through the service trait, bidirectional method: pass both directions on
/// until both end. The server's status wins over a send that failed because it ended early.
pub async fn forward_both<Req, Resp>(
    mut requests: StreamReceiver<Req>,
    responses: StreamSender<Resp>,
    stream: Streaming<Req, Resp>,
) -> Result<()> {
    let (sender, mut receiver) = stream.split();
    let send = async move {
        if let Some(sender) = sender {
            while let Some(msg) = requests.recv().await? {
                sender.send(&msg).await?;
            }
        }
        Ok::<(), Error>(())
    };
    let recv = async move {
        while let Some(msg) = receiver.recv().await? {
            responses.send(&msg).await?;
        }
        Ok::<(), Error>(())
    };
    let (sent, received) = futures_util::future::join(send, recv).await;
    received.and(sent)
}
