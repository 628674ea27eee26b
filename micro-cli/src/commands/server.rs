//! `micro server`: the registry, broker and store as one service, for micro services on
//! machines that share nothing else (`MICRO_REGISTRY=service`, `MICRO_BROKER=service`,
//! `MICRO_STORE=service`, each `MICRO_*_ADDRESS=host:port`). What it keeps them in is its
//! own settings: local files and messages in memory by default; etcd, NATS, Redis ... when
//! its `MICRO_*` says. With `MICRO_AUTH=jwt` every call needs a token. The API gateway
//! (127.0.0.1:8080) and the web dashboard (127.0.0.1:8082) run beside it, on the same
//! registry.

use std::sync::Arc;

use micro::Service;
use micro::broker::{MemoryBroker, SharedBroker};
use micro::platform;

use crate::cli::{ApiArgs, Global, ServerArgs, WebArgs};
use crate::commands::CliError;
use crate::output;

pub(crate) async fn exec(global: &Global, args: ServerArgs) -> Result<(), CliError> {
    let settings = super::options(global)?;
    for (concept, engine) in [
        ("MICRO_REGISTRY", &settings.registry),
        ("MICRO_BROKER", &settings.broker),
        ("MICRO_STORE", &settings.store),
    ] {
        if engine == "service" {
            return Err(CliError::usage(
                format!(
                    "micro server serves the {}, so its own {concept} cannot be service",
                    concept.trim_start_matches("MICRO_").to_lowercase()
                ),
                Some(format!(
                    "unset {concept} (the embedded default) or name an engine such as nats or redis"
                )),
            ));
        }
    }
    if settings.registry == "dns" {
        return Err(CliError::usage(
            "micro server keeps records, and the dns registry is read-only",
            Some("unset MICRO_REGISTRY (local files) or name etcd or nats".into()),
        ));
    }
    // Its clients (the service engines) speak plaintext.
    if settings.tls.cert_file.is_some() || settings.tls.key_file.is_some() {
        return Err(CliError::usage(
            "micro server does not take TLS settings yet: the service engines of its clients speak plaintext",
            Some(
                "unset MICRO_TLS_* for micro server; with MICRO_AUTH=jwt every call needs a token"
                    .into(),
            ),
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
    let checked = settings.auth.enabled();
    if !ip.is_loopback() && !checked && !args.insecure {
        return Err(CliError::usage(
            format!(
                "micro server would listen on {address}, where other hosts reach it, and check no caller"
            ),
            Some("set MICRO_AUTH=jwt and MICRO_AUTH_PUBLIC_KEY (callers send MICRO_AUTH_TOKEN), or add --insecure on a network you trust".into()),
        ));
    }
    free("micro server", "--address", &address)?;
    let api: Option<ApiArgs> = front("gateway", "--api", &args.api)?;
    let web: Option<WebArgs> = front("dashboard", "--web", &args.web)?;
    // The gateway calls anything the registry holds (micro.server's Store.Write too): it
    // takes the same care as the server's own address. The dashboard asks for a token of
    // its own beyond loopback.
    if api.is_some() {
        let bind = super::api::bind_address(&args.api);
        let open = bind
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| !a.ip().is_loopback());
        if open && !checked && !args.insecure {
            return Err(CliError::usage(
                format!(
                    "micro server's gateway would listen on {bind}, where other hosts reach it, and check no caller"
                ),
                Some("set MICRO_AUTH=jwt and MICRO_AUTH_PUBLIC_KEY, keep --api on 127.0.0.1, or add --insecure on a network you trust".into()),
            ));
        }
    }
    let ports = [
        ("--address", Some(address.as_str())),
        ("--api", api.is_some().then_some(args.api.as_str())),
        ("--web", web.is_some().then_some(args.web.as_str())),
    ];
    for (i, (flag, a)) in ports.iter().enumerate() {
        for (other, b) in &ports[i + 1..] {
            let port = |x: &Option<&str>| {
                x.and_then(|x| x.rsplit_once(':'))
                    .map(|(_, p)| p.to_owned())
            };
            if let (Some(p), Some(q)) = (port(a), port(b))
                && p == q
                && p != "0"
            {
                return Err(CliError::usage(
                    format!("{flag} and {other} both name port {p}"),
                    Some(format!("give {other} another port, or {other} off")),
                ));
            }
        }
    }
    let registry_engine = settings.registry.clone();
    let store_engine = settings.store.clone();
    // The http broker has no server of its own: messages pass through this process.
    let own_broker = matches!(settings.broker.as_str(), "" | "http");
    let broker_engine = if own_broker {
        "memory".to_owned()
    } else {
        settings.broker.clone()
    };
    let mut builder = Service::builder(platform::SERVICE)
        .settings(settings)
        .address(address.clone());
    // The gateway and the dashboard of this process publish on the same broker: the
    // process's memory broker, or the engine the settings name.
    let mut fronts = global.clone();
    if own_broker {
        builder = builder.broker(Arc::new(MemoryBroker::global()));
        fronts.broker = Some("memory".to_owned());
        fronts.broker_address = None;
    }
    let service = builder
        .build()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let registry = service.registry().clone();
    let broker: SharedBroker = service.broker().clone();
    let store = service.store().engine().clone();
    let (router, closer) = platform::router(registry, broker, store);
    let service = service.handler(router);
    let callers = if checked {
        "every call needs a token (MICRO_AUTH_TOKEN)"
    } else {
        "no caller is checked"
    };
    output::note(&format!(
        "micro server on {address}: registry ({registry_engine}), broker ({broker_engine}) and store ({store_engine}) for services that set MICRO_REGISTRY=service MICRO_BROKER=service MICRO_STORE=service and each MICRO_*_ADDRESS={address}; {callers}; Ctrl-C stops it"
    ));
    let platform = async {
        let running = service
            .start()
            .await
            .map_err(|e| CliError::usage(format!("micro server: {}", e.detail()), None))?;
        micro::service::shutdown_signal().await;
        // Watches and subscriptions never end on their own: end them, so that stopping
        // takes no longer than the calls in flight.
        closer.close();
        running
            .stop()
            .await
            .map_err(|e| CliError::internal(format!("micro server: {}", e.detail())))
    };
    let api = async {
        match api {
            Some(args) => super::api::serve(&fronts, args, false).await,
            None => Ok(()),
        }
    };
    let web = async {
        match web {
            Some(args) => super::web::exec(&fronts, args).await,
            None => Ok(()),
        }
    };
    // Each stops on Ctrl-C or SIGTERM; the first failure ends them all.
    tokio::try_join!(platform, api, web).map(|_| ())
}

/// An error naming `flag` when `address` is taken (checked by binding it for a moment).
fn free(what: &str, flag: &str, address: &str) -> Result<(), CliError> {
    match std::net::TcpListener::bind(address) {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::usage(
            format!("{what} cannot listen on {address}: {e}"),
            Some(format!("choose another address with {flag} ADDR")),
        )),
    }
}

/// The arguments of `micro api` or `micro web` (their flags' defaults and environment)
/// listening on `address`, or `None` for `off`; the address is checked free first, so that a
/// taken port is an error naming the flag before anything starts.
fn front<T: clap::Args + clap::FromArgMatches>(
    command: &'static str,
    flag: &str,
    address: &str,
) -> Result<Option<T>, CliError> {
    if address == "off" {
        return Ok(None);
    }
    let bind = super::api::bind_address(address);
    if let Err(e) = std::net::TcpListener::bind(&bind) {
        return Err(CliError::usage(
            format!("micro server's {command} cannot listen on {bind}: {e}"),
            Some(format!(
                "choose another address with {flag} ADDR, or {flag} off"
            )),
        ));
    }
    let matches = T::augment_args(clap::Command::new(command))
        .try_get_matches_from([command, "--address", address])
        .map_err(|e| CliError::usage(format!("micro server's {command}: {e}"), None))?;
    T::from_arg_matches(&matches)
        .map(Some)
        .map_err(|e| CliError::usage(format!("micro server's {command}: {e}"), None))
}
