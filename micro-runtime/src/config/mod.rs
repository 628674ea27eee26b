//! Dynamic configuration: typed, layered, live (go-micro's `Config`).
//!
//! Sources are merged in layers, later ones winning key by key: values given in code
//! ([`ConfigBuilder::defaults`]), files in JSON, YAML or TOML (`MICRO_CONFIG_FILE`,
//! `--config_file`, repeatable) and records of a [`Store`] (the remote source: on Redis,
//! PostgreSQL or NATS every process shares it), in the order added; then the environment
//! (go-micro's mapping: `database.host` ↔ `DATABASE_HOST`, for every key the other sources
//! know); then flags ([`ConfigBuilder::args`]) and values set in code
//! ([`ConfigBuilder::set`]), in the order added. [`Config::get`] decodes any path with
//! serde; a value of the wrong type is an error naming the path and the source that gave it.
//!
//! Files and the store record are watched: a change is merged within a second (files
//! debounced by 100 ms, the store polled every 250 ms) and reaches every [`Watcher`] of a
//! path whose value changed. A file that no longer parses is reported (logged, and in
//! [`Config::last_error`]) and the last good configuration stays in force.
//!
//! Paths marked [secret](ConfigBuilder::secret) never appear in [`Config::dump`] or in
//! `Debug` output.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> micro::Result<()> {
//! use micro::config::Config;
//!
//! #[derive(serde::Deserialize)]
//! struct Database { host: String, port: u16 }
//!
//! let config = Config::builder()
//!     .defaults(serde_json::json!({"database": {"host": "localhost", "port": 5432}}))
//!     .set("database.password", "hunter2")
//!     .secret("database.password")
//!     .build()
//!     .await?;
//! let db: Database = config.get("database")?;
//! assert_eq!((db.host.as_str(), db.port), ("localhost", 5432));
//! assert_eq!(config.get_or("pool.size", 8u32)?, 8);
//! assert_eq!(config.dump()["database"]["password"], "********");
//! # Ok(()) }
//! ```

mod parse;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::store::Store;

pub use watch::Watcher;

const ID: &str = "micro.config";

/// What secret values show as.
pub const MASK: &str = "********";

/// The key of the record every service's config reads, below its own.
pub const GLOBAL: &str = "global";

/// The table of the config records in a store: `micro/config`.
pub fn table() -> crate::store::Table {
    crate::store::Table {
        database: "micro".to_owned(),
        table: "config".to_owned(),
    }
}

/// Set `path` to `value` in the JSON record `key` of `store` (made when absent), without
/// losing a concurrent change to another path.
pub async fn set_remote(store: &Store, key: &str, path: &str, value: Value) -> Result<()> {
    check_path(path)?;
    store
        .update(key, |current: Option<Value>| {
            let mut tree = current
                .filter(Value::is_object)
                .unwrap_or_else(|| Value::Object(Map::new()));
            insert(&mut tree, path, value.clone());
            tree
        })
        .await
        .map(drop)
}

/// Remove `path` from the JSON record `key` of `store`; `false` when it was not there.
pub async fn del_remote(store: &Store, key: &str, path: &str) -> Result<bool> {
    check_path(path)?;
    let mut removed = false;
    store
        .update(key, |current: Option<Value>| {
            let mut tree = current.unwrap_or_else(|| Value::Object(Map::new()));
            removed = remove(&mut tree, path);
            tree
        })
        .await?;
    Ok(removed)
}

fn check_path(path: &str) -> Result<()> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(Error::bad_request(
            ID,
            format!("config path {path:?} is not a dotted path such as database.host"),
        ));
    }
    Ok(())
}

/// Remove `path` from `tree`, and the maps it leaves empty.
fn remove(tree: &mut Value, path: &str) -> bool {
    let Some(map) = tree.as_object_mut() else {
        return false;
    };
    match path.split_once('.') {
        None => map.remove(path).is_some(),
        Some((first, rest)) => {
            let Some(child) = map.get_mut(first) else {
                return false;
            };
            let removed = remove(child, rest);
            if removed && child.as_object().is_some_and(Map::is_empty) {
                map.remove(first);
            }
            removed
        }
    }
}

