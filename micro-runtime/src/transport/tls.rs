//! TLS as a dialer and an acceptor that wrap others: the transports inside see plain bytes.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::sync::watch;

use super::io::{ReadHalf, WriteHalf};
use super::{Acceptor, BoxFuture, Dialer, Io};
use crate::endpoint::Dispatch;

/// The first byte of a TLS connection: a handshake record.
pub(crate) const HANDSHAKE: u8 = 0x16;

impl Io for tokio_rustls::server::TlsStream<Box<dyn Io>> {
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (rd, wr) = tokio::io::split(*self);
        (Box::new(rd), Box::new(wr))
    }
}

impl Io for tokio_rustls::client::TlsStream<Box<dyn Io>> {
    fn into_halves(self: Box<Self>) -> (ReadHalf, WriteHalf) {
        let (rd, wr) = tokio::io::split(*self);
        (Box::new(rd), Box::new(wr))
    }

    fn peer_names(&self) -> Vec<String> {
        let Some(leaf) = self.get_ref().1.peer_certificates().and_then(|c| c.first()) else {
            return Vec::new();
        };
        webpki::EndEntityCert::try_from(leaf)
            .map(|cert| cert.valid_dns_names().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// Serves TLS connections: the handshake, then `inner` on the decrypted stream.
pub(crate) struct TlsAcceptor {
    inner: Arc<dyn Acceptor>,
    tls: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    pub(crate) fn new(inner: Arc<dyn Acceptor>, config: Arc<rustls::ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            inner,
            tls: tokio_rustls::TlsAcceptor::from(config),
        }
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Acceptor for TlsAcceptor {
    fn claims(&self, first: u8) -> bool {
        first == HANDSHAKE
    }

    fn serve(
        &self,
        io: Box<dyn Io>,
        peer: Option<SocketAddr>,
        dispatch: Arc<Dispatch>,
        shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, ()> {
        let tls = self.tls.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let wait = dispatch.limits.handshake_timeout;
            let stream = match tokio::time::timeout(wait, tls.accept(io)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(?peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(?peer, "TLS handshake not done in time");
                    return;
                }
            };
            inner
                .serve(Box::new(stream), peer, dispatch, shutdown)
                .await;
        })
    }
}

/// Dials TLS over `inner`, checking the server's certificate against the host of the
/// address (a name or an IP address).
pub(crate) struct TlsDialer {
    inner: Arc<dyn Dialer>,
    tls: tokio_rustls::TlsConnector,
}

impl TlsDialer {
    pub(crate) fn new(inner: Arc<dyn Dialer>, config: Arc<rustls::ClientConfig>) -> TlsDialer {
        TlsDialer {
            inner,
            tls: tokio_rustls::TlsConnector::from(config),
        }
    }
}

impl fmt::Debug for TlsDialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsDialer")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The host of `addr` (`host:port`, `[v6]:port`) as a TLS server name.
fn server_name(addr: &str) -> std::io::Result<ServerName<'static>> {
    let host = match addr.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => addr,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{host:?} is not a host name or IP address TLS can check: {e}"),
        )
    })
}

impl Dialer for TlsDialer {
    fn dial<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, std::io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let name = server_name(addr)?;
            let io = self.inner.dial(addr).await?;
            let stream = self.tls.connect(name, io).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("TLS handshake failed: {}", explain(&e)))
            })?;
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }
}

/// A handshake error with a hint at the usual cause.
pub(crate) fn explain(e: &std::io::Error) -> String {
    explain_text(&e.to_string())
}

/// An error's text with a hint at the usual cause of a failed handshake.
pub(crate) fn explain_text(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let says = |any: &[&str]| any.iter().any(|w| lower.contains(w));
    let hint = if says(&["unknownissuer", "unknown issuer"]) {
        " (the server's certificate is not signed by the CA in MICRO_TLS_CA_FILE)"
    } else if says(&["notvalidforname", "not valid for name"]) {
        " (the server's certificate does not name the host dialed)"
    } else if says(&["expired"]) {
        " (the certificate has expired)"
    } else if says(&["certificaterequired", "certificate required"]) {
        " (the server requires a client certificate: set MICRO_TLS_CERT_FILE and MICRO_TLS_KEY_FILE)"
    } else if says(&[
        "badcertificate",
        "bad certificate",
        "unknownca",
        "unknown ca",
    ]) {
        " (the server refused this client's certificate)"
    } else if says(&[
        "eof",
        "corrupt message",
        "invalidcontenttype",
        "invalid content type",
    ]) {
        " (the server does not speak TLS on this port?)"
    } else {
        ""
    };
    format!("{text}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_come_from_the_host_of_an_address() {
        assert_eq!(
            server_name("127.0.0.1:9000").unwrap(),
            ServerName::try_from("127.0.0.1").unwrap()
        );
        assert_eq!(
            server_name("[::1]:9000").unwrap(),
            ServerName::try_from("::1").unwrap()
        );
        assert_eq!(
            server_name("greeter.local:443").unwrap(),
            ServerName::try_from("greeter.local").unwrap()
        );
        let err = server_name("bad host:1").unwrap_err();
        assert!(err.to_string().contains("\"bad host\""), "{err}");
    }
}
