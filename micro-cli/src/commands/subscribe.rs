//! `micro subscribe TOPIC`: one JSON line per message.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use micro::broker::{Envelope, Event, SharedBroker, SubscribeOptions, handler};
use serde_json::{Map, Value, json};

use crate::cli::{Global, SubscribeArgs};
use crate::commands::CliError;
use crate::commands::decode::Decoder;
use crate::output;

/// A message as a JSON object: topic, id, timestamp, content type, the other headers, and
/// the body: JSON as it came, protobuf decoded to JSON (`decoded` is the decoder's answer),
/// anything else as base64 in `body_base64` (with `decode_error` saying why).
pub(crate) fn to_json(
    message: &Envelope,
    topic: &str,
    decoded: Option<Result<Value, String>>,
) -> Value {
    let mut headers = Map::new();
    for (k, v) in message.headers.iter() {
        if !matches!(
            k,
            "micro-id" | "micro-topic" | "micro-timestamp" | "content-type"
        ) {
            headers.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    }
    let mut out = json!({
        "topic": message.topic().unwrap_or(topic),
        "id": message.id(),
        "timestamp": message.headers.get("micro-timestamp").and_then(|t| t.parse::<u64>().ok()),
        "content_type": message.content_type(),
        "headers": headers,
    });
    let json_body = message
        .content_type()
        .is_none_or(|ct| ct.contains("json"))
        .then(|| serde_json::from_slice::<Value>(&message.body).ok())
        .flatten();
    match (json_body, decoded) {
        (Some(body), _) | (None, Some(Ok(body))) => out["body"] = body,
        (None, other) => {
            use base64::Engine;
            out["body_base64"] =
                Value::String(base64::engine::general_purpose::STANDARD.encode(&message.body));
            if let Some(Err(why)) = other {
                out["decode_error"] = Value::String(why);
            }
        }
    }
    out
}

pub(crate) async fn exec(
    _global: &Global,
    broker: SharedBroker,
    client: micro::Client,
    args: SubscribeArgs,
) -> Result<(), CliError> {
    micro::broker::validate_topic(&args.topic).map_err(|e| CliError::usage(e.detail(), None))?;
    let options = match &args.queue {
        Some(queue) => SubscribeOptions::queue(queue.clone()),
        None => SubscribeOptions::broadcast(),
    };
    let seen = Arc::new(AtomicU64::new(0));
    let (done_tx, mut done) = tokio::sync::watch::channel(false);
    let limit = args.count;
    let topic = args.topic.clone();
    let counter = seen.clone();
    let decoder = Arc::new(tokio::sync::Mutex::new(Decoder::new(client, &topic)));
    let done_tx = Arc::new(done_tx);
    let print = handler(move |event: Event| {
        let (counter, decoder, topic, done_tx) = (
            counter.clone(),
            decoder.clone(),
            topic.clone(),
            done_tx.clone(),
        );
        async move {
            let message = event.message();
            let decoded = match message.content_type() {
                Some(ct) if micro::Format::from_content_type(ct) == Some(micro::Format::Proto) => {
                    Some(decoder.lock().await.decode(message).await)
                }
                _ => None,
            };
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            if limit.is_none_or(|limit| n <= limit) {
                output::print(&to_json(message, &topic, decoded).to_string());
            }
            if limit.is_some_and(|limit| n >= limit) {
                done_tx.send_replace(true);
            }
            Ok(())
        }
    });
    let sub = broker
        .subscribe(&args.topic, print, options)
        .await
        .map_err(|e| CliError::broker(&e))?;
    output::note(&format!(
        "subscribed to {} on the {} broker; Ctrl-C stops",
        args.topic,
        broker.name()
    ));
    let deadline = async {
        match args.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = done.wait_for(|d| *d) => {}
        _ = deadline => {}
        _ = micro::service::shutdown_signal() => {}
    }
    sub.unsubscribe_within(std::time::Duration::from_secs(2))
        .await;
    let _ = broker.disconnect().await;
    Ok(())
}
