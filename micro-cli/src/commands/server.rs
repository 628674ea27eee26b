//! `micro server`: the registry as a service, for micro services on machines that share
//! nothing else (`MICRO_REGISTRY=service MICRO_REGISTRY_ADDRESS=host:port`). What it keeps
//! the registry in is its own `MICRO_REGISTRY` (local files by default, etcd or NATS).

use micro::Service;
use micro::platform;

use crate::cli::{Global, ServerArgs};
use crate::commands::CliError;
use crate::output;

pub(crate) async fn exec(global: &Global, args: ServerArgs) -> Result<(), CliError> {
    let settings = super::options(global)?;
    if settings.registry == "service" {
        return Err(CliError::usage(
            "micro server serves the registry, so its own MICRO_REGISTRY cannot be service",
            Some("unset MICRO_REGISTRY (local files) or name an engine: etcd, nats ...".into()),
        ));
    }
    if settings.registry == "dns" {
        return Err(CliError::usage(
            "micro server keeps records, and the dns registry is read-only",
            Some("unset MICRO_REGISTRY (local files) or name etcd or nats".into()),
        ));
    }
    // Its clients (the service registry engine) speak plaintext and send no token yet.
    if settings.tls.cert_file.is_some()
        || settings.tls.key_file.is_some()
        || settings.auth.enabled()
    {
        return Err(CliError::usage(
            "micro server does not take TLS or auth settings yet: the service registry engine of its clients sends neither",
            Some("unset MICRO_TLS_* and MICRO_AUTH for micro server, and keep it on a network you trust".into()),
        ));
    }
    let address = super::api::bind_address(&args.address);
    let ip = address
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip())
        .map_err(|_| {
            CliError::usage(
                format!("--address {address:?} is not an IP address and port"),
                Some("for example 127.0.0.1:8000 or 0.0.0.0:8000".into()),
            )
        })?;
    if !ip.is_loopback() && !args.insecure {
        return Err(CliError::usage(
            format!(
                "micro server would listen on {address}, where other hosts reach it, and it checks no caller yet"
            ),
            Some("add --insecure on a network you trust, or keep it on 127.0.0.1".into()),
        ));
    }
    let engine = settings.registry.clone();
    let service = Service::builder(platform::SERVICE)
        .settings(settings)
        .address(address.clone())
        .build()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let registry = service.registry().clone();
    let service = service.handler(platform::router(registry));
    output::note(&format!(
        "micro server on {address}: the registry of services that set MICRO_REGISTRY=service MICRO_REGISTRY_ADDRESS={address} (kept in the {engine} registry); Ctrl-C stops it"
    ));
    service
        .run()
        .await
        .map_err(|e| CliError::internal(format!("micro server: {}", e.detail())))
}
