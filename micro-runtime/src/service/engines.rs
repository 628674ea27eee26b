//! Engines from settings: what [`Settings`] name, built through the [plugin
//! table](crate::plugins); and the one place the runtime reads `MICRO_*` environment
//! variables.
//!
//! These are methods of [`Settings`] and [`Client`] (Rust lets a crate add methods to its own
//! types anywhere in it): they live here, in the service layer, because building engines by
//! name needs every concept below.

use std::path::PathBuf;

use crate::broker::SharedBroker;
use crate::cache::Cache;
use crate::client::{Client, ClientOptions, TransportPolicy};
use crate::error::Result;
use crate::options::Settings;
use crate::plugins::{self, Spec};
use crate::registry::SharedRegistry;
use crate::store::{Store, Table};

/// The `MICRO_*` environment variables.
pub(crate) fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Where embedded engines keep their files: `MICRO_HOME` as set, else `~/.micro`, else
/// (no home) a directory of this user's own under the system's temporary directory.
fn home(settings: &Settings) -> Result<PathBuf> {
    if !settings.home.as_os_str().is_empty() {
        return Ok(settings.home.clone());
    }
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home).join(".micro")),
        _ => crate::files::private_temp_dir("micro"),
    }
}

impl Settings {
    /// The home directory these settings give (`MICRO_HOME`, else `~/.micro`).
    pub fn home_dir(&self) -> Result<PathBuf> {
        home(self)
    }

    /// Defaults overlaid with the `MICRO_*` environment.
    pub fn from_env() -> Result<Settings> {
        let mut settings = Settings::default();
        settings.apply_env(env)?;
        Ok(settings)
    }

    /// The registry these settings name (`registry`, `registry_address`, `home`).
    pub fn registry(&self) -> Result<SharedRegistry> {
        plugins::registry(
            &self.registry,
            &Spec {
                address: self.registry_address.as_deref(),
                home: &home(self)?,
                registry: None,
                timeout: self.registry_timeout,
                token: self.auth.token.as_deref(),
            },
        )
    }

    /// The broker these settings name; the `http` broker finds subscribers in `registry`.
    pub fn broker(&self, registry: &SharedRegistry) -> Result<SharedBroker> {
        plugins::broker(
            &self.broker,
            &Spec {
                address: self.broker_address.as_deref(),
                home: &home(self)?,
                registry: Some(registry),
                timeout: self.registry_timeout,
                token: self.auth.token.as_deref(),
            },
        )
    }

    /// The store these settings name, on the table `store_database` / `store_table`
    /// (each defaulting to `service`). Networked engines connect on first use.
    pub fn store(&self, service: &str) -> Result<Store> {
        let engine = plugins::store(
            &self.store,
            &Spec {
                address: self.store_address.as_deref(),
                home: &home(self)?,
                registry: None,
                timeout: self.registry_timeout,
                token: self.auth.token.as_deref(),
            },
        )?;
        // A service name longer than a table name may be is cut at a character boundary.
        let mut fallback = service;
        while fallback.len() > crate::store::MAX_NAME_LEN {
            let mut end = crate::store::MAX_NAME_LEN;
            while !fallback.is_char_boundary(end) {
                end -= 1;
            }
            fallback = &fallback[..end];
        }
        let table = Table::new(
            self.store_database.as_deref().unwrap_or(fallback),
            self.store_table.as_deref().unwrap_or(fallback),
        )?;
        Store::with_table(engine, table)
    }

    /// The store of the config records (`micro/config` on the settings' store engine).
    pub fn config_store(&self) -> Result<Store> {
        let engine = plugins::store(
            &self.store,
            &Spec {
                address: self.store_address.as_deref(),
                home: &home(self)?,
                registry: None,
                timeout: self.registry_timeout,
                token: self.auth.token.as_deref(),
            },
        )?;
        Store::with_table(engine, crate::config::table())
    }

    /// The cache these settings name, its keys under `service`.
    pub fn cache(&self, service: &str) -> Result<Cache> {
        let engine = plugins::cache(
            &self.cache,
            &Spec {
                address: self.cache_address.as_deref(),
                home: &home(self)?,
                registry: None,
                timeout: self.registry_timeout,
                token: self.auth.token.as_deref(),
            },
        )?;
        Ok(Cache::shared(engine, service))
    }

    /// The client settings these settings give.
    pub fn client_options(&self) -> Result<ClientOptions> {
        let transport: TransportPolicy = plugins::transport(&self.transport)?.policy;
        Ok(ClientOptions {
            request_timeout: self.client_request_timeout,
            retries: self.client_retries,
            strategy: plugins::strategy(&self.selector)?,
            transport,
            registry_stale_for: self.registry_stale_for,
            retry_budget: self.client_retry_budget,
            breaker: self.client_breaker,
            policies: self.client_policy.clone(),
            tls: crate::tls::ClientTls::from_files(&self.tls)?,
            proxy: self.proxy.clone(),
            ..ClientOptions::default()
        })
    }
}

impl Client {
    /// A client configured from `MICRO_*` environment variables (registry, timeouts,
    /// retries, transport).
    pub fn from_env() -> Result<Client> {
        Client::from_settings(&Settings::from_env()?)
    }

    /// A client configured from [`Settings`].
    pub fn from_settings(settings: &Settings) -> Result<Client> {
        let registry = settings.registry()?;
        Ok(Client::with_options(registry, settings.client_options()?))
    }
}
