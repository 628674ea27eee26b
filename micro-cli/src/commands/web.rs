//! `micro web`: the dashboard, and the web proxy for web apps written as services.

use micro_gateway::Gateway;

use crate::cli::{Global, WebArgs};
use crate::commands::api::{bind_address, stopped};
use crate::commands::{CliError, broker, plain_client};

/// The dashboard's options on the settings' engines. On a non-loopback bind it needs a
/// token: `MICRO_WEB_TOKEN`, or a new one (returned, to be printed once).
pub(crate) fn dashboard_options(
    global: &Global,
    loopback: bool,
    store_table: &str,
) -> Result<(micro_web::Options, Option<String>), CliError> {
    let settings = super::options(global)?;
    let (broker, _) = broker(global)?;
    let store = settings
        .store(store_table)
        .map_err(|e| CliError::usage(e.detail(), Some("fix MICRO_STORE or --store".into())))?;
    let mut options = micro_web::Options::default();
    options.loopback = loopback;
    options.broker = Some(broker);
    options.store = Some(store);
    let mut minted = None;
    match std::env::var("MICRO_WEB_TOKEN") {
        Ok(token) if token.trim().len() >= 16 => options.token = Some(token.trim().to_owned()),
        Ok(token) if !token.trim().is_empty() => {
            return Err(CliError::usage(
                "MICRO_WEB_TOKEN is too short to guard a dashboard (16 characters at least)",
                Some(
                    "use a long random value, e.g. MICRO_WEB_TOKEN=$(openssl rand -hex 32)".into(),
                ),
            ));
        }
        _ if !loopback => {
            let token = micro_web::new_token();
            options.token = Some(token.clone());
            minted = Some(token);
        }
        _ => {}
    }
    Ok((options, minted))
}

/// Say where the dashboard is, and the token when one was made for this run.
pub(crate) fn announce(what: &str, url: &str, minted: Option<&str>, token_set: bool) {
    crate::output::note(&format!("{what} on {url}; Ctrl-C stops it"));
    if let Some(token) = minted {
        crate::output::note(&format!(
            "the dashboard asks for this token (shown once; set MICRO_WEB_TOKEN to choose it): {token}"
        ));
    } else if token_set {
        crate::output::note("the dashboard asks for the token in MICRO_WEB_TOKEN");
    }
}

pub(crate) async fn exec(global: &Global, args: WebArgs) -> Result<(), CliError> {
    let tls = match (args.enable_tls, &args.tls_cert_file, &args.tls_key_file) {
        (false, _, _) => None,
        (true, Some(cert), Some(key)) => {
            Some(micro_gateway::tls::acceptor(cert, key).map_err(|e| CliError::usage(e, None))?)
        }
        (true, _, _) => {
            return Err(CliError::usage(
                "--enable_tls needs --tls_cert_file and --tls_key_file",
                None,
            ));
        }
    };
    let address = bind_address(&args.address);
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
        CliError::usage(
            format!("cannot listen on {address}: {e}"),
            Some("choose another port with --address, e.g. --address 127.0.0.1:8092".into()),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let loopback = local.ip().is_loopback();
    let (mut options, minted) = dashboard_options(global, loopback, &args.store_table)?;
    options.namespace = args.namespace.trim_end_matches('.').to_owned();
    options.call_timeout = args.call_timeout;
    let token_set = options.token.is_some();
    let client = plain_client(global)?;
    let web = micro_web::Web::new(client.clone(), options);
    // The proxy: a gateway with the web handler in the web services' namespace.
    let proxy = web.proxy_options();
    let gateway = Gateway::new(client, proxy.clone());
    let scheme = if tls.is_some() { "https" } else { "http" };
    announce(
        "micro web",
        &format!("{scheme}://{local}/"),
        minted.as_deref(),
        token_set,
    );
    micro_gateway::serve_router(web.standalone(&gateway), &proxy, listener, tls, stopped())
        .await
        .map_err(|e| CliError::internal(e.detail().to_owned()))
}
