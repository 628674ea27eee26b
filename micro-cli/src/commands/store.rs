//! `micro store read|write|delete|list`: a store's records, on any engine.

use std::io::{IsTerminal, Read};

use base64::Engine as _;
use micro::store::{ListOptions, ReadOptions, Record, Store};

use crate::cli::{Global, Output, StoreArgs, StoreWhat};
use crate::commands::CliError;
use crate::output;

fn open(global: &Global, args: &StoreArgs) -> Result<Store, CliError> {
    let mut settings = super::store_options(global, &args.engine)?;
    settings.store_table = Some(args.table.clone());
    settings.store_database = Some(args.database.clone().unwrap_or_else(|| args.table.clone()));
    settings
        .store(&args.table)
        .map_err(|e| CliError::usage(e.detail(), None))
}

fn failed(store: &Store, e: &micro::Error) -> CliError {
    let hint = match e.code() {
        404 => format!(
            "`micro store list --table {}` lists the keys; a service's table is named after it",
            store.scope().table
        ),
        503 => {
            "is the store's server running there? --store_address (MICRO_STORE_ADDRESS) says where"
                .to_owned()
        }
        _ => String::new(),
    };
    let mut err = CliError::internal(e.detail());
    if !hint.is_empty() {
        err = CliError::usage(e.detail(), Some(hint));
        if e.code() >= 500 {
            err.exit_code = 1;
        }
    }
    err
}

/// A record as JSON: the value as text when it is UTF-8, else as base64.
fn to_json(record: &Record) -> serde_json::Value {
    let mut out = serde_json::json!({ "key": record.key });
    match std::str::from_utf8(&record.value) {
        Ok(text) => out["value"] = text.into(),
        Err(_) => {
            out["value_base64"] = base64::engine::general_purpose::STANDARD
                .encode(&record.value)
                .into()
        }
    }
    if !record.metadata.is_empty() {
        out["metadata"] = serde_json::to_value(&record.metadata).unwrap_or_default();
    }
    if let Some(ttl) = record.ttl() {
        out["ttl_ms"] = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).into();
    }
    out
}

fn value_text(value: Option<String>) -> Result<String, CliError> {
    if let Some(value) = value {
        return Ok(value);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(
            "no value given",
            Some("pass it after the key: micro store write KEY VALUE (or pipe it on stdin)".into()),
        ));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("cannot read the value from stdin: {e}"), None))?;
    Ok(text)
}

pub(crate) async fn exec(global: &Global, args: StoreArgs) -> Result<(), CliError> {
    let store = open(global, &args)?;
    match args.what {
        StoreWhat::Read { key, page } => {
            let mut options = ReadOptions::default().offset(page.offset);
            if page.prefix {
                options = options.prefix();
            }
            if page.suffix {
                options = options.suffix();
            }
            if let Some(limit) = page.limit {
                options = options.limit(limit);
            }
            let records = store
                .read(&key, options)
                .await
                .map_err(|e| failed(&store, &e))?;
            match global.output {
                Output::Json => {
                    let all: Vec<_> = records.iter().map(to_json).collect();
                    output::print(&serde_json::Value::Array(all).to_string());
                }
                Output::Text if !page.prefix && !page.suffix => {
                    for record in &records {
                        output::print(&String::from_utf8_lossy(&record.value));
                    }
                }
                Output::Text => {
                    let rows: Vec<Vec<String>> = records
                        .iter()
                        .map(|r| {
                            vec![
                                r.key.clone(),
                                String::from_utf8_lossy(&r.value).into_owned(),
                            ]
                        })
                        .collect();
                    output::print(output::table(&["KEY", "VALUE"], &rows).trim_end());
                }
            }
        }
        StoreWhat::Write {
            key,
            value,
            ttl,
            metadata,
        } => {
            let mut record = Record::new(key, value_text(value)?);
            if let Some(ttl) = ttl {
                record = record.with_ttl(ttl);
            }
            for (k, v) in metadata {
                record = record.with_metadata(k, v);
            }
            store.write(record).await.map_err(|e| failed(&store, &e))?;
        }
        StoreWhat::Delete { key } => {
            store.delete(&key).await.map_err(|e| failed(&store, &e))?;
        }
        StoreWhat::List {
            prefix,
            suffix,
            limit,
            offset,
        } => {
            let mut options = ListOptions::default().offset(offset);
            if let Some(prefix) = prefix {
                options = options.prefix(prefix);
            }
            if let Some(suffix) = suffix {
                options = options.suffix(suffix);
            }
            if let Some(limit) = limit {
                options = options.limit(limit);
            }
            let keys = store.list(options).await.map_err(|e| failed(&store, &e))?;
            match global.output {
                Output::Json => output::print(&serde_json::to_string(&keys).unwrap_or_default()),
                Output::Text => {
                    for key in keys {
                        output::print(&key);
                    }
                }
            }
        }
    }
    Ok(())
}
