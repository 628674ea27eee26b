//! The gateway over TLS (rustls): a client that trusts the certificate gets its answer over
//! HTTP/1.1 and HTTP/2 (ALPN); a plaintext request to the TLS port gets nowhere; bad files
//! are named.

use std::sync::Arc;
use std::time::Duration;

use gateway_tests::*;
use micro_gateway::Options;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn files(dir: &std::path::Path) -> (String, String, rcgen::CertifiedKey<rcgen::KeyPair>) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("write key");
    (
        cert_file.display().to_string(),
        key_file.display().to_string(),
        cert,
    )
}

#[tokio::test]
async fn https_with_alpn_and_plaintext_refused() {
    let dir = std::env::temp_dir().join(format!("micro-gw-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert_file, key_file, cert) = files(&dir);
    let acceptor = micro_gateway::tls::acceptor(&cert_file, &key_file).expect("acceptor");

    let (_, registry) = registry();
    let _shop = start_shop(&registry).await;
    let gateway =
        micro_gateway::Gateway::new(micro::Client::new(registry.clone()), Options::default());
    gateway.refresh().await.expect("routes");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gateway.serve_tls(listener, acceptor, async move {
        let _ = stopped.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(cert.cert.der().clone())
        .expect("trust the certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config.clone()));
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");

    // HTTP/2 over TLS, chosen by ALPN.
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let tls = connector
        .connect(name.clone(), tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .expect("h2 handshake");
    tokio::spawn(conn);
    let req = http::Request::post(format!("https://localhost:{}/shop/nap", addr.port()))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"{\"millis\":\"1\"}",
        )))
        .expect("request");
    let rsp = send.send_request(req).await.expect("answer");
    assert_eq!(rsp.status(), 200);
    let body = http_body_util::BodyExt::collect(rsp.into_body())
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], br#"{"text":"awake","n":"1"}"#);

    // HTTP/1.1 over TLS.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut out = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_string(&mut out)).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");

    // Plaintext HTTP to the TLS port: no answer, the connection ends.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(15), tcp.read(&mut buf))
        .await
        .expect("closed within 15 s")
        .unwrap_or(0);
    assert!(
        !String::from_utf8_lossy(&buf[..n]).contains("200"),
        "plaintext got an answer"
    );
    let _ = stop.send(());

    // Bad files are named.
    let err = micro_gateway::tls::acceptor(&dir.join("none.pem").display().to_string(), &key_file)
        .err()
        .expect("a missing file is an error");
    assert!(err.contains("none.pem"), "{err}");
    let err = micro_gateway::tls::acceptor(&key_file, &key_file)
        .err()
        .expect("a key is not a certificate");
    assert!(err.contains("no certificate"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