/// One source of configuration.
#[derive(Clone, Debug)]
enum Source {
    Values { name: &'static str, value: Value },
    File(PathBuf),
    Store { store: Store, key: String },
    Env,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Values { name, .. } => (*name).to_owned(),
            Source::File(path) => format!("file {}", path.display()),
            Source::Store { store, key } => {
                format!(
                    "{} store record {key:?} in {}",
                    store.engine_name(),
                    store.scope()
                )
            }
            Source::Env => "the environment".to_owned(),
        }
    }
}

/// Builds a [`Config`] from its sources, in the order added (later wins).
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    sources: Vec<Source>,
    secrets: BTreeSet<String>,
    env: bool,
}

impl ConfigBuilder {
    /// Values in code, below every other source (a JSON object).
    #[must_use]
    pub fn defaults(mut self, value: Value) -> ConfigBuilder {
        self.sources.push(Source::Values {
            name: "defaults",
            value,
        });
        self
    }

    /// A JSON, YAML or TOML file (by extension), watched for changes.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> ConfigBuilder {
        self.sources.push(Source::File(path.into()));
        self
    }

    /// The record at `key` of `store`, holding a JSON object (the remote source), polled for
    /// changes. An absent record counts as empty.
    #[must_use]
    pub fn store(mut self, store: Store, key: impl Into<String>) -> ConfigBuilder {
        self.sources.push(Source::Store {
            store,
            key: key.into(),
        });
        self
    }

    /// Environment variables over the keys the other sources give (`database.host` ←
    /// `DATABASE_HOST`; values parse as JSON when they can, else count as text). Always
    /// over defaults, files and store records, under flags and values set in code.
    #[must_use]
    pub fn env(mut self) -> ConfigBuilder {
        self.env = true;
        self
    }

    /// A value at `path` (dotted), above every other source (a flag, a test).
    #[must_use]
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> ConfigBuilder {
        let mut tree = Value::Object(Map::new());
        insert(&mut tree, path, value.into());
        self.sources.push(Source::Values {
            name: "set in code",
            value: tree,
        });
        self
    }

    /// Values from command-line flags, above every other source: `--database.port=5433` or
    /// `--database.port 5433` (JSON when it parses, else text). An argument that is not such
    /// a flag is an error naming it.
    pub fn args<I, S>(mut self, args: I) -> Result<ConfigBuilder>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut tree = Value::Object(Map::new());
        let mut args = args.into_iter().map(|a| a.as_ref().to_owned());
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(Error::bad_request(
                    ID,
                    format!("config flag {arg:?} does not start with --: write --path=value"),
                ));
            };
            let (path, text) = match flag.split_once('=') {
                Some((p, v)) => (p.to_owned(), v.to_owned()),
                None => {
                    let value = args.next().ok_or_else(|| {
                        Error::bad_request(ID, format!("config flag --{flag} needs a value"))
                    })?;
                    (flag.to_owned(), value)
                }
            };
            check_path(&path)?;
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            insert(&mut tree, &path, value);
        }
        self.sources.push(Source::Values {
            name: "flags",
            value: tree,
        });
        Ok(self)
    }

    /// Mark `path` (and everything under it) secret: masked in dumps and debug output.
    #[must_use]
    pub fn secret(mut self, path: &str) -> ConfigBuilder {
        self.secrets.insert(path.to_owned());
        self
    }

    /// Read every source and start watching the files and the store; an error names the
    /// source (and for a file, the line and column).
    pub async fn build(self) -> Result<Config> {
        let mut sources = self.sources;
        if self.env {
            with_env(&mut sources);
        }
        let mut remote = BTreeMap::new();
        for (i, source) in sources.iter().enumerate() {
            if let Source::Store { store, key } = source {
                remote.insert(i, read_store(store, key).await?);
            }
        }
        let state = merge(&sources, &remote, &|k| std::env::var(k).ok())?;
        let (tx, _) = tokio::sync::watch::channel(Arc::new(state));
        let (alive, _) = tokio::sync::watch::channel(());
        let inner = Arc::new(Inner {
            sources,
            secrets: self.secrets,
            state: tx,
            remote: Mutex::new(remote),
            last_error: RwLock::new(None),
            reloading: Mutex::new(()),
            alive,
        });
        watch::start(&inner);
        Ok(Config { inner })
    }
}

