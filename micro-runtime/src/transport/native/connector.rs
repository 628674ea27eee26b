//! The native transport as the client side of the transport seam: a [`Connector`] over any
//! dialer (TCP for `native`, an in-process pipe for `memory`) and the [`Connection`] calls
//! start on.

use std::sync::Arc;

use bytes::Bytes;

use super::client::Conn;
use crate::error::{Error, Result};
use crate::transport::{
    BoxFuture, CallHead, Connection, Connector, DialSettings, Dialer, StreamStart, UnaryReply,
    dial_error,
};

/// Makes native-transport connections over a dialer's byte streams (TCP for `native`, an
/// in-process pipe for `memory`).
#[derive(Debug)]
pub(crate) struct NativeConnector {
    name: &'static str,
    dialer: Arc<dyn Dialer>,
    settings: DialSettings,
}

impl NativeConnector {
    /// A connector advertised as `name`, dialing with `dialer`.
    pub(crate) fn new(
        name: &'static str,
        dialer: Arc<dyn Dialer>,
        settings: DialSettings,
    ) -> NativeConnector {
        NativeConnector {
            name,
            dialer,
            settings,
        }
    }
}

impl Connector for NativeConnector {
    fn name(&self) -> &'static str {
        self.name
    }

    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, Result<Arc<dyn Connection>>> {
        Box::pin(async move {
            let dial = async {
                let io = self
                    .dialer
                    .dial(addr)
                    .await
                    .map_err(|e| dial_error(addr, e))?;
                let names = io.peer_names();
                Conn::handshake(io, addr, self.settings.max_recv, self.settings.keepalive)
                    .await
                    .map(|conn| (conn, names))
            };
            let connect_timeout = self.settings.connect_timeout;
            let conn = tokio::time::timeout(connect_timeout, dial)
                .await
                .map_err(|_| {
                    Error::unsent(
                        "connect to",
                        addr,
                        format!("no answer within {connect_timeout:?}"),
                    )
                })??;
            let (conn, names) = conn;
            Ok(Arc::new(NativeConnection(conn, names)) as Arc<dyn Connection>)
        })
    }
}

/// A native connection as the client sees it, and the DNS names of the server's certificate
/// (TLS).
#[derive(Debug)]
struct NativeConnection(Arc<Conn>, Vec<String>);

impl Connection for NativeConnection {
    fn unary<'a>(
        &'a self,
        head: &'a CallHead<'a>,
        frame: Bytes,
    ) -> BoxFuture<'a, Result<UnaryReply>> {
        Box::pin(self.0.unary(head, frame))
    }

    fn stream<'a>(&'a self, head: &'a CallHead<'a>) -> BoxFuture<'a, Result<StreamStart>> {
        Box::pin(self.0.stream(head))
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn peer_names(&self) -> &[String] {
        &self.1
    }
}
