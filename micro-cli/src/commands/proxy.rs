//! `micro proxy`: the sidecar for apps in any language (go-micro's sidecar API and Dapr's).

use micro::Service;
use micro_proxy::{App, SecretStore, Sidecar};

use crate::cli::{Global, ProxyArgs};
use crate::commands::CliError;
use crate::commands::api::{bind_address, stopped};

fn sidecar_options(args: &ProxyArgs) -> Result<micro_proxy::Options, CliError> {
    let mut options = micro_proxy::Options::default();
    options.app = match (&args.server_name, &args.server_address) {
        (Some(name), Some(address)) => {
            let mut app = App::new(name.trim(), address.trim());
            app.health_interval = args
                .healthcheck_interval
                .max(std::time::Duration::from_millis(100));
            if let Some(url) = &args.healthcheck_url {
                app = app.health(url.trim(), args.healthcheck_interval);
            }
            Some(app)
        }
        (None, None) if args.healthcheck_url.is_none() => None,
        _ => {
            return Err(CliError::usage(
                "--server_name, --server_address (and --healthcheck_url) go together",
                Some("e.g. --server_name orders --server_address 127.0.0.1:5000 --healthcheck_url http://127.0.0.1:5000/health".into()),
            ));
        }
    };
    options.namespace = args.namespace.trim_end_matches('.').to_owned();
    options.state_stores = args
        .state_store
        .iter()
        .map(|s| match s.split_once('=') {
            Some((name, table)) => (name.trim().to_owned(), table.trim().to_owned()),
            None => (s.trim().to_owned(), s.trim().to_owned()),
        })
        .collect();
    options.pubsubs = args.pubsub.iter().map(|p| p.trim().to_owned()).collect();
    options.secret_stores = args
        .secret_store
        .iter()
        .map(|s| s.parse::<SecretStore>())
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::usage(format!("--secret_store {e}"), None))?;
    options.max_deliver = args.max_deliver.max(1);
    options.retry_backoff = args.retry_backoff;
    options.call_timeout = args.call_timeout;
    Ok(options)
}

pub(crate) async fn exec(global: &Global, args: ProxyArgs) -> Result<(), CliError> {
    let options = sidecar_options(&args)?;
    let mut settings = super::options(global)?;
    // The sidecar resolves for others: its own calls never go through a proxy.
    settings.proxy = None;
    // MICRO_SERVER_NAME and MICRO_SERVER_ADDRESS name the app here, not the sidecar's node.
    settings.server_name = None;
    settings.server_address = bind_address(&args.rpc_address);
    let usage = |e: micro::Error| CliError::usage(e.detail(), None);
    let registry = settings.registry().map_err(usage)?;
    let broker = settings.broker(&registry).map_err(usage)?;
    let store = settings.store("statestore").ok();
    let client =
        micro::Client::with_options(registry.clone(), settings.client_options().map_err(usage)?);
    let address = bind_address(&args.address);
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
        CliError::usage(
            format!("cannot listen on {address}: {e}"),
            Some("choose another port with --address, e.g. --address 127.0.0.1:8091".into()),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let mut options = options;
    options.loopback = local.ip().is_loopback();
    options.token = ["MICRO_PROXY_TOKEN", "DAPR_API_TOKEN"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let sidecar = Sidecar::new(client, broker.clone(), store, options);
    let rpc = Service::builder(micro_proxy::SERVICE_NAME)
        .settings(settings)
        .registry(registry)
        .broker(broker)
        .address(bind_address(&args.rpc_address))
        .handler(sidecar.rpc_router())
        .build()
        .map_err(usage)?
        .start()
        .await
        .map_err(|e| {
            CliError::usage(
                format!(
                    "cannot serve micro calls on {}: {}",
                    args.rpc_address,
                    e.detail()
                ),
                Some("choose another port with --rpc_address".into()),
            )
        })?;
    sidecar.start(rpc.node().clone());
    crate::output::note(&format!(
        "micro proxy on http://{local}/ (micro calls on {}); Ctrl-C stops it",
        rpc.node().address
    ));
    if let Some(app) = &sidecar.options().app {
        crate::output::note(&format!("fronting {} at {}", app.name, app.address));
    }
    let mut gateway = micro_gateway::Options::default();
    gateway.max_body = sidecar.options().max_body;
    let served =
        micro_gateway::serve_router(sidecar.router(), &gateway, listener, None, stopped()).await;
    sidecar.stop().await;
    let _ = rpc.stop().await;
    served.map_err(|e| CliError::internal(e.detail().to_owned()))
}
