//! `micro stream SERVICE ENDPOINT [JSON]`: JSON lines in, JSON lines out.

use std::io::IsTerminal;

use bytes::Bytes;
use micro::client::{CallOptions, Raw};
use micro::{Context, Format};

use crate::cli::{Global, StreamArgs};
use crate::commands::CliError;
use crate::output;

fn check_json(text: &str, line: Option<usize>) -> Result<(), CliError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|e| {
            let at = line
                .map(|n| format!(" (stdin line {n})"))
                .unwrap_or_default();
            CliError::usage(
                format!("the request is not valid JSON{at}: {e}"),
                Some("give one JSON object per line, e.g. {\"count\":3}".to_owned()),
            )
        })
}

pub(crate) async fn exec(
    _global: &Global,
    client: &micro::Client,
    args: StreamArgs,
) -> Result<(), CliError> {
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
    if let Some(text) = &args.request {
        check_json(text, None)?;
    }
    let mut opts = CallOptions::new().format(Format::Json);
    for address in &args.address {
        opts = opts.address(address.clone());
    }
    for (k, v) in &args.metadata {
        opts = opts.metadata(k.clone(), v.clone());
    }
    if let Some(timeout) = args.timeout {
        opts = opts.timeout(timeout);
    }
    run(client, &args.service, &args.endpoint, &opts, args.request).await
}

/// Open a stream to `endpoint` of `service`, send `request` (or, without it, one request per
/// line of stdin), and print each response as a JSON line.
pub(crate) async fn run(
    client: &micro::Client,
    service: &str,
    endpoint: &str,
    opts: &CallOptions,
    request: Option<String>,
) -> Result<(), CliError> {
    let streaming = client
        .stream::<Raw, Raw>(&Context::new(), service, endpoint, opts)
        .await
        .map_err(|e| CliError::remote(&e, service))?;
    let (sender, mut receiver) = streaming.split();
    let sending = tokio::spawn(async move {
        let Some(sender) = sender else {
            return Ok(());
        };
        if let Some(text) = request {
            let _ = sender.send(&Raw(Bytes::from(text.trim().to_owned()))).await;
            return Ok(());
        }
        if std::io::stdin().is_terminal() {
            output::note("reading requests from stdin, one JSON per line; Ctrl-D ends");
        }
        // Stdin is read on a thread of its own; lines arrive over a channel.
        let (tx, mut lines) = tokio::sync::mpsc::channel::<String>(16);
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                if tx.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        let mut n = 0;
        while let Some(line) = lines.recv().await {
            n += 1;
            if line.trim().is_empty() {
                continue;
            }
            check_json(&line, Some(n))?;
            if sender
                .send(&Raw(Bytes::from(line.trim().to_owned())))
                .await
                .is_err()
            {
                break;
            }
        }
        Ok(())
        // Dropping the sender half-closes the stream: the server sees the end of requests.
    });
    loop {
        match receiver.recv().await {
            Ok(Some(Raw(bytes))) => output::print(&String::from_utf8_lossy(&bytes)),
            Ok(None) => break,
            Err(e) => {
                sending.abort();
                return Err(CliError::remote(&e, service));
            }
        }
    }
    match sending.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
