//! `micro call SERVICE ENDPOINT [JSON]`.

use std::io::{IsTerminal, Read};

use bytes::Bytes;
use micro::client::CallOptions;
use micro::registry::Endpoint;
use micro::{Context, Format};

use crate::cli::{CallArgs, Global};
use crate::commands::{CliError, shape, stream};
use crate::output;

fn request_text(args: &CallArgs) -> Result<String, CliError> {
    if let Some(text) = &args.request {
        return Ok(text.clone());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok("{}".to_owned());
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read the request from stdin: {e}"), None))?;
    if text.trim().is_empty() {
        return Ok("{}".to_owned());
    }
    Ok(text)
}

pub(crate) async fn exec(
    _global: &Global,
    client: &micro::Client,
    args: CallArgs,
) -> Result<(), CliError> {
    let text = request_text(&args)?;
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        return Err(CliError::usage(
            format!("the request is not valid JSON: {e}"),
            Some("quote the JSON for the shell, e.g. micro call greeter Greeter.Hello '{\"name\":\"John\"}'".to_owned()),
        ));
    }
    if !args.endpoint.contains('.') {
        return Err(CliError::usage(
            format!(
                "invalid endpoint {:?}: write it as Service.Method",
                args.endpoint
            ),
            Some(format!(
                "`micro describe {}` lists its endpoints",
                args.service
            )),
        ));
    }
    let mut opts = CallOptions::new();
    for address in &args.address {
        opts = opts.address(address.clone());
    }
    for (k, v) in &args.metadata {
        opts = opts.metadata(k.clone(), v.clone());
    }
    if let Some(timeout) = args.timeout {
        opts = opts.timeout(timeout);
    }
    let described = described(client, &args.service, &args.endpoint).await;
    if let Some(schema) = described.as_ref().and_then(|e| e.request.as_ref())
        && let Ok(request) = serde_json::from_str::<serde_json::Value>(&text)
    {
        shape::check(&request, schema, &args.service, &args.endpoint)?;
    }
    send_one(
        client,
        &args.service,
        &args.endpoint,
        described.as_ref().and_then(Endpoint::stream),
        opts,
        text.trim().to_owned(),
        args.verbose,
    )
    .await
}

/// Send one JSON request to `endpoint` of `service` and print the answer: each response of a
/// server stream as a line, or the unary reply (and, with `verbose`, the node that gave it).
/// An endpoint that takes a stream of requests (`stream` is its kind) is a usage error.
pub(crate) async fn send_one(
    client: &micro::Client,
    service: &str,
    endpoint: &str,
    stream: Option<&str>,
    opts: CallOptions,
    request: String,
    verbose: bool,
) -> Result<(), CliError> {
    match stream {
        Some("server") => {
            let opts = opts.format(Format::Json);
            return stream::run(client, service, endpoint, &opts, Some(request)).await;
        }
        Some(kind) => {
            return Err(CliError::usage(
                format!("{endpoint} takes a stream of requests ({kind} stream)"),
                Some(format!(
                    "send them one JSON per line: micro stream {service} {endpoint} < requests.jsonl"
                )),
            ));
        }
        None => {}
    }
    let rsp = client
        .call_raw(
            &Context::new(),
            service,
            endpoint,
            Format::Json,
            Bytes::from(request),
            &opts,
        )
        .await
        .map_err(|e| CliError::remote(&e, service))?;
    if verbose {
        output::note(&format!("node: {} ({})", rsp.node.id, rsp.node.address));
    }
    output::print(&String::from_utf8_lossy(&rsp.message));
    Ok(())
}

/// The endpoint as the registry describes it, when the service is registered and says.
pub(crate) async fn described(
    client: &micro::Client,
    service: &str,
    endpoint: &str,
) -> Option<Endpoint> {
    let records = client
        .selector()
        .registry()
        .get_service(service)
        .await
        .ok()?;
    records
        .into_iter()
        .flat_map(|s| s.endpoints)
        .find(|e| e.name == endpoint && !e.is_subscriber())
}
