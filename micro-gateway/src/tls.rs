//! TLS for the gateway's listener (rustls, the ring provider): a certificate chain and key
//! from PEM files, ALPN `h2` and `http/1.1`.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Accepts TLS connections.
pub type TlsAcceptor = tokio_rustls::TlsAcceptor;

/// An acceptor for the certificate chain in `cert_file` and the private key in `key_file`
/// (both PEM). The error names the file and what is wrong with it.
pub fn acceptor(cert_file: &str, key_file: &str) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| format!("cannot read the certificate file {cert_file}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate file {cert_file} is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "the certificate file {cert_file} holds no certificate"
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("cannot read a private key from {key_file}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!("the key in {key_file} does not fit the certificate in {cert_file}: {e}")
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
