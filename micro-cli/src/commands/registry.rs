//! `micro registry list | get NAME | watch`: the registry as it is, whichever engine holds it.

use micro::registry::{SharedRegistry, WatchOptions};

use crate::cli::{DescribeArgs, Global, Output, RegistryWhat};
use crate::commands::{CliError, describe};
use crate::output;

pub(crate) async fn exec(
    global: &Global,
    client: &micro::Client,
    what: RegistryWhat,
) -> Result<(), CliError> {
    let registry = client.selector().registry().clone();
    match what {
        RegistryWhat::List => list(global, &registry).await,
        RegistryWhat::Get { service } => {
            describe::exec(global, client, &DescribeArgs { service }).await
        }
        RegistryWhat::Watch { service } => watch(&registry, service).await,
    }
}

/// Every service version with its nodes: a table, or the records as JSON.
async fn list(global: &Global, registry: &SharedRegistry) -> Result<(), CliError> {
    let services = registry
        .list_services()
        .await
        .map_err(|e| CliError::registry(&e))?;
    match global.output {
        Output::Json => output::print(
            &serde_json::to_string_pretty(&services)
                .map_err(|e| CliError::internal(e.to_string()))?,
        ),
        Output::Text if services.is_empty() => {
            output::note(&format!(
                "no services registered in the {} registry",
                registry.name()
            ));
        }
        Output::Text => {
            let rows: Vec<Vec<String>> = services
                .iter()
                .flat_map(|s| {
                    s.nodes.iter().map(|n| {
                        vec![
                            s.name.clone(),
                            s.version.clone(),
                            n.id.clone(),
                            n.address.clone(),
                        ]
                    })
                })
                .collect();
            output::print(&output::table(
                &["SERVICE", "VERSION", "NODE", "ADDRESS"],
                &rows,
            ));
        }
    }
    Ok(())
}

/// One JSON line per change until interrupted: `{"action":"create","service":{...}}`. A lost
/// connection is reported on stderr and the watch goes on once the registry is back.
async fn watch(registry: &SharedRegistry, service: Option<String>) -> Result<(), CliError> {
    let options = match service {
        Some(name) => WatchOptions::service(name),
        None => WatchOptions::all(),
    };
    let mut watcher = registry
        .watch(options)
        .await
        .map_err(|e| CliError::registry(&e))?;
    loop {
        tokio::select! {
            event = watcher.next() => match event {
                Some(Ok(event)) => output::print(
                    &serde_json::to_string(&event).map_err(|e| CliError::internal(e.to_string()))?,
                ),
                Some(Err(e)) => output::note(&format!("warning: {} (still watching)", e.detail())),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
