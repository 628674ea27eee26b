//! TLS and mutual TLS with rustls (the ring provider), from go-micro's settings:
//! `MICRO_TLS_CERT_FILE`, `MICRO_TLS_KEY_FILE` and `MICRO_TLS_CA_FILE` (and the flags
//! `--tls_cert_file` ...).
//!
//! | Side | Set | Effect |
//! |---|---|---|
//! | server | cert + key | every TCP connection is TLS (native and gRPC, ALPN `h2` for stock gRPC clients); plaintext is refused |
//! | server | cert + key + CA | mutual TLS: a client must present a certificate signed by that CA |
//! | client | CA | nodes are dialed over TLS and their certificate is checked against that CA and the address's host name or IP |
//! | client | cert + key | the client presents this certificate (for servers that require mutual TLS) |
//! | client | none of them | plaintext |
//! | client | `MICRO_TLS_INSECURE=on` | TLS without checking the server's certificate: for tests only (it logs a warning) |
//! | client | `MICRO_TLS_VERIFY_SERVICE=on` | a node's certificate must also name the service it is registered as (a DNS name such as `greeter`): a rogue registration cannot take another service's calls |
//!
//! A client with a certificate but no CA checks servers against the system's roots.
//! `micro cert dev` writes a development CA and certificates for services.
//!
//! ```
//! use micro::tls::TlsFiles;
//!
//! let tls = TlsFiles::default();
//! assert!(!tls.serves_tls() && !tls.dials_tls());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use crate::error::{Error, Result};

const ID: &str = "micro.tls";

/// The TLS files of a server or client (`MICRO_TLS_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsFiles {
    /// This side's certificate chain, PEM (`MICRO_TLS_CERT_FILE`).
    pub cert_file: Option<PathBuf>,
    /// The private key of that certificate, PEM (`MICRO_TLS_KEY_FILE`).
    pub key_file: Option<PathBuf>,
    /// The CA that signs the other side's certificates, PEM (`MICRO_TLS_CA_FILE`): servers
    /// then require client certificates (mutual TLS); clients check servers against it.
    pub ca_file: Option<PathBuf>,
    /// Clients dial TLS without checking the server's certificate (`MICRO_TLS_INSECURE`):
    /// for tests only.
    pub insecure: bool,
    /// Clients require a node's certificate to name the service it is registered as
    /// (`MICRO_TLS_VERIFY_SERVICE`), so that a rogue registration cannot take another
    /// service's calls.
    pub verify_service: bool,
}

impl TlsFiles {
    /// Whether servers with these files serve TLS (a certificate or a key is set; building
    /// fails unless both are).
    pub fn serves_tls(&self) -> bool {
        self.cert_file.is_some() || self.key_file.is_some()
    }

    /// Whether clients with these files dial TLS (a CA, a certificate, or `insecure`).
    pub fn dials_tls(&self) -> bool {
        self.ca_file.is_some() || self.serves_tls() || self.insecure
    }

