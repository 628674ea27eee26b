//! `micro broker`: the broker engines, what each guarantees, and the one in use.

use crate::cli::{Global, Output};
use crate::commands::CliError;
use crate::output;

/// One engine: name, delivery, redelivery, queue groups, where it runs.
struct Row {
    name: &'static str,
    delivery: &'static str,
    redelivery: &'static str,
    survives: &'static str,
}

const ROWS: [Row; 7] = [
    Row {
        name: "http",
        delivery: "at most once across crashes",
        redelivery: "in the subscriber",
        survives: "nothing stored",
    },
    Row {
        name: "memory",
        delivery: "in one process",
        redelivery: "in the subscriber",
        survives: "nothing stored",
    },
    Row {
        name: "nats",
        delivery: "at most once",
        redelivery: "in the subscriber",
        survives: "nothing stored",
    },
    Row {
        name: "jetstream",
        delivery: "at least once",
        redelivery: "by the server (nak with delay)",
        survives: "subscriber and server restarts",
    },
    Row {
        name: "redis",
        delivery: "at least once",
        redelivery: "claimed back after the backoff; a dead consumer's after the ack wait",
        survives: "subscriber crashes (as durable as Redis is set up)",
    },
    Row {
        name: "rabbitmq",
        delivery: "at least once",
        redelivery: "requeued after the backoff",
        survives: "subscriber crashes; quorum queues keep messages across restarts",
    },
    Row {
        name: "mqtt",
        delivery: "at least once in groups (a crashed member replaced on its host); broadcast at most once",
        redelivery: "in the subscriber (MQTT has no nack)",
        survives: "member crashes (persistent sessions, 1 h); set Mosquitto's max_queued_messages 0",
    },
];

pub(crate) async fn exec(global: &Global) -> Result<(), CliError> {
    let settings = super::options(global)?;
    let registry = settings
        .registry()
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let broker = settings
        .broker(&registry)
        .map_err(|e| CliError::usage(e.detail(), None))?;
    let reachable =
        match tokio::time::timeout(std::time::Duration::from_secs(5), broker.connect()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.detail().to_owned()),
            Err(_) => Err("no answer within 5s".to_owned()),
        };
    let current = broker.name();
    match global.output {
        Output::Json => {
            let engines: Vec<serde_json::Value> = ROWS
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "name": r.name,
                        "delivery": r.delivery,
                        "redelivery": r.redelivery,
                        "survives": r.survives,
                        "queue_groups": true,
                        "broadcast": true,
                        "dead_letters": true,
                    })
                })
                .collect();
            output::print(
                &serde_json::json!({
                    "broker": current,
                    "address": broker.address(),
                    "reachable": reachable.is_ok(),
                    "error": reachable.as_ref().err(),
                    "engines": engines,
                })
                .to_string(),
            );
        }
        Output::Text => {
            let status = match &reachable {
                Ok(()) => "reachable".to_owned(),
                Err(e) => format!("NOT reachable: {e}"),
            };
            output::print(&format!(
                "broker: {current} at {} ({status})\n",
                broker.address()
            ));
            let rows: Vec<Vec<String>> = ROWS
                .iter()
                .map(|r| {
                    let mark = if r.name == current { "*" } else { "" };
                    vec![
                        format!("{mark}{}", r.name),
                        r.delivery.to_owned(),
                        r.redelivery.to_owned(),
                        r.survives.to_owned(),
                    ]
                })
                .collect();
            output::print(
                output::table(&["ENGINE", "DELIVERY", "REDELIVERY", "SURVIVES"], &rows).trim_end(),
            );
            output::print(
                "\nEvery engine has queue groups (one delivery per group), broadcast, ack/nack/reject and dead letters.\nChoose with MICRO_BROKER / --broker and MICRO_BROKER_ADDRESS / --broker_address.",
            );
        }
    }
    if let Err(e) = reachable {
        let mut err = CliError::internal(e);
        err.hint = Some("start the broker's server, or point --broker_address at it".to_owned());
        return Err(err);
    }
    Ok(())
}
