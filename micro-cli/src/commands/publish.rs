//! `micro publish TOPIC [JSON]`.

use std::io::{IsTerminal, Read};

use micro::broker::{Envelope, HEADER_CONTENT_TYPE, HEADER_ID, SharedBroker, new_message_id};
use micro::registry::SharedRegistry;

use crate::cli::{Global, Output, PublishArgs};
use crate::commands::CliError;
use crate::commands::topic::{self, Subscribing};
use crate::output;

fn message_text(args: &PublishArgs) -> Result<String, CliError> {
    if let Some(text) = &args.message {
        return Ok(text.clone());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(
            "no message given",
            Some(format!(
                "pass it as JSON: micro publish {} '{{\"id\":1}}' (or pipe it on stdin)",
                args.topic
            )),
        ));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read the message from stdin: {e}"), None))?;
    Ok(text)
}

/// Warn when the registered subscribers of `topic` use another broker than `ours` (they would
/// never see the message), or when no registered service subscribes.
fn warn_about_audience(topic: &str, ours: &str, subscribers: &[Subscribing]) {
    if subscribers.is_empty() {
        output::note(&format!(
            "note: no registered service subscribes to {topic} (`micro describe SERVICE` lists a service's subscribers)"
        ));
        return;
    }
    for Subscribing {
        service, brokers, ..
    } in subscribers
    {
        let elsewhere: Vec<&str> = brokers
            .iter()
            .map(String::as_str)
            .filter(|b| *b != ours)
            .collect();
        if !elsewhere.is_empty() {
            output::note(&format!(
                "warning: {service} subscribes to {topic} on the {} broker, not {ours}: it will not get this message\nhint: pass --broker {} (and --broker_address), or set MICRO_BROKER as the services do",
                elsewhere.join("/"),
                elsewhere[0],
            ));
        }
    }
}

pub(crate) async fn exec(
    global: &Global,
    broker: SharedBroker,
    registry: &SharedRegistry,
    args: PublishArgs,
) -> Result<(), CliError> {
    let text = message_text(&args)?;
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
        return Err(CliError::usage(
            format!("the message is not valid JSON: {e}"),
            Some(format!(
                "quote the JSON for the shell, e.g. micro publish {} '{{\"id\":1}}'",
                args.topic
            )),
        ));
    }
    micro::broker::validate_topic(&args.topic).map_err(|e| CliError::usage(e.detail(), None))?;
    let id = new_message_id();
    let mut message = Envelope::new(text.trim().to_owned())
        .with_header(HEADER_CONTENT_TYPE, "application/json")
        .with_header(HEADER_ID, id.clone());
    for (k, v) in &args.metadata {
        message = message.with_header(k.clone(), v.clone());
    }
    let subscribers = topic::subscribers(registry.as_ref(), &args.topic).await;
    warn_about_audience(&args.topic, broker.name(), &subscribers);
    broker
        .publish(&args.topic, message)
        .await
        .map_err(|e| CliError::broker(&e))?;
    // Let a NATS broker write the message out before the process ends.
    broker
        .disconnect()
        .await
        .map_err(|e| CliError::broker(&e))?;
    match global.output {
        Output::Json => output::print(
            &serde_json::json!({ "topic": args.topic, "id": id, "broker": broker.name() })
                .to_string(),
        ),
        Output::Text => output::print(&format!(
            "published {id} on {} ({})",
            args.topic,
            broker.name()
        )),
    }
    Ok(())
}
