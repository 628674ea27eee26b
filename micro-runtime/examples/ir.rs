//! A call loop for counting instructions per call (the CI regression gate in
//! `scripts/ir.sh` runs it under `valgrind --tool=callgrind`).
//!
//! One process, one current-thread runtime: a service on 127.0.0.1:0 (or an in-process name)
//! and a client calling it `N` times with a 16-byte payload, on the transport given, with no
//! middleware or with one no-op handler wrapper (a closure, or a tower layer), over TLS
//! (a CA and a certificate for 127.0.0.1 made at start), with auth on (`auth`: a JWT checked
//! against the default rule on every call, sent by a client wrapper), with auth and
//! metrics on (`observed`), with tracing on (`traced`: a client and a server span per call,
//! exported over OTLP), with all three (`all`), or with the request validated against five
//! rules before the handler (`validated`).
//!
//! ```text
//! cargo run --release -p micro-runtime --example ir -- native 2000 [none|wrapper|layer|tls|auth|observed|traced|all|validated]
//! ```

use std::sync::Arc;
use std::time::Duration;

use micro_runtime::auth::Auth as _;
use micro_runtime::client::CallWrapper;
use micro_runtime::registry::MemoryRegistry;
use micro_runtime::server::{HandlerWrapper, Router};
use micro_runtime::{Client, Service, Settings};

/// The echo message: a payload of bytes.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
struct Payload {
    #[prost(bytes = "vec", tag = "1")]
    data: Vec<u8>,
}

impl micro_runtime::codec::ProstSerde for Payload {}

