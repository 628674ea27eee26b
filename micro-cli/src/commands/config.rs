//! `micro config get|set|del|dump`: a service's config as it reads it.

use micro::config::{self, Config};
use micro::store::Store;

use crate::cli::{ConfigArgs, ConfigWhat, Global, Output};
use crate::commands::CliError;
use crate::output;

fn records(global: &Global, args: &ConfigArgs) -> Result<Store, CliError> {
    super::store_options(global, &args.engine)?
        .config_store()
        .map_err(|e| CliError::usage(e.detail(), None))
}

fn failed(e: &micro::Error) -> CliError {
    let mut err = CliError::usage(e.detail(), None);
    if e.code() >= 500 {
        err.exit_code = 1;
        err.hint = Some(
            "is the store's server running there? --store_address (MICRO_STORE_ADDRESS) says where"
                .to_owned(),
        );
    }
    err
}

pub(crate) async fn exec(global: &Global, args: ConfigArgs) -> Result<(), CliError> {
    let store = records(global, &args)?;
    let key = args
        .service
        .clone()
        .unwrap_or_else(|| config::GLOBAL.to_owned());
    match &args.what {
        ConfigWhat::Set { path, value } => {
            let value = serde_json::from_str(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.clone()));
            config::set_remote(&store, &key, path, value)
                .await
                .map_err(|e| failed(&e))?;
            return Ok(());
        }
        ConfigWhat::Del { path } => {
            let removed = config::del_remote(&store, &key, path)
                .await
                .map_err(|e| failed(&e))?;
            if !removed {
                return Err(CliError::usage(
                    format!("{path:?} is not set in the {key} record"),
                    Some(format!(
                        "`micro config dump{}` shows what is set",
                        args.service
                            .as_ref()
                            .map(|s| format!(" --service {s}"))
                            .unwrap_or_default()
                    )),
                ));
            }
            return Ok(());
        }
        ConfigWhat::Get { .. } | ConfigWhat::Dump => {}
    }
    let config = Config::for_service(
        &args.config_file,
        Some(store),
        args.service.as_deref(),
        &args.secrets,
    )
    .await
    .map_err(|e| failed(&e))?;
    match args.what {
        ConfigWhat::Get { path } => {
            let value: serde_json::Value = config.get(&path).map_err(|e| {
                CliError::usage(
                    e.detail(),
                    Some("`micro config dump` shows every path that is set".to_owned()),
                )
            })?;
            match global.output {
                Output::Json => output::print(
                    &serde_json::json!({
                        "path": path,
                        "value": value,
                        "source": config.source_of(&path),
                    })
                    .to_string(),
                ),
                Output::Text => {
                    match &value {
                        serde_json::Value::String(text) => output::print(text),
                        other => output::print(&other.to_string()),
                    }
                    if let Some(source) = config.source_of(&path) {
                        output::note(&format!("from {source}"));
                    }
                }
            }
        }
        ConfigWhat::Dump => {
            let dump = config.dump();
            let text = match global.output {
                Output::Json => dump.to_string(),
                Output::Text => serde_json::to_string_pretty(&dump).unwrap_or_default(),
            };
            output::print(&text);
        }
        ConfigWhat::Set { .. } | ConfigWhat::Del { .. } => {}
    }
    Ok(())
}
