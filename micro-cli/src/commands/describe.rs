//! `micro describe SERVICE` (and `micro get service SERVICE`).

use std::fmt::Write as _;

use micro::registry::Service;

use crate::cli::{DescribeArgs, Global, Output};
use crate::commands::{CliError, shape};
use crate::output;

pub(crate) async fn exec(
    global: &Global,
    client: &micro::Client,
    args: &DescribeArgs,
) -> Result<(), CliError> {
    let services = client
        .selector()
        .registry()
        .get_service(&args.service)
        .await
        .map_err(|e| CliError::lookup(&e, &args.service))?;
    match global.output {
        Output::Json => output::print(
            &serde_json::to_string_pretty(&services)
                .map_err(|e| CliError::internal(e.to_string()))?,
        ),
        Output::Text => {
            let text: Vec<String> = services.iter().map(render).collect();
            output::print(&text.join("\n"));
        }
    }
    Ok(())
}

fn metadata(map: &std::collections::BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn render(svc: &Service) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "service  {}", svc.name);
    let _ = writeln!(out, "version  {}", svc.version);
    if !svc.metadata.is_empty() {
        let _ = writeln!(out, "metadata {}", metadata(&svc.metadata));
    }
    let (subscribers, endpoints): (Vec<_>, Vec<_>) =
        svc.endpoints.iter().partition(|e| e.is_subscriber());
    let _ = writeln!(out, "\nendpoints:");
    if endpoints.is_empty() {
        let _ = writeln!(out, "  (none declared)");
    }
    for ep in endpoints {
        let mut flags = Vec::new();
        if let Some(kind) = ep.stream() {
            flags.push(format!("{kind} stream"));
        }
        if ep.is_idempotent() {
            flags.push("idempotent".to_owned());
        }
        if let (Some(method), Some(path)) = (ep.metadata.get("method"), ep.metadata.get("path")) {
            flags.push(format!("{method} {path}"));
        }
        if flags.is_empty() {
            let _ = writeln!(out, "  {}", ep.name);
        } else {
            let _ = writeln!(out, "  {}  ({})", ep.name, flags.join(", "));
        }
        if let Some(req) = &ep.request {
            let _ = writeln!(out, "    request   {}", shape::inline(req));
        }
        if let Some(rsp) = &ep.response {
            let _ = writeln!(out, "    response  {}", shape::inline(rsp));
        }
    }
    if !subscribers.is_empty() {
        let _ = writeln!(out, "\nsubscribers:");
        for ep in subscribers {
            let group = match ep.metadata.get("queue") {
                Some(queue) => format!("queue {queue}"),
                None => "broadcast".to_owned(),
            };
            let topic = ep.metadata.get("topic").unwrap_or(&ep.name);
            let _ = writeln!(out, "  {topic}  ({group})");
            if let Some(req) = &ep.request {
                let _ = writeln!(out, "    message   {}", shape::inline(req));
            }
        }
    }
    let _ = writeln!(out, "\nnodes:");
    let rows: Vec<Vec<String>> = svc
        .nodes
        .iter()
        .map(|n| vec![n.id.clone(), n.address.clone(), metadata(&n.metadata)])
        .collect();
    for line in output::table(&["ID", "ADDRESS", "METADATA"], &rows).lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}