/// Five `buf.validate` rules on the payload, as micro-gen generates them (a static rule
/// table and one check call): `bytes = {min_len: 1, max_len: 64, prefix: "\x07",
/// suffix: "\x07", contains: "\x07\x07"}`.
impl micro_runtime::validate::Validate for Payload {
    fn validate_into(&self, v: &mut micro_runtime::validate::Violations) {
        static R: micro_runtime::validate::BytesRules = micro_runtime::validate::BytesRules {
            const_: None,
            len: None,
            min_len: Some(1),
            max_len: Some(64),
            prefix: Some(b"\x07"),
            suffix: Some(b"\x07"),
            contains: Some(b"\x07\x07"),
            in_: &[],
            not_in: &[],
        };
        v.field("data");
        micro_runtime::validate::bytes(v, &self.data[..], &R);
        v.pop();
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "native".into());
    let mut settings = Settings::default();
    settings.apply_args(["--transport", &name])?;
    let mut client_options = settings.client_options()?;
    let calls: u32 = args.next().unwrap_or_else(|| "1000".into()).parse()?;
    let middleware = args.next().unwrap_or_else(|| "none".into());
    // Servers serve native and gRPC on TCP, or listen in this process for `memory`.
    let server_transport = if name == "memory" { "memory" } else { "auto" };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let certs = tempfile::tempdir()?;
    let mut flags = vec!["--transport".to_owned(), server_transport.to_owned()];
    if middleware == "tls" {
        let (ca, cert, key) = dev_certs(certs.path())?;
        flags.push(format!("--tls_cert_file={}", cert.display()));
        flags.push(format!("--tls_key_file={}", key.display()));
        let mut files = micro_runtime::tls::TlsFiles::default();
        files.ca_file = Some(ca);
        client_options.tls = micro_runtime::tls::ClientTls::from_files(&files)?;
    }
    // Auth: an Ed25519 key, a token for an account, the rules in a fresh store (none
    // stored: the default rule, any account).
    let mut token = None;
    if matches!(middleware.as_str(), "auth" | "observed" | "all") {
        let (private_key, _) = micro_runtime::auth::generate_ed25519()?;
        let jwt = micro_runtime::auth::Jwt::signing(&private_key, "micro", "micro")?;
        let issued = jwt.issue(
            &micro_runtime::auth::Account::new("ir", ["bench"]),
            Duration::from_secs(3600),
        )?;
        token = Some(format!("Bearer {}", issued.access_token));
        flags.push(format!("--home={}", certs.path().display()));
        flags.push("--auth=jwt".into());
        flags.push(format!("--auth_private_key={private_key}"));
    }
    if matches!(middleware.as_str(), "observed" | "all") {
        flags.push("--metrics_address=127.0.0.1:0".into());
    }
    // Tracing: spans exported over OTLP to a port where nothing listens (each batch fails
    // once a second; the cost per call is making, queueing and encoding the spans).
    let traced = matches!(middleware.as_str(), "traced" | "all");
    if traced {
        flags.push("--tracer=otlp".into());
        flags.push("--tracer_address=127.0.0.1:9".into());
    }
    let validated = middleware == "validated";
    rt.block_on(async move {
        let registry = MemoryRegistry::new();
        let mut builder = Service::builder("ir")
            .ignore_env()
            .registry(Arc::new(registry.clone()))
            .address("127.0.0.1:0")
            .flags(flags)
            .shutdown_delay(Duration::ZERO)
            .handler(Router::new().unary("Echo.Call", move |_ctx, req: Payload| async move {
                if validated {
                    micro_runtime::validate::Validate::validate(&req)?;
                }
                Ok(req)
            }));
        builder = match middleware.as_str() {
            "none" | "tls" | "auth" | "observed" | "traced" | "all" | "validated" => builder,
            // The p2c selector instead of random.
            "p2c" => {
                client_options.strategy = micro_runtime::selector::Strategy::P2c;
                builder
            }
            // The overload guards off: no shedder, no breaker, no retry budget.
            "unguarded" => {
                client_options.breaker = false;
                client_options.retry_budget = 0.0;
                builder.load_shedding(None)
            }
            "wrapper" => builder.wrap(HandlerWrapper::new(|req, next| async move {
                next.call(req).await
            })),
            "layer" => builder.layer(tower::layer::util::Identity::new()),
            other => {
                return Err(micro_runtime::Error::bad_request(
                    "ir",
                    format!(
                        "unknown middleware {other:?}: none, p2c, unguarded, wrapper, layer, tls, auth, observed, traced, all or validated"
                    ),
                ));
            }
        };
        let running = builder.build()?.start().await?;
        let mut client = Client::with_options(Arc::new(registry), client_options);
        if traced {
            // As a service's client: a client span per call.
            let tracer = micro_runtime::trace::Tracer::from_settings(
                micro_runtime::trace::TracerKind::Otlp,
                Some("127.0.0.1:9"),
                "ir-client",
            )?;
            if let Some(tracer) = tracer {
                client = client.traced(&tracer);
            }
        }
        if let Some(token) = token {
            // As a service sends its own token: a client wrapper.
            client = client.wrap(CallWrapper::new(move |mut req, next| {
                req.context_mut()
                    .metadata_mut()
                    .insert("authorization", token.clone());
                next.call(req)
            }));
        }
        let req = Payload { data: vec![7; 16] };
        // Connections, caches and buffers settle before the counted calls.
        for _ in 0..100 {
            let _: Payload = client.call("ir", "Echo.Call", &req).await?;
        }
        for _ in 0..calls {
            let rsp: Payload = client.call("ir", "Echo.Call", &req).await?;
            debug_assert_eq!(rsp, req);
        }
        running.stop().await?;
        Ok::<_, micro_runtime::Error>(())
    })?;
    Ok(())
}

/// A CA and a certificate for 127.0.0.1 under `dir`: (CA file, certificate file, key file).
fn dev_certs(
    dir: &std::path::Path,
) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf), Box<dyn std::error::Error>>
{
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
    let key = rcgen::KeyPair::generate()?;
    let cert = leaf.signed_by(&key, &issuer)?;
    let files = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&files.0, ca_cert.pem())?;
    std::fs::write(&files.1, cert.pem())?;
    std::fs::write(&files.2, key.serialize_pem())?;
    Ok(files)
}
