//! TLS for the inputs' client connections: the system's roots, plus a CA file when the chat
//! server's certificate comes from a private authority.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::ID;

/// A connector that trusts the system's roots and those in `ca_file`.
pub(crate) fn connector(ca_file: Option<&Path>) -> micro::Result<TlsConnector> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| {
                micro::Error::bad_request(ID, format!("CA file {}: {e}", path.display()))
            })?;
        if certs.is_empty() {
            return Err(micro::Error::bad_request(
                ID,
                format!("CA file {} holds no certificate", path.display()),
            ));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                micro::Error::bad_request(ID, format!("CA file {}: {e}", path.display()))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| micro::Error::internal(ID, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// TLS over `io` to `host` (the name its certificate must carry).
pub(crate) async fn handshake<IO>(
    connector: &TlsConnector,
    host: &str,
    io: IO,
) -> micro::Result<TlsStream<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| micro::Error::bad_request(ID, format!("{host:?} is not a TLS name: {e}")))?;
    connector
        .connect(name, io)
        .await
        .map_err(|e| micro::Error::unavailable(ID, format!("TLS with {host}: {e}")))
}
