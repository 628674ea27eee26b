//! Dapr's secrets API on two local stores: the environment (optionally only the variables
//! under a prefix, which the name leaves out) and a JSON file (nested objects read as
//! `outer:inner`, Dapr's `local.file` convention).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;
use serde_json::Value;

use crate::Sidecar;
use crate::reply::dapr;

/// A secret store: its name in the path and where its secrets come from. It parses from
/// `NAME=env`, `NAME=env:PREFIX` or `NAME=file:PATH` (`micro proxy --secret_store`).
///
/// ```
/// use micro_proxy::SecretStore;
/// let env: SecretStore = "local=env:APP_".parse().unwrap();
/// assert_eq!(env.name(), "local");
/// assert!("x=vault".parse::<SecretStore>().unwrap_err().contains("env or file"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretStore {
    /// Environment variables whose names start with `prefix` (empty: all of them).
    Env {
        /// The store's name.
        name: String,
        /// The prefix, left out of secret names.
        prefix: String,
    },
    /// A JSON file of secrets, read at each request.
    File {
        /// The store's name.
        name: String,
        /// The file.
        path: std::path::PathBuf,
    },
}

impl SecretStore {
    /// The store's name (the `{store}` of the path).
    pub fn name(&self) -> &str {
        match self {
            SecretStore::Env { name, .. } | SecretStore::File { name, .. } => name,
        }
    }

    /// Dapr's component type of the store.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretStore::Env { .. } => "secretstores.local.env",
            SecretStore::File { .. } => "secretstores.local.file",
        }
    }

    /// Every secret of the store.
    fn all(&self) -> Result<BTreeMap<String, String>, String> {
        match self {
            SecretStore::Env { prefix, .. } => Ok(std::env::vars()
                .filter_map(|(k, v)| k.strip_prefix(prefix.as_str()).map(|k| (k.to_owned(), v)))
                .filter(|(k, _)| !k.is_empty())
                .collect()),
            SecretStore::File { path, .. } => {
                let text = std::fs::read(path)
                    .map_err(|e| format!("cannot read the secrets file {}: {e}", path.display()))?;
                let value: Value = serde_json::from_slice(&text)
                    .map_err(|e| format!("the secrets file {} is not JSON: {e}", path.display()))?;
                let mut out = BTreeMap::new();
                flatten("", &value, &mut out);
                Ok(out)
            }
        }
    }
}

impl std::str::FromStr for SecretStore {
    type Err = String;

    fn from_str(s: &str) -> Result<SecretStore, String> {
        let hint = "write a secret store as NAME=env, NAME=env:PREFIX or NAME=file:PATH";
        let (name, kind) = s.split_once('=').ok_or_else(|| format!("{s:?}: {hint}"))?;
        let name = name.trim();
        if name.is_empty() || name.contains('/') {
            return Err(format!("{s:?}: the store needs a name without '/'; {hint}"));
        }
        let (kind, arg) = kind.split_once(':').unwrap_or((kind, ""));
        match kind.trim() {
            "env" => Ok(SecretStore::Env {
                name: name.to_owned(),
                prefix: arg.to_owned(),
            }),
            "file" if !arg.is_empty() => Ok(SecretStore::File {
                name: name.to_owned(),
                path: arg.into(),
            }),
            "file" => Err(format!("{s:?}: a file store needs its path; {hint}")),
            other => Err(format!(
                "{s:?}: unknown store kind {other:?} (env or file); {hint}"
            )),
        }
    }
}

fn flatten(at: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}:{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => {
            out.insert(at.to_owned(), s.clone());
        }
        other => {
            out.insert(at.to_owned(), other.to_string());
        }
    }
}

pub(crate) fn routes() -> Router<Sidecar> {
    Router::new()
        .route("/v1.0/secrets/{store}/bulk", get(bulk))
        .route("/v1.0/secrets/{store}/{name}", get(one))
}

fn store<'a>(sidecar: &'a Sidecar, name: &str) -> Result<&'a SecretStore, Box<Response>> {
    let stores = &sidecar.options().secret_stores;
    stores.iter().find(|s| s.name() == name).ok_or_else(|| {
        let known: Vec<&str> = stores.iter().map(SecretStore::name).collect();
        crate::reply::refuse_dapr(
            StatusCode::BAD_REQUEST,
            "ERR_SECRET_STORE_NOT_FOUND",
            format!(
                "secret store {name} is not found; this sidecar has {}",
                crate::list(&known)
            ),
        )
    })
}

async fn one(
    State(sidecar): State<Sidecar>,
    Path((store_name, name)): Path<(String, String)>,
) -> Response {
    let store = match store(&sidecar, &store_name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    let all = match store.all() {
        Ok(all) => all,
        Err(why) => return dapr(StatusCode::INTERNAL_SERVER_ERROR, "ERR_SECRET_GET", why),
    };
    match all.get(&name) {
        Some(value) => {
            let body = serde_json::json!({ name: value });
            micro_gateway::reply::json(StatusCode::OK, body.to_string())
        }
        None => dapr(
            StatusCode::NOT_FOUND,
            "ERR_SECRET_GET",
            format!("no secret {name} in store {store_name}"),
        ),
    }
}

async fn bulk(State(sidecar): State<Sidecar>, Path(store_name): Path<String>) -> Response {
    let store = match store(&sidecar, &store_name) {
        Ok(store) => store,
        Err(rsp) => return *rsp,
    };
    match store.all() {
        Ok(all) => {
            let body: serde_json::Map<String, Value> = all
                .into_iter()
                .map(|(k, v)| (k.clone(), serde_json::json!({ k: v })))
                .collect();
            micro_gateway::reply::json(StatusCode::OK, Value::Object(body).to_string())
        }
        Err(why) => dapr(StatusCode::INTERNAL_SERVER_ERROR, "ERR_SECRET_GET", why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_parse_and_files_flatten() {
        assert_eq!(
            "f=file:/tmp/s.json".parse::<SecretStore>().unwrap().kind(),
            "secretstores.local.file"
        );
        assert!(
            "f=file"
                .parse::<SecretStore>()
                .unwrap_err()
                .contains("path")
        );
        assert!("noequals".parse::<SecretStore>().is_err());
        let mut out = BTreeMap::new();
        flatten(
            "",
            &serde_json::json!({"db": {"password": "p", "port": 5432}, "k": "v"}),
            &mut out,
        );
        assert_eq!(out.get("db:password").map(String::as_str), Some("p"));
        assert_eq!(out.get("db:port").map(String::as_str), Some("5432"));
        assert_eq!(out.get("k").map(String::as_str), Some("v"));
    }
}