    /// The server side: `None` without a certificate. ALPN offers `h2` and `http/1.1`.
    pub(crate) fn server_config(&self) -> Result<Option<Arc<ServerConfig>>> {
        let Some((certs, key)) = self.identity()? else {
            return Ok(None);
        };
        let provider = provider();
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(ID, format!("TLS setup: {e}")))?;
        let builder = match &self.ca_file {
            Some(ca) => {
                let roots = Arc::new(roots_from(ca)?);
                let verifier =
                    rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
                        .build()
                        .map_err(|e| bad(ca, format!("cannot check clients with it: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| self.mismatch(e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }

    /// The client side: `None` when clients dial plaintext. `alpn` is what the client
    /// offers (`h2` for gRPC, nothing for the native transport).
    pub(crate) fn client_config(&self, alpn: &[&[u8]]) -> Result<Option<Arc<ClientConfig>>> {
        if !self.dials_tls() {
            return Ok(None);
        }
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(ID, format!("TLS setup: {e}")))?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
        } else {
            let roots = match &self.ca_file {
                Some(ca) => roots_from(ca)?,
                None => system_roots()?,
            };
            builder.with_root_certificates(roots)
        };
        let mut config = match self.identity()? {
            Some((certs, key)) => builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| self.mismatch(e))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Some(Arc::new(config)))
    }

    /// The certificate chain and key, when both are set.
    fn identity(&self) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>> {
        let (cert, key) = match (&self.cert_file, &self.key_file) {
            (None, None) => return Ok(None),
            (Some(cert), Some(key)) => (cert, key),
            (Some(_), None) => {
                return Err(Error::bad_request(
                    ID,
                    "MICRO_TLS_CERT_FILE is set but MICRO_TLS_KEY_FILE is not: TLS needs both",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::bad_request(
                    ID,
                    "MICRO_TLS_KEY_FILE is set but MICRO_TLS_CERT_FILE is not: TLS needs both",
                ));
            }
        };
        let certs = certs_from(cert)?;
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| bad(key, format!("holds no private key in PEM: {e}")))?;
        Ok(Some((certs, key)))
    }

    fn mismatch(&self, e: rustls::Error) -> Error {
        let show = |p: &Option<PathBuf>| p.as_deref().map(Path::display).map(|d| d.to_string());
        Error::bad_request(
            ID,
            format!(
                "the key in {} does not fit the certificate in {}: {e}",
                show(&self.key_file).unwrap_or_default(),
                show(&self.cert_file).unwrap_or_default()
            ),
        )
    }
}

/// rustls with ring, whatever default another crate installed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn bad(path: &Path, what: impl fmt::Display) -> Error {
    Error::bad_request(ID, format!("TLS file {}: {what}", path.display()))
}

fn certs_from(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(path, format!("cannot be read: {e}")))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(path, format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad(path, "holds no certificate"));
    }
    Ok(certs)
}

fn roots_from(path: &Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certs_from(path)? {
        roots
            .add(cert)
            .map_err(|e| bad(path, format!("holds a certificate that is no CA: {e}")))?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        // A server with only its own certificate must still start (an image without CA
        // certificates); its calls to TLS nodes then fail naming the unknown issuer.
        tracing::warn!(
            "no CA certificates found on this system: calls over TLS need MICRO_TLS_CA_FILE"
        );
    }
    Ok(roots)
}

/// Accepts any server certificate (the signatures of the handshake are still checked).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS a client dials with: one configuration for gRPC (ALPN `h2`) and one for the
/// native transport.
#[derive(Clone)]
pub struct ClientTls {
    pub(crate) grpc: Arc<ClientConfig>,
    pub(crate) native: Arc<ClientConfig>,
    /// A node's certificate must name its service.
    pub(crate) verify_service: bool,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

impl ClientTls {
    /// The client TLS `files` give, or `None` when they leave clients on plaintext. With
    /// `insecure` it logs a warning: certificates go unchecked.
    pub fn from_files(files: &TlsFiles) -> Result<Option<ClientTls>> {
        if files.verify_service && !files.dials_tls() {
            return Err(Error::bad_request(
                ID,
                "MICRO_TLS_VERIFY_SERVICE is on but clients dial plaintext: set MICRO_TLS_CA_FILE (the check reads the names of a verified certificate)",
            ));
        }
        if files.verify_service && files.insecure {
            return Err(Error::bad_request(
                ID,
                "MICRO_TLS_VERIFY_SERVICE and MICRO_TLS_INSECURE are both on: an unchecked certificate can name any service",
            ));
        }
        let (Some(grpc), Some(native)) =
            (files.client_config(&[b"h2"])?, files.client_config(&[])?)
        else {
            return Ok(None);
        };
        if files.insecure {
            tracing::warn!(
                "MICRO_TLS_INSECURE is on: server certificates are not checked (for tests only)"
            );
        }
        Ok(Some(ClientTls {
            grpc,
            native,
            verify_service: files.verify_service,
        }))
    }
}

/// With `MICRO_TLS_VERIFY_SERVICE`: the certificate of the node at `addr` (its DNS names
/// `names`) must name `service`, else the node is refused (and the call tries another).
pub(crate) fn check_identity(service: &str, addr: &str, names: &[String]) -> Result<()> {
    if names.iter().any(|n| n.eq_ignore_ascii_case(service)) {
        return Ok(());
    }
    let shown = if names.is_empty() {
        "no DNS name".to_owned()
    } else {
        names.join(", ")
    };
    Err(Error::unsent(
        "call to",
        addr,
        format!(
            "the node is registered as {service:?} but its certificate names {shown}, not {service:?} (MICRO_TLS_VERIFY_SERVICE)"
        ),
    ))
}
