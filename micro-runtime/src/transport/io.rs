//! Byte streams: what transports read and write, whatever carries them (a TCP socket, an
//! in-process pipe), and where servers accept them.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::memory::MemoryListener;
use super::{BoxFuture, Dialer};

/// The read half of a connection.
pub(crate) type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The write half of a connection.
pub(crate) type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A connection's byte stream.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// Split into halves that a reader task and a writer task own.
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf);

    /// Look at the next bytes without taking them, where the stream can (a TCP socket can);
    /// `None` where it cannot.
    fn poll_peek(
        &mut self,
        _cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Option<Poll<io::Result<usize>>> {
        None
    }

    /// The DNS names of the peer's TLS certificate (none without TLS).
    fn peer_names(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Io for TcpStream {
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        // Owned halves of a TCP stream need no lock between them.
        let (rd, wr) = (*self).into_split();
        (Box::new(rd), Box::new(wr))
    }

    fn poll_peek(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Option<Poll<io::Result<usize>>> {
        Some(TcpStream::poll_peek(self, cx, buf))
    }
}

impl Io for DuplexStream {
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (rd, wr) = tokio::io::split(*self);
        (Box::new(rd), Box::new(wr))
    }
}

/// A stream whose first bytes were already read (to see which transport it speaks): reads
/// give them back first.
pub(crate) struct Rewind {
    prefix: Bytes,
    io: Box<dyn Io>,
}

impl Rewind {
    pub(crate) fn new(prefix: Bytes, io: Box<dyn Io>) -> Rewind {
        Rewind { prefix, io }
    }
}

impl fmt::Debug for Rewind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rewind")
            .field("prefix", &self.prefix.len())
            .finish_non_exhaustive()
    }
}

/// Give back `prefix` before reading from `inner`.
fn read_prefixed<R: AsyncRead + Unpin + ?Sized>(
    prefix: &mut Bytes,
    inner: &mut R,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if !prefix.is_empty() {
        let n = prefix.len().min(buf.remaining());
        buf.put_slice(&prefix[..n]);
        prefix.advance(n);
        return Poll::Ready(Ok(()));
    }
    Pin::new(inner).poll_read(cx, buf)
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        read_prefixed(&mut this.prefix, &mut this.io, cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

impl Io for Rewind {
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let Rewind { prefix, io } = *self;
        let (rd, wr) = io.into_halves();
        (Box::new(RewindRead { prefix, rd }), wr)
    }
}

/// The read half of a [`Rewind`].
struct RewindRead {
    prefix: Bytes,
    rd: ReadHalf,
}

impl AsyncRead for RewindRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        read_prefixed(&mut this.prefix, &mut this.rd, cx, buf)
    }
}

/// Dials TCP, with `TCP_NODELAY` (micro batches its own writes).
#[derive(Debug, Default)]
pub(crate) struct TcpDialer;

impl Dialer for TcpDialer {
    fn dial<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let stream = TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }
}

/// Where a server accepts connections.
#[derive(Debug)]
pub(crate) enum Listener {
    /// A TCP port.
    Tcp(TcpListener),
    /// A name in this process (the `memory` transport).
    Memory(MemoryListener),
}

impl Listener {
    /// The next connection and, over TCP, the peer's address.
    pub(crate) async fn accept(&mut self) -> io::Result<(Box<dyn Io>, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, peer) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok((Box::new(stream), Some(peer)))
            }
            Listener::Memory(listener) => Ok((Box::new(listener.accept().await?), None)),
        }
    }
}