/// The merged tree and, for each leaf path, the source that gave it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct State {
    value: Value,
    origin: BTreeMap<String, String>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    sources: Vec<Source>,
    secrets: BTreeSet<String>,
    state: tokio::sync::watch::Sender<Arc<State>>,
    /// The last good value of each store source, by position.
    remote: Mutex<BTreeMap<usize, Value>>,
    last_error: RwLock<Option<String>>,
    /// Held from reading the sources to publishing the result, so reloads never cross.
    reloading: Mutex<()>,
    /// Dropped with the config: the watching tasks end when it closes.
    pub(crate) alive: tokio::sync::watch::Sender<()>,
}

impl Inner {
    /// Merge the sources again; keep the last good state on error.
    pub(crate) fn reload(&self) {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let remote = self
            .remote
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match merge(&self.sources, &remote, &|k| std::env::var(k).ok()) {
            Ok(state) => {
                *self.last_error.write().unwrap_or_else(|e| e.into_inner()) = None;
                self.state.send_if_modified(|old| {
                    if **old == state {
                        return false;
                    }
                    *old = Arc::new(state);
                    true
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "config not reloaded; the last good configuration stays in force");
                *self.last_error.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(e.detail().to_owned());
            }
        }
    }
}

/// Add the environment between the sources it overrides (defaults, files, store records,
/// in the order added) and those that override it (flags and values set in code, in the
/// order added).
fn with_env(sources: &mut Vec<Source>) {
    let above = |s: &Source| {
        matches!(
            s,
            Source::Values {
                name: "flags" | "set in code",
                ..
            }
        )
    };
    let (high, mut low): (Vec<Source>, Vec<Source>) = sources.drain(..).partition(above);
    low.push(Source::Env);
    low.extend(high);
    *sources = low;
}

async fn read_store(store: &Store, key: &str) -> Result<Value> {
    let Some(record) = store.read_one(key).await? else {
        return Ok(Value::Object(Map::new()));
    };
    let value: Value = serde_json::from_slice(&record.value).map_err(|e| {
        Error::bad_request(
            ID,
            format!(
                "{} store record {key:?} in {}: not JSON: {e}",
                store.engine_name(),
                store.scope()
            ),
        )
    })?;
    if !value.is_object() {
        return Err(Error::bad_request(
            ID,
            format!(
                "{} store record {key:?}: not a JSON object",
                store.engine_name()
            ),
        ));
    }
    Ok(value)
}

fn merge(
    sources: &[Source],
    remote: &BTreeMap<usize, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<State> {
    let mut state = State {
        value: Value::Object(Map::new()),
        origin: BTreeMap::new(),
    };
    for (i, source) in sources.iter().enumerate() {
        let name = source.name();
        match source {
            Source::Values { value, .. } => overlay(&mut state, value, &name, ""),
            Source::File(path) => overlay(&mut state, &parse::read(path)?, &name, ""),
            Source::Store { .. } => {
                if let Some(value) = remote.get(&i) {
                    overlay(&mut state, value, &name, "");
                }
            }
            Source::Env => {
                let leaves: Vec<String> = state.origin.keys().cloned().collect();
                for path in leaves {
                    let var = env_name(&path);
                    if let Some(text) = env(&var) {
                        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                        insert(&mut state.value, &path, value);
                        state
                            .origin
                            .insert(path, format!("environment variable {var}"));
                    }
                }
            }
        }
    }
    Ok(state)
}

/// go-micro's environment name of a path: `database.max-conns` → `DATABASE_MAX_CONNS`.
pub fn env_name(path: &str) -> String {
    path.chars()
        .map(|c| match c {
            '.' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Merge `value` into the state under `prefix`, maps key by key, anything else replacing.
fn overlay(state: &mut State, value: &Value, source: &str, prefix: &str) {
    match value {
        // Maps merge key by key; an empty map adds nothing.
        Value::Object(map) => {
            if !map.is_empty() {
                // A map replaces a leaf that was at its path.
                state.origin.remove(prefix);
            }
            for (k, v) in map {
                overlay(state, v, source, &join(prefix, k));
            }
        }
        leaf => {
            // A leaf replaces whatever was under its path.
            let below = format!("{prefix}.");
            state.origin.retain(|p, _| !p.starts_with(&below));
            insert(&mut state.value, prefix, leaf.clone());
            state.origin.insert(prefix.to_owned(), source.to_owned());
        }
    }
}

fn insert(tree: &mut Value, path: &str, value: Value) {
    let mut node = tree;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        node = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn lookup<'v>(tree: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(tree);
    }
    path.split('.').try_fold(tree, |node, part| node.get(part))
}

/// Live configuration. Cheap to clone.
#[derive(Clone)]
pub struct Config {
    inner: Arc<Inner>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("values", &self.dump())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Start a config from sources.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The config a service reads: `files` in order, then the environment.
    pub async fn from_files(files: &[PathBuf]) -> Result<Config> {
        files
            .iter()
            .fold(Config::builder(), |b, f| b.file(f.clone()))
            .env()
            .build()
            .await
    }

    /// The config service `service` reads (what `service.config()` and `micro config` use):
    /// the settings' files in order, the [`GLOBAL`] record then the service's own record in
    /// `store` (`micro config set` writes them), the environment; `secrets` masked.
    pub async fn for_service(
        files: &[PathBuf],
        store: Option<Store>,
        service: Option<&str>,
        secrets: &[String],
    ) -> Result<Config> {
        let mut builder = files
            .iter()
            .fold(Config::builder(), |b, f| b.file(f.clone()));
        if let Some(store) = store {
            builder = builder.store(store.clone(), GLOBAL);
            if let Some(service) = service.filter(|s| *s != GLOBAL) {
                builder = builder.store(store, service);
            }
        }
        secrets
            .iter()
            .fold(builder, |b, s| b.secret(s))
            .env()
            .build()
            .await
    }

    fn state(&self) -> Arc<State> {
        self.inner.state.borrow().clone()
    }

    /// The value at `path` (dotted; `""` for everything), decoded; an error names the path
    /// and the source of a value that does not fit `T`, or says the path is not set.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let state = self.state();
        match lookup(&state.value, path) {
            Some(value) => decode(&state, path, value),
            None => Err(Error::not_found(
                ID,
                format!(
                    "config path {path:?} is not set (nor {} in the environment)",
                    env_name(path)
                ),
            )),
        }
    }

    /// The value at `path`, or `default` when it is not set.
    pub fn get_or<T: DeserializeOwned>(&self, path: &str, default: T) -> Result<T> {
        let state = self.state();
        match lookup(&state.value, path) {
            Some(value) => decode(&state, path, value),
            None => Ok(default),
        }
    }

    /// Which source gave the value at `path`.
    pub fn source_of(&self, path: &str) -> Option<String> {
        origin(&self.state(), path)
    }

    /// Every value, secrets masked.
    pub fn dump(&self) -> Value {
        let mut value = self.state().value.clone();
        for secret in &self.inner.secrets {
            if lookup(&value, secret).is_some() {
                insert(&mut value, secret, Value::String(MASK.to_owned()));
            }
        }
        value
    }

    /// Whether `path` is secret.
    pub fn is_secret(&self, path: &str) -> bool {
        self.inner
            .secrets
            .iter()
            .any(|s| path == s || path.starts_with(&format!("{s}.")))
    }

    /// Changes to `path`: each time its value differs from the last one seen.
    pub fn watch(&self, path: &str) -> Watcher {
        Watcher::new(self.inner.state.subscribe(), path)
    }

    /// Why the last reload failed, while the last good configuration is in force.
    pub fn last_error(&self) -> Option<String> {
        self.inner
            .last_error
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn origin(state: &State, path: &str) -> Option<String> {
    let mut probe = path.to_owned();
    loop {
        if let Some(source) = state.origin.get(&probe) {
            return Some(source.clone());
        }
        let below = format!("{probe}.");
        if let Some((_, source)) = state
            .origin
            .range(below.clone()..)
            .next()
            .filter(|(p, _)| p.starts_with(&below))
        {
            return Some(source.clone());
        }
        match probe.rsplit_once('.') {
            Some((parent, _)) => probe = parent.to_owned(),
            None => return None,
        }
    }
}

fn decode<T: DeserializeOwned>(state: &State, path: &str, value: &Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let full = if inner == "." || inner.is_empty() {
            path.to_owned()
        } else {
            join(path, &inner)
        };
        let source = origin(state, &full).unwrap_or_else(|| "no source".to_owned());
        Error::bad_request(
            ID,
            format!("config path {full:?} (from {source}): {}", e.inner()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(sources: &[Source], env: &[(&str, &str)]) -> State {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        merge(sources, &BTreeMap::new(), &|k| env.get(k).cloned()).unwrap()
    }

    #[test]
    fn later_sources_win_key_by_key_and_env_maps_dotted_paths() {
        let state = merged(
            &[
                Source::Values {
                    name: "defaults",
                    value: serde_json::json!({"database": {"host": "a", "port": 1}, "x": 1}),
                },
                Source::Values {
                    name: "override",
                    value: serde_json::json!({"database": {"port": 2}}),
                },
                Source::Env,
            ],
            &[("DATABASE_HOST", "b"), ("X", "[1,2]")],
        );
        assert_eq!(
            state.value,
            serde_json::json!({"database": {"host": "b", "port": 2}, "x": [1, 2]})
        );
        assert_eq!(state.origin["database.port"], "override");
        assert_eq!(
            state.origin["database.host"],
            "environment variable DATABASE_HOST"
        );
        assert_eq!(env_name("database.max-conns"), "DATABASE_MAX_CONNS");
    }

    #[test]
    fn the_environment_goes_over_files_and_under_flags_and_code() {
        let builder = ConfigBuilder::default()
            .set("a", 1)
            .file("x.yaml")
            .args(["--b=2"])
            .unwrap()
            .defaults(serde_json::json!({}))
            .set("c", 3);
        let mut sources = builder.sources;
        with_env(&mut sources);
        let names: Vec<String> = sources.iter().map(Source::name).collect();
        assert_eq!(
            names,
            [
                "file x.yaml",
                "defaults",
                "the environment",
                "set in code",
                "flags",
                "set in code"
            ]
        );
    }

    #[test]
    fn removing_a_path_prunes_empty_maps_and_empty_maps_hide_nothing() {
        let mut tree = serde_json::json!({"db": {"port": 1}, "x": 2});
        assert!(remove(&mut tree, "db.port"));
        assert_eq!(tree, serde_json::json!({"x": 2}));
        assert!(!remove(&mut tree, "db.port"));
        let state = merged(
            &[
                Source::Values {
                    name: "file",
                    value: serde_json::json!({"db": {"port": 5432}}),
                },
                Source::Values {
                    name: "record",
                    value: serde_json::json!({"db": {}}),
                },
            ],
            &[],
        );
        assert_eq!(state.value, serde_json::json!({"db": {"port": 5432}}));
    }

    #[test]
    fn a_bad_type_names_the_path_and_its_source() {
        let state = merged(
            &[Source::Values {
                name: "defaults",
                value: serde_json::json!({"db": {"port": "many"}}),
            }],
            &[],
        );
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Db {
            port: u16,
        }
        let e = decode::<Db>(&state, "db", lookup(&state.value, "db").unwrap()).unwrap_err();
        assert!(
            e.detail().contains("\"db.port\"") && e.detail().contains("from defaults"),
            "{e}"
        );
    }
}
