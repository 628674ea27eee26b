//! `micro api`: the API gateway.

use micro_gateway::{Gateway, HandlerKind, Options, ResolverKind};

use crate::cli::{ApiArgs, Global};
use crate::commands::{CliError, broker, plain_client};

/// `:8080` means every interface, as in go-micro.
pub(crate) fn bind_address(address: &str) -> String {
    match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_owned(),
    }
}

fn options(args: &ApiArgs) -> Result<Options, CliError> {
    let handler: HandlerKind = args
        .handler
        .parse()
        .map_err(|e: String| CliError::usage(e, None))?;
    let resolver: ResolverKind = args
        .resolver
        .parse()
        .map_err(|e: String| CliError::usage(e, None))?;
    let cors_origins = if args.enable_cors {
        if args.cors_origin.is_empty() {
            return Err(CliError::usage(
                "--enable_cors needs the origins to allow",
                Some("add --cors_origin https://app.example.com (repeatable)".into()),
            ));
        }
        args.cors_origin.clone()
    } else {
        Vec::new()
    };
    let mut options = Options::default();
    options.handler = handler;
    options.resolver = resolver;
    options.namespace = args.namespace.trim_end_matches('.').to_owned();
    options.enable_rpc = args.enable_rpc;
    options.rpc_allow_address = args.rpc_allow_address;
    options.cors_origins = cors_origins;
    options.strict = args.strict;
    options.max_body = args.max_body;
    options.max_concurrent = args.max_concurrent.max(1);
    options.read_timeout = args.read_timeout;
    options.call_timeout = args.call_timeout;
    options.forward_headers = args
        .forward_header
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    Ok(options)
}

pub(crate) async fn stopped() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub(crate) async fn exec(global: &Global, args: ApiArgs) -> Result<(), CliError> {
    serve(global, args, true).await
}

/// The gateway; `own_metrics`: start the `MICRO_METRICS_ADDRESS` exporter here (not when
/// it runs inside `micro server`, whose service starts it).
pub(crate) async fn serve(
    global: &Global,
    args: ApiArgs,
    own_metrics: bool,
) -> Result<(), CliError> {
    let mut options = options(&args)?;
    let tls = if args.enable_tls {
        let (Some(cert), Some(key)) = (&args.tls_cert_file, &args.tls_key_file) else {
            return Err(CliError::usage(
                "--enable_tls needs --tls_cert_file and --tls_key_file",
                None,
            ));
        };
        Some(micro_gateway::tls::acceptor(cert, key).map_err(|e| CliError::usage(e, None))?)
    } else {
        None
    };
    let settings = super::options(global)?;
    // MICRO_METRICS_ADDRESS: metrics on their own port, and at /metrics on the gateway's.
    let _metrics = match &settings.metrics_address {
        Some(address) if own_metrics => Some(
            micro::metrics::Exporter::start(address)
                .await
                .map_err(|e| CliError::usage(e.detail(), None))?,
        ),
        _ => None,
    };
    options.metrics = settings.metrics_address.is_some();
    // MICRO_AUTH=jwt: callers' tokens and the rules are checked here first.
    if settings.auth.enabled()
        && matches!(
            options.handler,
            HandlerKind::Http | HandlerKind::Web | HandlerKind::Event
        )
    {
        return Err(CliError::usage(
            format!(
                "the {} handler does not check auth yet, and MICRO_AUTH=jwt is set",
                options.handler
            ),
            Some("use --handler meta, rpc or api with auth on".into()),
        ));
    }
    let _following = match super::auth::gate(&settings).await? {
        Some((gate, following)) => {
            options.auth = Some(gate);
            Some(following)
        }
        None => None,
    };
    // MICRO_TRACER: a span per request and per call, under the caller's traceparent.
    options.tracer = settings
        .tracer_for("micro.api")
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let tracer = options.tracer.clone();
    // Not the CLI's own client: a token `micro login` kept must never go with a caller's
    // request.
    let client = plain_client(global)?;
    let address = bind_address(&args.address);
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
        CliError::usage(
            format!("cannot listen on {address}: {e}"),
            Some("choose another port with --address, e.g. --address 127.0.0.1:8090".into()),
        )
    })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or(address);
    // --web: the dashboard under /_/, its API in /openapi.json.
    let dashboard = if args.web {
        let loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
        let (web, minted) = super::web::dashboard_options(global, loopback, "micro")?;
        let base = web.base.clone();
        options.openapi_paths = Some(std::sync::Arc::new(micro_web::openapi::paths(&base)));
        Some((micro_web::Web::new(client.clone(), web), minted))
    } else {
        None
    };
    let mut gateway = Gateway::new(client, options);
    if gateway.options().handler == HandlerKind::Event {
        let (broker, _) = broker(global)?;
        gateway = gateway.with_broker(broker);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    crate::output::note(&format!(
        "micro api on {scheme}://{local} (handler {}, resolver {}); Ctrl-C stops it",
        gateway.options().handler,
        gateway.options().resolver
    ));
    // --mcp: the tools at /mcp, over this gateway's table and client.
    let mcp = args.mcp.then(|| {
        let mut mcp = micro_mcp::Options::default();
        mcp.loopback = listener.local_addr().is_ok_and(|a| a.ip().is_loopback());
        mcp.auth = gateway.options().auth.clone();
        mcp.call_timeout = gateway.options().call_timeout;
        crate::output::note(&format!(
            "MCP tools on {scheme}://{local}{}",
            micro_mcp::PATH
        ));
        micro_mcp::Mcp::new(gateway.clone(), mcp)
    });
    // Stopping ends MCP's event streams, so that agents do not hold the gateway up.
    let closer = mcp.clone();
    let shutdown = async move {
        stopped().await;
        if let Some(mcp) = closer {
            mcp.close();
        }
    };
    let served = match (dashboard, mcp) {
        (Some((web, minted)), mcp) => {
            super::web::announce(
                "the dashboard",
                &format!("{scheme}://{local}{}/", web.options().base),
                minted.as_deref(),
                web.options().token.is_some(),
            );
            let options = gateway.options().clone();
            let mut router = web.mounted(&gateway);
            if let Some(mcp) = mcp {
                router = mcp.router().merge(router);
            }
            micro_gateway::serve_router(router, &options, listener, tls, shutdown).await
        }
        (None, Some(mcp)) => {
            let options = gateway.options().clone();
            let router = mcp.router().merge(gateway.router());
            micro_gateway::serve_router(router, &options, listener, tls, shutdown).await
        }
        (None, None) => match tls {
            Some(tls) => gateway.serve_tls(listener, tls, shutdown).await,
            None => gateway.serve(listener, shutdown).await,
        },
    };
    if let Some(tracer) = tracer {
        tracer.flush(std::time::Duration::from_secs(5)).await;
    }
    served.map_err(|e| CliError::internal(e.detail().to_owned()))
}
