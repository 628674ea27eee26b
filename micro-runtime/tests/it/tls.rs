//! TLS and mutual TLS: calls over TLS on the transport under test, and every way a
//! handshake must fail (no client certificate, another CA, an expired certificate, another
//! host's certificate, plaintext on a TLS port and TLS on a plaintext one).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use micro_runtime::client::ClientOptions;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::service::RunningService;
use micro_runtime::tls::{ClientTls, TlsFiles};
use micro_runtime::{Client, Service};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use crate::support::{self, Echo};

/// A CA that signs certificates into a directory.
struct Ca {
    dir: PathBuf,
    name: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(dir: &Path, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{name} test CA"));
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        Ca {
            dir: dir.to_owned(),
            name: name.to_owned(),
            issuer: Issuer::new(params, key),
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.join(format!("{}.pem", self.name))
    }

    /// A certificate for `hosts` (server and client use), valid now unless `expired`:
    /// (certificate file, key file).
    fn sign(&self, file: &str, hosts: &[&str], expired: bool) -> (PathBuf, PathBuf) {
        let mut params =
            CertificateParams::new(hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let cert_file = self.dir.join(format!("{file}.pem"));
        let key_file = self.dir.join(format!("{file}-key.pem"));
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }
}

fn files(cert: Option<&(PathBuf, PathBuf)>, ca: Option<&Ca>) -> TlsFiles {
    let mut files = TlsFiles::default();
    if let Some((cert, key)) = cert {
        files.cert_file = Some(cert.clone());
        files.key_file = Some(key.clone());
    }
    files.ca_file = ca.map(Ca::file);
    files
}

/// An echo node serving TLS with `cert` (mutual TLS when `ca` is given).
async fn tls_echo(
    registry: &MemoryRegistry,
    cert: &(PathBuf, PathBuf),
    ca: Option<&Ca>,
) -> RunningService {
    let mut flags = vec![
        "--transport".to_owned(),
        crate::SERVER_TRANSPORT.to_owned(),
        format!("--tls_cert_file={}", cert.0.display()),
        format!("--tls_key_file={}", cert.1.display()),
    ];
    if let Some(ca) = ca {
        flags.push(format!("--tls_ca_file={}", ca.file().display()));
    }
    let builder = Service::builder("echo")
        .ignore_env()
        .registry(Arc::new(registry.clone()))
        .address("127.0.0.1:0")
        .flags(flags);
    support::start_with(
        builder,
        support::echo_router("a", support::Counter::default()),
    )
    .await
}

fn client(registry: &MemoryRegistry, files: &TlsFiles) -> Client {
    let mut options: ClientOptions = support::options();
    options.tls = ClientTls::from_files(files).unwrap();
    options.retries = 0;
    options.connect_timeout = Duration::from_secs(5);
    Client::with_options(Arc::new(registry.clone()), options)
}

async fn echo(client: &Client, text: &str) -> micro_runtime::Result<String> {
    let rsp: Echo = client.call("echo", "Echo.Call", &Echo::text(text)).await?;
    Ok(rsp.text)
}

#[tokio::test]
async fn calls_and_streams_travel_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let server = ca.sign("server", &["localhost", "127.0.0.1"], false);
    let reg = MemoryRegistry::new();
    let running = tls_echo(&reg, &server, None).await;
    assert_eq!(
        running.node().metadata.get("secure").map(String::as_str),
        Some("true"),
        "a TLS node says so in the registry"
    );
    let client = client(&reg, &files(None, Some(&ca)));
    assert_eq!(echo(&client, "over tls").await.unwrap(), "over tls");
    let mut stream = client
        .stream::<Echo, Echo>(
            &micro_runtime::Context::new(),
            "echo",
            "Echo.Chat",
            &micro_runtime::client::CallOptions::new(),
        )
        .await
        .unwrap();
    stream.send(&Echo::text("hi")).await.unwrap();
    assert_eq!(stream.recv().await.unwrap().unwrap().text, "HI");
    stream.close_send();
    assert_eq!(stream.recv().await.unwrap().unwrap().text, "bye");
}

#[tokio::test]
async fn mutual_tls_takes_only_certificates_of_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let other = Ca::new(dir.path(), "other");
    let server = ca.sign("server", &["127.0.0.1"], false);
    let reg = MemoryRegistry::new();
    let _running = tls_echo(&reg, &server, Some(&ca)).await;

    let anonymous = client(&reg, &files(None, Some(&ca)));
    let err = echo(&anonymous, "x").await.unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    // Over gRPC the request may be written before the server's TLS alert is read: the call
    // then fails as a broken connection, without the reason.
    if crate::CLIENT_TRANSPORT != micro_runtime::client::TransportPolicy::Grpc {
        assert!(err.detail().contains("client certificate"), "{err}");
        assert!(
            err.is_retry_safe(),
            "a refused handshake ran nothing: another node may take the call ({err})"
        );
    }

    let foreign = other.sign("foreign", &["client"], false);
    let stranger = client(&reg, &files(Some(&foreign), Some(&ca)));
    let err = echo(&stranger, "x").await.unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    assert!(
        crate::CLIENT_TRANSPORT == micro_runtime::client::TransportPolicy::Grpc
            || err.detail().contains("refused this client's certificate"),
        "{err}"
    );

    let expired = ca.sign("expired-client", &["client"], true);
    let late = client(&reg, &files(Some(&expired), Some(&ca)));
    let err = echo(&late, "x").await.unwrap_err();
    assert_eq!(err.code(), 503, "{err}");

