//! The `memory` transport: servers and clients of one process, with no socket and no system
//! call. A server listens on a name; a client dials the name and gets one end of an
//! in-process pipe whose other end the server accepts. Calls on the pipe use the native
//! framing, so deadlines, metadata, flow control, cancellation and graceful shutdown behave
//! exactly as over TCP.
//!
//! Names are node addresses of the form `memory:<id>`; they exist while the server runs.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, OnceLock};

use tokio::io::DuplexStream;
use tokio::sync::mpsc;

use super::{BoxFuture, Dialer, Io};
use crate::error::{Error, Result};

/// The prefix of memory-transport addresses.
pub(crate) const SCHEME: &str = "memory:";

/// Bytes a pipe holds in each direction before the writer waits.
const PIPE: usize = 256 * 1024;

/// Where dialed pipes wait for a listener, and which listener it is.
type Backlog = (u64, mpsc::Sender<DuplexStream>);

/// The listening names of this process.
fn names() -> &'static Mutex<HashMap<String, Backlog>> {
    static NAMES: OnceLock<Mutex<HashMap<String, Backlog>>> = OnceLock::new();
    NAMES.get_or_init(Default::default)
}

/// A server's listening name. Dropping it frees the name.
#[derive(Debug)]
pub(crate) struct MemoryListener {
    name: String,
    id: u64,
    backlog: mpsc::Receiver<DuplexStream>,
}

impl MemoryListener {
    /// Listen on `name` (`memory:<id>`).
    pub(crate) fn bind(name: &str) -> Result<MemoryListener> {
        if !name.starts_with(SCHEME) || name.len() == SCHEME.len() {
            return Err(Error::bad_request(
                "micro.transport",
                format!("invalid memory address {name:?}: write it as memory:<name>"),
            ));
        }
        let mut names = names().lock().unwrap_or_else(|e| e.into_inner());
        if names.get(name).is_some_and(|(_, tx)| !tx.is_closed()) {
            return Err(Error::conflict(
                "micro.transport",
                format!("{name} is already listened on in this process"),
            ));
        }
        let (tx, backlog) = mpsc::channel(1024);
        let id = fastrand::u64(..);
        names.insert(name.to_owned(), (id, tx));
        Ok(MemoryListener {
            name: name.to_owned(),
            id,
            backlog,
        })
    }

    /// The name listened on.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The server end of the next pipe a client dialed.
    pub(crate) async fn accept(&mut self) -> io::Result<DuplexStream> {
        self.backlog
            .recv()
            .await
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "listener closed"))
    }
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        let mut names = names().lock().unwrap_or_else(|e| e.into_inner());
        if names.get(&self.name).is_some_and(|(id, _)| *id == self.id) {
            names.remove(&self.name);
        }
    }
}

/// Dials names in this process.
#[derive(Debug, Default)]
pub(crate) struct MemoryDialer;

impl Dialer for MemoryDialer {
    fn dial<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let backlog = names()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(addr)
                .map(|(_, tx)| tx.clone());
            let refused = || {
                io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!("nothing listens on {addr} in this process"),
                )
            };
            let backlog = backlog.ok_or_else(refused)?;
            let (client, server) = tokio::io::duplex(PIPE);
            backlog.send(server).await.map_err(|_| refused())?;
            Ok(Box::new(client) as Box<dyn Io>)
        })
    }
}

/// A fresh name for a node of `service`.
pub(crate) fn address_for(service: &str) -> String {
    format!(
        "{SCHEME}{service}-{:012x}",
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_dial_reaches_the_listener_and_the_name_is_freed() {
        let name = address_for("t");
        let mut listener = MemoryListener::bind(&name).unwrap();
        assert!(MemoryListener::bind(&name).is_err(), "a name is taken once");
        let mut client = MemoryDialer.dial(&name).await.unwrap();
        let mut server = listener.accept().await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        drop(listener);
        let err = MemoryDialer.dial(&name).await.err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        assert!(MemoryListener::bind("nope").is_err());
    }
}
