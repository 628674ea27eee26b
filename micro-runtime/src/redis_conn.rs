//! One lazily made, shared, reconnecting Redis connection for the engines on Redis (the
//! store, the cache and the broker).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use crate::error::{Error, Result};

/// A Redis connection made on first use, shared by clones, reconnecting after failures.
#[derive(Clone, Debug)]
pub(crate) struct Lazy {
    address: String,
    timeout: Duration,
    conn: std::sync::Arc<OnceCell<ConnectionManager>>,
}

impl Lazy {
    pub(crate) fn new(address: &str, timeout: Duration) -> Result<Lazy> {
        // Check the URL now, so a bad setting fails at start.
        redis::Client::open(address).map_err(|e| {
            Error::bad_request(
                "micro.redis",
                format!(
                    "redis address {:?} is not a Redis URL: {e}",
                    crate::net::redact(address)
                ),
            )
        })?;
        Ok(Lazy {
            address: address.to_owned(),
            timeout,
            conn: std::sync::Arc::default(),
        })
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// The connection; `engine` (`redis store`, `redis cache` ...) names it in errors.
    pub(crate) async fn get(&self, engine: &str) -> Result<ConnectionManager> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.address.as_str())
                    .map_err(|e| unavailable(engine, &self.address, e))?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(client, config)
                    .await
                    .map_err(|e| unavailable(engine, &self.address, format!("cannot connect: {e}")))
            })
            .await?;
        Ok(conn.clone())
    }

    pub(crate) fn error(&self, engine: &str, e: redis::RedisError) -> Error {
        unavailable(engine, &self.address, e)
    }

    /// A connection of its own for blocking reads (`XREADGROUP ... BLOCK`): it reconnects
    /// after failures, and waits up to `block` longer than other requests for an answer.
    pub(crate) async fn blocking(
        &self,
        engine: &str,
        block: Duration,
    ) -> Result<ConnectionManager> {
        let client = redis::Client::open(self.address.as_str())
            .map_err(|e| unavailable(engine, &self.address, e))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout + block))
            .set_number_of_retries(1);
        ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| unavailable(engine, &self.address, format!("cannot connect: {e}")))
    }
}

/// `engine at address: what`, the password left out.
pub(crate) fn unavailable(engine: &str, address: &str, what: impl std::fmt::Display) -> Error {
    Error::unavailable(
        "micro.redis",
        format!("{engine} at {}: {what}", crate::net::redact(address)),
    )
}