    let member = ca.sign("member", &["client"], false);
    let member = client(&reg, &files(Some(&member), Some(&ca)));
    assert_eq!(echo(&member, "member").await.unwrap(), "member");
}

#[tokio::test]
async fn a_server_certificate_that_is_expired_or_for_another_host_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let reg = MemoryRegistry::new();
    let expired = ca.sign("expired", &["127.0.0.1"], true);
    let running = tls_echo(&reg, &expired, None).await;
    let err = echo(&client(&reg, &files(None, Some(&ca))), "x")
        .await
        .unwrap_err();
    assert!(err.detail().contains("certificate has expired"), "{err}");
    running.stop().await.unwrap();

    let elsewhere = ca.sign("elsewhere", &["elsewhere.example"], false);
    let _running = tls_echo(&reg, &elsewhere, None).await;
    let err = echo(&client(&reg, &files(None, Some(&ca))), "x")
        .await
        .unwrap_err();
    assert!(
        err.detail().contains("does not name the host dialed"),
        "{err}"
    );
    // Not signed by the CA the client trusts.
    let other = Ca::new(dir.path(), "other");
    let err = echo(&client(&reg, &files(None, Some(&other))), "x")
        .await
        .unwrap_err();
    assert!(err.detail().contains("not signed by the CA"), "{err}");
}

#[tokio::test]
async fn plaintext_on_a_tls_port_and_tls_on_a_plaintext_port_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let server = ca.sign("server", &["127.0.0.1"], false);
    let reg = MemoryRegistry::new();
    let running = tls_echo(&reg, &server, None).await;
    let plain = support::client(&reg);
    let err = tokio::time::timeout(Duration::from_secs(30), echo(&plain, "x"))
        .await
        .expect("a plaintext call to a TLS port fails, it does not hang")
        .unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    running.stop().await.unwrap();

    let reg = MemoryRegistry::new();
    let _plain_server = support::start_echo(&reg, "plain").await;
    let tls = client(&reg, &files(None, Some(&ca)));
    let err = tokio::time::timeout(Duration::from_secs(30), echo(&tls, "x"))
        .await
        .expect("a TLS call to a plaintext port fails, it does not hang")
        .unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    assert!(err.detail().contains("TLS handshake failed"), "{err}");
}

#[tokio::test]
async fn bad_tls_settings_name_the_file_and_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let (cert, key) = ca.sign("server", &["127.0.0.1"], false);
    let build = |flags: Vec<String>| {
        Service::builder("echo")
            .ignore_env()
            .registry(Arc::new(MemoryRegistry::new()))
            .flags(flags)
            .build()
            .err()
            .map(|e| e.detail().to_owned())
    };
    let only_cert = build(vec![format!("--tls_cert_file={}", cert.display())]).unwrap();
    assert!(
        only_cert.contains("MICRO_TLS_KEY_FILE is not"),
        "{only_cert}"
    );
    // The identity check reads verified names only: without TLS, or with certificates
    // unchecked, it is refused rather than silently off.
    let mut plain = TlsFiles::default();
    plain.verify_service = true;
    let err = ClientTls::from_files(&plain).unwrap_err();
    assert!(err.detail().contains("clients dial plaintext"), "{err}");
    let mut unchecked = files(None, Some(&ca));
    unchecked.verify_service = true;
    unchecked.insecure = true;
    let err = ClientTls::from_files(&unchecked).unwrap_err();
    assert!(err.detail().contains("can name any service"), "{err}");
    let missing = dir.path().join("missing.pem");
    let err = build(vec![
        format!("--tls_cert_file={}", missing.display()),
        format!("--tls_key_file={}", key.display()),
    ])
    .unwrap();
    assert!(
        err.contains("missing.pem") && err.contains("cannot be read"),
        "{err}"
    );
    let other = ca.sign("other", &["127.0.0.1"], false);
    let err = build(vec![
        format!("--tls_cert_file={}", cert.display()),
        format!("--tls_key_file={}", other.1.display()),
    ])
    .unwrap();
    assert!(err.contains("does not fit the certificate"), "{err}");
    let not_pem = dir.path().join("junk.pem");
    std::fs::write(&not_pem, "junk").unwrap();
    let err = build(vec![
        format!("--tls_cert_file={}", cert.display()),
        format!("--tls_key_file={}", key.display()),
        format!("--tls_ca_file={}", not_pem.display()),
    ])
    .unwrap();
    assert!(err.contains("junk.pem"), "{err}");
}

#[tokio::test]
async fn a_node_whose_certificate_names_another_service_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    let reg = MemoryRegistry::new();
    // A rogue node registers as echo with a valid certificate of the CA, made for another
    // service.
    let rogue = ca.sign("rogue", &["payments", "127.0.0.1"], false);
    let running = tls_echo(&reg, &rogue, None).await;
    let mut strict = files(None, Some(&ca));
    strict.verify_service = true;
    let err = echo(&client(&reg, &strict), "x").await.unwrap_err();
    assert_eq!(err.code(), 503, "{err}");
    assert!(
        err.detail().contains("registered as \"echo\"")
            && err.detail().contains("its certificate names payments,"),
        "{err}"
    );
    // Without the check, the chain and the address are all a client looks at.
    assert_eq!(
        echo(&client(&reg, &files(None, Some(&ca))), "lax")
            .await
            .unwrap(),
        "lax"
    );
    running.stop().await.unwrap();

    let genuine = ca.sign("genuine", &["echo", "127.0.0.1"], false);
    let _running = tls_echo(&reg, &genuine, None).await;
    assert_eq!(
        echo(&client(&reg, &strict), "strict").await.unwrap(),
        "strict"
    );
}
